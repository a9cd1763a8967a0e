"""L1-penalised logistic regression with a cross-validated penalty, as R's glmnet / cv.glmnet.

The estimator minimises (Friedman, Hastie & Tibshirani, "Regularization paths for generalized
linear models via coordinate descent", J. Stat. Softw. 33(1), 2010, eq. 12)

    - sum_i w_i [y_i eta_i - log(1 + exp(eta_i))] + lambda * sum_j |b_j|,   sum_i w_i = 1,

on standardised columns (weighted mean 0, weighted variance 1 with divisor ``sum w``; glmnet's
``standardize = TRUE``), with an unpenalised intercept; coefficients are reported on the
original scale. Each lambda is solved by proximal Newton: a quadratic approximation of the
log-likelihood (IRLS weights ``p (1 - p)``) minimised by cyclic coordinate descent with
soft-thresholding on the active set ("covariance updates", section 2.2 of the paper), with KKT
checks on the inactive columns and warm starts along the path.

The lambda sequence follows glmnet: ``lambda_max = max_j |sum_i w_i z_ij (y_i - ybar)|`` (the
smallest penalty with all coefficients zero), then ``nlambda`` values log-spaced down to
``lambda_min_ratio * lambda_max`` (0.01 when n < p, else 1e-4). Like glmnet, a data-driven path
stops early when the fraction of deviance explained exceeds 0.999 or grows by less than 1e-5
from one lambda to the next (only after the first 5 lambdas; ``glmnet.control`` defaults).

Cross-validation follows ``cv.glmnet(type.measure = "deviance", grouped = TRUE)`` (glmnet 4.1):
each fold is fitted on the other folds with its own data-driven lambda sequence, its coefficients are
interpolated to the full-data lambdas (``alignment = "lambda"``), held-out probabilities are
clipped to [1e-5, 1 - 1e-5], the binomial deviance is averaged within folds, ``cvm`` is the weighted
mean of the fold means and ``cvsd = sqrt(weighted mean of squared deviations / (K - 1))``.
``lambda.min`` is the largest lambda attaining the minimum ``cvm``, ``lambda.1se`` the largest
lambda with ``cvm <= cvm[lambda.min] + cvsd[lambda.min]``.

The solver (:mod:`survchurn.scoring._lasso_solver`) runs the full-data fit and the K fold fits in
lockstep, so each pass over the data serves all of them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from survchurn._display import Result
from survchurn.exceptions import ConfigError
from survchurn.scoring._lasso_solver import solve_paths
from survchurn.scoring.logistic import (
    LogisticResult,
    blas_threads,
    fit_logistic,
    validate_design,
)

__all__ = ["LassoLogistic", "LassoResult", "lambda_sequence", "lasso_path"]

logger = logging.getLogger(__name__)

_PMIN = 1e-5


def _std(X: np.ndarray, w: np.ndarray, standardize: bool) -> tuple[np.ndarray, np.ndarray]:
    m = w @ X
    if not standardize:
        return m, np.ones(X.shape[1])
    s = np.sqrt(np.maximum(w @ (X * X) - m * m, 0.0))
    return m, s


def _weighted_moments(X: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    m = np.zeros(X.shape[1])
    q = np.zeros(X.shape[1])
    for i in range(0, X.shape[0], 65536):
        Xc = X[i:i + 65536]
        wc = w[i:i + 65536]
        m += wc @ Xc
        q += wc @ (Xc * Xc)
    return m, q


def lambda_sequence(
    X: np.ndarray, y: np.ndarray, *, nlambda: int = 100, lambda_min_ratio: float | None = None,
    weights: np.ndarray | None = None, standardize: bool = True, n_eff: int | None = None,
) -> np.ndarray:
    """glmnet's default penalty sequence for an L1 logistic model (see module docstring)."""
    n, p = X.shape
    w = np.full(n, 1.0 / n) if weights is None else weights / weights.sum()
    n = n if n_eff is None else n_eff
    m, q = _weighted_moments(X, w)
    s = np.sqrt(np.maximum(q - m * m, 0.0)) if standardize else np.ones(p)
    ybar = float(w @ y)
    r = w * (y - ybar)
    grad = (X.T @ r - m * r.sum()) / np.where(s > 0, s, 1.0)
    grad[s == 0] = 0.0
    lam_max = float(np.max(np.abs(grad)))
    if lambda_min_ratio is None:
        lambda_min_ratio = 0.01 if n < p else 1e-4
    return lam_max * lambda_min_ratio ** (np.arange(nlambda) / (nlambda - 1))


def lasso_path(
    X: np.ndarray,
    y: np.ndarray,
    lambdas: np.ndarray,
    *,
    weights: np.ndarray | None = None,
    standardize: bool = True,
    truncate: bool = False,
    tol: float = 1e-12,
    max_iter: int = 200,
) -> dict[str, np.ndarray]:
    """Solve the L1 logistic problem along ``lambdas`` (decreasing), warm-starting each solution.

    Parameters
    ----------
    X : ndarray (n, p)
    y : ndarray (n,) of 0/1
    lambdas : ndarray
        Penalties, largest first.
    weights : ndarray, optional
        Observation weights (normalised to sum 1); zero weights drop rows (used for CV folds).
    standardize : bool
        Penalise standardised coefficients (glmnet's default).
    truncate : bool
        Stop early by glmnet's deviance rules (for data-driven sequences only).
    tol : float
        Convergence tolerance: stop when the largest ``H_jj * change_j^2`` is below
        ``tol * null deviance`` (glmnet's ``thresh`` rule).

    Returns
    -------
    dict with ``lambda``, ``a0`` (intercepts), ``beta`` (p x L, original scale), ``dev_ratio``,
    ``df`` and ``null_dev``.
    """
    w = np.ones(len(y)) if weights is None else np.asarray(weights, float)
    return solve_paths(X, np.asarray(y, float), [w], [np.asarray(lambdas, float)], [truncate],
                       standardize=standardize, tol=tol, max_iter=max_iter)[0]


def _interpolate(lam: np.ndarray, a0: np.ndarray, beta: np.ndarray, s: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients at penalties ``s`` by linear interpolation along a fitted path.

    The rule of glmnet's ``predict(s=)`` (``lambda.interp``): penalties outside the path are
    clamped to its ends, inside they interpolate linearly in lambda between the neighbours.
    """
    if len(lam) == 1:
        return np.repeat(a0, len(s)), np.repeat(beta, len(s), axis=1)
    k = len(lam)
    span = lam[0] - lam[k - 1]
    frac = np.clip((lam[0] - s) / span, 0.0, 1.0)
    grid = (lam[0] - lam) / span  # increasing 0..1
    coord = np.interp(frac, grid, np.arange(k, dtype=float))
    left = np.floor(coord).astype(int)
    right = np.ceil(coord).astype(int)
    denom = grid[left] - grid[right]
    with np.errstate(invalid="ignore", divide="ignore"):
        wl = np.where((left == right) | (np.abs(denom) < np.finfo(float).eps), 1.0,
                      (frac - grid[right]) / denom)
    return a0[left] * wl + a0[right] * (1 - wl), beta[:, left] * wl + beta[:, right] * (1 - wl)


@dataclass(repr=False)
class LassoResult(Result):
    """The LASSO path, its cross-validation curve, the chosen penalties and the refit.

    Attributes
    ----------
    path : DataFrame
        One row per lambda: ``lambda``, ``df``, ``dev_ratio``, ``cvm``, ``cvsd``, ``cvup``, ``cvlo``.
    coefs : DataFrame
        Coefficients (terms x lambdas), intercept first.
    lambda_min, lambda_1se : float
    selected : list of str
        Columns with non-zero coefficients at the chosen penalty, completed to whole groups.
    refit : LogisticResult or None
        Unpenalised refit of ``selected`` with standard errors, odds ratios and p-values.
    """

    path: pd.DataFrame
    coefs: pd.DataFrame
    lambda_min: float
    lambda_1se: float
    s: str
    selected: list[str]
    refit: LogisticResult | None
    n: int
    n_events: int
    nfolds: int
    groups: dict[str, str] = field(default_factory=dict)

    _title = "LASSO logistic regression (cv.glmnet rules)"

    @property
    def chosen_lambda(self) -> float:
        return self.lambda_1se if self.s == "lambda.1se" else self.lambda_min

    def coef_at(self, lam: float) -> pd.Series:
        """Coefficients at the path lambda nearest ``lam``."""
        j = int(np.argmin(np.abs(self.path["lambda"].to_numpy() - lam)))
        return self.coefs.iloc[:, j]

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"lambda.min": self.coef_at(self.lambda_min),
                             "lambda.1se": self.coef_at(self.lambda_1se)})

    def _header(self) -> dict[str, Any]:
        return {"n": self.n, "events": self.n_events, "folds": self.nfolds,
                "lambdas": len(self.path), "lambda.min": self.lambda_min,
                "lambda.1se": self.lambda_1se, "chosen": self.s, "selected": len(self.selected)}


class LassoLogistic:
    """L1-penalised logistic regression with K-fold cross-validation (glmnet / cv.glmnet rules).

    Parameters
    ----------
    nlambda : int
        Length of the data-driven lambda sequence.
    lambda_min_ratio : float, optional
        Smallest lambda as a fraction of ``lambda_max`` (default 0.01 if n < p else 1e-4).
    lambdas : array, optional
        A user lambda sequence (then no early stopping, as in glmnet).
    nfolds : int
        Number of folds when ``foldid`` is not given to :meth:`fit`.
    standardize : bool
        Penalise standardised coefficients (glmnet default).
    s : {"lambda.1se", "lambda.min"}
        Penalty used for selection and refit.
    seed : int
        Seed for the fold assignment (``np.random.default_rng(seed)``).
    tol : float
        Coordinate-descent tolerance (glmnet's ``thresh`` scale).
    alpha : float
        Significance level of the refit's confidence intervals.
    refit : bool
        Refit the selected columns without penalty (statsmodels) for inference.
    n_jobs : int
        Threads over which the full-data and fold fits are split (results are identical).
    """

    def __init__(self, *, nlambda: int = 100, lambda_min_ratio: float | None = None,
                 lambdas: Sequence[float] | None = None, nfolds: int = 10, standardize: bool = True,
                 s: str = "lambda.1se", seed: int = 0, tol: float = 1e-9, alpha: float = 0.05,
                 refit: bool = True, n_jobs: int = 1):
        if s not in ("lambda.1se", "lambda.min"):
            raise ConfigError(f"s must be 'lambda.1se' or 'lambda.min', got {s!r}")
        if nfolds < 3:
            raise ConfigError(f"nfolds must be at least 3 (cv.glmnet's rule), got {nfolds}")
        self.nlambda = nlambda
        self.lambda_min_ratio = lambda_min_ratio
        self.lambdas = lambdas
        self.nfolds = nfolds
        self.standardize = standardize
        self.s = s
        self.seed = seed
        self.tol = tol
        self.alpha = alpha
        self.refit = refit
        self.n_jobs = n_jobs

    def fit(self, features: pd.DataFrame, label: pd.Series | np.ndarray | str, *,
            foldid: Sequence[int] | np.ndarray | None = None,
            groups: Mapping[str, str] | None = None) -> LassoLogistic:
        """Fit the path, cross-validate, choose the penalty and refit the selected columns.

        Parameters
        ----------
        features : DataFrame
            Numeric candidate columns.
        label : Series, array or str
            0/1 churn label or its column name.
        foldid : array of int in 1..K, optional
            Fold of each row (as ``cv.glmnet(foldid=)``); default: a seeded random assignment.
        groups : mapping, optional
            Column -> group; a selected indicator brings its whole group into the refit.
        """
        Xdf, y = validate_design(features, label, context="LASSO features")
        with blas_threads(Xdf.size):
            return self._fit(Xdf, y, foldid, groups)

    def _solve(self, Xc: np.ndarray, y: np.ndarray, weights: list, seqs: list, trunc: list) -> list[dict]:
        jobs = max(1, min(self.n_jobs, len(weights)))
        if jobs == 1:
            return solve_paths(Xc, y, weights, seqs, trunc, standardize=self.standardize, tol=self.tol)
        # independent fits split over threads; NumPy releases the GIL in its array passes
        parts = [list(range(j, len(weights), jobs)) for j in range(jobs)]
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(solve_paths, Xc, y, [weights[i] for i in part], [seqs[i] for i in part],
                                   [trunc[i] for i in part], standardize=self.standardize, tol=self.tol)
                       for part in parts]
            out: list[dict] = [{}] * len(weights)
            for part, fut in zip(parts, futures, strict=True):
                for i, res in zip(part, fut.result(), strict=True):
                    out[i] = res
        return out

    def _fit(self, Xdf: pd.DataFrame, y: np.ndarray, foldid: Sequence[int] | np.ndarray | None,
             groups: Mapping[str, str] | None) -> LassoLogistic:
        X = Xdf.to_numpy(dtype=float)
        n, p = X.shape
        if foldid is None:
            rng = np.random.default_rng(self.seed)
            foldid = rng.permutation(np.arange(n) % self.nfolds) + 1
        foldid = np.asarray(foldid, dtype=int)
        if len(foldid) != n:
            raise ConfigError(f"foldid has {len(foldid):,} entries but the data has {n:,} rows")
        K = int(foldid.max())
        if K < 3 or foldid.min() < 1:
            raise ConfigError(f"foldid must number folds 1..K with K >= 3, got {foldid.min()}..{K}")
        # centre once (improves conditioning); intercepts are shifted back below
        centre = X.mean(axis=0)
        Xc = X - centre
        folds = [foldid == k for k in range(1, K + 1)]
        weights = [np.ones(n)] + [(~t).astype(float) for t in folds]
        if self.lambdas is None:
            # cv.glmnet fits each fold on its own data-driven sequence, truncated by glmnet's rules
            seqs = [lambda_sequence(Xc, y, nlambda=self.nlambda, weights=w, n_eff=int(w.sum()),
                                    lambda_min_ratio=self.lambda_min_ratio, standardize=self.standardize)
                    for w in weights]
            trunc = [True] * (K + 1)
        else:
            seqs = [np.sort(np.asarray(self.lambdas, float))[::-1]] * (K + 1)
            trunc = [False] * (K + 1)
        paths = self._solve(Xc, y, weights, seqs, trunc)
        full = paths[0]
        lam = full["lambda"]
        L = len(lam)
        fold_means = np.zeros((K, L))
        fold_w = np.zeros(K)
        for k, test in enumerate(folds):
            fit_k = paths[k + 1]
            a0_k, beta_k = _interpolate(fit_k["lambda"], fit_k["a0"], fit_k["beta"], lam)
            eta = a0_k[None, :] + Xc[test] @ beta_k
            pr = np.clip(1 / (1 + np.exp(-eta)), _PMIN, 1 - _PMIN)
            yt = y[test][:, None]
            dev = -2 * (yt * np.log(pr) + (1 - yt) * np.log(1 - pr))
            fold_means[k] = dev.mean(axis=0)
            fold_w[k] = test.sum()
        cvm = fold_w @ fold_means / fold_w.sum()
        cvsd = np.sqrt((fold_w @ (fold_means - cvm) ** 2) / fold_w.sum() / (K - 1))
        i_min = int(np.flatnonzero(cvm <= cvm.min())[np.argmax(lam[cvm <= cvm.min()])])
        lambda_min = float(lam[i_min])
        ok = cvm <= cvm[i_min] + cvsd[i_min]
        lambda_1se = float(np.max(lam[ok]))
        a0 = full["a0"] - centre @ full["beta"]
        names = list(Xdf.columns)
        self.coefs_ = pd.DataFrame(np.vstack([a0, full["beta"]]), index=["const", *names],
                                   columns=[f"s{i}" for i in range(L)])
        self.path_ = pd.DataFrame({"lambda": lam, "df": full["df"], "dev_ratio": full["dev_ratio"],
                                   "cvm": cvm, "cvsd": cvsd, "cvup": cvm + cvsd, "cvlo": cvm - cvsd})
        self.lambda_min_ = lambda_min
        self.lambda_1se_ = lambda_1se
        chosen = lambda_1se if self.s == "lambda.1se" else lambda_min
        j = int(np.flatnonzero(lam == chosen)[0])
        nz = [c for c, v in zip(names, full["beta"][:, j], strict=True) if v != 0]
        groups = dict(groups or {})
        sel_groups = {groups.get(c, c) for c in nz}
        self.selected_ = [c for c in names if groups.get(c, c) in sel_groups]
        refit = None
        if self.refit and self.selected_:
            refit = fit_logistic(Xdf, y, columns=self.selected_, groups=groups, alpha=self.alpha,
                                 method=f"LASSO refit at {self.s}")
        self.result_ = LassoResult(path=self.path_, coefs=self.coefs_, lambda_min=lambda_min,
                                   lambda_1se=lambda_1se, s=self.s, selected=self.selected_,
                                   refit=refit, n=n, n_events=int(y.sum()), nfolds=K, groups=groups)
        logger.info("LASSO: %d lambdas, lambda.min=%.4g, lambda.1se=%.4g, %d selected",
                    L, lambda_min, lambda_1se, len(self.selected_))
        return self
