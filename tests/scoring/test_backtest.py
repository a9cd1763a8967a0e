import warnings

import pandas as pd
import pytest

from survchurn.churn.definitions import InactivityChurn
from survchurn.churn.survival_table import survival_table
from survchurn.data.eventlog import read_event_log
from survchurn.exceptions import DataError, DataQualityWarning
from survchurn.scoring.backtest import backtest_warnings, compare_quarters


@pytest.fixture()
def st():
    df = pd.DataFrame({"id": ["000001", "000001", "000002", "000003", "000003"],
                       "day": pd.to_datetime(["2026-01-05", "2026-02-01", "2026-01-10", "2026-03-01",
                                              "2026-06-20"])})
    log = read_event_log(df, id_col="id", time_col="day")
    return survival_table(log, InactivityChurn(60), "2026-06-30")


def test_backtest_matches_ids_read_back_from_csv(st):
    # a CSV round trip turned "000001" into 1; spreadsheet-safe export may prefix an apostrophe
    prev = pd.DataFrame({"customer_id": ["000001", "'000002", "000003"], "score": [5, 4, 1],
                         "tier": ["red", "orange", "green"]})
    bt = backtest_warnings(prev, st, cutoff=4).to_frame()
    assert bt.loc["flagged", "customers"] == 2 and bt.loc["flagged", "churned"] == 2
    assert bt.loc["not flagged", "still_active"] == 1 and bt["unknown"].sum() == 0
    assert list(bt.index[2:]) == ["tier red", "tier orange", "tier green"]


def test_backtest_warns_when_ids_do_not_match(st):
    prev = pd.DataFrame({"customer_id": ["x1", "x2"], "score": [5, 5], "tier": ["red", "red"]})
    with pytest.warns(DataQualityWarning, match="2 of 2 previously scored customers are not in the current"):
        backtest_warnings(prev, st, cutoff=4)


def test_previous_run_must_be_earlier(st):
    prev = pd.DataFrame({"customer_id": ["000001"], "score": [5], "tier": ["red"]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(DataError, match="the previous run is as of 2026-09-30, not before"):
            compare_quarters({"as_of": "2026-09-30"}, prev, {"as_of": "2026-06-30"}, None, st)
