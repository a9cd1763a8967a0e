"""Vectorised Cox partial likelihood, its gradient, information matrix and residuals.

Internal module of :mod:`survchurn.survival.cox`. Rows are sorted once by (stratum, stop time,
events first); every risk-set sum is then a block sum (``np.add.reduceat``) followed by a
reverse cumulative sum within the stratum, so one evaluation costs O(n p + n p^2) with numpy and
no Python loop over subjects or event times.

Notation (Therneau & Grambsch 2000, ch. 3): at each distinct event time ``t_j`` of a stratum,
``d_j`` events, risk set ``R_j = {i: start_i < t_j <= stop_i}``, ``S0_j = sum_{R_j} w_i``,
``S1_j = sum_{R_j} w_i x_i``, ``S2_j = sum_{R_j} w_i x_i x_i'`` with ``w_i = exp(x_i' beta)``.
Efron's (1977) approximation splits a tied block into ``d_j`` steps ``k = 0..d_j-1`` with
denominators ``S0_j - (k/d_j) D0_j`` where ``D0_j`` sums ``w`` over the tied events; Breslow's
uses ``S0_j`` for every step. A "step" ``r`` below is one such (event time, k) pair with a
multiplicity (1 for Efron, ``d_j`` for Breslow).

The information matrix avoids the O(m p^2) risk-set outer products: ``sum_r S2_r / den_r``
equals ``X' diag(w * c) X`` where ``c_i`` sums ``1/den_r`` over the steps at which row ``i`` is
at risk, itself a cumulative sum over event times.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["CoxEvaluation", "RiskSetEngine"]


@dataclass
class CoxEvaluation:
    """Partial log-likelihood and its derivatives at one coefficient vector."""

    loglik: float
    gradient: np.ndarray
    information: np.ndarray | None
    eta: np.ndarray  # linear predictor in sorted row order (centred covariates)
    w: np.ndarray  # exp(eta - shift)
    shift: float
    den: np.ndarray  # per step r
    amean: np.ndarray  # per step r: (S1 - frac D1) / den, shape (n_steps, p)


class RiskSetEngine:
    """Sorted data and index structures shared by every likelihood evaluation.

    Parameters
    ----------
    X : ndarray (n, p)
        Covariates, already centred (the partial likelihood is invariant to centring).
    stop, event : ndarray (n,)
        Exit time and event indicator (0/1).
    start : ndarray (n,) or None
        Entry time for (start, stop] counting-process data; ``None`` means all start at 0.
    strata : ndarray of int (n,) or None
        Stratum codes 0..S-1.
    ties : {"efron", "breslow"}
    """

    def __init__(
        self,
        X: np.ndarray,
        stop: np.ndarray,
        event: np.ndarray,
        start: np.ndarray | None = None,
        strata: np.ndarray | None = None,
        ties: str = "efron",
    ) -> None:
        n = X.shape[0]
        strata = np.zeros(n, dtype=np.int64) if strata is None else strata.astype(np.int64)
        event = event.astype(bool)
        # sort by stratum, stop time, events before censorings at the same time
        order = np.lexsort((~event, stop, strata))
        self.order = order
        self.X = np.ascontiguousarray(X[order], dtype=np.float64)
        self.stop = stop[order].astype(np.float64)
        self.event = event[order]
        self.strata = strata[order]
        self.start = None if start is None else start[order].astype(np.float64)
        self.efron = ties == "efron"
        self.n, self.p = self.X.shape

        ev = np.flatnonzero(self.event)
        self.ev_idx = ev
        # distinct (stratum, time) among events: blocks of consecutive event rows
        new_block = np.ones(ev.size, dtype=bool)
        if ev.size:
            new_block[1:] = (self.stop[ev[1:]] != self.stop[ev[:-1]]) | (
                self.strata[ev[1:]] != self.strata[ev[:-1]]
            )
        self.ev_first = ev[new_block]  # first row of each event time (sorted position)
        self.m = self.ev_first.size
        self.time_j = self.stop[self.ev_first]
        self.stratum_j = self.strata[self.ev_first]
        self.d = np.diff(np.append(np.flatnonzero(new_block), ev.size))
        self.ev_block = np.repeat(np.arange(self.m), self.d)  # event time of each event row

        # block of each row: last event time t_j <= stop_i in its stratum (-1 if none)
        self.row_block = self._last_event_time_at_or_before(self.stop, self.strata)
        # stratum boundaries over event times (for within-stratum cumulative sums)
        self.j_stratum_start = np.searchsorted(self.stratum_j, self.stratum_j, side="left")
        self.j_stratum_end = np.searchsorted(self.stratum_j, self.stratum_j, side="right")
        # segments for reduceat: row positions where row_block changes
        change = np.ones(n, dtype=bool)
        change[1:] = self.row_block[1:] != self.row_block[:-1]
        self.seg_start = np.flatnonzero(change)
        self.seg_block = self.row_block[self.seg_start]
        self.seg_keep = self.seg_block >= 0
        if self.start is not None:
            self.entry_block = self._last_event_time_at_or_before(self.start, self.strata)
            self.entry_order = np.lexsort((self.start, self.strata))
            eb = self.entry_block[self.entry_order]
            ch = np.ones(n, dtype=bool)
            ch[1:] = eb[1:] != eb[:-1]
            self.eseg_start = np.flatnonzero(ch)
            self.eseg_block = eb[self.eseg_start]
            self.eseg_keep = self.eseg_block >= 0

        # steps r: Efron expands each event time into d_j steps, Breslow keeps one (mult d_j)
        if self.efron:
            self.step_j = self.ev_block
            first_of_block = np.repeat(np.cumsum(self.d) - self.d, self.d)
            k = np.arange(ev.size) - first_of_block
            self.step_frac = k / self.d[self.step_j]
            self.step_mult = np.ones(ev.size)
        else:
            self.step_j = np.arange(self.m)
            self.step_frac = np.zeros(self.m)
            self.step_mult = self.d.astype(np.float64)
        self.sum_x_events = self.X[ev].sum(axis=0)
        self.block_first_event = np.cumsum(self.d) - self.d  # position in ev of each block

    def sum_by_event_time(self, per_event: np.ndarray) -> np.ndarray:
        """Sum values given per event row (or per Efron step) over each event time."""
        if per_event.shape[0] == 0:
            return np.zeros((self.m,) + per_event.shape[1:])
        return np.add.reduceat(per_event, self.block_first_event, axis=0)

    def sum_steps(self, per_step: np.ndarray) -> np.ndarray:
        """Sum values given per step r over each event time j."""
        return self.sum_by_event_time(per_step) if self.efron else per_step

    # ------------------------------------------------------------------ structure helpers
    def _last_event_time_at_or_before(self, t: np.ndarray, strata: np.ndarray) -> np.ndarray:
        """Index j of the last event time with t_j <= t in the same stratum, -1 if none."""
        out = np.full(t.size, -1, dtype=np.int64)
        for s in np.unique(strata):
            lo, hi = np.searchsorted(self.stratum_j, [s, s + 1])
            rows = np.flatnonzero(strata == s) if strata.size else np.array([], dtype=np.int64)
            if hi > lo:
                pos = np.searchsorted(self.time_j[lo:hi], t[rows], side="right") - 1
                out[rows] = np.where(pos >= 0, pos + lo, -1)
        return out

    def _within_stratum_revcumsum(self, block_sums: np.ndarray) -> np.ndarray:
        """For each event time j: sum of block_sums over j' >= j in the same stratum."""
        rc = np.cumsum(block_sums[::-1], axis=0)[::-1]
        tail = np.concatenate([rc, np.zeros((1,) + rc.shape[1:])], axis=0)
        return rc - tail[self.j_stratum_end]

    def _within_stratum_cumsum(self, per_j: np.ndarray) -> np.ndarray:
        """For each event time j: sum of per_j over j' <= j in the same stratum."""
        c = np.cumsum(per_j, axis=0)
        head = np.concatenate([np.zeros((1,) + c.shape[1:]), c], axis=0)
        return c - head[self.j_stratum_start]

    def _block_sums(self, values: np.ndarray) -> np.ndarray:
        """Sum ``values`` (sorted rows) over the rows of each event-time block."""
        out = np.zeros((self.m,) + values.shape[1:])
        if self.m:
            sums = np.add.reduceat(values, self.seg_start, axis=0)
            out[self.seg_block[self.seg_keep]] = sums[self.seg_keep]
        return out

    def _entry_block_sums(self, values: np.ndarray) -> np.ndarray:
        vals = values[self.entry_order]
        out = np.zeros((self.m,) + values.shape[1:])
        if self.m:
            sums = np.add.reduceat(vals, self.eseg_start, axis=0)
            out[self.eseg_block[self.eseg_keep]] = sums[self.eseg_keep]
        return out

    def risk_sums(self, values: np.ndarray) -> np.ndarray:
        """``sum_{i in R_j} values_i`` for every event time j (rows in sorted order)."""
        s = self._within_stratum_revcumsum(self._block_sums(values))
        if self.start is not None:
            # rows that have not entered yet: start_i >= t_j, i.e. entry block >= j
            s = s - self._within_stratum_revcumsum(self._entry_block_sums(values))
        return s

    def accumulate_over_risk(self, per_step: np.ndarray, own: np.ndarray | None = None) -> np.ndarray:
        """Per row: sum of ``per_step`` over the steps at which the row is at risk.

        ``own`` (per step) is subtracted for the row's own tied-event block (Efron: an event
        leaves the risk set gradually, weight ``1 - k/d``).
        """
        per_j = self.sum_steps(per_step)
        cum = self._within_stratum_cumsum(per_j)
        cum0 = np.concatenate([np.zeros((1,) + cum.shape[1:]), cum], axis=0)
        out = cum0[self.row_block + 1]
        if self.start is not None:
            out = out - cum0[self.entry_block + 1]
        if own is not None and self.ev_idx.size:
            out[self.ev_idx] -= self.sum_steps(own)[self.ev_block]
        return out

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, beta: np.ndarray, need_information: bool = True) -> CoxEvaluation:
        """Log partial likelihood, gradient and (optionally) information at ``beta``."""
        eta = self.X @ beta
        mx = float(eta.max()) if eta.size else 0.0
        shift = mx if mx > 300.0 else 0.0
        w = np.exp(eta - shift)
        wX = self.X * w[:, None]
        S0 = self.risk_sums(w)
        S1 = self.risk_sums(wX)
        ev = self.ev_idx
        D0 = self.sum_by_event_time(w[ev])
        D1 = self.sum_by_event_time(wX[ev])
        j, frac, mult = self.step_j, self.step_frac, self.step_mult
        den = S0[j] - frac * D0[j]
        amean = (S1[j] - frac[:, None] * D1[j]) / den[:, None]
        loglik = float(eta[ev].sum() - mult @ (np.log(den) + shift))
        grad = self.sum_x_events - mult @ amean
        info = self.information(w, den, amean) if need_information else None
        return CoxEvaluation(loglik, grad, info, eta, w, shift, den, amean)

    def information(
        self, w: np.ndarray, den: np.ndarray, amean: np.ndarray, step_weight: np.ndarray | None = None
    ) -> np.ndarray:
        """``sum_r q_r mult_r [ (S2_r - frac_r D2_r)/den_r - a_r a_r' ]`` (q_r = step_weight)."""
        q = self.step_mult if step_weight is None else self.step_mult * step_weight
        c = self.accumulate_over_risk(q / den, own=q * self.step_frac / den)
        wc = w * c
        info = np.zeros((self.p, self.p))
        chunk = max(1, 4_000_000 // max(self.p, 1))
        for lo in range(0, self.n, chunk):
            Xc = self.X[lo : lo + chunk]
            info += Xc.T @ (Xc * wc[lo : lo + chunk, None])
        info -= (amean * q[:, None]).T @ amean
        return (info + info.T) / 2

    def score_residuals(self, ev: CoxEvaluation) -> np.ndarray:
        """Score residuals per row (sorted order); rows sum to the gradient (Therneau 2000 3.7)."""
        w, den, amean = ev.w, ev.den, ev.amean
        mult, frac = self.step_mult, self.step_frac
        c = self.accumulate_over_risk(mult / den, own=mult * frac / den)
        G = self.accumulate_over_risk(
            amean * (mult / den)[:, None], own=amean * (mult * frac / den)[:, None]
        )
        resid = -(w[:, None] * (self.X * c[:, None] - G))
        resid[self.ev_idx] += self.X[self.ev_idx] - self.event_time_mean(amean)[self.ev_block]
        return resid

    def event_time_mean(self, amean: np.ndarray) -> np.ndarray:
        """Weighted covariate mean per event time (Efron: average over the d_j steps)."""
        return self.sum_steps(amean * self.step_mult[:, None]) / self.d[:, None]

    def baseline_hazard_increments(self, ev: CoxEvaluation) -> np.ndarray:
        """Increments of the baseline cumulative hazard at each event time (centred x = 0).

        Breslow: ``d_j / S0_j``; Efron: ``sum_k 1/(S0_j - k/d_j D0_j)`` as R's survfit.coxph
        (ctype = 2) for an Efron fit. Scaled back from the ``shift`` used for stability.
        """
        inc = self.sum_steps(self.step_mult / ev.den)
        return inc * np.exp(-ev.shift)
