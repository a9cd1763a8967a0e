"""Kaplan-Meier against R's survival 3.5-3 (tests/reference/km_logrank.R) and lifelines.

Tolerance: 1e-6 absolute on survival, standard errors, limits, cumulative hazard and RMST:
these are closed-form sums and products, so the only difference from R is floating-point
rounding (R's output is written with 15 significant digits). Times and counts match exactly.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from survchurn.exceptions import ConfigError, DataError, ModelError
from survchurn.survival._counts import counts_from_arrays, counts_from_duckdb, counts_from_frame
from survchurn.survival.kaplan_meier import KaplanMeier, confidence_limits

REF = Path(__file__).resolve().parents[1] / "reference"
TOL = 1e-6
CONF = {"log": "log", "log-log": "loglog", "plain": "plain"}


def load_case(key: str) -> tuple[pd.DataFrame, dict]:
    """The input table and fit arguments of one reference case ("dataset/group/entry")."""
    dataset, group, entry = key.split("/")
    if dataset == "lung":
        d = pd.read_csv(REF / "lung.csv")
        d["event"] = d["status"] - 1
        if group == "ph.ecog":
            d = d[d["ph.ecog"].notna()].copy()
        kw = {"duration_col": "time", "event_col": "event"}
    elif dataset == "rossi":
        d = pd.read_csv(REF / "rossi.csv")
        d["prio_grp"] = np.minimum(d["prio"], 3)
        kw = {"duration_col": "week", "event_col": "arrest"}
    else:
        d = pd.read_csv(REF / "km_lateentry.csv")
        kw = {"duration_col": "tstop", "event_col": "event", "id_col": "id"}
        if entry == "entry":
            kw["entry_col"] = "tstart"
    if group != "none":
        d[group] = d[group].astype(int).astype(str) if d[group].dtype != object else d[group]
        kw["group_col"] = group
    return d, kw


CURVES = pd.read_csv(REF / "km_curves.csv")
CASES = list(CURVES["case"].unique())


def _fit(key: str, conf_type: str = "log-log"):
    d, kw = load_case(key)
    return KaplanMeier(conf_type=conf_type).fit(d, **kw).result_


def assert_close(ours, ref, tol=TOL):
    ours, ref = np.asarray(ours, float), np.asarray(ref, float)
    assert ours.shape == ref.shape
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(ref))
    np.testing.assert_allclose(ours, ref, atol=tol, rtol=0)


@pytest.mark.parametrize("key", CASES)
@pytest.mark.parametrize("conf_type", list(CONF))
def test_survival_table_matches_survfit(key, conf_type):
    res = _fit(key, conf_type)
    ref = CURVES[CURVES["case"] == key]
    ours = res.survival_table
    assert list(ours["group"].astype(str)) == list(ref["group"].astype(str))
    for col in ("time", "n_risk", "n_event", "n_censor"):
        np.testing.assert_array_equal(ours[col].to_numpy(float), ref[col].to_numpy(float))
    assert_close(ours["survival"], ref["surv"])
    assert_close(ours["std_err_cumhaz"], ref["std_err_cumhaz"])
    assert_close(ours["std_err"], ref["std_err"])
    assert_close(ours["lower"], ref[f"lower_{CONF[conf_type]}"])
    assert_close(ours["upper"], ref[f"upper_{CONF[conf_type]}"])
    nah = res.cumulative_hazard()
    assert_close(nah["cumhaz"], ref["cumhaz"])
    assert_close(nah["cumhaz_std_err"], ref["std_chaz"])


AT = pd.read_csv(REF / "km_at.csv")


@pytest.mark.parametrize("key", CASES)
@pytest.mark.parametrize("conf_type", list(CONF))
def test_survival_at_horizons_matches_summary_times(key, conf_type):
    ref = AT[(AT["case"] == key) & (AT["conf_type"] == conf_type)]
    ours = _fit(key, conf_type).at([0.5, 3, 30, 90, 180, 365])
    ours = ours[~ours["beyond_follow_up"]]
    assert list(ours["group"].astype(str)) == list(ref["group"].astype(str))
    if key.endswith("/noentry"):
        np.testing.assert_array_equal(ours["n_risk"], ref["n_risk"])
    else:
        # With late entry R reports the risk set of the next curve time >= t, which also counts
        # customers entering between t and that time; ours counts those at risk AT t.
        d, kw = load_case(key)
        for _, row in ours.iterrows():
            g = d[d["grp"] == row["group"]]
            assert row["n_risk"] == ((g["tstart"] < row["time"]) & (g["tstop"] >= row["time"])).sum()
    for col, rcol in [("survival", "surv"), ("std_err", "std_err"), ("lower", "lower"),
                      ("upper", "upper")]:
        assert_close(ours[col], ref[rcol])


QUANT = pd.read_csv(REF / "km_quantiles.csv")


@pytest.mark.parametrize("key", CASES)
@pytest.mark.parametrize("conf_type", list(CONF))
def test_quantiles_match_quantile_survfit(key, conf_type):
    ref = QUANT[(QUANT["case"] == key) & (QUANT["conf_type"] == conf_type)]
    ref = ref.sort_values(["group", "prob"], kind="stable")
    ours = _fit(key, conf_type).quantiles([0.25, 0.5, 0.75])
    ours = ours.assign(g=ours["group"].astype(str)).sort_values(["g", "prob"], kind="stable")
    for col in ("time", "lower", "upper"):
        assert_close(ours[col], ref[col], tol=0)  # times are data values or midpoints: exact
    np.testing.assert_array_equal(ours["reached"], ref["time"].notna())
    assert set(ours.loc[~ours["reached"], "label"]) <= {"not reached"}


PRINT = pd.read_csv(REF / "km_print.csv")


@pytest.mark.parametrize("key", CASES)
@pytest.mark.parametrize("conf_type", list(CONF))
def test_median_and_rmst_match_print_survfit(key, conf_type):
    ref = PRINT[(PRINT["case"] == key) & (PRINT["conf_type"] == conf_type)]
    res = _fit(key, conf_type)
    summ = res.group_summary(tau=float(ref["tau"].iloc[0]))
    assert list(summ["group"].astype(str)) == list(ref["group"].astype(str))
    np.testing.assert_array_equal(summ["n"], ref["n"])
    np.testing.assert_array_equal(summ["events"], ref["events"])
    assert_close(summ["rmst"], ref["rmean"])
    assert_close(summ["rmst_std_err"], ref["se_rmean"])
    assert_close(summ["median"], ref["median"], tol=0)
    assert_close(summ["median_lower"], ref["median_lower"], tol=0)
    assert_close(summ["median_upper"], ref["median_upper"], tol=0)


def test_log_log_limits_agree_with_lifelines():
    """lifelines' KaplanMeierFitter uses log-log limits too: same numbers to 1e-6."""
    from lifelines import KaplanMeierFitter

    d, kw = load_case("rossi/none/noentry")
    res = _fit("rossi/none/noentry", "log-log")
    kmf = KaplanMeierFitter().fit(d["week"], d["arrest"], alpha=0.05)
    ci = kmf.confidence_interval_survival_function_
    t = res.survival_table
    lo = ci.iloc[:, 0].reindex(t["time"]).to_numpy()
    up = ci.iloc[:, 1].reindex(t["time"]).to_numpy()
    sf = kmf.survival_function_.iloc[:, 0].reindex(t["time"]).to_numpy()
    np.testing.assert_allclose(t["survival"], sf, atol=TOL)
    np.testing.assert_allclose(t["lower"], lo, atol=TOL)
    np.testing.assert_allclose(t["upper"], up, atol=TOL)
    # Rossi's curve never reaches 0.5: lifelines says inf, we say NaN labelled "not reached"
    assert np.isinf(kmf.median_survival_time_)
    assert res.median()["label"].tolist() == ["not reached"]


def test_counts_from_duckdb_equal_counts_from_arrays():
    d, kw = load_case("lateentry/grp/entry")
    con = duckdb.connect()
    con.register("le", d)
    db = counts_from_duckdb(con, "le", "tstop", "event", "grp", "tstart")
    arr = counts_from_frame(d, "tstop", "event", "grp", "tstart")
    pd.testing.assert_frame_equal(db.table, arr.table)
    assert db.groups == arr.groups and db.has_entry
    sql = counts_from_duckdb(con, "SELECT * FROM le WHERE grp <> 'C'", "tstop", "event", "grp")
    assert sql.groups == ["A", "B"] and not sql.has_entry
    rel = counts_from_duckdb(con, con.sql("SELECT * FROM le"), "tstop", "event")
    assert rel.groups == ["all"]
    km_db = KaplanMeier().fit_counts(db).result_.survival_table
    km_arr = KaplanMeier().fit(d, "tstop", "event", "grp", "tstart").result_.survival_table
    pd.testing.assert_frame_equal(km_db, km_arr)


def test_float_and_integer_times_give_same_counts():
    rng = np.random.default_rng(7)
    dur = rng.integers(1, 400, 5000)
    ev = rng.integers(0, 2, 5000)
    grp = rng.choice(["x", "y", "z"], 5000)
    a = counts_from_arrays(dur, ev, grp).table
    b = counts_from_arrays(dur + 0.25, ev, grp).table
    np.testing.assert_array_equal(a["time"] + 0.25, b["time"])
    pd.testing.assert_frame_equal(a, counts_from_arrays(dur.astype(float), ev.astype(float), grp).table)
    pd.testing.assert_frame_equal(a.drop(columns="time"), b.drop(columns="time"))
    assert a["n_event"].sum() == ev.sum() and (a["n_event"] + a["n_censor"]).sum() == 5000


def test_categorical_group_keeps_category_order_and_drops_unused():
    d = pd.DataFrame({"duration": [1, 2, 3, 4], "event": [1, 0, 1, 1],
                      "seg": pd.Categorical(["b", "a", "b", "a"], categories=["b", "zz", "a"])})
    res = KaplanMeier().fit(d, group_col="seg").result_
    assert res.groups == ["b", "a"]
    assert "Kaplan-Meier" in repr(res) and "<table" in res._repr_html_()


def test_at_marks_horizons_beyond_follow_up():
    d = pd.DataFrame({"duration": [5, 10, 20], "event": [1, 0, 1]})
    out = KaplanMeier().fit(d).result_.at([1, 10, 30])
    assert out["beyond_follow_up"].tolist() == [False, False, True]
    assert out["survival"].iloc[0] == 1.0 and np.isnan(out["survival"].iloc[2])
    assert out["n_risk"].tolist() == [3, 2, 0]


def test_median_not_reached_is_nan_with_label():
    d = pd.DataFrame({"duration": [5, 10, 20, 30], "event": [1, 0, 0, 0]})
    med = KaplanMeier().fit(d).result_.median()
    assert np.isnan(med["time"].iloc[0]) and med["label"].iloc[0] == "not reached"
    assert not med["reached"].iloc[0]


def test_confidence_limits_edge_values():
    lo, up = confidence_limits(np.array([0.0, 1.0, 0.5]), np.array([np.inf, 0.0, 0.1]),
                               "log-log", 0.05)
    assert np.isnan(lo[:2]).all() and 0 < lo[2] < 0.5 < up[2] < 1


def test_invalid_rows_are_all_reported(tmp_path):
    d = pd.DataFrame({"id": [10, 11, 12, 13], "duration": [-1, 5, np.nan, 4],
                      "event": [1, 2, 0, 1], "grp": ["a", None, "b", "b"],
                      "entry": [0, 0, 0, 4]})
    with pytest.raises(DataError, match=r"4 problems") as err:
        KaplanMeier().fit(d, group_col="grp", entry_col="entry", id_col="id")
    text = str(err.value)
    assert "column 'duration': durations must be finite and >= 0: 2 rows, e.g. [10, 12]" in text
    assert "column 'event': event must be 0 (censored) or 1 (churned): 1 row, e.g. [11]" in text
    assert "column 'grp': missing group labels: 1 row, e.g. [11]" in text
    assert "column 'entry': entry must be smaller than duration: 2 rows, e.g. [10, 13]" in text


def test_missing_entry_and_missing_column_and_empty():
    d = pd.DataFrame({"duration": [1.0, 2.0], "event": [1, 0], "entry": [np.nan, 0.0]})
    with pytest.raises(DataError, match="column 'entry': missing or infinite entry times: 1 row"):
        KaplanMeier().fit(d, entry_col="entry")
    with pytest.raises(DataError, match="column 'churned': column not found"):
        KaplanMeier().fit(d, event_col="churned")
    with pytest.raises(DataError, match="no rows to fit"):
        KaplanMeier().fit(d.iloc[:0])
    with pytest.raises(DataError, match="event has 1 values but duration has 2"):
        counts_from_arrays([1, 2], [1])


def test_invalid_settings():
    d = pd.DataFrame({"duration": [1.0, 2.0], "event": [1, 0]})
    with pytest.raises(ConfigError, match="conf_type must be one of"):
        KaplanMeier(conf_type="logit").fit(d)
    with pytest.raises(ConfigError, match="alpha must be between 0 and 1"):
        KaplanMeier(alpha=5).fit(d)
    with pytest.raises(ConfigError, match="probs must be between 0 and 1"):
        KaplanMeier().fit(d).result_.quantiles([1.5])


def test_group_without_durations_in_counts_is_rejected():
    c = counts_from_arrays([1, 2], [1, 0], entry=[0, 0])
    empty = c.table.iloc[:0]
    bad = type(c)(pd.concat([c.table, empty]), ["all", "ghost"], True, None)
    with pytest.raises(ModelError, match="group 'ghost' has no customers"):
        KaplanMeier().fit_counts(bad)


def test_duckdb_invalid_rows_are_reported():
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT * FROM (VALUES (1.0, 1, 'a', 0.0), (-2.0, 3, NULL, 5.0))"
                " v(duration, event, grp, entry)")
    with pytest.raises(DataError, match=r"survival data \(DuckDB\): 4 problems") as err:
        counts_from_duckdb(con, "t", group_col="grp", entry_col="entry")
    assert "column 'duration': durations must be finite and >= 0 (example duration values): " \
           "1 row, e.g. [-2.0]" in str(err.value)
    with pytest.raises(DataError, match="no rows to fit"):
        counts_from_duckdb(con, "SELECT * FROM t WHERE false")
