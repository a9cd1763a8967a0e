"""Warning score on the dealership simulator (survchurn.data.simulate), whose truth is known.

Label: churned within two years of the purchase (true churn time), for customers bought at
least two years before the end of the window. True hazard covariates: car price (and its
segment), loan ratio, distance, age, region, channel, extended warranty; gender, fuel type,
insurance with dealer, membership, occupation, marital status carry no signal.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from survchurn.data.simulate import HazardSpec, simulate_dealership
from survchurn.scoring.candidates import CandidateBuilder
from survchurn.scoring.warning_score import build_warning_score

TRUTH = {"car_price", "car_segment", "loan_ratio", "loan_amount", "payment_method", "distance_km", "age",
         "region", "channel", "extended_warranty"}
STRONG = {"loan_ratio", "distance_km", "region", "channel"}
NOISE = {"gender", "fuel_type", "insurance_with_dealer", "membership", "occupation", "marital_status"}


@pytest.fixture(scope="module")
def fitted():
    sim = simulate_dealership(8000, seed=3, hazard=HazardSpec(risk_scale=1.5))
    c = sim.customers.merge(sim.truth.customers[["customer_id", "churn_days"]], on="customer_id")
    c = c[c["purchase_date"] <= sim.end - pd.Timedelta(days=730)]
    y = (c["churn_days"] <= 730).astype(int).to_numpy()
    X = c.drop(columns=["churn_days"])
    res = build_warning_score(X, y, method="lasso", test=0.3, seed=1, compare=False,
                              candidates=CandidateBuilder(exclude=("customer_id", "purchase_date")))
    return res


def test_simulator_score_report_has_dealership_shape(fitted):
    for rep in (fitted.report, fitted.test_report):
        t = rep.table
        big = t[t["customers"] >= 30]
        assert (np.diff(big["churn_rate"].to_numpy()) > 0).all()  # churn rate rises with the score
        top = t.loc[t.index.max()]
        assert top["share"] < 0.03  # the top band is small ...
        assert top["churn_rate"] > 2.5 * rep.n_churned / rep.n  # ... and high-risk


def test_simulator_selection_finds_the_truth(fitted):
    groups = fitted.builder.groups_
    selected = {groups[c] for c in fitted.selection.selected}
    assert STRONG <= selected
    assert len(selected & NOISE) <= 2  # lambda.1se may let a weak noise group in ...
    with_points = set(fitted.points.to_frame().query("points > 0")["group"])
    assert with_points and with_points <= TRUTH  # ... but only true risk factors earn points
