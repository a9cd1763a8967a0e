"""Purchase cycle and roll-rate analysis: values on toy logs, CDNOW sanity, plots, errors."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from survchurn.churn.window import purchase_cycle, roll_rate, round_up_to_period
from survchurn.data.cdnow import load_cdnow
from survchurn.data.eventlog import read_event_log
from survchurn.data.validate import read_customer_table
from survchurn.exceptions import ChurnDefinitionError, DataQualityWarning
from survchurn.plotting.churn import plot_purchase_cycle, plot_roll_rate


def _log(rows):
    frame = pd.DataFrame(rows, columns=["cid", "t"]).assign(t=lambda f: pd.to_datetime(f["t"]))
    return read_event_log(frame, id_col="cid", time_col="t")


def test_purchase_cycle_quantiles_and_segments():
    # customer 1: gaps 10, 20 (a repeat on the same day is one visit); customer 2: gap 30
    log = _log([(1, "2020-01-01"), (1, "2020-01-11"), (1, "2020-01-11"), (1, "2020-01-31"),
                (2, "2020-01-01"), (2, "2020-01-31"), (3, "2020-01-05")])
    pc = purchase_cycle(log)
    row = pc.table.iloc[0]
    assert (row["n_customers"], row["n_intervals"], row["mean"], row["p50"]) == (2, 3, 20.0, 20.0)
    assert pc.histogram["n_intervals"].sum() == 3
    cust = read_customer_table(pd.DataFrame({"cid": [1, 2], "seg": ["x", "y"]}), id_col="cid")
    by = purchase_cycle(log, segment_col="seg", customers=cust).table.set_index("segment")
    assert by.loc["x", "p50"] == 15.0 and by.loc["y", "n_intervals"] == 1
    ax = plot_purchase_cycle(purchase_cycle(log, segment_col="seg", customers=cust))
    assert len(ax.lines) >= 2
    plt.close("all")


def test_roll_rate_counts_spells():
    # spells (days): c1: 10 closed, 40 closed, open 30 (to as_of 03-31 from 03-01);
    # c2: 70 closed, open 0;  c3: open 86
    log = _log([(1, "2020-01-01"), (1, "2020-01-11"), (1, "2020-02-20"), (1, "2020-03-01"),
                (2, "2020-01-01"), (2, "2020-03-11"), (3, "2020-01-05")])
    w = roll_rate(log, "2020-03-31", period_days=30, max_periods=3, threshold=0.5)
    t = w.table.set_index("periods")
    # >= 30 days: 40 closed, 30 open, 70 closed, 86 open -> 4 spells, 2 returned
    assert t.loc[1, "inactive"] == 4 and t.loc[1, "returned"] == 2
    # >= 60 days: 70c, 86o -> 1 of 2; >= 90: none
    assert (t.loc[2, "inactive"], t.loc[2, "returned"]) == (2, 1) and t.loc[3, "inactive"] == 0
    assert w.recommended_window_days == 30  # 2 of 4 came back: 50% <= threshold
    assert "recommended W" in repr(w)


def test_roll_rate_recommends_and_warns():
    rng = np.random.default_rng(7)
    rows = []
    for c in range(200):
        day = pd.Timestamp("2020-01-01")
        for _ in range(int(rng.integers(2, 6))):
            rows.append((c, day))
            day += pd.Timedelta(days=int(rng.integers(5, 40)))  # nobody silent > 40 days then back
    log = _log(rows)
    w = roll_rate(log, "2021-06-30", period_days=15, max_periods=6)
    assert w.recommended_window_days == 45  # first step with return share 0
    ax = plot_roll_rate(w)
    assert ax.get_xlabel() == "days without activity"
    plt.close("all")
    with pytest.warns(DataQualityWarning, match="no W recommended"):
        w = roll_rate(log, "2021-06-30", period_days=1, max_periods=3)
    assert w.recommended_window_days is None


def test_cdnow_roll_rate_decreases():
    log = read_event_log(load_cdnow(), id_col="customer_id", time_col="date")
    with pytest.warns(DataQualityWarning):
        w = roll_rate(log, "1998-06-30", period_days=30, max_periods=12)
    share = w.table["return_share"].to_numpy()
    assert np.all(np.diff(share) < 0) and 0.3 < share[2] < 0.4  # 90 days: about 36% come back
    assert w.purchase_cycle.table["p50"].iloc[0] == 34.0


def test_window_errors():
    log = _log([(1, "2020-01-01")])
    with pytest.raises(ChurnDefinitionError, match="period_days must be a positive whole number"):
        roll_rate(log, "2020-02-01", period_days=0)
    with pytest.raises(ChurnDefinitionError, match=r"threshold must be a share in \(0, 1\)"):
        roll_rate(log, "2020-02-01", threshold=5)
    with pytest.raises(ChurnDefinitionError, match="segment_col 'seg' is not a column of the customer table"):
        purchase_cycle(log, segment_col="seg")
    with pytest.raises(ChurnDefinitionError, match="quantiles must lie strictly between 0 and 1"):
        purchase_cycle(log, quantiles=[50])
    with pytest.warns(DataQualityWarning, match="no customer has two distinct event times"):
        purchase_cycle(log)
    with pytest.raises(ChurnDefinitionError, match="plot_roll_rate takes a WindowChoice"):
        plot_roll_rate(None)
    assert round_up_to_period(61, 30) == 90
