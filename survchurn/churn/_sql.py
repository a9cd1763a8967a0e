"""Shared SQL fragments for the churn stage.

The SQL is written for DuckDB but kept portable where a portable form exists: durations come
from epoch seconds (``EXTRACT(EPOCH FROM ts)``, which DuckDB, PostgreSQL and Snowflake all read)
instead of dialect-specific date arithmetic; timestamps are standard ``TIMESTAMP '...'``
literals; counts use ``count(*) FILTER (WHERE ...)`` (SQL:2003); gaps use ``LAG``/``LEAD``
window functions; quantiles use ``percentile_cont(...) WITHIN GROUP (ORDER BY ...)``.

DuckDB-only pieces, to replace when porting: ``range()`` as a numbers table (PostgreSQL:
``generate_series``), ``SELECT * EXCLUDE (...)``, ``GROUP BY ALL``, ``bit_or``/``bit_count``
for category breadth (else the distinct-pairs form in ``features_sql`` is portable), a list
argument to ``percentile_cont``, ``TRY_CAST``/``TRY_STRPTIME`` in validation, ``epoch_us`` and
the integer ``<<``/``//``/``%`` that build the sort keys in :func:`event_summary` (a fast path
only: the portable window and GROUP BY forms give the same numbers). :func:`event_sums` is the
numpy fast path for the features' money, period and category sums (one narrow scan, then
``np.bincount`` per customer) that the GROUP BY in ``features_sql`` also computes.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from survchurn.data.eventlog import EventLog, sql_ts
from survchurn.exceptions import DataError, DataProblem

DAY = 86400  # seconds in a day

__all__ = ["DAY", "days", "epoch", "event_summary", "event_sums", "require_log", "ts"]


def epoch(expr: str) -> str:
    """Seconds since 1970 of a TIMESTAMP expression (portable)."""
    return f"EXTRACT(EPOCH FROM {expr})"


def days(later: str, earlier: str) -> str:
    """Days (DOUBLE) from ``earlier`` to ``later``, via epoch seconds (portable)."""
    return f"(({epoch(later)} - {epoch(earlier)}) / {float(DAY)})"


def ts(stamp: pd.Timestamp) -> str:
    """A TIMESTAMP literal."""
    return sql_ts(stamp)


def require_log(log: object, what: str) -> EventLog:
    """Check that ``log`` is an :class:`EventLog` (raise DataError saying how to make one)."""
    if not isinstance(log, EventLog):
        raise DataError(
            [DataProblem(None, f"{what} needs an EventLog, got {type(log).__name__}", 0,
                         "build one with survchurn.data.eventlog.read_event_log(frame, id_col=..., time_col=...)")],
            context="event log",
        )
    return log


_INT_IDS = {"BIGINT": np.int64, "INTEGER": np.int32, "SMALLINT": np.int16, "TINYINT": np.int8}
_MAX_SPAN_S = 3_000_000_000  # sum of squared gaps <= span**2 stays exact in int64 (~95 years)
_CHUNK = 500_000  # events per numpy step (temporaries of a few MB, in cache)


def event_summary(log: EventLog, cut: pd.Timestamp) -> pd.DataFrame | None:
    """Per customer with events up to ``cut``: ``customer_id, n_events, first_activity,
    last_activity, n_gaps, ipt_std_days``, from one sort in numpy; None when it does not apply.

    ``n_gaps`` counts the positive gaps between consecutive event times and ``ipt_std_days``
    is their sample standard deviation in days (NaN below 2 gaps); customers without a gap
    have ``n_gaps == 0``. These are the only statistics that need each customer's events in
    time order. DuckDB's window sort of all events is slow at scale (100M events: about 40 s
    on 2 cores, spilling) and a GROUP BY of 100M events into 1M customers costs about 10 s,
    while numpy sorts 100M 64-bit keys in about 1.5 s. Each event becomes one key
    ``(customer_id - min_id) << B | seconds since the first event``; sorted, the keys of a
    customer are contiguous and consecutive keys differ by the gap in seconds. Counts, first
    and last times are exact; per customer the number of positive gaps ``m``, their sum
    ``S1`` and sum of squares ``S2`` are exact integers, and the sample variance
    ``(m S2 - S1**2) / (m (m - 1))`` has an exact integer numerator (relative error of the
    variance about 1e-16, at least as accurate as a streaming ``STDDEV_SAMP``, and independent
    of summation order, so reruns give the same bits).

    Applies to integer customer ids and whole-second times (dates, or timestamps without
    fractions of a second) whose key fits in 61 bits; otherwise callers use the portable SQL
    (window and GROUP BY), which gives the same values. The result for the latest ``cut`` is
    cached on the log, so a survival table and the features as of the same date sort once.
    """
    cached = log._cache.get("event_summary")
    if cached is not None and cached[0] == cut:
        return cached[1]
    out = _summary(log, cut)
    log._cache["event_summary"] = (cut, out)  # the latest date only (a panel of dates stays small)
    return out


def _summary(log: EventLog, cut: pd.Timestamp) -> pd.DataFrame | None:
    con, view = log.con, log.view
    if log.min_time is None or log.max_time is None or log.n_rows == 0:
        return None
    kind = con.execute(f"SELECT typeof(customer_id) FROM {view} LIMIT 1").fetchall()
    if not kind or kind[0][0] not in _INT_IDS:
        return None
    lo, hi = con.execute(f"SELECT MIN(customer_id), MAX(customer_id) FROM {view}").fetchall()[0]
    t0 = log.min_time.floor("s")
    span = int((max(min(cut, log.max_time), t0) - t0) / pd.Timedelta(seconds=1)) + 1
    bits = span.bit_length()
    if span >= _MAX_SPAN_S or (int(hi) - int(lo)).bit_length() + bits > 61:
        return None
    t0_us = int((t0 - pd.Timestamp("1970-01-01")) // pd.Timedelta(microseconds=1))
    # the lowest bit flags a fraction of a second (one column to fetch, checked per batch)
    rel = con.sql(
        f"SELECT ((((customer_id - {int(lo)}) << {bits}) + us // 1000000) << 1) + CAST(us % 1000000 <> 0 AS BIGINT) AS k "
        f"FROM (SELECT customer_id, epoch_us(time) - {t0_us} AS us FROM {view} WHERE time <= {ts(cut)}) s")
    keys = np.empty(log.n_rows, dtype=np.int64)
    n = 0
    for batch in rel.to_arrow_reader(4_000_000):
        k = batch.column(0).to_numpy()
        if (k & 1).any() or n + len(k) > len(keys):
            return None  # fractions of a second (the SQL forms keep them exactly), or a changed source
        keys[n:n + len(k)] = k
        n += len(k)
    if n == 0:
        return None
    keys = keys[:n]
    keys >>= 1
    keys.sort()
    # chunks of whole customers, small enough to stay in cache, on DuckDB's thread count
    bounds = [0]
    while bounds[-1] < n:
        end = min(bounds[-1] + _CHUNK, n)
        if end < n:  # end the chunk at a customer boundary
            end = int(np.searchsorted(keys, ((keys[end - 1] >> bits) + 1) << bits))
        bounds.append(end)
    threads = int(con.execute("SELECT current_setting('threads')").fetchall()[0][0])
    with ThreadPoolExecutor(max(1, threads)) as pool:  # numpy releases the GIL
        parts = list(pool.map(lambda a, b: _per_customer(keys[a:b], bits, int(lo)), bounds[:-1], bounds[1:]))
    ids, n_events, t_first, t_last, m, s2 = (np.concatenate([p[i] for p in parts]) for i in range(6))
    s1 = t_last - t_first  # the positive gaps add up to the span
    var = np.full(len(ids), np.nan)
    two = m >= 2
    # m S2 - S1**2 in exact integers: int64 while m S2 < 2**61 (then S1**2 <= m S2 fits too),
    # Python integers beyond; then one division
    big = two & (m * s2.astype(np.float64) >= 2.0**61)
    small = two & ~big
    var[small] = (m[small] * s2[small] - s1[small] * s1[small]) / (m[small] * (m[small] - 1))
    if big.any():
        mo, s1o, s2o = (a[big].astype(object) for a in (m, s1, s2))
        var[big] = ((mo * s2o - s1o * s1o) / (mo * (mo - 1))).astype(np.float64)
    std = np.sqrt(var) / float(DAY)
    base = np.datetime64(t0.as_unit("us").to_datetime64(), "us")
    sec = np.timedelta64(1, "s")
    return pd.DataFrame({"customer_id": ids.astype(_INT_IDS[kind[0][0]]), "n_events": n_events.astype(np.int64),
                         "first_activity": base + t_first * sec, "last_activity": base + t_last * sec,
                         "n_gaps": m, "ipt_std_days": std}, copy=False)  # no 2-D block copy


def _per_customer(k: np.ndarray, bits: int, lo: int) -> tuple[np.ndarray, ...]:
    """Sorted keys of whole customers -> id, count, first and last second, m, S2 per customer."""
    cust = k >> bits
    first = np.empty(len(k), dtype=bool)
    first[0] = True
    np.not_equal(cust[1:], cust[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    last = np.append(starts[1:], len(k)) - 1
    gap = np.empty(len(k), dtype=np.int64)
    gap[0] = 0
    np.subtract(k[1:], k[:-1], out=gap[1:])
    gap[starts] = 0  # no gap across customers
    # segment sums as differences of running sums (faster than reduceat); the running sum of
    # squares may wrap around in int64, the differences are exact all the same
    run = np.cumsum(gap > 0, dtype=np.int64)
    m = run[last] - run[starts]
    np.multiply(gap, gap, out=gap)
    run = np.cumsum(gap, out=gap)
    mask = (1 << bits) - 1
    return cust[starts] + lo, last - starts + 1, k[starts] & mask, k[last] & mask, m, run[last] - run[starts]


_EXACT_F64 = 2**53  # integers below this add exactly in float64 (np.bincount's weights)


def event_sums(log: EventLog, cut: pd.Timestamp, p1: pd.Timestamp, p2: pd.Timestamp,
               ids: np.ndarray, cat_lo: int | None, n_cats: int = 0) -> dict[str, np.ndarray] | None:
    """Per customer in ``ids`` (ascending, every customer with events up to ``cut``): the
    period counts and, with an amount column, the money sums and, with ``cat_lo``, the number
    of distinct integer categories ``cat_lo .. cat_lo + n_cats - 1``; None when it does not apply.

    One DuckDB scan streams three narrow columns: ``3 c + period`` (``c`` the customer's code
    ``id - ids[0]``, period 2 for ``(p1, cut]``, 1 for ``(p2, p1]``, else 0), ``c (n_cats + 1) +
    category code`` and the amount; numpy adds them up per (customer, period) with two
    ``np.bincount`` and marks the (customer, category) pairs seen, batch by batch (flat
    memory), replacing a hash GROUP BY of all events. Amounts with at most two decimals
    (``round(100 a) / 100 == a``) are added as integer cents, exactly (each batch's float64
    sums stay below 2**53, checked), so the sums do not depend on the order of the events and
    reruns give the same bits; other amounts are added as floats in the scan order (DuckDB
    keeps the insertion order). Returns arrays ``n_last_period, n_prev_period`` and optionally
    ``monetary_total, amount_last_period, amount_prev_period, category_breadth``.
    Applies when the ids span at most ``4 len(ids) + 2**20`` values and no amount is NULL.
    """
    lo, size = int(ids[0]), int(ids[-1]) - int(ids[0]) + 1
    width = n_cats + 1  # the last category slot holds NULL categories (not counted)
    if size > 4 * len(ids) + 2**20 or 3 * size >= 2**31 or (cat_lo is not None and size * width > 2**28):
        return None
    con, view = log.con, log.view
    c = f"CAST(customer_id - {lo} AS INTEGER)"
    period = f"CAST(time > {ts(p2)} AS INTEGER) + CAST(time > {ts(p1)} AS INTEGER)"
    cat = (f"{c} * {width} + COALESCE(CAST(category - {cat_lo} AS INTEGER), {n_cats})"
           if cat_lo is not None else "0")
    money = "CASE WHEN round(amount * 100) / 100 = amount THEN TRY_CAST(round(amount * 100) AS BIGINT) END"
    for exact in (True, False):
        amount = (money if exact else "amount") if log.has_amount else "NULL"
        rel = con.sql(f"SELECT {c} * 3 + {period} AS cp, {cat} AS ck, {amount} AS a "
                      f"FROM {view} WHERE time <= {ts(cut)}")
        out = _sum_batches(rel, size, width if cat_lo is not None else 0, log.has_amount, exact)
        if out is not None or not log.has_amount:
            break
    if out is None:
        return None
    pos = ids.astype(np.int64) - lo
    res = {name: values[pos] for name, values in out.items()}
    if log.has_amount and res["monetary_total"].dtype.kind == "i":
        for name in ("monetary_total", "amount_last_period", "amount_prev_period"):
            res[name] = res[name] / 100.0
    return res


def _sum_batches(rel: object, size: int, width: int, money: bool, exact: bool) -> dict[str, np.ndarray] | None:
    """Add up the scanned batches per customer code (see :func:`event_sums`)."""
    acc = np.int64 if exact else np.float64
    counts = np.zeros(3 * size, np.int64)
    amounts = np.zeros(3 * size, acc)
    seen = np.zeros(size * width, dtype=bool) if width else None
    bound = 0  # bound on the absolute cents added so far (int64 accumulators stay exact)
    for batch in rel.to_arrow_reader(4_000_000):  # type: ignore[attr-defined]
        cp = batch.column(0).to_numpy()
        counts += np.bincount(cp, minlength=3 * size)
        if seen is not None:
            seen[batch.column(1).to_numpy()] = True
        if money:
            col = batch.column(2)
            if col.null_count:
                return None  # amounts that are not whole cents (exact pass), or NULL amounts
            a = col.to_numpy()
            if exact:
                step = int(np.abs(a).max()) * len(a)
                bound += step
                if step >= _EXACT_F64 or bound >= 2**62:
                    return None
            amounts += np.bincount(cp, weights=a.astype(np.float64), minlength=3 * size).astype(acc)
    counts3 = counts.reshape(size, 3)
    out = {"n_last_period": counts3[:, 2], "n_prev_period": counts3[:, 1]}
    if money:
        amounts3 = amounts.reshape(size, 3)
        total = amounts3[:, 0] + amounts3[:, 1] + amounts3[:, 2]  # in this fixed order
        out.update(monetary_total=total, amount_last_period=amounts3[:, 2], amount_prev_period=amounts3[:, 1])
    if seen is not None:
        out["category_breadth"] = seen.reshape(size, width)[:, :-1].sum(axis=1, dtype=np.int64)
    return out
