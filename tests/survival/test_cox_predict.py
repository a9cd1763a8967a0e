"""Live-customer forecasts from CoxPH: survival curves against R's survfit.coxph.

Tolerance 1e-7 absolute on survival probabilities: they are smooth functions of the
coefficients, which differ from R's by ~1e-8 relative.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survchurn.exceptions import ModelError, SmallGroupWarning
from survchurn.survival.cox import CoxPH
from survchurn.survival.predict import (
    baseline_cumulative_hazard,
    churn_probability,
    expected_churners,
    expected_remaining_lifetime,
    forecast_churners,
    predict_survival,
)

REF = Path(__file__).resolve().parents[1] / "reference"
NEW = pd.DataFrame({"fin": [1], "age": [25], "race": [0], "wexp": [1], "mar": [0], "paro": [1],
                    "prio": [2]})


@pytest.fixture(scope="module")
def rossi():
    return pd.read_csv(REF / "rossi_cox.csv")


@pytest.fixture(scope="module")
def model(rossi):
    return CoxPH().fit(rossi, "week", "arrest")


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_survfit_matches_r(rossi, ties):
    m = CoxPH(ties=ties).fit(rossi, "week", "arrest")
    r = pd.read_csv(REF / "cox_survfit.csv")
    r = r[r["model"] == f"rossi_{ties}"]
    s = predict_survival(m, NEW, r["time"].to_numpy())
    np.testing.assert_allclose(s.to_numpy()[0], r["surv"], atol=1e-7)
    base = baseline_cumulative_hazard(m)
    assert np.all(np.diff(base["cumhaz"]) > 0) and base["surv"].iloc[0] < 1


def test_churn_probability_and_rmst(model, rossi):
    live = rossi.head(5).assign(duration=[0.0, 10, 20, 40, 52])
    p = churn_probability(model, live, 13)
    s = predict_survival(model, live, [0, 10, 20, 40, 52])
    s13 = predict_survival(model, live, [13, 23, 33, 53, 65])
    np.testing.assert_allclose(p, 1 - np.diag(s13.to_numpy()) / np.diag(s.to_numpy()), rtol=1e-12)
    assert p.iloc[4] == 0.0  # no events after week 52: curve is flat
    rmst = expected_remaining_lifetime(model, live, 13)
    grid = np.linspace(0, 13, 26001)  # trapezoid rule on a fine grid (step function: ~1e-3 err)
    for i in range(5):
        row = live.iloc[[i]]
        t0 = row["duration"].iloc[0]
        curve = predict_survival(model, row, t0 + grid).to_numpy()[0]
        curve = curve / predict_survival(model, row, [t0]).to_numpy()[0, 0]
        assert rmst.iloc[i] == pytest.approx(np.trapezoid(curve, grid), abs=2e-3)
    assert rmst.iloc[4] == 13.0


def test_strata_prediction():
    lung = pd.read_csv(REF / "cox_lung.csv")
    m = CoxPH().fit(lung, "time", "event", covariates=["age"], strata="sex")
    s = predict_survival(m, pd.DataFrame({"age": [60, 60], "sex": [1, 2]}), [200.0])
    assert s.iloc[0, 0] < s.iloc[1, 0]  # women (sex = 2) survive longer in the lung data
    with pytest.raises(ModelError, match=r"strata not seen in the fit: 1 rows"):
        predict_survival(m, pd.DataFrame({"age": [60], "sex": [3]}), [200.0])


def test_expected_churners(model, rossi):
    p = churn_probability(model, rossi.assign(duration=20.0), 30)
    out = expected_churners(p, segment=rossi["fin"])
    assert out.loc["all", "expected"] == pytest.approx(p.sum())
    assert out.loc["all", "sd"] == pytest.approx(np.sqrt((p * (1 - p)).sum()))
    assert out.loc[0, "expected"] + out.loc[1, "expected"] == pytest.approx(p.sum())
    assert out.loc["all", "lower"] < out.loc["all", "expected"] < out.loc["all", "upper"]


def test_prediction_errors(model, rossi):
    with pytest.raises(ModelError, match="horizon must be > 0"):
        churn_probability(model, rossi, 0)
    with pytest.raises(ModelError, match="horizon must be > 0"):
        expected_remaining_lifetime(model, rossi, -1)
    with pytest.raises(ModelError, match=r"column 'tenure' \(current tenure"):
        churn_probability(model, rossi, 30, tenure_col="tenure")
    with pytest.raises(ModelError, match=r"tenure must be a number >= 0: 1 rows, e.g. \[0\]"):
        churn_probability(model, rossi.head(2).assign(duration=[-1.0, 2.0]), 30)
    with pytest.raises(ModelError, match=r"lacks covariate columns \['prio'\]"):
        predict_survival(model, NEW.drop(columns="prio"), [10])
    with pytest.raises(ModelError, match=r"in \[0, 1\]"):
        expected_churners([0.2, 1.5])
    with pytest.raises(ModelError, match="one label per probability"):
        expected_churners([0.2, 0.5], segment=[1])
    with pytest.raises(ModelError, match="fitted CoxPH"):
        predict_survival("nope", NEW, [1])


def test_categorical_new_levels():
    d = pd.DataFrame({"duration": np.arange(1, 41, dtype=float), "event": [1, 1, 0, 0, 1] * 8,
                      "plan": ["a", "b", "c", "a"] * 10})
    with pytest.warns(SmallGroupWarning, match="plan=b"):
        m = CoxPH().fit(d)
    s = predict_survival(m, pd.DataFrame({"plan": ["a", "c"]}), [10.0])
    assert s.shape == (2, 1)
    with pytest.raises(ModelError, match=r"column 'plan': levels not seen in the fit: 1 row, e.g. \['z'\]"):
        predict_survival(m, pd.DataFrame({"plan": ["z"]}), [10.0])


def test_linear_predictor_and_basehaz_match_r(model, rossi):
    # R centres continuous covariates at their means and 0/1 ones at 0 (fit$means)
    lp = pd.read_csv(REF / "cox_lp.csv")["lp"].to_numpy()
    np.testing.assert_allclose(model.result_.linear_predictor[:20], lp, atol=1e-7)
    np.testing.assert_allclose(model.result_.predict_log_partial_hazard(rossi.head(20)), lp,
                               atol=1e-7)
    bh = pd.read_csv(REF / "cox_basehaz.csv")
    base = baseline_cumulative_hazard(model)
    ours = np.concatenate([[0.0], base["cumhaz"]])[
        np.searchsorted(base["time"], bh["time"], side="right")]
    np.testing.assert_allclose(ours, bh["hazard"], rtol=1e-6)


def test_forecast_churners_with_model_uncertainty(model, rossi):
    live = rossi.assign(duration=20.0)
    plain = forecast_churners(model, live, 30, segment_col="fin", n_draws=0)
    ref = expected_churners(churn_probability(model, live, 30), segment=rossi["fin"])
    np.testing.assert_allclose(plain["expected"], ref["expected"])
    np.testing.assert_allclose(plain["sd"], ref["sd"])
    assert (plain["sd_model"] == 0).all()
    a = forecast_churners(model, live, 30, segment_col="fin", n_draws=100, seed=7)
    b = forecast_churners(model, live, 30, segment_col="fin", n_draws=100, seed=7)
    pd.testing.assert_frame_equal(a, b)  # seeded
    assert (a["sd_model"] > 0).all() and (a["sd"] > a["sd_bernoulli"]).all()
    np.testing.assert_allclose(a["sd"] ** 2, a["sd_bernoulli"] ** 2 + a["sd_model"] ** 2)
    # a segment's count is far less certain than the in-sample total, which the refitted
    # baseline pins to the observed number of events
    assert a.loc[0, "sd_model"] > 3 * a.loc["all", "sd_model"]
