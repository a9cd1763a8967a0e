"""A retention campaign run on the simulated dealership, with a known treatment effect.

:func:`simulate_campaign` takes a :func:`~survchurn.data.simulate.simulate_dealership` world and

1. picks the customers *active* at the campaign start ``S`` (an activity in ``(S - W, S]``,
   the risk set of :func:`survchurn.churn.landmark.landmark_table`);
2. gives them a warning tier from their true risk (quantiles of the true linear predictor
   ``x'beta``: by default green below the median, yellow to the 75th percentile, orange to the
   90th, red above), a stand-in for the warning score;
3. randomises them by tier with :func:`~survchurn.campaign.design.assign_campaign`;
4. injects the effect with :func:`inject_treatment_effect`.

The injection (documented mechanism)
------------------------------------
For a treated customer of a tier with hazard ratio ``c``, the churn hazard *after* ``S`` is
multiplied by ``c``; before ``S`` nothing changes. With the simulator's Weibull hazard
``H(t) = lam exp(x'beta) t^rho`` (t in years since the purchase) and ``s`` the tenure at ``S``,
a customer alive at ``S`` with untreated churn time ``T0 > s`` has the treated churn time

    T1^rho = s^rho + (T0^rho - s^rho) / c

(``H(T0) - H(s)`` is a unit exponential given ``T0 > s``; dividing it by ``c`` is a draw from
the hazard ``c h(t)`` after ``s``; ``lam exp(x'beta)`` cancels). Both potential churn times
are therefore known for every customer, and the two are coupled (the same draw).

The service log follows: when ``T1 < T0`` the visits at or after ``T1`` are dropped; when
``T1 > T0`` the customer, instead of stopping at ``T0``, keeps coming back on a regular cycle
(gamma gaps with the customer's own mean cycle and the simulator's shape, one "maintenance"
line of CNY 450 per visit): the renewal process is continued from the last visit before
``T0`` and its visits after ``T0`` (earlier ones would contradict the untreated log) and before
``T1`` or the end of the data are added. The gaps are drawn for every eligible customer in id order before anybody is treated, so a
customer's treated world does not depend on who else is treated.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from survchurn.campaign.design import ARMS, assign_campaign
from survchurn.data._simulate_hazard import DAYS_PER_YEAR
from survchurn.data.simulate import DealershipData
from survchurn.exceptions import ConfigError

__all__ = ["SimulatedCampaign", "campaign_tiers", "inject_treatment_effect", "simulate_campaign"]

logger = logging.getLogger(__name__)

TIERS = ("green", "yellow", "orange", "red")
_MAX_EXTRA_VISITS = 60  # 60 gaps of >= 90 days cover more than the simulator's longest window


@dataclass(frozen=True)
class SimulatedCampaign:
    """A simulated campaign: assignment, the observed service log and the truth.

    Attributes
    ----------
    assignment : pandas.DataFrame
        ``customer_id, tier, risk, arm``: who was flagged, their tier and arm.
    events : pandas.DataFrame
        The service log as observed (treated customers' visits follow their treated churn time).
    truth : pandas.DataFrame
        Per assigned customer: ``customer_id, tier, arm, hazard_ratio, churn_date_control,
        churn_date_treated`` (both potential churn dates; NaT when after year ~2230).
    start, end : pandas.Timestamp
        Campaign start and the end of the data.
    """

    assignment: pd.DataFrame
    events: pd.DataFrame
    truth: pd.DataFrame
    start: pd.Timestamp
    end: pd.Timestamp


def campaign_tiers(sim: DealershipData, start: Any, *, window_days: int = 365,
                   cuts: Sequence[float] = (0.5, 0.75, 0.9),
                   tiers: Sequence[str] = TIERS) -> pd.DataFrame:
    """Customers active at ``start`` with a tier from their true risk (see the module notes).

    Returns
    -------
    pandas.DataFrame
        ``customer_id, tier, risk`` (risk: the true linear predictor ``x'beta``).
    """
    s = pd.Timestamp(start)
    if not sim.start < s < sim.end:
        raise ConfigError(f"start {s:%Y-%m-%d} must be inside the simulated window "
                          f"({sim.start:%Y-%m-%d} to {sim.end:%Y-%m-%d})")
    if len(tiers) != len(cuts) + 1:
        raise ConfigError(f"{len(tiers)} tiers need {len(tiers) - 1} cuts, got {len(cuts)}")
    ev = sim.events
    last = ev[ev["date"] <= s].groupby("customer_id")["date"].max()
    active = last[last > s - pd.Timedelta(days=window_days)].index
    coef = sim.truth.coefficients
    design = sim.truth.design.set_index("customer_id").loc[active]
    risk = design[list(coef)].to_numpy(float) @ np.array(list(coef.values()))
    edges = np.quantile(risk, cuts)
    tier = np.asarray(tiers, dtype=object)[np.searchsorted(edges, risk, side="right")]
    return pd.DataFrame({"customer_id": np.asarray(active), "tier": tier, "risk": risk})


def _ratios(tiers: pd.Series, hazard_ratio: float | Mapping[str, float]) -> np.ndarray:
    if isinstance(hazard_ratio, Mapping):
        c = tiers.map(lambda t: hazard_ratio.get(t, 1.0)).to_numpy(float)
    else:
        c = np.full(len(tiers), float(hazard_ratio))
    if not np.all(np.isfinite(c) & (c > 0)):
        raise ConfigError(f"hazard ratios must be positive numbers, got {hazard_ratio!r}")
    return c


def inject_treatment_effect(sim: DealershipData, assignment: pd.DataFrame, *, start: Any,
                            hazard_ratio: float | Mapping[str, float], seed: int,
                            id_col: str = "customer_id", tier_col: str = "tier",
                            arm_col: str = "arm", treated: str = ARMS[1]) -> SimulatedCampaign:
    """Multiply the churn hazard after ``start`` by ``hazard_ratio`` for treated customers.

    Parameters
    ----------
    sim : DealershipData
    assignment : pandas.DataFrame
        One row per flagged customer with ``id_col``, ``tier_col`` and ``arm_col``.
    start : date-like
        Campaign start.
    hazard_ratio : float or mapping tier -> float
        The true effect; tiers not in the mapping get 1 (no effect).
    seed : int
        Seed of the visit gaps added when a churn is delayed.
    id_col, tier_col, arm_col, treated : str

    Returns
    -------
    SimulatedCampaign
    """
    s = pd.Timestamp(start)
    a = assignment.sort_values(id_col, kind="stable").reset_index(drop=True)
    ids = a[id_col].to_numpy()
    truth_c = sim.truth.customers.set_index("customer_id").loc[ids]
    t0_day = (s - sim.start).days
    entry = ((truth_c["entry_date"] - sim.start).dt.days).to_numpy(float)
    tenure = (t0_day - entry) / DAYS_PER_YEAR
    T0 = truth_c["churn_days"].to_numpy(float) / DAYS_PER_YEAR
    c = _ratios(a[tier_col], hazard_ratio)
    rho = sim.truth.hazard.rho
    alive = T0 > tenure
    s_rho = np.maximum(tenure, 0.0) ** rho
    delayed = (s_rho + np.maximum(T0**rho - s_rho, 0.0) / c) ** (1 / rho)
    T1 = np.where(alive, delayed, T0)

    rng = np.random.default_rng(seed)
    shape = sim.truth.visits.shape
    cycle = truth_c["cycle_days"].to_numpy(float)
    gaps = rng.gamma(shape, (cycle / shape)[:, None], size=(len(ids), _MAX_EXTRA_VISITS))

    is_treated = (a[arm_col] == treated).to_numpy() & (c != 1.0)
    span_end = float((sim.end - sim.start).days) + 1.0
    churn0_abs = entry + T0 * DAYS_PER_YEAR
    churn1_abs = entry + T1 * DAYS_PER_YEAR
    events = sim.events
    day = (events["date"] - sim.start).dt.days.to_numpy(float)
    pos = pd.Index(ids).get_indexer(events["customer_id"].to_numpy())
    cut = np.full(len(ids), np.inf)
    cut[is_treated] = churn1_abs[is_treated]
    keep = (pos < 0) | (day < cut[np.maximum(pos, 0)])
    kept = events[keep]

    # customers whose churn is delayed inside the data window get new visits
    grow = np.flatnonzero(is_treated & (churn1_abs > churn0_abs) & (churn0_abs < span_end))
    last_visit = pd.Series(day[pos >= 0], index=pos[pos >= 0]).groupby(level=0).max()
    extra_rows = []
    for i in grow:
        v = last_visit.get(i, entry[i]) + np.cumsum(gaps[i])
        # renewal continued from the last visit; visits before T0 would contradict the log
        v = np.floor(v[(v > churn0_abs[i]) & (v < min(churn1_abs[i], span_end))])
        if len(v):
            extra_rows.append(pd.DataFrame({"customer_id": ids[i], "day": np.unique(v)}))
    if extra_rows:
        extra = pd.concat(extra_rows, ignore_index=True)
        extra = pd.DataFrame({
            "customer_id": extra["customer_id"].astype(events["customer_id"].dtype),
            "date": sim.start + pd.to_timedelta(extra["day"], unit="D"),
            "amount": 450.0,
            "service_type": pd.Categorical(["maintenance"] * len(extra),
                                           categories=events["service_type"].cat.categories),
        })
        kept = pd.concat([kept, extra], ignore_index=True)
    out = kept.sort_values(["customer_id", "date"], kind="stable").reset_index(drop=True)

    def to_date(x: np.ndarray) -> pd.DatetimeIndex:
        d = np.where(x < 80_000, x, np.nan)
        return sim.start + pd.to_timedelta(np.floor(d), unit="D")

    truth = pd.DataFrame({
        "customer_id": ids, "tier": a[tier_col].to_numpy(), "arm": a[arm_col].to_numpy(),
        "hazard_ratio": c, "churn_date_control": to_date(churn0_abs),
        "churn_date_treated": to_date(np.where(c != 1.0, churn1_abs, churn0_abs)),
    })
    logger.info("injected effect in %d treated customers, %d got later visits",
                int(is_treated.sum()), len(grow))
    return SimulatedCampaign(assignment=a, events=out, truth=truth, start=s, end=sim.end)


def simulate_campaign(sim: DealershipData, *, start: Any,
                      hazard_ratio: float | Mapping[str, float], seed: int,
                      window_days: int = 365, treat_share: float = 0.5,
                      cuts: Sequence[float] = (0.5, 0.75, 0.9)) -> SimulatedCampaign:
    """Tiers, stratified assignment and effect injection in one call (see the module notes)."""
    tiers = campaign_tiers(sim, start, window_days=window_days, cuts=cuts)
    design = assign_campaign(tiers, seed=seed, strata="tier", treat_share=treat_share)
    return inject_treatment_effect(sim, design.table, start=start, hazard_ratio=hazard_ratio,
                                   seed=seed + 1)
