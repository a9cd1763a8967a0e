"""Build the report model of an :class:`~survchurn.analysis.Analysis`.

Sections appear only when their inputs exist, so the report always builds.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from survchurn.analysis import DRIVER_VARIABLES, Analysis, period_label
from survchurn.reporting.document import Note, Report, Section, Table
from survchurn.reporting.i18n import t
from survchurn.reporting.qoq_section import qoq_section
from survchurn.reporting.score_section import score_headline, warning_section
from survchurn.reporting.sections import (
    drivers_section,
    lifecycle_section,
    retention_section,
    summary_section,
)

__all__ = ["build_report"]


def _pct(x: float) -> str:
    return f"{x:.1%}"


def _churn_kpi(a: Analysis, lang: str) -> dict[str, Any]:
    q = a.churn_rates.table if a.churn_rates is not None else pd.DataFrame()
    if q.empty:
        return {}
    q = q[q["active_at_start"] > 0]
    if q.empty:
        return {}
    last = q.iloc[-1]
    label = t("kpi.churn_rate_quarter", lang, period=last["period"])
    if len(q) > 1:
        change = (last["churn_rate"] - q.iloc[-2]["churn_rate"]) * 100
        return {label: (_pct(last["churn_rate"]), t("kpi.vs_previous", lang, change=f"{change:+.1f}"))}
    return {label: _pct(last["churn_rate"])}


def _warning_kpi(a: Analysis, lang: str) -> dict[str, Any]:
    if a.expected_churners is None or a.warning_list is None:
        return {}
    e = a.expected_churners.loc["all"]
    out = {t("kpi.expected_churners", lang, horizon=a.horizon_days):
           (f"{e['expected']:,.0f}", t("kpi.expected_interval", lang, lower=f"{e['lower']:,.0f}",
                                       upper=f"{e['upper']:,.0f}"))}
    red = int((a.warning_list["tier"] == "red").sum())
    out[t("kpi.red_tier", lang)] = (f"{red:,}", f"{red / len(a.warning_list):.1%}")
    return out


def _summary(a: Analysis, lang: str) -> Section:
    table = a.survival.table
    km = a.km_overall
    at365 = km.at([365])
    reached = not bool(at365["beyond_follow_up"].iloc[0]) and pd.notna(at365["survival"].iloc[0])
    ret365 = float(at365["survival"].iloc[0]) if reached else float("nan")
    active = int((table["event"] == 0).sum())
    figures = {
        t("kpi.customers", lang): f"{len(table):,}",
        t("kpi.active", lang): f"{active:,}",
        **_churn_kpi(a, lang),
        **_warning_kpi(a, lang),
    }
    if reached:
        figures[t("kpi.retention_365", lang)] = _pct(ret365)
    findings = []
    # one-time buyers among customers who have had at least W days to come back
    window = getattr(a.definition, "window_days", 0)
    seasoned = table[table["entry_date"] <= a.as_of - pd.Timedelta(days=window)]
    if "n_events" in table and len(seasoned):
        findings.append(t("finding.one_time", lang, pct=_pct(float((seasoned["n_events"] == 1).mean())),
                          days=window))
    if reached:
        findings.append(t("finding.retention", lang, pct=_pct(ret365)))
    if a.warning is not None:
        findings.append(score_headline((a.warning.test_report or a.warning.report).to_frame(), lang))
    for label, test in a.logrank_by.items():
        p = "< 0.001" if test.p_value < 0.001 else f"{test.p_value:.3f}"
        findings.append(t("finding.segments", lang, segment=t(f"segment.{label}", lang), p=p))
        break
    return summary_section(figures, findings, lang=lang)


def _appendix_tables(a: Analysis, lang: str) -> list[Any]:
    rejected = a.survival.rejected
    if len(rejected) == 0 and len(a.events.rejected) == 0:
        return []
    reasons = pd.concat([a.events.rejected.get("reason", pd.Series(dtype=str)), rejected["reason"]])
    frame = reasons.value_counts().rename_axis(t("col.reason", lang)).reset_index(
        name=t("col.rejected_rows", lang))
    return [Table(frame, caption=t("col.rejected_rows", lang))]


def build_report(analysis: Analysis, *, title: str = "Customer churn early warning",
                 lang: str = "en", font_path: str | None = None) -> Report:
    """Turn an :class:`Analysis` into a report model (sections appear as their inputs exist)."""
    a = analysis
    segment_names = {t(f"segment.{k}", lang) if k in ("cohort", "stage") else k: v
                     for k, v in a.km_by.items()}
    sections = [
        _summary(a, lang),
        retention_section(a.km_overall, segment_names, lang=lang, font_path=font_path),
    ]
    if a.stages is not None:
        sections.append(lifecycle_section(a.stages, a.migration, a.churn_types, a.stage_survival,
                                          lang=lang, font_path=font_path))
    if a.warning is None and a.warning_note:
        sections.append(Section("warning_score", blocks=[Note(t("score.none", lang, why=a.warning_note),
                                                             kind="warning")]))
    if a.warning is not None:
        sections.append(warning_section(a.warning, a.cutoff, a.warning_list, a.expected_churners,
                                        a.horizon_days, lang=lang, font_path=font_path))
    if a.qoq is not None:
        sections.append(qoq_section(a.qoq, lang=lang))
    if a.drivers is not None and a.landmark is not None:
        labels = {v: t(f"var.{v}", lang) for v in DRIVER_VARIABLES}
        intro = t("drivers.intro", lang, n=f"{a.drivers.n:,}", events=f"{a.drivers.n_events:,}",
                  landmark=str(a.landmark.date()), as_of=str(a.as_of.date()),
                  c=f"{a.drivers.concordance:.3f}")
        sections.append(drivers_section(a.drivers, labels, intro, lang=lang, font_path=font_path,
                                        zph=a.drivers_zph))
    extra = _appendix_tables(a, lang)
    if extra:
        sections.append(Section("data_quality", title=t("col.rejected_rows", lang), blocks=extra))
    window = f"{a.events.min_time:%Y-%m-%d} – {a.events.max_time:%Y-%m-%d}"
    meta = {
        "period": period_label(a.as_of),
        "as_of": str(a.as_of.date()),
        "data_window": window,
        "churn_definition": a.definition.describe(),
        "dataset": a.dataset,
        "data_fingerprint": a.data_fingerprint[:16],
    }
    return Report(title=title, lang=lang, meta=meta, sections=sections)
