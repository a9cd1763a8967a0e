"""Log-rank tests of the G-rho family, a trend test and pairwise comparisons.

:func:`logrank_test` reproduces R's ``survival::survdiff(rho=)`` (Harrington & Fleming 1982):
at each distinct event time ``t`` with ``d`` events among ``n`` at risk (``n_g`` in group g), and
weight ``w = S(t-)^rho`` where ``S(t-)`` is the left-continuous Kaplan-Meier curve of the pooled
sample (as survdiff's C code ``survdiff2``),

* observed ``O_g = sum w d_g`` and expected ``E_g = sum w d n_g / n`` (both weighted, as survdiff
  reports them);
* variance ``V_gh = sum w^2 d (n - d) / (n - 1) * (n_g / n) (delta_gh - n_h / n)``;
* ``chi2 = (O - E)' V^- (O - E)`` on the groups with ``E_g > 0`` minus one, with that many
  degrees of freedom.

``rho = 0`` is the log-rank (Mantel-Haenszel) test; ``rho = 1`` is survdiff's Peto & Peto
modification of the Gehan-Wilcoxon test, which weights early differences more. With an
``entry_col`` the same statistics use counting-process risk sets (``entry < t <= duration``); R's
survdiff does not accept late entry, so those values are checked against the formula in R.

:func:`logrank_trend` tests for a trend over ordered groups with scores ``s`` (e.g. warning
points 0..5): ``U = s'(O - E)``, ``var(U) = s' V s``, ``chi2 = U^2 / var(U)`` on 1 df. R's
``survival`` has no trend test; this is the test of Stata's ``sts test, trend`` and of
``survMisc::comp`` (Klein & Moeschberger 2003, section 7.4). It is far more powerful than the
k-group test when the hazard rises or falls with the score.

:func:`pairwise_logrank` runs the two-group test on every pair of groups and adjusts the
p-values over all pairs, as ``survminer::pairwise_survdiff`` (adjustment as R's ``p.adjust``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import chi2, norm

from survchurn._display import Result
from survchurn.exceptions import ConfigError, ModelError
from survchurn.survival._counts import SurvivalCounts, counts_from_frame

__all__ = [
    "LogRankResult",
    "PairwiseLogRankResult",
    "TrendTestResult",
    "logrank_test",
    "logrank_test_counts",
    "logrank_trend",
    "p_adjust",
    "pairwise_logrank",
]

logger = logging.getLogger(__name__)
P_ADJUST_METHODS = ("holm", "BH", "none")


def _test_name(rho: float) -> str:
    if rho == 0:
        return "log-rank (Mantel-Haenszel)"
    if rho == 1:
        return "Peto-Peto (G-rho, rho=1)"
    return f"G-rho (rho={rho:g})"


def _grho(counts: SurvivalCounts, rho: float) -> dict[str, Any]:
    """Weighted observed, expected and variance of the G-rho statistic from counts."""
    if not np.isfinite(rho) or rho < 0:
        raise ConfigError(f"rho must be a finite number >= 0 (0 log-rank, 1 Peto-Peto), got {rho!r}")
    tab = counts.table
    groups = counts.groups
    grid = np.unique(tab["time"].to_numpy(float))
    k = len(groups)
    d = np.zeros((len(grid), k))
    exits = np.zeros((len(grid), k))
    enter = np.zeros((len(grid), k))
    for j, g in enumerate(groups):
        t = tab[tab["group"] == g]
        idx = np.searchsorted(grid, t["time"].to_numpy(float))
        d[idx, j] = t["n_event"].to_numpy()
        exits[idx, j] = (t["n_event"] + t["n_censor"]).to_numpy()
        enter[idx, j] = t["n_enter"].to_numpy()
    n_initial = exits.sum(0) - enter.sum(0)
    risk = n_initial + (np.cumsum(enter, 0) - enter) - (np.cumsum(exits, 0) - exits)
    ev = d.sum(1) > 0
    d, risk = d[ev], risk[ev]
    n = risk.sum(1)
    dt = d.sum(1)
    km_left = np.concatenate([[1.0], np.cumprod(1.0 - dt / n)[:-1]])
    w = km_left**rho
    obs = (w[:, None] * d).sum(0)
    p = risk / n[:, None]
    exp = (w * dt)[:, None] * p
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.where(n > 1, w**2 * dt * (n - dt) / (n - 1), 0.0)
    var = np.diag((c[:, None] * p).sum(0)) - (c[:, None] * p).T @ p
    return {"groups": groups, "observed": obs, "expected": exp.sum(0), "var": var,
            "n": exits.sum(0).astype(int), "events": d.sum(0).astype(int)}


def _chisq(stats: dict[str, Any]) -> tuple[float, int]:
    keep = stats["expected"] > 0
    if keep.sum() < 2:
        return 0.0, 0
    u = (stats["observed"] - stats["expected"])[keep][1:]
    v = stats["var"][np.ix_(keep, keep)][1:, 1:]
    return float(u @ np.linalg.solve(v, u)), int(keep.sum() - 1)


def _need_groups(counts: SurvivalCounts) -> None:
    if len(counts.groups) < 2:
        raise ModelError(f"a log-rank test needs at least 2 groups in column "
                         f"{counts.group_col!r}, found {len(counts.groups)}: {counts.groups[:5]}; "
                         "check the group column or the rows selected")


class LogRankResult(Result):
    """A k-group G-rho test (log-rank, Peto-Peto) as R's ``survdiff``.

    Attributes
    ----------
    chisq, df, p_value : float, int, float
    rho : float
    table : pandas.DataFrame
        Per group: ``n, observed, expected, o_minus_e, (O-E)^2/E, (O-E)^2/V``.
    variance : pandas.DataFrame
        The variance matrix of ``O - E`` (survdiff's ``var``), indexed by group.
    """

    _title = "G-rho test of survival curves"

    def __init__(self, stats: dict[str, Any], rho: float, counts: SurvivalCounts):
        self.rho = float(rho)
        self.test = _test_name(self.rho)
        self.chisq, self.df = _chisq(stats)
        self.p_value = float(chi2.sf(self.chisq, self.df)) if self.df > 0 else float("nan")
        o, e = stats["observed"], stats["expected"]
        with np.errstate(divide="ignore", invalid="ignore"):
            self.table = pd.DataFrame({
                "group": stats["groups"], "n": stats["n"], "events": stats["events"],
                "observed": o, "expected": e, "o_minus_e": o - e,
                "(O-E)^2/E": (o - e) ** 2 / e, "(O-E)^2/V": (o - e) ** 2 / np.diag(stats["var"]),
            })
        self.variance = pd.DataFrame(stats["var"], index=stats["groups"], columns=stats["groups"])
        self.group_col = counts.group_col
        self.has_entry = counts.has_entry

    def _header(self) -> dict[str, Any]:
        return {"test": self.test, "group_col": self.group_col, "n": int(self.table["n"].sum()),
                "events": int(self.table["events"].sum()), "late entry": self.has_entry,
                "chisq": self.chisq, "df": self.df, "p_value": self.p_value}

    def to_frame(self) -> pd.DataFrame:
        """Observed and expected (weighted) events per group."""
        return self.table.copy()


def logrank_test_counts(counts: SurvivalCounts, rho: float = 0.0) -> LogRankResult:
    """:func:`logrank_test` from precomputed counts (e.g. :func:`counts_from_duckdb`)."""
    _need_groups(counts)
    return LogRankResult(_grho(counts, rho), rho, counts)


def logrank_test(table: pd.DataFrame, duration_col: str = "duration", event_col: str = "event",
                 group_col: str = "group", rho: float = 0.0,
                 entry_col: str | None = None) -> LogRankResult:
    """Compare survival curves of k groups with the G-rho family, as R's ``survdiff(rho=)``.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per customer.
    duration_col, event_col, group_col : str
        Days to churn or censoring, 1 churned / 0 censored, and the grouping column.
    rho : float, default 0
        0 gives the log-rank test, 1 the Peto-Peto test (weights ``S(t-)^rho``).
    entry_col : str, optional
        Late-entry times (counting-process risk sets).

    Returns
    -------
    LogRankResult

    Raises
    ------
    ModelError
        Fewer than two groups.
    DataError
        Invalid rows (see :func:`survchurn.survival._counts.counts_from_arrays`).
    """
    counts = counts_from_frame(table, duration_col, event_col, group_col, entry_col)
    return logrank_test_counts(counts, rho)


class TrendTestResult(Result):
    """Test for trend over ordered groups (1 df); see :func:`logrank_trend`."""

    _title = "G-rho test for trend"

    def __init__(self, stats: dict[str, Any], scores: np.ndarray, rho: float,
                 counts: SurvivalCounts):
        self.rho = float(rho)
        self.test = _test_name(self.rho) + ", trend"
        self.scores = scores
        o_e = stats["observed"] - stats["expected"]
        self.u = float(scores @ o_e)
        self.var = float(scores @ stats["var"] @ scores)
        self.z = self.u / np.sqrt(self.var)
        self.chisq = self.z**2
        self.p_value = float(2 * norm.sf(abs(self.z)))
        self.table = pd.DataFrame({"group": stats["groups"], "score": scores, "n": stats["n"],
                                   "observed": stats["observed"], "expected": stats["expected"],
                                   "o_minus_e": o_e})
        self.group_col = counts.group_col

    def _header(self) -> dict[str, Any]:
        return {"test": self.test, "group_col": self.group_col, "U": self.u, "var(U)": self.var,
                "z": self.z, "chisq": self.chisq, "df": 1, "p_value": self.p_value}

    def to_frame(self) -> pd.DataFrame:
        """Scores with observed and expected (weighted) events per group."""
        return self.table.copy()


def logrank_trend(table: pd.DataFrame, duration_col: str = "duration", event_col: str = "event",
                  group_col: str = "group",
                  scores: Sequence[float] | Mapping[Any, float] | None = None,
                  rho: float = 0.0, entry_col: str | None = None) -> TrendTestResult:
    """Test for a trend in survival over ordered groups (e.g. warning score 0..5).

    Parameters
    ----------
    table, duration_col, event_col, group_col, rho, entry_col
        As :func:`logrank_test`.
    scores : sequence or mapping, optional
        A score per group (in the sorted group order, or a mapping group -> score). Default:
        the group values themselves, which must then be numeric.

    Returns
    -------
    TrendTestResult
        ``z = U / sqrt(s' V s)`` is positive when higher scores churn more than expected.

    Raises
    ------
    ConfigError
        Scores missing for text groups, or not one per group.
    """
    counts = counts_from_frame(table, duration_col, event_col, group_col, entry_col)
    _need_groups(counts)
    groups = counts.groups
    if scores is None:
        try:
            s = np.array([float(g) for g in groups])
        except (TypeError, ValueError):
            raise ConfigError(f"column {group_col!r} is not numeric ({groups[:5]}): pass scores, "
                              "one per group in sorted order or a mapping group -> score") from None
    elif isinstance(scores, Mapping):
        missing = [g for g in groups if g not in scores]
        if missing:
            raise ConfigError(f"scores has no value for {len(missing)} groups of {group_col!r}, "
                              f"e.g. {missing[:5]}: give every group a score")
        s = np.array([float(scores[g]) for g in groups])
    else:
        s = np.asarray(scores, float)
        if s.shape != (len(groups),):
            raise ConfigError(f"scores has {s.size} values but {group_col!r} has {len(groups)} "
                              f"groups {groups[:6]}: give one score per group in this order")
    return TrendTestResult(_grho(counts, rho), s, rho, counts)


def p_adjust(p: Sequence[float], method: str = "BH") -> np.ndarray:
    """Adjust p-values for multiple comparisons as R's ``p.adjust`` (NaN stays NaN).

    ``"holm"``: Holm (1979) step-down, ``"BH"``: Benjamini & Hochberg (1995), ``"none"``.
    """
    if method not in P_ADJUST_METHODS:
        raise ConfigError(f"method must be one of {P_ADJUST_METHODS}, got {method!r}")
    p = np.asarray(p, float)
    out = p.copy()
    ok = ~np.isnan(p)
    q = p[ok]
    m = len(q)
    if method == "none" or m == 0:
        return out
    if method == "holm":
        o = np.argsort(q, kind="stable")
        adj = np.minimum(np.maximum.accumulate((m - np.arange(m)) * q[o]), 1.0)
    else:
        o = np.argsort(q, kind="stable")[::-1]
        adj = np.minimum(np.minimum.accumulate(m / np.arange(m, 0, -1) * q[o]), 1.0)
    res = np.empty(m)
    res[o] = adj
    out[ok] = res
    return out


class PairwiseLogRankResult(Result):
    """Two-group tests on every pair of groups with adjusted p-values."""

    _title = "Pairwise G-rho tests"

    def __init__(self, table: pd.DataFrame, groups: list[Any], rho: float, method: str,
                 group_col: str | None):
        self.table = table
        self.groups = groups
        self.rho = float(rho)
        self.method = method
        self.group_col = group_col

    def _header(self) -> dict[str, Any]:
        return {"test": _test_name(self.rho), "group_col": self.group_col,
                "pairs": len(self.table), "p adjustment": self.method}

    def to_frame(self) -> pd.DataFrame:
        """One row per pair: ``group1, group2, chisq, p_value, p_adjusted``."""
        return self.table.copy()

    def to_matrix(self) -> pd.DataFrame:
        """Adjusted p-values as survminer's lower-triangular matrix (rows group1, cols group2)."""
        m = pd.DataFrame(np.nan, index=self.groups[1:], columns=self.groups[:-1])
        for r in self.table.itertuples(index=False):
            m.loc[r.group1, r.group2] = r.p_adjusted
        return m


def pairwise_logrank(table: pd.DataFrame, duration_col: str = "duration",
                     event_col: str = "event", group_col: str = "group", rho: float = 0.0,
                     entry_col: str | None = None, method: str = "BH") -> PairwiseLogRankResult:
    """G-rho tests between every pair of groups, as ``survminer::pairwise_survdiff``.

    Each pair is tested on its own two groups (``survdiff`` on the subset); the p-values of all
    ``k (k - 1) / 2`` pairs are then adjusted together with ``method``.

    Parameters
    ----------
    table, duration_col, event_col, group_col, rho, entry_col
        As :func:`logrank_test`.
    method : {"BH", "holm", "none"}, default "BH"
        Benjamini-Hochberg (survminer's default: controls the false discovery rate) or Holm
        (controls the family-wise error rate; prefer it when any false alarm is costly).

    Returns
    -------
    PairwiseLogRankResult
    """
    if method not in P_ADJUST_METHODS:
        raise ConfigError(f"method must be one of {P_ADJUST_METHODS}, got {method!r}")
    counts = counts_from_frame(table, duration_col, event_col, group_col, entry_col)
    _need_groups(counts)
    rows = []
    for b, a in combinations(counts.groups, 2):  # group1 is the later level, as survminer
        chisq, df = _chisq(_grho(counts.subset([b, a]), rho))
        rows.append({"group1": a, "group2": b, "chisq": chisq,
                     "p_value": float(chi2.sf(chisq, df)) if df > 0 else np.nan})
    out = pd.DataFrame(rows)
    out["p_adjusted"] = p_adjust(out["p_value"].to_numpy(), method)
    return PairwiseLogRankResult(out, list(counts.groups), rho, method, group_col)
