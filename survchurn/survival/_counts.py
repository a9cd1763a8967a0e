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


def _examples(ids: np.ndarray, mask: np.ndarray) -> list[Any]:
    return [x.item() if hasattr(x, "item") else x for x in ids[np.flatnonzero(mask)[:5]]]


def _as_float(values: Any) -> np.ndarray:
    if isinstance(values, pd.Series):
        return values.to_numpy(dtype=float, na_value=np.nan)
    return np.asarray(values, dtype=float)


def _factorize_groups(group: Any) -> tuple[np.ndarray, list[Any], np.ndarray]:
    """Integer codes, labels in display order, and the missing-value mask."""
    s = group if isinstance(group, pd.Series) else pd.Series(np.asarray(group))
    if isinstance(s.dtype, pd.CategoricalDtype):
        codes = s.cat.codes.to_numpy()
        missing = codes < 0
        used = np.flatnonzero(np.bincount(codes[~missing], minlength=len(s.cat.categories)))
        remap = np.full(len(s.cat.categories), -1)
        remap[used] = np.arange(len(used))
        new = np.where(missing, -1, remap[np.where(missing, 0, codes)])
        return new, [s.cat.categories[i] for i in used], missing
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
    dur = _as_float(duration)
    ev = _as_float(event)
    n = len(dur)
    if len(ev) != n:
        raise DataError([f"{names['event']} has {len(ev):,} values but {names['duration']} "
                         f"has {n:,}: pass columns of one table"], context="survival data")
    ids_arr = np.arange(n) if ids is None else np.asarray(ids)
    problems: list[DataProblem] = []
    bad = ~np.isfinite(dur) | (dur < 0)
    if bad.any():
        problems.append(DataProblem(names["duration"], "durations must be finite and >= 0",
                                    int(bad.sum()), _examples(ids_arr, bad),
                                    "drop these rows or repair the survival table"))
    bad_ev = ~((ev == 0) | (ev == 1))
    if bad_ev.any():
        problems.append(DataProblem(names["event"], "event must be 0 (censored) or 1 (churned)",
                                    int(bad_ev.sum()), _examples(ids_arr, bad_ev),
                                    "recode the event column to 0/1"))
    if group is not None:
        gcodes, labels, gmiss = _factorize_groups(group)
        if gmiss.any():
            problems.append(DataProblem(names["group"], "missing group labels",
                                        int(gmiss.sum()), _examples(ids_arr, gmiss),
                                        "fill them (e.g. 'unknown') or drop these rows"))
    else:
        gcodes, labels = np.zeros(n, dtype=np.int64), [ALL]
    ent = None
    if entry is not None:
        ent = _as_float(entry)
        bad_en = ~np.isfinite(ent)
        if bad_en.any():
            problems.append(DataProblem(names["entry"], "missing or infinite entry times",
                                        int(bad_en.sum()), _examples(ids_arr, bad_en),
                                        "use 0 for customers observed from the start"))
        late = np.isfinite(ent) & np.isfinite(dur) & (ent >= dur)
        if late.any():
            problems.append(DataProblem(names["entry"],
                                        f"entry must be smaller than {names['duration']}",
                                        int(late.sum()), _examples(ids_arr, late),
                                        "drop customers who left before the data window"))
    if problems:
        raise DataError(problems, context="survival data")
    if n == 0:
        raise DataError([DataProblem(None, "no rows to fit", 0,
                                     fix="check the filters that built the table")],
                        context="survival data")

    gcodes = np.asarray(gcodes, dtype=np.int64)
    n_groups = len(labels)
    is_event = ev == 1
    time_values = dur if ent is None else np.concatenate([dur, ent])
    integral = np.all(time_values == np.floor(time_values))
    tmin = time_values.min()
    span = int(time_values.max() - tmin) + 1 if integral else 0
    if integral and span * n_groups <= max(_INT_SPAN_LIMIT, n):
        # integer days: direct bincount on group * span + (time - tmin), no sorting
        key = gcodes * span + (dur - tmin).astype(np.int64)
        size = span * n_groups
        n_event = np.bincount(key, weights=is_event, minlength=size)
        n_exit = np.bincount(key, minlength=size)
        n_enter = (np.bincount(gcodes * span + (ent - tmin).astype(np.int64), minlength=size)
                   if ent is not None else np.zeros(size, dtype=np.int64))
        nz = np.flatnonzero((n_exit > 0) | (n_enter > 0))
        g_idx, t_idx = np.divmod(nz, span)
        times = t_idx + tmin
    else:
        uniq, inv = np.unique(time_values, return_inverse=True)
        span = len(uniq)
        size = span * n_groups
        key = gcodes * span + inv[:n]
        n_event = np.bincount(key, weights=is_event, minlength=size)
        n_exit = np.bincount(key, minlength=size)
        n_enter = (np.bincount(gcodes * span + inv[n:], minlength=size)
                   if ent is not None else np.zeros(size, dtype=np.int64))
        nz = np.flatnonzero((n_exit > 0) | (n_enter > 0))
        g_idx, t_idx = np.divmod(nz, span)
        times = uniq[t_idx]
    ne = n_event[nz].astype(np.int64)
    table = pd.DataFrame({
        "group": pd.Categorical.from_codes(g_idx, categories=pd.Index(labels)),
        "time": times.astype(float),
        "n_event": ne,
        "n_censor": n_exit[nz].astype(np.int64) - ne,
        "n_enter": n_enter[nz].astype(np.int64),
    })
    table["group"] = table["group"].astype(object)
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
    ids = table[id_col].to_numpy() if id_col else table.index.to_numpy()
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
    else:
        name = "_survchurn_counts_src"
        con.register(name, relation_or_sql)
        src = _quote(name)
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
