"""Stage 7: management reports: one Jinja2 template set, a self-contained HTML page and a PDF."""

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
)
from survchurn.reporting.html import render_html
from survchurn.reporting.pdf import pdf_available, render_pdf, write_report

__all__ = [
    "BulletList",
    "Figure",
    "Heading",
    "KeyFigures",
    "Note",
    "Paragraph",
    "Report",
    "Section",
    "Table",
    "pdf_available",
    "render_html",
    "render_pdf",
    "write_report",
]
