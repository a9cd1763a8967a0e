"""A simulator of a car dealership's after-sales (service) business, with known ground truth.

The simulated world follows DOMAIN.md, "The car-dealership case": customers buy a car
(staggered entry dates), come back for service visits for years, and one day stop coming for
good. Churn is driven by a documented proportional hazard on customer attributes, and the
lifecycle stages (new, growth, mature, decline, churned) are built into the visit behaviour, so
that tests can check that survival models recover the coefficients and that stage rules find
the stages. See :func:`simulate_dealership` for the mechanism and every knob.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from survchurn.data._simulate_hazard import (
    DAYS_PER_YEAR,
    HazardSpec,
    VisitSpec,
    churn_times,
    design_matrix,
    simulate_visits,
)
from survchurn.exceptions import ConfigError

__all__ = [
    "STAGES",
    "DealershipData",
    "DealershipTruth",
    "HazardSpec",
    "VisitSpec",
    "simulate_dealership",
]

logger = logging.getLogger(__name__)

STAGES = ("new", "growth", "mature", "decline", "churned")
_EXTRAS = ("accessories", "insurance", "detailing", "tyres")
_TYPES = ("delivery", "maintenance", "repair", *_EXTRAS)
_EXTRA_AMOUNT = {"accessories": 900.0, "insurance": 4500.0, "detailing": 350.0, "tyres": 1800.0}

_CATEGORICAL = {
    "gender": (("M", "F"), (0.62, 0.38)),
    "region": (("east", "north", "south", "west", "central"), (0.30, 0.25, 0.20, 0.15, 0.10)),
    "channel": (("showroom", "online", "referral"), (0.60, 0.25, 0.15)),
    "car_segment": (
        ("economy", "compact", "midsize", "suv", "luxury"),
        (0.20, 0.30, 0.22, 0.20, 0.08),
    ),
    "fuel_type": (("petrol", "diesel", "hybrid", "electric"), (0.62, 0.10, 0.18, 0.10)),
    "insurance_with_dealer": (("yes", "no"), (0.50, 0.50)),
    "membership": (("none", "silver", "gold"), (0.60, 0.30, 0.10)),
    "occupation": (
        ("employee", "civil_servant", "self_employed", "professional", "retired", "other"),
        (0.40, 0.12, 0.18, 0.15, 0.07, 0.08),
    ),
    "marital_status": (("married", "single", "other"), (0.62, 0.30, 0.08)),
}
_SEGMENT_PRICE = {
    "economy": 80_000,
    "compact": 120_000,
    "midsize": 180_000,
    "suv": 220_000,
    "luxury": 420_000,
}


@dataclass(frozen=True)
class DealershipTruth:
    """What the simulator knows and a real business never sees.

    Attributes
    ----------
    coefficients : dict
        True log hazard ratios (``risk_scale * beta``), by column of ``design``.
    hazard : HazardSpec
        The full hazard specification (Weibull ``lam``, ``rho``, ``beta``, ``risk_scale``).
    visits : VisitSpec
        The visit process and lifecycle settings.
    design : pandas.DataFrame
        The hazard covariates, one row per customer (``customer_id`` first).
    customers : pandas.DataFrame
        Per customer: ``churn_days`` (true churn time in days since purchase, before any
        censoring), ``churn_date``, ``golden``, ``cycle_days``, the stage change dates
        ``growth_from`` (second visit), ``mature_from``, ``decline_from``, ``churn_date``
        (NaT when never reached) and ``churn_type`` (the true stage at the last visit:
        new = trial failure, growth, mature = sudden churn, decline = gradual fade).
    """

    coefficients: dict[str, float]
    hazard: HazardSpec
    visits: VisitSpec
    design: pd.DataFrame
    customers: pd.DataFrame

    def stages_at(self, as_of: str | pd.Timestamp) -> pd.Series:
        """The true stage of every customer who has bought by ``as_of`` (index: customer_id).

        Priority: churned (true churn time passed), new (only the purchase visit so far),
        decline, mature, growth.
        """
        t = pd.Timestamp(as_of)
        c = self.customers
        c = c[c["entry_date"] <= t]
        stage = np.full(len(c), "growth", dtype=object)
        stage[(c["mature_from"] <= t).to_numpy()] = "mature"
        stage[(c["decline_from"] <= t).to_numpy()] = "decline"
        stage[~(c["growth_from"] <= t).to_numpy()] = "new"
        stage[(c["churn_date"] <= t).to_numpy()] = "churned"
        return pd.Series(
            stage, index=pd.Index(c["customer_id"], name="customer_id"), name="true_stage"
        )

    def survival_frame(self, end: str | pd.Timestamp) -> pd.DataFrame:
        """True churn times censored at ``end``: ``duration`` (days), ``event`` and the design."""
        c = self.customers
        end_t = pd.Timestamp(end)
        follow = (end_t - c["entry_date"]).dt.days.to_numpy(float)
        churn = c["churn_days"].to_numpy(float)
        out = self.design.copy()
        out["duration"] = np.minimum(churn, follow)
        out["event"] = (churn <= follow).astype(int)
        return out


@dataclass(frozen=True)
class DealershipData:
    """A simulated dealership: customer table, service-visit event log and ground truth.

    Attributes
    ----------
    customers : pandas.DataFrame
        One row per customer: ``customer_id``, ``purchase_date``, 4 continuous attributes
        (``age``, ``car_price``, ``loan_amount``, ``distance_km``), the derived ``loan_ratio``
        (loan / price) and 11 categorical ones (``gender``, ``region``, ``channel``,
        ``car_segment``, ``fuel_type``, ``payment_method``, ``extended_warranty``,
        ``insurance_with_dealer``, ``membership``, ``occupation``, ``marital_status``).
    events : pandas.DataFrame
        The service log, one row per service line: ``customer_id``, ``date``, ``amount``
        (CNY), ``service_type`` (categorical: delivery, maintenance, repair, accessories,
        insurance, detailing, tyres). A visit with several lines has several rows on one day.
        Sorted by customer and date; nothing after ``end``.
    truth : DealershipTruth
        Coefficients, true churn times, true stages over time.
    start, end : pandas.Timestamp
        The observation window.
    seed : int
        The seed that produced it.
    """

    customers: pd.DataFrame
    events: pd.DataFrame
    truth: DealershipTruth
    start: pd.Timestamp
    end: pd.Timestamp
    seed: int
    settings: dict[str, object] = field(default_factory=dict)

    def describe(self) -> str:
        """A plain-text statement of the simulated mechanism and its true parameters."""
        h = self.truth.hazard
        coef = "\n".join(f"    {k:>18}: {v:+.3f}" for k, v in self.truth.coefficients.items())
        churned = int((self.truth.customers["churn_date"] <= self.end).sum())
        return (
            f"Simulated dealership: {len(self.customers):,} customers, {len(self.events):,} service "
            f"lines, {self.start:%Y-%m-%d} to {self.end:%Y-%m-%d}, seed {self.seed}.\n"
            f"Churn hazard (t in years since purchase): h(t|x) = {h.rho} * {h.lam} * "
            f"t^({h.rho}-1) * exp(x'beta), Weibull baseline, with beta =\n{coef}\n"
            f"Truly churned by the end: {churned:,} ({churned / max(len(self.customers), 1):.1%}).\n"
            "Stages: new until the second visit; golden customers turn mature (more visits, "
            "extra service lines); fading customers decline (sparser, smaller visits) before "
            "churning; others churn suddenly."
        )


def _categorical(
    rng: np.random.Generator, n: int, levels: tuple[str, ...], p: tuple[float, ...]
) -> pd.Categorical:
    codes = rng.choice(len(levels), size=n, p=np.asarray(p) / np.sum(p))
    return pd.Categorical.from_codes(codes, categories=list(levels))


def _attributes(rng: np.random.Generator, n: int, entry: pd.DatetimeIndex) -> pd.DataFrame:
    cust = pd.DataFrame(
        {"customer_id": np.arange(1, n + 1, dtype=np.int64), "purchase_date": entry}
    )
    cust["age"] = np.clip(np.round(rng.normal(40.0, 11.0, n)), 18, 80).astype(np.int64)
    for name, (levels, p) in _CATEGORICAL.items():
        cust[name] = _categorical(rng, n, levels, p)
    seg_price = cust["car_segment"].astype(str).map(_SEGMENT_PRICE).to_numpy(float)
    cust["car_price"] = np.round(seg_price * np.exp(rng.normal(0.0, 0.15, n)), -2)
    p_loan = 0.45 + 0.20 * (cust["channel"].astype(str).to_numpy() == "online")
    loan = rng.random(n) < p_loan
    ratio = np.where(loan, np.round(0.1 + 0.8 * rng.beta(3.0, 3.0, n), 3), 0.0)
    cust["loan_amount"] = np.round(ratio * cust["car_price"].to_numpy(float), -2)
    cust["loan_ratio"] = cust["loan_amount"] / cust["car_price"]
    cust["payment_method"] = pd.Categorical(
        np.where(loan, "loan", "cash"), categories=["cash", "loan"]
    )
    p_warranty = 0.30 + 0.20 * (cust["car_segment"].astype(str).to_numpy() == "luxury")
    cust["extended_warranty"] = pd.Categorical(
        np.where(rng.random(n) < p_warranty, "yes", "no"), categories=["no", "yes"]
    )
    cust["distance_km"] = np.round(15.0 * np.exp(rng.normal(0.0, 0.8, n)), 1)
    order = [
        "customer_id",
        "purchase_date",
        "age",
        "car_price",
        "loan_amount",
        "loan_ratio",
        "distance_km",
    ]
    return cust[order + [c for c in cust.columns if c not in order]]


def simulate_dealership(
    n_customers: int = 10_000,
    *,
    seed: int = 0,
    start: str | pd.Timestamp = "2011-01-01",
    end: str | pd.Timestamp = "2018-09-30",
    hazard: HazardSpec | None = None,
    visits: VisitSpec | None = None,
) -> DealershipData:
    """Simulate a car dealership's customers, service visits and churn, with the truth.

    Mechanism
    ---------
    1. **Customers** buy a car on a day drawn uniformly between ``start`` and ``end`` (staggered
       entry; the purchase is the first row of their log, service type ``delivery``), with
       attributes drawn independently except: car price follows the segment, loans are more
       common for online buyers, extended warranties for luxury cars.
    2. **Churn** (the customer stops coming, for good) happens at a time T drawn from the
       proportional hazard ``h(t|x) = h0(t) exp(x'beta)`` with a Weibull baseline
       ``h0(t) = rho * lam * t**(rho - 1)`` (t in years since the purchase); the covariates
       and their true coefficients are in :class:`HazardSpec` and
       :func:`~survchurn.data._simulate_hazard.design_matrix`. A Cox fit on (T censored at
       ``end``, design) recovers ``truth.coefficients``. One covariate, ``golden``, is latent:
       it is not in the customer table and shows only through behaviour (stage *mature*).
    3. **Visits** form a regular renewal process (gamma gaps, a per-customer mean cycle near
       170 days) that stops at T or at ``end``. The lifecycle is built in:
       *new* until the second visit; *golden* customers (more likely with dearer cars) turn
       *mature* 0.5-2.5 years after the purchase, then visit 1.5x as often and add extra
       service lines (accessories, insurance, detailing, tyres); most regular customers and
       some golden ones *decline* for 1.5-3 years before T (gaps twice as long, smaller bills:
       the gradual fade), the others churn suddenly. A decline phase is only given when T
       leaves time for a re-visit before it. *Churned* from T on.

    Parameters
    ----------
    n_customers : int
        Number of customers (any size: 1M customers give about 10M service lines).
    seed : int
        Seed of ``np.random.default_rng``; the same seed gives the same data.
    start, end : str or Timestamp
        Observation window; no event after ``end`` (customers still visiting are censored).
    hazard : HazardSpec, optional
        Churn hazard; ``HazardSpec(risk_scale=...)`` and ``lam`` are the knobs for the overall
        churn level and for the shape of the riskiest group (with the defaults, the 2% of
        customers with the highest true risk churn at about 70% by the end date).
    visits : VisitSpec, optional
        Visit process and lifecycle behaviour.

    Returns
    -------
    DealershipData
        ``customers``, ``events``, ``truth`` (coefficients, churn times, stages over time).

    Raises
    ------
    ConfigError
        If ``n_customers`` is not a positive integer or ``end`` is not after ``start``.

    Examples
    --------
    >>> from survchurn.data.simulate import simulate_dealership
    >>> sim = simulate_dealership(1_000, seed=1)
    >>> sim.customers.shape[0], sim.truth.stages_at("2016-12-31").index.name
    (1000, 'customer_id')
    """
    if (
        isinstance(n_customers, bool)
        or not isinstance(n_customers, (int, np.integer))
        or n_customers < 1
    ):
        raise ConfigError(f"n_customers must be a positive integer, got {n_customers!r}")
    t0, t1 = pd.Timestamp(start), pd.Timestamp(end)
    if t1 <= t0:
        raise ConfigError(
            f"end ({t1:%Y-%m-%d}) must be after start ({t0:%Y-%m-%d}); pass a later end"
        )
    hz = hazard if hazard is not None else HazardSpec()
    vs = visits if visits is not None else VisitSpec()
    n = int(n_customers)
    rng = np.random.default_rng(seed)
    span = float((t1 - t0).days)

    entry = np.sort(rng.integers(0, int(span), size=n)).astype(float)
    cust = _attributes(rng, n, pd.DatetimeIndex(_days_to_dates(t0, entry)))
    price_z = (np.log(cust["car_price"].to_numpy(float)) - np.log(150_000.0)) / 0.5
    golden = rng.random(n) < 1.0 / (
        1.0 + np.exp(-(vs.golden_intercept + vs.golden_price_slope * price_z))
    )
    design = design_matrix(cust, golden)
    churn_days = churn_times(design, hz, rng)

    cycle = np.clip(
        np.exp(rng.normal(np.log(vs.cycle_median_days), vs.cycle_sd_log, n)), 90.0, 365.0
    )
    mature_from = np.where(
        golden, entry + rng.uniform(*vs.mature_after_years, n) * DAYS_PER_YEAR, np.inf
    )
    fade = rng.random(n) < np.where(golden, vs.fade_p_golden, vs.fade_p_regular)
    dec_len = rng.uniform(*vs.decline_years, n) * DAYS_PER_YEAR
    fade &= churn_days - dec_len > 1.5 * cycle
    churn_abs = entry + churn_days
    decline_from = np.where(fade, churn_abs - dec_len, np.inf)
    mature_from = np.where(mature_from < decline_from, mature_from, np.inf)
    stop = np.minimum(churn_abs, span + 1.0)

    with np.errstate(invalid="ignore"):
        vidx, vtime = simulate_visits(
            entry, churn_abs, stop, cycle, mature_from, decline_from, vs, rng
        )
    vday = np.floor(vtime)
    order = _by_customer_and_day(vidx, vday)
    vidx, vday = vidx[order], vday[order]
    # Several visits can fall on one day after flooring; keep one.
    dup = np.r_[False, (vidx[1:] == vidx[:-1]) & (vday[1:] == vday[:-1])]
    vidx, vday = vidx[~dup], vday[~dup]

    events = _service_lines(rng, vidx, vday, entry, mature_from, decline_from, cust, vs)
    events["customer_id"] = cust["customer_id"].to_numpy()[events.pop("_idx").to_numpy()]
    events["date"] = _days_to_dates(t0, events.pop("_day").to_numpy())
    events = events[["customer_id", "date", "amount", "service_type"]].reset_index(drop=True)

    truth_cust = _truth_table(
        cust, golden, churn_days, cycle, mature_from, decline_from, vidx, vday, t0, span
    )
    design.insert(0, "customer_id", cust["customer_id"].to_numpy())
    truth = DealershipTruth(
        coefficients=hz.coefficients(), hazard=hz, visits=vs, design=design, customers=truth_cust
    )
    logger.info("simulated %d customers, %d service lines", n, len(events))
    return DealershipData(
        customers=cust,
        events=events,
        truth=truth,
        start=t0,
        end=t1,
        seed=seed,
        settings={"n_customers": n, "hazard": hz, "visits": vs},
    )


def _service_lines(
    rng: np.random.Generator,
    vidx: np.ndarray,
    vday: np.ndarray,
    entry: np.ndarray,
    mature_from: np.ndarray,
    decline_from: np.ndarray,
    cust: pd.DataFrame,
    vs: VisitSpec,
) -> pd.DataFrame:
    """Expand visits into service lines (a main line plus extra lines) with amounts."""
    nv = len(vidx)
    is_delivery = vday == np.floor(entry[vidx])
    in_decline = vday >= decline_from[vidx]
    in_mature = (vday >= mature_from[vidx]) & ~in_decline
    size = np.sqrt(cust["car_price"].to_numpy(float)[vidx] / 150_000.0)
    scale = np.where(in_decline, vs.decline_amount, 1.0)
    repair = rng.random(nv) < 0.15
    # Type codes index _TYPES: 0 delivery, 1 maintenance, 2 repair, 3.. the extras.
    main_code = np.where(is_delivery, 0, np.where(repair, 2, 1)).astype(np.int8)
    base = np.where(is_delivery, 500.0, np.where(repair, 1500.0, 450.0))
    main_amount = base * size * scale * np.exp(rng.normal(0.0, 0.3, nv))
    parts_idx, parts_day, parts_amt, parts_code = [vidx], [vday], [main_amount], [main_code]
    p_extra = np.where(
        in_mature, vs.mature_extra_p, np.where(in_decline, vs.decline_extra_p, vs.regular_extra_p)
    )
    p_extra = np.where(is_delivery, 0.0, p_extra)
    for code, kind in enumerate(_EXTRAS, start=3):
        hit = rng.random(nv) < p_extra
        k = int(hit.sum())
        amt = _EXTRA_AMOUNT[kind] * size[hit] * scale[hit] * np.exp(rng.normal(0.0, 0.4, k))
        parts_idx.append(vidx[hit])
        parts_day.append(vday[hit])
        parts_amt.append(amt)
        parts_code.append(np.full(k, code, dtype=np.int8))
    idx = np.concatenate(parts_idx)
    day = np.concatenate(parts_day)
    order = _by_customer_and_day(idx, day)
    return pd.DataFrame(
        {
            "_idx": idx[order],
            "_day": day[order],
            "amount": np.round(np.concatenate(parts_amt)[order], 2),
            "service_type": pd.Categorical.from_codes(
                np.concatenate(parts_code)[order], categories=list(_TYPES)
            ),
        }
    )


def _by_customer_and_day(idx: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Stable sort order by (customer, day); the inputs are a few sorted runs, which timsort eats."""
    key = idx.astype(np.int64) * 1_000_000 + day.astype(np.int64)
    return np.argsort(key, kind="stable")


def _days_to_dates(t0: pd.Timestamp, days: np.ndarray) -> np.ndarray:
    """``t0`` plus whole ``days`` as datetime64[ns]; NaN and far-future days give NaT."""
    d = np.asarray(days, dtype=float)
    ok = np.isfinite(d) & (d < 80_000)  # beyond ~2230 a churn date is "never" (NaT)
    out = np.full(len(d), np.datetime64("NaT"), dtype="datetime64[D]")
    out[ok] = np.datetime64(t0.date(), "D") + np.floor(d[ok]).astype(np.int64)
    return out.astype("datetime64[ns]")


def _truth_table(
    cust: pd.DataFrame,
    golden: np.ndarray,
    churn_days: np.ndarray,
    cycle: np.ndarray,
    mature_from: np.ndarray,
    decline_from: np.ndarray,
    vidx: np.ndarray,
    vday: np.ndarray,
    t0: pd.Timestamp,
    span: float,
) -> pd.DataFrame:
    n = len(cust)
    counts = np.bincount(vidx, minlength=n)
    first = np.r_[0, np.cumsum(counts)[:-1]]
    second = np.where(counts >= 2, vday[np.minimum(first + 1, len(vday) - 1)], np.inf)
    last = vday[first + counts - 1]
    entry = (cust["purchase_date"] - t0).dt.days.to_numpy(float)
    churn_abs = entry + churn_days

    def to_date(x: np.ndarray) -> np.ndarray:
        # Stage starts are floored to whole days, like the visit dates.
        return _days_to_dates(t0, x)

    churn_type = np.where(
        last >= decline_from,
        "decline",
        np.where(last >= mature_from, "mature", np.where(counts >= 2, "growth", "new")),
    ).astype(object)
    churn_type[~(np.floor(churn_abs) <= span)] = None  # same rounding as churn_date
    return pd.DataFrame(
        {
            "customer_id": cust["customer_id"].to_numpy(),
            "entry_date": cust["purchase_date"].to_numpy(),
            "golden": golden,
            "cycle_days": np.round(cycle, 1),
            "churn_days": churn_days,
            "growth_from": to_date(second),
            "mature_from": to_date(np.where(mature_from < second, second, mature_from)),
            "decline_from": to_date(decline_from),
            "churn_date": to_date(churn_abs),
            "churn_type": churn_type,
        }
    )
