"""Campaign power: closed forms against statsmodels, log-rank formulas against a simulation."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.power import NormalIndPower, normal_sample_size_one_tail
from statsmodels.stats.proportion import (
    power_proportions_2indep,
    proportion_effectsize,
    samplesize_proportions_2indep_onetail,
)

from survchurn.campaign.power import (
    logrank_events,
    logrank_power,
    logrank_sample_size,
    proportions_power,
    proportions_sample_size,
    treated_churn_from_hr,
)
from survchurn.exceptions import ConfigError
from survchurn.survival.logrank import logrank_test

CASES = [(0.30, 0.22, 1.0), (0.50, 0.40, 3.0), (0.10, 0.07, 0.5), (0.05, 0.08, 1.0)]


# statsmodels' sample 1 is our control arm, nobs2 = ratio * nobs1 our treated arm, and
# diff = p1 - p2 with prop2 = p_treatment. Same closed forms: agreement to 1e-6 relative
# (only floating-point rounding differs).
@pytest.mark.parametrize(("pc", "pt", "ratio"), CASES)
def test_pooled_matches_statsmodels(pc, pt, ratio):
    ss = proportions_sample_size(pc, pt, power=0.8, alpha=0.05, ratio=ratio)
    ref = samplesize_proportions_2indep_onetail(pc - pt, pt, 0.8, ratio=ratio, alpha=0.05)
    assert ss.n_control_exact == pytest.approx(ref, rel=1e-6)
    assert ss.n_control == math.ceil(ref)
    assert ss.n_treatment == math.ceil(ratio * ref - 1e-9)
    for n in (100, 777, ss.n_control_exact):
        ours = proportions_power(pc, pt, n, ratio=ratio)
        sm = power_proportions_2indep(pc - pt, pt, n, ratio=ratio, alpha=0.05).power
        assert ours == pytest.approx(sm, abs=1e-6)
    assert proportions_power(pc, pt, ss.n_control_exact, ratio=ratio) == pytest.approx(0.8, abs=1e-3)


@pytest.mark.parametrize(("pc", "pt", "ratio"), CASES)
def test_arcsine_matches_normal_ind_power(pc, pt, ratio):
    es = proportion_effectsize(pt, pc)  # Cohen's h
    ss = proportions_sample_size(pc, pt, power=0.9, alpha=0.01, ratio=ratio, method="arcsine")
    # closed form ignores the far tail, as statsmodels' one-tail sample size
    ref = normal_sample_size_one_tail(abs(es), 0.9, 0.005, std_null=math.sqrt(1 + 1 / ratio))
    assert ss.n_control_exact == pytest.approx(ref, rel=1e-6)
    for n in (50, 400, 3000):
        ours = proportions_power(pc, pt, n, alpha=0.01, ratio=ratio, method="arcsine")
        assert ours == pytest.approx(NormalIndPower().power(es, n, 0.01, ratio=ratio), abs=1e-6)
    # solve_power (root finder, both tails) lands within 0.1% of the closed form
    solved = NormalIndPower().solve_power(es, power=0.9, alpha=0.01, ratio=ratio)
    assert ss.n_control_exact == pytest.approx(solved, rel=1e-3)


def test_logrank_events_closed_forms():
    z = 1.959963984540054 + 0.8416212335729143
    # Schoenfeld, equal arms: 4 z^2 / log(HR)^2
    assert logrank_events(0.7) == pytest.approx(4 * z**2 / math.log(0.7) ** 2, rel=1e-12)
    # Freedman, equal arms: z^2 (1 + HR)^2 / (1 - HR)^2
    assert logrank_events(0.7, method="freedman") == pytest.approx(
        z**2 * 1.7**2 / 0.3**2, rel=1e-12)
    # unequal arms: Schoenfeld divides by pi (1 - pi)
    assert logrank_events(0.7, ratio=3) == pytest.approx(z**2 / (0.75 * 0.25 * math.log(0.7) ** 2))
    ss = logrank_sample_size(0.7, 0.3)
    p_t = treated_churn_from_hr(0.3, 0.7)
    assert p_t == pytest.approx(1 - 0.7**0.7)
    assert ss.events / ((0.3 + p_t) / 2) == pytest.approx(2 * ss.n_control_exact)
    assert logrank_power(0.7, 0.3, ss.n_control_exact) == pytest.approx(0.8, abs=1e-3)
    assert "events needed" in repr(ss) and "<table" in ss._repr_html_()
    assert ss.to_frame().loc[0, "n_total"] == ss.n_control + ss.n_treatment


def _simulated_power(n_control: int, ratio: float, hr: float, p_control: float, reps: int,
                     seed: int) -> float:
    """Share of `reps` simulated campaigns whose log-rank p < 0.05.

    Exponential churn times with P(T <= 1) = p_control in the control arm and hazard x hr in
    the treated arm; everybody followed to the horizon (t = 1, in days 365).
    """
    rng = np.random.default_rng(seed)
    n_t = int(round(ratio * n_control))
    arm = np.r_[np.zeros(n_control), np.ones(n_t)]
    rate = -math.log(1 - p_control) * np.where(arm == 1, hr, 1.0)
    hits = 0
    for _ in range(reps):
        t = rng.exponential(1 / rate)
        frame = pd.DataFrame({"duration": np.minimum(t, 1.0) * 365, "event": (t <= 1).astype(int),
                              "group": arm})
        hits += logrank_test(frame).p_value < 0.05
    return hits / reps


@pytest.mark.parametrize(("method", "ratio", "seed"), [("schoenfeld", 1.0, 11), ("freedman", 2.0, 12)])
def test_logrank_power_matches_simulation(method, ratio, seed):
    """Formula power at the computed size vs 400 seeded simulated trials: within 3 SE.

    SE = sqrt(p (1 - p) / 400) ~ 0.02 at p = 0.8, so the tolerance is ~0.06. Offline, 3,000
    reps gave 0.793 (Schoenfeld, formula 0.800) and 0.785 (Freedman, 2:1, formula 0.801): the
    formulas are large-sample approximations and run ~0.01-0.02 optimistic.
    """
    ss = logrank_sample_size(0.7, 0.3, power=0.8, ratio=ratio, method=method)
    formula = logrank_power(0.7, 0.3, ss.n_control, ratio=ratio, method=method)
    sim = _simulated_power(ss.n_control, ratio, 0.7, 0.3, reps=400, seed=seed)
    se = math.sqrt(sim * (1 - sim) / 400)
    assert abs(sim - formula) < 3 * se


@pytest.mark.parametrize(("call", "match"), [
    (lambda: proportions_sample_size(0.3, 1.2), "p_treatment must be a churn rate"),
    (lambda: proportions_sample_size(0.3, 0.3), "no effect to detect"),
    (lambda: proportions_sample_size(0.3, 0.2, alpha=1.5), "alpha must be between"),
    (lambda: proportions_sample_size(0.3, 0.2, power=1.0), "power must be between"),
    (lambda: proportions_sample_size(0.3, 0.2, ratio=0), "ratio .* must be a positive"),
    (lambda: proportions_sample_size(0.3, 0.2, method="exact"), "method must be one of"),
    (lambda: proportions_power(0.3, 0.2, 0), "n_control must be positive"),
    (lambda: logrank_events(1.0), "hazard_ratio must be a positive number other than 1"),
    (lambda: logrank_events(0.7, method="lachin"), "method must be one of"),
    (lambda: logrank_power(0.7, 0.3, -5), "n_control must be positive"),
])
def test_errors(call, match):
    with pytest.raises(ConfigError, match=match):
        call()
