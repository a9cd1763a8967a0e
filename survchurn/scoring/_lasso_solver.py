"""Batched proximal-Newton / coordinate-descent solver for L1 logistic paths (glmnet's problem).

Several fits (the full-data fit and the K cross-validation fits, each a weight vector over the
same rows) run in lockstep along their own lambda sequences, so the passes over the data are
matrix-matrix products ``X @ B`` and ``X' R`` over all fits at once instead of one
matrix-vector product per fit: on large data the cost is set by reading ``X``, once per
iteration for all fits. Every fit solves exactly its own problem (see :mod:`.lasso`): the
batching changes only the order of floating-point work.

Per fit and lambda: the gradient at the current point, a quadratic model with the Hessian
``[1 Z]' W [1 Z]`` (standardised columns, IRLS weights ``w_i p_i (1 - p_i)``), coordinate descent
with soft-thresholding on the active set plus KKT violators (Friedman, Hastie & Tibshirani 2010,
section 3), and a backtracking line search on the penalised objective. The Hessian is reused
while Newton steps contract fast (a stale Hessian changes the path to the fixed point, not the
fixed point), and recomputed otherwise.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from survchurn.exceptions import ConvergenceWarning
from survchurn.scoring.logistic import _gram

_FDEV = 1e-5
_DEVMAX = 0.999
_MNLAM = 5


def _soft(z: float, g: float) -> float:
    if z > g:
        return z - g
    if z < -g:
        return z + g
    return 0.0


def _sweep(H: np.ndarray, diag: list[float], r: np.ndarray, new: np.ndarray, coords: list[int],
           lam: float) -> float:
    dmax = 0.0
    for j in coords:
        hj = diag[j]
        if hj <= 0:
            continue
        old = new[j]
        z = hj * old + r[j]
        nj = z / hj if j == 0 else _soft(z, lam) / hj
        d = nj - old
        if d != 0.0:
            new[j] = nj
            r -= d * H[:, j]
            dmax = max(dmax, hj * d * d)
    return dmax


def cd_quadratic(H: np.ndarray, g: np.ndarray, b: np.ndarray, lam: float, tol: float,
                 max_sweeps: int = 100000) -> np.ndarray:
    """Minimise ``-g'd + d'Hd/2 + lam*|b[1:] + d[1:]|_1`` over d by coordinate descent; return b + d.

    Coordinate 0 is the unpenalised intercept. A full sweep, then sweeps over the non-zero
    coordinates until they settle, then a full sweep again (glmnet's inner loop).
    """
    k = len(b)
    new = b.copy()
    r = g.copy()  # gradient of the quadratic model at the current d
    Hc = np.asfortranarray(H)
    diag = np.diag(H).tolist()
    full = list(range(k))
    for _ in range(max_sweeps):
        if _sweep(Hc, diag, r, new, full, lam) < tol:
            break
        nz = [j for j in full if j == 0 or new[j] != 0.0]
        for _inner in range(max_sweeps):
            if _sweep(Hc, diag, r, new, nz, lam) < tol:
                break
    return new


def _logistic_parts(E: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``log(1 + e^E)`` and ``1 / (1 + e^-E)`` from one exponential, stably (in-place passes)."""
    e = np.abs(E)
    np.negative(e, out=e)
    np.exp(e, out=e)  # e = exp(-|E|) in (0, 1]
    soft = np.log1p(e)
    soft += np.maximum(E, 0.0)
    P = np.where(E >= 0, 1.0, e)
    e += 1.0
    P /= e
    return soft, P


def _cols(A: np.ndarray, ks: list[int], K: int) -> np.ndarray:
    return A if len(ks) == K and ks == list(range(K)) else A[:, ks]


@dataclass
class _Fit:
    w: np.ndarray
    lambdas: np.ndarray
    truncate: bool
    m: np.ndarray
    s: np.ndarray
    const: np.ndarray
    T: np.ndarray
    null_dev: float
    b: np.ndarray
    H: np.ndarray | None = None
    n_hess: int = 0
    done: bool = False
    out_a0: list[float] = field(default_factory=list)
    out_beta: list[np.ndarray] = field(default_factory=list)
    out_dev: list[float] = field(default_factory=list)
    out_lam: list[float] = field(default_factory=list)

    def raw(self, b: np.ndarray) -> tuple[float, np.ndarray]:
        beta = b[1:] / self.s
        return b[0] - self.m @ beta, beta


def _setup(X: np.ndarray, y: np.ndarray, w: np.ndarray, lambdas: np.ndarray, truncate: bool,
           standardize: bool) -> _Fit:
    n, p = X.shape
    w = w / w.sum()
    m = w @ X
    q = w @ (X * X) if n * p <= 5_000_000 else np.einsum("i,ij,ij->j", w, X, X)
    s = np.sqrt(np.maximum(q - m * m, 0.0)) if standardize else np.ones(p)
    const = s <= 1e-14 * np.maximum(1.0, np.abs(m))
    s = np.where(const, 1.0, s)
    ybar = float(w @ y)
    null_dev = -2 * (ybar * np.log(ybar) + (1 - ybar) * np.log(1 - ybar))
    T = np.zeros((p + 1, p + 1))
    T[0, 0] = 1.0
    T[0, 1:] = -m / s
    T[1:, 1:] = np.diag(1.0 / s)
    b = np.zeros(p + 1)
    b[0] = np.log(ybar / (1 - ybar))
    return _Fit(w=w, lambdas=np.asarray(lambdas, float), truncate=truncate, m=m, s=s, const=const,
                T=T, null_dev=null_dev, b=b)


def _etas(X: np.ndarray, fits: list[_Fit], bs: list[np.ndarray]) -> np.ndarray:
    B = np.empty((X.shape[1], len(fits)))
    c = np.empty(len(fits))
    for j, (f, b) in enumerate(zip(fits, bs, strict=True)):
        c[j], B[:, j] = f.raw(b)
    out = (B.T @ X.T).T  # (n, fits) with each fit's column contiguous, no copy
    out += c
    return out


def solve_paths(X: np.ndarray, y: np.ndarray, weights: list[np.ndarray], lambdas: list[np.ndarray],
                truncate: list[bool], *, standardize: bool = True, tol: float = 1e-9,
                max_iter: int = 200) -> list[dict[str, np.ndarray]]:
    """Solve several weighted L1 logistic paths over the same rows in lockstep.

    Parameters
    ----------
    X : ndarray (n, p)
    y : ndarray (n,) of 0/1
    weights : list of ndarray (n,)
        One weight vector per fit (zero drops a row); normalised to sum 1.
    lambdas : list of ndarray
        Each fit's decreasing penalties.
    truncate : list of bool
        Apply glmnet's early-stopping rules to that fit.
    tol : float
        Stop when the largest ``H_jj * change_j^2`` is below ``tol * null deviance``.

    Returns
    -------
    list of dict
        Per fit: ``lambda``, ``a0``, ``beta`` (p x L, original scale), ``dev_ratio``, ``df``,
        ``null_dev``, ``n_hessians``.
    """
    n, p = X.shape
    fits = [_setup(X, y, np.asarray(w, float), lam, tr, standardize)
            for w, lam, tr in zip(weights, lambdas, truncate, strict=True)]
    Wn = np.asfortranarray(np.column_stack([f.w for f in fits]))
    y = np.asarray(y, float)
    E = _etas(X, fits, [f.b for f in fits])
    S, P = _logistic_parts(E)
    LL = np.einsum("ij,ij->j", Wn, y[:, None] * E - S)  # weighted log-likelihood per fit
    allc = np.arange(p)
    grads: list[tuple[float, np.ndarray] | None] = [None] * len(fits)
    nfit = len(fits)
    L = max(len(f.lambdas) for f in fits)
    for li in range(L):
        act = [k for k, f in enumerate(fits) if not f.done and li < len(f.lambdas)]
        if not act:
            break
        conv = dict.fromkeys(act, False)
        dmax = dict.fromkeys(act, np.inf)
        dprev = dict.fromkeys(act, np.inf)
        for it in range(max_iter):
            todo = [k for k in act if not conv[k]]
            if not todo:
                break
            stale = [k for k in todo if grads[k] is None]
            if stale:  # one pass over X for the gradients of every fit that moved
                R = _cols(Wn, stale, nfit) * (y[:, None] - _cols(P, stale, nfit))
                Graw = X.T @ R
                r0 = R.sum(axis=0)
                for j, k in enumerate(stale):
                    grads[k] = (r0[j], Graw[:, j])
            moving, news, steps, Hs = [], [], [], []
            for k in todo:
                f = fits[k]
                lam = f.lambdas[li]
                g = np.empty(p + 1)
                g[0], graw = grads[k]
                g[1:] = (graw - f.m * g[0]) / f.s
                g[1:][f.const] = 0.0
                viol = (np.abs(g[1:]) > lam * (1 + 1e-12)) & (f.b[1:] == 0) & ~f.const
                active = np.flatnonzero((f.b[1:] != 0) | viol)
                idx = np.concatenate([[0], active + 1])
                if f.H is None or it >= 3 or (it >= 1 and dmax[k] > 0.05 * dprev[k]):
                    G, _ = _gram(X, f.w * P[:, k] * (1 - P[:, k]), allc)
                    f.H = f.T.T @ G @ f.T
                    f.n_hess += 1
                H = f.H[np.ix_(idx, idx)]
                new = cd_quadratic(H, g[idx], f.b[idx], lam, tol * f.null_dev * 1e-2)
                d = new - f.b[idx]
                if not viol.any() and float(np.max(np.diag(H) * d * d)) < tol * f.null_dev:
                    # converged: the Newton step is below tolerance; the point and its gradient stay
                    conv[k] = True
                    continue
                full = np.zeros(p + 1)
                full[idx] = d
                moving.append(k)
                news.append(f.b + full)
                steps.append(full)
                Hs.append((idx, H))
            if not moving:
                continue
            Ec = _etas(X, [fits[k] for k in moving], news)
            Sc, Pc = _logistic_parts(Ec)
            Sc -= y[:, None] * Ec
            LLc = -np.einsum("ij,ij->j", _cols(Wn, moving, nfit), Sc)
            for j, k in enumerate(moving):
                f = fits[k]
                lam = f.lambdas[li]
                f_old = -LL[k] + lam * np.abs(f.b[1:]).sum()
                t, ll_new, e_new, p_new = 1.0, LLc[j], Ec[:, j], Pc[:, j]
                f_new = -ll_new + lam * np.abs(news[j][1:]).sum()
                for _half in range(40):
                    if f_new <= f_old + 1e-15 * abs(f_old):
                        break
                    t /= 2
                    cand = f.b + t * steps[j]
                    e_new = _etas(X, [f], [cand])[:, 0]
                    s_new, p_new = _logistic_parts(e_new)
                    ll_new = float(f.w @ (y * e_new - s_new))
                    f_new = -ll_new + lam * np.abs(cand[1:]).sum()
                f.b = f.b + t * steps[j]
                E[:, k], P[:, k], LL[k] = e_new, p_new, ll_new
                grads[k] = None
                idx, H = Hs[j]
                d = t * steps[j][idx]
                dprev[k] = dmax[k]
                dmax[k] = float(np.max(np.diag(H) * d * d))
        for k in act:
            f = fits[k]
            if not conv[k]:
                warnings.warn(ConvergenceWarning(
                    f"LASSO did not converge at lambda={f.lambdas[li]:.4g} in {max_iter} Newton steps; "
                    "raise max_iter or loosen tol"), stacklevel=3)
            a0, beta = f.raw(f.b)
            f.out_a0.append(a0)
            f.out_beta.append(beta.copy())
            f.out_dev.append(1 - (-2 * LL[k]) / f.null_dev)
            f.out_lam.append(float(f.lambdas[li]))
            if f.truncate and li + 1 >= min(_MNLAM, len(f.lambdas)):
                dv = f.out_dev
                if dv[-1] > _DEVMAX or (li > 0 and dv[-1] - dv[-2] < _FDEV):
                    f.done = True
    return [{"lambda": np.array(f.out_lam), "a0": np.array(f.out_a0), "beta": np.array(f.out_beta).T,
             "dev_ratio": np.array(f.out_dev), "df": np.array([int(np.count_nonzero(b)) for b in f.out_beta]),
             "null_dev": f.null_dev, "n_hessians": f.n_hess} for f in fits]
