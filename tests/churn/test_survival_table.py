"""Survival table: CDNOW acceptance against plain pandas, conventions, horizon, nothing lost."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from survchurn.churn.definitions import ContractualChurn, InactivityChurn, PartialChurn
from survchurn.churn.survival_table import survival_table
from survchurn.data.cdnow import load_cdnow
from survchurn.data.eventlog import read_event_log
from survchurn.data.validate import read_customer_table
from survchurn.exceptions import ChurnDefinitionError, DataError, DataQualityWarning

AS_OF = pd.Timestamp("1998-06-30")
W = 90


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return load_cdnow()


@pytest.fixture(scope="module")
def cdnow_log(cdnow):
    return read_event_log(cdnow, id_col="customer_id", time_col="date", amount_col="amount")


def _pandas_last_lapse(df: pd.DataFrame, as_of: pd.Timestamp, w: int) -> pd.DataFrame:
    """Independent plain-pandas computation (daily dates): churned iff last + W <= as_of."""
    seen = df[df["date"] <= as_of]
    g = seen.groupby("customer_id")["date"].agg(first="min", last="max")
    g["event"] = (g["last"] + pd.Timedelta(days=w) <= as_of).astype(int)
    g["duration"] = (g["last"] - g["first"]).dt.days.astype(float)
    return g


def _pandas_first_lapse(df: pd.DataFrame, as_of: pd.Timestamp, w: int) -> pd.DataFrame:
    seen = df[df["date"] <= as_of].sort_values(["customer_id", "date"])
    nxt = seen.groupby("customer_id")["date"].shift(-1)
    gap = (nxt - seen["date"]).dt.days
    lapse = (gap > w) | (nxt.isna() & (seen["date"] + pd.Timedelta(days=w) <= as_of))
    churn = seen["date"].where(lapse).groupby(seen["customer_id"]).min()
    g = seen.groupby("customer_id")["date"].agg(first="min", last="max")
    g["event"] = churn.notna().astype(int)
    g["duration"] = (churn.fillna(g["last"]) - g["first"]).dt.days.astype(float)
    return g


@pytest.mark.parametrize("lapse, reference", [("last", _pandas_last_lapse), ("first", _pandas_first_lapse)])
def test_cdnow_counts_and_durations_equal_plain_pandas(cdnow, cdnow_log, lapse, reference):
    st = survival_table(cdnow_log, InactivityChurn(W, lapse=lapse), AS_OF)
    ref = reference(cdnow, AS_OF, W)
    t = st.table.set_index("customer_id")
    # counts: exact
    assert len(t) == len(ref) == 23_570
    assert int(t["event"].sum()) == int(ref["event"].sum())
    assert int((t["event"] == 0).sum()) == int((ref["event"] == 0).sum())
    assert len(st.rejected) == 0 and st.n_customers_in == cdnow_log.n_customers_in == 23_570
    # a sample of durations (and every one, since it is cheap): exact
    rng = np.random.default_rng(3)
    sample = rng.choice(ref.index.to_numpy(), size=500, replace=False)
    assert t.loc[sample, "duration"].tolist() == ref.loc[sample, "duration"].tolist()
    assert t["duration"].equals(ref["duration"].rename("duration"))
    assert t["event"].tolist() == ref["event"].tolist()


def test_cdnow_last_lapse_known_numbers(cdnow_log):
    st = survival_table(cdnow_log, InactivityChurn(W), AS_OF)
    assert (len(st.table), st.n_churned) == (23_570, 20_269)
    assert "W = 90 days" in repr(st) and "<table" in st._repr_html_()
    row = st.table.set_index("customer_id").loc[3]  # bought 1997-01-02 .. 1998-05-28: active
    assert (row["event"], row["duration"], row["censor_reason"]) == (0, 511.0, "active at as_of")


def _toy() -> pd.DataFrame:
    return pd.DataFrame({
        "cid": ["a", "a", "a", "b", "c", "c", "d"],
        "ts": pd.to_datetime(["2020-01-01", "2020-01-20", "2020-06-01", "2020-01-10",
                              "2020-03-01", "2020-03-05", "2020-08-01"]),
        "amt": [10.0, 20.0, 5.0, 7.0, 1.0, 1.0, 3.0],
    })


def test_toy_conventions_and_boundary():
    log = read_event_log(_toy(), id_col="cid", time_col="ts", amount_col="amt")
    # b: last 2020-01-10, W=30 -> churn observable on 2020-02-09 exactly (inclusive)
    st = survival_table(log, InactivityChurn(30), "2020-02-09").table.set_index("customer_id")
    assert st.loc["b", "event"] == 1 and st.loc["b", "churn_date"] == pd.Timestamp("2020-01-10")
    st = survival_table(log, InactivityChurn(30), "2020-02-08").table.set_index("customer_id")
    assert st.loc["b", "event"] == 0 and st.loc["b", "duration"] == 0.0  # censored at last activity
    first = survival_table(log, InactivityChurn(30, lapse="first"), "2020-07-01").table.set_index("customer_id")
    assert first.loc["a", "churn_date"] == pd.Timestamp("2020-01-20") and bool(first.loc["a", "returned"])
    assert first.loc["a", "duration"] == 19.0


def test_events_after_as_of_and_nothing_lost():
    log = read_event_log(_toy(), id_col="cid", time_col="ts")
    st = survival_table(log, InactivityChurn(30), "2020-07-01")
    assert st.rejected.set_index("customer_id").loc["d", "reason"] == "first event after as_of"
    assert log.n_customers_in == st.n_customers_in == len(st.table) + len(st.rejected) == 4


def test_log_read_with_as_of_keeps_the_count():
    log = read_event_log(_toy(), id_col="cid", time_col="ts", as_of="2020-07-01")
    st = survival_table(log, InactivityChurn(30), "2020-07-01")
    # d only has an event after as_of: left out when reading, so not a customer of this log
    assert log.n_after_as_of == 1
    assert log.n_customers_in == st.n_customers_in == len(st.table) + len(st.rejected) == 3


def test_horizon_label_marks_unobservable():
    log = read_event_log(_toy(), id_col="cid", time_col="ts")
    st = survival_table(log, InactivityChurn(30), "2020-03-10", horizon_days=30).table.set_index("customer_id")
    # c: last 2020-03-05, no activity till the data end (2020-08-01) -> churn recognised 04-04
    assert st.loc["c", "churn_within_h"] == 1 and st.loc["c", "horizon_status"] == "observed"
    assert st.loc["b", "horizon_status"] == "not at risk at as_of" and pd.isna(st.loc["b", "churn_within_h"])
    kw = {"horizon_days": 30}
    ok = survival_table(log, InactivityChurn(30), "2020-06-15", **kw).table.set_index("customer_id")
    assert ok.loc["a", "churn_within_h"] == 1  # last 06-01, lapse recognised 07-01
    late = survival_table(log, InactivityChurn(30), "2020-06-15", observed_until="2020-06-20", **kw)
    t = late.table.set_index("customer_id")
    # data said to end 06-20 < 06-15 + 30: a is at risk, its label unknown, and it is not dropped
    assert not t.loc["a", "horizon_observable"] and pd.isna(t.loc["a", "churn_within_h"])
    assert t.loc["a", "horizon_status"] == "not observable: data end before as_of + 30 days"


def test_window_start_late_entry():
    log = read_event_log(_toy(), id_col="cid", time_col="ts")
    st = survival_table(log, InactivityChurn(30), "2020-09-30", window_start="2020-02-01")
    t = st.table.set_index("customer_id")
    assert t.loc["a", "entry"] == 31.0 and t.loc["c", "entry"] == 0.0
    assert st.rejected.set_index("customer_id").loc["b", "reason"].startswith("no events in the data window")
    assert st.n_customers_in == len(st.table) + len(st.rejected)


def test_partial_churn_toy():
    frame = pd.DataFrame({"cid": [1] * 6, "ts": pd.to_datetime(
        ["2020-01-01", "2020-01-02", "2020-01-03", "2020-01-04", "2020-01-12", "2020-01-25"])})
    log = read_event_log(frame, id_col="cid", time_col="ts")
    # 10-day periods from 01-01: counts 4, 1, 1 -> period 1 (1 < 0.5*4) is low: churn at day 10
    t = survival_table(log, PartialChurn(10, 0.5), "2020-01-31").table.iloc[0]
    assert (t["event"], t["duration"], t["churn_date"]) == (1, 10.0, pd.Timestamp("2020-01-11"))
    t = survival_table(log, PartialChurn(10, 0.2), "2020-01-31").table.iloc[0]
    assert (t["event"], t["duration"]) == (0, 30.0)  # 3 complete periods, none low


def test_contractual_churn_voluntary_and_involuntary():
    log = read_event_log(_toy(), id_col="cid", time_col="ts")
    cust = read_customer_table(pd.DataFrame({
        "cid": ["a", "b", "c", "e"],
        "start": ["2019-12-01", "2020-01-01", "2020-02-01", "2020-01-01"],
        "end": ["2020-05-01", "2020-03-01", None, None],
        "why": ["price", "fraud", None, None]}), id_col="cid", date_cols=["start", "end"])
    d = ContractualChurn("end", "why", involuntary_reasons=("fraud",), start_col="start")
    st = survival_table(log, d, "2020-06-30", customers=cust)
    t = st.table.set_index("customer_id")
    assert (t.loc["a", "event"], t.loc["a", "duration"]) == (1, 152.0)
    assert t.loc["b", "event"] == 0 and t.loc["b", "censor_reason"] == "involuntary end: fraud"
    assert t.loc["c", "event"] == 0 and t.loc["c", "duration"] == (pd.Timestamp("2020-06-30") - pd.Timestamp("2020-02-01")).days
    assert t.loc["e", "n_events"] == 0
    reasons = st.rejected.set_index("customer_id")["reason"]
    assert reasons["d"] == "events but not in the customer table"
    assert st.n_customers_in == len(st.table) + len(st.rejected) == 5


def test_customers_only_in_attribute_table_are_rejected():
    log = read_event_log(_toy(), id_col="cid", time_col="ts")
    cust = read_customer_table(pd.DataFrame({"cid": ["a", "zz"]}), id_col="cid")
    with pytest.warns(DataQualityWarning, match=r"have events but no row in the customer table"):
        st = survival_table(log, InactivityChurn(30), "2020-12-31", customers=cust)
    assert st.rejected.set_index("customer_id").loc["zz", "reason"] == "in the customer table but no events"
    assert st.n_customers_in == len(st.table) + len(st.rejected) == 5


def test_errors():
    log = read_event_log(_toy(), id_col="cid", time_col="ts")
    with pytest.raises(ChurnDefinitionError, match="as_of is required"):
        survival_table(log, InactivityChurn(30), None)
    with pytest.raises(ChurnDefinitionError, match="is not a date"):
        survival_table(log, InactivityChurn(30), "yesterday-ish")
    with pytest.raises(ChurnDefinitionError, match="definition must be a churn definition"):
        survival_table(log, 30, "2020-01-01")
    with pytest.raises(DataError, match="survival_table needs an EventLog"):
        survival_table(_toy(), InactivityChurn(30), "2020-01-01")
    with pytest.raises(ChurnDefinitionError, match="horizon_days must be a positive"):
        survival_table(log, InactivityChurn(30), "2020-01-01", horizon_days=0)
    with pytest.raises(ChurnDefinitionError, match="needs customers="):
        survival_table(log, ContractualChurn("end"), "2020-01-01")
    with pytest.raises(ChurnDefinitionError, match="window_start .* is after as_of"):
        survival_table(log, InactivityChurn(30), "2020-01-01", window_start="2020-02-01")
    with pytest.raises(ChurnDefinitionError, match="measure='amount'"):
        survival_table(log, PartialChurn(10, measure="amount"), "2020-01-01")
    cut = read_event_log(_toy(), id_col="cid", time_col="ts", as_of="2020-03-01")
    with pytest.raises(ChurnDefinitionError, match="later than the cut-off the log was read with"):
        survival_table(cut, InactivityChurn(30), "2020-04-01")
    cust = read_customer_table(pd.DataFrame({"cid": ["a"], "end": ["2020-01-01"]}), id_col="cid")
    with pytest.raises(ChurnDefinitionError, match="is not a date column"):
        survival_table(log, ContractualChurn("end"), "2020-01-01", customers=cust)
    with pytest.raises(ChurnDefinitionError, match=r"columns \['nope'\] are not in the customer table"):
        survival_table(log, ContractualChurn("nope"), "2020-01-01", customers=cust)
