"""The simulated campaign: coupling of the potential churn times, and its errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from survchurn.campaign.simulate import campaign_tiers, inject_treatment_effect
from survchurn.exceptions import ConfigError

from .conftest import START


def test_injection_is_coupled_and_only_where_asked(case):
    truth, sim = case.camp.truth, case.sim
    null = truth["tier"].isin(["green", "yellow"])
    assert (truth.loc[null, "churn_date_treated"].fillna(pd.Timestamp.max)
            == truth.loc[null, "churn_date_control"].fillna(pd.Timestamp.max)).all()
    hit = ~null & (truth["churn_date_control"] > pd.Timestamp(START))
    later = truth.loc[hit, "churn_date_treated"].fillna(pd.Timestamp.max) >= \
        truth.loc[hit, "churn_date_control"]
    assert later.all()
    # nothing changes before the start, and control customers keep their service log
    ev, orig = case.camp.events, sim.events
    before = ev[ev["date"] <= pd.Timestamp(START)]
    assert len(before) == (orig["date"] <= pd.Timestamp(START)).sum()
    ctrl = truth.loc[truth["arm"] == "control", "customer_id"]
    a = ev[ev["customer_id"].isin(ctrl)].reset_index(drop=True)
    b = orig[orig["customer_id"].isin(ctrl)].reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
    # tiers: 50 / 25 / 15 / 10 percent of the active customers
    share = case.camp.assignment["tier"].value_counts(normalize=True)
    assert np.allclose(share[["green", "yellow", "orange", "red"]], [0.5, 0.25, 0.15, 0.1], atol=2e-3)


def test_errors(case):
    sim = case.sim
    with pytest.raises(ConfigError, match="start 2030-01-01 must be inside the simulated window"):
        campaign_tiers(sim, "2030-01-01")
    with pytest.raises(ConfigError, match="4 tiers need 3 cuts, got 2"):
        campaign_tiers(sim, START, cuts=(0.5, 0.9))
    with pytest.raises(ConfigError, match="hazard ratios must be positive"):
        inject_treatment_effect(sim, case.camp.assignment, start=START, hazard_ratio={"red": -1},
                                seed=1)
