"""Campaign plots (Agg backend) and the report section in both languages."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from survchurn.exceptions import ConfigError, DependencyError, ReportError
from survchurn.plotting.campaign import plot_campaign_km, plot_tier_effects
from survchurn.plotting.km import at_risk_axes
from survchurn.reporting.campaign_section import (
    CAMPAIGN_LABELS,
    _t,
    campaign_section,
    campaign_table,
)
from survchurn.reporting.document import Figure, KeyFigures, Note, Report, Section, Table
from survchurn.reporting.html import render_html


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_km_per_arm(case):
    ax = plot_campaign_km(case.result, "red")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["control", "treatment"]
    assert at_risk_axes(ax) is not None
    fig, ax2 = plt.subplots()
    assert plot_campaign_km(case.result, ax=ax2, at_risk=False) is ax2
    with pytest.raises(ConfigError, match="segment 'purple' is not in the result"):
        plot_campaign_km(case.result, "purple")


@pytest.mark.parametrize("measure", ["hr", "risk_diff", "rel_change", "rmst_diff"])
def test_tier_forest(case, measure):
    ax = plot_tier_effects(case.result, measure)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["overall", "green", "yellow", "orange", "red"]
    eff = case.result.effects(measure)
    # the red tier's interval is drawn where the table says
    red_line = [ln for ln in ax.get_lines() if len(ln.get_xdata()) == 2 and ln.get_ydata()[0] == 0]
    assert np.allclose(sorted(red_line[0].get_xdata()),
                       eff.loc[eff["segment"] == "red", ["lower", "upper"]].to_numpy().ravel())
    ax2 = plot_tier_effects(case.result, measure, ax=plt.subplots()[1], overall=False, text=False)
    assert len(ax2.get_yticklabels()) == 4


def test_labels_have_the_same_keys_and_placeholders():
    import string

    en, zh = CAMPAIGN_LABELS["en"], CAMPAIGN_LABELS["zh"]
    assert en.keys() == zh.keys()
    for k in en:
        fields = [{f for _, f, _, _ in string.Formatter().parse(d[k]) if f} for d in (en, zh)]
        assert fields[0] == fields[1], k
    with pytest.raises(ReportError, match="no report label 'campaign.nope'"):
        _t("nope", "en")
    with pytest.raises(ConfigError, match="report language 'fr' is not supported"):
        campaign_section(None, "fr")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_section(case, lang):
    sec = campaign_section(case.result, lang)
    assert isinstance(sec, Section) and sec.key == "campaign"
    kinds = [type(b) for b in sec.blocks]
    assert kinds.count(Figure) == 2 and Table in kinds and KeyFigures in kinds and Note in kinds
    tab = campaign_table(case.result, lang)
    assert len(tab) == 5 and tab.iloc[0, 0] == _t("segment.overall", lang)
    try:
        page = render_html(Report("Campaign", lang=lang, sections=[sec]))
    except DependencyError:  # no CJK font on this machine
        pytest.skip("no Chinese font installed")
    assert _t("title", lang) in page and _t("table.caption", lang) in page
