"""The quarter-over-quarter section: churn-rate change, stability (PSI) and the back-test."""

from __future__ import annotations

from typing import Any

import pandas as pd

from survchurn.reporting.document import Paragraph, Section, Table
from survchurn.reporting.i18n import t
from survchurn.scoring.backtest import QuarterOverQuarter

__all__ = ["qoq_section"]


def qoq_section(q: QuarterOverQuarter, lang: str = "en") -> Section:
    """Build the section from a :class:`~survchurn.scoring.backtest.QuarterOverQuarter`."""
    blocks: list[Any] = [Paragraph(t("qoq.intro", lang, previous=q.previous_as_of))]
    if len(q.rates):
        blocks.append(Table(pd.DataFrame({
            t("meta.as_of", lang): q.rates["as_of"].to_numpy(),
            t("meta.period", lang): q.rates["period"].to_numpy(),
            t("col.churn_rate", lang): q.rates["churn_rate"].to_numpy(),
        }), caption=t("qoq.rates", lang), formats={t("col.churn_rate", lang): ".1%"}))
    bt = q.backtest.to_frame().reset_index()
    blocks.append(Table(pd.DataFrame({
        t("col.segment", lang): bt["group"].to_numpy(),
        t("col.flagged", lang): bt["customers"].to_numpy(),
        t("col.flagged_churned", lang): bt["churned"].to_numpy(),
        t("col.churn_rate", lang): bt["churn_rate"].to_numpy(),
    }), caption=t("qoq.backtest", lang, cutoff=q.backtest.cutoff),
        formats={t("col.churn_rate", lang): ".1%"}))
    if q.stability is not None:
        s = q.stability.to_frame().reset_index()
        words = {"green": "stability.stable", "amber": "stability.watch", "red": "stability.shifted"}
        blocks.append(Table(pd.DataFrame({
            t("col.variable", lang): s["variable"].to_numpy(),
            t("col.psi", lang): s["psi"].to_numpy(),
            t("col.stability", lang): [t(words[x], lang) if x in words else x for x in s["light"]],
        }), caption=t("qoq.stability", lang), formats={t("col.psi", lang): ".3f"},
            footnote=t("note.psi", lang)))
    return Section("qoq", blocks=blocks)
