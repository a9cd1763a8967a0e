"""Point-in-time features: values against plain pandas, leakage, panel, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from survchurn.churn.definitions import InactivityChurn
from survchurn.churn.features import feature_panel, features
from survchurn.churn.survival_table import survival_table
from survchurn.data.cdnow import load_cdnow
from survchurn.data.eventlog import read_event_log
from survchurn.data.validate import read_customer_table
from survchurn.exceptions import ChurnDefinitionError, DataQualityWarning

D = pd.Timestamp("1997-12-31")


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return load_cdnow()


def _log(frame, **kw):
    return read_event_log(frame, id_col="customer_id", time_col="date", amount_col="amount", **kw)


def test_features_equal_plain_pandas(cdnow):
    f = features(_log(cdnow), D, period_days=90).table.set_index("customer_id")
    seen = cdnow[cdnow["date"] <= D]
    g = seen.groupby("customer_id")
    assert f.index.tolist() == sorted(seen["customer_id"].unique())
    # counts and day differences are exact; float sums to 1e-9 (summation order differs)
    assert (f["frequency"] == g.size()).all()
    assert (f["recency_days"] == (D - g["date"].max()).dt.days).all()
    assert (f["tenure_days"] == (D - g["date"].min()).dt.days).all()
    np.testing.assert_allclose(f["monetary_total"], g["amount"].sum(), rtol=1e-9)
    last = seen[seen["date"] > D - pd.Timedelta(days=90)].groupby("customer_id").size()
    assert (f["n_last_period"] == last.reindex(f.index, fill_value=0)).all()
    days = seen.drop_duplicates(["customer_id", "date"])
    gaps = days.groupby("customer_id")["date"].diff().dt.days
    std = gaps.groupby(days["customer_id"]).std()
    np.testing.assert_allclose(f["ipt_std_days"], std.reindex(f.index), rtol=1e-9)
    mean = gaps.groupby(days["customer_id"]).mean()
    np.testing.assert_allclose(f["ipt_mean_days"], mean.reindex(f.index), rtol=1e-9)


def test_no_leakage_features_and_labels(cdnow):
    """Features and labels as of D are identical with or without the events after D."""
    full, cut = _log(cdnow), _log(cdnow[cdnow["date"] <= D])
    pd.testing.assert_frame_equal(features(full, D).table, features(cut, D).table)
    pd.testing.assert_frame_equal(
        survival_table(full, InactivityChurn(90), D).table, survival_table(cut, InactivityChurn(90), D).table)
    first = InactivityChurn(90, lapse="first")
    pd.testing.assert_frame_equal(survival_table(full, first, D).table, survival_table(cut, first, D).table)
    # a log read with as_of=D gives the same again
    pd.testing.assert_frame_equal(features(_log(cdnow, as_of=D), D).table, features(cut, D).table)


def test_behaviour_break_and_trend_rule():
    frame = pd.DataFrame({"customer_id": [1, 1, 1, 1, 2, 2, 2, 2],
                          "date": pd.to_datetime(["2020-01-01", "2020-01-11", "2020-01-21", "2020-01-31",
                                                  "2020-01-05", "2020-01-06", "2020-01-25", "2020-02-25"]),
                          "amount": 1.0})
    f = features(_log(frame), "2020-03-10", period_days=30).table.set_index("customer_id")
    # 1: 3 events in the previous period, none in the last -> break (also silent 39 d > 10 + 2 * 0)
    # 2: one event in each period (trend 1) and silent 14 d < mean 17 + 2 * std -> no break
    assert f.loc[1, "behaviour_break"] == 1 and f.loc[2, "behaviour_break"] == 0
    assert (f.loc[1, "trend_ratio"], f.loc[2, "trend_ratio"]) == (0.0, 1.0)
    f = features(_log(frame), "2020-01-06", period_days=30).table.set_index("customer_id")
    assert np.isnan(f.loc[2, "trend_ratio"])  # previous period empty


def test_category_breadth_attributes_and_panel():
    frame = pd.DataFrame({"cid": [1, 1, 1, 2], "t": pd.to_datetime(["2020-01-01", "2020-01-02", "2020-02-01", "2020-01-05"]),
                          "cat": ["a", "b", "a", "c"]})
    log = read_event_log(frame, id_col="cid", time_col="t", category_col="cat")
    cust = read_customer_table(pd.DataFrame({"cid": [1], "region": ["north"]}), id_col="cid")
    with pytest.warns(DataQualityWarning, match="have events but no row in the customer table"):
        f = features(log, "2020-03-01", customers=cust).table.set_index("customer_id")
    assert f.loc[1, "category_breadth"] == 2 and f.loc[1, "region"] == "north" and pd.isna(f.loc[2, "region"])
    panel = feature_panel(log, ["2020-01-03", "2020-03-01"], period_days=30).table
    assert panel.groupby("as_of")["frequency"].sum().tolist() == [2, 4]
    assert "as_of" in repr(features(log, "2020-03-01"))


def test_feature_errors():
    frame = pd.DataFrame({"customer_id": [1], "date": pd.to_datetime(["2020-01-01"]), "amount": [1.0]})
    log = _log(frame)
    with pytest.raises(ChurnDefinitionError, match="period_days must be a positive"):
        features(log, "2020-02-01", period_days=0)
    with pytest.raises(ChurnDefinitionError, match="as_of_dates is empty"):
        feature_panel(log, [])
    with pytest.raises(ChurnDefinitionError, match="later than the cut-off"):
        features(_log(frame, as_of="2020-01-10"), "2020-02-01")
    cust = read_customer_table(pd.DataFrame({"customer_id": [1], "frequency": [3]}), id_col="customer_id")
    with pytest.raises(ChurnDefinitionError, match="clash with feature names"):
        features(log, "2020-02-01", customers=cust)
    with pytest.raises(ChurnDefinitionError, match="must be a CustomerTable"):
        features(log, "2020-02-01", customers=frame)


def test_category_breadth_many_categories_uses_pair_count():
    rng = np.random.default_rng(11)
    frame = pd.DataFrame({"cid": rng.integers(0, 30, 2000),
                          "t": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 300, 2000), unit="D"),
                          "cat": rng.integers(0, 100, 2000).astype(str)})
    log = read_event_log(frame, id_col="cid", time_col="t", category_col="cat")
    f = features(log, "2020-12-31").table.set_index("customer_id")["category_breadth"]
    ref = frame.groupby("cid")["cat"].nunique()
    assert f.tolist() == ref.loc[f.index].tolist()
    few = read_event_log(frame.assign(cat=frame["cat"].str[:1]), id_col="cid", time_col="t", category_col="cat")
    f = features(few, "2020-12-31").table.set_index("customer_id")["category_breadth"]
    assert f.tolist() == frame.assign(c=frame["cat"].str[:1]).groupby("cid")["c"].nunique().loc[f.index].tolist()


def _sql_only(monkeypatch):
    """Force the portable SQL (window + GROUP BY) instead of the one-sort numpy summary."""
    import importlib

    for mod in ("survchurn.churn.features", "survchurn.churn.survival_table"):
        monkeypatch.setattr(importlib.import_module(mod), "event_summary", lambda *a: None)


def test_gaps_skip_same_time_repeats_and_paths_agree(monkeypatch):
    """Gaps are between distinct event times: same-day repeats are one visit."""
    days = pd.to_datetime("2020-01-01") + pd.to_timedelta([0, 0, 2, 5, 5, 9, 0, 0, 3], unit="D")
    frame = pd.DataFrame({"customer_id": [1, 1, 1, 1, 1, 1, 2, 2, 3], "date": days, "amount": 1.0})
    f = features(_log(frame), "2020-02-01").table.set_index("customer_id")
    # customer 1: distinct days 0, 2, 5, 9 -> gaps 2, 3, 4: mean 3, sample std 1
    assert f.loc[1, "ipt_mean_days"] == 3.0 and f.loc[1, "ipt_std_days"] == 1.0
    assert f.loc[1, "frequency"] == 6
    assert np.isnan(f.loc[2, "ipt_mean_days"]) and np.isnan(f.loc[3, "ipt_std_days"])
    # spans over ~48 years take the Python-integer branch of the exact variance
    old = pd.DataFrame({"customer_id": 9, "date": pd.to_datetime(["1950-03-01", "1990-07-15", "2010-01-02"]),
                        "amount": 1.0})
    g = old["date"].diff().dt.total_seconds() / 86400
    f = features(_log(old), "2020-01-01").table
    assert f.loc[0, "ipt_std_days"] == pytest.approx(g.std(), rel=1e-12)
    rng = np.random.default_rng(5)
    n = 3000
    # whole seconds with many exact repeats (numpy path) vs the same through the SQL window
    t = pd.Timestamp("2019-06-01") + pd.to_timedelta(rng.integers(0, 400, n) * 86400
                                                     + rng.choice([0, 3600, 3601], n), unit="s")
    rand = pd.DataFrame({"customer_id": rng.integers(0, 200, n) * 7 - 300, "date": t,
                         "amount": rng.gamma(2.0, 10.0, n).round(2)})
    fast = features(_log(rand), "2020-03-31", period_days=60).table
    st_fast = survival_table(_log(rand), InactivityChurn(60), "2020-03-31").table
    with monkeypatch.context() as mp:
        _sql_only(mp)
        slow = features(_log(rand), "2020-03-31", period_days=60).table
        st_slow = survival_table(_log(rand), InactivityChurn(60), "2020-03-31").table
    # counts and times exact; float sums and std to 1e-12 (summation order and the exact
    # integer variance of the numpy path differ from DuckDB's streaming STDDEV_SAMP in the last bits)
    pd.testing.assert_frame_equal(fast, slow, check_exact=False, rtol=1e-12)
    pd.testing.assert_frame_equal(st_fast, st_slow)
    small = rand.assign(customer_id=rand["customer_id"].astype("int16"))  # id dtype kept
    st_fast = survival_table(_log(small), InactivityChurn(60), "2020-03-31").table
    with monkeypatch.context() as mp:
        _sql_only(mp)
        st_slow = survival_table(_log(small), InactivityChurn(60), "2020-03-31").table
    pd.testing.assert_frame_equal(st_fast, st_slow)


def test_summary_falls_back_for_text_ids_and_subsecond_times():
    import importlib

    sql = importlib.import_module("survchurn.churn._sql")
    t = pd.to_datetime(["2020-01-01 10:00:00", "2020-01-03 10:00:00.5", "2020-01-04"], format="ISO8601")
    sub = _log(pd.DataFrame({"customer_id": [1, 1, 1], "date": t, "amount": 1.0}))
    assert sql.event_summary(sub, pd.Timestamp("2020-02-01")) is None
    f = features(sub, "2020-02-01").table
    assert f.loc[0, "ipt_mean_days"] == pytest.approx((3 - 10 / 24) / 2)  # (Jan 4 - Jan 1 10:00) / 2 gaps
    text = _log(pd.DataFrame({"customer_id": ["a", "a"], "date": t[:2], "amount": 1.0}))
    assert sql.event_summary(text, pd.Timestamp("2020-02-01")) is None
    whole = _log(pd.DataFrame({"customer_id": [1, 1], "date": t[[0, 2]], "amount": 1.0}))
    s = sql.event_summary(whole, pd.Timestamp("2020-02-01"))
    assert s["n_events"].tolist() == [2] and s["n_gaps"].tolist() == [1]
    assert s["last_activity"].iloc[0] == pd.Timestamp("2020-01-04")


def test_category_breadth_integer_codes():
    """Integer category codes: bits from the code when they span < 63 values, else a table
    or the distinct-pairs count; all agree with pandas."""
    rng = np.random.default_rng(12)
    n = 1500
    frame = pd.DataFrame({"cid": rng.integers(0, 40, n),
                          "t": pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 200, n), unit="D")})
    for codes in (rng.integers(-5, 57, n), rng.integers(0, 20, n) * 1000, rng.integers(0, 90, n)):
        frame["cat"] = pd.array(codes, dtype="Int64")
        frame.loc[frame.index[::17], "cat"] = pd.NA
        log = read_event_log(frame, id_col="cid", time_col="t", category_col="cat")
        f = features(log, "2021-12-31").table.set_index("customer_id")["category_breadth"]
        ref = frame.groupby("cid")["cat"].nunique()
        assert f.tolist() == ref.loc[f.index].tolist()


def test_numpy_sums_agree_with_group_by(monkeypatch):
    """Money, period and category sums from event_sums (numpy) equal the DuckDB GROUP BY:
    amounts in whole cents (added exactly as integers), amounts with more decimals (floats in
    scan order), integer categories with NULLs, and sparse ids (falls back to the GROUP BY)."""
    import importlib

    feat = importlib.import_module("survchurn.churn.features")
    sql = importlib.import_module("survchurn.churn._sql")
    rng = np.random.default_rng(21)
    n = 4000
    t = pd.Timestamp("2019-06-01") + pd.to_timedelta(rng.integers(0, 400 * 86400, n), unit="s")
    cat = pd.array(rng.integers(3, 15, n), dtype="Int64")
    cat[::13] = pd.NA
    base = pd.DataFrame({"customer_id": rng.integers(0, 300, n), "date": t, "cat": cat})
    for amount in (rng.gamma(2.0, 10.0, n).round(2), rng.gamma(2.0, 10.0, n)):
        log = _log(base.assign(amount=amount), category_col="cat")
        fast = features(log, "2020-03-31", period_days=45).table
        with monkeypatch.context() as mp:
            mp.setattr(feat, "event_sums", lambda *a: None)
            slow = features(_log(base.assign(amount=amount), category_col="cat"), "2020-03-31", period_days=45).table
        # counts exact; float sums to 1e-12 (DuckDB adds in another order)
        pd.testing.assert_frame_equal(fast, slow, check_exact=False, rtol=1e-12)
    # cents are added exactly: ten payments of 0.10 make exactly 1.00
    tens = pd.DataFrame({"customer_id": 1, "date": pd.Timestamp("2020-01-01") + pd.to_timedelta(range(10), unit="D"),
                         "amount": 0.1})
    assert features(_log(tens), "2020-02-01").table.loc[0, "monetary_total"] == 1.0
    # ids spread over far more values than customers: event_sums declines, the GROUP BY answers
    sparse = tens.assign(customer_id=[1, 10**9] * 5)
    log = _log(sparse)
    summ = sql.event_summary(log, pd.Timestamp("2020-02-01 23:59:59.999999"))
    assert sql.event_sums(log, pd.Timestamp("2020-02-01"), pd.Timestamp("2020-01-01"), pd.Timestamp("2019-12-01"),
                          summ["customer_id"].to_numpy(), None) is None
    assert features(log, "2020-02-01").table["frequency"].tolist() == [5, 5]
