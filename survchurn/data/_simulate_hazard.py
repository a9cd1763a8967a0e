"""The churn hazard and the service-visit process of the dealership simulator.

Kept apart from :mod:`survchurn.data.simulate` (attributes, result object) so each file reads in
one sitting. Everything here is vectorised numpy over customers; no Python loop runs per
customer (the visit loop runs once per visit *number*, over the customers still visiting).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["HazardSpec", "VisitSpec", "churn_times", "design_matrix", "simulate_visits"]

DAYS_PER_YEAR = 365.25
PRICE_CENTRE = 150_000.0  # log price is centred on CNY 150,000 ...
PRICE_SCALE = 0.5  # ... and divided by 0.5 (roughly the sd of log price)
DISTANCE_CENTRE = 15.0  # km; log distance centred on 15 km ...
DISTANCE_SCALE = 0.8  # ... and divided by 0.8 (the sd of log distance)

# Categorical hazard terms: (attribute, level) -> name of the indicator column.
_INDICATORS = (
    ("region", "south", "region_south"),
    ("region", "west", "region_west"),
    ("region", "central", "region_central"),
    ("channel", "online", "channel_online"),
    ("channel", "referral", "channel_referral"),
    ("extended_warranty", "yes", "extended_warranty"),
)


@dataclass(frozen=True)
class HazardSpec:
    """The proportional hazard of churn, time measured in years since the car purchase.

    ``h(t | x) = rho * lam * t**(rho - 1) * exp(risk_scale * x'beta)`` (a Weibull baseline), so
    ``S(t | x) = exp(-lam * t**rho * exp(risk_scale * x'beta))`` and a churn time is drawn by
    inversion, ``T = (E / (lam * exp(risk_scale * x'beta)))**(1/rho)`` with ``E ~ Exp(1)``.

    Parameters
    ----------
    lam : float
        Weibull scale of the baseline hazard (per year**rho) for a customer with x = 0.
    rho : float
        Weibull shape; below 1 the hazard falls with tenure (early churn is the most likely).
    beta : dict
        True log hazard ratios, by covariate name (see :func:`design_matrix`).
    risk_scale : float
        Multiplies every coefficient: 1 reproduces ``beta``; larger values spread the risk and
        make the small high-risk group churn more (the knob for the warning-score shape).
    """

    lam: float = 0.10
    rho: float = 0.7
    beta: tuple[tuple[str, float], ...] = (
        ("log_price_z", -0.30),
        ("loan_ratio", 1.00),
        ("log_distance_z", 0.30),
        ("age_z", -0.20),
        ("region_south", 0.25),
        ("region_west", 0.50),
        ("region_central", -0.20),
        ("channel_online", 0.50),
        ("channel_referral", -0.30),
        ("extended_warranty", -0.50),
        ("golden", -1.00),
    )
    risk_scale: float = 1.0

    def coefficients(self) -> dict[str, float]:
        """The true coefficients actually used: ``risk_scale * beta``."""
        return {k: self.risk_scale * v for k, v in self.beta}


@dataclass(frozen=True)
class VisitSpec:
    """The service-visit process and the lifecycle behaviour around it.

    Visits form a renewal process with gamma(``shape``) gaps of mean ``cycle_days`` per customer
    (regular, like 5,000-10,000 km services), run in *operational time*: the visit rate is
    multiplied by ``mature_rate`` while mature and by ``decline_rate`` while declining, and the
    process stops for good at the churn time.

    Parameters
    ----------
    cycle_median_days, cycle_sd_log : float
        Each customer's mean gap is ``exp(N(log(cycle_median_days), cycle_sd_log))`` days,
        clipped to [90, 365].
    shape : float
        Gamma shape of the gaps (coefficient of variation ``1/sqrt(shape)``).
    golden_intercept, golden_price_slope : float
        P(golden) = logistic(golden_intercept + golden_price_slope * log_price_z).
    mature_after_years : (float, float)
        A golden customer turns mature uniformly this many years after the purchase.
    mature_rate : float
        Visit-rate multiplier while mature.
    mature_extra_p, regular_extra_p, decline_extra_p : float
        Per visit, the chance of each of the four extra service lines (accessories, insurance,
        detailing, tyres) while mature, otherwise, and while declining.
    fade_p_regular, fade_p_golden : float
        Chance that churn is preceded by a decline phase ("gradual fade"), for regular and for
        golden customers; the others churn suddenly.
    decline_years : (float, float)
        Length of the decline phase, uniform in this range (years before the churn time).
    decline_rate : float
        Visit-rate multiplier while declining (0.5: gaps twice as long).
    decline_amount : float
        Multiplier on amounts while declining.
    """

    cycle_median_days: float = 170.0
    cycle_sd_log: float = 0.15
    shape: float = 8.0
    golden_intercept: float = -1.0
    golden_price_slope: float = 0.6
    mature_after_years: tuple[float, float] = (0.5, 2.5)
    mature_rate: float = 1.5
    mature_extra_p: float = 0.5
    regular_extra_p: float = 0.01
    decline_extra_p: float = 0.05
    fade_p_regular: float = 0.85
    fade_p_golden: float = 0.25
    decline_years: tuple[float, float] = (1.5, 3.0)
    decline_rate: float = 0.5
    decline_amount: float = 0.7


def design_matrix(customers: pd.DataFrame, golden: np.ndarray) -> pd.DataFrame:
    """The covariates of the true hazard, one row per customer, columns named as in ``beta``.

    ``log_price_z = (ln car_price - ln 150,000) / 0.5``; ``log_distance_z = (ln distance_km -
    ln 15) / 0.8``; ``age_z = (age - 40) / 12``; ``loan_ratio`` as is (0 for cash buyers);
    indicators for region south/west/central (reference: east and north, which share a
    hazard), channel online/referral (reference: showroom), extended warranty, and the latent
    ``golden`` flag (not in the customer table: it shows only through behaviour).
    """
    out = pd.DataFrame(index=customers.index)
    out["log_price_z"] = (
        np.log(customers["car_price"].to_numpy(float)) - np.log(PRICE_CENTRE)
    ) / PRICE_SCALE
    out["loan_ratio"] = customers["loan_ratio"].to_numpy(float)
    out["log_distance_z"] = (
        np.log(customers["distance_km"].to_numpy(float)) - np.log(DISTANCE_CENTRE)
    ) / DISTANCE_SCALE
    out["age_z"] = (customers["age"].to_numpy(float) - 40.0) / 12.0
    for col, level, name in _INDICATORS:
        out[name] = (customers[col].astype(str).to_numpy() == level).astype(float)
    out["golden"] = golden.astype(float)
    return out


def churn_times(design: pd.DataFrame, spec: HazardSpec, rng: np.random.Generator) -> np.ndarray:
    """Draw true churn times (days since purchase) from the Weibull proportional hazard."""
    coef = spec.coefficients()
    eta = design[list(coef)].to_numpy(float) @ np.array(list(coef.values()))
    e = rng.exponential(1.0, size=len(design))
    years = (e / (spec.lam * np.exp(eta))) ** (1.0 / spec.rho)
    return years * DAYS_PER_YEAR


def simulate_visits(
    entry: np.ndarray,
    churn: np.ndarray,
    stop: np.ndarray,
    cycle: np.ndarray,
    mature_from: np.ndarray,
    decline_from: np.ndarray,
    spec: VisitSpec,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Visit times (days since the simulation start) of every customer.

    All arguments are per customer, in days since the simulation start: ``entry`` (the car
    purchase, which is the first visit), ``churn`` (true churn time), ``stop`` (no visits at
    or after it: ``min(churn, end)``), ``cycle`` (mean gap), ``mature_from`` and
    ``decline_from`` (``inf`` when the phase never starts; ``mature_from <= decline_from``).

    Returns
    -------
    (customer index, visit time) arrays, the purchase visit included, in no particular order.
    """
    n = len(entry)
    # Operational time: Lambda(t) = integral of the rate multiplier from entry to t.
    m_start = np.minimum(mature_from, decline_from)
    l1 = m_start - entry  # end of the first (rate 1) segment, in operational time
    l2 = l1 + spec.mature_rate * (decline_from - m_start)  # end of the mature segment
    l1 = np.where(np.isfinite(l1), l1, np.inf)
    l2 = np.where(np.isfinite(decline_from), l2, np.inf)

    idx_parts = [np.arange(n)]
    time_parts = [entry.copy()]
    active = np.flatnonzero(entry < stop)
    u = np.zeros(len(active))
    scale = cycle / spec.shape
    while active.size:
        u = u + rng.gamma(spec.shape, scale[active])
        a1, a2 = l1[active], l2[active]
        t = np.where(
            u < a1,
            entry[active] + u,
            np.where(
                u < a2,
                m_start[active] + (u - a1) / spec.mature_rate,
                decline_from[active] + (u - a2) / spec.decline_rate,
            ),
        )
        keep = t < stop[active]
        active, u, t = active[keep], u[keep], t[keep]
        idx_parts.append(active)
        time_parts.append(t)
    return np.concatenate(idx_parts), np.concatenate(time_parts)
