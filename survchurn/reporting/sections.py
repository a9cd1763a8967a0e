"""Turn analysis results into report sections (one function per section).

Each function takes results from the earlier stages and returns a
:class:`~survchurn.reporting.document.Section`, or ``None`` when its inputs are missing, so the
report always builds with whatever the analysis produced. Figures are drawn here through
:mod:`survchurn.plotting` inside the report style of the report's language.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from survchurn.churn.lifecycle import StageResult
from survchurn.churn.migration import ChurnTypesResult, MigrationResult
from survchurn.plotting._style import use_report_style
from survchurn.plotting.forest import forest_table, plot_forest
from survchurn.plotting.km import plot_km
from survchurn.plotting.lifecycle import plot_stage_migration, plot_stage_survival
from survchurn.reporting.document import (
    BulletList,
    Figure,
    KeyFigures,
    Note,
    Paragraph,
    Section,
    Table,
)
from survchurn.reporting.i18n import LABELS, t
from survchurn.survival.by_stage import StageSurvival
from survchurn.survival.cox import CoxResult
from survchurn.survival.cox_diagnostics import ZphResult
from survchurn.survival.kaplan_meier import KaplanMeierResult

__all__ = ["drivers_section", "drivers_table", "lifecycle_section", "retention_section",
           "retention_table", "summary_section"]

_HORIZONS = (90, 180, 365)


def retention_table(km: KaplanMeierResult, lang: str = "en") -> pd.DataFrame:
    """Per group: customers, churned, median lifetime and 90/180/365-day retention."""
    summary = km.group_summary()
    at = km.at(_HORIZONS)
    median = km.median()
    rows = []
    for _, g in summary.iterrows():
        group = g["group"]
        row: dict[str, Any] = {
            t("col.segment", lang): group,
            t("col.customers", lang): int(g["n"]),
            t("col.churned", lang): int(g["events"]),
        }
        med = median[median["group"] == group].iloc[0]
        row[t("col.median_lifetime", lang)] = (
            float(med["time"]) if bool(med["reached"]) else t("value.not_reached", lang)
        )
        for h in _HORIZONS:
            hit = at[(at["group"] == group) & (at["time"] == h)]
            ok = len(hit) and not bool(hit["beyond_follow_up"].iloc[0])
            row[t(f"col.retention_{h}", lang)] = float(hit["survival"].iloc[0]) if ok else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def _km_figure(km: KaplanMeierResult, title: str, lang: str, font_path: str | None) -> Figure:
    with use_report_style(lang, font_path):
        fig, ax = plt.subplots(figsize=(7.2, 4.6))
        plot_km(km, ax=ax, title=title, xlabel=t("col.time_days", lang), ylabel=t("col.survival", lang))
        fig.tight_layout()
        figure = Figure(fig, caption=title)
    plt.close(fig)
    return figure


def retention_section(
    overall: KaplanMeierResult,
    by_segment: Mapping[str, KaplanMeierResult],
    lang: str = "en",
    font_path: str | None = None,
) -> Section:
    """Kaplan-Meier curves overall and by segment, with the retention table.

    Parameters
    ----------
    overall : KaplanMeierResult
        One curve for all customers.
    by_segment : mapping of str to KaplanMeierResult
        ``{segment name: result by that segment}``, e.g. acquisition cohort, lifecycle stage.
    lang : {"en", "zh"}
    font_path : str, optional
        A font file for the figures.
    """
    fmt = {t(f"col.retention_{h}", lang): ".1%" for h in _HORIZONS}
    fmt[t("col.customers", lang)] = ",.0f"
    fmt[t("col.churned", lang)] = ",.0f"
    blocks: list[Any] = [
        Paragraph(t("retention.intro", lang)),
        _km_figure(overall, t("retention.overall", lang), lang, font_path),
        Table(retention_table(overall, lang), caption=t("retention.overall", lang), formats=fmt,
              footnote=t("retention.footnote", lang, conf_type=overall.conf_type)),
    ]
    for name, km in by_segment.items():
        title = t("retention.by", lang, segment=name)
        blocks.append(_km_figure(km, title, lang, font_path))
        blocks.append(Table(retention_table(km, lang), caption=title, formats=fmt))
    return Section("retention", blocks=blocks)


def summary_section(
    figures: Mapping[str, Any], findings: list[str], notes: list[str] | None = None, lang: str = "en"
) -> Section:
    """Executive summary: headline key figures, then findings in plain words."""
    blocks: list[Any] = [KeyFigures(dict(figures))]
    if findings:
        blocks.append(BulletList(list(findings)))
    blocks += [Note(n) for n in notes or []]
    return Section("summary", blocks=blocks)


def _effect_words(hr: float, lower: float, upper: float, lang: str) -> str:
    if lower <= 1 <= upper:
        return t("effect.none", lang)
    if hr >= 1:
        return t("effect.higher", lang, pct=f"{hr - 1:.0%}")
    return t("effect.lower", lang, pct=f"{1 - hr:.0%}")


def drivers_table(cox: CoxResult, labels: Mapping[str, str], lang: str = "en") -> pd.DataFrame:
    """Hazard ratios in words a manager reads: variable, HR, CI, p and the effect."""
    ft = forest_table(cox, labels)
    ft = ft[~ft["reference"]]
    return pd.DataFrame({
        t("col.variable", lang): ft["label"].to_numpy(),
        t("col.hazard_ratio", lang): ft["hr"].to_numpy(),
        t("col.ci_lower", lang): ft["lower"].to_numpy(),
        t("col.ci_upper", lang): ft["upper"].to_numpy(),
        t("col.p_value", lang): ft["p_text"].to_numpy(),
        t("col.effect", lang): [_effect_words(h, lo, up, lang)
                                for h, lo, up in zip(ft["hr"], ft["lower"], ft["upper"], strict=True)],
    })


def drivers_section(cox: CoxResult, labels: Mapping[str, str], intro: str, lang: str = "en",
                    font_path: str | None = None, zph: ZphResult | None = None) -> Section:
    """Hazard-ratio forest plot and the table in words.

    Parameters
    ----------
    cox : CoxResult
        The fitted driver model.
    labels : mapping
        ``{covariate: label shown to readers}``.
    intro : str
        A paragraph saying which customers and which period the model describes.
    zph : ZphResult, optional
        The proportional-hazards test (as R's ``cox.zph``), shown with advice when it fails.
    """
    with use_report_style(lang, font_path):
        fig, ax = plt.subplots(figsize=(7.6, 0.45 * len(cox.summary) + 1.4))
        plot_forest(cox, ax=ax, labels=labels)
        fig.subplots_adjust(left=0.36, right=0.62, bottom=0.2)
        figure = Figure(fig, caption=t("drivers.figure", lang))
    plt.close(fig)
    fmt = {t("col.hazard_ratio", lang): ".2f", t("col.ci_lower", lang): ".2f",
           t("col.ci_upper", lang): ".2f"}
    blocks: list[Any] = [
        Paragraph(intro), figure,
        Table(drivers_table(cox, labels, lang), caption=t("drivers.table", lang), formats=fmt,
              footnote=t("note.hazard_ratio", lang)),
    ]
    if zph is not None:
        z = zph.to_frame().reset_index(names="term")
        blocks.append(Table(pd.DataFrame({
            t("col.variable", lang): [labels.get(v, v) for v in z["term"]],
            "chi²": z["chisq"].to_numpy(), "df": z["df"].to_numpy(),
            t("col.p_value", lang): [("< 0.001" if p < 0.001 else f"{p:.3f}") for p in z["p"]],
        }), caption=t("drivers.zph", lang), formats={"chi²": ".1f"}))
        if bool(z["violated"].any()):
            blocks.append(Note(t("drivers.zph_failed", lang), kind="warning"))
    return Section("drivers", blocks=blocks)


def _stage_label(stage: str, lang: str) -> str:
    return t(f"stage.{stage}", lang) if f"stage.{stage}" in LABELS[lang] else str(stage)


def _churn_type_label(kind: str, lang: str) -> str:
    key = "churn_type." + kind.split(" (")[0].replace(" ", "_").replace("-", "_")
    return t(key, lang) if key in LABELS[lang] else kind


def lifecycle_section(stages: StageResult, migration: MigrationResult | None,
                      types: ChurnTypesResult | None, by_stage: StageSurvival | None,
                      lang: str = "en", font_path: str | None = None) -> Section:
    """Stage mix, migration since the last period, churn types and survival by stage."""
    mix = stages.to_frame().reset_index()
    mix = pd.DataFrame({
        t("col.stage", lang): [_stage_label(s, lang) for s in mix["stage"]],
        t("col.customers", lang): mix["customers"].to_numpy(),
        t("col.share", lang): mix["share"].to_numpy(),
    })
    blocks: list[Any] = [
        Paragraph(t("lifecycle.intro", lang)),
        Table(mix, caption=t("lifecycle.mix", lang, as_of=str(stages.as_of.date())),
              formats={t("col.customers", lang): ",.0f", t("col.share", lang): ".1%"}),
        Paragraph(t("lifecycle.rules", lang)),
        BulletList(stages.rules_text()),
    ]
    if migration is not None:
        with use_report_style(lang, font_path):
            fig, ax = plt.subplots(figsize=(7.2, 4.4))
            plot_stage_migration(migration, ax=ax)
            ax.set_xticklabels([_stage_label(x.get_text(), lang) for x in ax.get_xticklabels()])
            ax.set_yticklabels([_stage_label(y.get_text(), lang) for y in ax.get_yticklabels()])
            fig.tight_layout()
            caption = t("lifecycle.migration", lang, start=str(migration.as_of_from.date()),
                        end=str(migration.as_of_to.date()))
            blocks.append(Figure(fig, caption=caption))
        plt.close(fig)
    if types is not None:
        frame = types.to_frame()
        last = frame[frame["period_end"] == frame["period_end"].max()]
        blocks.append(Table(pd.DataFrame({
            t("col.churn_type", lang): [_churn_type_label(k, lang) for k in last["churn_type"]],
            t("col.stage", lang): [_stage_label(s, lang) for s in last["stage"]],
            t("col.customers", lang): last["customers"].to_numpy(),
            t("col.share", lang): last["share"].to_numpy(),
        }), caption=t("lifecycle.types", lang, start=str(pd.Timestamp(last["period_start"].iloc[0]).date()),
                      end=str(pd.Timestamp(last["period_end"].iloc[0]).date())),
            formats={t("col.customers", lang): ",.0f", t("col.share", lang): ".1%"}))
    if by_stage is not None:
        title = t("lifecycle.survival", lang, as_of=str(by_stage.as_of.date()))
        with use_report_style(lang, font_path):
            fig, ax = plt.subplots(figsize=(7.2, 4.6))
            plot_stage_survival(by_stage, ax=ax, title=title, xlabel=t("col.time_days", lang),
                                ylabel=t("col.survival", lang))
            fig.tight_layout()
            blocks.append(Figure(fig, caption=title))
        plt.close(fig)
        if by_stage.logrank is not None:
            p = by_stage.logrank.p_value
            blocks.append(Paragraph(t("lifecycle.logrank", lang, chisq=f"{by_stage.logrank.chisq:.1f}",
                                      df=by_stage.logrank.df,
                                      p="< 0.001" if p < 0.001 else f"{p:.3f}")))
    return Section("lifecycle", blocks=blocks)
