"""Shared display for result objects: a DataFrame, a text view and an escaped HTML view.

Every result object in survchurn derives from :class:`Result`. A subclass implements
:meth:`Result.to_frame` (its main table) and :meth:`Result._header` (where the numbers came
from: n, events, as-of date, churn definition, settings); ``__repr__`` and ``_repr_html_`` follow.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

import pandas as pd

__all__ = ["Result", "format_header_text", "frame_to_html"]


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    return str(value)


def format_header_text(title: str, header: Mapping[str, Any]) -> str:
    """Render a title and ``key: value`` lines as aligned plain text."""
    lines = [f"<{title}>"]
    if header:
        width = max(len(k) for k in header)
        lines += [f"  {k:>{width}}: {_fmt(v)}" for k, v in header.items()]
    return "\n".join(lines)


def frame_to_html(frame: pd.DataFrame, max_rows: int = 60) -> str:
    """An escaped HTML table of ``frame`` (cell text and labels are escaped)."""
    return frame.to_html(escape=True, max_rows=max_rows, float_format=lambda x: f"{x:.4g}", border=0)


class Result:
    """Base class of survchurn's result objects (DataFrame, text and HTML views)."""

    _title = "Result"

    def to_frame(self) -> pd.DataFrame:  # pragma: no cover - abstract
        """The result's main table as a new DataFrame."""
        raise NotImplementedError

    def _header(self) -> dict[str, Any]:
        return {}

    @property
    def summary(self) -> pd.DataFrame:
        """Alias of :meth:`to_frame`, as in lifelines and statsmodels."""
        return self.to_frame()

    def __repr__(self) -> str:
        frame = self.to_frame()
        with pd.option_context("display.max_rows", 30, "display.width", 120):
            body = frame.to_string(max_rows=30, float_format=lambda x: f"{x:.6g}")
        return format_header_text(self._title, self._header()) + "\n\n" + body

    def _repr_html_(self) -> str:
        head = "".join(
            f"<tr><th style='text-align:right'>{html.escape(str(k))}</th>"
            f"<td style='text-align:left'>{html.escape(_fmt(v))}</td></tr>"
            for k, v in self._header().items()
        )
        return (
            f"<div class='survchurn-result'><strong>{html.escape(self._title)}</strong>"
            f"<table>{head}</table>{frame_to_html(self.to_frame())}</div>"
        )
