"""Shared report fixtures: a small two-section report in each language, rendered once."""

from __future__ import annotations

import shutil
import subprocess

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from survchurn.plotting._style import use_report_style
from survchurn.reporting.document import (
    BulletList,
    Figure,
    KeyFigures,
    Note,
    Paragraph,
    Report,
    Section,
    Table,
)
from survchurn.reporting.html import render_html
from survchurn.reporting.pdf import pdf_available, render_pdf

EVIL = "<script>alert(1)</script>"
EVIL_URL = "http://127.0.0.1:9/evil.png"
TITLES = {"en": "Churn early warning 2026 Q3", "zh": "客户流失预警报告 2026 年第三季度"}


def make_report(lang: str = "en", seed: int = 0) -> Report:
    """A report with a key-figure section and a retention section with a figure and tables."""
    rng = np.random.default_rng(seed)
    with use_report_style(lang):
        fig, ax = plt.subplots()
        days = np.arange(0, 400, 10)
        for i, stage in enumerate(["new", "growth", "mature"]):
            ax.step(days, np.exp(-days / (150 + 100 * i)), where="post", label=stage)
        ax.set_title("留存曲线" if lang == "zh" else "Retention")
        ax.legend()
        figure = Figure(fig, caption=f"Retention by stage {EVIL}")
        plt.close(fig)
    score = pd.DataFrame({
        "Score": [0, 1, 2, 3, 4, 5],
        "Customers": [20_000, 12_000, 5_400, 3_300, 1_540, 410],
        "Churn rate": [0.05, 0.10, 0.22, 0.35, 0.50, 0.7216],
        EVIL: ["a", "b", "c", "d", "e", "f"],
    })
    noise = pd.DataFrame(rng.integers(0, 1_000_000, size=(8, 4)), columns=list("ABCD"))
    return Report(
        TITLES[lang],
        lang=lang,
        meta={"period": "2026 Q3", "as_of": pd.Timestamp("2026-09-30"),
              "churn_definition": "180 days without a purchase", "segment": EVIL},
        sections=[
            Section("retention", blocks=[figure, Table(noise, caption="Random counts")]),
            Section("summary", title=f"Summary {EVIL}", blocks=[
                KeyFigures({"Customers": 42_650, "Churn rate": ("12.4%", "+0.8 pp")}),
                BulletList([f"Finding {EVIL}", f"See {EVIL_URL}"]),
                Paragraph(f"Paragraph with {EVIL}.\n\nSecond paragraph."),
                Table(score, caption="Score table", formats={"Churn rate": ".1%"}),
                Note("12 rows rejected", kind="warning"),
            ]),
        ],
    )


@pytest.fixture(scope="session")
def report_en() -> Report:
    return make_report("en")


@pytest.fixture(scope="session")
def html_en(report_en: Report) -> str:
    return render_html(report_en)


@pytest.fixture(scope="session")
def html_zh() -> str:
    return render_html(make_report("zh"))


def _need_pdf() -> None:
    ok, why = pdf_available()
    if not ok:
        pytest.skip(why)


@pytest.fixture(scope="session")
def pdf_en(html_en: str, tmp_path_factory: pytest.TempPathFactory):
    _need_pdf()
    path = tmp_path_factory.mktemp("pdf_en") / "report.pdf"
    render_pdf(html_en, path)
    return path


@pytest.fixture(scope="session")
def pdf_zh(html_zh: str, tmp_path_factory: pytest.TempPathFactory):
    _need_pdf()
    path = tmp_path_factory.mktemp("pdf_zh") / "report.pdf"
    render_pdf(html_zh, path)
    return path


def _poppler(tool: str, *args: str) -> str:
    exe = shutil.which(tool)
    if exe is None:
        pytest.skip(f"{tool} (poppler-utils) is not installed: apt-get install poppler-utils")
    return subprocess.run([exe, *args], capture_output=True, text=True, check=True,
                          timeout=60).stdout


@pytest.fixture(scope="session")
def poppler():
    """``poppler(tool, *args)``: output of a poppler-utils tool (skips when not installed)."""
    return _poppler


@pytest.fixture(scope="session")
def report_factory():
    """``report_factory(lang)``: a fresh two-section report (see :func:`make_report`)."""
    return make_report


@pytest.fixture(scope="session")
def html_demo(tmp_path_factory) -> str:
    """The HTML of `survchurn demo` (CDNOW, the main job)."""
    from survchurn.pipeline import run_demo

    out = tmp_path_factory.mktemp("demo_html")
    result = run_demo(out_dir=out, pdf=False)
    return result.outputs["html"].read_text(encoding="utf-8")
