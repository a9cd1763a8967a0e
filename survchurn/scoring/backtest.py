"""Quarter over quarter: did last quarter's warnings come true, and has the population moved?"""

from __future__ import annotations

from typing import Any

import pandas as pd

from survchurn._display import Result
from survchurn.churn.survival_table import SurvivalTable
from survchurn.exceptions import ScoringError

__all__ = ["WarningBacktest", "backtest_warnings"]


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
    now = st.table.set_index("customer_id")["event"]
    prev = previous.assign(customer_id=previous["customer_id"].astype(now.index.dtype, errors="ignore"))
    outcome = prev["customer_id"].map(now)
    prev = prev.assign(churned=(outcome == 1), active=(outcome == 0), unknown=outcome.isna())

    def row(name: str, part: pd.DataFrame) -> dict[str, Any]:
        known = int((~part["unknown"]).sum())
        churned = int(part["churned"].sum())
        return {"group": name, "customers": len(part), "churned": churned,
                "still_active": int(part["active"].sum()), "unknown": int(part["unknown"].sum()),
                "churn_rate": churned / known if known else float("nan")}

    flagged = prev["score"] >= cutoff
    rows = [row("flagged", prev[flagged]), row("not flagged", prev[~flagged])]
    rows += [row(f"tier {tier}", part) for tier, part in prev.groupby("tier", sort=True)]
    return WarningBacktest(pd.DataFrame(rows).set_index("group"), int(cutoff), previous_as_of, st.as_of)
