"""The report section of a retention campaign evaluation (English and Simplified Chinese).

Its fixed labels are the ``campaign.*`` keys of :mod:`survchurn.reporting.i18n`.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from survchurn.campaign.results import CampaignResult
from survchurn.plotting._style import use_report_style
from survchurn.plotting.campaign import plot_campaign_km, plot_tier_effects
from survchurn.reporting.document import Figure, KeyFigures, Note, Paragraph, Section, Table
from survchurn.reporting.i18n import LABELS, check_lang, t

__all__ = ["CAMPAIGN_LABELS", "campaign_section", "campaign_table"]

#: The section's labels, a view of the ``campaign.*`` keys of :data:`survchurn.reporting.i18n.LABELS`.
CAMPAIGN_LABELS: dict[str, dict[str, str]] = {
    lang: {k.removeprefix("campaign."): v for k, v in table.items() if k.startswith("campaign.")}
    for lang, table in LABELS.items()
}


def _t(key: str, lang: str, **fields: Any) -> str:
    return t(f"campaign.{key}", lang, **fields)


def _ci(est: float, lo: float, hi: float, fmt: str) -> str:
    if not np.isfinite(est):
        return "–"
    return f"{fmt.format(est)} ({fmt.format(lo)}, {fmt.format(hi)})"


def campaign_table(result: CampaignResult, lang: str = "en") -> pd.DataFrame:
    """The report's campaign table: one row per segment, with formatted intervals."""
    money = "net" in result.table.columns
    rows = []
    for _, r in result.table.iterrows():
        seg = _t("segment.overall", lang) if r["segment"] == "overall" else r["segment"]
        row: dict[str, Any] = {
            _t("col.segment", lang): seg,
            _t("col.treated", lang): int(r["n_treated"]),
            _t("col.holdout", lang): int(r["n_control"]),
            _t("col.churn_holdout", lang): r["churn_control"],
            _t("col.churn_treated", lang): r["churn_treated"],
            _t("col.diff", lang): _ci(100 * r["risk_diff"], 100 * r["risk_diff_lower"],
                                      100 * r["risk_diff_upper"], "{:+.1f}"),
            _t("col.hr", lang): _ci(r["hr"], r["hr_lower"], r["hr_upper"], "{:.2f}"),
            _t("col.saved", lang): r["saved"],
        }
        if money:
            row[_t("col.net", lang)] = r["net"]
            row[_t("col.roi", lang)] = r["roi"]
        rows.append(row)
    return pd.DataFrame(rows)


def _figure(draw: Any, caption: str, lang: str, font_path: str | None, size: tuple) -> Figure:
    with use_report_style(lang, font_path):
        fig, ax = plt.subplots(figsize=size)
        draw(ax)
        fig.tight_layout()
        figure = Figure(fig, caption=caption)
    plt.close(fig)
    return figure


def campaign_section(result: CampaignResult, lang: str = "en",
                     font_path: str | None = None) -> Section:
    """A report section: key figures, the KM curves per arm, the tier table and forest.

    Parameters
    ----------
    result : CampaignResult
    lang : {"en", "zh"}
    font_path : str, optional
        A font file for the figures (CJK for Chinese).

    Returns
    -------
    Section
        Key ``"campaign"`` (placed after the known sections).
    """
    check_lang(lang)
    s, o = result.settings, result.overall
    pct = f"{100 * (1 - s['alpha']):g}%"
    intro = (_t("intro", lang, window=s["window_days"], horizon=s["horizon_days"])
             if "window_days" in s else _t("intro_no_window", lang, horizon=s["horizon_days"]))
    figures: dict[str, Any] = {
        _t("kf.treated", lang): int(o["n_treated"]),
        _t("kf.holdout", lang): int(o["n_control"]),
        _t("kf.churn_holdout", lang): f"{o['churn_control']:.1%}",
        _t("kf.churn_treated", lang): f"{o['churn_treated']:.1%}",
        _t("kf.saved", lang): (f"{o['saved']:,.0f}", _t("kf.ci", lang, pct=pct,
                               lo=f"{o['saved_lower']:,.0f}", hi=f"{o['saved_upper']:,.0f}")),
        _t("kf.hr", lang): (f"{o['hr']:.2f}", _t("kf.ci", lang, pct=pct, lo=f"{o['hr_lower']:.2f}",
                                                 hi=f"{o['hr_upper']:.2f}")),
    }
    if "roi" in result.table.columns and np.isfinite(o["roi"]):
        figures[_t("kf.roi", lang)] = (f"{o['roi']:.0%}", _t("kf.ci", lang, pct=pct,
                                       lo=f"{o['roi_lower']:.0%}", hi=f"{o['roi_upper']:.0%}"))
    pct_cols = {_t("col.churn_holdout", lang): ".1%", _t("col.churn_treated", lang): ".1%",
                _t("col.saved", lang): ",.0f"}
    if "net" in result.table.columns:
        pct_cols.update({_t("col.net", lang): ",.0f", _t("col.roi", lang): ".0%"})
    blocks: list[Any] = [
        Paragraph(intro),
        KeyFigures(figures),
        _figure(lambda ax: plot_campaign_km(result, "overall", ax=ax, title="",
                                            xlabel=_t("fig.km_x", lang), ylabel=_t("fig.km_y", lang)),
                _t("fig.km", lang), lang, font_path, (7.2, 4.8)),
        Table(campaign_table(result, lang), caption=_t("table.caption", lang), formats=pct_cols,
              footnote=_t("table.footnote", lang, horizon=s["horizon_days"], tau=s["tau"], pct=pct)),
    ]
    if len(result.tiers) > 1:
        forest_x = _t("fig.forest_x", lang, pct=pct)
        blocks.append(_figure(lambda ax: plot_tier_effects(result, "hr", ax=ax, xlabel=forest_x),
                              _t("fig.forest", lang), lang, font_path, (7.2, 0.5 * len(result.table) + 1.5)))
        het = result.heterogeneity
        r = het[het["measure"] == "log hazard ratio"].iloc[0]
        if np.isfinite(r["p_value"]):
            blocks.append(Note(_t("het", lang, q=r["Q"], df=int(r["df"]), p=r["p_value"], i2=r["I2"])))
    return Section("campaign", title=_t("title", lang), blocks=blocks)
