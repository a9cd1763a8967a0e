"""Survival metrics against brute-force O(n^2) definitions and R's concordance().

Harrell's C: R values for the Cox fits are checked in test_cox.py (1e-6); here the fast counting
is compared with a literal double loop on data with ties in time and risk, strata and late
entry (exact counts). IPCW metrics: compared with literal implementations of the formulas in
scikit-survival's documentation (1e-12: same arithmetic, different summation order).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survchurn.exceptions import ModelError
from survchurn.survival.metrics import (
    brier_score,
    calibration_at_horizon,
    censoring_survival,
    concordance_index,
    cumulative_dynamic_auc,
    integrated_brier_score,
    uno_concordance,
)

REF = Path(__file__).resolve().parents[1] / "reference"


def _data(n=150, seed=0):
    rng = np.random.default_rng(seed)
    t = rng.integers(1, 30, n).astype(float)  # many tied times
    e = rng.integers(0, 2, n)
    r = rng.integers(0, 12, n).astype(float)  # many tied risks
    s = np.floor(rng.uniform(0, 1, n) * t * 0.8)
    g = rng.integers(0, 3, n)
    return t, e, r, s, g


def brute_harrell(t, e, r, s=None, g=None):
    n = t.size
    c = d = tx = 0
    for i in range(n):
        if not e[i]:
            continue
        for j in range(n):
            if i == j or (g is not None and g[i] != g[j]):
                continue
            later = t[j] > t[i] or (t[j] == t[i] and not e[j])
            entered = s is None or s[j] < t[i]
            if later and entered:
                if r[i] > r[j]:
                    c += 1
                elif r[i] < r[j]:
                    d += 1
                else:
                    tx += 1
    return c, d, tx


@pytest.mark.parametrize(("use_entry", "use_strata"), [(False, False), (True, False), (False, True),
                                                       (True, True)])
def test_harrell_counts_exact(use_entry, use_strata):
    t, e, r, s, g = _data()
    res = concordance_index(t, r, e, entry=s if use_entry else None,
                            strata=g if use_strata else None)
    c, d, tx = brute_harrell(t, e, r, s if use_entry else None, g if use_strata else None)
    assert tuple(res.counts[["concordant", "discordant", "tied.x"]]) == (c, d, tx)
    assert res.concordance == pytest.approx((c + tx / 2) / (c + d + tx), abs=1e-12)
    assert 0 < res.std < 0.2
    assert "concordance" in res.to_frame().columns and "std" in repr(res)


def test_harrell_large_is_fast_enough_and_perfect_scores():
    rng = np.random.default_rng(1)
    t = rng.exponential(size=50_000)
    res = concordance_index(t, -t, np.ones_like(t))
    assert res.concordance == pytest.approx(1.0)


def brute_uno(t, e, r, tau, G):
    num = den = 0.0
    for i in range(t.size):
        if not e[i] or t[i] >= tau:
            continue
        w = 1 / G(np.array([t[i]]))[0] ** 2
        for j in range(t.size):
            if t[i] < t[j]:
                den += w
                num += w * (1.0 if r[i] > r[j] else 0.5 if r[i] == r[j] else 0.0)
    return num / den


def test_uno_matches_definition():
    t, e, r, _, _ = _data(120, seed=2)
    G = censoring_survival(t, e)
    assert uno_concordance(t, r, e, tau=20) == pytest.approx(brute_uno(t, e, r, 20, G), rel=1e-12)
    assert uno_concordance(t, r, e) == pytest.approx(brute_uno(t, e, r, np.inf, G), rel=1e-12)


def test_censoring_km_left_limit():
    t = np.array([1.0, 2, 2, 3, 4])
    e = np.array([1, 0, 1, 0, 1])
    G = censoring_survival(t, e)
    # censorings: at 2 (4 at risk) and 3 (2 at risk): G(2-) = 1, G(3-) = 3/4, G(4-) = 3/8
    np.testing.assert_allclose(G([1, 2, 3, 4]), [1, 1, 0.75, 0.375])
    np.testing.assert_allclose(G.right([2, 3]), [0.75, 0.375])


def test_auc_matches_definition():
    t, e, r, _, _ = _data(100, seed=3)
    G = censoring_survival(t, e)
    auc = cumulative_dynamic_auc(t, r, e, [5, 15])
    for tt in (5.0, 15.0):
        num = den = 0.0
        for i in range(t.size):
            if e[i] and t[i] <= tt:
                w = 1 / G(np.array([t[i]]))[0]
                ctrl = r[t > tt]
                num += w * ((r[i] > ctrl).sum() + 0.5 * (r[i] == ctrl).sum())
                den += w * ctrl.size
        assert auc[tt] == pytest.approx(num / den, rel=1e-12)
    assert np.isnan(cumulative_dynamic_auc(t, r, e, [0.5]).iloc[0])


def test_brier_and_ibs():
    t, e, _, _, _ = _data(100, seed=4)
    rng = np.random.default_rng(5)
    times = np.array([5.0, 10.0, 20.0])
    S = rng.uniform(size=(t.size, times.size))
    bs = brier_score(t, e, S, times)
    G = censoring_survival(t, e)
    for k, tt in enumerate(times):
        val = 0.0
        for i in range(t.size):
            if e[i] and t[i] <= tt:
                val += S[i, k] ** 2 / G(np.array([t[i]]))[0]
            elif t[i] > tt:
                val += (1 - S[i, k]) ** 2 / G.right(np.array([tt]))[0]
        assert bs[tt] == pytest.approx(val / t.size, rel=1e-12)
    ibs = integrated_brier_score(t, e, S, times)
    assert ibs == pytest.approx(np.trapezoid(bs.to_numpy(), times) / 15.0)
    # perfect knowledge without censoring gives 0
    t2 = np.arange(1.0, 11.0)
    perfect = (t2[:, None] > times[None, :2]).astype(float)
    assert brier_score(t2, np.ones(10), perfect, times[:2]).max() == 0.0
    with pytest.raises(ModelError, match="at least 2 increasing times"):
        integrated_brier_score(t, e, S[:, :1], times[:1])


def test_calibration_table():
    from survchurn.survival.cox import CoxPH
    from survchurn.survival.predict import churn_probability

    d = pd.read_csv(REF / "rossi_cox.csv")
    m = CoxPH().fit(d, "week", "arrest")
    p = churn_probability(m, d.assign(duration=0.0), 52)
    cal = calibration_at_horizon(d["week"], d["arrest"], p, 52, n_bins=5)
    assert list(cal.columns) == ["n", "events", "predicted", "observed", "observed_lower",
                                 "observed_upper"]
    assert cal["n"].sum() == len(d) and cal["events"].sum() == d["arrest"].sum()
    assert cal["predicted"].is_monotonic_increasing
    # in-sample: average predicted churn equals the KM churn within a few points
    assert abs(cal["predicted"].mean() - cal["observed"].mean()) < 0.03
    with pytest.raises(ModelError, match="same length"):
        calibration_at_horizon([1.0], [1], [0.1, 0.2], 10)


def test_metric_errors():
    with pytest.raises(ModelError, match="same length"):
        concordance_index([1, 2], [0.1], [1, 0])
    with pytest.raises(ModelError, match=r"NaN or infinite values: 1 rows, e.g. positions \[1\]"):
        concordance_index([1, np.nan], [0.1, 0.2], [1, 0])
    with pytest.raises(ModelError, match="event must be 0"):
        concordance_index([1, 2], [0.1, 0.2], [1, 3])
    with pytest.raises(ModelError, match="no comparable pairs"):
        concordance_index([1, 2], [0.1, 0.2], [0, 0])
