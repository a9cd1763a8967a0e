"""Churn definitions: descriptions, JSON round trip, validation messages."""

from __future__ import annotations

import json

import pytest

from survchurn.churn.definitions import (
    ChurnDefinition,
    ContractualChurn,
    InactivityChurn,
    PartialChurn,
)
from survchurn.exceptions import ChurnDefinitionError


@pytest.mark.parametrize("definition", [
    InactivityChurn(90), InactivityChurn(30, lapse="first"),
    ContractualChurn("end", "reason", involuntary_reasons=("fraud", "non-payment"), start_col="start"),
    PartialChurn(60, 0.3, measure="amount", min_baseline_periods=2),
])
def test_round_trip_and_describe(definition):
    data = json.loads(json.dumps(definition.to_dict()))
    assert ChurnDefinition.from_dict(data) == definition
    assert str(definition) == definition.describe() and len(definition.describe()) > 30


def test_descriptions_name_the_settings():
    assert "W = 90 days" in InactivityChurn(90).describe()
    assert "first activity in the history" in InactivityChurn(90, lapse="first").describe()
    assert "'fraud'" not in ContractualChurn("end").describe()
    assert "(fraud) in 'why' are involuntary" in ContractualChurn("end", "why", ("fraud",)).describe()
    assert "below 0.5 x the customer's own mean" in PartialChurn(90, 0.5).describe()


def test_definition_errors():
    with pytest.raises(ChurnDefinitionError, match="window_days must be a positive whole number of days, got 0"):
        InactivityChurn(0)
    with pytest.raises(ChurnDefinitionError, match="window_days must be a positive whole number of days, got 30.5"):
        InactivityChurn(30.5)
    with pytest.raises(ChurnDefinitionError, match="lapse must be 'last' or 'first'"):
        InactivityChurn(30, lapse="middle")
    with pytest.raises(ChurnDefinitionError, match="end_col must name the end-date column"):
        ContractualChurn("")
    with pytest.raises(ChurnDefinitionError, match=r"not one string. Fix: involuntary_reasons=\('fraud',\)"):
        ContractualChurn("end", "why", involuntary_reasons="fraud")
    with pytest.raises(ChurnDefinitionError, match="involuntary_reasons needs reason_col="):
        ContractualChurn("end", involuntary_reasons=("fraud",))
    with pytest.raises(ChurnDefinitionError, match=r"share must be in \(0, 1\], got 1.5"):
        PartialChurn(30, 1.5)
    with pytest.raises(ChurnDefinitionError, match="measure must be 'events' or 'amount'"):
        PartialChurn(30, 0.5, measure="visits")
    with pytest.raises(ChurnDefinitionError, match="period_days must be a positive whole number"):
        PartialChurn(-1)
    with pytest.raises(ChurnDefinitionError, match="unknown churn definition kind 'magic'"):
        ChurnDefinition.from_dict({"kind": "magic"})
    with pytest.raises(ChurnDefinitionError, match="bad settings for inactivity churn"):
        ChurnDefinition.from_dict({"kind": "inactivity", "days": 3})
