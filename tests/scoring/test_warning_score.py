"""End-to-end warning score on synthetic dealership data with a known truth."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import duckdb
import numpy as np
import pytest

from survchurn.exceptions import ConfigError, DataError
from survchurn.scoring.candidates import CandidateBuilder
from survchurn.scoring.scorecard import Scorecard
from survchurn.scoring.warning_score import build_warning_score

_spec = importlib.util.spec_from_file_location("_scoring_synth", Path(__file__).with_name("_synthetic.py"))
_synth = importlib.util.module_from_spec(_spec)
sys.modules["_scoring_synth"] = _synth
_spec.loader.exec_module(_synth)
dealership, TRUE_GROUPS = _synth.dealership, _synth.TRUE_GROUPS


def _builder() -> CandidateBuilder:
    return CandidateBuilder(ratios={"loan_to_price": ("loan", "price")}, exclude=("customer_id", "loan"))


@pytest.fixture(scope="module")
def lasso_fit():
    df, y = dealership(6000, 1)
    return df, y, build_warning_score(df, y, method="lasso", test=0.3, seed=3, candidates=_builder(),
                                      compare=False, churn_definition="no service visit for 18 months")


def _check_shape(report) -> None:
    t = report.table
    big = t[t["customers"] >= 30]
    # churn rate rises with the score (bands with at least 30 customers; counts are exact)
    assert (np.diff(big["churn_rate"].to_numpy()) > 0).all()
    top = big.loc[big.index.max()]  # the highest band with at least 30 customers
    overall = report.n_churned / report.n
    assert top["share"] < 0.05  # the top band is small ...
    assert top["churn_rate"] > 2.5 * overall  # ... and high-risk (the dealership shape)
    assert t["cum_capture"].iloc[0] == pytest.approx(1.0)


def test_lasso_score_has_dealership_shape_and_true_variables(lasso_fit):
    df, y, res = lasso_fit
    _check_shape(res.report)
    _check_shape(res.test_report)
    groups = set(res.points.to_frame().query("points > 0")["group"])
    assert groups == TRUE_GROUPS
    assert res.scorecard.metrics["test_auc"] > 0.7
    assert res.scores.max() <= 5 and res.scores.min() >= 0
    assert list(res.reasons.columns) == ["reason_1", "reason_2", "reason_3"]
    assert "churn definition" in repr(res)
    assert "<table" in res._repr_html_()


def test_stepwise_selects_true_variables():
    df, y = dealership(4000, 5)
    res = build_warning_score(df, y, method="stepwise", candidates=_builder())
    sel = {res.builder.groups_[c] for c in res.model.columns}
    assert TRUE_GROUPS <= sel
    assert len(sel - TRUE_GROUPS) <= 2  # AIC may keep a noise group or two
    assert res.selection.trace.iloc[0]["step"] == ""


def test_comparison_table_on_test_set():
    df, y = dealership(3000, 7)
    res = build_warning_score(df, y, method="full", test=0.4, seed=2, candidates=_builder(), nfolds=5)
    t = res.comparison.to_frame()
    assert list(t.index) == ["full (logistic)", "lasso (logistic)", "stepwise (logistic)", "integer score"]
    assert (t["auc"] > 0.65).all()
    assert np.isnan(t.loc["integer score", "brier"])
    assert t.loc["full (logistic)", "n_variables"] > t.loc["lasso (logistic)", "n_variables"]


def test_scorecard_json_reproduces_scores_in_pandas_and_duckdb(lasso_fit, tmp_path):
    df, y, res = lasso_fit
    df = df.copy()
    df.loc[::7, "months_since_visit"] = np.nan  # missing values score as "no flag"
    df.loc[::11, "price"] = 0.0  # ratio with a zero denominator is missing
    df.loc[::13, "insurance"] = None
    path = res.scorecard.save(tmp_path / "card.json")
    card = Scorecard.load(path)
    assert card == res.scorecard
    expected = res.scorecard.score(df)
    got = card.score(df)
    assert (got == expected).all()
    con = duckdb.connect()
    con.register("customers", df)
    sql = con.sql(card.to_sql("customers")).df()
    np.testing.assert_array_equal(sql["score"].to_numpy(), got.to_numpy())  # exact integers
    np.testing.assert_array_equal(sql["customer_id"].to_numpy(), df["customer_id"].to_numpy())
    assert set(card.tier(df).dropna()) <= set(card.tiers)


def test_scores_match_training_scores_exactly(lasso_fit):
    df, y, res = lasso_fit
    is_train = res.scores.index
    assert (res.scorecard.score(df.loc[is_train]) == res.scores).all()


def test_segments_grid_and_stability():
    df, y = dealership(3000, 11)
    df["stage"] = np.where(df["visits_12m"] > 2, "active", "sleeping")
    res = build_warning_score(df, y, method="full", candidates=_builder(), segment_col="stage", value_col="price",
                              test=0.3, compare=False)
    assert set(res.test_report.by_segment.index.get_level_values("segment")) == {"active", "sleeping"}
    assert res.report.by_segment["customers"].sum() == res.report.n
    assert res.grid["customers"].sum() == res.test_report.n
    same = res.stability(df.loc[res.scores.index])
    assert (same.to_frame()["psi"] < 1e-12).all()
    shifted = df.assign(months_since_visit=df["months_since_visit"] * 3)
    st = res.stability(shifted)
    assert st.to_frame().loc["months_since_visit", "light"] == "red"
    with pytest.raises(DataError, match="column 'lifecycle' not found"):
        build_warning_score(df, y, method="full", candidates=_builder(), segment_col="lifecycle")


def test_count_method_and_label_column():
    df, y = dealership(3000, 9)
    df["churned"] = y
    res = build_warning_score(df, "churned", method="full", points_method="count", max_points=4,
                              candidates=CandidateBuilder(exclude=("customer_id",)))
    assert res.scores.max() <= 4
    assert set(res.points.to_frame()["points"]) <= {0, 1}


def test_build_errors():
    df, y = dealership(500, 1)
    with pytest.raises(ConfigError, match="method must be"):
        build_warning_score(df, y, method="forest", candidates=_builder())
    with pytest.raises(ConfigError, match="test share must be between 0 and 1"):
        build_warning_score(df, y, test=1.5, candidates=_builder())
    with pytest.raises(DataError, match="label has 3 rows but features have 500"):
        build_warning_score(df, y[:3])
    with pytest.raises(DataError, match="label column 'nope' not found"):
        build_warning_score(df, "nope")
    with pytest.raises(DataError, match="selected no flag"):
        build_warning_score(df[["noise0", "noise1"]], np.r_[np.ones(25), np.zeros(475)].astype(int),
                            method="lasso", nfolds=3)
