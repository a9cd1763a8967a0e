"""Print the report's HTML to PDF with WeasyPrint, fetching nothing but ``data:`` URIs.

WeasyPrint needs the system's Pango; when it cannot be loaded, :func:`pdf_available` says so
and :func:`render_pdf` raises :class:`~survchurn.exceptions.DependencyError` with one line on
how to enable PDFs, so the pipeline can still write the HTML.

Safety: the URL fetcher given to WeasyPrint serves ``data:`` URIs itself and refuses every other
URL (``file:``, ``http(s):``, relative paths) without opening it; refusals are logged. Fonts are
named by family and resolved by fontconfig, which needs no fetching. A configured font file
that fontconfig does not know is added to WeasyPrint's in-memory fontconfig configuration by
path (a ``data:`` URI ``@font-face`` would work too, but parsing a 20 MB CJK font through CSS
takes about 15 s).

Determinism: WeasyPrint writes no creation or modification date unless the HTML asks for one
(the report's does not) and no file identifier unless asked, so the same HTML gives the same
PDF bytes with the same WeasyPrint, Pango and fonts. The ``Producer`` field names the WeasyPrint
version, so output differs between WeasyPrint versions.
"""

from __future__ import annotations

import base64
import functools
import logging
import os
import shutil
import subprocess
import urllib.parse
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from survchurn._fonts import FontInfo, find_cjk_font
from survchurn._io import atomic_write_bytes, atomic_write_text
from survchurn.exceptions import ConfigError, DependencyError, ReportError
from survchurn.reporting.document import Report
from survchurn.reporting.html import render_html

__all__ = ["ENABLE_PDF_HINT", "pdf_available", "render_pdf", "write_report"]

logger = logging.getLogger(__name__)

#: The one line shown when PDFs cannot be made.
ENABLE_PDF_HINT = (
    "PDF output needs WeasyPrint and the system's Pango: on Debian/Ubuntu run "
    "`apt-get install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0`, on macOS "
    "`brew install pango`, then `pip install weasyprint`; the HTML report needs none of this."
)

_FORMATS = ("html", "pdf")


@functools.lru_cache(maxsize=1)
def _load_weasyprint() -> tuple[Any, str]:
    """(weasyprint module, "") or (None, reason); cached, since a failed import is slow."""
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: Pango/HarfBuzz shared libraries missing
        return None, f"{type(exc).__name__}: {exc}"
    return weasyprint, ""


def pdf_available() -> tuple[bool, str]:
    """Whether PDFs can be written here.

    Returns
    -------
    (bool, str)
        ``(True, "WeasyPrint <version>")``, or ``(False, <one line on how to enable PDFs>)``.
    """
    module, reason = _load_weasyprint()
    if module is None:
        logger.debug("WeasyPrint cannot be loaded: %s", reason)
        return False, ENABLE_PDF_HINT
    return True, f"WeasyPrint {module.__version__}"


def decode_data_uri(url: str) -> tuple[str, bytes]:
    """(mime type, bytes) of a ``data:`` URI (RFC 2397)."""
    if not url.startswith("data:") or "," not in url:
        raise ReportError(f"not a data: URI: {url[:60]!r}")
    header, _, payload = url[5:].partition(",")
    params = header.split(";")
    mime = params[0] or "text/plain"
    if "base64" in params[1:]:
        return mime, base64.b64decode(payload)
    return mime, urllib.parse.unquote_to_bytes(payload)


def _make_fetcher(weasyprint: Any) -> Any:
    """A WeasyPrint URL fetcher that serves data: URIs and refuses everything else."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class DataURIOnlyFetcher(URLFetcher):
        """Serves ``data:`` URIs from memory; refuses every other URL without opening it."""

        def __init__(self) -> None:
            super().__init__(allowed_protocols=("data",), allow_redirects=False)
            self.refused: list[str] = []

        def fetch(self, url: str, headers: Any = None) -> Any:
            if not url.startswith("data:"):
                self.refused.append(url)
                logger.warning("PDF: refused to fetch %.80s (only data: URIs are allowed)", url)
                raise ValueError(f"survchurn fetches only data: URIs, refused {url[:80]!r}")
            mime, body = decode_data_uri(url)
            return URLFetcherResponse(url, body, {"Content-Type": mime})

    return DataURIOnlyFetcher()


def _fontconfig_knows(family: str) -> bool:
    """Whether fontconfig resolves ``family`` by name (False when fc-list is absent)."""
    exe = shutil.which("fc-list")
    if exe is None:
        return False
    out = subprocess.run([exe, family, "family"], capture_output=True, text=True, timeout=20,
                         check=False).stdout
    return any(family in line.split(",") for line in out.splitlines())


def _font_configuration(weasyprint: Any, font: FontInfo | None) -> Any:
    """WeasyPrint's font configuration, with ``font``'s file added when fontconfig lacks it.

    The file is added to WeasyPrint's own fontconfig configuration (in memory, by path): no
    copy, no URL. This uses WeasyPrint internals (``FontConfiguration._config``); if they
    change, a warning says to install the font instead.
    """
    from weasyprint.text.fonts import FontConfiguration

    config = FontConfiguration()
    if font is None or _fontconfig_knows(font.family):
        return config
    try:
        from weasyprint.text.ffi import ffi, fontconfig, pangoft2

        added = fontconfig.FcConfigAppFontAddFile(config._config, os.fsencode(font.path))
        if not added:
            raise OSError("fontconfig refused the file")
        pangoft2.pango_fc_font_map_config_changed(ffi.cast("PangoFcFontMap *", config.font_map))
        logger.info("PDF: using font file %s for family %r", font.path, font.family)
    except Exception as exc:  # private API or a bad font file: fall back, but say so
        logger.warning(
            "PDF: could not load the font file %s (%s); install it for fontconfig (copy it to "
            "~/.local/share/fonts and run fc-cache) or the PDF uses a fallback font",
            font.path, exc,
        )
    return config


def render_pdf(
    html: str, path: str | os.PathLike[str] | None = None, font: FontInfo | None = None
) -> bytes:
    """Print report HTML to PDF.

    Parameters
    ----------
    html : str
        A page from :func:`~survchurn.reporting.html.render_html`.
    path : path-like, optional
        Where to write the PDF (atomically); if None only the bytes are returned.
    font : FontInfo, optional
        The font the page names (``render_html(report, font=...)``). When fontconfig does not
        know its family (a font file configured by path, not installed), the file is embedded
        for WeasyPrint by path (no copy, no URL).

    Returns
    -------
    bytes
        The PDF.

    Raises
    ------
    DependencyError
        If WeasyPrint or Pango cannot be loaded (the message says how to enable PDFs).
    ReportError
        If WeasyPrint fails on the page.
    """
    weasyprint, _ = _load_weasyprint()
    if weasyprint is None:
        raise DependencyError(ENABLE_PDF_HINT)
    fetcher = _make_fetcher(weasyprint)
    try:
        font_config = _font_configuration(weasyprint, font)
        document = weasyprint.HTML(string=html, base_url=None, url_fetcher=fetcher)
        data = document.write_pdf(font_config=font_config)
    except Exception as exc:  # WeasyPrint raises many types; report them as one
        raise ReportError(f"WeasyPrint could not print the report: {type(exc).__name__}: {exc}")\
            from exc
    if fetcher.refused:
        logger.warning("PDF: %d external resource(s) refused", len(fetcher.refused))
    if path is not None:
        atomic_write_bytes(path, data)
    return data


def write_report(
    report: Report,
    out_dir: str | os.PathLike[str],
    formats: Iterable[str] = ("html", "pdf"),
    basename: str = "report",
    font: FontInfo | str | os.PathLike[str] | None = None,
) -> dict[str, Path]:
    """Render ``report`` and write it to ``out_dir`` as ``<basename>.html`` and/or ``.pdf``.

    The HTML is rendered once and also used for the PDF. Files are written atomically; the
    HTML is written before the PDF is attempted, so it exists even when PDFs are unavailable.

    Parameters
    ----------
    report : Report
        The report model.
    out_dir : path-like
        Output folder (created if needed).
    formats : iterable of {"html", "pdf"}
        What to write.
    basename : str
        File name without extension.
    font : FontInfo or path-like, optional
        Font to use, or the path of a font file (see
        :func:`~survchurn._fonts.find_cjk_font`); default: for ``lang="zh"`` the
        system's CJK font.

    Returns
    -------
    dict
        ``{"html": Path, "pdf": Path}`` for the formats written.

    Raises
    ------
    ConfigError
        If a format is unknown, ``basename`` is not a plain file name or a font file does
        not exist.
    DependencyError
        If a PDF is asked for and WeasyPrint/Pango cannot be loaded (after the HTML is written),
        or ``lang="zh"`` and no Chinese font is installed.
    """
    wanted = list(dict.fromkeys(formats))
    unknown = [f for f in wanted if f not in _FORMATS]
    if unknown or not wanted:
        raise ConfigError(f"report formats {unknown or wanted} not known; use a subset of {list(_FORMATS)}")
    if not basename or Path(basename).name != basename or basename in (".", ".."):
        raise ConfigError(f"report basename {basename!r} must be a plain file name, without folders")
    out = Path(out_dir)
    if font is not None and not isinstance(font, FontInfo):
        font = find_cjk_font(font)
    elif font is None and report.lang == "zh":
        font = find_cjk_font()
    html = render_html(report, font=font)
    paths: dict[str, Path] = {}
    if "html" in wanted:
        paths["html"] = atomic_write_text(out / f"{basename}.html", html)
    if "pdf" in wanted:
        target = out / f"{basename}.pdf"
        render_pdf(html, target, font=font)
        paths["pdf"] = target
    return paths
