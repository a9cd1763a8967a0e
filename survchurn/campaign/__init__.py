"""Stage 5: retention campaigns: stratified assignment, power, and evaluation on survival endpoints."""

from survchurn.campaign.design import CampaignAssignment, assign_campaign
from survchurn.campaign.evaluate import campaign_outcomes, evaluate_campaign, evaluate_outcomes
from survchurn.campaign.power import (
    SampleSize,
    logrank_events,
    logrank_power,
    logrank_sample_size,
    proportions_power,
    proportions_sample_size,
    treated_churn_from_hr,
)
from survchurn.campaign.results import CampaignResult, heterogeneity
from survchurn.campaign.simulate import (
    SimulatedCampaign,
    campaign_tiers,
    inject_treatment_effect,
    simulate_campaign,
)

__all__ = [
    "CampaignAssignment",
    "CampaignResult",
    "SampleSize",
    "SimulatedCampaign",
    "assign_campaign",
    "campaign_outcomes",
    "campaign_tiers",
    "evaluate_campaign",
    "evaluate_outcomes",
    "heterogeneity",
    "inject_treatment_effect",
    "logrank_events",
    "logrank_power",
    "logrank_sample_size",
    "proportions_power",
    "proportions_sample_size",
    "simulate_campaign",
    "treated_churn_from_hr",
]
