"""cox_zph against R's survival 3.5-3 cox.zph (tests/reference/cox_reference.R).

Tolerance: chi-squares 1e-5 relative. The statistics are exact functions of the coefficients;
R stops Newton at a relative log-likelihood change of 1e-9, so its coefficients (and hence the
statistics) differ from the exact optimum by ~1e-7 relative.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survchurn.exceptions import ModelError, ProportionalHazardsWarning
from survchurn.survival.cox import CoxPH
from survchurn.survival.cox_diagnostics import check_proportional_hazards, cox_zph

REF = Path(__file__).resolve().parents[1] / "reference"


@pytest.fixture(scope="module")
def fits():
    d = pd.read_csv(REF / "rossi_cox.csv")
    lung = pd.read_csv(REF / "cox_lung.csv")
    lung["ph.ecog"] = lung["ph.ecog"].astype(str)
    heart = pd.read_csv(REF / "cox_heart.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {
            "rossi_efron": CoxPH().fit(d, "week", "arrest"),
            "rossi_breslow": CoxPH(ties="breslow").fit(d, "week", "arrest"),
            "lung_strata": CoxPH().fit(lung, "time", "event", covariates=["age", "ph.ecog"],
                                       strata="sex"),
            "heart": CoxPH().fit(heart, "stop", "event", entry_col="start",
                                 covariates=["age", "year", "surgery", "transplant"]),
            "entry_strata": CoxPH().fit(pd.read_csv(REF / "cox_entry_strata.csv"),
                                        entry_col="entry", strata="g", covariates=["x"]),
        }


REF_ZPH = pd.read_csv(REF / "cox_zph.csv")


@pytest.mark.parametrize(("model", "transform"),
                         sorted(set(zip(REF_ZPH["model"], REF_ZPH["transform"], strict=True))))
def test_zph_matches_r(fits, model, transform):
    r = REF_ZPH[(REF_ZPH["model"] == model) & (REF_ZPH["transform"] == transform)].set_index("term")
    ours = cox_zph(fits[model], transform=transform).table
    assert list(ours.index) == list(r.index)  # ph.ecog's 3 columns tested together, df 3
    np.testing.assert_allclose(ours["chisq"], r["chisq"], rtol=1e-5)
    np.testing.assert_array_equal(ours["df"], r["df"])
    np.testing.assert_allclose(ours["p"], r["p"], rtol=1e-4)


def test_scaled_schoenfeld_residuals_match_r(fits):
    r = pd.read_csv(REF / "cox_zph_resid.csv")
    z = cox_zph(fits["rossi_efron"].result_)
    np.testing.assert_allclose(z.x, r["x"], atol=1e-12)
    np.testing.assert_allclose(z.time, r["time"])
    np.testing.assert_allclose(z.residuals.to_numpy(), r.iloc[:, 2:].to_numpy(), atol=1e-6)


def test_warning_and_advice(fits):
    with pytest.warns(ProportionalHazardsWarning, match=r"\['age', 'wexp'\].*stratify.*time interaction"):
        z = check_proportional_hazards(fits["rossi_efron"])
    assert z.to_frame().loc["age", "violated"]
    assert "advice" in repr(z)


def test_no_warning_when_ph_holds(fits):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        z = check_proportional_hazards(fits["rossi_efron"], alpha=0.001)
    assert z.advice == ""


def test_errors(fits):
    with pytest.raises(ModelError, match="transform must be one of"):
        cox_zph(fits["rossi_efron"], transform="sqrt")
    with pytest.raises(ModelError, match="needs a fitted CoxPH"):
        cox_zph("model")
