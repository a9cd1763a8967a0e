"""Forest and proportional-hazards plots on the Agg backend, and their data frames."""

from __future__ import annotations

import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from survchurn.exceptions import ModelError
from survchurn.plotting.forest import forest_table, plot_forest
from survchurn.plotting.ph import plot_schoenfeld, schoenfeld_frame
from survchurn.survival.cox import CoxPH
from survchurn.survival.cox_diagnostics import cox_zph

REF = Path(__file__).resolve().parents[1] / "reference"


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def lung_result():
    d = pd.read_csv(REF / "cox_lung.csv")
    d["ph.ecog"] = d["ph.ecog"].astype(str)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return CoxPH().fit(d, "time", "event", covariates=["age", "ph.ecog", "sex"]).result_


def test_forest_table(lung_result):
    tab = forest_table(lung_result)
    assert list(tab["label"]) == ["age", "ph.ecog: 0", "ph.ecog: 1", "ph.ecog: 2", "ph.ecog: 3",
                                  "sex"]
    ref = tab[tab["reference"]].iloc[0]
    assert ref["hr"] == 1.0 and ref["hr_text"] == "reference" and np.isnan(ref["p"])
    row = tab.set_index("label").loc["ph.ecog: 2"]
    s = lung_result.to_frame().loc["ph.ecog[2]"]
    assert row["hr"] == pytest.approx(s["exp(coef)"])
    assert row["hr_text"] == f"{s['exp(coef)']:.2f} ({s['exp(coef) lower 95%']:.2f}-" \
                             f"{s['exp(coef) upper 95%']:.2f})"
    assert tab["n"].iloc[1:5].sum() == lung_result.n


def test_plot_forest_returns_axes_in_grid(lung_result):
    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    ax = plot_forest(lung_result, ax=axes[0])
    assert ax is axes[0]
    assert ax.get_xscale() == "log"
    texts = [t.get_text() for t in ax.texts]
    assert "HR (95% CI)" in texts and "reference" in texts
    assert [t.get_text() for t in ax.get_yticklabels()][0] == "age"
    plt.figure()
    assert plot_forest(lung_result) is plt.gca()


def test_schoenfeld_plot_and_frame():
    d = pd.read_csv(REF / "rossi_cox.csv")
    z = cox_zph(CoxPH().fit(d, "week", "arrest"))
    df = schoenfeld_frame(z, "age")
    assert len(df) == d["arrest"].sum() and df["x"].is_monotonic_increasing
    np.testing.assert_allclose(np.sort(df["residual"]), np.sort(z.residuals["age"]))
    fig, ax = plt.subplots()
    assert plot_schoenfeld(z, "age", ax=ax) is ax
    assert "p = " in ax.get_title()
    with pytest.raises(ModelError, match="column 'nope' not in the model"):
        schoenfeld_frame(z, "nope")


def test_forest_labels(lung_result):
    tab = forest_table(lung_result, labels={"ph.ecog": "ECOG score", "age": "Age (years)"})
    assert list(tab["label"][:3]) == ["Age (years)", "ECOG score: 0", "ECOG score: 1"]
    assert tab["label"].iloc[-1] == "sex"  # not in labels: shown by name
    fig, ax = plt.subplots()
    plot_forest(lung_result, ax=ax, labels={"sex": "Sex"})
    assert [t.get_text() for t in ax.get_yticklabels()][-1] == "Sex"
