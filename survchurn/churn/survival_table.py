"""The survival table as of a date: one row per customer with (duration, event).

Conventions (see :func:`survival_table`):

* the clock of a customer starts at ``entry_date``: the first activity (the contract start
  for contractual churn when a start column is given); durations are in days (float);
* **inactivity churn** is dated at the last activity (``lapse="last"``) or at the activity
  that starts the first lapse of more than W days (``lapse="first"``). A customer whose lapse
  is not yet observable is censored **at the last activity**, not at ``as_of``: all we know is that churn happens at that activity or later (``T >= last``).
  Censoring at ``as_of`` would claim ``T > as_of`` although the customer may already have
  lapsed at the last activity, and would bias survival upwards by up to W days. Equivalently,
  on the "recognition" clock (churn known W days after the last activity), a customer is alive
  until ``last_activity + W`` has passed; both clocks differ by the constant W;
* **contractual churn** is dated at the end date; open contracts are censored at ``as_of``
  (the contract is known to be running then);
* **partial churn** is dated at the start of the first low period; customers without one are
  censored at the start of their current, incomplete period.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np
import pandas as pd

from survchurn._display import Result
from survchurn.churn._sql import DAY, epoch, event_summary, require_log, ts
from survchurn.churn.definitions import (
    ChurnDefinition,
    ContractualChurn,
    InactivityChurn,
    PartialChurn,
)
from survchurn.data.eventlog import EventLog, as_timestamp, end_of_day
from survchurn.data.validate import CustomerTable
from survchurn.exceptions import ChurnDefinitionError, DataQualityWarning

__all__ = ["SurvivalTable", "survival_table"]

logger = logging.getLogger(__name__)

COLUMNS = ["customer_id", "entry_date", "entry", "duration", "event", "churn_date",
           "censor_reason", "last_activity", "n_events"]
ACTIVE = "active at as_of"


class SurvivalTable(Result):
    """One row per customer: (duration, event) as of a date, plus the rejected customers.

    Attributes
    ----------
    table : pandas.DataFrame
        ``customer_id, entry_date, entry, duration, event, churn_date, censor_reason,
        last_activity, n_events`` (+ ``returned`` for inactivity churn, ``end_type`` for
        contractual churn, ``churn_within_h, horizon_observable, horizon_status`` with a
        horizon).
    rejected : pandas.DataFrame
        ``customer_id, reason``: every customer seen but not in ``table``.
    definition : ChurnDefinition
    as_of : pandas.Timestamp
    horizon_days : int or None
    n_customers_in : int
        Distinct customers seen in the log and the customer table:
        ``n_customers_in == len(table) + len(rejected)``.
    """

    _title = "SurvivalTable"

    def __init__(self, table: pd.DataFrame, rejected: pd.DataFrame, definition: ChurnDefinition,
                 as_of: pd.Timestamp, horizon_days: int | None, n_customers_in: int,
                 window_start: pd.Timestamp | None = None):
        self.table = table
        self.rejected = rejected
        self.definition = definition
        self.as_of = as_of
        self.horizon_days = horizon_days
        self.n_customers_in = n_customers_in
        self.window_start = window_start

    @property
    def n_churned(self) -> int:
        """Customers with ``event == 1``."""
        return int(self.table["event"].sum())

    def to_frame(self) -> pd.DataFrame:
        """The table (a copy)."""
        return self.table.copy()

    def _header(self) -> dict[str, Any]:
        head: dict[str, Any] = {
            "definition": self.definition.describe(),
            "as_of": self.as_of,
            "customers": len(self.table),
            "churned": self.n_churned,
            "censored": len(self.table) - self.n_churned,
            "rejected": len(self.rejected),
        }
        if self.window_start is not None:
            head["window_start"] = self.window_start
        if self.horizon_days is not None:
            head["horizon_days"] = self.horizon_days
            head["horizon observable"] = int(self.table["horizon_observable"].sum())
        return head


def _days(later: pd.Series, earlier: pd.Series) -> pd.Series:
    return (later - earlier) / pd.Timedelta(days=1)


def _inactivity(log: EventLog, d: InactivityChurn, cut: pd.Timestamp,
                window_start: pd.Timestamp | None) -> pd.DataFrame:
    """Per customer: entry_date, last_activity, n_events, churn_date (first lapse)."""
    w = d.window_days * DAY
    win_filter = f"WHERE time >= {ts(window_start)}" if window_start is not None else ""
    if d.lapse == "last":
        # no window function needed: the churn date is the last activity if W days passed
        win_filter = f"AND time >= {ts(window_start)}" if window_start is not None else ""
        summary = event_summary(log, cut) if window_start is None else None
        name = f"{log.view}_summary"
        if summary is not None:
            # counts and first/last activity from the shared one-sort summary (see _sql.py)
            log.con.register(name, summary)
            agg = f"""agg AS (SELECT customer_id, first_activity, last_activity, n_events FROM {name})"""
        else:
            agg = f"""agg AS (
            SELECT customer_id, MIN(time) AS first_activity, MAX(time) AS last_activity,
                   COUNT(*) AS n_events FROM ev WHERE TRUE {win_filter} GROUP BY customer_id)"""
        sql = f"""
        WITH ev AS (SELECT customer_id, time FROM {log.view} WHERE time <= {ts(cut)}),
        {agg}
        """
        sql += ", agg2 AS (SELECT *, CASE WHEN " + epoch("last_activity") + f" + {w} <= {epoch(ts(cut))} " \
            "THEN last_activity END AS churn_date FROM agg)"
        sql += _entry_select(window_start, "agg2")
        try:
            return log.con.execute(sql).df()
        finally:
            if summary is not None:
                log.con.unregister(name)
    lapse = (
        f"(next_time IS NULL AND {epoch('time')} + {w} <= {epoch(ts(cut))}) "
        f"OR ({epoch('next_time')} - {epoch('time')} > {w})"
    )
    sql = f"""
    WITH ev AS (SELECT customer_id, time FROM {log.view} WHERE time <= {ts(cut)}),
    win AS (
        SELECT customer_id, time,
               LEAD(time) OVER (PARTITION BY customer_id ORDER BY time) AS next_time
        FROM ev {win_filter}),
    agg AS (
        SELECT customer_id, MIN(time) AS first_activity, MAX(time) AS last_activity,
               COUNT(*) AS n_events, MIN(CASE WHEN {lapse} THEN time END) AS churn_date
        FROM win GROUP BY customer_id)
    """
    sql += _entry_select(window_start, "agg")
    return log.con.execute(sql).df()


def _entry_select(window_start: pd.Timestamp | None, agg: str) -> str:
    """Final columns, computed in SQL (durations from epoch seconds)."""
    final = f"""
        SELECT customer_id, entry_date, first_activity,
               ({epoch('COALESCE(churn_date, last_activity)')} - {epoch('entry_date')}) / {float(DAY)} AS duration,
               CAST(churn_date IS NOT NULL AS BIGINT) AS event, churn_date,
               last_activity, n_events
        FROM {{src}}"""  # sorted in pandas: cheaper than ORDER BY carrying every column
    if window_start is None:
        return f", src AS (SELECT customer_id, first_activity AS entry_date, * EXCLUDE (customer_id) FROM {agg})" \
            + final.format(src="src")
    return f""", hist AS (SELECT customer_id, MIN(time) AS entry_date FROM ev GROUP BY customer_id),
        src AS (SELECT h.customer_id, h.entry_date, a.first_activity, a.last_activity, a.n_events, a.churn_date
                FROM hist h LEFT JOIN {agg} a ON h.customer_id = a.customer_id)""" + final.format(src="src")


def _partial(log: EventLog, d: PartialChurn, cut: pd.Timestamp) -> pd.DataFrame:
    """Per customer: entry_date, last_activity, n_events, n_complete periods, k_churn."""
    if d.measure == "amount" and not log.has_amount:
        raise ChurnDefinitionError("PartialChurn(measure='amount') needs an event log with amount_col=.")
    m = "COALESCE(amount, 0)" if d.measure == "amount" else "1"
    p = d.period_days * DAY
    end_excl = ts(cut + pd.Timedelta(microseconds=1))
    # range() as a numbers table is DuckDB's; PostgreSQL spells it generate_series().
    sql = f"""
    WITH ev AS (SELECT customer_id, time, {m} AS m FROM {log.view} WHERE time <= {ts(cut)}),
    f AS (SELECT customer_id, MIN(time) AS entry_date, MAX(time) AS last_activity,
                 COUNT(*) AS n_events,
                 CAST(FLOOR(({epoch(end_excl)} - {epoch('MIN(time)')}) / {p}) AS BIGINT) AS n_complete
          FROM ev GROUP BY customer_id),
    pc AS (SELECT e.customer_id,
                  CAST(FLOOR(({epoch('e.time')} - {epoch('f.entry_date')}) / {p}) AS BIGINT) AS k,
                  SUM(e.m) AS m
           FROM ev e JOIN f ON e.customer_id = f.customer_id GROUP BY 1, 2),
    grid AS (SELECT f.customer_id, r.range AS k FROM f
             JOIN range(0, (SELECT COALESCE(MAX(n_complete), 0) FROM f)) r ON r.range < f.n_complete),
    filled AS (SELECT g.customer_id, g.k, COALESCE(pc.m, 0) AS m FROM grid g
               LEFT JOIN pc ON g.customer_id = pc.customer_id AND g.k = pc.k),
    base AS (SELECT customer_id, k, m,
                    SUM(m) OVER (PARTITION BY customer_id ORDER BY k
                                 ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) / k AS baseline
             FROM filled),
    low AS (SELECT customer_id, MIN(k) AS k_churn FROM base
            WHERE k >= {d.min_baseline_periods} AND m < {float(d.share)} * baseline GROUP BY customer_id)
    SELECT f.*, low.k_churn FROM f LEFT JOIN low ON f.customer_id = low.customer_id
    """
    return log.con.execute(sql).df()


def _customers_after(log: EventLog, cut: pd.Timestamp) -> pd.Series:
    if log.max_time is None or log.max_time <= cut:
        return pd.Series([], dtype=object)
    return log.con.execute(
        f"SELECT customer_id FROM {log.view} GROUP BY customer_id HAVING MIN(time) > {ts(cut)}"
    ).df()["customer_id"]


def _core(log: EventLog, d: ChurnDefinition, as_of: pd.Timestamp, cut: pd.Timestamp,
          window_start: pd.Timestamp | None, customers: CustomerTable | None
          ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The table and the rejected customers (those with events) as of ``cut``."""
    rejected: list[pd.DataFrame] = []
    if isinstance(d, InactivityChurn):
        out = _inactivity(log, d, cut, window_start)
        # sorted here (one argsort of the ids) rather than by an ORDER BY carrying every column
        out = out.take(np.argsort(out["customer_id"].to_numpy(), kind="stable")).reset_index(drop=True)
        out.insert(6, "censor_reason", np.where(out["event"].to_numpy() == 1, None, ACTIVE))
        if window_start is not None:
            gone = out["first_activity"].isna()
            rejected.append(pd.DataFrame({"customer_id": out.loc[gone, "customer_id"],
                                          "reason": "no events in the data window (history before window_start only)"}))
            out = out[~gone].reset_index(drop=True)
            out["n_events"] = out["n_events"].astype("int64")
        out = out.drop(columns="first_activity")
        if d.lapse == "first":
            out["returned"] = (out["event"] == 1) & (out["last_activity"] > out["churn_date"])
    elif isinstance(d, PartialChurn):
        agg = _partial(log, d, cut)
        churned = agg["k_churn"].notna()
        k = agg["k_churn"].where(churned, agg["n_complete"]).astype("float64")
        out = pd.DataFrame({"customer_id": agg["customer_id"], "entry_date": agg["entry_date"]})
        out["duration"] = k * d.period_days
        out["event"] = churned.astype("int64")
        out["churn_date"] = (agg["entry_date"] + pd.to_timedelta(out["duration"], unit="D")).where(churned)
        out["censor_reason"] = np.where(churned, None, "no low period yet")
        out["last_activity"] = agg["last_activity"]
        out["n_events"] = agg["n_events"].astype("int64")
    elif isinstance(d, ContractualChurn):
        out, rej = _contractual(log, d, as_of, cut, customers)
        rejected.append(rej)
    else:
        raise ChurnDefinitionError(f"unknown churn definition {d!r}; use InactivityChurn, "
                                   "ContractualChurn or PartialChurn")
    if not isinstance(d, ContractualChurn):
        rejected.append(pd.DataFrame({"customer_id": _customers_after(log, cut),
                                      "reason": "first event after as_of"}))
    rej = pd.concat([r for r in rejected if len(r)], ignore_index=True) if any(len(r) for r in rejected) \
        else pd.DataFrame({"customer_id": pd.Series([], dtype=object), "reason": pd.Series([], dtype=object)})
    return out, rej


def _contractual(log: EventLog, d: ContractualChurn, as_of: pd.Timestamp, cut: pd.Timestamp,
                 customers: CustomerTable | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    if customers is None:
        raise ChurnDefinitionError("ContractualChurn needs customers= (a CustomerTable with the end dates).")
    need = [c for c in (d.end_col, d.reason_col, d.start_col) if c is not None]
    missing = [c for c in need if c not in customers.frame.columns]
    if missing:
        raise ChurnDefinitionError(
            f"ContractualChurn: columns {missing} are not in the customer table; it has "
            f"{customers.attributes}. Fix: read_customer_table(..., date_cols=[start, end]) with the right names."
        )
    for c in (d.end_col, d.start_col):
        if c is not None and not pd.api.types.is_datetime64_any_dtype(customers.frame[c]):
            raise ChurnDefinitionError(f"ContractualChurn: column {c!r} is not a date column. "
                                       f"Fix: read_customer_table(..., date_cols=[{c!r}]).")
    act = log.con.execute(
        f"SELECT customer_id, MIN(time) AS first_activity, MAX(time) AS last_activity, COUNT(*) AS n_events "
        f"FROM {log.view} WHERE time <= {ts(cut)} GROUP BY customer_id"
    ).df()
    cols = ["customer_id", *need]
    frame = customers.frame[cols].merge(act, on="customer_id", how="left")
    start = frame[d.start_col] if d.start_col else pd.Series(pd.NaT, index=frame.index)
    frame["entry_date"] = start.fillna(frame["first_activity"])
    end = frame[d.end_col]
    reasons = pd.Series(np.select(
        [frame["entry_date"].isna(), frame["entry_date"] > cut, end.notna() & (end < frame["entry_date"])],
        ["no start date and no events", "starts after as_of", "end date before start date"], default=""),
        index=frame.index)
    rej = pd.DataFrame({"customer_id": frame.loc[reasons != "", "customer_id"],
                        "reason": reasons[reasons != ""]})
    frame = frame[reasons == ""]
    end = frame[d.end_col]
    ended = end.notna() & (end <= cut)
    reason = frame[d.reason_col].astype("string") if d.reason_col else pd.Series(pd.NA, index=frame.index, dtype="string")
    invol = ended & reason.isin(list(d.involuntary_reasons)).fillna(False).astype(bool)
    churned = ended & ~invol
    out = pd.DataFrame({"customer_id": frame["customer_id"], "entry_date": frame["entry_date"]})
    out["duration"] = _days(end.where(ended, as_of), frame["entry_date"])
    out["event"] = churned.astype("int64")
    out["churn_date"] = end.where(churned)
    out["censor_reason"] = np.where(churned, None, np.where(invol, "involuntary end: " + reason.fillna("").astype(str), ACTIVE))
    out["last_activity"] = frame["last_activity"]
    out["n_events"] = frame["n_events"].fillna(0).astype("int64")
    out["end_type"] = np.where(churned, "voluntary", np.where(invol, "involuntary", None))
    # customers with events but no row in the customer table cannot be judged
    extra = act.loc[~act["customer_id"].isin(customers.frame["customer_id"]), "customer_id"]
    rej = pd.concat([rej, pd.DataFrame({"customer_id": extra, "reason": "events but not in the customer table"})])
    after = _customers_after(log, cut)
    after = after[~after.isin(customers.frame["customer_id"])]
    rej = pd.concat([rej, pd.DataFrame({"customer_id": after, "reason": "events but not in the customer table"})])
    return out.reset_index(drop=True), rej.reset_index(drop=True)


def survival_table(
    log: EventLog,
    definition: ChurnDefinition,
    as_of: Any,
    *,
    horizon_days: int | None = None,
    window_start: Any = None,
    customers: CustomerTable | None = None,
    observed_until: Any = None,
) -> SurvivalTable:
    """Build the survival table as of a date.

    Parameters
    ----------
    log : EventLog
        From :func:`survchurn.data.eventlog.read_event_log`. Events after ``as_of`` may be in
        it: they are only used for the horizon label.
    definition : ChurnDefinition
        :class:`InactivityChurn`, :class:`ContractualChurn` or :class:`PartialChurn`.
    as_of : date-like
        Observation cut-off; a date without time includes the whole day. Always explicit.
    horizon_days : int, optional
        Adds a label for scoring models: ``churn_within_h`` = 1 when a customer at risk at
        ``as_of`` (``event == 0`` and not ended) has a churn that becomes observable in
        ``(as_of, as_of + H]``, 0 when not, missing when unknown; ``horizon_observable``
        tells whether the label is known and ``horizon_status`` why ("observed", "not at risk
        at as_of", "not observable: data end before as_of + H"). Nobody is dropped.
    window_start : date-like, optional
        Start of the data window (inactivity churn). Events before it set only the entry date;
        lapses are looked for from ``window_start`` on; ``entry`` is the late entry in days
        (``window_start - entry_date``, 0 for customers who start inside the window).
        Customers with history only before the window are rejected with a reason.
    customers : CustomerTable, optional
        Required for contractual churn; otherwise customers in it without any event are
        reported in ``rejected``, and customers with events but no row are warned about.
    observed_until : date-like, optional
        Last day the data covers (for the horizon); by default the last event in the log.

    Returns
    -------
    SurvivalTable
        ``n_customers_in == len(result.table) + len(result.rejected)``.
    """
    log = require_log(log, "survival_table")
    if not isinstance(definition, ChurnDefinition):
        raise ChurnDefinitionError(
            f"definition must be a churn definition, got {type(definition).__name__}. "
            "Fix: e.g. InactivityChurn(window_days=90)."
        )
    stamp = as_timestamp(as_of)
    cut = end_of_day(stamp)
    if log.as_of is not None and cut > log.as_of:
        raise ChurnDefinitionError(
            f"as_of {stamp:%Y-%m-%d} is later than the cut-off the log was read with "
            f"({log.as_of:%Y-%m-%d}). Fix: read the log without as_of= or with a later one."
        )
    ws = as_timestamp(window_start, "window_start") if window_start is not None else None
    if ws is not None and not isinstance(definition, InactivityChurn):
        raise ChurnDefinitionError("window_start is only used with InactivityChurn.")
    if ws is not None and ws > cut:
        raise ChurnDefinitionError(f"window_start {ws:%Y-%m-%d} is after as_of {stamp:%Y-%m-%d}.")
    if horizon_days is not None and (isinstance(horizon_days, bool) or not isinstance(horizon_days, int)
                                     or horizon_days <= 0):
        raise ChurnDefinitionError(f"horizon_days must be a positive whole number, got {horizon_days!r}.")
    if customers is not None and not isinstance(customers, CustomerTable):
        raise ChurnDefinitionError("customers= must be a CustomerTable (survchurn.data.validate.read_customer_table).")

    table, rejected = _core(log, definition, stamp, cut, ws, customers)
    table.insert(2, "entry", 0.0 if ws is None else np.maximum(_days(pd.Series(ws, index=table.index), table["entry_date"]), 0.0))

    rej = [rejected, log.rejected_customers()]
    if customers is not None:
        ids = customers.frame["customer_id"]
        known = pd.concat([table["customer_id"], *(r["customer_id"] for r in rej)], ignore_index=True)
        only = ids[~ids.isin(known)]
        if len(only):
            rej.append(pd.DataFrame({"customer_id": only, "reason": "in the customer table but no events"}))
        if not isinstance(definition, ContractualChurn):
            missing = table["customer_id"][~table["customer_id"].isin(ids)]
            if len(missing):
                warnings.warn(
                    f"survival table: {len(missing):,} customers have events but no row in the customer "
                    f"table, e.g. {missing.head(5).tolist()}; they are kept", DataQualityWarning, stacklevel=2)
    rejected = pd.concat([r for r in rej if len(r)], ignore_index=True) if any(len(r) for r in rej) else rejected
    rejected = rejected.reset_index(drop=True)
    # every customer seen is in the table or in rejected, once (the tests check this against
    # the log's own distinct count, log.n_customers_in, which costs a scan)
    n_in = len(table) + len(rejected)

    if horizon_days is not None:
        table = _add_horizon(log, definition, table, stamp, cut, horizon_days, observed_until, ws, customers)
    logger.info("survival table as of %s: %d customers, %d churned, %d rejected",
                stamp, len(table), int(table["event"].sum()), len(rejected))
    if not table["customer_id"].is_monotonic_increasing:
        table = table.sort_values("customer_id", kind="stable", ignore_index=True)
    return SurvivalTable(table, rejected, definition, stamp, horizon_days, n_in, ws)


def _add_horizon(log: EventLog, d: ChurnDefinition, table: pd.DataFrame, as_of: pd.Timestamp,
                 cut: pd.Timestamp, h: int, observed_until: Any, ws: pd.Timestamp | None,
                 customers: CustomerTable | None) -> pd.DataFrame:
    """Add churn_within_h / horizon_observable / horizon_status (see survival_table)."""
    if observed_until is not None:
        data_end = end_of_day(as_timestamp(observed_until, "observed_until"))
    else:
        data_end = end_of_day(log.max_time) if log.max_time is not None else cut
        if log.as_of is not None:
            data_end = min(data_end, log.as_of)
    cut_h = cut + pd.Timedelta(days=h)
    later_cut = min(cut_h, max(data_end, cut))
    later, _ = _core(log, d, as_of + pd.Timedelta(days=h) if later_cut == cut_h else later_cut,
                     later_cut, ws, customers)
    ev_later = table["customer_id"].map(later.set_index("customer_id")["event"]).fillna(0)
    at_risk = (table["event"] == 0) & (table["censor_reason"] == ACTIVE)
    complete = data_end >= cut_h
    observable = at_risk & (complete | (ev_later == 1))
    table["churn_within_h"] = pd.array(np.where(observable, ev_later, 0), dtype="Int8")
    table.loc[~observable, "churn_within_h"] = pd.NA
    table["horizon_observable"] = observable.to_numpy()
    table["horizon_status"] = np.where(
        ~at_risk, "not at risk at as_of",
        np.where(observable, "observed", f"not observable: data end before as_of + {h} days"))
    return table
