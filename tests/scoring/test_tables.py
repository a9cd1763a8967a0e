"""Points, score report, tiers, cut-offs, evaluation metrics and PSI on hand-checkable data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ks_2samp
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.metrics import log_loss as sk_log_loss

from survchurn.exceptions import ConfigError, DataError, ScoringError
from survchurn.scoring.cutoff import choose_cutoff, cutoff_table
from survchurn.scoring.evaluation import auc, brier, compare_models, ks_statistic, log_loss
from survchurn.scoring.monitoring import population_stability, psi, psi_table, traffic_light
from survchurn.scoring.points import WarningPoints
from survchurn.scoring.report import assign_tiers, risk_value_grid, score_report

# ---- points ---------------------------------------------------------------------------------


def test_scaled_points_round_half_up_and_cap():
    coef = pd.Series({"const": -2.0, "a:hi": 1.2, "a:mid": 0.6, "b=yes": 0.8, "c:hi": -0.5})
    groups = {"a:hi": "a", "a:mid": "a", "b=yes": "b", "c:hi": "c"}
    wp = WarningPoints(max_points=5).fit(coef, groups)
    # unit = (1.2 + 0.8) / 5 = 0.4 -> 3, 1.5 -> 2 (half up), 2, 0
    assert wp.unit_ == pytest.approx(0.4)
    assert wp.points_.to_dict() == {"a:hi": 3, "a:mid": 2, "b=yes": 2}
    flags = pd.DataFrame({"a:hi": [1, 0, 0, 1], "a:mid": [0, 1, 0, 0], "b=yes": [1, 1, 0, 0], "c:hi": [1, 1, 1, 1]})
    np.testing.assert_array_equal(wp.score(flags), [5, 4, 0, 3])
    r = wp.reasons(flags, top=2)
    assert r.loc[0].tolist() == ["a:hi", "b=yes"]
    assert r.loc[2].tolist() == ["", ""]
    t = wp.table_.to_frame()
    assert t.loc[t["flag"] == "c:hi", "points"].item() == 0
    assert "Warning points" in repr(wp.table_)


def test_count_points():
    coef = pd.Series({"x": 0.3, "y": 2.0, "z": -1.0})
    wp = WarningPoints(method="count", max_points=1).fit(coef)
    assert wp.points_.to_dict() == {"x": 1, "y": 1}
    assert wp.score(pd.DataFrame({"x": [1, 1], "y": [1, 0], "z": [0, 0]})).tolist() == [1, 1]


def test_points_errors():
    with pytest.raises(ConfigError, match="method must be 'scaled' or 'count'"):
        WarningPoints(method="round")
    with pytest.raises(ConfigError, match="max_points must be a positive integer"):
        WarningPoints(max_points=0)
    with pytest.raises(ScoringError, match="no flag has a positive coefficient"):
        WarningPoints().fit(pd.Series({"a": -1.0}))
    wp = WarningPoints().fit(pd.Series({"a": 1.0}))
    with pytest.raises(ScoringError, match="lacks 1 flag"):
        wp.score(pd.DataFrame({"b": [1]}))


# ---- score report ---------------------------------------------------------------------------


def test_score_report_numbers():
    score = np.array([0, 0, 0, 0, 1, 1, 1, 2, 2, 3])
    y = np.array([0, 0, 0, 1, 0, 1, 0, 1, 1, 1])
    rep = score_report(score, y, segment=np.array(list("aabbaabbab")), description="90 days")
    t = rep.table
    assert t["customers"].tolist() == [4, 3, 2, 1]
    assert t["churned"].tolist() == [1, 1, 2, 1]
    np.testing.assert_allclose(t["churn_rate"], [0.25, 1 / 3, 1.0, 1.0])
    np.testing.assert_allclose(t["lift"], np.array([0.25, 1 / 3, 1.0, 1.0]) / 0.5)
    np.testing.assert_allclose(t["cum_capture"], [1.0, 0.8, 0.6, 0.2])
    np.testing.assert_allclose(t["cum_customers_share"], [1.0, 0.6, 0.3, 0.1])
    assert rep.by_segment.loc[("a", 0), "customers"] == 2
    tiers = rep.tier_table()
    assert tiers.loc["green", "customers"] == 7 and tiers.loc["yellow", "customers"] == 2
    assert "90 days" in repr(rep)


def test_tiers_and_grid():
    tiers = assign_tiers(pd.Series([0, 1, 2, 3, 4, 5]))
    assert tiers.tolist() == ["green", "green", "yellow", "orange", "red", "red"]
    custom = assign_tiers([0, 3, 5], {"low": 0, "high": 4})
    assert custom.tolist() == ["low", "low", "high"]
    with pytest.raises(ConfigError, match="tier bounds must increase"):
        assign_tiers([1], {"a": 2, "b": 1})
    g = risk_value_grid([0, 0, 4, 4, 2, 3], [10, 20, 30, 40, 50, 60], [0, 0, 1, 1, 0, 1])
    assert g["customers"].sum() == 6
    assert g.loc[("red", "mid"), "customers"] == 2 and g.loc[("green", "low"), "customers"] == 2
    assert g.loc[("red", "low"), "customers"] == 0  # every tier x band cell is shown
    assert g["churned_value"].sum() == pytest.approx(30 + 40 + 60)


def test_report_errors():
    with pytest.raises(DataError, match="score has 3 rows but label has 2"):
        score_report([1, 2, 3], [0, 1])
    with pytest.raises(DataError, match="label must be 0/1: 1 rows are not"):
        score_report([1, 2], [0, 2])
    with pytest.raises(DataError, match="segment has 1 rows"):
        score_report([1, 2], [0, 1], segment=["a"])
    with pytest.raises(DataError, match="value has 1 rows"):
        risk_value_grid([1, 2], [5.0])


# ---- cut-offs -------------------------------------------------------------------------------


def test_cutoff_table_and_expected_value():
    score = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    y = np.array([0, 0, 0, 1, 0, 1, 1, 1])
    t = cutoff_table(score, y)
    assert t.loc[2, "tp"] == 3 and t.loc[2, "fp"] == 1 and t.loc[2, "fn"] == 1 and t.loc[2, "tn"] == 3
    assert t.loc[3, "precision"] == 1.0 and t.loc[3, "recall"] == 0.5
    assert t.loc[2, "f1"] == pytest.approx(2 * 0.75 * 0.75 / 1.5)
    # expensive action -> only the top score; cheap action -> broad
    exp = choose_cutoff(score, y, action_cost=40, success_rate=0.5, value_saved=100)
    assert exp.best_cutoff == 3 and exp.best_value == pytest.approx(2 * 50 - 2 * 40)
    cheap = choose_cutoff(score, y, action_cost=1, success_rate=0.5, value_saved=100)
    assert cheap.best_cutoff == 1
    capped = choose_cutoff(score, y, action_cost=1, success_rate=0.5, value_saved=100, capacity=4)
    assert capped.best_cutoff == 2
    none = choose_cutoff(score, y, action_cost=100, success_rate=0.1, value_saved=10)
    assert none.best_cutoff is None and "contact nobody" in repr(none)


def test_cutoff_errors():
    with pytest.raises(ConfigError, match="success_rate must be between 0 and 1"):
        choose_cutoff([1], [1], action_cost=1, success_rate=2, value_saved=1)
    with pytest.raises(ConfigError, match="must not be negative"):
        choose_cutoff([1], [1], action_cost=-1, success_rate=0.5, value_saved=1)
    with pytest.raises(ConfigError, match="capacity must be a non-negative"):
        choose_cutoff([1], [1], action_cost=1, success_rate=0.5, value_saved=1, capacity=-2)
    with pytest.raises(ScoringError, match="more than the capacity of 1"):
        choose_cutoff([3, 3, 1], [1, 0, 0], action_cost=1, success_rate=0.5, value_saved=10, capacity=1)


# ---- evaluation -----------------------------------------------------------------------------


def test_metrics_match_sklearn_and_scipy():
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 400)
    p = np.clip(0.3 * y + rng.random(400) * 0.7, 0.01, 0.99)
    s = np.round(p * 5).astype(int)  # tied integer scores
    # closed forms, 1e-12
    assert auc(p, y) == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    assert auc(s, y) == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    assert ks_statistic(p, y) == pytest.approx(ks_2samp(p[y == 1], p[y == 0]).statistic, abs=1e-12)
    assert ks_statistic(s, y) == pytest.approx(ks_2samp(s[y == 1], s[y == 0]).statistic, abs=1e-12)
    assert brier(p, y) == pytest.approx(brier_score_loss(y, p), abs=1e-12)
    assert log_loss(p, y) == pytest.approx(sk_log_loss(y, p), abs=1e-12)
    cmp = compare_models({"model": (p, 3), "score": (s, 2)}, y)
    assert cmp.to_frame().loc["model", "n_variables"] == 3
    assert np.isnan(cmp.to_frame().loc["score", "brier"])


# ---- monitoring -----------------------------------------------------------------------------


def test_psi_and_lights():
    rng = np.random.default_rng(1)
    a = pd.Series(rng.normal(size=5000))
    assert psi(a, a) == pytest.approx(0.0, abs=1e-12)
    assert traffic_light(psi(a, pd.Series(rng.normal(size=5000)))) == "green"
    assert traffic_light(psi(a, pd.Series(rng.normal(1.0, 1, size=5000)))) == "red"
    assert [traffic_light(v) for v in (0.05, 0.2, 0.3, float("nan"))] == ["green", "amber", "red", "grey"]
    # hand value on two categories: (0.7-0.5) ln(0.7/0.5) + (0.3-0.5) ln(0.3/0.5)
    e = pd.Series(["x"] * 50 + ["y"] * 50)
    n = pd.Series(["x"] * 70 + ["y"] * 30)
    assert psi(e, n) == pytest.approx(0.2 * np.log(1.4) - 0.2 * np.log(0.6), abs=1e-12)
    assert psi_table(e, n)["psi"].sum() == pytest.approx(psi(e, n))
    rep = population_stability(pd.DataFrame({"score": e}), pd.DataFrame({"score": n}))
    assert rep.to_frame().loc["score", "light"] == "amber"
    with pytest.raises(DataError, match="column missing from one of the populations"):
        population_stability(pd.DataFrame({"a": [1]}), pd.DataFrame({"b": [1]}), columns=["a"])
