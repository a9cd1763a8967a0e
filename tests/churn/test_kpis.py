"""KPIs: churn rate per period, rate conversion, cohort retention vs lifelines Kaplan-Meier."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter

from survchurn.churn.definitions import InactivityChurn
from survchurn.churn.kpis import churn_rate_by_period, cohort_retention, convert_rate, km_at
from survchurn.churn.survival_table import survival_table
from survchurn.data.cdnow import load_cdnow
from survchurn.data.eventlog import read_event_log
from survchurn.exceptions import ChurnDefinitionError
from survchurn.plotting.churn import plot_cohort_retention


@pytest.fixture(scope="module")
def st():
    log = read_event_log(load_cdnow(), id_col="customer_id", time_col="date")
    return survival_table(log, InactivityChurn(90), "1998-06-30")


def test_convert_rate_compound_and_simple():
    assert convert_rate(0.05, "month", "year") == pytest.approx(1 - 0.95 ** 12, abs=1e-12)
    assert convert_rate(0.05, "month", "year") == pytest.approx(0.4596, abs=1e-4)  # DOMAIN.md: ~46%
    assert convert_rate(0.05, "year", "month") == pytest.approx(0.0042653, abs=1e-6)  # ~0.42%
    assert convert_rate(0.05, "month", "year", method="simple") == pytest.approx(0.6)
    assert convert_rate(0.1, 30, 90) == pytest.approx(1 - 0.9 ** 3)
    np.testing.assert_allclose(convert_rate([0.0, 1.0], "quarter", "year"), [0.0, 1.0])
    with pytest.raises(ChurnDefinitionError, match=r"rate must be a share in \[0, 1\]"):
        convert_rate(1.5)
    with pytest.raises(ChurnDefinitionError, match="from_period='fortnight' is not one of"):
        convert_rate(0.1, "fortnight")
    with pytest.raises(ChurnDefinitionError, match="to_period=-3 must be a period name or a positive number"):
        convert_rate(0.1, "month", -3)
    with pytest.raises(ChurnDefinitionError, match="method='linear'"):
        convert_rate(0.1, method="linear")


def test_churn_rate_by_period_against_hand_count(st):
    rates = churn_rate_by_period(st, "QS").table
    t = st.table
    s, e = pd.Timestamp("1997-07-01"), pd.Timestamp("1997-10-01")
    alive = (t["entry_date"] < s) & ~((t["event"] == 1) & (t["churn_date"] < s))
    lost = alive & (t["event"] == 1) & (t["churn_date"] >= s) & (t["churn_date"] < e)
    row = rates.set_index("period_start").loc[s]
    assert (row["at_start"], row["lost"]) == (alive.sum(), lost.sum())
    assert row["churn_rate"] == pytest.approx(lost.sum() / alive.sum(), abs=1e-15)
    # the last quarter ends 1998-06-30: its churns are known only 90 days later
    assert rates["observable"].tolist()[-2:] == [True, False]
    assert rates["new"].sum() == len(t)
    with pytest.raises(ChurnDefinitionError, match="freq='fortnightly' is not a pandas frequency"):
        churn_rate_by_period(st, "fortnightly")
    with pytest.raises(ChurnDefinitionError, match="churn_rate_by_period needs a SurvivalTable"):
        churn_rate_by_period(t)


def test_cohort_retention_agrees_with_lifelines_kaplan_meier(st):
    cr = cohort_retention(st, period_days=30)
    cohorts = st.table["entry_date"].dt.to_period("M")
    for c, grp in st.table.groupby(cohorts):
        cells = cr.table[cr.table["cohort"] == str(c)]
        kmf = KaplanMeierFitter().fit(grp["duration"], grp["event"])
        ref = kmf.survival_function_at_times(cells["age_days"].to_numpy()).to_numpy()
        # closed-form product-limit both sides: 1e-12
        np.testing.assert_allclose(cells["retention_km"], ref, atol=1e-12)
        clean = cells["censored_before"] == 0
        np.testing.assert_allclose(cells.loc[clean, "retention_km"], cells.loc[clean, "retention_simple"], atol=1e-12)
    m = cr.matrix
    assert m.shape[0] == 3 and np.isnan(m.iloc[-1, -1])
    ax = plot_cohort_retention(cr)
    assert ax.get_ylabel() == "acquisition cohort"
    plt.close("all")


def test_km_at_ties_and_no_events():
    # event and censoring at 2: censored counts at risk at 2 (S(2) = 1 * (1 - 1/3))
    np.testing.assert_allclose(km_at([1, 2, 2, 3], [0, 1, 0, 1], [0, 2, 3]), [1.0, 2 / 3, 0.0])
    np.testing.assert_allclose(km_at([1, 2], [0, 0], [5]), [1.0])


def test_cohort_errors(st):
    with pytest.raises(ChurnDefinitionError, match="period_days must be a positive whole number"):
        cohort_retention(st, period_days=0)
    with pytest.raises(ChurnDefinitionError, match="cohort_freq='bogus'"):
        cohort_retention(st, cohort_freq="bogus")
    with pytest.raises(ChurnDefinitionError, match="plot_cohort_retention takes a CohortRetention"):
        plot_cohort_retention(st)
