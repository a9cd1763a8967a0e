"""The report model: a report is a title, some metadata and a list of sections of blocks.

The model knows nothing about HTML: :mod:`survchurn.reporting.html` turns it into a page and
:mod:`survchurn.reporting.pdf` prints that page. Every string in the model is plain text and is
escaped when rendered, so column names, segment names and customer ids are safe to put in.

Figures are rendered to SVG (or PNG) bytes when the :class:`Figure` block is created, so the
caller may close the matplotlib figure right away and the output does not depend on rcParams
changed later.

Examples
--------
>>> import pandas as pd
>>> rep = Report(
...     "Churn report Q3 2026", lang="en", meta={"period": "2026 Q3", "as_of": "2026-09-30"},
...     sections=[Section("summary", blocks=[KeyFigures({"Customers": 23570})])],
... )
"""

from __future__ import annotations

import base64
import io
import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

import numpy as np
import pandas as pd

from survchurn.exceptions import ConfigError, ReportError
from survchurn.reporting.i18n import check_lang

__all__ = [
    "Block",
    "BulletList",
    "Figure",
    "Heading",
    "KeyFigures",
    "Note",
    "Paragraph",
    "Report",
    "SECTION_ORDER",
    "Section",
    "Table",
    "format_value",
]

#: Known section keys in the order the report shows them; other keys follow in the given order.
SECTION_ORDER: tuple[str, ...] = (
    "summary", "retention", "lifecycle", "drivers", "warning_score", "qoq", "campaign",
)

# SVGs larger than this are replaced by a PNG (huge scatter plots make slow, heavy pages).
_MAX_SVG_BYTES = 2_000_000

Formatter = str | Callable[[Any], str]


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NaT:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def format_value(value: Any, fmt: Formatter | None = None, missing: str = "–") -> str:
    """Format one value for display.

    Parameters
    ----------
    value : object
        The value. ``None``/NaN/NaT print as ``missing``.
    fmt : str or callable, optional
        A :meth:`str.format` spec, with or without braces (``",.1%"`` or ``"{:,.1%}"``), or a
        function returning the text. Default: integers with thousands separators, floats with
        two decimals and thousands separators, dates as ``YYYY-MM-DD``, anything else ``str``.
    missing : str
        Text for missing values.

    Raises
    ------
    ConfigError
        If ``fmt`` does not apply to the value.
    """
    if _is_missing(value):
        return missing
    if callable(fmt):
        return str(fmt(value))
    if fmt is not None:
        spec = fmt if "{" in fmt else "{:" + fmt + "}"
        try:
            return spec.format(value)
        except (ValueError, TypeError) as exc:
            raise ConfigError(
                f"number format {fmt!r} cannot format the value {value!r} "
                f"({type(value).__name__}): {exc}; use a format spec such as ',.0f' or '.1%'"
            ) from None
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, numbers.Integral):
        return f"{int(value):,}"
    if isinstance(value, numbers.Real):
        v = float(value)
        if math.isinf(v):
            return "∞" if v > 0 else "−∞"
        return f"{v:,.2f}"
    if isinstance(value, pd.Timestamp | datetime):
        if value.hour == value.minute == value.second == 0:
            return value.strftime("%Y-%m-%d")
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


@dataclass(frozen=True)
class Paragraph:
    """Plain text; blank lines separate paragraphs. No markup is interpreted."""

    text: str


@dataclass(frozen=True)
class Heading:
    """A sub-heading inside a section."""

    text: str


@dataclass(frozen=True)
class BulletList:
    """A list of short plain-text points (e.g. the headline findings)."""

    items: Sequence[str]


@dataclass(frozen=True)
class Note:
    """A highlighted remark: ``kind="info"`` (default) or ``"warning"`` (e.g. data quality)."""

    text: str
    kind: Literal["info", "warning"] = "info"

    def __post_init__(self) -> None:
        if self.kind not in ("info", "warning"):
            raise ConfigError(f"Note kind {self.kind!r} is not known; use 'info' or 'warning'")


@dataclass(frozen=True)
class KeyFigures:
    """Headline numbers shown as cards.

    Parameters
    ----------
    items : mapping
        ``{label: value}``; a value may be a ``(value, note)`` pair, where ``note`` is a short
        line under the number (e.g. ``"+0.8 pp vs Q2"``). Numbers are formatted with
        :func:`format_value`; pass strings to control the format (e.g. ``"12.4%"``).
    caption : str, optional
        A line above the cards.
    """

    items: Mapping[str, Any]
    caption: str | None = None


@dataclass(frozen=True)
class Table:
    """A table from a DataFrame.

    Parameters
    ----------
    frame : pandas.DataFrame
        The data; column names and cells are shown as text (escaped).
    caption : str, optional
        Shown above the table, numbered ("Table 3: ...").
    formats : mapping, optional
        ``{column: format}`` with a :meth:`str.format` spec (``",.0f"``, ``".1%"``) or a
        function; other columns use :func:`format_value`'s defaults.
    index : bool
        Show the index as the first column.
    max_rows : int, optional
        Show at most this many rows and say how many there are.
    footnote : str, optional
        Small text under the table.
    """

    frame: pd.DataFrame
    caption: str | None = None
    formats: Mapping[str, Formatter] = field(default_factory=dict)
    index: bool = False
    max_rows: int | None = None
    footnote: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.frame, pd.DataFrame):
            raise ReportError(
                f"Table needs a pandas DataFrame, got {type(self.frame).__name__}; "
                "convert it with pd.DataFrame(...) or Series.to_frame()"
            )
        cols = {str(c) for c in self.frame.columns}
        unknown = [c for c in self.formats if str(c) not in cols]
        if unknown:
            raise ConfigError(
                f"Table formats name columns that are not in the table: {unknown}; "
                f"columns are {sorted(cols)}"
            )
        if self.max_rows is not None and self.max_rows < 1:
            raise ConfigError(f"Table max_rows must be at least 1, got {self.max_rows}")


def _render_figure(fig: Any, fmt: str, dpi: int) -> tuple[str, bytes]:
    """(mime type, bytes) of a matplotlib figure, with no date or random ids in it."""
    import matplotlib as mpl

    buf = io.BytesIO()
    with mpl.rc_context({"svg.hashsalt": "survchurn", "svg.fonttype": "path"}):
        if fmt == "svg":
            fig.savefig(buf, format="svg", metadata={"Date": None}, bbox_inches="tight")
            data = buf.getvalue()
            if len(data) <= _MAX_SVG_BYTES:
                return "image/svg+xml", data
            buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None}, bbox_inches="tight")
    return "image/png", buf.getvalue()


class Figure:
    """A matplotlib figure, rendered immediately to SVG (or PNG) bytes.

    Parameters
    ----------
    figure : matplotlib.figure.Figure or matplotlib.axes.Axes
        The figure (an Axes is replaced by its figure). It may be closed after this call.
    caption : str, optional
        Shown under the figure, numbered ("Figure 2: ...").
    fmt : {"svg", "png"}
        ``"svg"`` (default, sharp at any zoom) falls back to PNG when the SVG would exceed
        2 MB; ``"png"`` always rasterises.
    dpi : int
        Resolution of a PNG.
    footnote : str, optional
        Small text under the caption.
    alt : str, optional
        Text alternative for screen readers (default: the caption).
    """

    def __init__(
        self,
        figure: Any,
        caption: str | None = None,
        fmt: Literal["svg", "png"] = "svg",
        dpi: int = 150,
        footnote: str | None = None,
        alt: str | None = None,
    ) -> None:
        fig = getattr(figure, "figure", None) if not hasattr(figure, "savefig") else figure
        if fig is None or not hasattr(fig, "savefig"):
            raise ReportError(
                f"Figure needs a matplotlib Figure or Axes, got {type(figure).__name__}"
            )
        if fmt not in ("svg", "png"):
            raise ConfigError(f"Figure fmt {fmt!r} is not known; use 'svg' or 'png'")
        self.caption = caption
        self.footnote = footnote
        self.alt = alt if alt is not None else (caption or "")
        self.mime, self.data = _render_figure(fig, fmt, dpi)

    @property
    def data_uri(self) -> str:
        """The image as a ``data:`` URI."""
        return f"data:{self.mime};base64,{base64.b64encode(self.data).decode('ascii')}"

    def __repr__(self) -> str:
        return f"Figure(caption={self.caption!r}, {self.mime}, {len(self.data):,} bytes)"


Block = Paragraph | Heading | BulletList | Note | KeyFigures | Table | Figure
_BLOCK_TYPES = (Paragraph, Heading, BulletList, Note, KeyFigures, Table, Figure)


@dataclass
class Section:
    """A titled part of the report.

    Parameters
    ----------
    key : str
        Identifier, e.g. ``"retention"``. Known keys (:data:`SECTION_ORDER`, ``"appendix"``)
        are placed in the standard order and get a translated title when ``title`` is None.
    title : str, optional
        Heading; defaults to the translated title of a known key.
    blocks : list of blocks
        Paragraph, Heading, BulletList, Note, KeyFigures, Table or Figure.
    """

    key: str
    title: str | None = None
    blocks: list[Block] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not isinstance(self.key, str) or not self.key:
            raise ConfigError(f"Section key must be a non-empty string, got {self.key!r}")
        bad = [
            (i, type(b).__name__) for i, b in enumerate(self.blocks)
            if not isinstance(b, _BLOCK_TYPES)
        ]
        if bad:
            raise ReportError(
                f"section {self.key!r}: blocks {bad} are not report blocks; use Paragraph, "
                "Heading, BulletList, Note, KeyFigures, Table or Figure"
            )


@dataclass
class Report:
    """A management report.

    Parameters
    ----------
    title : str
        Report title (cover, browser tab, PDF running header and metadata).
    lang : {"en", "zh"}
        Language of every fixed label.
    meta : mapping
        Report details: ``period``, ``as_of`` (both on the cover and the running header),
        ``previous_period``, ``data_window``, ``churn_definition``, ``organisation``,
        ``prepared_by``, ``config_hash``, ``data_fingerprint``, or any other ``{label: value}``.
        All are listed in the appendix.
    sections : list of Section
        Only the sections given appear; the appendix is always built.
    manifest : mapping, optional
        Extra ``{item: value}`` rows for the appendix manifest (package versions are added).
    subtitle : str, optional
        A line under the title on the cover.
    """

    title: str
    lang: str = "en"
    meta: Mapping[str, Any] = field(default_factory=dict)
    sections: list[Section] = field(default_factory=list)
    manifest: Mapping[str, Any] = field(default_factory=dict)
    subtitle: str | None = None

    def __post_init__(self) -> None:
        check_lang(self.lang)
        if not isinstance(self.title, str) or not self.title.strip():
            raise ConfigError("Report title must be a non-empty string")
        bad = [type(s).__name__ for s in self.sections if not isinstance(s, Section)]
        if bad:
            raise ReportError(f"Report sections must be Section objects, got {bad}")
        keys = [s.key for s in self.sections]
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        if dupes:
            raise ConfigError(
                f"Report has more than one section with key {dupes}; merge their blocks "
                "into one Section"
            )

    def ordered_sections(self) -> list[Section]:
        """Sections in display order: known keys first in :data:`SECTION_ORDER`, then the
        others as given, the appendix (if given) last."""
        rank = {k: i for i, k in enumerate(SECTION_ORDER)}
        body = [s for s in self.sections if s.key != "appendix"]
        body.sort(key=lambda s: rank.get(s.key, len(rank)))  # stable: unknown keys keep order
        return body + [s for s in self.sections if s.key == "appendix"]
