"""A frozen, versioned warning scorecard saved as JSON, scored in pandas or in SQL (DuckDB).

The scorecard holds everything needed to score new customers next quarter and nothing learned
implicitly: the risk flags (column, bin edges or levels), the points of each flag, the cap on the
total, the tier bounds, the churn definition and training period as text, and the validation
metrics. Scores are integer sums of integer points of 0/1 flags, so pandas and SQL agree
exactly: the flags are plain comparisons against edges written with full float precision
(``repr``), see :func:`survchurn.scoring.candidates.spec_sql`. Files are never pickled.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from survchurn._io import atomic_write_text
from survchurn.exceptions import ScoringError
from survchurn.scoring.candidates import spec_sql, spec_values
from survchurn.scoring.report import DEFAULT_TIERS, assign_tiers

__all__ = ["SCHEMA", "SCHEMA_VERSION", "Scorecard"]

SCHEMA = "survchurn.scorecard"
SCHEMA_VERSION = 1
_KINDS = {"bin": ("lower", "upper"), "missing": (), "level": ("levels",)}
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


@dataclass(frozen=True)
class Scorecard:
    """A frozen warning scorecard.

    Parameters
    ----------
    flags : tuple of dict
        One dict per flag carrying points: ``name``, ``kind`` (``bin``/``missing``/``level``),
        ``source`` or ``ratio``, the bin edges (``lower``, ``upper``) or ``levels``, ``group`` and
        integer ``points``.
    max_points : int
        Cap on the total score.
    tiers : dict
        Tier name -> lowest score.
    churn_definition, training_period, method : str
        Text describing where the scorecard came from.
    metrics : dict
        Validation metrics (AUC, KS, score table...).
    name : str
    """

    flags: tuple[dict[str, Any], ...]
    max_points: int = 5
    tiers: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_TIERS))
    churn_definition: str = ""
    training_period: str = ""
    method: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)
    name: str = "warning score"

    def __post_init__(self) -> None:
        _validate({"schema": SCHEMA, "version": SCHEMA_VERSION, **self._body()}, "scorecard")

    def _body(self) -> dict[str, Any]:
        d = asdict(self)
        d["flags"] = [dict(f) for f in self.flags]
        return d

    @property
    def variables(self) -> list[str]:
        """Input columns the scorecard reads."""
        cols: list[str] = []
        for f in self.flags:
            cols += list(f["ratio"]) if f.get("ratio") else [f["source"]]
        return list(dict.fromkeys(cols))

    # ---- scoring ------------------------------------------------------------------------
    def _check_columns(self, df: pd.DataFrame) -> None:
        missing = [c for c in self.variables if c not in df.columns]
        if missing:
            raise ScoringError(f"the table lacks {len(missing)} column(s) the scorecard needs: {missing[:5]}; "
                               f"it reads {self.variables}")

    def flag_table(self, df: pd.DataFrame) -> pd.DataFrame:
        """The 0/1 flags of each customer."""
        self._check_columns(df)
        return pd.DataFrame({f["name"]: spec_values(f, df).to_numpy() for f in self.flags}, index=df.index)

    def score(self, df: pd.DataFrame) -> pd.Series:
        """Integer warning score of every row of ``df``."""
        F = self.flag_table(df).to_numpy(dtype=float)
        pts = np.array([f["points"] for f in self.flags], dtype=float)
        raw = F @ pts if len(pts) else np.zeros(len(df))
        return pd.Series(np.minimum(raw, self.max_points).astype(int), index=df.index, name="score")

    def tier(self, df: pd.DataFrame) -> pd.Series:
        """Risk tier of every row."""
        return assign_tiers(self.score(df), self.tiers)

    def sql_expression(self) -> str:
        """A DuckDB SQL expression for the score (integer), reading the scorecard's columns."""
        if not self.flags:
            return "0"
        terms = " + ".join(f"{int(f['points'])} * {spec_sql(f)}" for f in self.flags)
        return f"LEAST({int(self.max_points)}, {terms})"

    def to_sql(self, table_name: str, score_col: str = "score") -> str:
        """``SELECT *, <score expression> AS score FROM table_name`` for DuckDB."""
        if not _IDENT.match(table_name):
            raise ScoringError(f"table_name {table_name!r} is not a plain SQL identifier (letters, digits, "
                               "underscores, optional schema.table); register the data under such a name")
        col = '"' + score_col.replace('"', '""') + '"'
        return f"SELECT *, CAST({self.sql_expression()} AS INTEGER) AS {col} FROM {table_name}"

    # ---- persistence --------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "version": SCHEMA_VERSION, **self._body()}

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the scorecard as JSON, atomically."""
        return atomic_write_text(path, json.dumps(self.to_dict(), indent=2, allow_nan=False) + "\n")

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], source: str = "scorecard") -> Scorecard:
        _validate(d, source)
        return cls(flags=tuple(dict(f) for f in d["flags"]), max_points=int(d["max_points"]),
                   tiers={k: int(v) for k, v in d["tiers"].items()}, churn_definition=d.get("churn_definition", ""),
                   training_period=d.get("training_period", ""), method=d.get("method", ""),
                   metrics=dict(d.get("metrics", {})), name=d.get("name", "warning score"))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Scorecard:
        """Read and validate a scorecard JSON file."""
        p = Path(path)
        if not p.is_file():
            raise ScoringError(f"scorecard file {str(p)!r} not found; save one with Scorecard.save()")
        try:
            d = json.loads(p.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ScoringError(f"scorecard file {str(p)!r} is not valid JSON ({exc}); re-save it") from exc
        return cls.from_dict(d, source=f"scorecard file {str(p)!r}")


def _validate(d: Any, source: str) -> None:
    if not isinstance(d, Mapping):
        raise ScoringError(f"{source}: expected a JSON object at the top level")
    if d.get("schema") != SCHEMA:
        raise ScoringError(f"{source}: schema is {d.get('schema')!r}, expected {SCHEMA!r}; "
                           "this is not a survchurn scorecard")
    if d.get("version") != SCHEMA_VERSION:
        raise ScoringError(f"{source}: version {d.get('version')!r} is not supported (this survchurn reads "
                           f"version {SCHEMA_VERSION}); re-create the scorecard with this version")
    problems = [f"missing key {k!r}" for k in ("flags", "max_points", "tiers") if k not in d]
    if problems:
        raise ScoringError(f"{source}: " + "; ".join(problems))
    mp = d["max_points"]
    if not isinstance(mp, int) or isinstance(mp, bool) or mp < 1:
        problems.append(f"max_points must be a positive integer, got {mp!r}")
    tiers = d["tiers"]
    if not isinstance(tiers, Mapping) or not tiers or not all(isinstance(v, int) for v in tiers.values()):
        problems.append(f"tiers must map names to integer lower bounds, got {tiers!r}")
    if not isinstance(d["flags"], list | tuple):
        problems.append("flags must be a list")
    else:
        for i, f in enumerate(d["flags"]):
            where = f"flag {i} ({f.get('name', '?') if isinstance(f, Mapping) else '?'})"
            if not isinstance(f, Mapping):
                problems.append(f"{where}: not an object")
                continue
            kind = f.get("kind")
            if kind not in _KINDS:
                problems.append(f"{where}: kind {kind!r} is not one of {sorted(_KINDS)}")
                continue
            for k in ("name", "points", *_KINDS[kind]):
                if k not in f:
                    problems.append(f"{where}: missing {k!r}")
            if not (f.get("source") or f.get("ratio")):
                problems.append(f"{where}: needs a 'source' column or a 'ratio' [numerator, denominator]")
            pts = f.get("points")
            if not isinstance(pts, int) or isinstance(pts, bool) or pts < 0:
                problems.append(f"{where}: points must be a non-negative integer, got {pts!r}")
            for k in ("lower", "upper"):
                v = f.get(k)
                if kind == "bin" and v is not None and not isinstance(v, int | float):
                    problems.append(f"{where}: {k} must be a number or null, got {v!r}")
    if problems:
        raise ScoringError(f"{source}: {len(problems)} problem(s): " + "; ".join(problems[:10]))
