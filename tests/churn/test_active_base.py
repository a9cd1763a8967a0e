import pandas as pd
import pytest

from survchurn.churn.active_base import active_base_churn
from survchurn.data.eventlog import read_event_log
from survchurn.exceptions import ChurnDefinitionError


def _log(rows):
    df = pd.DataFrame(rows, columns=["id", "day"])
    df["day"] = pd.to_datetime(df["day"])
    return read_event_log(df, id_col="id", time_col="day")


def test_active_base_by_hand():
    log = _log([
        (1, "2025-12-01"), (1, "2026-02-10"),   # active at 04-01? 02-10 > 01-01: yes; lost by 06-30
        (2, "2026-03-20"), (2, "2026-05-01"),   # active at 04-01, still active at 06-30
        (3, "2025-11-01"),                      # not active at 04-01 (last visit > 90 days before)
        (4, "2026-04-15"),                      # new in the quarter: not in the base
    ])
    t = active_base_churn(log, "2026-06-30", window_days=90).table
    q2 = t.set_index("period").loc["2026Q2"]
    assert (q2["active_at_start"], q2["lost"]) == (2, 1)
    assert q2["churn_rate"] == 0.5
    # the first period starts at least W days after the first event (a full active base)
    assert t["period_start"].min() >= pd.Timestamp("2025-11-01") + pd.Timedelta(days=90)


def test_periods_need_w_days_of_history():
    log = _log([(1, "2026-01-01"), (1, "2026-02-01")])
    assert active_base_churn(log, "2026-03-31", window_days=90).table.empty
    with pytest.raises(ChurnDefinitionError, match="no period starts at least W = 90 days"):
        active_base_churn(log, "2026-02-15", window_days=90)
    with pytest.raises(ChurnDefinitionError, match="window_days must be a positive"):
        active_base_churn(log, "2026-03-31", window_days=0)
