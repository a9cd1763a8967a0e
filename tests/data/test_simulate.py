"""Tests of the dealership simulator: determinism, shape, documented truth, Cox recovery."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from survchurn.data.simulate import STAGES, DealershipData, HazardSpec, simulate_dealership
from survchurn.exceptions import ConfigError
from survchurn.survival.cox import CoxPH


@pytest.fixture(scope="module")
def sim() -> DealershipData:
    return simulate_dealership(5_000, seed=7)


def test_same_seed_same_data_other_seed_differs():
    a = simulate_dealership(800, seed=11)
    b = simulate_dealership(800, seed=11)
    c = simulate_dealership(800, seed=12)
    pd.testing.assert_frame_equal(a.customers, b.customers)
    pd.testing.assert_frame_equal(a.events, b.events)
    pd.testing.assert_frame_equal(a.truth.customers, b.truth.customers)
    assert not a.events["amount"].equals(c.events["amount"].iloc[: len(a.events)])
    assert not np.array_equal(a.truth.customers["churn_days"], c.truth.customers["churn_days"])


def test_customer_table_has_the_case_shape(sim):
    cust = sim.customers
    assert len(cust) == 5_000 and cust["customer_id"].is_unique
    continuous = ["age", "car_price", "loan_amount", "distance_km"]
    categorical = [c for c in cust.columns if isinstance(cust[c].dtype, pd.CategoricalDtype)]
    assert all(pd.api.types.is_numeric_dtype(cust[c]) for c in continuous)
    assert len(categorical) == 11
    assert cust["region"].nunique() == 5
    np.testing.assert_allclose(cust["loan_ratio"], cust["loan_amount"] / cust["car_price"])
    assert cust["loan_ratio"].between(0, 1).all()
    assert ((cust["loan_amount"] > 0) == (cust["payment_method"] == "loan")).all()


def test_event_log_is_tidy_and_inside_the_window(sim):
    ev = sim.events
    assert list(ev.columns) == ["customer_id", "date", "amount", "service_type"]
    assert ev["date"].between(sim.start, sim.end).all()
    assert (ev["amount"] > 0).all()
    key = ev["customer_id"].to_numpy() * 10**6 + (ev["date"] - sim.start).dt.days.to_numpy()
    assert np.all(np.diff(key) >= 0), "sorted by customer and date"
    first = ev.groupby("customer_id").first()
    assert (first["service_type"] == "delivery").all()
    pd.testing.assert_series_equal(
        first["date"], sim.customers.set_index("customer_id")["purchase_date"], check_names=False
    )
    # No visit after the true churn date.
    churn = sim.truth.customers.set_index("customer_id")["churn_date"]
    last = ev.groupby("customer_id")["date"].max()
    assert (last <= churn.reindex(last.index).fillna(pd.Timestamp.max)).all()


def test_truth_stages_and_churn_types(sim):
    stages = sim.truth.stages_at("2016-12-31")
    assert set(stages.unique()) == set(STAGES)
    assert len(stages) == int((sim.customers["purchase_date"] <= "2016-12-31").sum())
    tc = sim.truth.customers
    churned = tc["churn_date"] <= sim.end
    assert tc.loc[churned, "churn_type"].isin(["new", "growth", "mature", "decline"]).all()
    assert tc.loc[~churned, "churn_type"].isna().all()
    # Golden customers who churn after turning mature mostly churn suddenly (no decline).
    reached = churned & tc["golden"] & (tc["mature_from"] <= tc["churn_date"])
    assert (tc.loc[reached, "churn_type"] == "mature").mean() > 0.6
    assert (tc.loc[churned & ~tc["golden"], "churn_type"] == "mature").mean() == 0
    # Everybody who churned is churned in the truth at the end.
    assert (sim.truth.stages_at(sim.end)[tc.loc[churned, "customer_id"]] == "churned").all()


def test_describe_states_the_hazard(sim):
    text = sim.describe()
    assert "h(t|x)" in text and "Weibull" in text
    for name in sim.truth.coefficients:
        assert name in text


def test_risk_scale_multiplies_the_coefficients():
    hz = HazardSpec(risk_scale=1.5)
    assert hz.coefficients()["loan_ratio"] == pytest.approx(1.5)


def test_riskiest_two_percent_churn_heavily():
    # The dealership shape: a small group (top 2% of true risk) where most customers churn.
    sim = simulate_dealership(20_000, seed=3)
    sf = sim.truth.survival_frame(sim.end)
    coef = sim.truth.coefficients
    eta = sf[list(coef)].to_numpy() @ np.array(list(coef.values()))
    top = eta >= np.quantile(eta, 0.98)
    assert 0.6 < sf.loc[top, "event"].mean() < 0.9
    assert 0.15 < sf["event"].mean() < 0.35


def test_cox_fit_recovers_true_coefficients():
    """A Cox fit on 30,000 simulated customers is within 3 standard errors of the truth.

    Tolerance: 3 SE per coefficient is the sampling error of the estimate (the model is the
    true one, so only sampling noise separates the fit from the truth).
    """
    lifelines = pytest.importorskip("lifelines")
    sim = simulate_dealership(30_000, seed=2024)
    sf = sim.truth.survival_frame(sim.end).drop(columns="customer_id")
    cph = lifelines.CoxPHFitter().fit(sf, duration_col="duration", event_col="event")
    summary = cph.summary
    truth = pd.Series(sim.truth.coefficients)
    z = (summary["coef"] - truth[summary.index]) / summary["se(coef)"]
    assert set(summary.index) == set(truth.index)
    assert (z.abs() < 3).all(), z.to_dict()
    # survchurn's own CoxPH gives the same fit (same partial likelihood, Efron ties): 1e-4.
    own = CoxPH().fit(sf, duration_col="duration", event_col="event").result_.to_frame()
    np.testing.assert_allclose(own.loc[summary.index, "coef"], summary["coef"], atol=1e-4)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_customers": 0}, "n_customers must be a positive integer"),
        ({"n_customers": 2.5}, "n_customers must be a positive integer"),
        ({"n_customers": 10, "start": "2018-01-01", "end": "2017-01-01"}, "must be after start"),
    ],
)
def test_bad_settings_raise(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        simulate_dealership(**kwargs)
