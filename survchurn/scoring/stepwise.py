"""Stepwise logistic selection by AIC, BIC or p-value, with groups kept together (as MASS::stepAIC).

A *term* is a group of columns (a categorical's indicator columns form one term), so a factor is
entered or dropped as a whole, as ``stepAIC``'s ``dropterm`` / ``addterm`` do. With the AIC/BIC
criterion each step evaluates every allowed drop and add, and moves to the model with the
smallest ``deviance + k * edf`` (``extractAIC.glm``: k = 2 for AIC, log(n) for BIC); it stops when
no move lowers the criterion by more than 1e-7 (Venables & Ripley, *Modern Applied Statistics
with S*, 4th ed., 2002, section 6.8). The trace table has stepAIC's ``anova`` columns.

With ``criterion="p"`` the rule is the classical one: drop the term with the largest
likelihood-ratio p-value above ``p_remove``, else add the one with the smallest p-value below
``p_enter``.

Speed: every candidate model is refitted by Newton-Raphson warm-started from the current fit,
on a column subset of one design matrix (no copies). On large data (``exact="auto"`` and more
than 5 million cells) candidates are first ranked by one-step approximations from the current
fit (Wald statistics for drops, Rao score statistics for adds: Rao, 1948) and refitted exactly
in that order until no remaining candidate can beat the best exact one by more than the
observed approximation error (with a margin); the reported criteria are always exact refits.
Each refit starts from the current fit's information matrix, so its first Newton steps need
only the gradient (one pass over the data).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import expit

from survchurn._display import Result
from survchurn.exceptions import ConfigError
from survchurn.scoring.logistic import (
    LogisticResult,
    _gram,
    blas_threads,
    fit_logistic,
    newton_logit,
    validate_design,
)

__all__ = ["StepwiseLogistic", "StepwiseResult"]

logger = logging.getLogger(__name__)


@dataclass(repr=False)
class StepwiseResult(Result):
    """Trace and final model of a stepwise selection.

    Attributes
    ----------
    trace : DataFrame
        stepAIC's ``anova`` table: ``step`` ("" for the start, "- term", "+ term"), ``df``,
        ``deviance``, ``resid_df``, ``resid_dev``, ``criterion``.
    terms : list of str
        Terms of the final model, in the order of the input columns.
    columns : list of str
    model : LogisticResult
    """

    trace: pd.DataFrame
    terms: list[str]
    columns: list[str]
    model: LogisticResult
    direction: str
    criterion: str
    n: int
    n_events: int
    exact_refits: int = 0
    groups: dict[str, str] = field(default_factory=dict)

    _title = "Stepwise logistic selection"

    def to_frame(self) -> pd.DataFrame:
        return self.trace.copy()

    def _header(self) -> dict[str, Any]:
        return {"direction": self.direction, "criterion": self.criterion, "n": self.n,
                "events": self.n_events, "steps": len(self.trace) - 1,
                "final terms": " + ".join(self.terms) or "(intercept only)",
                "exact refits": self.exact_refits}


class StepwiseLogistic:
    """Stepwise logistic regression over grouped terms.

    Parameters
    ----------
    direction : {"both", "backward", "forward"}
    criterion : {"aic", "bic", "p"}
    k : float, optional
        Penalty per parameter (overrides the criterion's 2 or log(n), as stepAIC's ``k``).
    p_enter, p_remove : float
        Likelihood-ratio p-value thresholds for ``criterion="p"`` (``p_enter <= p_remove``).
    start : {"full", "empty"}, optional
        Starting model (default: full for backward/both, empty for forward).
    max_steps : int
        Upper bound on the number of moves (stepAIC's ``steps``).
    exact : {"auto", True, False}
        Refit every candidate exactly (True), screen by one-step approximations (False), or
        decide by data size ("auto").
    screen_margin : float
        When screening, candidates are refitted in order of their approximate criterion while
        ``approximate - max(screen_margin, 10 * largest approximation error seen)`` is below the
        best exact criterion so far. The p-value rule always refits every candidate.
    alpha : float
        Significance level of the final model's confidence intervals.
    """

    def __init__(self, *, direction: str = "both", criterion: str = "aic", k: float | None = None,
                 p_enter: float = 0.05, p_remove: float = 0.10, start: str | None = None,
                 max_steps: int = 1000, exact: bool | str = "auto", screen_margin: float = 0.5,
                 alpha: float = 0.05):
        if direction not in ("both", "backward", "forward"):
            raise ConfigError(f"direction must be 'both', 'backward' or 'forward', got {direction!r}")
        if criterion not in ("aic", "bic", "p"):
            raise ConfigError(f"criterion must be 'aic', 'bic' or 'p', got {criterion!r}")
        if criterion == "p" and p_enter > p_remove:
            raise ConfigError(f"p_enter ({p_enter}) must not exceed p_remove ({p_remove}), "
                              "or a term could enter and leave forever")
        if start not in (None, "full", "empty"):
            raise ConfigError(f"start must be 'full' or 'empty', got {start!r}")
        self.direction = direction
        self.criterion = criterion
        self.k = k
        self.p_enter = p_enter
        self.p_remove = p_remove
        self.start = start
        self.max_steps = max_steps
        self.exact = exact
        self.screen_margin = screen_margin
        self.alpha = alpha

    # ---- helpers -------------------------------------------------------------------------
    def _fit(self, cols: list[int], warm: dict[int, float], intercept: float,
             G: np.ndarray | None = None) -> tuple[np.ndarray, float]:
        beta0 = np.array([intercept] + [warm.get(c, 0.0) for c in cols])
        H0 = None if G is None else G[np.ix_([0] + [c + 1 for c in cols], [0] + [c + 1 for c in cols])]
        beta, ll, _, _ = newton_logit(self._X, self._y, cols, beta0, information=False, hessian=H0)
        self._n_refits += 1
        return beta, -2 * ll

    def fit(self, features: pd.DataFrame, label: pd.Series | np.ndarray | str, *,
            groups: Mapping[str, str] | None = None) -> StepwiseLogistic:
        """Run the selection.

        Parameters
        ----------
        features : DataFrame
            Numeric candidate columns.
        label : Series, array or str
            0/1 churn label or its column name.
        groups : mapping, optional
            Column -> term name; columns sharing a term enter and leave together.
        """
        Xdf, y = validate_design(features, label, context="stepwise features")
        with blas_threads(Xdf.size):
            return self._run(Xdf, y, groups)

    def _run(self, Xdf: pd.DataFrame, y: np.ndarray, groups: Mapping[str, str] | None) -> StepwiseLogistic:
        names = list(Xdf.columns)
        groups = dict(groups or {})
        term_of = [groups.get(c, c) for c in names]
        terms = list(dict.fromkeys(term_of))
        tcols = {t: [i for i, g in enumerate(term_of) if g == t] for t in terms}
        self._X = np.ascontiguousarray(Xdf.to_numpy(dtype=float))
        self._y = y
        self._n_refits = 0
        n = len(y)
        k = self.k if self.k is not None else (np.log(n) if self.criterion == "bic" else 2.0)
        exact = self.exact if self.exact != "auto" else n * len(names) <= 5_000_000
        start = self.start or ("empty" if self.direction == "forward" else "full")
        current = list(terms) if start == "full" else []

        def cols_of(ts: list[str]) -> list[int]:
            return sorted(c for t in ts for c in tcols[t])

        cur_cols = cols_of(current)
        beta, dev = self._fit(cur_cols, {}, float(np.log(y.mean() / (1 - y.mean()))))
        rows = [{"step": "", "df": np.nan, "deviance": np.nan, "resid_df": n - len(beta),
                 "resid_dev": dev, "criterion": dev + k * len(beta)}]
        for _step in range(self.max_steps):
            warm = dict(zip(cur_cols, beta[1:], strict=True))
            cands: list[tuple[str, str]] = []
            if self.direction in ("both", "backward"):
                cands += [("-", t) for t in current]
            if self.direction in ("both", "forward"):
                cands += [("+", t) for t in terms if t not in current]
            if not cands:
                break
            # information matrix and score of every column at the current fit: one pass
            G, g = self._state(cur_cols, beta)
            cur_crit = dev + k * len(beta)

            def refit(c: tuple[str, str], current: list[str] = current, warm: dict = warm,
                      beta: np.ndarray = beta, G: np.ndarray = G) -> tuple[list[str], list[int], np.ndarray, float]:
                sign, t = c
                new_terms = ([u for u in current if u != t] if sign == "-"
                             else [u for u in terms if u in current or u == t])
                cols = cols_of(new_terms)
                b, d = self._fit(cols, warm, beta[0], G)
                return new_terms, cols, b, d

            results = {}
            if exact or self.criterion == "p":
                for c in cands:
                    results[c] = refit(c)
            else:
                approx = self._approx(G, g, cur_cols, beta, dev, cands, tcols)
                a_crit = {c: approx[c] + k * (len(beta) + (len(tcols[c[1]]) if c[0] == "+" else -len(tcols[c[1]])))
                          for c in cands}
                best_exact, max_err = np.inf, 0.0
                for c in sorted(cands, key=lambda c: a_crit[c]):
                    # refit while the approximation, less an error bound, could still beat the best
                    if results and a_crit[c] - max(self.screen_margin, 10 * max_err) >= best_exact:
                        break
                    results[c] = refit(c)
                    crit = results[c][3] + k * len(results[c][2])
                    max_err = max(max_err, abs(crit - a_crit[c]))
                    best_exact = min(best_exact, crit)
            move = self._choose(results, dev, len(beta), k, n, tcols)
            if move is None:
                break
            sign, t = move
            new_terms, cur_cols, beta, new_dev = results[move]
            rows.append({"step": f"{sign} {t}", "df": (1 if sign == "-" else -1) * len(tcols[t]),
                         "deviance": abs(new_dev - dev), "resid_df": n - len(beta),
                         "resid_dev": new_dev, "criterion": new_dev + k * len(beta)})
            logger.info("stepwise %s %s: criterion %.6f -> %.6f", sign, t, cur_crit, rows[-1]["criterion"])
            current, dev = new_terms, new_dev
        final_cols = [names[i] for i in cur_cols]
        model = fit_logistic(Xdf, y, columns=final_cols, groups=groups, alpha=self.alpha,
                             method=f"stepwise ({self.direction}, {self.criterion})")
        self.trace_ = pd.DataFrame(rows)
        self.terms_ = [t for t in terms if t in current]
        self.columns_ = final_cols
        self.result_ = StepwiseResult(trace=self.trace_, terms=self.terms_, columns=final_cols,
                                      model=model, direction=self.direction, criterion=self.criterion,
                                      n=n, n_events=int(y.sum()), exact_refits=self._n_refits,
                                      groups=groups)
        del self._X, self._y
        return self

    def _choose(self, results: dict, dev: float, n_par: int, k: float, n: int,
                tcols: dict[str, list[int]]) -> tuple[str, str] | None:
        if not results:
            return None
        if self.criterion == "p":
            drops = {c: stats.chi2.sf(max(r[3] - dev, 0.0), len(tcols[c[1]]))
                     for c, r in results.items() if c[0] == "-"}
            adds = {c: stats.chi2.sf(max(dev - r[3], 0.0), len(tcols[c[1]]))
                    for c, r in results.items() if c[0] == "+"}
            if drops:
                worst = max(drops, key=drops.get)
                if drops[worst] > self.p_remove:
                    return worst
            if adds:
                best = min(adds, key=adds.get)
                if adds[best] < self.p_enter:
                    return best
            return None
        crit = {c: r[3] + k * len(r[2]) for c, r in results.items()}
        best = min(crit, key=crit.get)
        if crit[best] >= dev + k * n_par - 1e-7:  # stepAIC: stop unless AIC drops by > 1e-7
            return None
        return best

    def _state(self, cur_cols: list[int], beta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        X, y = self._X, self._y
        full = np.zeros(X.shape[1])
        full[cur_cols] = beta[1:]
        p = expit(beta[0] + X @ full)
        return _gram(X, p * (1 - p), np.arange(X.shape[1]), y - p)

    def _approx(self, G: np.ndarray, g: np.ndarray, cur_cols: list[int], beta: np.ndarray, dev: float,
                cands: list[tuple[str, str]], tcols: dict[str, list[int]]) -> dict:
        """One-step deviance approximations: Wald for drops, Rao score for adds."""
        M = [0] + [c + 1 for c in cur_cols]
        HMM_inv = np.linalg.pinv(G[np.ix_(M, M)])
        out = {}
        for sign, t in cands:
            if sign == "-":
                idx = [1 + cur_cols.index(c) for c in tcols[t]]
                b = beta[idx]
                V = HMM_inv[np.ix_(idx, idx)]
                out[(sign, t)] = dev + float(b @ np.linalg.pinv(V) @ b)
            else:
                C = [c + 1 for c in tcols[t]]
                S = G[np.ix_(C, C)] - G[np.ix_(C, M)] @ HMM_inv @ G[np.ix_(M, C)]
                u = g[C]
                out[(sign, t)] = dev - float(u @ np.linalg.pinv(S) @ u)
        return out


def stepwise_terms(columns: Sequence[str], groups: Mapping[str, str] | None = None) -> list[str]:
    """Terms (groups) of ``columns`` in first-seen order."""
    groups = groups or {}
    return list(dict.fromkeys(groups.get(c, c) for c in columns))
