"""PDF output: pages, embedded fonts, CJK text, escaping, the data:-only fetcher, missing Pango."""

from __future__ import annotations

import logging
import re
import socket
from pathlib import Path

import matplotlib.pyplot as plt
import pytest

import survchurn.reporting.pdf as pdf_mod
from survchurn.exceptions import DependencyError
from survchurn.reporting.document import Figure, Report, Section
from survchurn.reporting.html import render_html
from survchurn.reporting.pdf import (
    ENABLE_PDF_HINT,
    decode_data_uri,
    pdf_available,
    render_pdf,
    write_report,
)

EVIL = "<script>alert(1)</script>"


@pytest.fixture(autouse=True)
def _need_weasyprint():
    ok, why = pdf_available()
    if not ok:
        pytest.skip(why)


def _pages(poppler, path) -> int:
    return int(re.search(r"Pages:\s+(\d+)", poppler("pdfinfo", str(path))).group(1))


def test_pages_fonts_and_literal_text(pdf_en, poppler):
    assert _pages(poppler, pdf_en) >= 2
    fonts = poppler("pdffonts", str(pdf_en)).splitlines()[2:]
    assert fonts, "the PDF has no fonts"
    # columns: name type encoding emb sub uni object ID; every font must be embedded
    assert all(line.split()[-5] == "yes" for line in fonts), fonts
    text = poppler("pdftotext", "-layout", str(pdf_en), "-")
    # the column name, section title and paragraph are printed as text, not run as markup
    assert text.count(EVIL) >= 3
    assert "&lt;" not in text
    assert re.search(r"Page 1 of \d+", text)
    assert "Churn early warning 2026 Q3" in text  # running header and cover


def test_chinese_pdf_has_cjk_glyphs(pdf_zh, poppler):
    text = poppler("pdftotext", str(pdf_zh), "-")
    assert "客户流失预警报告 2026 年第三季度" in text
    assert "客户留存" in text and re.search(r"第 1 页，共 \d+ 页", text)
    fonts = poppler("pdffonts", str(pdf_zh))
    assert re.search(r"CJK|Han|Hei|WenQuanYi", fonts), fonts
    assert all(line.split()[-5] == "yes" for line in fonts.splitlines()[2:])


def test_no_creation_date_and_same_bytes(html_en, pdf_en, poppler):
    info = poppler("pdfinfo", str(pdf_en))
    assert "CreationDate" not in info and "ModDate" not in info
    assert render_pdf(html_en) == pdf_en.read_bytes()


def test_fetcher_refuses_files_and_urls(tmp_path, poppler, caplog):
    secret = tmp_path / "secret.png"
    fig = plt.figure(figsize=(1, 1))
    fig.savefig(secret, format="png")
    plt.close(fig)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    page = f"""<!DOCTYPE html><html><head><style>
      @import url("http://127.0.0.1:{port}/x.css");
      body {{ background: url("file://{secret}"); }}
    </style></head><body><p>text</p>
      <img src="file://{secret}"><img src="{secret}"><img src="http://127.0.0.1:{port}/a.png">
    </body></html>"""
    with caplog.at_level(logging.WARNING, logger="survchurn.reporting.pdf"):
        data = render_pdf(page, tmp_path / "out.pdf")
    assert data.startswith(b"%PDF")
    with pytest.raises(BlockingIOError):
        listener.accept()  # nobody connected: no fetch happened
    listener.close()
    refused = [r.getMessage() for r in caplog.records if "refused to fetch" in r.getMessage()]
    assert any("file://" in m for m in refused) and any(f":{port}/" in m for m in refused)
    images = poppler("pdfimages", "-list", str(tmp_path / "out.pdf")).splitlines()[2:]
    assert images == []


def test_data_uri_images_are_served(tmp_path, poppler):
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1])
    figure = Figure(fig, fmt="png", dpi=40)
    plt.close(fig)
    render_pdf(render_html(Report("T", sections=[Section("x", blocks=[figure])])),
               tmp_path / "img.pdf")
    images = poppler("pdfimages", "-list", str(tmp_path / "img.pdf")).splitlines()[2:]
    assert len(images) >= 1


def test_decode_data_uri():
    assert decode_data_uri("data:text/plain,a%20b") == ("text/plain", b"a b")
    assert decode_data_uri("data:;base64,aGk=") == ("text/plain", b"hi")


def test_write_report_paths(tmp_path, report_factory):
    paths = write_report(Report("Title only", lang="en"), tmp_path / "out", basename="r")
    assert sorted(paths) == ["html", "pdf"]
    assert paths["html"].name == "r.html" and paths["pdf"].read_bytes().startswith(b"%PDF")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["r.html", "r.pdf"]
    only_html = write_report(Report("T"), tmp_path / "h", formats=("html",))
    assert list(only_html) == ["html"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"formats": ("docx",)}, r"report formats \['docx'\] not known"),
     ({"formats": ()}, r"report formats \[\] not known"),
     ({"basename": "../x"}, r"basename '../x' must be a plain file name")],
)
def test_write_report_rejects_bad_arguments(tmp_path, kwargs, message):
    from survchurn.exceptions import ConfigError

    with pytest.raises(ConfigError, match=message):
        write_report(Report("T"), tmp_path, **kwargs)


def test_missing_pango_gives_one_line(monkeypatch, tmp_path):
    monkeypatch.setattr(pdf_mod, "_load_weasyprint", lambda: (None, "OSError: no libpango"))
    ok, why = pdf_mod.pdf_available()
    assert not ok and why == ENABLE_PDF_HINT and "\n" not in why
    with pytest.raises(DependencyError, match=r"apt-get install libpango-1.0-0 libpangoft2-1.0-0 "
                                              r"libharfbuzz-subset0.*brew install pango"):
        render_pdf("<p>x</p>", tmp_path / "x.pdf")
    with pytest.raises(DependencyError, match=r"PDF output needs WeasyPrint"):
        write_report(Report("T"), tmp_path / "out")
    assert (tmp_path / "out" / "report.html").exists()  # the HTML is still written
    assert not (tmp_path / "out" / "report.pdf").exists()


def test_configured_font_file_unknown_to_fontconfig_is_used(tmp_path, poppler):
    import matplotlib

    from survchurn._fonts import FontInfo

    # matplotlib's Computer Modern is a font file fontconfig does not index
    path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "cmr10.ttf"
    if pdf_mod._fontconfig_knows("cmr10"):
        pytest.skip("cmr10 is installed for fontconfig here; nothing to add")
    page = '<html><body><p style="font-family: cmr10">configured font</p></body></html>'
    render_pdf(page, tmp_path / "with.pdf", font=FontInfo("cmr10", path))
    render_pdf(page, tmp_path / "without.pdf")
    assert "cmr10" in poppler("pdffonts", str(tmp_path / "with.pdf"))
    assert "cmr10" not in poppler("pdffonts", str(tmp_path / "without.pdf"))


def test_write_report_accepts_a_font_path(tmp_path):
    from survchurn.exceptions import ConfigError

    with pytest.raises(ConfigError, match=r"CJK font file .*missing.otf.* does not exist"):
        write_report(Report("T", lang="zh"), tmp_path, font=tmp_path / "missing.otf")
    assert not list(tmp_path.iterdir())  # nothing written
