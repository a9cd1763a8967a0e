"""Sufficient statistics for Kaplan-Meier and log-rank: counts per (group, time).

Kaplan-Meier, Nelson-Aalen and the G-rho log-rank family depend on the data only through, for
every group and distinct time, the number of events, censorings and late entries. Those counts
are computed here either from in-memory arrays (vectorised: ``np.bincount`` on integer keys, no
per-row Python) or inside DuckDB with one ``GROUP BY`` (:func:`counts_from_duckdb`), so a table of
100M customers never becomes a Python array.

Risk sets follow from cumulative sums, with the counting-process convention of R's
``Surv(entry, duration, event)``: a subject is at risk at time ``t`` when ``entry < t <= duration``.
Without an entry column every subject is at risk from the start: ``n_risk(t) = #{duration >= t}``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from survchurn.exceptions import DataError, DataProblem

__all__ = [
    "COUNT_COLUMNS",
    "SurvivalCounts",
    "counts_from_arrays",
    "counts_from_duckdb",
    "counts_from_frame",
]

logger = logging.getLogger(__name__)

COUNT_COLUMNS = ["group", "time", "n_event", "n_censor", "n_enter"]
ALL = "all"  # the group label used when no group column is given
_INT_SPAN_LIMIT = 2_000_000  # (groups x time range) always handled by direct bincount


@dataclass(frozen=True)
class SurvivalCounts:
    """Counts of events, censorings and late entries per group and distinct time.

    Parameters
    ----------
    table : pandas.DataFrame
        Columns ``group, time, n_event, n_censor, n_enter``, sorted by group (in ``groups``
        order) then time. ``n_enter`` counts subjects whose entry time equals ``time``.
    groups : list
        The group labels in display order (``["all"]`` without a group column).
    has_entry : bool
        Whether entry (late-entry) times were given.
    group_col : str or None
        Name of the grouping column, for headers.
    """

    table: pd.DataFrame
    groups: list[Any]
    has_entry: bool = False
    group_col: str | None = None

    def group_table(self, group: Any) -> pd.DataFrame:
        """The rows of one group, with the number at risk (``n_risk``) added."""
        t = self.table[self.table["group"] == group]
        return add_risk_sets(t)

    def risk_at(self, group: Any, times: np.ndarray) -> np.ndarray:
        """Number at risk at each of ``times`` (entered before ``t`` and duration >= t)."""
        t = self.table[self.table["group"] == group]
        time = t["time"].to_numpy(float)
        exits = (t["n_event"] + t["n_censor"]).to_numpy(float)
        enter = t["n_enter"].to_numpy(float)
        n_initial = exits.sum() - enter.sum()
        cum_exit = np.concatenate([[0.0], np.cumsum(exits)])
        cum_enter = np.concatenate([[0.0], np.cumsum(enter)])
        k = np.searchsorted(time, np.asarray(times, float), side="left")  # rows with time < t
        return n_initial + cum_enter[k] - cum_exit[k]

    def subset(self, groups: list[Any]) -> SurvivalCounts:
        """The counts of some groups only (pairwise tests)."""
        keep = self.table["group"].isin(groups)
        return SurvivalCounts(self.table[keep].reset_index(drop=True), list(groups),
                              self.has_entry, self.group_col)


def add_risk_sets(t: pd.DataFrame) -> pd.DataFrame:
    """Add ``n_risk`` to the sorted counts of ONE group (cumulative sums, see module doc)."""
    exits = (t["n_event"] + t["n_censor"]).to_numpy(np.int64)
    enter = t["n_enter"].to_numpy(np.int64)
    n_initial = exits.sum() - enter.sum()
    n_risk = n_initial + (np.cumsum(enter) - enter) - (np.cumsum(exits) - exits)
    out = t.copy()
    out["n_risk"] = n_risk
    return out


def _as_numbers(values: Any) -> np.ndarray:
    """A numpy array: integer and bool arrays kept as they are (fast path), others as float."""
    arr = values.to_numpy() if isinstance(values, pd.Series) else np.asarray(values)
    if arr.dtype.kind in "biu":
        return arr
    if isinstance(values, pd.Series):
        return values.to_numpy(dtype=float, na_value=np.nan)
    return np.asarray(values, dtype=float)


def _validate(dur: np.ndarray, ev: np.ndarray, gmiss: np.ndarray | None,
              ent: np.ndarray | None, ids: Any, names: dict[str, str]) -> None:
    """Raise one DataError listing every problem; cheap whole-array checks first."""
    problems: list[DataProblem] = []

    def examples(mask: np.ndarray) -> list[Any]:
        rows = np.flatnonzero(mask)[:5]
        if ids is None:
            return rows.tolist()
        return [x.item() if hasattr(x, "item") else x for x in np.asarray(ids)[rows]]

    def add(col: str, msg: str, mask: np.ndarray, fix: str) -> None:
        problems.append(DataProblem(col, msg, int(mask.sum()), examples(mask), fix))

    int_dur = dur.dtype.kind in "biu"
    if (dur < 0).any() if int_dur else not (np.isfinite(dur).all() and (dur >= 0).all()):
        bad = (dur < 0) if int_dur else ~(np.isfinite(dur) & (dur >= 0))
        add(names["duration"], "durations must be finite and >= 0", bad,
            "drop these rows or repair the survival table")
    if ev.dtype.kind == "b":
        pass
    elif ev.dtype.kind in "iu" and ev.itemsize == 1:
        if (ev.view(np.uint8) > 1).any():
            add(names["event"], "event must be 0 (censored) or 1 (churned)",
                ev.view(np.uint8) > 1, "recode the event column to 0/1")
    else:
        bad = (ev != 0) & (ev != 1)
        if bad.any():
            add(names["event"], "event must be 0 (censored) or 1 (churned)", bad,
                "recode the event column to 0/1")
    if gmiss is not None and gmiss.any():
        add(names["group"], "missing group labels", gmiss,
            "fill them (e.g. 'unknown') or drop these rows")
    if ent is not None:
        if ent.dtype.kind not in "biu" and not np.isfinite(ent).all():
            add(names["entry"], "missing or infinite entry times", ~np.isfinite(ent),
                "use 0 for customers observed from the start")
        late = ent >= dur
        if late.any():
            add(names["entry"], f"entry must be smaller than {names['duration']}", late,
                "drop customers who left before the data window")
    if problems:
        raise DataError(problems, context="survival data")


def _label_array(labels: list[Any]) -> np.ndarray:
    out = np.empty(len(labels), dtype=object)
    out[:] = labels
    return out


def _factorize_groups(group: Any) -> tuple[np.ndarray, list[Any], np.ndarray]:
    """Integer codes, labels in display order, and the missing-value mask."""
    s = group if isinstance(group, pd.Series) else pd.Series(np.asarray(group))
    if isinstance(s.dtype, pd.CategoricalDtype):
        codes = s.cat.codes.to_numpy()
        missing = codes < 0
        return codes, list(s.cat.categories), missing  # unused categories dropped after counting
    try:
        codes, uniques = pd.factorize(s, sort=True)
    except TypeError:  # mixed types cannot be sorted
        codes, uniques = pd.factorize(s, sort=False)
    return codes, list(uniques), codes < 0


def counts_from_arrays(
    duration: Any,
    event: Any,
    group: Any = None,
    entry: Any = None,
    ids: Any = None,
    names: dict[str, str] | None = None,
    group_col: str | None = None,
) -> SurvivalCounts:
    """Count events, censorings and late entries per (group, time) from arrays.

    Parameters
    ----------
    duration, event : array-like
        Time to churn or censoring (>= 0) and the event flag (1 churned, 0 censored).
    group : array-like, optional
        Group labels; a pandas Categorical keeps its category order, otherwise labels are sorted.
    entry : array-like, optional
        Late-entry times; each must be smaller than the duration (``Surv(entry, duration, event)``).
    ids : array-like, optional
        Row ids used as examples in error messages (default: row positions).
    names : dict, optional
        Column names used in error messages (keys ``duration``, ``event``, ``group``, ``entry``).
    group_col : str, optional
        Name of the grouping column, kept for headers.

    Returns
    -------
    SurvivalCounts

    Raises
    ------
    DataError
        Listing every problem at once: missing or negative durations, events other than 0/1,
        missing groups, missing entries or entries not before the duration.
    """
    names = {"duration": "duration", "event": "event", "group": "group", "entry": "entry",
             **(names or {})}
    dur = _as_numbers(duration)
    ev = _as_numbers(event)
    n = len(dur)
    if len(ev) != n:
        raise DataError([f"{names['event']} has {len(ev):,} values but {names['duration']} "
                         f"has {n:,}: pass columns of one table"], context="survival data")
    ent = _as_numbers(entry) if entry is not None else None
    if group is not None:
        gcodes, labels, gmiss = _factorize_groups(group)
    else:
        gcodes, labels, gmiss = None, [ALL], None
    _validate(dur, ev, gmiss, ent, ids, names)
    if n == 0:
        raise DataError([DataProblem(None, "no rows to fit", 0,
                                     fix="check the filters that built the table")],
                        context="survival data")

    n_groups = len(labels)
    is_event = ev if ev.dtype.kind in "biu" else (ev == 1)
    integral = dur.dtype.kind in "iu" or bool(np.all(dur == np.floor(dur)))
    if ent is not None:
        integral = integral and (ent.dtype.kind in "iu" or bool(np.all(ent == np.floor(ent))))
    tmin = dur.min() if ent is None else min(dur.min(), ent.min())
    tmax = dur.max() if ent is None else max(dur.max(), ent.max())
    span = int(tmax - tmin) + 1 if integral else 0
    direct = integral and span * n_groups <= max(_INT_SPAN_LIMIT, n)
    if direct:
        # integer days: cell = group * span + (time - tmin), no sorting
        times_of = np.arange(span, dtype=float) + float(tmin)
        shift = int(tmin)
        offset, ent_off = dur, ent
    else:
        uniq, inv = np.unique(dur if ent is None else np.concatenate([dur, ent]),
                              return_inverse=True)
        span = len(uniq)
        shift = 0
        offset, ent_off = inv[:n], (None if ent is None else inv[n:])
        times_of = uniq.astype(float)
    size = span * n_groups

    def cell(t: np.ndarray) -> np.ndarray:
        # one int64 buffer, updated in place: group * span + t - shift
        key = np.zeros(n, np.int64) if gcodes is None else gcodes.astype(np.int64)
        if gcodes is not None:
            key *= span
        np.add(key, t, out=key, casting="unsafe")  # t is integral here
        if shift:
            key -= shift
        return key

    key = cell(offset)
    key <<= 1
    np.add(key, is_event, out=key, casting="unsafe")  # ((cell) * 2 + event)
    both = np.bincount(key, minlength=2 * size)
    del key
    n_censor, n_event = both[0::2], both[1::2]
    n_enter = (np.zeros(size, dtype=np.int64) if ent_off is None
               else np.bincount(cell(ent_off), minlength=size))
    nz = np.flatnonzero((n_event > 0) | (n_censor > 0) | (n_enter > 0))
    g_idx, t_idx = np.divmod(nz, span)
    present = np.unique(g_idx)
    if len(present) < n_groups:  # unused categories of a Categorical
        labels = [labels[i] for i in present]
    table = pd.DataFrame({
        "group": _label_array(labels)[np.searchsorted(present, g_idx)],
        "time": times_of[t_idx],
        "n_event": n_event[nz].astype(np.int64),
        "n_censor": n_censor[nz].astype(np.int64),
        "n_enter": n_enter[nz].astype(np.int64),
    })
    logger.debug("counted %d rows into %d (group, time) cells", n, len(table))
    return SurvivalCounts(table, labels, ent is not None, group_col)


def counts_from_frame(
    table: pd.DataFrame,
    duration_col: str = "duration",
    event_col: str = "event",
    group_col: str | None = None,
    entry_col: str | None = None,
    id_col: str | None = None,
) -> SurvivalCounts:
    """:func:`counts_from_arrays` on the columns of a DataFrame (ids from ``id_col`` or the index)."""
    cols = [duration_col, event_col] + [c for c in (group_col, entry_col, id_col) if c]
    missing = [c for c in cols if c not in table.columns]
    if missing:
        raise DataError([DataProblem(c, "column not found", len(table),
                                     fix=f"pass the right name; columns are {list(table.columns)[:10]}")
                         for c in missing], context="survival data")
    ids = table[id_col].to_numpy() if id_col else table.index
    return counts_from_arrays(
        table[duration_col], table[event_col],
        group=table[group_col] if group_col else None,
        entry=table[entry_col] if entry_col else None,
        ids=ids,
        names={"duration": duration_col, "event": event_col, "group": group_col or "group",
               "entry": entry_col or "entry"},
        group_col=group_col,
    )


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def counts_from_duckdb(
    con: Any,
    relation_or_sql: Any,
    duration_col: str = "duration",
    event_col: str = "event",
    group_col: str | None = None,
    entry_col: str | None = None,
) -> SurvivalCounts:
    """Count events, censorings and late entries per (group, time) inside DuckDB.

    One validation scan and one ``GROUP BY`` run in DuckDB; only the aggregated counts (one row
    per group and distinct time) come back to Python, so any number of customers fits in memory.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        An open connection.
    relation_or_sql : str or duckdb.DuckDBPyRelation
        A table or view name, a ``SELECT`` query, or a relation.
    duration_col, event_col, group_col, entry_col : str
        Column names, as in :func:`counts_from_frame`.

    Returns
    -------
    SurvivalCounts

    Raises
    ------
    DataError
        With the number of bad rows per problem (as :func:`counts_from_arrays`) and example
        values; the table may be too large to carry ids.
    """
    if isinstance(relation_or_sql, str):
        text = relation_or_sql.strip()
        src = f"({text})" if " " in text else _quote(text)
        return _duckdb_counts(con, src, duration_col, event_col, group_col, entry_col)
    name = "_survchurn_counts_src"
    con.register(name, relation_or_sql)
    try:
        return _duckdb_counts(con, _quote(name), duration_col, event_col, group_col, entry_col)
    finally:
        con.unregister(name)


def _duckdb_counts(con: Any, src: str, duration_col: str, event_col: str,
                   group_col: str | None, entry_col: str | None) -> SurvivalCounts:
    d, e = _quote(duration_col), _quote(event_col)
    g = _quote(group_col) if group_col else f"'{ALL}'"
    en = _quote(entry_col) if entry_col else None
    checks = {
        "duration": f"{d} IS NULL OR NOT isfinite({d}::DOUBLE) OR {d} < 0",
        "event": f"{e} IS NULL OR {e}::DOUBLE NOT IN (0, 1)",
    }
    if group_col:
        checks["group"] = f"{g} IS NULL"
    if en:
        checks["entry"] = f"{en} IS NULL OR NOT isfinite({en}::DOUBLE)"
        checks["late"] = f"{en} >= {d}"
    select = ", ".join(f"count(*) FILTER (WHERE {c})" for c in checks.values())
    bad = con.execute(f"SELECT count(*), {select} FROM {src} AS t").fetchone()
    n_rows, bad = bad[0], dict(zip(checks, bad[1:], strict=True))
    messages = {
        "duration": (duration_col, "durations must be finite and >= 0", "drop or repair them"),
        "event": (event_col, "event must be 0 (censored) or 1 (churned)", "recode to 0/1"),
        "group": (group_col, "missing group labels", "fill them or drop these rows"),
        "entry": (entry_col, "missing or infinite entry times",
                  "use 0 for customers observed from the start"),
        "late": (entry_col, f"entry must be smaller than {duration_col}",
                 "drop customers who left before the data window"),
    }
    problems = []
    for key, count in bad.items():
        if count:
            col, msg, fix = messages[key]
            ex = [r[0] for r in con.execute(
                f"SELECT {d}::DOUBLE FROM {src} AS t WHERE {checks[key]} LIMIT 5").fetchall()]
            problems.append(DataProblem(col, msg + f" (example {duration_col} values)",
                                        int(count), ex, fix))
    if problems:
        raise DataError(problems, context="survival data (DuckDB)")
    if n_rows == 0:
        raise DataError([DataProblem(None, "no rows to fit", 0,
                                     fix="check the query that selects the customers")],
                        context="survival data (DuckDB)")
    parts = [f"SELECT {g} AS g, {d}::DOUBLE AS t, {e}::INTEGER AS ev, 1 AS ex, 0 AS en "
             f"FROM {src} AS s"]
    if en:
        parts.append(f"SELECT {g} AS g, {en}::DOUBLE AS t, 0, 0, 1 FROM {src} AS s")
    sql = (f"SELECT g AS \"group\", t AS time, sum(ev)::BIGINT AS n_event, "
           f"(sum(ex) - sum(ev))::BIGINT AS n_censor, sum(en)::BIGINT AS n_enter "
           f"FROM ({' UNION ALL '.join(parts)}) GROUP BY g, t ORDER BY g, t")
    table = con.execute(sql).df()
    try:
        labels = sorted(table["group"].unique().tolist())
    except TypeError:
        labels = table["group"].unique().tolist()
    order = {lab: i for i, lab in enumerate(labels)}
    table = (table.assign(_o=table["group"].map(order)).sort_values(["_o", "time"])
             .drop(columns="_o").reset_index(drop=True))
    table["group"] = table["group"].astype(object)
    return SurvivalCounts(table[COUNT_COLUMNS], labels, en is not None, group_col)
