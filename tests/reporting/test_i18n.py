"""Label dictionaries: same keys and placeholders in both languages; clear errors."""

from __future__ import annotations

import string

import pytest

from survchurn.exceptions import ConfigError, ReportError
from survchurn.reporting.i18n import LABELS, LANGUAGES, html_lang, t


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_both_languages_have_the_same_keys():
    assert set(LANGUAGES) == set(LABELS) == {"en", "zh"}
    assert set(LABELS["en"]) == set(LABELS["zh"])


@pytest.mark.parametrize("key", sorted(LABELS["en"]))
def test_placeholders_match_between_languages(key):
    assert _fields(LABELS["en"][key]) == _fields(LABELS["zh"][key])
    assert LABELS["en"][key].strip() and LABELS["zh"][key].strip()


def test_lookup_and_format():
    assert t("section.retention", "en") == "Retention"
    assert t("section.retention", "zh") == "客户留存"
    assert t("page.footer", "en", page=2, pages=9) == "Page 2 of 9"
    assert t("page.footer", "zh", page=2, pages=9) == "第 2 页，共 9 页"
    assert t("table.truncated", "en", shown=1000, total=25000).startswith("Showing the first 1,000")


def test_missing_key_names_it_and_suggests():
    with pytest.raises(ReportError, match=r"no report label 'section.retension'.*section.retention"):
        t("section.retension", "en")


def test_missing_field_is_named():
    with pytest.raises(ReportError, match=r"needs the field 'pages'"):
        t("page.footer", "en", page=1)


def test_unsupported_language():
    with pytest.raises(ConfigError, match=r"report language 'fr' is not supported"):
        t("section.retention", "fr")
    assert html_lang("zh") == "zh-CN"
