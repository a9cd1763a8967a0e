"""Candidate variables for the warning score: transformations, risk-flag bins, indicator groups.

Two kinds of candidate table come out of :class:`CandidateBuilder`:

* ``mode="flags"`` (what integer warning points need): every continuous variable (or ratio, such
  as the dealership's loan / price) is cut into bins, each bin except the lowest-risk one becomes a
  0/1 *risk flag*, missing values get a flag of their own; every categorical variable becomes
  indicator flags for its levels except the lowest-risk one. The flags of one variable form a
  *group* that selection keeps or drops together.
* ``mode="continuous"``: continuous variables log-transformed (``log1p``, when non-negative and
  right-skewed, or as asked) and standardised with the training mean and standard deviation,
  missing values set to the mean plus a missing indicator; categoricals as indicator groups.

Binning: ``"quantile"`` cuts at training quantiles; ``"event_rate"`` starts from fine quantile
bins and merges adjacent bins until the churn rate is monotone over the bins (pool-adjacent-
violators, Barlow et al., *Statistical Inference under Order Restrictions*, 1972), then merges
the adjacent pair with the closest churn rates until at most ``bins`` remain. Bins are
``(lower, upper]`` with edges taken from observed values, so every flag is a plain comparison
that pandas and SQL evaluate identically (see :func:`spec_values` and :func:`spec_sql`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from survchurn.exceptions import ConfigError, DataError, DataProblem

__all__ = ["CandidateBuilder", "spec_sql", "spec_values", "source_values"]

logger = logging.getLogger(__name__)


# ---- evaluating one column spec (shared by the builder and the scorecard) --------------------
def source_values(spec: Mapping[str, Any], df: pd.DataFrame) -> pd.Series:
    """The raw numeric input of a spec: a column, or a ratio ``num / den`` (NaN where den is 0)."""
    if spec.get("ratio"):
        num, den = spec["ratio"]
        a = pd.to_numeric(df[num], errors="coerce").astype(float)
        b = pd.to_numeric(df[den], errors="coerce").astype(float)
        return a / b.where(b != 0)
    return pd.to_numeric(df[spec["source"]], errors="coerce").astype(float)


def _cat_keys(s: pd.Series, cast: str) -> pd.Series:
    if cast == "int":
        return s.astype("Float64").astype("Int64").astype("string")
    return s.astype("string")


def spec_values(spec: Mapping[str, Any], df: pd.DataFrame) -> pd.Series:
    """Evaluate one candidate column spec on ``df`` (float 0/1 for flags)."""
    kind = spec["kind"]
    if kind == "level":
        keys = _cat_keys(df[spec["source"]], spec.get("cast", "str"))
        return keys.isin(spec["levels"]).fillna(False).astype(float).rename(spec["name"])
    x = source_values(spec, df)
    miss = x.isna() | np.isinf(x.to_numpy())
    if kind == "missing":
        return miss.astype(float).rename(spec["name"])
    if kind == "bin":
        ok = ~miss
        if spec["lower"] is not None:
            ok &= x > spec["lower"]
        if spec["upper"] is not None:
            ok &= x <= spec["upper"]
        return ok.astype(float).rename(spec["name"])
    if kind == "numeric":
        v = np.log1p(x) if spec["log"] else x
        z = (v - spec["center"]) / spec["scale"]
        return z.where(~miss, 0.0).rename(spec["name"])
    raise ConfigError(f"unknown candidate kind {kind!r} in spec {spec.get('name')!r}")


def _q(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def _lit(s: str) -> str:
    return "'" + str(s).replace("'", "''") + "'"


def _dbl(v: float) -> str:
    return f"CAST({_lit(repr(float(v)))} AS DOUBLE)"


def spec_sql(spec: Mapping[str, Any]) -> str:
    """A DuckDB SQL expression giving the same 0/1 value as :func:`spec_values` for a flag."""
    kind = spec["kind"]
    if kind == "level":
        col = _q(spec["source"])
        key = (f"CAST(CAST(CAST({col} AS DOUBLE) AS BIGINT) AS VARCHAR)" if spec.get("cast") == "int"
               else f"CAST({col} AS VARCHAR)")
        levels = ", ".join(_lit(v) for v in spec["levels"])
        return f"(CASE WHEN {key} IN ({levels}) THEN 1 ELSE 0 END)"
    if spec.get("ratio"):
        num, den = spec["ratio"]
        x = f"(CAST({_q(num)} AS DOUBLE) / NULLIF(CAST({_q(den)} AS DOUBLE), 0.0))"
    else:
        x = f"CAST({_q(spec['source'])} AS DOUBLE)"
    miss = f"({x} IS NULL OR isnan({x}) OR isinf({x}))"
    if kind == "missing":
        return f"(CASE WHEN {miss} THEN 1 ELSE 0 END)"
    if kind == "bin":
        conds = []
        if spec["lower"] is not None:
            conds.append(f"{x} > {_dbl(spec['lower'])}")
        if spec["upper"] is not None:
            conds.append(f"{x} <= {_dbl(spec['upper'])}")
        cond = " AND ".join(conds) if conds else "TRUE"
        return f"(CASE WHEN {miss} THEN 0 WHEN {cond} THEN 1 ELSE 0 END)"
    raise ConfigError(f"spec {spec.get('name')!r} of kind {kind!r} has no SQL form; scorecards use flags")


# ---- binning ---------------------------------------------------------------------------------
def _fmt(v: float) -> str:
    return f"{v:.6g}"


def _bin_counts(x: np.ndarray, y: np.ndarray, edges: list[float]) -> tuple[np.ndarray, np.ndarray]:
    idx = np.searchsorted(np.asarray(edges), x, side="left")  # (e_{k-1}, e_k] -> k
    n = np.bincount(idx, minlength=len(edges) + 1).astype(float)
    e = np.bincount(idx, weights=y, minlength=len(edges) + 1)
    return n, e


def _merge_sparse(x: np.ndarray, y: np.ndarray, edges: list[float], min_events: int) -> list[float]:
    """Merge bins with fewer than ``min_events`` churners or non-churners into a neighbour.

    A bin where nobody (or everybody) churned makes the logistic fit quasi-separated: its flag's
    coefficient runs off to infinity, and integer points scaled from it would give every other
    flag 0. The sparse bin joins the neighbour whose churn rate is closer.
    """
    edges = list(edges)
    while edges:
        n, e = _bin_counts(x, y, edges)
        sparse = np.flatnonzero((e < min_events) | (n - e < min_events))
        if sparse.size == 0:
            break
        k = int(sparse[0])
        rate = e / np.maximum(n, 1)
        if k == 0:
            drop = 0
        elif k == len(n) - 1:
            drop = k - 1
        else:
            drop = k - 1 if abs(rate[k - 1] - rate[k]) <= abs(rate[k + 1] - rate[k]) else k
        del edges[drop]
    return edges


def _quantile_edges(x: np.ndarray, nbins: int) -> list[float]:
    qs = np.linspace(0, 1, nbins + 1)[1:-1]
    edges = np.unique(np.quantile(x, qs, method="inverted_cdf"))
    return [float(v) for v in edges if v < x.max()]


def _merge(edges: list[float], n: np.ndarray, e: np.ndarray, i: int) -> tuple[list[float], np.ndarray, np.ndarray]:
    """Merge bin i with bin i + 1 (drop edge i)."""
    n = np.concatenate([n[:i], [n[i] + n[i + 1]], n[i + 2:]])
    e = np.concatenate([e[:i], [e[i] + e[i + 1]], e[i + 2:]])
    return edges[:i] + edges[i + 1:], n, e


def _monotone_edges(x: np.ndarray, y: np.ndarray, edges: list[float], max_bins: int,
                    min_count: float) -> list[float]:
    n, e = _bin_counts(x, y, edges)
    keep = n > 0
    edges = [edges[i] for i in range(len(edges)) if keep[i]] if not keep.all() else edges
    n, e = _bin_counts(x, y, edges)
    rate = e / np.maximum(n, 1)
    sign = 1.0
    if len(rate) > 1 and np.std(rate) > 0:
        sign = 1.0 if np.corrcoef(np.arange(len(rate)), rate)[0, 1] >= 0 else -1.0
    changed = True
    while changed and len(n) > 1:  # pool adjacent violators
        changed = False
        rate = e / n
        for i in range(len(n) - 1):
            if sign * (rate[i + 1] - rate[i]) < 0:
                edges, n, e = _merge(edges, n, e, i)
                changed = True
                break
    while len(n) > 1 and n.min() < min_count:
        i = int(np.argmin(n))
        j = i if i == 0 else (i - 1 if i == len(n) - 1 or n[i - 1] <= n[i + 1] else i)
        edges, n, e = _merge(edges, n, e, j)
    while len(n) > max_bins:
        rate = e / n
        i = int(np.argmin(np.abs(np.diff(rate))))
        edges, n, e = _merge(edges, n, e, i)
    return edges


class CandidateBuilder:
    """Learn candidate columns (flags or transformed continuous) from a training table.

    Parameters
    ----------
    numeric, categorical : sequence of str, optional
        Columns to use (default: numeric dtypes / object, string, category and bool dtypes).
    ratios : mapping, optional
        New variable -> ``(numerator, denominator)``, e.g. ``{"loan_to_price": ("loan", "price")}``.
    mode : {"flags", "continuous"}
    binning : {"event_rate", "quantile"}
        How continuous variables are cut (flags mode).
    bins : int
        Largest number of bins per variable.
    min_bin_share : float
        Smallest share of rows in a bin (event_rate bins below it are merged).
    min_bin_events : int
        Smallest number of churners and of non-churners in a bin; sparser bins are merged into
        a neighbour, so no flag separates churners from non-churners perfectly.
    log : "auto", sequence of str or None
        Columns to ``log1p`` in continuous mode (``"auto"``: non-negative with skewness > 1).
    exclude : sequence of str
        Columns never used (ids, dates, the label).
    """

    def __init__(self, *, numeric: Sequence[str] | None = None, categorical: Sequence[str] | None = None,
                 ratios: Mapping[str, tuple[str, str]] | None = None, mode: str = "flags",
                 binning: str = "event_rate", bins: int = 4, min_bin_share: float = 0.05,
                 min_bin_events: int = 5,
                 log: str | Sequence[str] | None = "auto", exclude: Sequence[str] = ()):
        if mode not in ("flags", "continuous"):
            raise ConfigError(f"mode must be 'flags' or 'continuous', got {mode!r}")
        if binning not in ("event_rate", "quantile"):
            raise ConfigError(f"binning must be 'event_rate' or 'quantile', got {binning!r}")
        if bins < 2:
            raise ConfigError(f"bins must be at least 2, got {bins}")
        self.numeric = numeric
        self.categorical = categorical
        self.ratios = dict(ratios or {})
        self.mode = mode
        self.binning = binning
        self.bins = bins
        self.min_bin_share = min_bin_share
        self.min_bin_events = int(min_bin_events)
        self.log = log
        self.exclude = tuple(exclude)

    def _columns(self, df: pd.DataFrame) -> tuple[list[str], list[str]]:
        cols = [c for c in df.columns if c not in self.exclude]
        num = list(self.numeric) if self.numeric is not None else [
            c for c in cols if pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])]
        cat = list(self.categorical) if self.categorical is not None else [
            c for c in cols if c not in num and (pd.api.types.is_object_dtype(df[c])
                                                  or pd.api.types.is_string_dtype(df[c])
                                                  or isinstance(df[c].dtype, pd.CategoricalDtype)
                                                  or pd.api.types.is_bool_dtype(df[c]))]
        needed = set(num) | set(cat) | {c for pair in self.ratios.values() for c in pair}
        missing = sorted(needed - set(df.columns))
        if missing:
            raise DataError([DataProblem(c, "column not found in the features", len(df), (),
                                         "check the column names passed to CandidateBuilder") for c in missing],
                            "candidate variables")
        return num, cat

    def fit(self, features: pd.DataFrame, label: pd.Series | np.ndarray) -> CandidateBuilder:
        """Learn bins, reference levels and transformations from training data."""
        y = np.asarray(label, dtype=float)
        if len(y) != len(features):
            raise DataError([f"label has {len(y):,} rows but features have {len(features):,}"],
                            "candidate variables")
        num, cat = self._columns(features)
        specs: list[dict[str, Any]] = []
        variables = [(c, {"source": c, "ratio": None}) for c in num]
        variables += [(name, {"source": None, "ratio": list(pair)}) for name, pair in self.ratios.items()]
        min_count = self.min_bin_share * len(y)
        for var, src in variables:
            x = source_values(src, features).to_numpy()
            miss = ~np.isfinite(x)
            xo, yo = x[~miss], y[~miss]
            if len(xo) == 0 or np.unique(xo).size < 2:
                logger.info("candidate %s skipped: fewer than two distinct values", var)
                continue
            if self.mode == "continuous":
                use_log = (var in self.log) if isinstance(self.log, list | tuple) else (
                    self.log == "auto" and xo.min() >= 0 and pd.Series(xo).skew() > 1)
                v = np.log1p(xo) if use_log else xo
                sd = float(v.std())
                specs.append({"name": f"log_{var}" if use_log else var, "kind": "numeric", **src,
                              "log": bool(use_log), "center": float(v.mean()), "scale": sd or 1.0,
                              "group": var})
            else:
                if self.binning == "quantile":
                    edges = _quantile_edges(xo, self.bins)
                else:
                    edges = _monotone_edges(xo, yo, _quantile_edges(xo, 20), self.bins, min_count)
                edges = _merge_sparse(xo, yo, edges, self.min_bin_events)
                n, e = _bin_counts(xo, yo, edges)
                bounds = [None, *edges, None]
                rate = e / np.maximum(n, 1)
                ref = int(np.argmin(np.where(n > 0, rate, np.inf)))
                for k in range(len(n)):
                    if k == ref or n[k] == 0:
                        continue
                    lo, hi = bounds[k], bounds[k + 1]
                    label_ = (f"<={_fmt(hi)}" if lo is None else f">{_fmt(lo)}" if hi is None
                              else f"({_fmt(lo)}, {_fmt(hi)}]")
                    specs.append({"name": f"{var}:{label_}", "kind": "bin", **src, "lower": lo,
                                  "upper": hi, "group": var})
            if miss.any():
                specs.append({"name": f"{var}:missing", "kind": "missing", **src, "group": var})
        for c in cat:
            s = features[c]
            cast = "int" if (pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s)) else "str"
            if cast == "int" and not pd.api.types.is_bool_dtype(s):
                v = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)
                frac = np.isfinite(v) & (v != np.round(v))
                if frac.any():
                    raise DataError([DataProblem(c, "categorical column holds non-integer numbers", int(frac.sum()),
                                                 list(s.index[frac][:5]),
                                                 "treat it as numeric (binned) or recode the levels as text")],
                                    "candidate variables")
            keys = _cat_keys(s, cast)
            tab = pd.DataFrame({"k": keys.fillna("<NA>").to_numpy(), "y": y}).groupby("k")["y"].agg(["size", "mean"])
            tab = tab.drop(index="<NA>", errors="ignore")
            if len(tab) < 2:
                continue
            ref = tab["mean"].idxmin()
            for level in tab.index:
                if level != ref:
                    specs.append({"name": f"{c}={level}", "kind": "level", "source": c, "levels": [str(level)],
                                  "cast": cast, "group": c})
        if not specs:
            raise DataError(["no usable candidate variable (every column is constant or missing)"],
                            "candidate variables")
        specs = self._drop_dependent(specs, features)
        self.specs_ = specs
        self.inputs_ = num + [c for c in cat if c not in num]
        self.groups_ = {s["name"]: s["group"] for s in specs}
        self.columns_ = [s["name"] for s in specs]
        return self

    def _drop_dependent(self, specs: list[dict[str, Any]], features: pd.DataFrame) -> list[dict[str, Any]]:
        """Drop columns that are linear combinations of earlier ones (and the intercept).

        E.g. ``payment_method=loan`` equals the sum of the non-zero ``loan_ratio`` bins. Sequential
        Gram-Schmidt on the Gram matrix of ``[1, candidates]``: a column whose residual sum of
        squares is below 1e-9 of its centred sum of squares carries nothing new (exact
        collinearity would make the logistic Hessian singular).
        """
        F = np.column_stack([np.ones(len(features))] + [spec_values(s, features).to_numpy() for s in specs])
        G = F.T @ F
        keep = [0]
        dropped = []
        for j in range(1, G.shape[0]):
            Gk = G[np.ix_(keep, keep)]
            g = G[keep, j]
            coef = np.linalg.lstsq(Gk, g, rcond=None)[0]
            resid = G[j, j] - g @ coef
            centred = G[j, j] - G[0, j] ** 2 / G[0, 0]
            if centred <= 0 or resid <= 1e-9 * centred:
                dropped.append(specs[j - 1]["name"])
            else:
                keep.append(j)
        if dropped:
            logger.info("dropped %d candidate(s) that repeat others exactly: %s", len(dropped), dropped)
        self.dropped_ = dropped
        return [specs[j - 1] for j in keep[1:]]

    def transform(self, features: pd.DataFrame) -> pd.DataFrame:
        """The candidate table for ``features`` (same columns as learned in :meth:`fit`)."""
        needed = {s["source"] for s in self.specs_ if s.get("source")}
        needed |= {c for s in self.specs_ if s.get("ratio") for c in s["ratio"]}
        missing = sorted(needed - set(features.columns))
        if missing:
            raise DataError([DataProblem(c, "column used by the candidates is missing", len(features), (),
                                         "pass the same feature columns as in training") for c in missing],
                            "candidate variables")
        return pd.DataFrame({s["name"]: spec_values(s, features).to_numpy() for s in self.specs_},
                            index=features.index)

    def fit_transform(self, features: pd.DataFrame, label: pd.Series | np.ndarray) -> pd.DataFrame:
        """:meth:`fit` then :meth:`transform`."""
        return self.fit(features, label).transform(features)
