"""Fuzz: malformed event logs give only SurvchurnErrors, and nothing is lost when they pass."""

from __future__ import annotations

import warnings

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from survchurn.churn.definitions import InactivityChurn, PartialChurn
from survchurn.churn.features import features
from survchurn.churn.survival_table import survival_table
from survchurn.data.eventlog import read_event_log
from survchurn.exceptions import SurvchurnError

ids = st.one_of(st.none(), st.integers(-3, 5), st.sampled_from(["a", "b", "", "1"]),
                st.floats(allow_nan=True, allow_infinity=True))
times = st.one_of(st.none(), st.sampled_from(["2020-01-01", "2020-02-30", "garbage", "", "2021-12-31 23:59:59",
                                              "1970-01-01", "2020-06-15T10:00:00"]),
                  st.datetimes(min_value=pd.Timestamp("1990-01-01").to_pydatetime(),
                               max_value=pd.Timestamp("2030-01-01").to_pydatetime()),
                  st.integers(0, 10**9))
amounts = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True), st.integers(-5, 5),
                    st.sampled_from(["1.5", "x", ""]))
rows = st.lists(st.tuples(ids, times, amounts), min_size=0, max_size=12)
col_names = st.sampled_from([("cid", "t", "amt"), ("cid", "time", "amt"), ("cid", "t", "cid")])


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=rows, names=col_names, w=st.integers(1, 400), as_of=st.sampled_from(["2020-03-01", "2031-01-01"]),
       partial=st.booleans())
def test_malformed_logs_raise_only_survchurn_errors(rows, names, w, as_of, partial):
    frame = pd.DataFrame(rows, columns=list(names)) if rows else pd.DataFrame({n: [] for n in names})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            log = read_event_log(frame, id_col="cid", time_col="t", amount_col="amt")
            definition = PartialChurn(w) if partial else InactivityChurn(w)
            table = survival_table(log, definition, as_of, horizon_days=30)
            feats = features(log, as_of)
        except SurvchurnError:
            return
    # nothing lost: every customer is in the table or in the rejected list, once
    assert log.n_customers_in == table.n_customers_in == len(table.table) + len(table.rejected)
    assert not set(table.table["customer_id"]) & set(table.rejected["customer_id"])
    assert len(feats.table) == len(table.table)
