import pytest

from survchurn.config import config_from_dict, load_config, parse_date
from survchurn.exceptions import ConfigError


def test_minimal_config_defaults():
    cfg = config_from_dict({"data": {"events": "log.csv"}})
    assert cfg.churn.window_days == 90 and cfg.report.formats == ("html", "pdf")
    assert len(cfg.fingerprint()) == 64


def test_misspelled_key_suggests_the_right_one():
    with pytest.raises(ConfigError, match=r"unknown key data\.id_coll\. Did you mean 'id_col'\?"):
        config_from_dict({"data": {"events": "x.csv", "id_coll": "a"}})
    with pytest.raises(ConfigError, match=r"unknown key 'chrun'\. Did you mean 'churn'\?"):
        config_from_dict({"data": {"events": "x"}, "chrun": {}})


@pytest.mark.parametrize(
    "raw,message",
    [
        ({}, "data.events is missing"),
        ({"data": {"events": "x"}, "churn": {"window_days": "90"}}, "churn.window_days: expected a whole number"),
        ({"data": {"events": "x"}, "churn": {"window_days": -3}}, "must be a positive number of days"),
        ({"data": {"events": "x"}, "report": {"lang": "fr"}}, "report.lang: 'fr' is not one of"),
        ({"data": {"events": "x"}, "report": {"formats": ["docx"]}}, "not supported"),
        ({"data": "x"}, r"\[data\] must be a table of settings"),
    ],
)
def test_bad_values(raw, message):
    with pytest.raises(ConfigError, match=message):
        config_from_dict(raw)


def test_load_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("data = [", encoding="utf-8")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        load_config(bad)


def test_parse_date():
    assert str(parse_date("2026-09-30", "as_of").date()) == "2026-09-30"
    with pytest.raises(ConfigError, match=r"as_of: '30/09/2026' is not a date in the form YYYY-MM-DD"):
        parse_date("30/09/2026", "as_of")
