"""Render a :class:`~survchurn.reporting.document.Report` to one self-contained HTML page.

Jinja2 renders ``templates/report.html.j2`` with autoescaping on, so every string that comes
from the data is escaped. The stylesheet is inlined, figures are ``data:`` URIs, and a
Content-Security-Policy forbids the page to load anything else, so the file opens offline and
cannot call out even if someone edits it. The same page is printed to PDF by
:mod:`survchurn.reporting.pdf` (its ``@page`` rules only apply in print).

The output is deterministic: the same report gives the same bytes (no dates, no random ids;
figures are rendered with a fixed SVG hash salt).
"""

from __future__ import annotations

import functools
import importlib.metadata
import platform
import re
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from survchurn._fonts import FontInfo, css_font_stack
from survchurn.exceptions import ReportError
from survchurn.reporting.document import (
    BulletList,
    Figure,
    Heading,
    KeyFigures,
    Note,
    Paragraph,
    Report,
    Section,
    Table,
    format_value,
)
from survchurn.reporting.i18n import LABELS, html_lang, t

__all__ = ["CSP", "render_html", "template_environment"]

#: Content-Security-Policy of the page: nothing but inline styles and data: images.
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:"

_PACKAGES = ("survchurn", "numpy", "pandas", "scipy", "lifelines", "statsmodels",
             "scikit-learn", "matplotlib", "jinja2", "weasyprint")

# Table width classes, in characters of min-content width (numbers do not wrap, text wraps at
# spaces): an A4 page holds about 100 characters at the normal table font, 120 at the smaller
# "wide" font; beyond that the "xwide" class uses a fixed layout that always fits the page.
_WIDE_CHARS = 100
_XWIDE_CHARS = 120
# Tables with more rows than this may break across pages (the header row is repeated).
_LONG_ROWS = 25


def _min_chars(header: str, cells: list[str], numeric: bool) -> int:
    """Rough min-content width of a column in characters."""
    words = [len(w) for w in header.split()] or [0]
    if numeric:
        widths = [len(c) for c in cells]
    else:
        widths = [max((len(w) for w in c.split()), default=0) for c in cells]
    return max([*words, *widths, 1]) + 2  # + cell padding


def _width_class(columns: list[dict[str, Any]], rows: list[list[dict[str, Any]]]) -> str:
    chars = sum(
        _min_chars(col["name"], [r[i]["text"] for r in rows], col["numeric"])
        for i, col in enumerate(columns)
    )
    if chars > _XWIDE_CHARS:
        return "xwide"
    if chars > _WIDE_CHARS:
        return "wide"
    return ""


@functools.lru_cache(maxsize=1)
def template_environment() -> Environment:
    """The Jinja2 environment of the report templates (autoescape on for every template)."""
    env = Environment(
        loader=PackageLoader("survchurn.reporting", "templates"),
        autoescape=select_autoescape(
            enabled_extensions=("html", "j2", "html.j2"), default_for_string=True, default=True
        ),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return env


@functools.lru_cache(maxsize=1)
def _base_css() -> str:
    return resources.files("survchurn.reporting").joinpath("templates/report.css").read_text(
        encoding="utf-8"
    )


def _css_string(text: str) -> str:
    """A CSS string literal (quotes, backslashes and line breaks escaped)."""
    out = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\a ")
    return f'"{out}"'


def _page_footer_css(lang: str) -> str:
    """``content:`` value for "Page X of Y" in ``lang``, built from the i18n label."""
    parts = re.split(r"(\{page\}|\{pages\})", t("page.footer", lang))
    tokens = []
    for part in parts:
        if part == "{page}":
            tokens.append("counter(page)")
        elif part == "{pages}":
            tokens.append("counter(pages)")
        elif part:
            tokens.append(_css_string(part))
    return " ".join(tokens)


def _generated_css(lang: str, font: FontInfo | None) -> str:
    css = (
        f"html {{ font-family: {css_font_stack(lang, font)}; }}\n"
        f"@page {{ @bottom-right {{ content: {_page_footer_css(lang)}; }} }}\n"
    )
    return css


def _stylesheet(lang: str, font: FontInfo | None) -> Markup:
    css = _base_css() + "\n" + _generated_css(lang, font)
    if "</" in css:  # would end the <style> element early
        raise ReportError("report stylesheet must not contain '</'")
    return Markup(css)  # trusted: package file + escaped strings and checked font names


def _cell(value: Any, fmt: Any, lang: str) -> str:
    if isinstance(value, bool | np.bool_):
        return t("value.yes" if value else "value.no", lang)
    return format_value(value, fmt, missing=t("value.missing", lang))


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def _table_view(block: Table, lang: str, number: int) -> dict[str, Any]:
    frame = block.frame
    total = len(frame)
    if block.max_rows is not None and total > block.max_rows:
        frame = frame.iloc[: block.max_rows]
    if block.index:
        frame = frame.reset_index()
    formats = {str(k): v for k, v in block.formats.items()}
    columns = []
    for pos, col in enumerate(frame.columns):
        name = " / ".join(map(str, col)) if isinstance(col, tuple) else str(col)
        numeric = _is_numeric(frame.iloc[:, pos]) or name in formats
        columns.append({"name": name, "numeric": numeric, "fmt": formats.get(name)})
    rows = [
        [
            {"text": _cell(v, c["fmt"], lang), "numeric": c["numeric"]}
            for v, c in zip(row, columns, strict=True)
        ]
        for row in frame.itertuples(index=False, name=None)
    ]
    truncated = None
    if len(frame) < total:
        truncated = t("table.truncated", lang, shown=len(frame), total=total)
    return {
        "kind": "table", "label": t("table.n", lang, n=number), "caption": block.caption,
        "columns": columns,
        "rows": rows, "width_class": _width_class(columns, rows), "long": len(rows) > _LONG_ROWS,
        "footnote": block.footnote,
        "truncated": truncated,
    }


def _cards_view(block: KeyFigures, lang: str) -> dict[str, Any]:
    cards = []
    for label, value in block.items.items():
        note = None
        if isinstance(value, tuple):
            if len(value) != 2:
                raise ReportError(
                    f"key figure {label!r}: give a value or a (value, note) pair, got "
                    f"{len(value)} items"
                )
            value, note = value
        cards.append({"label": str(label), "value": _cell(value, None, lang),
                      "note": None if note is None else str(note)})
    return {"kind": "cards", "caption": block.caption, "cards": cards}


def _block_view(block: Any, lang: str, counters: dict[str, int]) -> dict[str, Any]:
    if isinstance(block, Paragraph):
        paras = [p.strip() for p in re.split(r"\n\s*\n", str(block.text)) if p.strip()]
        return {"kind": "paragraph", "paragraphs": paras}
    if isinstance(block, Heading):
        return {"kind": "heading", "text": str(block.text)}
    if isinstance(block, BulletList):
        return {"kind": "bullets", "items": [str(i) for i in block.items]}
    if isinstance(block, Note):
        return {"kind": "note", "text": str(block.text), "note_kind": block.kind}
    if isinstance(block, KeyFigures):
        return _cards_view(block, lang)
    if isinstance(block, Table):
        counters["table"] += 1
        return _table_view(block, lang, counters["table"])
    if isinstance(block, Figure):
        counters["figure"] += 1
        return {"kind": "figure", "label": t("figure.n", lang, n=counters["figure"]),
                "caption": block.caption,
                "footnote": block.footnote, "alt": block.alt, "src": block.data_uri,
                "is_svg": block.mime == "image/svg+xml"}
    raise ReportError(f"cannot render a {type(block).__name__} block")  # pragma: no cover


def _meta_label(key: str, lang: str) -> str:
    label_key = f"meta.{key}"
    return t(label_key, lang) if label_key in LABELS[lang] else str(key)


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return out


def _appendix_blocks(report: Report) -> list[Any]:
    lang = report.lang
    blocks: list[Any] = []
    if report.meta:
        details = pd.DataFrame({
            t("appendix.item", lang): [_meta_label(k, lang) for k in report.meta],
            t("appendix.value", lang): [_cell(v, None, lang) for v in report.meta.values()],
        })
        blocks.append(Table(details, caption=t("appendix.details", lang)))
    rows = {str(k): _cell(v, None, lang) for k, v in report.manifest.items()}
    rows.update(_versions())
    manifest = pd.DataFrame({t("appendix.package", lang): list(rows),
                             t("appendix.version", lang): list(rows.values())})
    blocks.append(Table(manifest, caption=t("appendix.manifest", lang)))
    return blocks


def _section_views(report: Report) -> list[dict[str, Any]]:
    lang = report.lang
    counters = {"table": 0, "figure": 0}
    sections = report.ordered_sections()
    if not any(s.key == "appendix" for s in sections):
        sections.append(Section("appendix"))
    views = []
    for number, section in enumerate(sections, 1):
        blocks = list(section.blocks)
        if section.key == "appendix":
            blocks += _appendix_blocks(report)
        title = section.title
        if title is None:
            key = f"section.{section.key}"
            title = t(key, lang) if key in LABELS[lang] else section.key
        views.append({
            "key": section.key,
            "anchor": f"sec-{number}",
            "number": number,
            "title": str(title),
            "appendix": section.key == "appendix",
            "blocks": [_block_view(b, lang, counters) for b in blocks],
        })
    return views


def render_html(report: Report, font: FontInfo | None = None) -> str:
    """Render ``report`` to a self-contained HTML page.

    Parameters
    ----------
    report : Report
        The report model.
    font : FontInfo, optional
        Font to name first in the CSS; for ``lang="zh"`` the system's CJK font is found when
        not given (see :func:`survchurn._fonts.find_cjk_font`).

    Returns
    -------
    str
        The page: one file with inlined CSS and ``data:`` URI figures, no external URLs.

    Raises
    ------
    DependencyError
        If ``lang="zh"`` and no Chinese font is installed.
    """
    lang = report.lang
    meta = dict(report.meta)
    sections = _section_views(report)
    only_appendix = all(s["appendix"] for s in sections)
    context = {
        "lang": lang,
        "html_lang": html_lang(lang),
        "csp": CSP,
        "css": _stylesheet(lang, font),
        "title": report.title,
        "subtitle": report.subtitle,
        "kicker": t("cover.kicker", lang),
        "period": None if meta.get("period") is None else _cell(meta["period"], None, lang),
        "as_of": None if meta.get("as_of") is None else _cell(meta["as_of"], None, lang),
        "cover_meta": [
            {"label": _meta_label(k, lang), "value": _cell(meta[k], None, lang),
             "cls": k.replace("_", "-")}
            for k in ("period", "as_of", "organisation", "prepared_by") if meta.get(k) is not None
        ],
        "contents_label": t("cover.contents", lang),
        "sections": sections,
        "no_sections_note": t("note.no_sections", lang) if only_appendix else None,
        "generator": f"survchurn {_versions().get('survchurn', '')}".strip(),
    }
    return template_environment().get_template("report.html.j2").render(**context)

