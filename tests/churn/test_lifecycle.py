"""Lifecycle stages, stage migration, churn types and survival by stage.

Acceptance (issue #4): on the dealership simulator the assigned stage matches the true stage for
at least 85% of customers and the KM curves by stage come out in the designed order; on CDNOW
the stage tables at four quarter ends and the migration matrices between them conserve
customers.
"""

from __future__ import annotations

import matplotlib.pyplot as plt  # the Agg backend is set in tests/conftest.py
import numpy as np
import pandas as pd
import pytest

from survchurn.churn.lifecycle import (
    STAGE_ORDER,
    StageResult,
    StageRules,
    assign_stages,
    prepare_events,
)
from survchurn.churn.migration import (
    CHURN_TYPES,
    NOT_YET,
    churn_types,
    stage_migration,
    stage_survival_table,
)
from survchurn.data.cdnow import load_cdnow
from survchurn.data.simulate import simulate_dealership
from survchurn.exceptions import ChurnDefinitionError, ConfigError, DataError
from survchurn.plotting.lifecycle import plot_stage_migration, plot_stage_survival
from survchurn.survival.by_stage import stage_survival

CDNOW_DATES = ["1997-09-30", "1997-12-31", "1998-03-31", "1998-06-30"]
SIM_COLS = {"amount_col": "amount", "category_col": "service_type"}


@pytest.fixture(scope="module")
def sim():
    return simulate_dealership(20_000, seed=5)


@pytest.fixture(scope="module")
def sim_prepared(sim):
    return prepare_events(sim.events, **SIM_COLS)


@pytest.fixture(scope="module")
def cdnow():
    return prepare_events(load_cdnow(), amount_col="amount")


def _accuracy(result: StageResult, truth: pd.Series) -> float:
    assigned = result.customers.set_index("customer_id")["stage"].astype(str)
    return float((assigned == truth.reindex(assigned.index)).mean())


# -- acceptance: the simulator ---------------------------------------------------------------
@pytest.mark.parametrize("as_of", ["2016-12-31", "2018-09-30"])
def test_assigned_stage_matches_truth_on_simulator(sim, sim_prepared, as_of):
    """>= 85% of customers get their true stage (measured: 88.4% and 89.2%).

    The truth is the latent regime (e.g. churned from the true churn time), so the rules can
    only see it with a lag: recently churned customers still look active until W days pass.
    """
    result = assign_stages(sim_prepared, as_of)
    truth = sim.truth.stages_at(as_of)
    assert len(result.customers) == len(truth)
    assert _accuracy(result, truth) >= 0.85


def test_stage_rules_without_categories_still_find_golden_customers(sim):
    """Without a category column the top band of frequency and value stands in for
    cross-purchase; it is weaker (measured 82%), so the bar here is 80%."""
    result = assign_stages(sim.events, "2018-09-30", amount_col="amount")
    assert result.rules["mature_rule"] == "top_band"
    assert _accuracy(result, sim.truth.stages_at("2018-09-30")) >= 0.80
    assert any("band score" in line for line in result.rules_text())


def test_km_by_stage_in_designed_order(sim_prepared):
    """Mature customers churn least, then growth, new, and decline the most (by construction:
    golden customers have hazard ratio e^-1, the hazard falls with tenure, and a decline phase
    ends in churn)."""
    surv = stage_survival(sim_prepared, "2016-09-30")
    churn_1y = surv.rates["churn_by_365d"]
    assert list(churn_1y.index) == ["new", "growth", "mature", "decline"]
    assert churn_1y["mature"] < churn_1y["growth"] < churn_1y["new"] < churn_1y["decline"]
    assert surv.rates.loc["mature", "churn_by_180d"] < surv.rates.loc["decline", "churn_by_180d"]
    assert surv.logrank is not None and surv.logrank.p_value < 1e-10
    assert "log-rank" in repr(surv)


def test_churn_types_match_the_true_stage_at_the_last_visit(sim, sim_prepared):
    """Measured: 78% agreement overall; trial failures and sudden golden churn are found
    almost always; a fade is often typed "growth" because its last gap (2x the usual, by
    design) does not always cross the decline threshold (~2x)."""
    types = churn_types(sim_prepared, ["2015-12-31", "2016-12-31", "2017-12-31"])
    c = types.customers
    truth = c["customer_id"].map(sim.truth.customers.set_index("customer_id")["churn_type"])
    known = (
        truth.notna()
    )  # churned by the rules (W days of silence) but not truly churned: left out
    got, want = c.loc[known, "stage_at_last_visit"].to_numpy(), truth[known].to_numpy()
    assert known.mean() > 0.75
    assert (got == want).mean() > 0.75
    assert (got[want == "new"] == "new").mean() > 0.95
    assert (got[want == "mature"] == "mature").mean() > 0.8
    table = types.to_frame()
    assert set(table["churn_type"]) == set(CHURN_TYPES.values())
    shares = table.groupby("period_end")["share"].sum()
    np.testing.assert_allclose(shares, 1.0)
    assert types.pivot("share").shape == (2, 4)
    assert "gradual fade" in repr(types)


# -- acceptance: CDNOW ---------------------------------------------------------------------
def test_cdnow_stage_tables_and_migrations_conserve_customers(cdnow):
    """Exact integer conservation: rows sum to the earlier table, columns to the later one."""
    tables = {d: assign_stages(cdnow, d) for d in CDNOW_DATES}
    for d, t in tables.items():
        assert int(t.counts().sum()) == len(t.customers) == 23_570, d
    for a, b in zip(CDNOW_DATES[:-1], CDNOW_DATES[1:], strict=True):
        m = stage_migration(cdnow, a, b)
        earlier = stage_migration(cdnow, a, b).from_result.counts()
        later = m.to_result.counts()
        rows = m.counts.sum(axis=1)
        pd.testing.assert_series_equal(rows.drop(NOT_YET), earlier, check_names=False)
        pd.testing.assert_series_equal(m.counts.sum(axis=0), later, check_names=False)
        assert m.counts.loc[NOT_YET].sum() == 0  # CDNOW customers all start in Q1 1997
        assert m.counts.to_numpy().sum() == len(m.customers)
        np.testing.assert_allclose(m.shares.dropna().sum(axis=1), 1.0)


def test_migration_newcomers_row_and_customer_level_output(sim_prepared):
    m = stage_migration(sim_prepared, "2016-09-30", "2017-09-30")
    n_from = len(m.from_result.customers)
    n_to = len(m.to_result.customers)
    assert m.counts.loc[NOT_YET].sum() == n_to - n_from > 0
    pd.testing.assert_series_equal(
        m.counts.drop(index=NOT_YET).sum(axis=1), m.from_result.counts(), check_names=False
    )
    pd.testing.assert_series_equal(m.counts.sum(axis=0), m.to_result.counts(), check_names=False)
    c = m.customers
    assert list(c.columns) == [
        "customer_id",
        "stage_from",
        "stage_to",
        "previous_stage",
        "stage_since",
        "days_in_stage",
        "days_in_stage_at_least",
    ]
    assert (c["days_in_stage"] >= 0).all()
    assert (c.loc[c["days_in_stage_at_least"], "days_in_stage"] == 365).all()
    newcomers = c[c["stage_from"] == NOT_YET]
    assert (newcomers.loc[newcomers["stage_to"] == "new", "previous_stage"] == NOT_YET).all()
    movers = c[(c["stage_from"] != c["stage_to"]) & (c["stage_from"] != NOT_YET)]
    assert movers["previous_stage"].notna().mean() > 0.95
    assert (movers["days_in_stage"] <= 365).all()
    # stage rules are frozen at the earlier date
    assert m.from_result.rules == m.to_result.rules
    frame = m.to_frame()
    assert frame.loc["total", "total"] == n_to


def test_stages_use_only_events_up_to_as_of(sim):
    as_of = "2015-06-30"
    full = assign_stages(sim.events, as_of, **SIM_COLS)
    cut = assign_stages(sim.events[sim.events["date"] <= as_of], as_of, **SIM_COLS)
    pd.testing.assert_frame_equal(full.customers, cut.customers)
    assert full.rules == cut.rules


def test_result_views_print_the_rules(cdnow):
    r = assign_stages(cdnow, "1997-12-31")
    text = repr(r)
    assert "churned: no visit for" in text and "order of precedence" in text
    assert "<table" in r._repr_html_()
    frame = r.to_frame()
    assert list(frame.index) == list(STAGE_ORDER)
    assert frame["customers"].sum() == 23_570
    assert set(r.rules) >= {
        "churn_window_days",
        "new_tenure_days",
        "decline_ratio",
        "lookback_days",
    }


def test_settings_override_derived_thresholds(cdnow):
    r = assign_stages(
        cdnow, "1997-12-31", churn_window_days=120, settings=StageRules(decline_ratio=3.0)
    )
    assert r.rules["churn_window_days"] == 120 and r.rules["decline_ratio"] == 3.0
    assert "set in StageRules" in r.origin["churn_window_days"]
    churned = r.customers["stage"] == "churned"
    assert (r.customers.loc[churned, "recency_days"] >= 120).all()
    assert (r.customers.loc[~churned, "recency_days"] <= 120).all()


def test_small_hand_made_log():
    """Every stage on a log small enough to check by hand (W = 100, decline at 2x the usual gap)."""
    d = pd.Timestamp("2020-01-01")
    rows = [
        (1, 0),
        (1, 30),
        (1, 60),
        (1, 90),
        (1, 120),  # steady: growth
        (2, 0),
        (2, 30),
        (2, 60),
        (2, 150),  # last gap 90 = 3 x usual 30: decline
        (3, 0),  # one visit, 150 days ago: churned (> 100)
        (4, 140),  # one recent visit: new
        (5, 0),
        (5, 30),
        (5, 40),  # silent for 110 days: churned
        (6, 0),
        (6, 100),
        (6, 120),
        (6, 140),  # categories a, b, c in the last 60 days: mature
    ]
    cats = {(6, 120): "b", (6, 140): "c"}
    ev = pd.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "date": [d + pd.Timedelta(days=r[1]) for r in rows],
            "kind": [cats.get(r, "a") for r in rows],
        }
    )
    r = assign_stages(
        ev,
        d + pd.Timedelta(days=150),
        churn_window_days=100,
        category_col="kind",
        settings=StageRules(decline_ratio=2.0, new_tenure_days=30, lookback_days=60, prior_gaps=0),
    )
    got = r.customers.set_index("customer_id")["stage"].astype(str).to_dict()
    assert got == {1: "growth", 2: "decline", 3: "churned", 4: "new", 5: "churned", 6: "mature"}
    # without categories the top band (frequency and value) decides instead
    top = assign_stages(
        ev,
        d + pd.Timedelta(days=150),
        churn_window_days=100,
        settings=StageRules(mature_rule="top_band"),
    )
    assert top.rules["mature_rule"] == "top_band"
    since = r.customers.set_index("customer_id")["stage_since"]
    assert since[4] == d + pd.Timedelta(days=140)
    assert since[5] == d + pd.Timedelta(days=140)  # last visit + W: the day the lapse is complete


def test_stage_survival_table_recognition_clock():
    d = pd.Timestamp("2020-01-01")
    rows = [
        (1, 0),
        (1, 50),
        (1, 100),
        (2, 0),
        (2, 50),
        (2, 90),
        (2, 300),
        (3, 0),
        (3, 40),
        (3, 80),
        (3, 120),
    ]
    ev = pd.DataFrame(
        {"customer_id": [r[0] for r in rows], "date": [d + pd.Timedelta(days=r[1]) for r in rows]}
    )
    t = stage_survival_table(
        ev, d + pd.Timedelta(days=100), until=d + pd.Timedelta(days=300), churn_window_days=100
    )
    t = t.set_index("customer_id")
    # 1: last visit day 100, nothing after: lapse recognised on day 100 + 101 = 201 -> 101 days
    assert t.loc[1, "event"] == 1 and t.loc[1, "duration"] == 101
    # 2: gap 90 -> 300 (210 days): recognised on day 191 -> 91 days
    assert t.loc[2, "event"] == 1 and t.loc[2, "duration"] == 91
    # 3: last visit day 120, 180 days before until: recognised on day 221 -> 121 days
    assert t.loc[3, "event"] == 1 and t.loc[3, "duration"] == 121
    assert t.attrs["until"] == d + pd.Timedelta(days=300)


def test_plots_return_axes(sim_prepared):
    m = stage_migration(sim_prepared, "2016-09-30", "2017-09-30")
    ax = plot_stage_migration(m)
    assert ax.get_title().startswith("Stage migration")
    assert len(ax.texts) == m.counts.shape[1] * int((m.counts.sum(axis=1) > 0).sum())
    plt.close(ax.figure)
    _, ax2 = plt.subplots()
    assert plot_stage_migration(m, ax=ax2, shares=False, annotate=False) is ax2
    plt.close(ax2.figure)
    surv = stage_survival(sim_prepared, "2016-09-30", until="2017-09-30")
    ax3 = plot_stage_survival(surv, at_risk=False)
    assert len(ax3.get_lines()) >= 4
    plt.close(ax3.figure)


# -- errors ----------------------------------------------------------------------------------
def test_missing_columns_are_reported_together():
    ev = pd.DataFrame({"cust": [1], "when": ["2020-01-01"]})
    with pytest.raises(
        DataError,
        match=r"2 problems found[\s\S]*'customer_id'[\s\S]*'date'[\s\S]*columns are: cust, when",
    ):
        assign_stages(ev, "2020-02-01")


def test_bad_rows_are_reported_with_examples():
    ev = pd.DataFrame(
        {
            "customer_id": [1, 2, None, 4],
            "date": ["2020-01-01", "not a date", "2020-01-02", "2020-01-03"],
            "amount": [1.0, 2.0, 3.0, "x"],
        }
    )
    with pytest.raises(
        DataError,
        match=r"missing customer id: 1 row[\s\S]*cannot be read: 1 row, e.g. \[2\.0\][\s\S]*not numbers: 1 row",
    ):
        assign_stages(ev, "2020-02-01", amount_col="amount")


def test_as_of_before_first_event():
    ev = pd.DataFrame({"customer_id": [1, 1], "date": pd.to_datetime(["2020-01-01", "2020-02-01"])})
    with pytest.raises(ChurnDefinitionError, match="before the first event"):
        assign_stages(ev, "2019-01-01")


def test_no_repeat_visit_means_no_purchase_cycle():
    ev = pd.DataFrame({"customer_id": [1, 2], "date": pd.to_datetime(["2020-01-01", "2020-02-01"])})
    with pytest.raises(ChurnDefinitionError, match="no customer has two visits"):
        assign_stages(ev, "2020-03-01")


def test_category_rule_needs_a_category_column():
    ev = pd.DataFrame({"customer_id": [1, 1], "date": pd.to_datetime(["2020-01-01", "2020-02-01"])})
    with pytest.raises(ConfigError, match="needs a category column"):
        assign_stages(ev, "2020-03-01", settings=StageRules(mature_rule="categories"))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"churn_quantile": 1.5}, "churn_quantile must be in"),
        ({"churn_window_days": 0}, "churn_window_days must be a positive whole number"),
        ({"decline_ratio": 0.5}, "decline_ratio must be above 1"),
        ({"mature_rule": "gold"}, "mature_rule must be"),
        ({"min_categories": 1}, "min_categories must be an integer >= 2"),
        ({"prior_gaps": -1}, "prior_gaps must be a number >= 0"),
    ],
)
def test_bad_settings(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        StageRules(**kwargs)


def test_bad_settings_argument_and_dates(cdnow):
    with pytest.raises(ConfigError, match="settings must be a StageRules"):
        assign_stages(cdnow, "1997-12-31", settings={"churn_window_days": 90})
    with pytest.raises(ChurnDefinitionError, match="must be after as_of_from"):
        stage_migration(cdnow, "1998-03-31", "1997-12-31")
    with pytest.raises(ConfigError, match="step_days must be a positive whole number"):
        stage_migration(cdnow, "1997-12-31", "1998-03-31", step_days=0)
    with pytest.raises(ChurnDefinitionError, match="at least two dates"):
        churn_types(cdnow, ["1997-12-31"])
    with pytest.raises(ChurnDefinitionError, match="until .* must be after as_of"):
        stage_survival_table(cdnow, "1998-06-30", until="1998-01-01")
    with pytest.raises(ChurnDefinitionError, match="takes a MigrationResult"):
        plot_stage_migration("not a result")
    with pytest.raises(DataError, match="must be a pandas DataFrame or an EventLog"):
        assign_stages([1, 2, 3], "1997-12-31")


def test_event_log_input_gives_the_same_stages():
    from survchurn.data.eventlog import read_event_log

    frame = load_cdnow()
    log = read_event_log(frame, id_col="customer_id", time_col="date", amount_col="amount")
    a = assign_stages(log, "1997-12-31")
    b = assign_stages(frame, "1997-12-31", amount_col="amount")
    pd.testing.assert_frame_equal(a.customers, b.customers)
