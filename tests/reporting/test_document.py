"""The report model: value formatting, validation errors, section order, figures."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from survchurn.exceptions import ConfigError, ReportError
from survchurn.reporting.document import (
    Figure,
    Note,
    Paragraph,
    Report,
    Section,
    Table,
    format_value,
)


@pytest.mark.parametrize(
    ("value", "fmt", "expected"),
    [
        (1234567, None, "1,234,567"),
        (np.int64(42650), None, "42,650"),
        (1234.5678, None, "1,234.57"),
        (0.7216, ".1%", "72.2%"),
        (0.7216, "{:.2%}", "72.16%"),
        (float("nan"), ".1%", "–"),
        (None, None, "–"),
        (pd.NaT, None, "–"),
        (pd.Timestamp("2026-09-30"), None, "2026-09-30"),
        (float("inf"), None, "∞"),
        ("text", None, "text"),
        (3, lambda v: f"<{v}>", "<3>"),
    ],
)
def test_format_value(value, fmt, expected):
    assert format_value(value, fmt) == expected


def test_bad_format_spec_is_explained():
    with pytest.raises(ConfigError, match=r"number format '.1%' cannot format the value 'abc'"):
        format_value("abc", ".1%")


def test_table_validation():
    frame = pd.DataFrame({"a": [1], "b": [2.0]})
    with pytest.raises(ConfigError, match=r"formats name columns that are not in the table: \['c'\]"):
        Table(frame, formats={"c": ".1f"})
    with pytest.raises(ReportError, match=r"Table needs a pandas DataFrame, got list"):
        Table([1, 2])  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"max_rows must be at least 1"):
        Table(frame, max_rows=0)


def test_section_and_report_validation():
    with pytest.raises(ReportError, match=r"section 'x': blocks \[\(1, 'str'\)\] are not report blocks"):
        Section("x", blocks=[Paragraph("ok"), "not a block"])  # type: ignore[list-item]
    with pytest.raises(ConfigError, match=r"Section key must be a non-empty string"):
        Section("")
    with pytest.raises(ConfigError, match=r"more than one section with key \['drivers'\]"):
        Report("T", sections=[Section("drivers"), Section("drivers")])
    with pytest.raises(ConfigError, match=r"report language 'de' is not supported"):
        Report("T", lang="de")
    with pytest.raises(ConfigError, match=r"title must be a non-empty string"):
        Report("  ")
    with pytest.raises(ReportError, match=r"sections must be Section objects, got \['dict'\]"):
        Report("T", sections=[{"key": "x"}])  # type: ignore[list-item]
    with pytest.raises(ConfigError, match=r"Note kind 'danger' is not known"):
        Note("x", kind="danger")  # type: ignore[arg-type]


def test_sections_follow_the_standard_order():
    rep = Report("T", sections=[Section("appendix"), Section("custom"), Section("drivers"),
                                Section("summary")])
    assert [s.key for s in rep.ordered_sections()] == ["summary", "drivers", "custom", "appendix"]


def test_figure_from_axes_svg_and_png():
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    svg = Figure(ax, caption="c")
    png = Figure(fig, fmt="png", dpi=50)
    plt.close(fig)
    assert svg.mime == "image/svg+xml" and svg.data.lstrip().startswith(b"<?xml")
    assert png.mime == "image/png" and png.data[:4] == b"\x89PNG"
    assert svg.data_uri.startswith("data:image/svg+xml;base64,")
    assert b"<dc:date>" not in svg.data  # no timestamp: same figure, same bytes
    with pytest.raises(ReportError, match=r"needs a matplotlib Figure or Axes, got str"):
        Figure("not a figure")
    with pytest.raises(ConfigError, match=r"Figure fmt 'jpg' is not known"):
        Figure(svg_fig := plt.figure(), fmt="jpg")  # type: ignore[arg-type]
    plt.close(svg_fig)


def test_identical_figures_give_identical_svg():
    def build() -> bytes:
        fig, ax = plt.subplots()
        ax.plot(np.arange(5), np.arange(5) ** 2)
        ax.fill_between(np.arange(5), 0, np.arange(5))
        data = Figure(fig).data
        plt.close(fig)
        return data

    assert build() == build()


def test_huge_svg_falls_back_to_png(monkeypatch):
    import survchurn.reporting.document as document

    monkeypatch.setattr(document, "_MAX_SVG_BYTES", 1_000)
    fig, ax = plt.subplots()
    ax.scatter(np.arange(50), np.arange(50))
    figure = Figure(fig, dpi=30)
    plt.close(fig)
    assert figure.mime == "image/png" and figure.data_uri.startswith("data:image/png;base64,")
