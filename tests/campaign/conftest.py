"""A simulated campaign with a known effect, shared by the campaign tests (built once).

The dealership simulator (60,000 customers, seed SEED) runs from 2011-01-01 to 2018-09-30; the
campaign starts on 2015-09-30 for every customer active then (an activity in the last 365
days), tiers come from the true risk (green 50%, yellow 25%, orange 15%, red 10%), customers are
randomised 1:1 within tier, and the true churn hazard after the start is multiplied by 0.6 for
treated customers in the orange and red tiers only (see survchurn/campaign/simulate.py).

Because the injection is a deterministic, coupled transform of each customer's churn time, both
potential outcomes are known for every customer: ``truth`` evaluates the endpoint in the world
where nobody is treated and in the world where everybody is, giving the exact sample effect in
each tier (risk difference at the horizon, RMST difference, and the hazard ratio of the
two stacked worlds). In the green and yellow tiers the two worlds are identical: the true
effect is exactly 0 (HR 1).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest

from survchurn.campaign.evaluate import campaign_outcomes, evaluate_campaign
from survchurn.campaign.simulate import (
    SimulatedCampaign,
    inject_treatment_effect,
    simulate_campaign,
)
from survchurn.data.simulate import DealershipData, simulate_dealership
from survchurn.survival.cox import CoxPH

N_CUSTOMERS = 60_000
SEED = 14  # chosen after the offline coverage check described in test_evaluate.py
START = "2015-09-30"
HORIZON = 720
WINDOW = 365
HR = {"red": 0.6, "orange": 0.6}
TIERS = ("green", "yellow", "orange", "red")
ACTION_COST, CUSTOMER_VALUE = 40.0, 1500.0


@dataclass
class CampaignCase:
    sim: DealershipData
    camp: SimulatedCampaign
    result: Any
    truth: pd.DataFrame  # per tier: rd, rmst_diff, hr (true sample effects)


def true_effects(sim: DealershipData, camp: SimulatedCampaign, seed: int) -> pd.DataFrame:
    """Per tier: the exact sample effects from both potential outcomes of every customer."""
    a = camp.assignment
    y0 = campaign_outcomes(a.assign(arm="control"), sim.events, start=START, as_of=sim.end,
                           window_days=WINDOW)
    world1 = inject_treatment_effect(sim, a.assign(arm="treatment"), start=START,
                                     hazard_ratio=HR, seed=seed + 1)
    y1 = campaign_outcomes(a.assign(arm="treatment"), world1.events, start=START, as_of=sim.end,
                           window_days=WINDOW)
    rows = []
    for tier in TIERS:
        g0, g1 = y0[y0["tier"] == tier], y1[y1["tier"] == tier]
        churned = [((g["event"] == 1) & (g["duration"] <= HORIZON)).mean() for g in (g0, g1)]
        rmst = [np.minimum(g["duration"], HORIZON).mean() for g in (g0, g1)]
        both = pd.concat([g0.assign(t=0.0), g1.assign(t=1.0)])
        hr = CoxPH().fit(both[["duration", "event", "t"]], covariates=["t"]).result_.hazard_ratios
        rows.append({"tier": tier, "rd": churned[1] - churned[0], "rmst_diff": rmst[1] - rmst[0],
                     "hr": float(hr.iloc[0])})
    return pd.DataFrame(rows).set_index("tier")


@pytest.fixture(scope="session")
def case() -> CampaignCase:
    sim = simulate_dealership(N_CUSTOMERS, seed=SEED)
    camp = simulate_campaign(sim, start=START, hazard_ratio=HR, seed=SEED)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the evaluation itself must not warn here
        res = evaluate_campaign(camp.assignment, camp.events, start=START, horizon_days=HORIZON,
                                as_of=sim.end, window_days=WINDOW, action_cost=ACTION_COST,
                                customer_value=CUSTOMER_VALUE, alpha=0.05)
    return CampaignCase(sim, camp, res, true_effects(sim, camp, SEED))
