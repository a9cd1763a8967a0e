"""Reading an event log into DuckDB and validating it.

An event log has one row per event (a purchase, a visit, a login): a customer id, a timestamp
and optionally an amount, a category and an event type. :func:`read_event_log` maps the user's
column names onto canonical names (``customer_id``, ``time``, ``amount``, ``category``,
``event_type``), checks the data, and returns an :class:`EventLog` whose rows stay inside an
in-process DuckDB connection, so 100 million events never turn into per-row Python work.

Validation policy (every rule is tested):

* **fatal** problems raise one :class:`~survchurn.exceptions.DataError` listing all of them:
  missing columns (with the columns that do exist and a did-you-mean), a time column holding
  numbers, a non-numeric amount column, an empty log, and, with ``on_invalid="raise"`` or
  ``duplicates="error"``, every row-level problem below;
* **row-level** problems (null ids, missing dates, dates that cannot be parsed, amounts that are
  not numbers, negative amounts, duplicate rows with ``duplicates="drop"``) move the rows to
  :attr:`EventLog.rejected` with a ``reason`` and raise one
  :class:`~survchurn.exceptions.DataQualityWarning` naming the counts;
* **negative amounts** are refunds or corrections, not activity: they are rejected unless
  ``allow_negative_amounts=True`` (then they are kept as events and count in monetary sums);
* **events after ``as_of``** are not errors: a snapshot as of a date excludes them by design.
  They are counted (:attr:`EventLog.n_after_as_of`) and left out of the log;
* **duplicates**: exact duplicate rows are often real (two orders on one day, as in CDNOW), so
  the default ``duplicates="keep"`` keeps them without scanning for them; ``"warn"`` counts
  them and warns, ``"drop"`` keeps one copy of each, ``"error"`` raises.
"""

from __future__ import annotations

import difflib
import itertools
import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import duckdb
import pandas as pd

from survchurn.exceptions import ChurnDefinitionError, DataError, DataProblem, DataQualityWarning

__all__ = [
    "CANONICAL",
    "EventLog",
    "as_timestamp",
    "connect",
    "end_of_day",
    "quote",
    "sql_str",
    "sql_ts",
    "read_event_log",
]

logger = logging.getLogger(__name__)

#: canonical column names used inside survchurn, by argument name
CANONICAL = {
    "id_col": "customer_id",
    "time_col": "time",
    "amount_col": "amount",
    "category_col": "category",
    "type_col": "event_type",
}
_COUNTER = itertools.count()
_N_EXAMPLES = 5


def connect() -> duckdb.DuckDBPyConnection:
    """A new in-process DuckDB connection with survchurn's session settings (UTC clock)."""
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'").fetchall()
    return con


def quote(name: str) -> str:
    """Quote an SQL identifier (standard double quotes, embedded quotes doubled)."""
    return '"' + str(name).replace('"', '""') + '"'


def as_timestamp(value: Any, name: str = "as_of") -> pd.Timestamp:
    """Parse a date or timestamp given as an argument; naive UTC; raise ChurnDefinitionError."""
    if value is None:
        raise ChurnDefinitionError(f"{name} is required: pass a date such as '1998-06-30'.")
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise ChurnDefinitionError(
            f"{name}={value!r} is not a date. Fix: pass a date such as '1998-06-30'."
        ) from exc
    if stamp is pd.NaT:
        raise ChurnDefinitionError(f"{name} is missing (NaT). Fix: pass a date such as '1998-06-30'.")
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp


@dataclass(frozen=True, eq=False)
class EventLog:
    """A validated event log held in DuckDB, with canonical column names.

    Build it with :func:`read_event_log`. The clean events are the SQL view :attr:`view` on
    :attr:`con` with columns ``customer_id``, ``time`` (TIMESTAMP) and, when mapped,
    ``amount`` (DOUBLE), ``category`` and ``event_type``.

    Attributes
    ----------
    con : duckdb.DuckDBPyConnection
        The connection that holds the data.
    view : str
        Name of the view of clean events (already quoted-safe: letters, digits, underscore).
    columns : tuple of str
        Canonical columns present.
    source_columns : dict
        Canonical name -> the user's column name.
    rejected : pandas.DataFrame
        Rows that could not be used, with the canonical columns and ``reason``.
    n_rows_in, n_rows : int
        Rows read, rows kept.
    n_customers_in : int
        Distinct non-null customer ids read (before rejecting rows), leaving out customers
        whose only events are clean events after ``as_of``.
    n_after_as_of : int
        Rows left out because they are later than ``as_of`` (not errors).
    n_duplicates : int or None
        Exact duplicate rows found (``None`` when not scanned, ``duplicates="keep"``).
    as_of : pandas.Timestamp or None
        The cut-off applied when reading, if any.
    """

    con: duckdb.DuckDBPyConnection
    view: str
    columns: tuple[str, ...]
    source_columns: dict[str, str]
    rejected: pd.DataFrame
    n_rows_in: int
    n_rows: int
    n_after_as_of: int = 0
    n_duplicates: int | None = None
    as_of: pd.Timestamp | None = None
    min_time: pd.Timestamp | None = None
    max_time: pd.Timestamp | None = None
    _keep: list[Any] = field(default_factory=list, repr=False)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def n_customers_in(self) -> int:
        """Distinct customers read: those with clean events plus those whose rows were all
        rejected (customers seen only after a read-time ``as_of`` are left out). Counted on
        first use (one scan), then cached."""
        if "n_customers_in" not in self._cache:
            n_clean = self.con.execute(
                f"SELECT count(*) FROM (SELECT DISTINCT customer_id FROM {self.view}) d").fetchall()[0][0]
            self._cache["n_customers_in"] = int(n_clean) + len(self.rejected_customers())
        return self._cache["n_customers_in"]

    @property
    def has_amount(self) -> bool:
        """Whether an amount column was mapped."""
        return "amount" in self.columns

    @property
    def has_category(self) -> bool:
        """Whether a category column was mapped."""
        return "category" in self.columns

    def relation(self) -> duckdb.DuckDBPyRelation:
        """The clean events as a DuckDB relation."""
        return self.con.table(self.view)

    def to_pandas(self) -> pd.DataFrame:
        """The clean events as a pandas DataFrame (sorted by customer and time)."""
        cols = ", ".join(quote(c) for c in self.columns)
        return self.con.execute(
            f"SELECT {cols} FROM {self.view} ORDER BY customer_id, time"
        ).df()

    def rejected_customers(self) -> pd.DataFrame:
        """Customers whose every row was rejected: ``customer_id``, ``reason``."""
        if self.rejected.empty:
            return pd.DataFrame({"customer_id": pd.Series([], dtype=object), "reason": []})
        ids = self.rejected["customer_id"].dropna().unique()
        if len(ids) == 0:
            return pd.DataFrame({"customer_id": pd.Series([], dtype=object), "reason": []})
        rel = self.con.execute(
            f"SELECT DISTINCT customer_id FROM {self.view} WHERE customer_id IN "
            f"(SELECT UNNEST(?))",
            [list(ids.tolist())],
        ).df()
        gone = self.rejected[
            self.rejected["customer_id"].notna() & ~self.rejected["customer_id"].isin(rel["customer_id"])
        ]
        out = (
            gone.groupby("customer_id", sort=True)["reason"]
            .agg(lambda r: "all events rejected: " + "; ".join(sorted(set(r))))
            .reset_index()
        )
        return out

    def __repr__(self) -> str:
        cols = ", ".join(self.columns)
        span = f"{self.min_time:%Y-%m-%d}..{self.max_time:%Y-%m-%d}" if self.min_time is not None else "empty"
        return (
            f"<EventLog {self.n_rows:,} events ({self.n_rows_in:,} read, {len(self.rejected):,} rejected), "
            f"{span}; columns: {cols}>"
        )


def _register_source(
    con: duckdb.DuckDBPyConnection, source: Any, name: str, keep: list[Any], own: bool
) -> str:
    """Register ``source`` on ``con`` under ``name`` and return a SELECT over it."""
    if isinstance(source, pd.DataFrame):
        frame = source
        if not frame.columns.is_unique:
            dup = frame.columns[frame.columns.duplicated()].tolist()
            raise DataError(
                [DataProblem(str(dup[0]), "column name appears more than once", len(frame), dup,
                             "rename the columns so each name is unique")],
                context="event log",
            )
        # object columns (mixed python values) become strings so DuckDB can scan them
        obj = [c for c in frame.columns if frame[c].dtype == object]
        if obj:
            frame = frame.copy()
            for c in obj:
                frame[c] = frame[c].map(lambda v: None if v is None or (isinstance(v, float) and v != v) else str(v)).astype("string")
        frame = frame.set_axis([str(c) for c in frame.columns], axis=1)
        keep.append(frame)
        con.register(name, frame)
        return f"SELECT * FROM {name}"
    if isinstance(source, duckdb.DuckDBPyRelation):
        if own:
            raise DataError([DataProblem(None, "a DuckDB relation needs the connection it was built on", 0,
                                         "pass con=<that connection>")], context="event log")
        try:
            source.create_view(name, replace=True)
        except duckdb.Error as exc:
            raise DataError([f"cannot use the DuckDB relation: {exc}. Fix: pass a relation built on the same connection as con="], context="event log") from exc
        return f"SELECT * FROM {name}"
    if isinstance(source, (str, Path)):
        text = str(source)
        path = Path(text)
        lower = text.lower()
        if lower.endswith((".parquet", ".pq")) or (path.suffix == "" and path.is_dir()):
            if not path.exists():
                raise DataError([DataProblem(None, f"file not found: {text}", 0, fix="check the path")], context="event log")
            target = str(path / "**" / "*.parquet") if path.is_dir() else text
            return f"SELECT * FROM read_parquet('{sql_str(target)}')"
        if lower.endswith((".csv", ".csv.gz", ".tsv", ".txt")):
            if not path.exists():
                raise DataError([DataProblem(None, f"file not found: {text}", 0, fix="check the path")], context="event log")
            return f"SELECT * FROM read_csv('{sql_str(text)}', header=true, all_varchar=false)"
        if lower.lstrip().startswith(("select", "with", "from", "table")):
            if own:
                raise DataError([DataProblem(None, "a SQL query needs the connection that holds its tables", 0,
                                             "pass con=<that connection>")], context="event log")
            return f"SELECT * FROM ({text})"
        raise DataError(
            [DataProblem(None, f"cannot read {text!r}: not a .csv/.parquet path nor a SELECT query", 0,
                         fix="pass a pandas DataFrame, a .csv or .parquet path, a DuckDB relation or a SQL query with con=")],
            context="event log",
        )
    raise DataError(
        [DataProblem(None, f"unsupported source type {type(source).__name__}", 0,
                     fix="pass a pandas DataFrame, a .csv or .parquet path, a DuckDB relation or a SQL query with con=")],
        context="event log",
    )


def sql_str(text: str) -> str:
    """Escape text for a single-quoted SQL string literal."""
    return text.replace("'", "''")


def sql_ts(stamp: pd.Timestamp) -> str:
    """A standard SQL ``TIMESTAMP '...'`` literal (microsecond precision)."""
    return f"TIMESTAMP '{stamp.strftime('%Y-%m-%d %H:%M:%S.%f')}'"


def _did_you_mean(name: str, existing: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, list(existing), n=1, cutoff=0.5)
    if not close:
        lowered = {c.lower(): c for c in existing}
        if name.lower() in lowered:
            close = [lowered[name.lower()]]
    return f"; did you mean {close[0]!r}?" if close else ""


def _is_numeric(t: str) -> bool:
    t = t.upper()
    return t in {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
                 "UINTEGER", "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "REAL"} or t.startswith("DECIMAL")


def _is_time(t: str) -> bool:
    return t.upper().startswith(("TIMESTAMP", "DATE"))


def read_event_log(
    source: Any,
    *,
    id_col: str,
    time_col: str,
    amount_col: str | None = None,
    category_col: str | None = None,
    type_col: str | None = None,
    as_of: Any = None,
    time_format: str | None = None,
    duplicates: Literal["keep", "warn", "drop", "error"] = "keep",
    allow_negative_amounts: bool = False,
    on_invalid: Literal["reject", "raise"] = "reject",
    con: duckdb.DuckDBPyConnection | None = None,
) -> EventLog:
    """Read and validate an event log; keep it in DuckDB.

    Parameters
    ----------
    source : DataFrame, str, Path or duckdb.DuckDBPyRelation
        A pandas DataFrame, a ``.csv`` / ``.parquet`` path (or a folder of Parquet files), a
        DuckDB relation, or a SQL ``SELECT`` query run on ``con``.
    id_col, time_col : str
        The user's names of the customer id and the event timestamp columns.
    amount_col, category_col, type_col : str, optional
        Names of the amount, product category and event type columns, if any.
    as_of : date-like, optional
        Leave out events later than this (counted in ``n_after_as_of``, not errors). A date
        without a time of day includes the whole day.
    time_format : str, optional
        ``strptime`` format for a text time column (e.g. ``"%Y%m%d"``); ISO text is read without.
    duplicates : {"keep", "warn", "drop", "error"}
        What to do with exact duplicate rows (see the module notes).
    allow_negative_amounts : bool
        Keep negative amounts (refunds) as events; by default they are rejected.
    on_invalid : {"reject", "raise"}
        ``"reject"`` moves unusable rows to ``rejected`` and warns; ``"raise"`` raises a
        DataError listing every row-level problem.
    con : duckdb.DuckDBPyConnection, optional
        Connection to use (required for a SQL query source); by default a new one.

    Returns
    -------
    EventLog

    Raises
    ------
    DataError
        Listing every problem at once (see the module notes for which are fatal).
    """
    try:
        return _read_event_log(
            source, id_col=id_col, time_col=time_col, amount_col=amount_col,
            category_col=category_col, type_col=type_col, as_of=as_of, time_format=time_format,
            duplicates=duplicates, allow_negative_amounts=allow_negative_amounts,
            on_invalid=on_invalid, con=con)
    except duckdb.Error as exc:  # e.g. a CSV whose dates DuckDB cannot convert past its sample
        first = str(exc).strip().splitlines()[0]
        raise DataError([DataProblem(
            time_col, f"the source could not be read ({type(exc).__name__}: {first})", 0, (),
            "check the file; for dates that are not ISO (YYYY-MM-DD) pass time_format, e.g. "
            "'%d/%m/%Y', or convert the column to text first")], context="event log") from exc


def _read_event_log(source: Any, *, id_col: str, time_col: str, amount_col: str | None,
                    category_col: str | None, type_col: str | None, as_of: Any,
                    time_format: str | None, duplicates: str, allow_negative_amounts: bool,
                    on_invalid: str, con: duckdb.DuckDBPyConnection | None) -> EventLog:
    if duplicates not in ("keep", "warn", "drop", "error"):
        raise DataError([DataProblem(None, f"duplicates={duplicates!r} is not one of 'keep', 'warn', 'drop', 'error'", 0)], context="event log")
    if on_invalid not in ("reject", "raise"):
        raise DataError([DataProblem(None, f"on_invalid={on_invalid!r} is not one of 'reject', 'raise'", 0)], context="event log")
    cut = end_of_day(as_timestamp(as_of)) if as_of is not None else None
    own = con is None
    if con is None:
        con = connect()
    n = next(_COUNTER)
    src_name, raw_name, view = f"sc_src_{n}", f"sc_raw_{n}", f"sc_events_{n}"
    keep: list[Any] = []
    try:
        select = _register_source(con, source, src_name, keep, own)
        try:
            described = con.execute(f"DESCRIBE {select}").fetchall()
        except duckdb.Error as exc:
            raise DataError([DataProblem(None, f"cannot read the source: {str(exc).splitlines()[0]}", 0,
                                         fix="check the file or query")], context="event log") from exc
    except DataError:
        if own:
            con.close()
        raise
    types = {str(r[0]): str(r[1]) for r in described}
    mapping = {"id_col": id_col, "time_col": time_col, "amount_col": amount_col,
               "category_col": category_col, "type_col": type_col}
    problems: list[DataProblem] = []
    for arg, col in mapping.items():
        if col is not None and col not in types:
            problems.append(DataProblem(
                col, f"missing column (given as {arg}); the columns are {sorted(types)}{_did_you_mean(col, list(types))}",
                0, fix=f"pass the right name as {arg}=",
            ))
    if problems:
        raise DataError(problems, context="event log")
    ttype = types[time_col]
    # columns already of the canonical type are used as they are (no per-row cast), so a clean
    # Parquet file is read by a plain projection with filter pushdown
    if ttype.upper() == "TIMESTAMP":
        time_expr = quote(time_col)
    elif _is_time(ttype):
        time_expr = f"CAST({quote(time_col)} AS TIMESTAMP)"
    elif ttype.upper() == "VARCHAR":
        if time_format:
            time_expr = f"TRY_STRPTIME({quote(time_col)}, '{sql_str(time_format)}')"
        else:
            time_expr = f"TRY_CAST({quote(time_col)} AS TIMESTAMP)"
    else:
        problems.append(DataProblem(
            time_col, f"holds {ttype} values, not dates", 0,
            fix="convert it to dates (e.g. pandas.to_datetime) or pass text dates with time_format=",
        ))
    id_type = types[id_col]
    if id_type.upper() == "BIGINT":
        id_expr = quote(id_col)
    elif id_type.upper() in ("TINYINT", "SMALLINT", "INTEGER", "UTINYINT", "USMALLINT", "UINTEGER"):
        id_expr = f"CAST({quote(id_col)} AS BIGINT)"
    elif _is_numeric(id_type) and id_type.upper() not in ("FLOAT", "DOUBLE", "REAL"):
        id_expr = f"TRY_CAST({quote(id_col)} AS BIGINT)"
    elif id_type.upper() in ("FLOAT", "DOUBLE", "REAL"):
        # float ids (pandas turns integer ids with gaps into floats): keep integral ones
        id_expr = f"CASE WHEN {quote(id_col)} = ROUND({quote(id_col)}) AND isfinite({quote(id_col)}) THEN TRY_CAST({quote(id_col)} AS BIGINT) END"
    else:
        id_expr = f"CAST({quote(id_col)} AS VARCHAR)"
    amount_expr = None
    if amount_col is not None:
        atype = types[amount_col]
        if atype.upper() == "DOUBLE":
            amount_expr = quote(amount_col)
        elif _is_numeric(atype):
            amount_expr = f"CAST({quote(amount_col)} AS DOUBLE)"
        elif atype.upper() == "VARCHAR":
            amount_expr = f"TRY_CAST({quote(amount_col)} AS DOUBLE)"
        else:
            problems.append(DataProblem(amount_col, f"holds {atype} values, not numbers", 0,
                                        fix="map a numeric column as amount_col="))
    if problems:
        if own:
            con.close()
        raise DataError(problems, context="event log")

    sel = [f"{id_expr} AS customer_id", f"{quote(id_col)} IS NULL AS _id_null",
           f"{time_expr} AS time", f"{quote(time_col)} IS NULL AS _time_null"]
    if amount_expr is not None:
        sel += [f"{amount_expr} AS amount", f"{quote(amount_col)} IS NULL AS _amount_null"]
    if category_col is not None:
        sel.append(f"{quote(category_col)} AS category")  # native type: no per-row cast
    if type_col is not None:
        sel.append(f"CAST({quote(type_col)} AS VARCHAR) AS event_type")
    columns = tuple(CANONICAL[a] for a, c in mapping.items() if c is not None)
    con.execute(f"CREATE OR REPLACE TEMP VIEW {raw_name} AS SELECT {', '.join(sel)} FROM ({select}) s").fetchall()

    reasons = [
        ("_id_null", "missing customer id", id_col, "fill in or drop the rows without a customer id"),
        ("_time_null", "missing date", time_col, "fill in or drop the rows without a date"),
        ("(NOT _time_null AND time IS NULL)", "date cannot be parsed", time_col,
         "write dates as YYYY-MM-DD or pass time_format="),
        ("(NOT _id_null AND customer_id IS NULL)", "customer id is not a 64-bit whole number", id_col,
         "use integer or text ids"),
    ]
    if amount_expr is not None:
        reasons.append(("(NOT _amount_null AND amount IS NULL)", "amount is not a number", amount_col,
                        "clean the amount column"))
        if not allow_negative_amounts:
            reasons.append(("(amount < 0)", "negative amount (refund)", amount_col,
                            "drop refunds, or pass allow_negative_amounts=True to keep them as events"))
    case = "CASE " + " ".join(f"WHEN {cond} THEN '{msg}'" for cond, msg, _, _ in reasons) + " END"
    canon = ", ".join(columns)
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW {raw_name}_r AS SELECT {canon}, {case} AS reason FROM {raw_name}"
    ).fetchall()
    after = f"time > {sql_ts(cut)}" if cut is not None else "FALSE"
    stats_sql = (
        f"SELECT count(*), count(*) FILTER (WHERE reason IS NULL AND {after}), "
        + ", ".join(f"count(*) FILTER (WHERE reason = '{msg}')" for _, msg, _, _ in reasons)
        + f" FROM {raw_name}_r"
    )
    try:
        stats = con.execute(stats_sql).fetchall()[0]
    except duckdb.Error as exc:
        if own:
            con.close()
        raise DataError([DataProblem(None, f"the source cannot be read: {str(exc).splitlines()[0]}", 0,
                                     fix="check the column types")], context="event log") from exc
    n_in, n_after = int(stats[0]), int(stats[1])
    counts = {msg: int(c) for (_, msg, _, _), c in zip(reasons, stats[2:], strict=True)}
    if n_in == 0:
        if own:
            con.close()
        raise DataError([DataProblem(None, "the event log has no rows", 0, fix="check the source")],
                        context="event log")

    row_problems: list[DataProblem] = []
    rejected_parts: list[pd.DataFrame] = []
    if any(counts.values()):
        rej = con.execute(
            f"SELECT {canon}, reason FROM {raw_name}_r WHERE reason IS NOT NULL ORDER BY reason"
        ).df()
        rejected_parts.append(rej)
        for _, msg, col, fix in reasons:
            if counts[msg]:
                part = rej[rej["reason"] == msg]
                ex = part["customer_id"].dropna().unique()[:_N_EXAMPLES].tolist()
                if not ex:
                    ex = part["time"].dropna().astype(str).unique()[:_N_EXAMPLES].tolist() if "time" in part else []
                row_problems.append(DataProblem(col, msg, counts[msg], ex, fix))

    # the clean view filters only on the problems actually found (none for clean data)
    found = [f"NOT COALESCE({cond}, FALSE)" for cond, msg, _, _ in reasons if counts[msg]]
    if cut is not None and n_after:
        found.append(f"NOT ({after})")
    keep_where = " AND ".join(found) or "TRUE"
    n_dup: int | None = None
    dedup = ""
    if duplicates != "keep":
        dups = con.execute(
            f"SELECT {canon}, count(*) - 1 AS extra FROM {raw_name} WHERE {keep_where} "
            f"GROUP BY ALL HAVING count(*) > 1"
        ).df()
        n_dup = int(dups["extra"].sum()) if len(dups) else 0
        if n_dup:
            ex = dups["customer_id"].unique()[:_N_EXAMPLES].tolist()
            prob = DataProblem(None, "exact duplicate rows (extra copies)", n_dup, ex,
                               "pass duplicates='keep' if repeats are real, or 'drop' to keep one copy")
            if duplicates == "error":
                row_problems.append(prob)
            elif duplicates == "warn":
                warnings.warn(f"event log: {prob}", DataQualityWarning, stacklevel=2)
            else:
                dups = dups.loc[dups.index.repeat(dups["extra"])].drop(columns="extra")
                dups["reason"] = "duplicate row"
                rejected_parts.append(dups)
                row_problems.append(DataProblem(None, "duplicate row", n_dup, ex, "dropped: one copy kept"))
                dedup = "DISTINCT "
    fatal = on_invalid == "raise" or duplicates == "error" and any(
        p.message.startswith("exact duplicate") for p in row_problems
    )
    if row_problems and fatal:
        if own:
            con.close()
        raise DataError(row_problems if on_invalid == "raise" else
                        [p for p in row_problems if p.message.startswith("exact duplicate")],
                        context="event log")
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT {dedup}{canon} FROM {raw_name} WHERE {keep_where}"
    ).fetchall()
    rejected = (
        pd.concat(rejected_parts, ignore_index=True) if rejected_parts
        else pd.DataFrame({c: [] for c in [*columns, "reason"]})
    )
    if row_problems:
        text = "; ".join(f"{p.message}: {p.n_rows:,} rows" for p in row_problems)
        warnings.warn(
            f"event log: {len(rejected):,} of {n_in:,} rows rejected ({text}); see EventLog.rejected",
            DataQualityWarning, stacklevel=2,
        )
    kept = con.execute(f"SELECT count(*), min(time), max(time) FROM {view}").fetchall()[0]
    if n_after:
        logger.info("event log: %d events after as_of %s left out", n_after, cut)
    return EventLog(
        con=con, view=view, columns=columns,
        source_columns={CANONICAL[a]: c for a, c in mapping.items() if c is not None},
        rejected=rejected, n_rows_in=n_in, n_rows=int(kept[0]),
        n_after_as_of=n_after, n_duplicates=n_dup, as_of=cut,
        min_time=pd.Timestamp(kept[1]) if kept[1] is not None else None,
        max_time=pd.Timestamp(kept[2]) if kept[2] is not None else None,
        _keep=keep,
    )


def end_of_day(stamp: pd.Timestamp) -> pd.Timestamp:
    """A date without a time of day stands for the whole day: its last microsecond."""
    if stamp == stamp.normalize():
        return stamp + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
    return stamp
