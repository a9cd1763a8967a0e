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
