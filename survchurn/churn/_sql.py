"""Shared SQL fragments for the churn stage.

The SQL is written for DuckDB but kept portable where a portable form exists: durations come
from epoch seconds (``EXTRACT(EPOCH FROM ts)``, which DuckDB, PostgreSQL and Snowflake all read)
instead of dialect-specific date arithmetic; timestamps are standard ``TIMESTAMP '...'``
literals; counts use ``count(*) FILTER (WHERE ...)`` (SQL:2003); gaps use ``LAG``/``LEAD``
window functions; quantiles use ``percentile_cont(...) WITHIN GROUP (ORDER BY ...)``.

DuckDB-only pieces, to replace when porting: ``range()`` as a numbers table (PostgreSQL:
``generate_series``), ``SELECT * EXCLUDE (...)``, ``GROUP BY ALL``, ``bit_or``/``bit_count``
for category breadth (else the distinct-pairs form in ``features_sql`` is portable), a list
argument to ``percentile_cont``, ``TRY_CAST``/``TRY_STRPTIME`` in validation.
"""

from __future__ import annotations

import pandas as pd

from survchurn.data.eventlog import EventLog, sql_ts
from survchurn.exceptions import DataError, DataProblem

DAY = 86400  # seconds in a day

__all__ = ["DAY", "days", "epoch", "require_log", "ts"]


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
