"""Landmark survival table: who is active at a date, and how long until they lapse after it.

Behaviour features (recency, frequency, trend...) change over time, so a Cox model of "what
drives churn" must measure them at one moment and follow customers only *after* it: a landmark
analysis (Anderson, Cain and Gelber 1983; van Houwelingen 2007). Features come from data up to
the landmark ``L``; the outcome is the time from ``L`` on.

* at risk at ``L``: customers with an activity in ``(L - W, L]``, decided from data up to ``L``
  only (choosing the risk set with later data, e.g. "came back after a lapse", would select on
  the future and bias every coefficient);
* event: the first lapse after ``L``: the first activity ``c`` from the last one before ``L`` on
  that is followed by no activity within W days; the churn is *known* at ``c + W``, and the
  event time is ``c + W - L`` (> 0), the recognition clock;
* censoring: no lapse observable by ``as_of``; followed until ``as_of``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from survchurn.churn._sql import DAY, epoch, require_log, ts
from survchurn.data.eventlog import EventLog, as_timestamp, end_of_day
from survchurn.exceptions import ChurnDefinitionError

__all__ = ["landmark_table"]


def landmark_table(log: EventLog, landmark: Any, as_of: Any, *, window_days: int = 90,
                   features: pd.DataFrame | None = None, id_col: str = "customer_id") -> pd.DataFrame:
    """Customers active at ``landmark`` with their time to the first lapse after it.

    Parameters
    ----------
    log : EventLog
    landmark : date-like
        The landmark date ``L``.
    as_of : date-like
        End of follow-up; must be after ``L``.
    window_days : int
        The inactivity window W.
    features : DataFrame, optional
        Features computed as of ``L`` (one row per customer, with ``id_col``), joined on.
    id_col : str
        Customer id column of ``features``.

    Returns
    -------
    pandas.DataFrame
        ``customer_id, duration`` (days after ``L``), ``event`` (1 a lapse became known by
        ``as_of``, 0 censored at ``as_of``), plus the feature columns; sorted by customer.
    """
    log = require_log(log, "landmark_table")
    L, end = as_timestamp(landmark), as_timestamp(as_of)
    if L >= end:
        raise ChurnDefinitionError(f"landmark {L.date()} must be before as_of {end.date()}.")
    if window_days <= 0:
        raise ChurnDefinitionError(f"window_days must be a positive number of days, got {window_days}.")
    w = window_days * DAY
    L, end = L.normalize(), end.normalize()
    L_cut, end_cut = end_of_day(L), end_of_day(end)  # a date stands for the whole day
    sql = f"""
    WITH ev AS (SELECT customer_id, time FROM {log.view} WHERE time <= {ts(end_cut)}),
    base AS (SELECT customer_id, MAX(time) AS t0 FROM ev WHERE time <= {ts(L_cut)} GROUP BY customer_id
             HAVING {epoch('MAX(time)')} > {epoch(ts(L))} - {w}),
    seq AS (SELECT ev.customer_id, ev.time,
                   LEAD(ev.time) OVER (PARTITION BY ev.customer_id ORDER BY ev.time) AS nxt
            FROM ev JOIN base ON ev.customer_id = base.customer_id WHERE ev.time >= base.t0),
    lapse AS (SELECT customer_id,
                     MIN(CASE WHEN (nxt IS NULL AND {epoch('time')} + {w} <= {epoch(ts(end_cut))})
                                   OR ({epoch('nxt')} - {epoch('time')} > {w})
                              THEN {epoch('time')} END) AS c
              FROM seq GROUP BY customer_id)
    SELECT customer_id,
           CASE WHEN c IS NULL THEN ({epoch(ts(end))} - {epoch(ts(L))}) / {DAY}
                ELSE (c + {w} - {epoch(ts(L))}) / {DAY} END AS duration,
           CASE WHEN c IS NULL THEN 0 ELSE 1 END AS event
    FROM lapse ORDER BY customer_id
    """
    rows = log.con.execute(sql).df()
    rows["duration"] = rows["duration"].astype(float)
    rows["event"] = rows["event"].astype(int)
    if features is not None:
        if id_col not in features.columns:
            raise ChurnDefinitionError(
                f"features has no column {id_col!r}; columns are {list(features.columns)[:10]}.")
        feats = features.rename(columns={id_col: "customer_id"})
        rows = rows.merge(feats, on="customer_id", how="left", validate="one_to_one")
    return rows
