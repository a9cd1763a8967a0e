"""Kaplan-Meier plot on the Agg backend: lines, bands, and the aligned number-at-risk table."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from survchurn.exceptions import ConfigError
from survchurn.plotting.km import at_risk_axes, at_risk_table, plot_km
from survchurn.survival.kaplan_meier import KaplanMeier


def _table(n_groups: int, n: int = 600, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    grp = rng.integers(0, n_groups, n)
    churn = rng.exponential(200 / (1 + grp), n).round() + 1
    censor = rng.uniform(30, 500, n).round()
    return pd.DataFrame({"duration": np.minimum(churn, censor),
                         "event": (churn <= censor).astype(int),
                         "segment": [f"seg {g}" for g in grp]})


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_plot_returns_axes_with_one_line_per_group_and_aligned_table():
    res = KaplanMeier().fit(_table(3), group_col="segment").result_
    ax = plot_km(res, title="by segment")
    assert isinstance(ax, matplotlib.axes.Axes)
    assert len(ax.get_lines()) == 3
    assert len(ax.collections) == 6  # a band and censor marks per group
    assert ax.get_title() == "by segment"
    tab = at_risk_axes(ax)
    np.testing.assert_array_equal(tab.get_xticks(), ax.get_xticks())
    assert tab.get_xlim() == ax.get_xlim()
    # first group on the top row, labels coloured like the curves
    assert [t.get_text() for t in tab.get_yticklabels()] == ["seg 0", "seg 1", "seg 2"]
    assert list(tab.get_yticks()) == [2, 1, 0]
    line_colors = [line.get_color() for line in ax.get_lines()]
    assert [t.get_color() for t in tab.get_yticklabels()] == line_colors
    assert len(tab.texts) == 3 * len(ax.get_xticks())


def test_table_counts_match_at_risk_table_and_follow_custom_times():
    df = _table(2)
    res = KaplanMeier().fit(df, group_col="segment").result_
    ax = plot_km(res, at_risk_times=[0, 100, 200, 300])
    np.testing.assert_array_equal(ax.get_xticks(), [0, 100, 200, 300])
    table = at_risk_table(res, [0, 100, 200, 300])
    expected = [(df.loc[df["segment"] == "seg 0", "duration"] >= t).sum() for t in (0, 100, 200, 300)]
    assert table.loc["seg 0"].tolist() == expected
    texts = [t.get_text() for t in at_risk_axes(ax).texts]
    assert texts[:4] == [f"{n:,}" for n in expected]


def test_six_groups_in_a_two_by_two_grid_stay_aligned():
    res = KaplanMeier(conf_type="log").fit(_table(6, n=900), group_col="segment").result_
    fig, axes = plt.subplots(2, 2, figsize=(12, 10), layout="constrained")
    for a in axes.flat:
        out = plot_km(res, ax=a, censor_marks=False)
        assert out is a
    fig.canvas.draw()
    for a in axes.flat:
        tab = at_risk_axes(a)
        assert len(a.get_lines()) == 6
        np.testing.assert_array_equal(tab.get_xticks(), a.get_xticks())
        # the table sits right under its own axes and spans exactly the same x range on screen
        main_box, tab_box = a.get_window_extent(), tab.get_window_extent()
        assert tab_box.x0 == pytest.approx(main_box.x0) and tab_box.x1 == pytest.approx(main_box.x1)
        assert tab_box.y1 < main_box.y0
    # each table stays inside its own subplot's slot: above the top of the subplot below
    for top, bottom in [(axes[0, 0], axes[1, 0]), (axes[0, 1], axes[1, 1])]:
        below = bottom.get_tightbbox()
        assert at_risk_axes(top).get_tightbbox().y0 > below.y1


def test_plot_options_and_single_group():
    res = KaplanMeier().fit(_table(1)).result_
    ax = plot_km(res, ci=False, censor_marks=False, at_risk=False, colors=["black"])
    assert len(ax.get_lines()) == 1 and not ax.collections and at_risk_axes(ax) is None
    assert ax.get_legend() is None


def test_too_few_colors():
    res = KaplanMeier().fit(_table(3), group_col="segment").result_
    with pytest.raises(ConfigError, match="colors has 1 entries for 3 groups"):
        plot_km(res, colors=["red"])
