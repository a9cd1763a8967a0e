"""Reading and validating a customer (attribute) table.

A customer table has one row per customer: attributes (region, product, age...) and, for
contractual businesses, start and end dates and an end reason. Customers in the table without
events, and customers with events but no row here, are reported by the functions that join
the two (:func:`survchurn.churn.survival_table.survival_table`,
:func:`survchurn.churn.features.features`), never dropped silently.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from survchurn.data.eventlog import _did_you_mean
from survchurn.exceptions import DataError, DataProblem, DataQualityWarning

__all__ = ["CustomerTable", "read_customer_table"]

_N = 5


@dataclass(frozen=True, eq=False)
class CustomerTable:
    """A validated customer table: ``frame`` has ``customer_id`` plus the other columns.

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per customer; the id column renamed ``customer_id``; date columns parsed.
    id_col : str
        The user's name of the id column.
    date_cols : tuple of str
        Columns parsed as dates.
    rejected : pandas.DataFrame
        Rows without an id, with ``reason``.
    """

    frame: pd.DataFrame
    id_col: str
    date_cols: tuple[str, ...]
    rejected: pd.DataFrame

    @property
    def attributes(self) -> list[str]:
        """The attribute columns (everything but the id)."""
        return [c for c in self.frame.columns if c != "customer_id"]


def read_customer_table(
    source: pd.DataFrame | str | Path,
    *,
    id_col: str,
    date_cols: Sequence[str] = (),
    date_format: str | None = None,
) -> CustomerTable:
    """Read and validate a customer table.

    Parameters
    ----------
    source : DataFrame or path
        A DataFrame or a ``.csv`` / ``.parquet`` path.
    id_col : str
        The customer id column (mapped to ``customer_id``).
    date_cols : sequence of str
        Columns to parse as dates (start and end dates); empty cells stay missing.
    date_format : str, optional
        ``strptime`` format of the date columns; ISO dates are read without.

    Returns
    -------
    CustomerTable

    Raises
    ------
    DataError
        Missing columns, duplicate ids, or dates that cannot be parsed (all listed at once).
    """
    if isinstance(source, pd.DataFrame):
        frame = source.copy()
    elif isinstance(source, str | Path) and str(source).lower().endswith((".parquet", ".pq")):
        frame = pd.read_parquet(source)
    elif isinstance(source, str | Path) and str(source).lower().endswith((".csv", ".csv.gz")):
        frame = pd.read_csv(source)
    else:
        raise DataError(
            [DataProblem(None, f"cannot read a customer table from {type(source).__name__} {str(source)[:80]!r}", 0,
                         "pass a DataFrame or a .csv / .parquet path")],
            context="customer table",
        )
    frame.columns = [str(c) for c in frame.columns]
    problems: list[DataProblem] = []
    for col, arg in [(id_col, "id_col"), *[(c, "date_cols") for c in date_cols]]:
        if col not in frame.columns:
            problems.append(DataProblem(
                col, f"missing column (given as {arg}); the columns are {sorted(frame.columns)}"
                f"{_did_you_mean(col, list(frame.columns))}", len(frame), fix=f"pass the right name as {arg}=",
            ))
    if problems:
        raise DataError(problems, context="customer table")
    if id_col != "customer_id" and "customer_id" in frame.columns:
        raise DataError([DataProblem("customer_id", "a column named 'customer_id' exists besides id_col "
                                     f"{id_col!r}", len(frame), fix="rename or drop one of them")],
                        context="customer table")
    frame = frame.rename(columns={id_col: "customer_id"})
    null_id = frame["customer_id"].isna()
    rejected = frame[null_id].assign(reason="missing customer id")
    frame = frame[~null_id].reset_index(drop=True)
    dup = frame["customer_id"].duplicated(keep=False)
    if dup.any():
        ex = frame.loc[dup, "customer_id"].unique()[:_N].tolist()
        problems.append(DataProblem(id_col, "customer id appears on more than one row", int(dup.sum()), ex,
                                    "keep one row per customer"))
    for col in date_cols:
        raw = frame[col]
        parsed = pd.to_datetime(raw, errors="coerce", format=date_format)
        if getattr(parsed.dt, "tz", None) is not None:
            parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
        bad = raw.notna() & parsed.isna()
        if bad.any():
            ex = frame.loc[bad, "customer_id"].head(_N).tolist()
            problems.append(DataProblem(col, "date cannot be parsed", int(bad.sum()), ex,
                                        "write dates as YYYY-MM-DD or pass date_format="))
        frame[col] = parsed.astype("datetime64[ns]")
    if problems:
        raise DataError(problems, context="customer table")
    if len(rejected):
        warnings.warn(f"customer table: {len(rejected):,} rows without a customer id rejected",
                      DataQualityWarning, stacklevel=2)
    try:
        frame["customer_id"] = _normalise_ids(frame["customer_id"])
    except (TypeError, ValueError) as exc:
        raise DataError([DataProblem(id_col, f"ids cannot be used: {exc}", len(frame))],
                        context="customer table") from exc
    return CustomerTable(frame=frame, id_col=id_col, date_cols=tuple(date_cols), rejected=rejected)


def _normalise_ids(ids: pd.Series) -> Any:
    """Integer-valued ids become int64 (as in the event log), others text."""
    if pd.api.types.is_integer_dtype(ids):
        return ids.astype("int64")
    if pd.api.types.is_float_dtype(ids) and (ids == ids.round()).all():
        return ids.astype("int64")
    return ids.astype(str)
