"""Quarter over quarter: did last quarter's warnings come true, and has the population moved?"""

from __future__ import annotations

import warnings
from typing import Any

import pandas as pd

from survchurn._display import Result
from survchurn.churn.survival_table import SurvivalTable
from survchurn.exceptions import DataError, DataQualityWarning, ScoringError
from survchurn.scoring.monitoring import StabilityReport, population_stability
from survchurn.scoring.scorecard import Scorecard

__all__ = ["QuarterOverQuarter", "WarningBacktest", "backtest_warnings", "compare_quarters"]


class WarningBacktest(Result):
    """Of the customers flagged at the previous run, how many have churned since.

    Attributes
    ----------
    table : DataFrame
        Rows ``flagged`` and ``not flagged`` (and one per previous tier): ``customers``,
        ``churned``, ``churn_rate``, ``still_active``, ``unknown`` (no longer in the data).
    cutoff : int
        Score at or above which a customer counted as flagged.
    """

    _title = "Back-test of the previous warnings"

    def __init__(self, table: pd.DataFrame, cutoff: int, previous_as_of: str, as_of: pd.Timestamp):
        self.table = table
        self.cutoff = cutoff
        self.previous_as_of = previous_as_of
        self.as_of = as_of

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def _header(self) -> dict[str, Any]:
        return {"previous as_of": self.previous_as_of, "as_of": self.as_of,
                "flagged": f"score >= {self.cutoff}"}


def backtest_warnings(previous: pd.DataFrame, st: SurvivalTable, *, cutoff: int,
                      previous_as_of: str = "") -> WarningBacktest:
    """Compare a previous warning list with who has churned by the survival table's ``as_of``.

    Parameters
    ----------
    previous : DataFrame
        The previous run's warning list (``customer_id``, ``score``, ``tier``).
    st : SurvivalTable
        The current survival table: ``event == 1`` means churned by its ``as_of``.
    cutoff : int
        Scores at or above it were flagged.
    """
    missing = [c for c in ("customer_id", "score", "tier") if c not in previous.columns]
    if missing:
        raise ScoringError(f"the previous warning list lacks the columns {missing}; pass the "
                           "warning_list.csv written by `survchurn run`")
    # ids are compared as text: a CSV round trip turns "000007" into 7 and spreadsheet-safe
    # export prefixes formula-like ids with an apostrophe
    now = st.table.set_index(st.table["customer_id"].astype(str))["event"]
    prev = previous.assign(customer_id=previous["customer_id"].astype(str).str.removeprefix("'"))
    outcome = prev["customer_id"].map(now)
    prev = prev.assign(churned=(outcome == 1), active=(outcome == 0), unknown=outcome.isna())
    if len(prev) and prev["unknown"].mean() > 0.5:
        warnings.warn(
            f"back-test: {int(prev['unknown'].sum()):,} of {len(prev):,} previously scored customers "
            f"are not in the current data, e.g. {prev.loc[prev['unknown'], 'customer_id'].head(3).tolist()}; "
            "check that both runs use the same customer ids", DataQualityWarning, stacklevel=2)

    def row(name: str, part: pd.DataFrame) -> dict[str, Any]:
        known = int((~part["unknown"]).sum())
        churned = int(part["churned"].sum())
        return {"group": name, "customers": len(part), "churned": churned,
                "still_active": int(part["active"].sum()), "unknown": int(part["unknown"].sum()),
                "churn_rate": churned / known if known else float("nan")}

    flagged = prev["score"] >= cutoff
    rows = [row("flagged", prev[flagged]), row("not flagged", prev[~flagged])]
    order = {"red": 0, "orange": 1, "yellow": 2, "green": 3}
    for tier in sorted(prev["tier"].dropna().unique(), key=lambda k: (order.get(k, 9), str(k))):
        rows.append(row(f"tier {tier}", prev[prev["tier"] == tier]))
    return WarningBacktest(pd.DataFrame(rows).set_index("group"), int(cutoff), previous_as_of, st.as_of)


class QuarterOverQuarter(Result):
    """This run against the previous one: churn rate, stability (PSI) and the back-test.

    Attributes
    ----------
    rates : DataFrame
        ``run, as_of, period, churn_rate``: the latest complete quarter of each run.
    stability : StabilityReport or None
        PSI of the score and the scorecard's inputs, previous live customers vs current ones.
    backtest : WarningBacktest
    """

    _title = "Quarter over quarter"

    def __init__(self, rates: pd.DataFrame, stability: StabilityReport | None,
                 backtest: WarningBacktest, previous_as_of: str):
        self.rates = rates
        self.stability = stability
        self.backtest = backtest
        self.previous_as_of = previous_as_of

    def to_frame(self) -> pd.DataFrame:
        return self.backtest.to_frame()

    def _header(self) -> dict[str, Any]:
        head: dict[str, Any] = {"previous as_of": self.previous_as_of}
        if len(self.rates) == 2:
            head["churn rate change (pp)"] = round(
                100 * (self.rates["churn_rate"].iloc[1] - self.rates["churn_rate"].iloc[0]), 2)
        if self.stability is not None:
            head["score PSI"] = round(float(self.stability.to_frame().loc["score", "psi"]), 4)
        return head


def _last_rate(metrics: dict[str, Any]) -> dict[str, Any] | None:
    rows = [r for r in metrics.get("churn_rate_by_quarter", []) if r.get("churn_rate") is not None]
    return rows[-1] if rows else None


def compare_quarters(previous_metrics: dict[str, Any], previous_list: pd.DataFrame,
                     current_metrics: dict[str, Any], current_live: pd.DataFrame | None,
                     st: SurvivalTable, *, previous_scorecard: Scorecard | None = None) -> QuarterOverQuarter:
    """Compare a run with the previous one (see :class:`QuarterOverQuarter`).

    Parameters
    ----------
    previous_metrics, current_metrics : dict
        The runs' ``metrics.json`` contents.
    previous_list : DataFrame
        The previous warning list (``warning_list.csv``: ids, scores and the scorecard's inputs).
    current_live : DataFrame, optional
        The current active customers' features (the scorecard's inputs).
    st : SurvivalTable
        The current survival table (who has churned by now).
    previous_scorecard : Scorecard, optional
        Last run's scorecard. Stability compares like with like: last run's scores against
        the scores the same scorecard gives the current customers, and each of its inputs.

    Raises
    ------
    DataError
        If the previous run is not earlier than this one.
    """
    prev_as_of = str(previous_metrics.get("as_of", ""))
    if prev_as_of and pd.Timestamp(prev_as_of) >= st.as_of.normalize():
        raise DataError([f"the previous run is as of {prev_as_of}, not before this run's "
                         f"{st.as_of.date()}. Fix: pass the output folder of an earlier quarter"],
                        context="--previous")
    rows = []
    for run, m in (("previous", previous_metrics), ("current", current_metrics)):
        last = _last_rate(m)
        if last is not None:
            rows.append({"run": run, "as_of": m.get("as_of"), "period": last["period"],
                         "churn_rate": last["churn_rate"]})
    rates = pd.DataFrame(rows, columns=["run", "as_of", "period", "churn_rate"])
    stability = None
    if previous_scorecard is not None and current_live is not None and len(previous_list) and len(current_live):
        cols = [v for v in previous_scorecard.variables if v in previous_list and v in current_live]
        old = previous_list[cols].assign(score=previous_list["score"].to_numpy())
        new = current_live[cols].assign(score=previous_scorecard.score(current_live).to_numpy())
        stability = population_stability(old, new, columns=["score", *cols])
    cutoff = (previous_metrics.get("warning_score") or {}).get("cutoff")
    bt = backtest_warnings(previous_list, st, cutoff=int(cutoff) if cutoff is not None else 4,
                           previous_as_of=prev_as_of)
    return QuarterOverQuarter(rates, stability, bt, prev_as_of)
