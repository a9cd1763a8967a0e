"""The warning-score section: the score table management reads, tiers, points and the cut-off."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import pandas as pd

from survchurn.plotting._style import use_report_style
from survchurn.plotting.scoring import plot_points, plot_score_report
from survchurn.reporting.document import Figure, Paragraph, Section, Table
from survchurn.reporting.i18n import t
from survchurn.scoring.cutoff import CutoffResult
from survchurn.scoring.warning_score import WarningScoreResult

__all__ = ["score_headline", "score_table", "warning_section"]


def score_table(report_frame: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    """Score, customers, share, churned, churn rate, lift, cumulative capture."""
    f = report_frame.reset_index()
    return pd.DataFrame({
        t("col.score", lang): f["score"].to_numpy(),
        t("col.customers", lang): f["customers"].to_numpy(),
        t("col.share", lang): f["share"].to_numpy(),
        t("col.churned", lang): f["churned"].to_numpy(),
        t("col.churn_rate", lang): f["churn_rate"].to_numpy(),
        t("col.lift", lang): f["lift"].to_numpy(),
        t("col.cumulative_capture", lang): f["cum_capture"].to_numpy(),
    })


def score_headline(report_frame: pd.DataFrame, lang: str = "en") -> str:
    """The dealership sentence for the highest score that has customers."""
    f = report_frame[report_frame["customers"] > 0]
    top = f.index.max()
    row = f.loc[top]
    return t("score.headline", lang, score=int(top), share=f"{row['share']:.2%}",
             rate=f"{row['churn_rate']:.2%}", lift=f"{row['lift']:.1f}")


def _live_tiers(wl: pd.DataFrame, expected: pd.DataFrame | None, lang: str) -> pd.DataFrame:
    counts = wl.groupby("tier", sort=False).size()
    order = [k for k in ("red", "orange", "yellow", "green") if k in counts.index]
    order += [k for k in counts.index if k not in order]
    out = pd.DataFrame({
        t("col.tier", lang): [t(f"tier.{k}", lang) if k in ("red", "orange", "yellow", "green") else k
                              for k in order],
        t("col.active_customers", lang): [int(counts[k]) for k in order],
        t("col.share", lang): [counts[k] / len(wl) for k in order],
    })
    if expected is not None:
        out[t("col.expected_within", lang)] = [float(expected.loc[k, "expected"]) for k in order]
    return out


def warning_section(warning: WarningScoreResult, cutoff: CutoffResult | None,
                    warning_list: pd.DataFrame | None, expected: pd.DataFrame | None,
                    horizon_days: int, lang: str = "en", font_path: str | None = None) -> Section:
    """Warning score: score table (validation customers), figure, points, tiers and cut-off."""
    report = warning.test_report or warning.report
    frame = report.to_frame()
    blocks: list[Any] = [
        Paragraph(t("score.intro", lang, method=t(f"method.{warning.method}", lang), horizon=horizon_days,
                    period=warning.scorecard.training_period,
                    n=f"{report.n:,}")),
        Paragraph(score_headline(frame, lang)),
    ]
    pct = {t("col.share", lang): ".1%", t("col.churn_rate", lang): ".1%",
           t("col.cumulative_capture", lang): ".1%", t("col.lift", lang): ".2f",
           t("col.customers", lang): ",.0f", t("col.churned", lang): ",.0f"}
    blocks.append(Table(score_table(frame, lang), caption=t("score.table", lang), formats=pct,
                        footnote=t("note.lift", lang)))
    with use_report_style(lang, font_path):
        fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.6))
        plot_score_report(report, ax=axes[0])
        plot_points(warning.points, ax=axes[1])
        fig.tight_layout()
        blocks.append(Figure(fig, caption=t("score.figure", lang)))
    plt.close(fig)
    pts = warning.points.to_frame()
    pts = pts[pts["points"] > 0]
    blocks.append(Table(pd.DataFrame({
        t("col.variable", lang): pts["flag"].to_numpy(),
        t("col.points", lang): pts["points"].to_numpy(),
        t("score.odds_ratio", lang): pts["odds_ratio"].to_numpy(),
    }), caption=t("score.points", lang), formats={t("score.odds_ratio", lang): ".2f"}))
    if warning_list is not None and len(warning_list):
        blocks.append(Table(_live_tiers(warning_list, expected, lang),
                            caption=t("score.tiers", lang, horizon=horizon_days),
                            formats={t("col.share", lang): ".1%",
                                     t("col.expected_within", lang): ",.0f"}))
    if cutoff is not None:
        c = cutoff.to_frame().reset_index()
        blocks.append(Table(pd.DataFrame({
            t("col.cutoff", lang): [f"≥ {int(v)}" for v in c["cutoff"]],
            t("col.contacted", lang): c["flagged"].to_numpy(),
            t("col.precision", lang): c["precision"].to_numpy(),
            t("col.recall", lang): c["recall"].to_numpy(),
            t("col.expected_value", lang): c["expected_value"].to_numpy(),
        }), caption=t("score.cutoff_table", lang), formats={
            t("col.precision", lang): ".1%", t("col.recall", lang): ".1%",
            t("col.expected_value", lang): ",.0f"}))
        if cutoff.best_cutoff is None:
            blocks.append(Paragraph(t("score.no_cutoff", lang)))
        else:
            blocks.append(Paragraph(t(
                "score.cutoff", lang, cutoff=int(cutoff.best_cutoff), value=f"{cutoff.best_value:,.0f}",
                cost=f"{cutoff.action_cost:,.2f}", success=f"{cutoff.success_rate:.0%}",
                saved=f"{cutoff.value_saved:,.2f}")))
    if warning.comparison is not None:
        comp = warning.comparison.to_frame().reset_index()
        blocks.append(Table(comp, caption=t("score.comparison", lang), formats={
            "auc": ".3f", "ks": ".3f", "brier": ".3f", "log_loss": ".3f"}))
    return Section("warning_score", blocks=blocks)
