"""The report section of a retention campaign evaluation (English and Simplified Chinese).

Its fixed labels live in :data:`CAMPAIGN_LABELS` here (both languages with the same keys and
placeholders) rather than in :mod:`survchurn.reporting.i18n`; the lead may move them there.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from survchurn.campaign.results import CampaignResult
from survchurn.exceptions import ReportError
from survchurn.plotting._style import use_report_style
from survchurn.plotting.campaign import plot_campaign_km, plot_tier_effects
from survchurn.reporting.document import Figure, KeyFigures, Note, Paragraph, Section, Table
from survchurn.reporting.i18n import check_lang

__all__ = ["CAMPAIGN_LABELS", "campaign_section", "campaign_table"]

CAMPAIGN_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Retention campaign",
        "intro": ("Customers flagged by the warning score were randomly split, tier by tier, "
                  "into a treated group and a holdout. Churn is the first lapse of {window} days "
                  "without activity after the start; rates are at {horizon:g} days from "
                  "Kaplan-Meier, so customers still being followed are counted correctly."),
        "intro_no_window": ("Customers were randomly split, tier by tier, into a treated group and "
                            "a holdout. Rates are at {horizon:g} days from Kaplan-Meier."),
        "kf.treated": "Treated", "kf.holdout": "Holdout",
        "kf.churn_holdout": "Churn, holdout", "kf.churn_treated": "Churn, treated",
        "kf.saved": "Customers saved", "kf.hr": "Hazard ratio", "kf.roi": "Return on cost",
        "kf.ci": "{pct} CI {lo} to {hi}",
        "col.segment": "Segment", "col.treated": "Treated", "col.holdout": "Holdout",
        "col.churn_holdout": "Churn, holdout", "col.churn_treated": "Churn, treated",
        "col.diff": "Difference, pp (CI)", "col.hr": "HR (CI)",
        "col.saved": "Saved", "col.net": "Net value",
        "col.roi": "ROI",
        "table.caption": "Campaign effect overall and by warning tier",
        "table.footnote": ("Difference = treated minus holdout churn at {horizon:g} days ({pct} "
                           "Wald CI from Greenwood SEs); HR from Cox (overall stratified by tier); "
                           "saved = -difference x treated. The full table (log-rank, customer-days "
                           "kept up to {tau:g} days, intervals of every figure) is "
                           "CampaignResult.to_frame()."),
        "fig.km": "Not churned since the start, holdout vs treated",
        "fig.forest": "Hazard ratio of treatment by warning tier",
        "fig.forest_x": "hazard ratio, treated vs holdout (log scale), {pct} CI",
        "fig.km_x": "days since the start", "fig.km_y": "not churned",
        "het": ("Does the effect differ between tiers? Cochran's Q on the log hazard ratios: "
                "Q = {q:.2f} on {df} df, p = {p:.3g}, I² = {i2:.0%}."),
        "segment.overall": "overall",
    },
    "zh": {
        "title": "挽留活动",
        "intro": ("预警评分选出的客户按预警等级分层随机分为干预组和对照组。流失定义为活动开始后首次连续"
                  "{window}天无活动；流失率为 Kaplan-Meier 估计的第{horizon:g}天数值，仍在观察中的客户"
                  "也得到正确计入。"),
        "intro_no_window": "客户按预警等级分层随机分为干预组和对照组。流失率为 Kaplan-Meier 估计的第{horizon:g}天数值。",
        "kf.treated": "干预组", "kf.holdout": "对照组",
        "kf.churn_holdout": "对照组流失率", "kf.churn_treated": "干预组流失率",
        "kf.saved": "挽留客户数", "kf.hr": "风险比", "kf.roi": "投资回报率",
        "kf.ci": "{pct} 置信区间 {lo} 至 {hi}",
        "col.segment": "分组", "col.treated": "干预组", "col.holdout": "对照组",
        "col.churn_holdout": "对照组流失率", "col.churn_treated": "干预组流失率",
        "col.diff": "差值，百分点（置信区间）", "col.hr": "风险比（置信区间）",
        "col.saved": "挽留客户数", "col.net": "净收益",
        "col.roi": "投资回报率",
        "table.caption": "活动效果：总体及各预警等级",
        "table.footnote": ("差值 = 第{horizon:g}天干预组减对照组流失率（{pct} Wald 置信区间，Greenwood 标准误）；"
                           "风险比来自 Cox 模型（总体按等级分层）；挽留客户数 = -差值 × 干预人数。完整结果（对数秩检验、"
                           "{tau:g}天内保留客户天数及各项区间）见 CampaignResult.to_frame()。"),
        "fig.km": "活动开始后未流失比例：对照组与干预组",
        "fig.forest": "各预警等级的干预风险比",
        "fig.forest_x": "风险比，干预组对对照组（对数刻度），{pct} 置信区间",
        "fig.km_x": "活动开始后天数", "fig.km_y": "未流失比例",
        "het": "各等级效果是否不同？对数风险比的 Cochran Q = {q:.2f}，自由度 {df}，p = {p:.3g}，I² = {i2:.0%}。",
        "segment.overall": "总体",
    },
}


def _t(key: str, lang: str, **fields: Any) -> str:
    try:
        text = CAMPAIGN_LABELS[check_lang(lang)][key]
    except KeyError:
        raise ReportError(f"no campaign label {key!r} for lang={lang!r}; labels are "
                          f"{sorted(CAMPAIGN_LABELS['en'])[:8]}...") from None
    return text.format(**fields) if fields else text


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
