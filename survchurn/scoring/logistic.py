"""Full logistic regression (statsmodels) and the fast Newton fits used by stepwise selection.

The full model is fitted with ``statsmodels.discrete.discrete_model.Logit`` (Newton-Raphson),
which gives the same estimates and standard errors as R's ``glm(family = binomial)``: both
maximise the Bernoulli log-likelihood, and standard errors are the square roots of the diagonal
of the inverse observed information ``(X' W X)^{-1}`` with ``W = diag(p (1 - p))``
(McCullagh & Nelder, *Generalized Linear Models*, 2nd ed., 1989, ch. 4).

:func:`newton_logit` is a small NumPy Newton-Raphson used where many related models are fitted
(stepwise selection): it accepts warm starts and works on a column subset of one design
matrix without copying it.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import expit

from survchurn._display import Result
from survchurn.exceptions import ConvergenceWarning, DataError, DataProblem, ModelError

__all__ = ["LogisticResult", "blas_threads", "fit_logistic", "newton_logit", "validate_design"]

logger = logging.getLogger(__name__)

_CHUNK = 65536


def validate_design(
    features: pd.DataFrame, label: pd.Series | np.ndarray | str, *, context: str = "features"
) -> tuple[pd.DataFrame, np.ndarray]:
    """Check a numeric feature table and a 0/1 label; return them aligned.

    Parameters
    ----------
    features : DataFrame
        Numeric candidate columns, one row per customer.
    label : Series, array or str
        The 0/1 churn label, or the name of a column of ``features`` holding it.
    context : str
        Name used in error messages.

    Raises
    ------
    DataError
        Every problem at once: non-numeric or missing values (naming the column, row count and
        example ids) and labels that are not 0/1.
    """
    if not isinstance(features, pd.DataFrame):
        raise DataError(["features must be a pandas DataFrame"], context)
    if isinstance(label, str):
        if label not in features.columns:
            raise DataError(
                [DataProblem(label, "label column not found", len(features), (), "pass the 0/1 label column name")],
                context,
            )
        y_raw = features[label]
        features = features.drop(columns=[label])
    else:
        y_raw = label if isinstance(label, pd.Series) else pd.Series(np.asarray(label))
        if len(y_raw) != len(features):
            raise DataError(
                [f"label has {len(y_raw):,} rows but features have {len(features):,}; pass one label per row"],
                context,
            )
    problems: list[DataProblem] = []
    for col in features.columns:
        s = features[col]
        if not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)):
            problems.append(DataProblem(str(col), "is not numeric", len(s), list(s.index[:5]),
                                        "turn categories into indicator columns (candidates.CandidateBuilder)"))
            continue
        bad = s.isna().to_numpy()
        if bad.any():
            problems.append(DataProblem(str(col), "has missing values", int(bad.sum()), list(s.index[bad][:5]),
                                        "impute them or bin the column so missing gets its own flag"))
    yv = pd.to_numeric(pd.Series(np.asarray(y_raw)), errors="coerce").to_numpy(dtype=float)
    bad_y = ~np.isin(yv, (0.0, 1.0))
    if bad_y.any():
        problems.append(DataProblem("label", "must be 0 (stayed) or 1 (churned)", int(bad_y.sum()),
                                    list(features.index[bad_y][:5]), "recode the label to 0/1"))
    if problems:
        raise DataError(problems, context)
    if features.shape[0] == 0:
        raise DataError(["no rows to fit on"], context)
    if yv.min() == yv.max():
        raise DataError([f"label is {int(yv[0])} for all {len(yv):,} rows; a model needs both 0 and 1"], context)
    return features, yv


def blas_threads(n_cells: int, limit: int | None = 1, threshold: float = float("inf")
                 ) -> contextlib.AbstractContextManager:
    """Limit BLAS to ``limit`` thread(s) while fitting designs below ``threshold`` cells (default: all).

    The fits here run many thin matrix products and element-wise passes; on a shared 2-core
    machine a multi-threaded BLAS spent more time synchronising than computing (measured: LASSO
    CV 5x slower at 5,600 x 34 and 2x slower at 200,000 x 30 than with one thread). Pass
    ``limit=None`` to keep the BLAS default. Uses ``threadpoolctl`` (a scikit-learn dependency).
    """
    if limit is None or n_cells >= threshold:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - scikit-learn brings threadpoolctl
        return contextlib.nullcontext()
    return threadpool_limits(limits=limit, user_api="blas")


def _xb(X: np.ndarray, cols: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """``beta[0] + X[:, cols] @ beta[1:]`` without copying ``X``."""
    full = np.zeros(X.shape[1])
    full[cols] = beta[1:]
    return beta[0] + X @ full


def _gram(X: np.ndarray, w: np.ndarray, cols: np.ndarray, r: np.ndarray | None = None
          ) -> tuple[np.ndarray, np.ndarray | None]:
    """Weighted Gram ``[1 X_c]' diag(w) [1 X_c]`` and optionally ``[1 X_c]' r``, in row chunks."""
    k = len(cols) + 1
    G = np.zeros((k, k))
    g = np.zeros(k) if r is not None else None
    every = len(cols) == X.shape[1] and np.array_equal(cols, np.arange(X.shape[1]))
    for i in range(0, X.shape[0], _CHUNK):
        Xc = X[i:i + _CHUNK] if every else X[i:i + _CHUNK][:, cols]
        wc = w[i:i + _CHUNK]
        WX = Xc * wc[:, None]
        G[0, 0] += wc.sum()
        G[0, 1:] += WX.sum(axis=0)
        G[1:, 1:] += WX.T @ Xc
        if g is not None:
            rc = r[i:i + _CHUNK]
            g[0] += rc.sum()
            g[1:] += rc @ Xc
    G[1:, 0] = G[0, 1:]
    return G, g


def _loglik(y: np.ndarray, eta: np.ndarray) -> float:
    # log(1 + e^eta) computed stably
    return float(np.sum(y * eta - np.logaddexp(0.0, eta)))


def newton_logit(
    X: np.ndarray,
    y: np.ndarray,
    cols: Sequence[int] | np.ndarray,
    beta0: np.ndarray | None = None,
    *,
    tol: float = 1e-11,
    max_iter: int = 50,
    information: bool = True,
    hessian: np.ndarray | None = None,
) -> tuple[np.ndarray, float, np.ndarray | None, bool]:
    """Maximum-likelihood logistic fit on columns ``cols`` of ``X`` (plus an intercept).

    Newton-Raphson with step halving, started from ``beta0`` (intercept first) when given.
    With ``hessian`` (an information matrix for ``[1 X_cols]`` from a nearby fit) the first
    iterations reuse it and need only the gradient (one pass over the data each); it is
    recomputed when steps stop shrinking fast. The fixed point, hence the MLE, is the same.
    Stops when the relative change of the deviance is below ``tol`` (R's ``glm.control`` rule,
    ``|dev - dev_old| / (|dev| + 0.1) < epsilon``, with a tighter default) and the largest
    Newton step is below ``1e-8``.

    Returns
    -------
    beta : ndarray
        Intercept then one coefficient per column of ``cols``.
    loglik : float
        Maximised log-likelihood.
    information : ndarray or None
        ``[1 X]' W [1 X]`` at the solution (invert for the covariance); None when
        ``information=False`` (saves a pass over the data).
    converged : bool
    """
    cols = np.asarray(cols, dtype=int)
    k = len(cols) + 1
    if beta0 is None:
        ybar = float(np.clip(y.mean(), 1e-10, 1 - 1e-10))
        beta = np.zeros(k)
        beta[0] = np.log(ybar / (1 - ybar))
    else:
        beta = np.asarray(beta0, dtype=float).copy()
    eta = _xb(X, cols, beta)
    ll = _loglik(y, eta)
    converged = False
    info = None if hessian is None else np.asarray(hessian, float)
    prev, ratio = np.inf, 0.0
    for it in range(max_iter):
        p = expit(eta)
        r = y - p
        if info is None or it >= 4 or ratio > 0.2:  # refresh when steps stop shrinking fast
            info, grad = _gram(X, p * (1.0 - p), cols, r)
        else:  # gradient only: one pass; the (stale) Hessian still leads to the same MLE
            full = X.T @ r
            grad = np.concatenate([[r.sum()], full[cols]])
        try:
            step = np.linalg.solve(info, grad)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(info, grad, rcond=None)[0]
        t = 1.0
        for _half in range(30):
            new_beta = beta + t * step
            new_eta = _xb(X, cols, new_beta)
            new_ll = _loglik(y, new_eta)
            if new_ll >= ll - 1e-12 * abs(ll):
                break
            t /= 2
        change = abs(new_ll - ll) * 2 / (abs(2 * new_ll) + 0.1)
        beta, eta, ll = new_beta, new_eta, new_ll
        size = float(np.max(np.abs(t * step))) if len(step) else 0.0
        if change < tol and size < 1e-8:
            converged = True
            break
        ratio = size / prev if np.isfinite(prev) and prev > 0 else 0.0
        prev = size
    if not information:
        return beta, ll, None, converged
    p = expit(eta)
    info, _ = _gram(X, p * (1.0 - p), cols)
    return beta, ll, info, converged


@dataclass(repr=False)
class LogisticResult(Result):
    """A fitted logistic regression: coefficients, odds ratios, CIs and p-values.

    Attributes
    ----------
    coef, se : Series
        Estimates and standard errors, indexed by term (``"const"`` first).
    loglik, aic, bic : float
    n, n_events : int
    alpha : float
        Significance level of the confidence intervals.
    groups : dict
        Column -> group (a categorical's indicator columns share one group).
    method : str
        Where the fit came from (``"full"``, ``"lasso refit"``, ``"stepwise"``).
    """

    coef: pd.Series
    se: pd.Series
    loglik: float
    n: int
    n_events: int
    alpha: float = 0.05
    groups: dict[str, str] = field(default_factory=dict)
    method: str = "full"
    converged: bool = True

    _title = "Logistic regression"

    @property
    def columns(self) -> list[str]:
        """The model's columns (without the intercept)."""
        return [c for c in self.coef.index if c != "const"]

    @property
    def n_params(self) -> int:
        return len(self.coef)

    @property
    def aic(self) -> float:
        return -2 * self.loglik + 2 * self.n_params

    @property
    def bic(self) -> float:
        return -2 * self.loglik + np.log(self.n) * self.n_params

    def to_frame(self) -> pd.DataFrame:
        z = self.coef / self.se
        q = stats.norm.ppf(1 - self.alpha / 2)
        pct = f"{100 * (1 - self.alpha):g}%"
        return pd.DataFrame({
            "group": [self.groups.get(t, t) for t in self.coef.index],
            "coef": self.coef, "se": self.se, "z": z,
            "p": 2 * stats.norm.sf(np.abs(z)),
            "odds_ratio": np.exp(self.coef),
            f"or_lower_{pct}": np.exp(self.coef - q * self.se),
            f"or_upper_{pct}": np.exp(self.coef + q * self.se),
        })

    def _header(self) -> dict[str, Any]:
        return {"method": self.method, "n": self.n, "events": self.n_events,
                "variables": len(self.columns), "log-likelihood": self.loglik,
                "AIC": self.aic, "BIC": self.bic, "converged": self.converged}

    def linear_predictor(self, features: pd.DataFrame) -> np.ndarray:
        """``const + X b`` for a table holding the model's columns."""
        missing = [c for c in self.columns if c not in features.columns]
        if missing:
            raise ModelError(f"features lack the model's columns {missing[:5]} ({len(missing)} in all); "
                             "build them with the same CandidateBuilder")
        X = features[self.columns].to_numpy(dtype=float)
        return self.coef["const"] + X @ self.coef[self.columns].to_numpy()

    def predict_proba(self, features: pd.DataFrame) -> np.ndarray:
        """Churn probability for each row of ``features``."""
        return 1.0 / (1.0 + np.exp(-self.linear_predictor(features)))


def fit_logistic(
    features: pd.DataFrame,
    label: pd.Series | np.ndarray | str,
    *,
    columns: Sequence[str] | None = None,
    groups: Mapping[str, str] | None = None,
    alpha: float = 0.05,
    method: str = "full",
) -> LogisticResult:
    """Fit a logistic regression with statsmodels (Newton-Raphson) and return odds ratios.

    Parameters
    ----------
    features : DataFrame
        Numeric candidate columns (categoricals already as indicator columns).
    label : Series, array or str
        0/1 churn label or the name of its column in ``features``.
    columns : sequence of str, optional
        Subset of columns to use (default: all).
    groups : mapping, optional
        Column -> group name, carried into the result table.
    alpha : float
        Significance level of the odds-ratio confidence intervals (0.05 gives 95%).
    method : str
        Label shown in the result header.

    Returns
    -------
    LogisticResult
    """
    import statsmodels.api as sm

    X, y = validate_design(features, label)
    cols = list(X.columns) if columns is None else list(columns)
    A = np.column_stack([np.ones(len(y)), X[cols].to_numpy(dtype=float)])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            res = sm.Logit(y, A).fit(method="newton", maxiter=100, tol=1e-12, disp=0)
        except np.linalg.LinAlgError as exc:
            raise ModelError(f"the design is singular ({exc}); drop collinear columns among {cols[:8]}") from exc
    names = ["const", *cols]
    converged = bool(res.mle_retvals.get("converged", True))
    for w in caught:
        logger.debug("statsmodels warning: %s", w.message)
    if not converged:
        warnings.warn(ConvergenceWarning("logistic fit did not converge in 100 Newton steps; check for "
                                         "separation (a flag that all churners share) and drop or merge it"),
                      stacklevel=2)
    return LogisticResult(
        coef=pd.Series(res.params, index=names), se=pd.Series(res.bse, index=names),
        loglik=float(res.llf), n=len(y), n_events=int(y.sum()), alpha=alpha,
        groups=dict(groups or {}), method=method, converged=converged,
    )
