"""Point-in-time customer features computed only from events up to ``as_of``.

Every feature of a customer as of a date D is a function of the events with time <= D (a date
without time of day includes the whole day), so features never leak the future: the result is
identical whether or not later events are in the log (tested). Counts, first/last event and the
inter-purchase gap statistics come from the per-customer summary of
:func:`survchurn.churn._sql.event_summary` (one numpy sort of 64-bit keys, shared with the
survival table as of the same date); money, period and category sums come from one more narrow
scan added up per customer in numpy (:func:`survchurn.churn._sql.event_sums`; amounts with at
most two decimals are added exactly as integer cents). For text ids, sub-second times, ids
spread over far more values than customers, NULL amounts or non-integer categories the same
values come from portable SQL (a DuckDB GROUP BY, and a ``LAG`` window for the gaps), see
:func:`features_sql`.

Features (days are float days; NULL/NaN where undefined):

``recency_days``  days from the last event to ``as_of``;
``frequency``  number of events;
``monetary_total``, ``monetary_mean``  sum and mean of amounts (with an amount column);
``tenure_days``  days from the first event to ``as_of``;
``ipt_mean_days``, ``ipt_std_days``  mean and sample standard deviation of the gaps between
consecutive distinct event times (repeat events at the same time are one visit; the mean needs
2 distinct times, the std 3);
``n_last_period``, ``n_prev_period``  events in ``(D - P, D]`` and ``(D - 2P, D - P]``;
``amount_last_period``, ``amount_prev_period``  the same for amounts;
``trend_ratio``  ``n_last_period / n_prev_period`` (NaN when the previous period is empty);
``behaviour_break``  1 when activity fell sharply: the previous period had events and the last
period has fewer than half as many, or the customer (3+ events) has been silent for longer than
``ipt_mean + 2 * ipt_std`` - their own rhythm broke (the "sleeping" customers of DOMAIN.md);
``category_breadth``  distinct categories bought (with a category column);
plus the customer table's attributes, joined by id.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from survchurn._display import Result
from survchurn.churn._sql import DAY, epoch, event_summary, event_sums, require_log, ts
from survchurn.data.eventlog import EventLog, as_timestamp, end_of_day
from survchurn.data.validate import CustomerTable
from survchurn.exceptions import ChurnDefinitionError, DataQualityWarning

__all__ = ["FeatureTable", "feature_panel", "features"]


class FeatureTable(Result):
    """Point-in-time features, one row per customer with events up to ``as_of``.

    Attributes
    ----------
    table : pandas.DataFrame
        ``customer_id`` and the features (see the module notes).
    as_of : pandas.Timestamp
    period_days : int
    """

    _title = "FeatureTable"

    def __init__(self, table: pd.DataFrame, as_of: pd.Timestamp | None, period_days: int):
        self.table = table
        self.as_of = as_of
        self.period_days = period_days

    def to_frame(self) -> pd.DataFrame:
        """The features (a copy)."""
        return self.table.copy()

    def _header(self) -> dict[str, Any]:
        head: dict[str, Any] = {"customers": len(self.table), "period_days": self.period_days}
        if self.as_of is not None:
            head = {"as_of": self.as_of, **head}
        if "behaviour_break" in self.table:
            head["behaviour breaks"] = int(self.table["behaviour_break"].sum())
        return head


_PACK = 4294967296  # 2**32
_COUNTS = ("n_last_period", "n_prev_period", "frequency", "behaviour_break", "category_breadth")


def _check_period(period_days: Any) -> None:
    if isinstance(period_days, bool) or not isinstance(period_days, int) or period_days <= 0:
        raise ChurnDefinitionError(f"period_days must be a positive whole number, got {period_days!r}.")


def _gap_source(log: EventLog, cut: pd.Timestamp) -> str:
    """Portable SQL for the gap statistics: ``customer_id, n_gaps, ipt_std_days`` per customer
    with at least one positive gap (one window sort of the events by customer and time)."""
    gap = f"{epoch('time')} - {epoch('LAG(time) OVER (PARTITION BY customer_id ORDER BY time)')}"
    return f"""(SELECT customer_id, COUNT(*) AS n_gaps, STDDEV_SAMP(gap) / {float(DAY)} AS ipt_std_days
        FROM (SELECT customer_id, {gap} AS gap FROM {log.view} WHERE time <= {ts(cut)}) s
        WHERE gap > 0 GROUP BY customer_id)"""


def features_sql(log: EventLog, as_of: pd.Timestamp, period_days: int = 90,
                 category_dict: str | None = None, summary: str | None = None) -> str:
    """The SQL that computes the features (for inspection or another engine).

    ``category_dict`` names a table ``(category, bit)`` with one bit per category (at most 63
    categories), or is ``"range:<lo>"`` for integer categories within 63 values of ``lo``
    (bit ``1 << (category - lo)``, no join); without it category breadth counts distinct
    (customer, category) pairs.
    ``summary`` names a table ``(customer_id, n_events, first_activity, last_activity, n_gaps,
    ipt_std_days)`` as :func:`survchurn.churn._sql.event_summary` computes with one sort in
    numpy; without it counts and first/last times come from the GROUP BY and the gaps from a
    portable ``LAG`` window over the events (same values).
    """
    cut = end_of_day(as_of)
    p1 = ts(cut - pd.Timedelta(days=period_days))
    p2 = ts(cut - pd.Timedelta(days=2 * period_days))
    day = float(DAY)
    cols = ["e.customer_id", "e.time"] + (["e.amount"] if log.has_amount else [])
    money, money_cols = "", []
    if log.has_amount:
        money = """
            SUM(amount) AS monetary_total, AVG(amount) AS monetary_mean,
            COALESCE(SUM(amount * in_last), 0) AS amount_last_period,
            COALESCE(SUM(amount * in_prev), 0) AS amount_prev_period,"""
        money_cols = ["monetary_total", "monetary_mean", "amount_last_period", "amount_prev_period"]
    cats, cat_join, cat_from, cat_cols = "", "", "", []
    if log.has_category and category_dict is not None:
        # few distinct categories: one bit per category, OR-ed per customer (exact, no hash
        # table of (customer, category) pairs)
        if category_dict.startswith("range:"):
            lo = int(category_dict[len("range:"):])
            cols.append(f"CAST(1 AS UBIGINT) << CAST(e.category - {lo} AS INTEGER) AS bit")
        else:
            cols.append("cd.bit")
            cat_from = f"LEFT JOIN {category_dict} cd ON e.category = cd.category"
        cats = ",\n            COALESCE(bit_count(bit_or(bit)), 0) AS category_breadth"
        cat_cols = ["category_breadth"]
    elif log.has_category:
        cat_join = f"""LEFT JOIN (SELECT customer_id, COUNT(*) AS category_breadth
               FROM (SELECT DISTINCT customer_id, category FROM {log.view}
                     WHERE time <= {ts(cut)} AND category IS NOT NULL) d
               GROUP BY customer_id) c ON b.customer_id = c.customer_id"""
    # both period counts in one exact integer sum (last + 2**32 * previous): one aggregate
    # instead of two, decoded below (a customer would need 2**32 events to overflow it)
    after = ", ".join([f"CAST(a.periods % {_PACK} AS BIGINT) AS n_last_period",
                       f"CAST((a.periods - a.periods % {_PACK}) / {_PACK} AS BIGINT) AS n_prev_period",
                       *(f"a.{c}" for c in cat_cols)])
    if summary is None:
        times = """COUNT(*) AS frequency, MIN(time) AS first_activity, MAX(time) AS last_activity,"""
        src, freq, gap_join = "a", "a.frequency", f"LEFT JOIN {_gap_source(log, cut)} g ON a.customer_id = g.customer_id"
    else:
        times = ""
        src, freq, gap_join = "g", "g.n_events AS frequency", f"JOIN {summary} g ON a.customer_id = g.customer_id"
    first, last = f"{src}.first_activity", f"{src}.last_activity"
    # The events are only grouped (no sort): period membership is a 0/1 column summed, cheaper
    # than FILTER clauses. The gap statistics (the only part that needs the events in time
    # order) are joined per customer; mean gap = (last - first) / number of positive gaps.
    return f"""
    WITH e AS (
        SELECT {", ".join(cols)},
            CAST(e.time > {p1} AS INTEGER) AS in_last,
            CAST(e.time > {p2} AND e.time <= {p1} AS INTEGER) AS in_prev
        FROM {log.view} e {cat_from}
        WHERE e.time <= {ts(cut)}),
    a AS (
        SELECT customer_id, {times}{money}
            SUM(in_last + in_prev * {_PACK}) AS periods{cats}
        FROM e GROUP BY customer_id),
    b AS (
        SELECT a.customer_id,
            ({epoch(ts(as_of))} - {epoch(last)}) / {day} AS recency_days,
            {freq},{"".join(f" a.{c}," for c in money_cols)}
            ({epoch(ts(as_of))} - {epoch(first)}) / {day} AS tenure_days,
            ({epoch(last)} - {epoch(first)}) / {day} / NULLIF(g.n_gaps, 0) AS ipt_mean_days,
            g.ipt_std_days, {after}
        FROM a {gap_join})
    SELECT b.*{", COALESCE(c.category_breadth, 0) AS category_breadth" if cat_join else ""},
        CAST(n_last_period AS DOUBLE) / NULLIF(n_prev_period, 0) AS trend_ratio,
        CASE WHEN (n_prev_period > 0 AND n_last_period < 0.5 * n_prev_period)
               OR (frequency >= 3 AND recency_days > ipt_mean_days + 2 * ipt_std_days)
             THEN 1 ELSE 0 END AS behaviour_break
    FROM b {cat_join}
    """


def _category_dict(log: EventLog, as_of: pd.Timestamp) -> str | None:
    """How to give each category a bit: ``"range:<lo>"`` for integer codes spanning at most 63
    values, else a temp table of one bit per category when there are at most 63 (None: more)."""
    if not log.has_category:
        return None
    kind = log.con.execute(f"SELECT typeof(category) FROM {log.view} LIMIT 1").fetchall()
    if kind and kind[0][0] in ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "UTINYINT", "USMALLINT"):
        # integer codes in a narrow range: the bit is computed from the code (min/max come
        # from Parquet statistics without a scan)
        lo, hi = log.con.execute(f"SELECT MIN(category), MAX(category) FROM {log.view}").fetchall()[0]
        if lo is not None and int(hi) - int(lo) < 63:
            return f"range:{int(lo)}"
    cats = log.con.execute(
        f"SELECT DISTINCT category FROM {log.view} WHERE time <= {ts(end_of_day(as_of))} "
        "AND category IS NOT NULL LIMIT 64").df()
    if len(cats) > 63:
        return None
    name = f"{log.view}_catbits"
    cats["bit"] = np.left_shift(np.uint64(1), np.arange(len(cats), dtype=np.uint64))
    log.con.register(name + "_df", cats)
    log.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT category, "
                    f"CAST(bit AS UBIGINT) AS bit FROM {name}_df").fetchall()
    log.con.unregister(name + "_df")
    return name


def _from_sums(log: EventLog, as_of: pd.Timestamp, period_days: int, summary: pd.DataFrame,
               cats: str | None) -> dict[str, np.ndarray] | None:
    """The features from the one-sort summary and :func:`survchurn.churn._sql.event_sums` (one
    more scan, sums in numpy), without a DuckDB GROUP BY; None when those do not apply.

    Same columns, order, types and formulas as :func:`features_sql` (days as
    ``(epoch(as_of) - epoch(t)) / 86400`` in float64, NaN for SQL NULL); the money sums are
    exact in cents where the amounts have at most two decimals (see ``event_sums``).
    """
    if len(summary) == 0 or (log.has_category and (cats is None or not cats.startswith("range:"))):
        return None
    cut = end_of_day(as_of)
    cat_lo, n_cats = None, 0
    if log.has_category:
        cat_lo = int(cats[len("range:"):])  # type: ignore[index]
        hi = log.con.execute(f"SELECT MAX(category) FROM {log.view}").fetchall()[0][0]
        n_cats = int(hi) - cat_lo + 1
    ids = summary["customer_id"].to_numpy()
    sums = event_sums(log, cut, cut - pd.Timedelta(days=period_days), cut - pd.Timedelta(days=2 * period_days),
                      ids, cat_lo, n_cats)
    if sums is None:
        return None
    day = float(DAY)
    sec = np.timedelta64(1, "s")
    stamp = np.datetime64(as_of.as_unit("us").to_datetime64(), "us")
    first = summary["first_activity"].to_numpy().astype("datetime64[us]")
    last = summary["last_activity"].to_numpy().astype("datetime64[us]")
    # whole seconds (event_summary applies only then): the differences are exact in float64
    recency = ((stamp - last) / sec) / day
    tenure = ((stamp - first) / sec) / day
    freq = summary["n_events"].to_numpy().astype(np.int64)
    gaps = summary["n_gaps"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        ipt_mean = np.where(gaps > 0, ((last - first) / sec) / day / gaps, np.nan)
        n_last, n_prev = sums["n_last_period"], sums["n_prev_period"]
        trend = np.where(n_prev > 0, n_last.astype(np.float64) / n_prev, np.nan)
    std = summary["ipt_std_days"].to_numpy()
    brk = ((n_prev > 0) & (n_last < 0.5 * n_prev)) | ((freq >= 3) & (recency > ipt_mean + 2 * std))
    cols: dict[str, np.ndarray] = {"customer_id": ids, "recency_days": recency, "frequency": freq}
    if log.has_amount:
        cols.update(monetary_total=sums["monetary_total"], monetary_mean=sums["monetary_total"] / freq,
                    amount_last_period=sums["amount_last_period"], amount_prev_period=sums["amount_prev_period"])
    cols.update(tenure_days=tenure, ipt_mean_days=ipt_mean, ipt_std_days=std, n_last_period=n_last,
                n_prev_period=n_prev)
    if log.has_category:
        cols["category_breadth"] = sums["category_breadth"]
    cols.update(trend_ratio=trend, behaviour_break=brk.astype(np.int64))
    return cols


def features(
    log: EventLog,
    as_of: Any,
    *,
    period_days: int = 90,
    customers: CustomerTable | None = None,
) -> FeatureTable:
    """Point-in-time features of every customer with events up to ``as_of``.

    Parameters
    ----------
    log : EventLog
        From :func:`survchurn.data.eventlog.read_event_log`; later events are ignored.
    as_of : date-like
        The cut-off (always explicit); a date includes the whole day.
    period_days : int
        Length P of the "last period" and "previous period" for trends.
    customers : CustomerTable, optional
        Attributes to join (left join; customers without a row get missing attributes and a
        DataQualityWarning).

    Returns
    -------
    FeatureTable
    """
    log = require_log(log, "features")
    _check_period(period_days)
    stamp = as_timestamp(as_of)
    if log.as_of is not None and end_of_day(stamp) > log.as_of:
        raise ChurnDefinitionError(
            f"as_of {stamp:%Y-%m-%d} is later than the cut-off the log was read with "
            f"({log.as_of:%Y-%m-%d}). Fix: read the log without as_of= or with a later one."
        )
    summary = event_summary(log, end_of_day(stamp))
    name, prev = None, None
    con = log.con
    if summary is not None:
        name = f"{log.view}_summary"
        con.register(name, summary)
        if len(summary):
            # integer ids in a known range: let DuckDB group them in a plain array (a "perfect"
            # hash table) instead of hashing; about 30% faster at 1M customers. Restored after.
            width = int(summary["customer_id"].iat[-1] - summary["customer_id"].iat[0]).bit_length() + 1
            prev = con.execute("SELECT current_setting('perfect_ht_threshold')").fetchall()[0][0]
            con.execute(f"SET perfect_ht_threshold = {min(max(width, int(prev)), 22)}").fetchall()
    try:
        cats = _category_dict(log, stamp)
        table: pd.DataFrame | dict[str, np.ndarray] | None = (
            _from_sums(log, stamp, period_days, summary, cats) if summary is not None else None)
        if table is None:
            table = con.execute(features_sql(log, stamp, period_days, cats, name)).df()
    finally:
        if name is not None:
            con.unregister(name)
        if prev is not None:
            con.execute(f"SET perfect_ht_threshold = {int(prev)}").fetchall()
    # DuckDB adds floats in parallel, in an order that varies between runs: round away the last
    # bits so the same data always give the same features (and the same scorecard and files).
    # Sorting by id in numpy (one argsort, then each column taken once into a fresh frame) is
    # cheaper than an ORDER BY carrying every column or pandas' block-wise sort and round.
    order = np.argsort(np.asarray(table["customer_id"]), kind="stable")
    cols = {}
    for col in list(table.keys()):
        values = np.asarray(table[col])[order]
        if values.dtype.kind == "f":
            values = values.round(9)
        elif col in _COUNTS:
            values = values.astype("int64")
        cols[col] = values
    # one block per column (fresh arrays, no copy): consolidating them into 2-D blocks costs
    # more than the whole numpy path at 1M customers
    table = pd.DataFrame(cols, copy=False)
    if customers is not None:
        if not isinstance(customers, CustomerTable):
            raise ChurnDefinitionError("customers= must be a CustomerTable (survchurn.data.validate.read_customer_table).")
        clash = [c for c in customers.attributes if c in table.columns]
        if clash:
            raise ChurnDefinitionError(f"customer attributes {clash} clash with feature names; rename them.")
        missing = ~table["customer_id"].isin(customers.frame["customer_id"])
        if missing.any():
            warnings.warn(
                f"features: {int(missing.sum()):,} customers have events but no row in the customer table, "
                f"e.g. {table.loc[missing, 'customer_id'].head(5).tolist()}; their attributes are missing",
                DataQualityWarning, stacklevel=2)
        table = table.merge(customers.frame, on="customer_id", how="left")
    return FeatureTable(table, stamp, period_days)


def feature_panel(
    log: EventLog,
    as_of_dates: Iterable[Any],
    *,
    period_days: int = 90,
    customers: CustomerTable | None = None,
) -> FeatureTable:
    """Features as of several dates stacked (for back-tests), with an ``as_of`` column first.

    Each snapshot only sees events up to its own date.
    """
    dates = [as_timestamp(d, "as_of_dates") for d in as_of_dates]
    if not dates:
        raise ChurnDefinitionError("as_of_dates is empty. Fix: pass e.g. quarter ends.")
    parts = []
    for d in sorted(set(dates)):
        frame = features(log, d, period_days=period_days, customers=customers).table
        frame.insert(0, "as_of", d)
        parts.append(frame)
    return FeatureTable(pd.concat(parts, ignore_index=True), None, period_days)
