"""Validation and design-matrix building for the Cox model (internal to ``survival.cox``).

Every data problem is collected and reported at once as a :class:`ModelError` that names the
column, counts the rows, shows example row labels and says what to do. Categorical covariates
become treatment (indicator) columns named ``"col[level]"`` against a reference level (the first
level in sorted order, or the one given in ``reference``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from survchurn.exceptions import DataProblem, ModelError

__all__ = ["CoxDesign", "DesignSpec", "build_design", "collinear_columns", "raise_problems"]


def raise_problems(problems: Sequence[DataProblem | str], context: str) -> None:
    """Raise one :class:`ModelError` listing every problem (no-op when there are none)."""
    if not problems:
        return
    if len(problems) == 1:
        raise ModelError(f"{context}: {problems[0]}")
    lines = [f"{context}: {len(problems)} problems found"]
    lines += [f"  {i}. {p}" for i, p in enumerate(problems, 1)]
    raise ModelError("\n".join(lines))


@dataclass(frozen=True)
class DesignSpec:
    """What is needed to build the same design matrix from new rows (frozen, JSON-friendly)."""

    covariates: tuple[str, ...]
    columns: tuple[str, ...]  # design columns, in coefficient order
    categorical: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)  # col -> levels
    reference: Mapping[str, Any] = field(default_factory=dict)
    strata: tuple[str, ...] = ()
    strata_levels: tuple[tuple[Any, ...], ...] = ()

    def term_of(self) -> dict[str, str]:
        """Design column -> original covariate."""
        out: dict[str, str] = {}
        for cov in self.covariates:
            if cov in self.categorical:
                for lev in self.categorical[cov]:
                    if lev != self.reference[cov]:
                        out[f"{cov}[{lev}]"] = cov
            else:
                out[cov] = cov
        return out

    def matrix(self, table: pd.DataFrame) -> np.ndarray:
        """Design matrix (uncentred) of ``table`` for these covariates."""
        missing = [c for c in self.covariates if c not in table.columns]
        if missing:
            raise ModelError(
                f"new data lacks covariate columns {missing}; it needs every column used in the fit"
            )
        blocks = []
        for cov in self.covariates:
            col = table[cov]
            if cov in self.categorical:
                levels = self.categorical[cov]
                unknown = ~col.isin(levels)
                if unknown.any():
                    bad = col[unknown]
                    raise ModelError(
                        str(DataProblem(cov, "levels not seen in the fit", int(unknown.sum()),
                                        list(bad.unique()[:5]),
                                        f"map them to one of {list(levels)}"))
                    )
                for lev in levels:
                    if lev != self.reference[cov]:
                        blocks.append((col == lev).to_numpy(dtype=np.float64))
            else:
                blocks.append(pd.to_numeric(col, errors="coerce").to_numpy(dtype=np.float64))
        if not blocks:
            return np.zeros((len(table), 0))
        return np.column_stack(blocks)

    def strata_codes(self, table: pd.DataFrame) -> np.ndarray:
        """Stratum code of each row (-1 for a stratum not seen in the fit)."""
        if not self.strata:
            return np.zeros(len(table), dtype=np.int64)
        keys = list(zip(*(table[c].tolist() for c in self.strata), strict=True))
        lookup = {lev: i for i, lev in enumerate(self.strata_levels)}
        return np.array([lookup.get(k, -1) for k in keys], dtype=np.int64)


@dataclass
class CoxDesign:
    """Validated arrays for one fit."""

    spec: DesignSpec
    X: np.ndarray
    stop: np.ndarray
    event: np.ndarray
    start: np.ndarray | None
    strata: np.ndarray | None
    cluster: np.ndarray | None
    levels: pd.DataFrame  # covariate, level, reference, n, events
    index: pd.Index
    binary: np.ndarray  # per design column: only 0/1 values (R centres these at 0)


def _examples(index: pd.Index, mask: np.ndarray) -> list[Any]:
    return list(index[np.flatnonzero(mask)[:5]])


def _as_list(x: str | Sequence[str] | None) -> list[str]:
    if x is None:
        return []
    return [x] if isinstance(x, str) else list(x)


def build_design(
    table: pd.DataFrame,
    duration_col: str,
    event_col: str,
    covariates: Sequence[str] | None,
    strata: str | Sequence[str] | None,
    entry_col: str | None,
    cluster_col: str | None,
    categorical: Sequence[str] | None,
    reference: Mapping[str, Any] | None,
) -> CoxDesign:
    """Validate ``table`` and build the design for :class:`~survchurn.survival.cox.CoxPH`."""
    ctx = "CoxPH.fit"
    if not isinstance(table, pd.DataFrame):
        raise ModelError(f"{ctx}: table must be a pandas DataFrame, got {type(table).__name__}")
    strata_cols = _as_list(strata)
    special = [duration_col, event_col, *strata_cols]
    special += [c for c in (entry_col, cluster_col) if c is not None]
    if covariates is None:
        covariates = [c for c in table.columns if c not in special]
    covariates = list(covariates)
    reference = dict(reference or {})
    wanted = special + covariates + [c for c in (categorical or []) if c not in covariates]
    missing = [c for c in dict.fromkeys(wanted) if c not in table.columns]
    if missing:
        raise ModelError(
            f"{ctx}: columns {missing} not found in the table (it has {list(table.columns)[:20]}). "
            "Fix: check the column names passed to fit()."
        )
    if not covariates:
        raise ModelError(f"{ctx}: no covariates: pass covariates=[...] naming at least one column")
    bad_ref = [c for c in reference if c not in covariates]
    if bad_ref:
        raise ModelError(f"{ctx}: reference given for {bad_ref}, which are not covariates")

    idx = table.index
    problems: list[DataProblem] = []

    def numeric(col: str, what: str) -> np.ndarray:
        s = table[col]
        if not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)):
            problems.append(DataProblem(col, f"{what} must be numeric, got dtype {s.dtype}",
                                        len(s), [], "convert it to numbers"))
            return np.zeros(len(s))
        if isinstance(s.dtype, np.dtype):  # plain numpy column: a view, no copy
            v = s.to_numpy(dtype=np.float64)
        else:  # nullable extension dtype: pd.NA becomes NaN
            v = s.to_numpy(dtype=np.float64, na_value=np.nan)
        bad = ~np.isfinite(v)
        if bad.any():
            problems.append(DataProblem(col, "NaN or infinite values", int(bad.sum()),
                                        _examples(idx, bad), "drop or impute these rows"))
        return v

    stop = numeric(duration_col, "duration")
    event = numeric(event_col, "event")
    start = numeric(entry_col, "entry") if entry_col else None
    ok = np.isfinite(stop)
    if start is None:
        bad = ok & (stop <= 0)
        if bad.any():
            problems.append(DataProblem(duration_col, "durations must be > 0", int(bad.sum()),
                                        _examples(idx, bad), "drop rows with no follow-up time"))
    else:
        bad = ok & np.isfinite(start) & (stop <= start)
        if bad.any():
            problems.append(DataProblem(duration_col, f"durations must exceed {entry_col!r}",
                                        int(bad.sum()), _examples(idx, bad),
                                        "drop rows whose exit is not after their entry"))
        neg = np.isfinite(start) & (start < 0)
        if neg.any():
            problems.append(DataProblem(entry_col, "entry times must be >= 0", int(neg.sum()),
                                        _examples(idx, neg), "entry counts days since the origin"))
    bad = np.isfinite(event) & ~np.isin(event, (0.0, 1.0))
    if bad.any():
        problems.append(DataProblem(event_col, "event must be 0 (censored) or 1 (churned)",
                                    int(bad.sum()), _examples(idx, bad), "recode the event column"))

    auto = categorical is None
    declared = set(categorical or [])
    cat_levels: dict[str, tuple[Any, ...]] = {}
    blocks: list[np.ndarray] = []
    names: list[str] = []
    level_rows: list[dict[str, Any]] = []
    ev_ok = np.where(np.isfinite(event), event, 0.0)
    for cov in covariates:
        s = table[cov]
        is_text = not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s))
        if pd.api.types.is_datetime64_any_dtype(s) or pd.api.types.is_timedelta64_dtype(s):
            problems.append(DataProblem(cov, f"dates cannot be covariates (dtype {s.dtype})",
                                        len(s), [], "turn them into numbers, e.g. days since"))
            continue
        if cov in declared or (auto and is_text):
            na = s.isna().to_numpy()
            if na.any():
                problems.append(DataProblem(cov, "missing categories", int(na.sum()),
                                            _examples(idx, na), "fill them with a level"))
            if isinstance(s.dtype, pd.CategoricalDtype):
                levels = [lev for lev in s.cat.categories if (s == lev).any()]
            else:
                levels = sorted(s.dropna().unique().tolist(), key=lambda v: (str(type(v)), v))
            ref = reference.get(cov, levels[0] if levels else None)
            if ref not in levels:
                raise ModelError(f"{ctx}: reference level {ref!r} of {cov!r} not among {levels}")
            levels = [ref] + [lev for lev in levels if lev != ref]
            cat_levels[cov] = tuple(levels)
            reference[cov] = ref
            for lev in levels:
                m = (s == lev).to_numpy()
                level_rows.append({"covariate": cov, "level": lev, "reference": lev == ref,
                                   "n": int(m.sum()), "events": int(ev_ok[m].sum())})
                if lev != ref:
                    blocks.append(m.astype(np.float64))
                    names.append(f"{cov}[{lev}]")
        elif is_text:
            problems.append(DataProblem(cov, f"not numeric (dtype {s.dtype}) and not declared "
                                        "categorical", len(s), list(s.head(3)),
                                        f"add {cov!r} to categorical=[...] or convert it"))
        else:
            blocks.append(numeric(cov, "covariate"))
            names.append(cov)

    strata_codes = None
    strata_levels: tuple[tuple[Any, ...], ...] = ()
    if strata_cols:
        keys = pd.MultiIndex.from_frame(table[strata_cols])
        na = table[strata_cols].isna().any(axis=1).to_numpy()
        if na.any():
            problems.append(DataProblem(strata_cols[0], "missing strata values", int(na.sum()),
                                        _examples(idx, na), "fill or drop these rows"))
        codes, uniq = pd.factorize(keys, sort=True)
        strata_codes = codes.astype(np.int64)
        strata_levels = tuple(tuple(u) if isinstance(u, tuple) else (u,) for u in uniq)
    cluster = None
    if cluster_col:
        c = table[cluster_col]
        na = c.isna().to_numpy()
        if na.any():
            problems.append(DataProblem(cluster_col, "missing cluster ids", int(na.sum()),
                                        _examples(idx, na), "fill or drop these rows"))
        cluster = pd.factorize(c)[0].astype(np.int64)
    raise_problems(problems, ctx)
    if event.sum() == 0:
        raise ModelError(f"{ctx}: column {event_col!r} has no events (all {len(event):,} rows "
                         "censored); a Cox model needs at least one churn")
    X = np.empty((len(table), len(blocks)), order="F")  # column writes are sequential
    binary = np.zeros(len(blocks), dtype=bool)
    for k, col in enumerate(blocks):
        X[:, k] = col
        binary[k] = bool(((col == 0.0) | (col == 1.0)).all())
    X = np.ascontiguousarray(X)  # C order: rows are gathered (sorted) and scanned row-wise
    spec = DesignSpec(tuple(covariates), tuple(names), cat_levels, reference,
                      tuple(strata_cols), strata_levels)
    levels = pd.DataFrame(level_rows, columns=["covariate", "level", "reference", "n", "events"])
    return CoxDesign(spec, X, stop, event.astype(np.int8), start, strata_codes, cluster, levels, idx,
                     binary)


def collinear_columns(gram: np.ndarray, means: np.ndarray, n: int, names: Sequence[str],
                      tol: float = 1e-10) -> list[str]:
    """Describe columns that are constant or linear combinations of earlier columns.

    ``gram`` is the cross-product of the centred design (``Xc' Xc``). Greedy: a column whose
    squared multiple correlation with the kept columns exceeds ``1 - tol`` is reported with its
    partners. O(p^3) once the O(n p^2) cross-product is known.
    """
    d = np.sqrt(np.clip(np.diag(gram), 0, None))
    out: list[str] = []
    kept: list[int] = []
    for j in range(gram.shape[0]):
        if d[j] <= 1e-12 * np.sqrt(n) * max(1.0, abs(float(means[j]))):
            out.append(f"{names[j]!r} is constant")
            continue
        if kept:
            K = np.array(kept)
            Gs = gram[np.ix_(K, K)] / np.outer(d[K], d[K])
            g = gram[K, j] / (d[K] * d[j])
            coef = np.linalg.lstsq(Gs, g, rcond=None)[0]
            if 1.0 - g @ coef < tol:
                partners = [names[k] for k, c in zip(K, coef, strict=True) if abs(c) > 1e-6]
                out.append(f"{names[j]!r} is a linear combination of {partners}")
                continue
        kept.append(j)
    return out
