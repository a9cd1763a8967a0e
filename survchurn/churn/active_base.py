"""Churn rate of the active base per period, the number a business quotes each quarter.

At the start ``s`` of a period ``[s, e]`` a customer is *active* when they had an activity in
the W days up to ``s``. The customer is *lost* in the period when, at its end, they have no
activity in the W days up to ``e``. The rate is lost / active at the start. Both counts use
only data up to ``e``, so a period's rate never changes when later data arrive, and a period
is reported only when ``e <= as_of``, and only when ``s`` is at least W days after the first
event (earlier periods would see only part of their active base).

This differs from counting churn dates in the survival table: there a churn is dated at the
last activity and becomes known W days later, so recent periods look better or worse only
because their churners cannot be seen yet.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from survchurn._display import Result
from survchurn.churn._sql import DAY, epoch, require_log, ts
from survchurn.data.eventlog import EventLog, as_timestamp
from survchurn.exceptions import ChurnDefinitionError

__all__ = ["ActiveBaseChurn", "active_base_churn"]


class ActiveBaseChurn(Result):
    """Churn rate of the active base per period.

    Attributes
    ----------
    table : pandas.DataFrame
        ``period, period_start, period_end, active_at_start, lost, churn_rate``.
    window_days : int
    as_of : pandas.Timestamp
    """

    _title = "Churn rate of the active base"

    def __init__(self, table: pd.DataFrame, window_days: int, as_of: pd.Timestamp):
        self.table = table
        self.window_days = window_days
        self.as_of = as_of

    def to_frame(self) -> pd.DataFrame:
        """The table (a copy)."""
        return self.table.copy()

    def _header(self) -> dict[str, Any]:
        return {"active": f"activity in the {self.window_days} days up to the period start",
                "lost": f"no activity in the {self.window_days} days up to the period end",
                "as_of": self.as_of}


def active_base_churn(log: EventLog, as_of: Any, *, window_days: int = 90,
                      freq: str = "QS") -> ActiveBaseChurn:
    """Churn rate of the active base for every complete period up to ``as_of``.

    Parameters
    ----------
    log : EventLog
    as_of : date-like
        Periods ending after this date are left out.
    window_days : int
        W: active means an activity within the last W days.
    freq : str
        Pandas period-start frequency: ``"QS"`` quarters (default), ``"MS"`` months.

    Returns
    -------
    ActiveBaseChurn
    """
    log = require_log(log, "active_base_churn")
    cut = as_of_ts = as_timestamp(as_of)
    if window_days <= 0:
        raise ChurnDefinitionError(f"window_days must be a positive number of days, got {window_days}.")
    first = log.min_time
    if first is None:
        raise ChurnDefinitionError("active_base_churn: the event log is empty.")
    try:
        # a period starting less than W days after the data begin would see only part of its
        # active base (customers active before the data started are invisible): leave it out
        starts = pd.date_range(first.normalize() + pd.Timedelta(days=window_days),
                               cut + pd.Timedelta(days=1), freq=freq)
        step = pd.tseries.frequencies.to_offset(freq)
    except ValueError as exc:
        raise ChurnDefinitionError(f"freq={freq!r} is not a pandas frequency such as 'MS' or 'QS'.") from exc
    if len(starts) == 0:
        raise ChurnDefinitionError(
            f"active_base_churn: no period starts at least W = {window_days} days after the first "
            f"event ({first.date()}) and ends by as_of {cut.date()}.")
    starts = starts.append(pd.DatetimeIndex([starts[-1] + step]))
    rows = []
    w = window_days * DAY
    for s, nxt in zip(starts[:-1], starts[1:], strict=True):
        e = nxt - pd.Timedelta(seconds=1)  # end of the period's last day
        if e.normalize() > cut.normalize():
            break
        active, lost = log.con.execute(f"""
            WITH per AS (
                SELECT customer_id,
                       MAX(CASE WHEN time <= {ts(s)} THEN {epoch('time')} END) AS last_before,
                       MAX(CASE WHEN time <= {ts(e)} THEN {epoch('time')} END) AS last_by_end
                FROM {log.view} WHERE time <= {ts(e)} GROUP BY customer_id)
            SELECT COUNT(*) FILTER (WHERE last_before > {epoch(ts(s))} - {w}),
                   COUNT(*) FILTER (WHERE last_before > {epoch(ts(s))} - {w}
                                      AND last_by_end <= {epoch(ts(e))} - {w})
            FROM per""").fetchone()
        rows.append({"period": f"{s.year}Q{s.quarter}" if freq == "QS" else s.strftime("%Y-%m"),
                     "period_start": s, "period_end": e.normalize(), "active_at_start": int(active),
                     "lost": int(lost), "churn_rate": lost / active if active else float("nan")})
    cols = ["period", "period_start", "period_end", "active_at_start", "lost", "churn_rate"]
    return ActiveBaseChurn(pd.DataFrame(rows, columns=cols), window_days, as_of_ts)
