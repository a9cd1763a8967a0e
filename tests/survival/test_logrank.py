"""Log-rank (G-rho), trend and pairwise tests against R (tests/reference/km_logrank.R).

Tolerance 1e-6 on chi-square, observed/expected and variances: closed-form sums, so only
floating-point rounding differs from R (survdiff for right-censored data; the same formula
evaluated in R on counting-process risk sets for late entry). Degrees of freedom are exact.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survchurn.exceptions import ConfigError, DataError, ModelError
from survchurn.survival._counts import counts_from_frame
from survchurn.survival.logrank import (
    logrank_test,
    logrank_test_counts,
    logrank_trend,
    p_adjust,
    pairwise_logrank,
)

REF = Path(__file__).resolve().parents[1] / "reference"
TOL = 1e-6


def load_case(key: str) -> tuple[pd.DataFrame, dict]:
    dataset, group, entry = key.split("/")
    if dataset == "lung":
        d = pd.read_csv(REF / "lung.csv")
        d["event"] = d["status"] - 1
        d = d[d[group].notna()].copy()
        kw = {"duration_col": "time", "event_col": "event"}
    elif dataset == "rossi":
        d = pd.read_csv(REF / "rossi.csv")
        d["prio_grp"] = np.minimum(d["prio"], 3)
        kw = {"duration_col": "week", "event_col": "arrest"}
    else:
        d = pd.read_csv(REF / "km_lateentry.csv")
        kw = {"duration_col": "tstop", "event_col": "event"}
        if entry == "entry":
            kw["entry_col"] = "tstart"
    if d[group].dtype != object:
        d[group] = d[group].astype(int).astype(str)
    kw["group_col"] = group
    return d, kw


LR = pd.read_csv(REF / "km_logrank.csv")
LRV = pd.read_csv(REF / "km_logrank_var.csv")
TREND = pd.read_csv(REF / "km_trend.csv")
PAIRS = pd.read_csv(REF / "km_pairwise.csv")
KEYS = list(LR["case"].unique())


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("rho", [0.0, 1.0])
def test_grho_matches_survdiff(key, rho):
    ref = LR[(LR["case"] == key) & (LR["rho"] == rho)]
    d, kw = load_case(key)
    res = logrank_test(d, rho=rho, **kw)
    assert res.table["group"].tolist() == ref["group"].astype(str).tolist()
    np.testing.assert_allclose(res.chisq, ref["chisq"].iloc[0], atol=TOL, rtol=0)
    assert res.df == ref["df"].iloc[0]
    np.testing.assert_allclose(res.p_value, ref["p_value"].iloc[0], atol=TOL, rtol=1e-6)
    np.testing.assert_allclose(res.table["observed"], ref["observed"], atol=TOL, rtol=0)
    np.testing.assert_allclose(res.table["expected"], ref["expected"], atol=TOL, rtol=0)
    rv = LRV[(LRV["case"] == key) & (LRV["rho"] == rho)]
    k = len(res.table)
    np.testing.assert_allclose(res.variance.to_numpy(), rv["var"].to_numpy().reshape(k, k),
                               atol=TOL, rtol=0)
    assert res.test.startswith("log-rank" if rho == 0 else "Peto-Peto")
    assert "chisq" in repr(res) and "<table" in res._repr_html_()


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("rho", [0.0, 1.0])
def test_trend_matches_formula_in_r(key, rho):
    ref = TREND[(TREND["case"] == key) & (TREND["rho"] == rho)].iloc[0]
    d, kw = load_case(key)
    groups = sorted(d[kw["group_col"]].unique())
    scores = [float(g) for g in groups] if groups[0].isdigit() else [1.0, 2.0, 3.0]
    res = logrank_trend(d, scores=scores, rho=rho, **kw)
    np.testing.assert_allclose([res.u, res.var, res.chisq], [ref["U"], ref["var"], ref["chisq"]],
                               atol=TOL, rtol=0)
    np.testing.assert_allclose(res.p_value, ref["p_value"], rtol=1e-6)
    by_map = logrank_trend(d, scores=dict(zip(groups, scores, strict=True)), rho=rho, **kw)
    assert by_map.u == pytest.approx(res.u)


def test_trend_uses_numeric_group_values_by_default():
    d, kw = load_case("rossi/prio_grp/noentry")
    d["prio_grp"] = d["prio_grp"].astype(int)
    res = logrank_trend(d, **kw)
    ref = TREND[(TREND["case"] == "rossi/prio_grp/noentry") & (TREND["rho"] == 0)].iloc[0]
    assert res.chisq == pytest.approx(ref["chisq"], abs=TOL)
    assert res.z > 0  # more prior convictions, more re-arrests
    assert res.table["score"].tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize("key", sorted(PAIRS["case"].unique()))
@pytest.mark.parametrize("rho", [0.0, 1.0])
def test_pairwise_matches_pairwise_survdiff(key, rho):
    ref = PAIRS[(PAIRS["case"] == key) & (PAIRS["rho"] == rho)].copy()
    ref[["group1", "group2"]] = ref[["group1", "group2"]].astype(str)
    d, kw = load_case(key)
    for method, col in [("holm", "p_holm"), ("BH", "p_bh")]:
        res = pairwise_logrank(d, rho=rho, method=method, **kw).to_frame()
        m = res.merge(ref, on=["group1", "group2"], suffixes=("", "_r"), validate="1:1")
        assert len(m) == len(ref)
        np.testing.assert_allclose(m["chisq"], m["chisq_r"], atol=TOL, rtol=0)
        np.testing.assert_allclose(m["p_value"], m["p_value_r"], rtol=1e-6, atol=1e-12)
        np.testing.assert_allclose(m["p_adjusted"], m[col], rtol=1e-6, atol=1e-12)


def test_pairwise_matrix_is_lower_triangular():
    d, kw = load_case("rossi/prio_grp/noentry")
    res = pairwise_logrank(d, method="holm", **kw)
    mat = res.to_matrix()
    assert list(mat.index) == ["1", "2", "3"] and list(mat.columns) == ["0", "1", "2"]
    assert np.isnan(mat.loc["1", "1"]) and not np.isnan(mat.loc["3", "0"])


def test_p_adjust_matches_r_values():
    # R: p.adjust(c(0.01, 0.04, 0.03, 0.2, NA), "holm") and "BH"
    p = [0.01, 0.04, 0.03, 0.2, np.nan]
    np.testing.assert_allclose(p_adjust(p, "holm")[:4], [0.04, 0.09, 0.09, 0.2])
    np.testing.assert_allclose(p_adjust(p, "BH")[:4], [0.04, 0.04 * 4 / 3, 0.04 * 4 / 3, 0.2])
    assert np.isnan(p_adjust(p, "BH")[4])
    np.testing.assert_array_equal(p_adjust(p[:4], "none"), p[:4])


def test_counts_entry_point_equals_table_entry_point():
    d, kw = load_case("lateentry/grp/entry")
    counts = counts_from_frame(d, "tstop", "event", "grp", "tstart")
    a = logrank_test_counts(counts, rho=1)
    b = logrank_test(d, rho=1, **kw)
    assert a.chisq == b.chisq


def test_errors():
    d = pd.DataFrame({"duration": [1, 2, 3], "event": [1, 0, 1], "grp": ["a", "a", "a"],
                      "seg": ["x", "y", "z"]})
    with pytest.raises(ModelError, match="needs at least 2 groups in column 'grp', found 1"):
        logrank_test(d, group_col="grp")
    with pytest.raises(ConfigError, match="rho must be a finite number >= 0"):
        logrank_test(d, group_col="seg", rho=-1)
    with pytest.raises(ConfigError, match="column 'seg' is not numeric"):
        logrank_trend(d, group_col="seg")
    with pytest.raises(ConfigError, match="scores has 2 values but 'seg' has 3 groups"):
        logrank_trend(d, group_col="seg", scores=[1, 2])
    with pytest.raises(ConfigError, match="scores has no value for 1 groups of 'seg'"):
        logrank_trend(d, group_col="seg", scores={"x": 1, "y": 2})
    with pytest.raises(ConfigError, match="method must be one of"):
        pairwise_logrank(d, group_col="seg", method="bonferroni")
    with pytest.raises(ConfigError, match="method must be one of"):
        p_adjust([0.1], "fdr")
    with pytest.raises(DataError, match="column 'grp': missing group labels: 1 row"):
        logrank_test(d.assign(grp=["a", None, "b"]), group_col="grp")


def test_hand_computed_two_by_two():
    # one event time: n = 3 (a: 2, b: 1), d = 2, both in a. E_a = 4/3, O_a - E_a = 2/3,
    # V = d (n - d) / (n - 1) * (2/3)(1/3) = 2/9, chisq = (4/9) / (2/9) = 2
    d = pd.DataFrame({"duration": [0, 0, 1], "event": [1, 1, 0], "grp": ["a", "a", "b"]})
    res = logrank_test(d, group_col="grp")
    assert res.df == 1 and res.chisq == pytest.approx(2.0)
    assert res.table["expected"].tolist() == pytest.approx([4 / 3, 2 / 3])
