"""HTML output: self-contained, escaped, deterministic, builds with any set of sections."""

from __future__ import annotations

import html
import re

import pandas as pd
import pytest

from survchurn.exceptions import ReportError
from survchurn.reporting.document import KeyFigures, Report, Section, Table
from survchurn.reporting.html import render_html, template_environment

EVIL = "<script>alert(1)</script>"
EVIL_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def _attribute_urls(html: str) -> list[str]:
    return re.findall(r"""\b(?:src|href|xlink:href|action|poster)\s*=\s*["']?([^"'\s>]+)""", html)


def test_autoescape_is_on_for_templates_and_strings():
    env = template_environment()
    assert env.autoescape("report.html.j2") is True
    assert env.autoescape(None) is True
    assert env.from_string("{{ x }}").render(x=EVIL) == EVIL_ESCAPED


def test_self_contained(html_en):
    urls = _attribute_urls(html_en)
    assert urls, "expected the figure and the contents links"
    assert all(u.startswith(("data:", "#")) for u in urls), urls
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|file:|//)""", html_en, re.I)
    assert not re.search(r"url\s*\(", html_en.split("</style>")[0])  # CSS loads nothing
    assert "<link" not in html_en and "<script" not in html_en.lower().replace(EVIL_ESCAPED, "")
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', html_en)
    assert csp and html.unescape(csp.group(1)).startswith("default-src 'none'; img-src data:")


def test_user_text_is_escaped(html_en):
    assert EVIL not in html_en
    # column name, section title, paragraph, bullet, figure caption, meta value
    assert html_en.count(EVIL_ESCAPED) >= 6
    assert "http://127.0.0.1:9/evil.png" in html_en  # kept as text, never as a link
    assert 'src="http' not in html_en


def test_numbers_formatted_and_right_aligned(html_en):
    assert '<td class="num">20,000</td>' in html_en
    assert '<td class="num">72.2%</td>' in html_en
    assert '<th scope="col" class="num">Customers</th>' in html_en
    assert '<td>a</td>' in html_en  # text columns stay left-aligned
    assert "42,650" in html_en and "+0.8 pp" in html_en


def test_cover_contents_and_appendix(html_en):
    assert '<h1 class="report-title">Churn early warning 2026 Q3</h1>' in html_en
    assert "2026-09-30" in html_en and "2026 Q3" in html_en
    # summary is placed before retention whatever the given order; appendix is added last
    titles = re.findall(r'<h2 class="section-title">.*?</span> (.*?)</h2>', html_en)
    assert titles == [f"Summary {EVIL_ESCAPED}", "Retention", "Appendix"]
    assert "Manifest" in html_en and "pandas" in html_en


def test_same_report_same_bytes(report_factory, html_en):
    assert render_html(report_factory("en")) == html_en


def test_chinese_labels(html_zh):
    assert '<html lang="zh-CN">' in html_zh
    assert "客户留存" in html_zh and "附录" in html_zh and "数据截止日" in html_zh
    assert '"第 " counter(page) " 页，共 " counter(pages) " 页"' in html_zh
    assert '"Noto Sans CJK SC"' in html_zh or "CJK" in html_zh or "Hei" in html_zh


def test_report_without_optional_sections_builds():
    html = render_html(Report("Only a title"))
    assert "Only a title" in html and "Appendix" in html
    assert "No analysis sections were available" in html
    html = render_html(Report("Empty meta", meta={}, sections=[Section("custom", "Custom")]))
    assert "Custom" in html and "No analysis sections" not in html


def test_long_and_wide_tables():
    frame = pd.DataFrame({f"c{i}": range(100) for i in range(9)})
    html = render_html(Report("T", sections=[Section("x", blocks=[Table(frame, max_rows=10)])]))
    assert "Showing the first 10 of 100 rows." in html
    first_table = html.split("</table>")[0]
    assert first_table.count("<tr>") == 1 + 10  # header + the rows shown
    assert '<div class="table-block">' in first_table and 'class="data"' in first_table

    def table_tag(n_cols: int, n_rows: int = 3) -> str:
        big = pd.DataFrame({f"Column {i}": [123_456_789] * n_rows for i in range(n_cols)})
        page = render_html(Report("T", sections=[Section("x", blocks=[Table(big)])]))
        return page.split("<caption>")[0].rsplit('<div class="table-block', 1)[1]

    assert 'class="data"' in table_tag(6)  # 6 x 13 characters fit the page
    assert 'class="data wide"' in table_tag(8)  # smaller font
    assert 'class="data xwide"' in table_tag(16)  # fixed layout, numbers may wrap
    assert table_tag(3, n_rows=40).startswith(' long">')  # may break across pages


def test_index_booleans_and_missing_values():
    frame = pd.DataFrame({"flag": [True, False], "x": [1.5, None]},
                         index=pd.Index(["u1", "u2"], name="customer_id"))
    html = render_html(Report("T", lang="en",
                              sections=[Section("x", blocks=[Table(frame, index=True)])]))
    assert "customer_id" in html and "<td>yes</td>" in html and "<td>no</td>" in html
    assert '<td class="num">–</td>' in html


def test_key_figure_pairs_must_have_two_items():
    rep = Report("T", sections=[Section("summary", blocks=[KeyFigures({"x": (1, 2, 3)})])])
    with pytest.raises(ReportError, match=r"key figure 'x': give a value or a \(value, note\) pair"):
        render_html(rep)
