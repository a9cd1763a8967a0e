"""Time building the management report: ~6 figures and ~8 tables, HTML and PDF.

Usage::

    python benchmarks/bench_report.py            # both languages, the issue's target: < 15 s
    python benchmarks/bench_report.py --quick    # English only, fewer rows

The figures imitate the report's real ones (Kaplan-Meier steps with confidence bands, a
hazard-ratio forest plot, a score bar chart, a stage-mix bar, a cohort heatmap, a PSI chart);
numbers are random (seeded). Prints the time of each stage; nothing is asserted.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

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


def _figures(rng: np.random.Generator, lang: str, n_steps: int) -> list[Figure]:
    out = []
    with use_report_style(lang):
        for title in ("overall", "by stage"):  # KM curves with bands
            fig, ax = plt.subplots()
            for k in range(1 if title == "overall" else 4):
                t = np.sort(rng.uniform(0, 720, n_steps))
                s = np.cumprod(1 - rng.uniform(0, 2.0 / n_steps, n_steps))
                ax.step(t, s, where="post", label=f"stage {k}")
                ax.fill_between(t, s * 0.97, np.minimum(s * 1.03, 1), step="post", alpha=0.2)
            ax.set_title(f"Kaplan-Meier {title}")
            ax.legend()
            out.append(Figure(fig, caption=f"Retention {title}"))
            plt.close(fig)
        fig, ax = plt.subplots(figsize=(6.4, 4))  # forest plot
        hr = np.exp(rng.normal(0, 0.4, 12))
        ax.errorbar(hr, np.arange(12), xerr=[hr * 0.2, hr * 0.25], fmt="o")
        ax.axvline(1, color="grey")
        ax.set_xscale("log")
        out.append(Figure(fig, caption="Hazard ratios"))
        plt.close(fig)
        fig, ax = plt.subplots()  # score bars
        ax.bar(range(6), rng.uniform(0.02, 0.7, 6))
        out.append(Figure(fig, caption="Churn rate by score"))
        plt.close(fig)
        fig, ax = plt.subplots()  # cohort heatmap
        im = ax.imshow(rng.uniform(0, 1, (24, 24)), cmap="Blues")
        fig.colorbar(im)
        out.append(Figure(fig, caption="Cohort retention"))
        plt.close(fig)
        fig, ax = plt.subplots()  # PSI by variable
        ax.barh(range(10), rng.uniform(0, 0.3, 10))
        out.append(Figure(fig, caption="Stability (PSI)"))
        plt.close(fig)
    return out


def _tables(rng: np.random.Generator, n_rows: int) -> list[Table]:
    tables = []
    for i in range(8):
        frame = pd.DataFrame({
            "Segment": [f"segment {j}" for j in range(n_rows)],
            "Customers": rng.integers(100, 50_000, n_rows),
            "Churned": rng.integers(0, 5_000, n_rows),
            "Churn rate": rng.uniform(0, 0.8, n_rows),
            "Lift": rng.uniform(0.2, 4, n_rows),
            "Capture": np.sort(rng.uniform(0, 1, n_rows)),
        })
        tables.append(Table(frame, caption=f"Table {i}", formats={"Churn rate": ".1%",
                                                                   "Capture": ".1%"}))
    return tables


def build(lang: str, n_rows: int, n_steps: int, out: Path) -> dict[str, float]:
    rng = np.random.default_rng(20261123)
    times = {}
    t0 = time.perf_counter()
    figs = _figures(rng, lang, n_steps)
    tables = _tables(rng, n_rows)
    times["figures+tables"] = time.perf_counter() - t0
    report = Report(
        "Churn early warning 2026 Q3", lang=lang,
        meta={"period": "2026 Q3", "as_of": "2026-09-30", "churn_definition": "180 days"},
        sections=[
            Section("summary", blocks=[KeyFigures({"Customers": 42_650, "Churn rate": "12.4%",
                                                   "Expected churners": 1_830}),
                                       BulletList(["one", "two", "three"])]),
            Section("retention", blocks=[figs[0], figs[1], tables[0], tables[1]]),
            Section("lifecycle", blocks=[figs[4], tables[2]]),
            Section("drivers", blocks=[figs[2], tables[3]]),
            Section("warning_score", blocks=[figs[3], tables[4], tables[5]]),
            Section("qoq", blocks=[figs[5], tables[6], tables[7], Note("PSI stable")]),
            Section("appendix", blocks=[Paragraph("Definitions.")]),
        ],
    )
    t0 = time.perf_counter()
    html = render_html(report)
    times["html"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    pdf = render_pdf(html, out / f"report_{lang}.pdf")
    times["pdf"] = time.perf_counter() - t0
    times["html_mb"] = len(html.encode()) / 1e6
    times["pdf_mb"] = len(pdf) / 1e6
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="English only, small tables")
    args = parser.parse_args()
    ok, why = pdf_available()
    if not ok:
        print(f"skipped: {why}")
        return
    langs = ("en",) if args.quick else ("en", "zh")
    n_rows, n_steps = (6, 200) if args.quick else (20, 2_000)
    with tempfile.TemporaryDirectory() as tmp:
        for lang in langs:
            t = build(lang, n_rows, n_steps, Path(tmp))
            total = t["figures+tables"] + t["html"] + t["pdf"]
            print(f"report lang={lang}: 6 figures, 8 tables x {n_rows} rows, KM {n_steps} steps: "
                  f"figures {t['figures+tables']:.2f} s, HTML {t['html']:.2f} s, "
                  f"PDF {t['pdf']:.2f} s, total {total:.2f} s (target < 15 s); "
                  f"HTML {t['html_mb']:.2f} MB, PDF {t['pdf_mb']:.2f} MB")


if __name__ == "__main__":
    main()
