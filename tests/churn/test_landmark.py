import pandas as pd
import pytest

from survchurn.churn.landmark import landmark_table
from survchurn.data.eventlog import read_event_log
from survchurn.exceptions import ChurnDefinitionError


def _log(rows):
    df = pd.DataFrame(rows, columns=["id", "day"])
    df["day"] = pd.to_datetime(df["day"])
    return read_event_log(df, id_col="id", time_col="day")


def test_risk_set_events_and_censoring_by_hand():
    log = _log([
        (1, "2026-01-01"), (1, "2026-03-20"),                      # active at L, lapses after 03-20
        (2, "2025-12-15"),                                         # lapsed before L: not at risk
        (3, "2026-02-01"), (3, "2026-04-10"), (3, "2026-06-01"),   # active, no lapse by as_of
        (4, "2026-05-01"),                                         # entered after L: not at risk
        (5, "2025-12-01"), (5, "2026-04-15"),                      # recency 120 > W at L: not at risk
    ])
    L, as_of = "2026-03-31", "2026-09-30"
    lt = landmark_table(log, L, as_of, window_days=90)
    assert lt["customer_id"].tolist() == [1, 3]
    one = lt.set_index("customer_id")
    # customer 1: lapse at 03-20, known at 06-18 = L + 79 days
    assert one.loc[1, "event"] == 1 and one.loc[1, "duration"] == 79
    # customer 3: last activity 06-01 + 90 = 08-30 <= as_of: lapse known at 08-30 = L + 152
    assert one.loc[3, "event"] == 1 and one.loc[3, "duration"] == 152
    lt2 = landmark_table(log, L, "2026-08-01", window_days=90)
    assert lt2.set_index("customer_id").loc[3, "event"] == 0
    assert lt2.set_index("customer_id").loc[3, "duration"] == 123


def test_no_leakage_risk_set_uses_data_up_to_landmark_only():
    early = _log([(1, "2025-12-15"), (2, "2026-03-01")])
    late = _log([(1, "2025-12-15"), (1, "2026-05-01"), (2, "2026-03-01")])
    a = landmark_table(early, "2026-03-31", "2026-09-30")
    b = landmark_table(late, "2026-03-31", "2026-09-30")
    assert a["customer_id"].tolist() == b["customer_id"].tolist() == [2]


def test_errors():
    log = _log([(1, "2026-01-01")])
    with pytest.raises(ChurnDefinitionError, match="must be before as_of"):
        landmark_table(log, "2026-03-31", "2026-03-01")
    with pytest.raises(ChurnDefinitionError, match="window_days must be a positive"):
        landmark_table(log, "2026-01-31", "2026-03-01", window_days=0)
    with pytest.raises(ChurnDefinitionError, match="features has no column 'id'"):
        landmark_table(log, "2026-01-31", "2026-03-01", features=pd.DataFrame({"x": [1]}), id_col="id")
