"""Jupyter display of result objects: a readable text form and an escaped HTML form.

Every customer id, group label, segment value and covariate name below contains
``<script>alert(1)</script>``; the HTML view must show it as text (escaped), never as markup.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from survchurn._display import Result
from survchurn.churn.active_base import active_base_churn
from survchurn.churn.definitions import InactivityChurn
from survchurn.churn.features import features
from survchurn.churn.kpis import churn_rate_by_period, cohort_retention
from survchurn.churn.lifecycle import assign_stages
from survchurn.churn.migration import churn_types, stage_migration
from survchurn.churn.survival_table import survival_table
from survchurn.churn.window import purchase_cycle, roll_rate
from survchurn.data.eventlog import read_event_log
from survchurn.data.simulate import simulate_dealership
from survchurn.data.validate import read_customer_table
from survchurn.survival.by_stage import stage_survival
from survchurn.survival.cox import CoxPH
from survchurn.survival.cox_diagnostics import cox_zph
from survchurn.survival.kaplan_meier import KaplanMeier
from survchurn.survival.logrank import logrank_test, pairwise_logrank

XSS = "<script>alert(1)</script>"
AS_OF = "2017-09-30"
W = 365


@pytest.fixture(scope="module")
def world():
    d = simulate_dealership(600, seed=11)
    ids = {i: f"{XSS}#{i:04d}" for i in d.customers["customer_id"]}  # every id carries the payload
    events = d.events.assign(customer_id=d.events["customer_id"].map(ids))
    customers = d.customers.assign(customer_id=d.customers["customer_id"].map(ids),
                                   region=d.customers["region"].astype(str).replace("east", XSS))
    elog = read_event_log(events, id_col="customer_id", time_col="date", amount_col="amount",
                          category_col="service_type")
    ctab = read_customer_table(customers, id_col="customer_id", date_cols=["purchase_date"])
    st = survival_table(elog, InactivityChurn(W), AS_OF)
    rng = np.random.default_rng(5)
    table = st.table.assign(segment=np.where(rng.random(len(st.table)) < 0.5, XSS, "plain"),
                            **{XSS: rng.normal(size=len(st.table))})
    return elog, ctab, st, table


def _results(world) -> dict[str, tuple[Result, bool]]:
    """name -> (result, whether the payload must appear, escaped, in its HTML)."""
    elog, ctab, st, table = world
    km = KaplanMeier().fit(table, group_col="segment").result_
    cox = CoxPH().fit(table.loc[table["duration"] > 0, ["duration", "event", XSS]]).result_
    stages = assign_stages(elog, AS_OF, churn_window_days=W)
    return {
        "SurvivalTable": (st, True),
        "KaplanMeierResult": (km, True),
        "LogRankResult": (logrank_test(table, group_col="segment"), True),
        "PairwiseLogRankResult": (pairwise_logrank(table, group_col="segment"), True),
        "CoxResult": (cox, True),
        "ZphResult": (cox_zph(cox), True),
        "FeatureTable": (features(elog, AS_OF), True),
        "PurchaseCycle": (purchase_cycle(elog, as_of=AS_OF, segment_col="region", customers=ctab), True),
        "WindowChoice": (roll_rate(elog, AS_OF, period_days=90, max_periods=8), False),
        "ActiveBaseChurn": (active_base_churn(elog, AS_OF, window_days=W), False),
        "ChurnRates": (churn_rate_by_period(st, freq="QS"), False),
        "CohortRetention": (cohort_retention(st, period_days=90, cohort_freq="Y"), False),
        "StageResult": (stages, False),
        "MigrationResult": (stage_migration(elog, "2017-06-30", AS_OF, churn_window_days=W), False),
        "ChurnTypesResult": (churn_types(elog, ["2017-03-31", "2017-06-30", AS_OF], churn_window_days=W), False),
        "StageSurvival": (stage_survival(elog, "2016-09-30", until=AS_OF, churn_window_days=W), False),
    }


@pytest.fixture(scope="module")
def results(world):
    return _results(world)


NAMES = [
    "SurvivalTable", "KaplanMeierResult", "LogRankResult", "PairwiseLogRankResult", "CoxResult", "ZphResult",
    "FeatureTable", "PurchaseCycle", "WindowChoice", "ActiveBaseChurn", "ChurnRates", "CohortRetention",
    "StageResult", "MigrationResult", "ChurnTypesResult", "StageSurvival",
]


def _check_display(obj: Result, shows_payload: bool) -> None:
    text = repr(obj)
    assert text.strip() and text.startswith("<"), "repr must be a readable text form"
    assert len(text.splitlines()) > 1 and "object at 0x" not in text
    page = obj._repr_html_()
    assert "<table" in page
    assert "<script" not in page.lower(), "unescaped markup in _repr_html_"
    if shows_payload:
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert isinstance(obj.to_frame(), pd.DataFrame)


@pytest.mark.parametrize("name", NAMES)
def test_result_has_text_and_escaped_html(results, name):
    assert set(results) == set(NAMES)
    obj, shows_payload = results[name]
    assert isinstance(obj, Result)
    _check_display(obj, shows_payload)


def _scoring_data(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    months = rng.exponential(8, n)
    plan = rng.choice([XSS, "basic", "plus"], n, p=[0.3, 0.4, 0.3])
    eta = -2.5 + 1.5 * (months > 12) + 1.2 * (plan == XSS)
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    frame = pd.DataFrame({"customer_id": [f"{XSS}{i}" for i in range(n)], "months_since_visit": months,
                          "plan": plan, "noise": rng.normal(size=n)})
    return frame, y


def test_scoring_results_have_text_and_escaped_html():
    from survchurn.scoring.cutoff import choose_cutoff
    from survchurn.scoring.monitoring import population_stability
    from survchurn.scoring.warning_score import build_warning_score

    frame, y = _scoring_data(1500, 3)
    res = build_warning_score(frame, y, method="full", test=0.3, seed=1, exclude=("customer_id",),
                              churn_definition=XSS)
    train_y = pd.Series(y, index=frame.index).loc[res.scores.index]
    objs = {"WarningScoreResult": res, "ScoreReport": res.report, "test ScoreReport": res.test_report,
            "PointsTable": res.points, "ScreeningResult": res.screening, "LogisticResult": res.model,
            "ModelComparison": res.comparison,
            "CutoffResult": choose_cutoff(res.scores, train_y, action_cost=10.0, success_rate=0.3,
                                          value_saved=100.0),
            "StabilityReport": population_stability(frame.iloc[:700], frame.iloc[700:],
                                                    columns=["months_since_visit", "plan"])}
    for name, obj in objs.items():
        assert isinstance(obj, Result), name
        _check_display(obj, shows_payload=False)
    # the level and the churn definition reach the views escaped
    assert "&lt;script&gt;" in res.points._repr_html_()
    assert "&lt;script&gt;" in res._repr_html_()
    assert XSS in repr(res)  # the text view shows the value as it is
