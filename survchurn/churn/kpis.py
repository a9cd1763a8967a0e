"""Business KPIs from a survival table: churn rate per period, rate conversion, cohort retention.

* :func:`churn_rate_by_period` - customers lost in a period / customers at its start;
* :func:`convert_rate` - between monthly, quarterly and annual rates: compound
  ``1 - (1 - r) ** k`` (5% a month is about 46% a year), or the naive ``r * k`` under the
  explicit name ``method="simple"``;
* :func:`cohort_retention` - the retention table by acquisition month (the cohort heatmap). Each
  cell is the Kaplan-Meier estimate of the cohort's survival at that age (Kaplan & Meier 1958,
  product-limit ``S(t) = prod_{u <= t} (1 - d_u / n_u)``), which equals the plain share still
  active whenever no customer of the cohort was censored before that age (both are reported).

A churn dated at the last activity is only known W days later (inactivity churn), so the
latest periods and ages are marked ``observable = False``: their rates are lower bounds.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from survchurn._display import Result
from survchurn.churn.definitions import ContractualChurn, InactivityChurn, PartialChurn
from survchurn.churn.survival_table import SurvivalTable
from survchurn.exceptions import ChurnDefinitionError

__all__ = ["ChurnRates", "CohortRetention", "churn_rate_by_period", "cohort_retention", "convert_rate",
           "km_at"]

PERIOD_DAYS = {"day": 1.0, "week": 7.0, "month": 365.25 / 12, "quarter": 365.25 / 4, "year": 365.25}


def _lag_days(st: SurvivalTable) -> int:
    """Days after the churn date until the churn becomes known."""
    d = st.definition
    if isinstance(d, InactivityChurn):
        return d.window_days
    if isinstance(d, PartialChurn):
        return d.period_days
    if isinstance(d, ContractualChurn):
        return 0
    return 0  # pragma: no cover


def _check_table(st: Any, what: str) -> SurvivalTable:
    if not isinstance(st, SurvivalTable):
        raise ChurnDefinitionError(
            f"{what} needs a SurvivalTable, got {type(st).__name__}. "
            "Fix: build one with survchurn.churn.survival_table.survival_table(log, definition, as_of)."
        )
    return st


class ChurnRates(Result):
    """Churn rate per period: ``period_start, period_end, at_start, new, lost, lost_new,
    churn_rate, observable``."""

    _title = "ChurnRates"

    def __init__(self, table: pd.DataFrame, st: SurvivalTable, freq: str):
        self.table, self.definition, self.as_of, self.freq = table, st.definition, st.as_of, freq

    def to_frame(self) -> pd.DataFrame:
        """The table (a copy)."""
        return self.table.copy()

    def _header(self) -> dict[str, Any]:
        return {"definition": self.definition.describe(), "as_of": self.as_of, "periods": self.freq,
                "rate": "lost in period / at start (new customers lost in their first period: lost_new)"}


def churn_rate_by_period(st: SurvivalTable, freq: str = "MS") -> ChurnRates:
    """Churn rate per calendar period: customers lost / customers at the start.

    Parameters
    ----------
    st : SurvivalTable
    freq : str
        A pandas period-start frequency: ``"MS"`` months, ``"QS"`` quarters, ``"YS"`` years.

    Returns
    -------
    ChurnRates
        ``at_start``: entered before the period and not churned before it; ``lost``: those of
        them whose churn date falls in the period; ``new``: entered during the period;
        ``lost_new``: new customers lost in the same period (not in the rate);
        ``observable``: the period ended at least the recognition lag (W for inactivity churn)
        before ``as_of``, so its churn count is final.
    """
    st = _check_table(st, "churn_rate_by_period")
    t = st.table
    if t.empty:
        raise ChurnDefinitionError("churn_rate_by_period: the survival table is empty.")
    try:
        starts = pd.date_range(t["entry_date"].min().normalize(), st.as_of, freq=freq)
    except ValueError as exc:
        raise ChurnDefinitionError(f"freq={freq!r} is not a pandas frequency such as 'MS' or 'QS'.") from exc
    if len(starts) == 0 or starts[0] > t["entry_date"].min():
        starts = pd.DatetimeIndex([t["entry_date"].min().normalize()]).append(starts)
    ends = starts[1:].append(pd.DatetimeIndex([st.as_of + pd.Timedelta(days=1)]))
    entry, churn = t["entry_date"].to_numpy(), t["churn_date"].to_numpy()
    churned = t["event"].to_numpy() == 1
    rows = []
    lag = pd.Timedelta(days=_lag_days(st))
    for s, e in zip(starts, ends, strict=True):
        s64, e64 = np.datetime64(s), np.datetime64(e)
        alive = (entry < s64) & ~(churned & (churn < s64))
        lost = alive & churned & (churn >= s64) & (churn < e64)
        new = (entry >= s64) & (entry < e64)
        rows.append((s, e - pd.Timedelta(days=1), int(alive.sum()), int(new.sum()), int(lost.sum()),
                     int((new & churned & (churn < e64)).sum()), e - pd.Timedelta(days=1) + lag <= st.as_of))
    table = pd.DataFrame(rows, columns=["period_start", "period_end", "at_start", "new", "lost", "lost_new",
                                        "observable"])
    table.insert(6, "churn_rate", table["lost"] / table["at_start"].where(table["at_start"] > 0))
    return ChurnRates(table, st, freq)


def convert_rate(rate: Any, from_period: str | float = "month", to_period: str | float = "year",
                 *, method: str = "compound") -> Any:
    """Convert a churn rate between period lengths.

    Parameters
    ----------
    rate : float or array-like
        Churn rate(s) per ``from_period``, in [0, 1].
    from_period, to_period : str or float
        ``"day"``, ``"week"``, ``"month"`` (365.25/12 days), ``"quarter"``, ``"year"``, or a
        number of days.
    method : {"compound", "simple"}
        ``"compound"``: ``1 - (1 - rate) ** k`` with ``k = to / from`` (the survival over k
        periods; 5% a month is 46% a year). ``"simple"``: ``rate * k``, the naive scaling,
        wrong for anything but small rates and short spans; named so nobody uses it unknowingly.

    Returns
    -------
    float or numpy.ndarray
    """
    def days(p: str | float, name: str) -> float:
        if isinstance(p, str):
            if p not in PERIOD_DAYS:
                raise ChurnDefinitionError(f"{name}={p!r} is not one of {sorted(PERIOD_DAYS)} nor a number of days.")
            return PERIOD_DAYS[p]
        if isinstance(p, bool) or not isinstance(p, int | float) or not p > 0:
            raise ChurnDefinitionError(f"{name}={p!r} must be a period name or a positive number of days.")
        return float(p)

    k = days(to_period, "to_period") / days(from_period, "from_period")
    r = np.asarray(rate, dtype=float)
    if np.any(~np.isfinite(r)) or np.any((r < 0) | (r > 1)):
        raise ChurnDefinitionError(f"rate must be a share in [0, 1], got {rate!r}.")
    if method == "compound":
        out = 1.0 - (1.0 - r) ** k
    elif method == "simple":
        out = r * k
    else:
        raise ChurnDefinitionError(f"method={method!r}: use 'compound' (right) or 'simple' (naive r * k).")
    return float(out) if out.ndim == 0 else out


def km_at(durations: np.ndarray, events: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Kaplan-Meier survival at ``times`` (right-continuous: events at t count by t)."""
    d = np.asarray(durations, float)
    e = np.asarray(events).astype(bool)
    ut = np.unique(d[e])
    if ut.size == 0:
        return np.ones(len(times))
    order = np.sort(d)
    at_risk = d.size - np.searchsorted(order, ut, side="left")
    deaths = np.bincount(np.searchsorted(ut, d[e]), minlength=ut.size)
    surv = np.cumprod(1.0 - deaths / at_risk)
    idx = np.searchsorted(ut, np.asarray(times, float), side="right") - 1
    return np.where(idx >= 0, surv[np.clip(idx, 0, None)], 1.0)


class CohortRetention(Result):
    """Retention by acquisition cohort and age.

    Attributes
    ----------
    table : pandas.DataFrame
        Long form: ``cohort, period, age_days, n_cohort, churned_by, censored_before,
        retention_km, retention_simple, observable``.
    """

    _title = "CohortRetention"

    def __init__(self, table: pd.DataFrame, st: SurvivalTable, period_days: int):
        self.table, self.definition, self.as_of, self.period_days = table, st.definition, st.as_of, period_days

    @property
    def matrix(self) -> pd.DataFrame:
        """Cohorts x periods of Kaplan-Meier retention; cells not yet observable are NaN."""
        t = self.table.assign(value=self.table["retention_km"].where(self.table["observable"]))
        return t.pivot(index="cohort", columns="period", values="value")

    def to_frame(self) -> pd.DataFrame:
        """The long table (a copy)."""
        return self.table.copy()

    def _header(self) -> dict[str, Any]:
        return {"definition": self.definition.describe(), "as_of": self.as_of,
                "cohorts": self.table["cohort"].nunique(), "period_days": self.period_days,
                "cell": "Kaplan-Meier survival of the cohort at the age (= share retained without censoring)"}


def cohort_retention(st: SurvivalTable, *, period_days: int = 30, max_periods: int | None = None,
                     cohort_freq: str = "M") -> CohortRetention:
    """Retention table by acquisition cohort (calendar month of ``entry_date`` by default).

    Parameters
    ----------
    st : SurvivalTable
    period_days : int
        Age step of the columns (ages ``0, P, 2P, ...`` days after entry).
    max_periods : int, optional
        Last age column; by default as far as the oldest cohort is observable.
    cohort_freq : str
        pandas period frequency of cohorts (``"M"`` months, ``"Q"`` quarters).

    Returns
    -------
    CohortRetention
    """
    st = _check_table(st, "cohort_retention")
    if isinstance(period_days, bool) or not isinstance(period_days, int) or period_days <= 0:
        raise ChurnDefinitionError(f"period_days must be a positive whole number, got {period_days!r}.")
    t = st.table
    if t.empty:
        raise ChurnDefinitionError("cohort_retention: the survival table is empty.")
    try:
        cohort = t["entry_date"].dt.to_period(cohort_freq)
    except ValueError as exc:
        raise ChurnDefinitionError(f"cohort_freq={cohort_freq!r} is not a pandas period frequency such as 'M'.") from exc
    lag = _lag_days(st)
    if max_periods is None:
        oldest = (st.as_of - t["entry_date"].min()).days - lag
        max_periods = max(int(oldest // period_days), 0)
    ages = np.arange(max_periods + 1) * float(period_days)
    rows = []
    for c, grp in t.groupby(cohort, sort=True):
        d, e = grp["duration"].to_numpy(float), grp["event"].to_numpy()
        km = km_at(d, e, ages)
        youngest = grp["entry_date"].max()
        for k, age in enumerate(ages):
            churned_by = int(((e == 1) & (d <= age)).sum())
            cens = int(((e == 0) & (d < age)).sum())
            rows.append((str(c), k, age, len(grp), churned_by, cens, km[k], 1.0 - churned_by / len(grp),
                         youngest + pd.Timedelta(days=age + lag) <= st.as_of))
    table = pd.DataFrame(rows, columns=["cohort", "period", "age_days", "n_cohort", "churned_by",
                                        "censored_before", "retention_km", "retention_simple", "observable"])
    return CohortRetention(table, st, period_days)
