"""The error tree, result display and atomic, spreadsheet-safe output."""

import pandas as pd
import pytest

from survchurn._display import Result
from survchurn._io import atomic_write_text, spreadsheet_safe, write_csv
from survchurn.exceptions import (
    ConfigError,
    DataError,
    DataProblem,
    ModelError,
    ReportError,
    ScoringError,
    SurvchurnError,
)


@pytest.mark.parametrize("cls,builtin", [(ConfigError, ValueError), (ModelError, ValueError),
                                         (ScoringError, ValueError), (ReportError, RuntimeError)])
def test_error_tree(cls, builtin):
    assert issubclass(cls, SurvchurnError) and issubclass(cls, builtin)


def test_data_error_reports_every_problem():
    err = DataError(
        [
            DataProblem("event", "must be 0 (censored) or 1 (churned)", 3, [17, 40, 41, 42, 43, 44, 45],
                        "recode the column"),
            DataProblem("date", "cannot be parsed as a date", 1, ["x"]),
        ],
        context="event log",
    )
    text = str(err)
    assert "event log: 2 problems found" in text
    assert "column 'event': must be 0 (censored) or 1 (churned): 3 rows, e.g. [17, 40, 41, 42, 43]" in text
    assert "Fix: recode the column" in text
    assert "1 row, e.g. ['x']" in text
    assert isinstance(err, ValueError)


class _Toy(Result):
    _title = "Toy <result>"

    def to_frame(self):
        return pd.DataFrame({"<b>name</b>": ["<script>alert(1)</script>"], "x": [1.5]})

    def _header(self):
        return {"n": 1, "segment": "<i>vip</i>"}


def test_result_views_escape_html():
    r = _Toy()
    assert "Toy <result>" in repr(r) and "n: 1" in repr(r)
    html = r._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<i>vip</i>" not in html and "&lt;b&gt;name&lt;/b&gt;" in html
    pd.testing.assert_frame_equal(r.summary, r.to_frame())


def test_spreadsheet_safe_neutralises_formulas_only_in_text():
    df = pd.DataFrame({"id": ["=cmd|' /C calc'!A0", "+1", "-2", "@SUM(A1)", "ok"], "x": [-1.0, 2, 3, 4, 5]})
    out = spreadsheet_safe(df)
    assert out["id"].tolist() == ["'=cmd|' /C calc'!A0", "'+1", "'-2", "'@SUM(A1)", "ok"]
    assert out["x"].tolist() == [-1.0, 2, 3, 4, 5]


def test_atomic_write_leaves_no_temporary_files(tmp_path):
    target = tmp_path / "sub" / "a.csv"
    write_csv(pd.DataFrame({"a": [1]}), target)
    atomic_write_text(target, "b\n2\n")
    assert target.read_text() == "b\n2\n"
    assert [p.name for p in target.parent.iterdir()] == ["a.csv"]
