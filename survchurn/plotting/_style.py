"""The report's matplotlib style, shared by every plot, and CJK fonts for Chinese figures.

:func:`use_report_style` is a context manager around :func:`matplotlib.rc_context`: it never
switches the backend and restores every setting on exit. For ``lang="zh"`` it registers the CJK
font *file* with ``matplotlib.font_manager.fontManager.addfont`` (the font cache is not relied
on: it may predate the font's installation) and puts its family first.

The font search lives in :mod:`survchurn._fonts` (shared with the reports) and is imported
lazily, only when a Chinese style is asked for.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import matplotlib as mpl
from matplotlib import font_manager

from survchurn.exceptions import ConfigError, DependencyError

__all__ = [
    "PALETTE",
    "TIER_COLORS",
    "register_font",
    "report_rc",
    "use_report_style",
]

#: Categorical colours (colour-blind safe, after Okabe & Ito 2008), in plotting order.
PALETTE: tuple[str, ...] = (
    "#1f4e79", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#7f7f7f", "#f0e442",
)

#: Colours of the warning tiers.
TIER_COLORS: dict[str, str] = {
    "green": "#2e8b57", "yellow": "#e6c229", "orange": "#e67e22", "red": "#c0392b",
}

_INK = "#1f2933"
_GRID = "#d9dee3"


def register_font(path: str | os.PathLike[str]) -> list[str]:
    """Register a font file with matplotlib and return the family names it provides.

    Every face of a collection (``.ttc``) is registered. Calling it again for the same file
    does not add duplicates.
    """
    fname = os.fsdecode(os.path.realpath(path))
    known = [e for e in font_manager.fontManager.ttflist if os.path.realpath(e.fname) == fname]
    if not known:
        font_manager.fontManager.addfont(fname)
        known = [e for e in font_manager.fontManager.ttflist if e.fname == fname]
    return sorted({e.name for e in known})


def report_rc(lang: str = "en", font_path: str | os.PathLike[str] | None = None) -> dict:
    """The rcParams of the report style (see :func:`use_report_style`)."""
    if lang not in ("en", "zh"):
        raise ConfigError(f"report language {lang!r} is not supported; use 'en' or 'zh'")
    sans = ["DejaVu Sans"]  # ships with matplotlib, so always found
    rc: dict = {}
    from survchurn._fonts import find_cjk_font

    if lang == "zh" or font_path is not None:
        font = find_cjk_font(font_path)
        names = register_font(font.path)
        family = font.family if font.family in names else names[0]
        sans = [family, *sans]
        rc["axes.unicode_minus"] = False  # CJK fonts often lack U+2212 MINUS SIGN
    else:
        # English figures may still show Chinese names from the data: add a CJK font as a
        # fallback after the Latin ones when the system has one.
        try:
            font = find_cjk_font()
        except DependencyError:
            font = None
        if font is not None:
            names = register_font(font.path)
            sans = [*sans, font.family if font.family in names else names[0]]
    rc.update({
        # An explicit list (not the generic "sans-serif") so that matplotlib falls back from
        # one font to the next glyph by glyph.
        "font.family": sans,
        "font.sans-serif": sans,
        "font.size": 9.0,
        "axes.titlesize": 10.5,
        "axes.titleweight": "bold",
        "axes.titlelocation": "left",
        "axes.labelsize": 9.0,
        "axes.labelcolor": _INK,
        "axes.edgecolor": "#9aa5b1",
        "axes.linewidth": 0.8,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "axes.grid.axis": "y",
        "grid.color": _GRID,
        "grid.linewidth": 0.6,
        "axes.prop_cycle": mpl.cycler(color=list(PALETTE)),
        "xtick.color": _INK,
        "ytick.color": _INK,
        "xtick.labelsize": 8.0,
        "ytick.labelsize": 8.0,
        "legend.fontsize": 8.0,
        "legend.frameon": False,
        "lines.linewidth": 1.6,
        "figure.figsize": (6.4, 3.6),
        "figure.dpi": 100,
        "figure.facecolor": "white",
        "savefig.facecolor": "white",
        "savefig.bbox": "tight",
        "svg.fonttype": "path",  # text as outlines: the SVG needs no font where it is opened
        "svg.hashsalt": "survchurn",  # stable ids: identical SVG bytes for identical figures
    })
    return rc


@contextlib.contextmanager
def use_report_style(
    lang: str = "en", font_path: str | os.PathLike[str] | None = None
) -> Iterator[None]:
    """Apply the report's plotting style inside a ``with`` block.

    Parameters
    ----------
    lang : {"en", "zh"}
        For ``"zh"`` a CJK font is found (or ``font_path`` used), registered and put first.
    font_path : path-like, optional
        A font file to use instead of searching the system.

    Raises
    ------
    ConfigError
        If ``lang`` is not supported or ``font_path`` does not exist.
    DependencyError
        If ``lang="zh"`` and no Chinese font is installed.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> with use_report_style("en"):
    ...     fig, ax = plt.subplots()
    """
    with mpl.rc_context(report_rc(lang, font_path)):
        yield
