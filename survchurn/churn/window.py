"""Choosing the inactivity window W from data: purchase cycle and roll-rate analysis.

* :func:`purchase_cycle`: the distribution of inter-purchase intervals (days between consecutive
  distinct event times of a customer), as quantiles, overall or by segment.
* :func:`roll_rate`: of the inactivity spells that reached k periods, the share that ended with
  a return (a later event up to ``as_of``). The recommended W is the smallest whole number of
  periods ``k * period_days`` at which that share is at most ``threshold`` (5% by default):
  after W days of silence almost nobody comes back, so calling the customer churned then is
  wrong for at most ``threshold`` of them.

A spell is the time from an event to the next one (closed, the customer returned) or to
``as_of`` (open). Open spells count as "not returned (yet)", so spells close to ``as_of`` pull
the share down; ``follow_up_days`` keeps only spells that started at least that many days
before ``as_of`` so each had time to end.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from survchurn._display import Result
from survchurn.churn._sql import DAY, epoch, require_log, ts
from survchurn.data.eventlog import EventLog, as_timestamp, end_of_day, quote
from survchurn.data.validate import CustomerTable
from survchurn.exceptions import ChurnDefinitionError, DataQualityWarning

__all__ = ["PurchaseCycle", "WindowChoice", "purchase_cycle", "roll_rate"]

QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99)


class PurchaseCycle(Result):
    """Quantiles of inter-purchase intervals (days), overall or by segment.

    Attributes
    ----------
    table : pandas.DataFrame
        ``segment, n_customers, n_intervals, mean, p10 .. p99``.
    histogram : pandas.DataFrame
        ``segment, bin_start_days, bin_days, n_intervals`` (for plots).
    """

    _title = "PurchaseCycle"

    def __init__(self, table: pd.DataFrame, histogram: pd.DataFrame, as_of: pd.Timestamp | None,
                 segment_col: str | None):
        self.table, self.histogram, self.as_of, self.segment_col = table, histogram, as_of, segment_col

    def to_frame(self) -> pd.DataFrame:
        """The quantile table (a copy)."""
        return self.table.copy()

    def _header(self) -> dict[str, Any]:
        head: dict[str, Any] = {"as_of": self.as_of} if self.as_of is not None else {}
        head["segments by"] = self.segment_col or "(all customers)"
        head["intervals"] = int(self.table["n_intervals"].sum())
        return head


class WindowChoice(Result):
    """Roll-rate table and the recommended inactivity window.

    Attributes
    ----------
    table : pandas.DataFrame
        ``periods, days, inactive, returned, return_share`` - spells that reached ``days`` of
        silence, those that ended with a return, and the share.
    recommended_window_days : int or None
        Smallest ``days`` with ``return_share <= threshold`` (None if never reached).
    purchase_cycle : PurchaseCycle
    rule : str
    """

    _title = "WindowChoice"

    def __init__(self, table: pd.DataFrame, recommended: int | None, threshold: float,
                 period_days: int, as_of: pd.Timestamp, cycle: PurchaseCycle):
        self.table = table
        self.recommended_window_days = recommended
        self.threshold = threshold
        self.period_days = period_days
        self.as_of = as_of
        self.purchase_cycle = cycle
        self.rule = (f"smallest multiple of {period_days} days at which at most {threshold:.0%} of "
                     f"the customers silent that long came back")

    def to_frame(self) -> pd.DataFrame:
        """The roll-rate table (a copy)."""
        return self.table.copy()

    def _header(self) -> dict[str, Any]:
        median = self.purchase_cycle.table["p50"].iloc[0] if len(self.purchase_cycle.table) else float("nan")
        return {"as_of": self.as_of, "rule": self.rule,
                "recommended W (days)": self.recommended_window_days if self.recommended_window_days else "not reached",
                "median purchase cycle (days)": median}


def _visits(log: EventLog, cut: pd.Timestamp) -> str:
    # distinct event times: repeat events at the same moment are one visit
    return f"SELECT DISTINCT customer_id, time FROM {log.view} WHERE time <= {ts(cut)}"


def _segments(log: EventLog, segment_col: str | None, customers: CustomerTable | None) -> tuple[str, str]:
    """(join clause, segment expression) for a customer attribute."""
    if segment_col is None:
        return "", "'all'"
    if customers is None or segment_col not in customers.frame.columns:
        have = customers.attributes if customers is not None else []
        raise ChurnDefinitionError(
            f"segment_col {segment_col!r} is not a column of the customer table (it has {have}). "
            "Fix: pass customers=read_customer_table(...) holding that column."
        )
    name = f"{log.view}_seg"
    log.con.register(name, customers.frame[["customer_id", segment_col]])
    return (f"LEFT JOIN {name} s ON g.customer_id = s.customer_id",
            f"COALESCE(CAST(s.{quote(segment_col)} AS VARCHAR), '(missing)')")


def purchase_cycle(
    log: EventLog,
    *,
    as_of: Any = None,
    segment_col: str | None = None,
    customers: CustomerTable | None = None,
    quantiles: Sequence[float] = QUANTILES,
    bin_days: int = 7,
) -> PurchaseCycle:
    """Distribution of inter-purchase intervals (days), overall or by a customer attribute.

    Parameters
    ----------
    log : EventLog
    as_of : date-like, optional
        Only events up to this date; by default all.
    segment_col : str, optional
        A column of ``customers`` to split by.
    customers : CustomerTable, optional
    quantiles : sequence of float
        Quantiles to report (columns ``p10`` etc.).
    bin_days : int
        Width of the histogram bins.

    Returns
    -------
    PurchaseCycle
    """
    log = require_log(log, "purchase_cycle")
    stamp = as_timestamp(as_of) if as_of is not None else None
    cut = end_of_day(stamp) if stamp is not None else pd.Timestamp.max
    qs = [float(q) for q in quantiles]
    if not qs or any(not 0 < q < 1 for q in qs):
        raise ChurnDefinitionError(f"quantiles must lie strictly between 0 and 1, got {list(quantiles)!r}.")
    join, seg = _segments(log, segment_col, customers)
    gaps = f"""
    WITH v AS ({_visits(log, cut)}),
    g AS (SELECT customer_id,
                 ({epoch('time')} - {epoch('LAG(time) OVER (PARTITION BY customer_id ORDER BY time)')}) / {float(DAY)} AS gap
          FROM v),
    x AS (SELECT {seg} AS segment, g.customer_id, gap FROM g {join} WHERE gap IS NOT NULL)
    """
    qlist = ", ".join(repr(q) for q in qs)
    table = log.con.execute(gaps + f"""
        SELECT segment, COUNT(DISTINCT customer_id) AS n_customers, COUNT(*) AS n_intervals,
               AVG(gap) AS mean, percentile_cont([{qlist}]) WITHIN GROUP (ORDER BY gap) AS q
        FROM x GROUP BY segment ORDER BY segment""").df()
    names = [f"p{round(q * 100):g}" for q in qs]
    qcols = pd.DataFrame(table["q"].tolist() if len(table) else np.empty((0, len(qs))), columns=names)
    table = pd.concat([table.drop(columns="q"), qcols], axis=1)
    hist = log.con.execute(gaps + f"""
        SELECT segment, CAST(FLOOR(gap / {int(bin_days)}) AS BIGINT) * {int(bin_days)} AS bin_start_days,
               COUNT(*) AS n_intervals FROM x GROUP BY ALL ORDER BY segment, bin_start_days""").df()
    hist.insert(2, "bin_days", int(bin_days))
    if table.empty:
        warnings.warn("purchase_cycle: no customer has two distinct event times; no intervals",
                      DataQualityWarning, stacklevel=2)
    return PurchaseCycle(table, hist, stamp, segment_col)


def roll_rate(
    log: EventLog,
    as_of: Any,
    *,
    period_days: int = 30,
    max_periods: int = 12,
    threshold: float = 0.05,
    follow_up_days: int | None = None,
) -> WindowChoice:
    """Roll-rate analysis and a recommended inactivity window W.

    Parameters
    ----------
    log : EventLog
    as_of : date-like
        Events after it are ignored; open spells run to it.
    period_days : int
        Length of a period (the table's step and W's rounding).
    max_periods : int
        Longest silence looked at, in periods.
    threshold : float
        Return share at or below which silence counts as churn (default 5%).
    follow_up_days : int, optional
        Keep only spells that started at least this many days before ``as_of``.

    Returns
    -------
    WindowChoice
    """
    log = require_log(log, "roll_rate")
    for name, value in (("period_days", period_days), ("max_periods", max_periods)):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ChurnDefinitionError(f"{name} must be a positive whole number, got {value!r}.")
    if not 0 < threshold < 1:
        raise ChurnDefinitionError(f"threshold must be a share in (0, 1), got {threshold!r}.")
    stamp = as_timestamp(as_of)
    cut = end_of_day(stamp)
    start_limit = ""
    if follow_up_days is not None:
        start_limit = f"WHERE time <= {ts(stamp - pd.Timedelta(days=follow_up_days))}"
    spells = log.con.execute(f"""
        WITH v AS ({_visits(log, cut)}),
        s AS (SELECT time, LEAD(time) OVER (PARTITION BY customer_id ORDER BY time) AS next_time FROM v),
        l AS (SELECT next_time IS NOT NULL AS closed,
                     (COALESCE({epoch('next_time')}, {epoch(ts(stamp))}) - {epoch('time')}) / {float(DAY)} AS len
              FROM s {start_limit})
        SELECT LEAST(CAST(FLOOR(len / {period_days}) AS BIGINT), {max_periods}) AS k, closed, COUNT(*) AS n
        FROM l GROUP BY ALL""").df()
    k = np.arange(1, max_periods + 1)
    reached = np.array([spells.loc[spells["k"] >= i, "n"].sum() for i in k], dtype=np.int64)
    back = np.array([spells.loc[(spells["k"] >= i) & spells["closed"], "n"].sum() for i in k], dtype=np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(reached > 0, back / np.maximum(reached, 1), np.nan)
    table = pd.DataFrame({"periods": k, "days": k * period_days, "inactive": reached,
                          "returned": back, "return_share": share})
    ok = table.loc[table["return_share"] <= threshold, "days"]
    recommended = int(ok.iloc[0]) if len(ok) else None
    if recommended is None:
        warnings.warn(
            f"roll_rate: the return share stays above {threshold:.0%} up to {max_periods * period_days} days; "
            "no W recommended. Fix: raise max_periods or threshold.", DataQualityWarning, stacklevel=2)
    cycle = purchase_cycle(log, as_of=stamp)
    return WindowChoice(table, recommended, threshold, period_days, stamp, cycle)


def round_up_to_period(days: float, period_days: int) -> int:
    """Round a number of days up to a whole number of periods."""
    return int(math.ceil(days / period_days) * period_days)
