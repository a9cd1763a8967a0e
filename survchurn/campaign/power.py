"""Sample size and power of a retention campaign: churn rate at a horizon, and log-rank.

Notation: ``p_control`` is the expected churn rate at the horizon without the action,
``p_treatment`` with it, ``ratio = n_treatment / n_control`` the allocation ratio and
``pi = ratio / (1 + ratio)`` the treated share. ``z_a = z_{1 - alpha/2}`` (two-sided test) and
``z_b = z_{power}``.

Churn rate at the horizon (two independent proportions)
-------------------------------------------------------
``method="pooled"`` (default) is the classic formula of the z-test with the pooled variance under
the null and the unpooled variance under the alternative (Fleiss, Levin & Paik 2003, eq. 4.14,
without continuity correction)::

    n_control = (z_a * s0 + z_b * s1)^2 / (p_treatment - p_control)^2
    s0 = sqrt(pbar (1 - pbar) (1 + 1/ratio)),  pbar = (p_control + ratio p_treatment) / (1 + ratio)
    s1 = sqrt(p_control (1 - p_control) + p_treatment (1 - p_treatment) / ratio)

This is exactly statsmodels' ``samplesize_proportions_2indep_onetail`` and, for the power at a
given size, ``power_proportions_2indep`` (which adds the negligible far tail of the two-sided
test; so does :func:`proportions_power`).

``method="arcsine"`` uses Cohen's effect size ``h = 2 asin(sqrt(p_t)) - 2 asin(sqrt(p_c))``
(variance-stabilising transform)::

    n_control = (z_a + z_b)^2 (1 + 1/ratio) / h^2

which is statsmodels' ``NormalIndPower`` with ``proportion_effectsize``.

Log-rank test
-------------
The number of churn events needed (both arms together), for a hazard ratio ``HR`` of treatment:

* Schoenfeld (1983): ``D = (z_a + z_b)^2 / (pi (1 - pi) log(HR)^2)``;
* Freedman (1982): ``D = (z_a + z_b)^2 (1 + ratio HR)^2 / (ratio (1 - HR)^2)``, slightly
  more conservative for HR far from 1.

A campaign starts for everybody on the same day and follows everybody to the horizon, so the
probability of an event is known from the expected churn: under proportional hazards
``p_treatment = 1 - (1 - p_control)^HR`` and ``P(event) = (1 - pi) p_control + pi p_treatment``;
the total size is ``D / P(event)``. Customers lost to follow-up before the horizon lower
``P(event)``; inflate the size by ``1 / (1 - share lost)``.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from survchurn._display import Result
from survchurn.exceptions import ConfigError

__all__ = [
    "SampleSize",
    "logrank_events",
    "logrank_power",
    "logrank_sample_size",
    "proportions_power",
    "proportions_sample_size",
    "treated_churn_from_hr",
]

logger = logging.getLogger(__name__)

PROPORTION_METHODS = ("pooled", "arcsine")
LOGRANK_METHODS = ("schoenfeld", "freedman")


class SampleSize(Result):
    """A sample size (and what it was computed from); ``to_frame()`` is a one-row table.

    Attributes
    ----------
    test : str
    method : str
    n_control, n_treatment, n_total : int
        Rounded up (``n_control_exact`` keeps the unrounded value).
    n_control_exact : float
    events : float or None
        Churn events needed (log-rank only).
    power, alpha, ratio : float
    p_control, p_treatment : float
    hazard_ratio : float or None
    """

    _title = "Campaign sample size"

    def __init__(self, **kw: Any) -> None:
        self.test: str = kw["test"]
        self.method: str = kw["method"]
        self.n_control_exact: float = float(kw["n_control_exact"])
        self.ratio: float = float(kw["ratio"])
        self.n_control = int(math.ceil(self.n_control_exact - 1e-9))
        self.n_treatment = int(math.ceil(self.ratio * self.n_control_exact - 1e-9))
        self.n_total = self.n_control + self.n_treatment
        self.events: float | None = kw.get("events")
        self.power: float = float(kw["power"])
        self.alpha: float = float(kw["alpha"])
        self.p_control: float = float(kw["p_control"])
        self.p_treatment: float = float(kw["p_treatment"])
        self.hazard_ratio: float | None = kw.get("hazard_ratio")

    def _header(self) -> dict[str, Any]:
        h: dict[str, Any] = {"test": self.test, "method": self.method, "alpha": self.alpha,
                             "power": self.power, "ratio (treated/control)": self.ratio}
        if self.events is not None:
            h["events needed"] = math.ceil(self.events)
        return h

    def to_frame(self) -> pd.DataFrame:
        """One row: inputs, sizes per arm and in total, events needed (log-rank)."""
        return pd.DataFrame([{
            "test": self.test, "method": self.method, "p_control": self.p_control,
            "p_treatment": self.p_treatment, "hazard_ratio": self.hazard_ratio,
            "alpha": self.alpha, "power": self.power, "ratio": self.ratio,
            "n_control": self.n_control, "n_treatment": self.n_treatment,
            "n_total": self.n_total, "events": self.events,
        }])


def _check_p(name: str, p: float) -> float:
    p = float(p)
    if not 0 < p < 1:
        raise ConfigError(f"{name} must be a churn rate strictly between 0 and 1, got {p!r}")
    return p


def _check_common(alpha: float, ratio: float, power: float | None = None) -> None:
    if not 0 < alpha < 1:
        raise ConfigError(f"alpha must be between 0 and 1 (0.05 gives a 5% test), got {alpha!r}")
    if not (np.isfinite(ratio) and ratio > 0):
        raise ConfigError(f"ratio (n_treatment / n_control) must be a positive number, got {ratio!r}")
    if power is not None and not 0 < power < 1:
        raise ConfigError(f"power must be between 0 and 1 (e.g. 0.8), got {power!r}")


def _check_method(method: str, allowed: tuple[str, ...]) -> None:
    if method not in allowed:
        raise ConfigError(f"method must be one of {allowed}, got {method!r}")


def _two_sided_power(shift: float, z_a: float, ratio_sd: float = 1.0) -> float:
    """P(|Z| > z_a) for a z-statistic with mean ``shift`` (in alternative-SD units)."""
    return float(norm.sf(z_a * ratio_sd - abs(shift)) + norm.cdf(-z_a * ratio_sd - abs(shift)))


def _pooled_sds(p_c: float, p_t: float, ratio: float) -> tuple[float, float]:
    pbar = (p_c + ratio * p_t) / (1 + ratio)
    s0 = math.sqrt(pbar * (1 - pbar) * (1 + 1 / ratio))
    s1 = math.sqrt(p_c * (1 - p_c) + p_t * (1 - p_t) / ratio)
    return s0, s1


def proportions_sample_size(p_control: float, p_treatment: float, *, power: float = 0.8,
                            alpha: float = 0.05, ratio: float = 1.0,
                            method: str = "pooled") -> SampleSize:
    """Customers needed to detect a change in the churn rate at a horizon (two-sided z-test).

    Parameters
    ----------
    p_control, p_treatment : float
        Expected churn rate at the horizon without and with the action.
    power : float
        Probability of detecting the change.
    alpha : float
        Significance level of the two-sided test.
    ratio : float
        ``n_treatment / n_control`` (1: equal arms; 4: a 20% holdout).
    method : {"pooled", "arcsine"}
        See the module notes.

    Returns
    -------
    SampleSize

    Raises
    ------
    ConfigError
        A rate outside (0, 1), equal rates, or an invalid setting.
    """
    p_c, p_t = _check_p("p_control", p_control), _check_p("p_treatment", p_treatment)
    _check_common(alpha, ratio, power)
    _check_method(method, PROPORTION_METHODS)
    if p_c == p_t:
        raise ConfigError("p_control equals p_treatment: there is no effect to detect; "
                          "give the churn rate you expect with the action")
    z_a, z_b = norm.ppf(1 - alpha / 2), norm.ppf(power)
    if method == "pooled":
        s0, s1 = _pooled_sds(p_c, p_t, ratio)
        n = (z_a * s0 + z_b * s1) ** 2 / (p_t - p_c) ** 2
    else:
        h = 2 * math.asin(math.sqrt(p_t)) - 2 * math.asin(math.sqrt(p_c))
        n = (z_a + z_b) ** 2 * (1 + 1 / ratio) / h**2
    return SampleSize(test="churn rate at horizon (two proportions)", method=method,
                      n_control_exact=n, ratio=ratio, power=power, alpha=alpha,
                      p_control=p_c, p_treatment=p_t)


def proportions_power(p_control: float, p_treatment: float, n_control: float, *,
                      alpha: float = 0.05, ratio: float = 1.0, method: str = "pooled") -> float:
    """Power of the two-sided z-test of churn rates with ``n_control`` and ``ratio * n_control``.

    Both tails are counted (as statsmodels); see :func:`proportions_sample_size`.
    """
    p_c, p_t = _check_p("p_control", p_control), _check_p("p_treatment", p_treatment)
    _check_common(alpha, ratio)
    _check_method(method, PROPORTION_METHODS)
    if not n_control > 0:
        raise ConfigError(f"n_control must be positive, got {n_control!r}")
    z_a = norm.ppf(1 - alpha / 2)
    if method == "pooled":
        s0, s1 = _pooled_sds(p_c, p_t, ratio)
        return _two_sided_power((p_t - p_c) * math.sqrt(n_control) / s1, z_a, s0 / s1)
    h = 2 * math.asin(math.sqrt(p_t)) - 2 * math.asin(math.sqrt(p_c))
    return _two_sided_power(h * math.sqrt(n_control / (1 + 1 / ratio)), z_a)


def treated_churn_from_hr(p_control: float, hazard_ratio: float) -> float:
    """Churn at the horizon with the action under proportional hazards: ``1 - (1 - p)^HR``."""
    p_c = _check_p("p_control", p_control)
    hr = _check_hr(hazard_ratio)
    return 1.0 - (1.0 - p_c) ** hr


def _check_hr(hr: float) -> float:
    hr = float(hr)
    if not (np.isfinite(hr) and hr > 0) or hr == 1:
        raise ConfigError(f"hazard_ratio must be a positive number other than 1 (e.g. 0.7 for a "
                          f"30% lower churn hazard), got {hr!r}")
    return hr


def _logrank_drift(hr: float, ratio: float, method: str) -> float:
    """Mean of the log-rank z-statistic per square root of an event."""
    if method == "schoenfeld":
        pi = ratio / (1 + ratio)
        return math.sqrt(pi * (1 - pi)) * abs(math.log(hr))
    return math.sqrt(ratio) * abs(1 - hr) / (1 + ratio * hr)


def logrank_events(hazard_ratio: float, *, power: float = 0.8, alpha: float = 0.05,
                   ratio: float = 1.0, method: str = "schoenfeld") -> float:
    """Churn events (both arms) a two-sided log-rank test needs (Schoenfeld or Freedman)."""
    hr = _check_hr(hazard_ratio)
    _check_common(alpha, ratio, power)
    _check_method(method, LOGRANK_METHODS)
    z = norm.ppf(1 - alpha / 2) + norm.ppf(power)
    return z**2 / _logrank_drift(hr, ratio, method) ** 2


def logrank_sample_size(hazard_ratio: float, p_control: float, *, power: float = 0.8,
                        alpha: float = 0.05, ratio: float = 1.0,
                        method: str = "schoenfeld") -> SampleSize:
    """Customers needed for a log-rank test, from the events needed and the expected churn.

    Parameters
    ----------
    hazard_ratio : float
        Churn hazard with the action / without (0.7: 30% lower).
    p_control : float
        Expected churn at the horizon without the action (everybody followed to the horizon).
    power, alpha, ratio
        As :func:`proportions_sample_size`.
    method : {"schoenfeld", "freedman"}

    Returns
    -------
    SampleSize
        With ``events``, the churn events needed.
    """
    d = logrank_events(hazard_ratio, power=power, alpha=alpha, ratio=ratio, method=method)
    p_t = treated_churn_from_hr(p_control, hazard_ratio)
    pi = ratio / (1 + ratio)
    p_event = (1 - pi) * p_control + pi * p_t
    n_total = d / p_event
    return SampleSize(test="log-rank", method=method, n_control_exact=n_total * (1 - pi),
                      ratio=ratio, power=power, alpha=alpha, p_control=p_control,
                      p_treatment=p_t, hazard_ratio=float(hazard_ratio), events=d)


def logrank_power(hazard_ratio: float, p_control: float, n_control: float, *,
                  alpha: float = 0.05, ratio: float = 1.0, method: str = "schoenfeld") -> float:
    """Power of a two-sided log-rank test with ``n_control`` and ``ratio * n_control`` customers."""
    hr = _check_hr(hazard_ratio)
    _check_common(alpha, ratio)
    _check_method(method, LOGRANK_METHODS)
    if not n_control > 0:
        raise ConfigError(f"n_control must be positive, got {n_control!r}")
    p_t = treated_churn_from_hr(p_control, hr)
    expected_events = n_control * p_control + ratio * n_control * p_t
    shift = math.sqrt(expected_events) * _logrank_drift(hr, ratio, method)
    return _two_sided_power(shift, norm.ppf(1 - alpha / 2))
