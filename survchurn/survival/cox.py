"""Cox proportional-hazards regression with R-grade numbers.

:class:`CoxPH` maximises the Cox (1972) partial likelihood with Newton-Raphson and step-halving,
Efron (default) or Breslow ties, strata, late entry ((start, stop] counting-process rows),
robust sandwich standard errors (Lin & Wei 1989, R's ``robust=TRUE`` / ``cluster``), a ridge
penalty and the elastic net. The numbers match R's ``survival::coxph`` (see
``tests/reference/cox_reference.R``).

Penalty convention
------------------
The penalised log partial likelihood is

    pl(beta) = l(beta) - penalty * ((1 - l1_ratio) / 2 * ||beta||_2^2 + l1_ratio * ||beta||_1)

on the covariates as given (not standardised) and on the *unnormalised* log-likelihood. With
``l1_ratio=0`` this is R's ``ridge(..., theta=penalty, scale=FALSE)``. glmnet's Cox ``lambda``
corresponds to ``penalty / n`` (glmnet divides the log-likelihood by the number of rows) and its
``alpha`` to ``l1_ratio``; glmnet handles ties the Breslow way and standardises covariates by
default (``standardize=TRUE``), so compare with ``ties="breslow"`` on standardised covariates
(the tests match glmnet 4.1 with ``standardize=FALSE`` to 1e-6). With an L1 part there are no valid standard errors
after selection: ``se`` is NaN; refit without penalty on the selected columns for inference.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from survchurn._display import Result
from survchurn.exceptions import (
    ConvergenceWarning,
    ModelError,
    SeparationWarning,
    SmallGroupWarning,
)
from survchurn.survival._cox_design import CoxDesign, DesignSpec, build_design, collinear_columns
from survchurn.survival._cox_newton import CoxEvaluation, RiskSetEngine

__all__ = ["CoxPH", "CoxResult"]

logger = logging.getLogger(__name__)

_TIES = ("efron", "breslow")


def _solve_psd(H: np.ndarray, g: np.ndarray) -> np.ndarray:
    try:
        L = np.linalg.cholesky(H)
        return np.linalg.solve(L.T, np.linalg.solve(L, g))
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(H, g, rcond=None)[0]


def _inv_psd(H: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.inv(H)
    except np.linalg.LinAlgError:
        return np.linalg.pinv(H)


def _chi2_test(stat: float, df: int) -> dict[str, float]:
    return {"statistic": float(stat), "df": int(df), "p": float(stats.chi2.sf(stat, df))}


class CoxResult(Result):
    """What a :class:`CoxPH` fit produced; ``to_frame()`` is the coefficient table.

    Attributes
    ----------
    params, se : pandas.Series
        Coefficients (log hazard ratios) and the standard errors used for inference (robust
        ones when the fit was robust).
    naive_se, robust_se : pandas.Series or None
        Model-based and sandwich standard errors.
    var : ndarray
        Covariance matrix behind ``se``.
    loglik, loglik_null : float
        Log partial likelihood at the estimate and at beta = 0 (unpenalised).
    tests : pandas.DataFrame
        Likelihood-ratio, Wald and score (log-rank) tests, as R's ``summary.coxph``.
    levels : pandas.DataFrame
        N and events per level of every categorical covariate, reference level flagged.
    baseline : pandas.DataFrame
        Baseline hazard increments and cumulative hazard per stratum at ``means`` (R's
        ``basehaz(fit, centered=TRUE)``).
    means : ndarray
        Reference point of the linear predictor and the baseline, as R's ``fit$means``: the
        column means, except 0 for covariates that only take the values 0 and 1.
    linear_predictor : ndarray
        ``(x - means)' beta`` per fitted row, as R's ``fit$linear.predictors``.
    """

    _title = "CoxResult"

    def __init__(self, **kw: Any) -> None:
        self.params: pd.Series = kw["params"]
        self.se: pd.Series = kw["se"]
        self.naive_se: pd.Series = kw["naive_se"]
        self.robust_se: pd.Series | None = kw["robust_se"]
        self.var: np.ndarray = kw["var"]
        self.loglik: float = kw["loglik"]
        self.loglik_null: float = kw["loglik_null"]
        self.n: int = kw["n"]
        self.n_events: int = kw["n_events"]
        self.n_strata: int = kw["n_strata"]
        self.ties: str = kw["ties"]
        self.alpha: float = kw["alpha"]
        self.penalty: float = kw["penalty"]
        self.l1_ratio: float = kw["l1_ratio"]
        self.iterations: int = kw["iterations"]
        self.converged: bool = kw["converged"]
        self.tests: pd.DataFrame = kw["tests"]
        self.levels: pd.DataFrame = kw["levels"]
        self.baseline: pd.DataFrame = kw["baseline"]
        self.spec: DesignSpec = kw["spec"]
        self.means: np.ndarray = kw["means"]
        self.linear_predictor: np.ndarray = kw["linear_predictor"]  # original row order
        self._surv = kw["surv"]  # (stop, event, start, strata, cluster) for concordance
        # sorted data and the evaluation at the estimate, kept for cox_zph and residuals
        self._engine: RiskSetEngine | None = kw.get("engine")
        self._evaluation: CoxEvaluation | None = kw.get("evaluation")
        self._center: np.ndarray | None = kw.get("center")  # the engine's centring (plain means)

    # ------------------------------------------------------------------ derived numbers
    @property
    def hazard_ratios(self) -> pd.Series:
        """exp(coef)."""
        return np.exp(self.params)

    @property
    def aic(self) -> float:
        """-2 log-likelihood + 2 x number of coefficients."""
        return -2.0 * self.loglik + 2.0 * len(self.params)

    @cached_property
    def concordance_result(self) -> Any:
        """Harrell's C of the linear predictor as R's ``concordance(fit)`` (lazy)."""
        from survchurn.survival.metrics import concordance_index

        stop, event, start, strata, cluster = self._surv
        return concordance_index(stop, self.linear_predictor, event, entry=start, strata=strata,
                                 cluster=cluster)

    @property
    def concordance(self) -> float:
        """Harrell's concordance (higher risk, earlier churn), ties in risk count 1/2."""
        return self.concordance_result.concordance

    def to_frame(self) -> pd.DataFrame:
        """Coefficient table: coef, exp(coef), se, z, p, CIs, and N/events for levels."""
        z = stats.norm.ppf(1 - self.alpha / 2)
        pct = f"{100 * (1 - self.alpha):g}%"
        out = pd.DataFrame(index=self.params.index)
        out["coef"] = self.params
        out["exp(coef)"] = np.exp(self.params)
        out["se(coef)"] = self.naive_se
        if self.robust_se is not None:
            out["robust se"] = self.robust_se
        out["z"] = self.params / self.se
        out["p"] = 2 * stats.norm.sf(np.abs(out["z"]))
        out[f"coef lower {pct}"] = self.params - z * self.se
        out[f"coef upper {pct}"] = self.params + z * self.se
        out[f"exp(coef) lower {pct}"] = np.exp(out[f"coef lower {pct}"])
        out[f"exp(coef) upper {pct}"] = np.exp(out[f"coef upper {pct}"])
        if len(self.levels):
            lv = self.levels.assign(name=[f"{c}[{v}]" for c, v in
                                          zip(self.levels.covariate, self.levels.level, strict=True)])
            lv = lv.set_index("name")
            out["n"] = lv["n"].reindex(out.index)
            out["events"] = lv["events"].reindex(out.index)
        out.index.name = "covariate"
        return out

    def _header(self) -> dict[str, Any]:
        t = self.tests
        h: dict[str, Any] = {
            "n": self.n, "events": self.n_events, "strata": self.n_strata, "ties": self.ties,
            "log-likelihood": self.loglik, "AIC": self.aic,
        }
        if self.penalty:
            h["penalty"] = f"{self.penalty:g} (l1_ratio {self.l1_ratio:g})"
        for name, row in t.iterrows():
            h[str(name)] = f"{row['statistic']:.4f} on {int(row['df'])} df, p={row['p']:.4g}"
        h["concordance"] = f"{self.concordance:.4f} (se {self.concordance_result.std:.4f})"
        refs = {c: r for c, r in self.spec.reference.items()}
        if refs:
            h["reference levels"] = ", ".join(f"{c}={r}" for c, r in refs.items())
        if not self.converged:
            h["converged"] = f"NO after {self.iterations} iterations"
        return h

    # ------------------------------------------------------------------ new data
    def design_matrix(self, table: pd.DataFrame) -> np.ndarray:
        """Design matrix of new rows minus ``means`` (same columns and reference levels)."""
        return self.spec.matrix(table) - self.means

    def predict_log_partial_hazard(self, table: pd.DataFrame) -> pd.Series:
        """Linear predictor ``(x - means)' beta`` of new rows (R's ``predict(type="lp")``)."""
        return pd.Series(self.design_matrix(table) @ self.params.to_numpy(), index=table.index)

    def predict_partial_hazard(self, table: pd.DataFrame) -> pd.Series:
        """exp of the centred linear predictor (R's ``predict(type="risk")``)."""
        return np.exp(self.predict_log_partial_hazard(table))


class CoxPH:
    """Cox proportional-hazards model.

    Parameters
    ----------
    ties : {"efron", "breslow"}
        Handling of tied event times (R's default is Efron).
    alpha : float
        Significance level of the confidence intervals (0.05 gives 95%).
    penalty : float
        Penalty strength (see the module docstring for the exact convention).
    l1_ratio : float
        Share of the L1 part, 0 (ridge) to 1 (LASSO).
    robust : bool
        Use sandwich standard errors (automatically true when ``cluster_col`` is given).
    tol : float
        Convergence: stop when the penalised log-likelihood changes by less than
        ``tol * 1e-3 * |loglik|`` between Newton steps (R's coxph stops at a relative change of
        1e-9, this goes three orders further; Newton converges quadratically, so this costs at
        most one more step).
    max_iter : int
        Maximum number of Newton steps.

    Examples
    --------
    >>> model = CoxPH().fit(table, covariates=["tenure", "plan"])  # doctest: +SKIP
    >>> model.result_.summary  # doctest: +SKIP
    """

    def __init__(
        self,
        ties: str = "efron",
        alpha: float = 0.05,
        penalty: float = 0.0,
        l1_ratio: float = 0.0,
        robust: bool = False,
        tol: float = 1e-9,
        max_iter: int = 50,
    ) -> None:
        self.ties = ties
        self.alpha = alpha
        self.penalty = penalty
        self.l1_ratio = l1_ratio
        self.robust = robust
        self.tol = tol
        self.max_iter = max_iter

    def _check_settings(self) -> None:
        if self.ties not in _TIES:
            raise ModelError(f"ties must be one of {_TIES}, got {self.ties!r}")
        if not 0 < self.alpha < 1:
            raise ModelError(f"alpha must be between 0 and 1, got {self.alpha}")
        if self.penalty < 0 or not 0 <= self.l1_ratio <= 1:
            raise ModelError("penalty must be >= 0 and l1_ratio between 0 and 1, got "
                             f"penalty={self.penalty}, l1_ratio={self.l1_ratio}")

    def fit(
        self,
        table: pd.DataFrame,
        duration_col: str = "duration",
        event_col: str = "event",
        covariates: Sequence[str] | None = None,
        strata: str | Sequence[str] | None = None,
        entry_col: str | None = None,
        cluster_col: str | None = None,
        categorical: Sequence[str] | None = None,
        reference: Mapping[str, Any] | None = None,
    ) -> CoxPH:
        """Fit the model; the result is in ``result_``.

        Parameters
        ----------
        table : pandas.DataFrame
            One row per customer (or per (start, stop] interval with ``entry_col``).
        duration_col, event_col : str
            Exit time (> 0, > entry) and the 0/1 churn indicator.
        covariates : sequence of str, optional
            Covariate columns; default all columns not used otherwise.
        strata : str or sequence of str, optional
            Columns defining strata with their own baseline hazard.
        entry_col : str, optional
            Late entry (left truncation) time: the row is at risk on (entry, duration].
        cluster_col : str, optional
            Cluster ids (e.g. customer id with several rows); implies robust SEs.
        categorical : sequence of str, optional
            Columns to treat as categorical; default: every non-numeric column.
        reference : mapping, optional
            Reference level per categorical column (default: the first level in sorted order).

        Returns
        -------
        CoxPH
            ``self``, with ``result_`` (:class:`CoxResult`), ``coef_``, ``n_iter_``.
        """
        self._check_settings()
        design = build_design(table, duration_col, event_col, covariates, strata, entry_col,
                              cluster_col, categorical, reference)
        names = list(design.spec.columns)
        means = design.X.mean(axis=0)
        eng = RiskSetEngine(design.X, design.stop, design.event, design.start, design.strata,
                            self.ties, center=means)
        design.X = np.zeros((0, len(names)))  # the engine holds the (sorted, centred) copy
        gram = eng.X.T @ eng.X
        bad = collinear_columns(gram, means, eng.n, names)
        if bad:
            raise ModelError("CoxPH.fit: singular design: " + "; ".join(bad)
                             + ". Fix: drop one of the collinear columns or merge the levels.")
        beta, ev, ev0, it, converged = self._newton(eng)
        self.result_ = self._build_result(eng, design, beta, ev, ev0, it, converged, means)
        eng.release()
        self.coef_ = self.result_.params
        self.n_iter_ = it
        self._warn(design, self.result_, np.sqrt(np.diag(gram) / eng.n))
        return self

    # ------------------------------------------------------------------ optimisation
    def _objective(self, ev: CoxEvaluation, beta: np.ndarray) -> float:
        l2 = self.penalty * (1 - self.l1_ratio)
        l1 = self.penalty * self.l1_ratio
        return ev.loglik - 0.5 * l2 * float(beta @ beta) - l1 * float(np.abs(beta).sum())

    def _newton(self, eng: RiskSetEngine) -> tuple[np.ndarray, CoxEvaluation, CoxEvaluation, int, bool]:
        p = eng.p
        l2 = self.penalty * (1 - self.l1_ratio)
        l1 = self.penalty * self.l1_ratio
        beta = np.zeros(p)
        ev0 = ev = eng.evaluate(beta)
        f = self._objective(ev, beta)
        converged = False
        it = 0
        for it in range(1, self.max_iter + 1):
            H = ev.information + l2 * np.eye(p)
            g = ev.gradient - l2 * beta
            if l1 == 0:
                target = beta + _solve_psd(H, g)
            else:  # the elastic-net solver adds the ridge part itself
                target = _cd_lasso(ev.information, ev.gradient, beta, l2, l1)
            step = target - beta
            for _ in range(40):  # step-halving until the penalised likelihood does not drop
                new = beta + step
                ev_new = eng.evaluate(new, need_information=False)
                f_new = self._objective(ev_new, new)
                if np.isfinite(f_new) and f_new >= f - 1e-12 * abs(f):
                    break
                step = step / 2
            else:  # no step improves: at the optimum up to rounding, or numerically stuck
                converged = bool(np.max(np.abs(g)) < 1e-6 * max(1.0, abs(f)))
                break
            ev_new.information = eng.information(ev_new)
            change = abs(f_new - f)
            beta, ev, f = new, ev_new, f_new
            logger.debug("Cox Newton step %d: penalised loglik %.12g", it, f)
            if change <= self.tol * 1e-3 * max(1.0, abs(f)):
                converged = True
                break
        return beta, ev, ev0, it, converged

    # ------------------------------------------------------------------ result
    def _build_result(self, eng: RiskSetEngine, design: CoxDesign, beta: np.ndarray,
                      ev: CoxEvaluation, ev0: CoxEvaluation, it: int, converged: bool,
                      means: np.ndarray) -> CoxResult:
        names = list(design.spec.columns)
        p = len(names)
        l2 = self.penalty * (1 - self.l1_ratio)
        info_pen = ev.information + l2 * np.eye(p)
        naive_var = _inv_psd(info_pen)
        robust = self.robust or design.cluster is not None
        robust_var = None
        U = None
        if robust:
            U = self._cluster_sum(eng.score_residuals(ev), eng, design.cluster)
            robust_var = naive_var @ (U.T @ U) @ naive_var
        var = robust_var if robust_var is not None else naive_var
        se = np.sqrt(np.diag(var))
        naive_se = np.sqrt(np.diag(naive_var))
        if self.penalty and self.l1_ratio > 0:
            se = np.full(p, np.nan)
            naive_se = se
        # tests as R's summary.coxph: LR, Wald (with var used), score at beta = 0
        u0 = ev0.gradient
        tests = {
            "likelihood ratio": _chi2_test(2 * (ev.loglik - ev0.loglik), p),
            "Wald": _chi2_test(float(beta @ _solve_psd(var, beta)) if p else 0.0, p)
            if np.all(np.isfinite(se)) else _chi2_test(np.nan, p),
            "score (log-rank)": _chi2_test(float(u0 @ _solve_psd(ev0.information, u0)), p),
        }
        if robust:
            U0 = self._cluster_sum(eng.score_residuals(ev0), eng, design.cluster)
            tests["robust score"] = _chi2_test(float(u0 @ _solve_psd(U0.T @ U0, u0)), p)
        tests_df = pd.DataFrame(tests).T
        tests_df["df"] = tests_df["df"].astype(int)

        # reference point as R's coxph (fit$means): column means, but 0 for 0/1 covariates;
        # the engine centred at the plain means, so shift the baseline and linear predictor
        ref = np.where(design.binary, 0.0, means)
        delta = float((ref - means) @ beta)
        inc = eng.baseline_hazard_increments(ev) * np.exp(delta)
        base = pd.DataFrame({"stratum": eng.stratum_j, "time": eng.time_j, "n_events": eng.d,
                             "hazard": inc})
        base["cumhaz"] = base.groupby("stratum")["hazard"].cumsum()
        lp = np.empty(eng.n)
        lp[eng.order] = ev.eta + ev.shift - delta
        start = design.start
        strata = design.strata
        ix = pd.Index(names)
        return CoxResult(
            params=pd.Series(beta, index=ix), se=pd.Series(se, index=ix),
            naive_se=pd.Series(naive_se, index=ix),
            robust_se=None if robust_var is None else pd.Series(se, index=ix),
            var=var, loglik=ev.loglik, loglik_null=ev0.loglik, n=eng.n,
            n_events=int(design.event.sum()),
            n_strata=1 if strata is None else int(strata.max()) + 1,
            ties=self.ties, alpha=self.alpha, penalty=self.penalty, l1_ratio=self.l1_ratio,
            iterations=it, converged=converged, tests=tests_df, levels=design.levels,
            baseline=base, spec=design.spec, means=ref, linear_predictor=lp,
            surv=(design.stop, design.event, start, strata, design.cluster),
            engine=eng, evaluation=ev, center=means,
        )

    @staticmethod
    def _cluster_sum(resid_sorted: np.ndarray, eng: RiskSetEngine,
                     cluster: np.ndarray | None) -> np.ndarray:
        if cluster is None:
            return resid_sorted
        codes = cluster[eng.order]
        k = int(codes.max()) + 1
        return np.column_stack([np.bincount(codes, weights=resid_sorted[:, j], minlength=k)
                                for j in range(resid_sorted.shape[1])])

    # ------------------------------------------------------------------ warnings
    def _warn(self, design: CoxDesign, res: CoxResult, sd: np.ndarray) -> None:
        big = (np.abs(res.params.to_numpy()) * sd > 15) | (res.naive_se.to_numpy() * sd > 50)
        if big.any():
            cols = list(res.params.index[big])
            warnings.warn(
                f"coefficients of {cols} are running off to infinity (huge estimate or standard "
                "error): a covariate (nearly) separates churners from non-churners. Advice: add "
                "a penalty (e.g. CoxPH(penalty=1.0)), or drop/combine the sparse levels.",
                SeparationWarning, stacklevel=3)
        if not res.converged:
            warnings.warn(
                f"Newton-Raphson did not converge in {res.iterations} iterations. Advice: "
                "raise max_iter, rescale large covariates, or add a small ridge penalty; "
                "check for separation.", ConvergenceWarning, stacklevel=3)
        lv = design.levels
        small = lv[lv["events"] < 10]
        if len(small):
            desc = ", ".join(f"{c}={v} ({e} events)" for c, v, e in
                             zip(small.covariate, small.level, small.events, strict=True))
            warnings.warn(
                f"levels with fewer than 10 events: {desc}; their hazard ratios are unstable. "
                "Advice: merge them with a neighbouring level.", SmallGroupWarning, stacklevel=3)


def _cd_lasso(H: np.ndarray, g: np.ndarray, beta0: np.ndarray, l2: float, l1: float,
              n_sweeps: int = 500, tol: float = 1e-13) -> np.ndarray:
    """Maximiser of the quadratic model plus the elastic-net penalty (coordinate descent).

    Minimises ``1/2 b'Hb - c'b + l2/2 ||b||^2 + l1 ||b||_1`` with ``c = g + H beta0``, i.e. one
    proximal-Newton step (Lee, Sun & Saunders 2014; Friedman, Hastie & Tibshirani 2010).
    """
    c = g + H @ beta0
    b = beta0.copy()
    diag = np.diag(H) + l2
    for _ in range(n_sweeps):
        delta = 0.0
        for j in range(b.size):
            r = c[j] - H[j] @ b + H[j, j] * b[j]
            new = np.sign(r) * max(abs(r) - l1, 0.0) / diag[j]
            delta = max(delta, abs(new - b[j]))
            b[j] = new
        if delta < tol:
            break
    return b
