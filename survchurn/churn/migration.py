"""Stages over time: migration between two dates, churn types, and follow-up after a date.

* :func:`stage_migration`: who moved from which stage to which between two as-of dates, as a
  matrix of counts and shares (moves into churn included) and per customer (stage, days in
  stage, previous stage). The matrix **conserves customers**: every customer seen by the later
  date is in exactly one row and one column. Customers whose first event falls between the two
  dates sit in the row ``"(not yet a customer)"``, so row sums are the stage counts at the
  earlier date (plus the newcomers' row) and column sums the stage counts at the later date.
* :func:`churn_types`: the customers who churned in each period, typed by the stage they were
  in at their last visit (DOMAIN.md, "Lifecycle stages"): trial failure (new), churn after
  re-purchase (growth), sudden churn of a golden customer (mature, no slowdown before the
  last visit), gradual fade (decline).
* :func:`stage_survival_table`: for the customers not churned at ``as_of``, days from
  ``as_of`` until churn is recognised, by stage, ready for Kaplan-Meier and log-rank.

Thresholds derived from data are **frozen at the earlier date** and applied to the later one,
so that a move between stages is always a change in behaviour, never a change of threshold, and
nothing learned after the earlier date leaks into its table.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from survchurn._display import Result
from survchurn.churn._stage_engine import _EPOCH, Prepared, _day_of, _resolve_at, evaluate
from survchurn.churn.lifecycle import (
    STAGE_ORDER,
    StageResult,
    StageRules,
    _as_prepared,
    _as_rules,
    stage_at,
)
from survchurn.data.eventlog import EventLog, as_timestamp
from survchurn.exceptions import ChurnDefinitionError, ConfigError

__all__ = [
    "CHURN_TYPES",
    "NOT_YET",
    "ChurnTypesResult",
    "MigrationResult",
    "churn_types",
    "stage_migration",
    "stage_survival_table",
]

logger = logging.getLogger(__name__)

NOT_YET = "(not yet a customer)"
#: churn type by the stage at the last visit
CHURN_TYPES = {
    "new": "trial failure",
    "growth": "churn after re-purchase",
    "mature": "sudden churn (golden)",
    "decline": "gradual fade",
}


def _dates(
    d1: Any, d2: Any, names: tuple[str, str] = ("as_of_from", "as_of_to")
) -> tuple[pd.Timestamp, pd.Timestamp]:
    t1, t2 = as_timestamp(d1, names[0]), as_timestamp(d2, names[1])
    if t2 <= t1:
        raise ChurnDefinitionError(
            f"{names[1]} ({t2:%Y-%m-%d}) must be after {names[0]} ({t1:%Y-%m-%d}). Fix: swap or change the dates."
        )
    return t1, t2


class MigrationResult(Result):
    """Stage migration between two dates.

    Attributes
    ----------
    as_of_from, as_of_to : pandas.Timestamp
    counts : pandas.DataFrame
        Rows: stage at ``as_of_from`` plus ``"(not yet a customer)"``; columns: stage at
        ``as_of_to``. Row sums are the stage counts at the earlier date, column sums those at
        the later date.
    shares : pandas.DataFrame
        ``counts`` divided by row sums (where each stage's customers went); NaN for empty rows.
    customers : pandas.DataFrame
        ``customer_id, stage_from, stage_to, previous_stage, stage_since, days_in_stage,
        days_in_stage_at_least``: ``previous_stage`` is the stage before the current one and
        ``days_in_stage`` the days since the current stage began, as of ``as_of_to``.
        ``stage_since`` is exact under the rules for new, decline and churned; for growth and
        mature it is found on a grid of dates every ``step_days`` from ``as_of_from``, and
        when the stage has not changed since ``as_of_from`` the days are a lower bound
        (``days_in_stage_at_least``) and ``previous_stage`` is missing.
    from_result, to_result : StageResult
        The two stage tables (same frozen rules).
    """

    _title = "Stage migration"

    def __init__(
        self,
        from_result: StageResult,
        to_result: StageResult,
        customers: pd.DataFrame,
        step_days: int,
    ):
        self.from_result = from_result
        self.to_result = to_result
        self.as_of_from = from_result.as_of
        self.as_of_to = to_result.as_of
        self.customers = customers
        self.step_days = step_days
        rows = [*STAGE_ORDER, NOT_YET]
        self.counts = (
            pd.crosstab(customers["stage_from"], customers["stage_to"], dropna=False)
            .reindex(index=rows, columns=list(STAGE_ORDER), fill_value=0)
            .astype(np.int64)
        )
        self.counts.index.name = f"stage at {self.as_of_from:%Y-%m-%d}"
        self.counts.columns.name = f"stage at {self.as_of_to:%Y-%m-%d}"
        sums = self.counts.sum(axis=1).replace(0, np.nan)
        self.shares = self.counts.div(sums, axis=0)

    def to_frame(self) -> pd.DataFrame:
        """The count matrix with row and column totals."""
        out = self.counts.copy()
        out["total"] = out.sum(axis=1)
        out.loc["total"] = out.sum(axis=0)
        return out

    def into_churn(self) -> pd.DataFrame:
        """Per earlier stage: customers, how many churned by the later date, and the rate."""
        out = pd.DataFrame(
            {"customers": self.counts.sum(axis=1), "churned": self.counts["churned"]}
        )
        out["churn_rate"] = out["churned"] / out["customers"].replace(0, np.nan)
        return out

    def _header(self) -> dict[str, Any]:
        head: dict[str, Any] = {
            "from": self.as_of_from,
            "to": self.as_of_to,
            "customers at from": int(self.counts.drop(index=NOT_YET).to_numpy().sum()),
            "customers at to": int(self.counts.to_numpy().sum()),
            "new arrivals": int(self.counts.loc[NOT_YET].sum()),
        }
        for i, line in enumerate(self.from_result.rules_text(), 1):
            head[f"rule {i}"] = line
        return head


def stage_migration(
    events: pd.DataFrame | EventLog | Prepared,
    as_of_from: Any,
    as_of_to: Any,
    *,
    id_col: str = "customer_id",
    time_col: str = "date",
    amount_col: str | None = None,
    category_col: str | None = None,
    churn_window_days: int | None = None,
    settings: StageRules | None = None,
    step_days: int = 30,
) -> MigrationResult:
    """Stage migration between two as-of dates: a conserving matrix and per-customer moves.

    Parameters
    ----------
    events : DataFrame, EventLog or Prepared
        The event log (see :func:`~survchurn.churn.lifecycle.assign_stages`).
    as_of_from, as_of_to : date-like
        The two dates, e.g. the ends of two quarters; ``as_of_to`` must be later.
    id_col, time_col, amount_col, category_col : str
        Column names.
    churn_window_days : int, optional
        The churn window W (else derived at ``as_of_from``).
    settings : StageRules, optional
        Rules; thresholds left ``None`` are derived at ``as_of_from`` and frozen.
    step_days : int, default 30
        Grid step for locating when growth / mature stages began (days in stage).

    Returns
    -------
    MigrationResult

    Raises
    ------
    ChurnDefinitionError
        ``as_of_to`` not after ``as_of_from``, or ``as_of_from`` before the first event.
    ConfigError
        ``step_days`` not a positive integer, or invalid settings.
    """
    if (
        isinstance(step_days, bool)
        or not isinstance(step_days, (int, np.integer))
        or step_days <= 0
    ):
        raise ConfigError(f"step_days must be a positive whole number of days, got {step_days!r}")
    t1, t2 = _dates(as_of_from, as_of_to)
    rules = _as_rules(settings, churn_window_days)
    p = _as_prepared(events, id_col, time_col, amount_col, category_col)
    res = _resolve_at(p, t1, rules)
    r1 = stage_at(p, t1, rules, res)
    r2 = stage_at(p, t2, rules, res)
    cust = _customer_moves(p, r1, r2, res, int(step_days))
    out = MigrationResult(r1, r2, cust, int(step_days))
    logger.info("stage migration %s -> %s: %d customers", t1.date(), t2.date(), len(cust))
    return out


def _customer_moves(
    p: Prepared, r1: StageResult, r2: StageResult, res: Any, step: int
) -> pd.DataFrame:
    d1, d2 = _day_of(r1.as_of), _day_of(r2.as_of)
    to = r2.customers
    codes = p.ids.get_indexer(to["customer_id"])
    stage_to = to["stage"].cat.codes.to_numpy().astype(np.int8)
    n = len(p.ids)
    # Grid of stage codes from d1 to d2 (d2 included), -1 where not yet a customer.
    grid = list(range(d1, d2, step)) + [d2]
    hist = np.empty((len(grid), len(codes)), dtype=np.int8)
    for i, day in enumerate(grid):
        f, stage, _ = evaluate(p, np.full(n, day, dtype=np.int64), res)
        hist[i] = np.where(f["has"][codes], stage[codes], -1)
    differs = hist != stage_to[None, :]
    changed = differs.any(axis=0)
    last_diff = len(grid) - 1 - np.argmax(differs[::-1], axis=0)  # last grid row that differs
    run_start = np.where(changed, np.asarray(grid)[np.minimum(last_diff + 1, len(grid) - 1)], d1)
    since = to["stage_since"].to_numpy()
    since_day = np.where(
        pd.isna(since), np.nan, since.astype("datetime64[D]").astype(np.int64).astype(float)
    )
    exact = np.isfinite(since_day)
    # The stage began after the last grid day on which it differed.
    after_diff = np.where(changed, np.asarray(grid)[last_diff] + 1, np.iinfo(np.int64).min)
    start = np.maximum(np.where(exact, since_day, run_start), after_diff).astype(np.int64)
    at_least = ~exact & ~changed
    # Previous stage: the stage the day before the current one began.
    prev = np.full(len(codes), -2, dtype=np.int8)
    known = ~at_least
    if known.any():
        cut = np.full(n, d1, dtype=np.int64)
        cut[codes[known]] = start[known] - 1
        f, stage, _ = evaluate(p, cut, res)
        prev[known] = np.where(f["has"][codes[known]], stage[codes[known]], -1)
    labels = np.array([*STAGE_ORDER, NOT_YET, None], dtype=object)  # -1 -> NOT_YET, -2 -> None
    from_codes = r1.customers.set_index("customer_id")["stage"].astype(str)
    stage_from = to["customer_id"].map(from_codes).fillna(NOT_YET)
    return pd.DataFrame(
        {
            "customer_id": to["customer_id"].to_numpy(),
            "stage_from": pd.Categorical(stage_from, categories=[*STAGE_ORDER, NOT_YET]),
            "stage_to": to["stage"].to_numpy(),
            "previous_stage": labels[
                np.where(prev >= 0, prev, np.where(prev == -1, len(STAGE_ORDER), -1))
            ],
            "stage_since": (_EPOCH + start).astype("datetime64[ns]"),
            "days_in_stage": d2 - start,
            "days_in_stage_at_least": at_least,
        }
    )


class ChurnTypesResult(Result):
    """Churned customers per period, by the stage at their last visit.

    Attributes
    ----------
    table : pandas.DataFrame
        ``period_start, period_end, churn_type, stage, customers, share`` (share within the
        period), every type listed for every period.
    customers : pandas.DataFrame
        ``customer_id, period_end, last_visit, stage_at_last_visit, churn_type``.
    dates : list of pandas.Timestamp
    """

    _title = "Churn types"

    def __init__(
        self,
        table: pd.DataFrame,
        customers: pd.DataFrame,
        dates: list[pd.Timestamp],
        rules: list[str],
    ):
        self.table = table
        self.customers = customers
        self.dates = dates
        self._rules = rules

    def to_frame(self) -> pd.DataFrame:
        """The per-period table (see ``table``)."""
        return self.table.copy()

    def pivot(self, value: str = "customers") -> pd.DataFrame:
        """Periods as rows, churn types as columns (``value``: "customers" or "share")."""
        t = self.table.assign(period=self.table["period_end"].dt.strftime("%Y-%m-%d"))
        return t.pivot(index="period", columns="churn_type", values=value).reindex(
            columns=list(CHURN_TYPES.values())
        )

    def _header(self) -> dict[str, Any]:
        head: dict[str, Any] = {
            "periods": len(self.dates) - 1,
            "churned": len(self.customers),
            "type": "stage at the last visit: new = trial failure, growth = churn after re-purchase, "
            "mature = sudden churn (golden), decline = gradual fade",
        }
        for i, line in enumerate(self._rules, 1):
            head[f"rule {i}"] = line
        return head


def churn_types(
    events: pd.DataFrame | EventLog | Prepared,
    dates: Sequence[Any],
    *,
    id_col: str = "customer_id",
    time_col: str = "date",
    amount_col: str | None = None,
    category_col: str | None = None,
    churn_window_days: int | None = None,
    settings: StageRules | None = None,
) -> ChurnTypesResult:
    """Type the customers who churned in each period by their stage at the last visit.

    A customer churns in the period ``(d[i], d[i+1]]`` when not churned at ``d[i]`` (or not yet
    a customer) and churned at ``d[i+1]``. The type comes from the stage at the customer's last
    visit, taken with the data up to that visit only (rules frozen at ``d[i]``): on that day the
    recency is 0, so a customer is in *decline* only if the last gap was already stretched: the
    difference between a gradual fade and a sudden stop.

    Parameters
    ----------
    events : DataFrame, EventLog or Prepared
    dates : sequence of date-like
        At least two increasing dates (e.g. quarter ends).
    id_col, time_col, amount_col, category_col, churn_window_days, settings
        As for :func:`stage_migration`.

    Returns
    -------
    ChurnTypesResult

    Raises
    ------
    ChurnDefinitionError
        Fewer than two dates, or dates not increasing.
    """
    stamps = [as_timestamp(d, "dates") for d in dates]
    if len(stamps) < 2:
        raise ChurnDefinitionError(
            f"churn_types needs at least two dates, got {len(stamps)}. Fix: e.g. two quarter ends."
        )
    for a, b in zip(stamps[:-1], stamps[1:], strict=True):
        _dates(a, b, ("dates[i]", "dates[i+1]"))
    rules = _as_rules(settings, churn_window_days)
    p = _as_prepared(events, id_col, time_col, amount_col, category_col)
    n = len(p.ids)
    rows, custs, rule_text = [], [], []
    churned_code = STAGE_ORDER.index("churned")
    for a, b in zip(stamps[:-1], stamps[1:], strict=True):
        res = _resolve_at(p, a, rules)
        ra = stage_at(p, a, rules, res)
        rule_text = rule_text or ra.rules_text()
        fa, sa, _ = evaluate(p, np.full(n, _day_of(a), dtype=np.int64), res)
        fb, sb, _ = evaluate(p, np.full(n, _day_of(b), dtype=np.int64), res)
        moved = fb["has"] & (sb == churned_code) & ~(fa["has"] & (sa == churned_code))
        idx = np.flatnonzero(moved)
        cut = np.full(n, _day_of(a), dtype=np.int64)
        cut[idx] = fb["last"][idx]
        _, sl, _ = evaluate(p, cut, res)
        stage_last = np.array(STAGE_ORDER, dtype=object)[sl[idx]]
        ctype = pd.Series(stage_last).map(CHURN_TYPES).to_numpy()
        custs.append(
            pd.DataFrame(
                {
                    "customer_id": p.ids[idx],
                    "period_end": b,
                    "last_visit": (_EPOCH + fb["last"][idx]).astype("datetime64[ns]"),
                    "stage_at_last_visit": stage_last,
                    "churn_type": ctype,
                }
            )
        )
        counts = pd.Series(ctype).value_counts().reindex(list(CHURN_TYPES.values()), fill_value=0)
        total = max(int(counts.sum()), 1)
        for stage, label in CHURN_TYPES.items():
            rows.append(
                {
                    "period_start": a,
                    "period_end": b,
                    "churn_type": label,
                    "stage": stage,
                    "customers": int(counts[label]),
                    "share": counts[label] / total,
                }
            )
    table = pd.DataFrame(rows)
    customers = pd.concat(custs, ignore_index=True)
    return ChurnTypesResult(table, customers, stamps, rule_text)


def stage_survival_table(
    events: pd.DataFrame | EventLog | Prepared,
    as_of: Any,
    *,
    until: Any = None,
    id_col: str = "customer_id",
    time_col: str = "date",
    amount_col: str | None = None,
    category_col: str | None = None,
    churn_window_days: int | None = None,
    settings: StageRules | None = None,
) -> pd.DataFrame:
    """Follow-up after a stage table: days from ``as_of`` until churn is recognised, by stage.

    For every customer *not churned* at ``as_of``, the visits after ``as_of`` up to ``until``
    are scanned for the first lapse of more than W days (W: the stage rules' churn window).
    A lapse after a visit on day v is recognised on day ``v + W + 1`` (the day the stage rule
    would say "churned"): ``duration = v + W + 1 - as_of`` and ``event = 1``. Customers
    without a lapse recognised by ``until`` are censored at ``until - as_of``. This
    "recognition clock" keeps every duration positive; the survival table's "last activity"
    clock differs from it by W + 1 days for every churned customer.

    Parameters
    ----------
    events : DataFrame, EventLog or Prepared
    as_of : date-like
        The date of the stage table.
    until : date-like, optional
        End of follow-up; default the last event date in the log.
    id_col, time_col, amount_col, category_col, churn_window_days, settings
        As for :func:`~survchurn.churn.lifecycle.assign_stages`.

    Returns
    -------
    pandas.DataFrame
        ``customer_id, stage`` (at ``as_of``; churned customers left out), ``duration``
        (days), ``event`` (1 churn recognised, 0 censored), ``churn_window_days``;
        ``attrs`` holds ``as_of`` and ``until``.

    Raises
    ------
    ChurnDefinitionError
        ``until`` not after ``as_of``.
    """
    rules = _as_rules(settings, churn_window_days)
    p = _as_prepared(events, id_col, time_col, amount_col, category_col)
    t0 = as_timestamp(as_of)
    t_end = (
        as_timestamp(until, "until")
        if until is not None
        else pd.Timestamp((_EPOCH + int(p.vday.max())).item())
    )
    _dates(t0, t_end, ("as_of", "until"))
    res = _resolve_at(p, t0, rules)
    r = stage_at(p, t0, rules, res)
    d0, d_end, w = _day_of(t0), _day_of(t_end), res.churn_window_days
    table = r.customers.loc[
        r.customers["stage"] != "churned", ["customer_id", "stage"]
    ].reset_index(drop=True)
    codes = p.ids.get_indexer(table["customer_id"])
    n = len(p.ids)
    active = np.zeros(n, dtype=bool)
    active[codes] = True
    # Visits of active customers from their last visit on or before as_of, up to until.
    f0 = r.customers.set_index("customer_id")["last_date"]
    last0 = np.full(n, np.iinfo(np.int64).max)
    last0[codes] = (
        f0.reindex(table["customer_id"]).to_numpy().astype("datetime64[D]").astype(np.int64)
    )
    keep = active[p.vcust] & (p.vday >= last0[p.vcust]) & (p.vday <= d_end)
    vc, vd = p.vcust[keep], p.vday[keep]
    nxt = np.r_[vd[1:], 0]
    is_last = np.r_[vc[1:] != vc[:-1], True]
    gap = np.where(is_last, d_end - vd, nxt - vd)
    lapse = gap > w
    first_lapse = np.full(n, -1, dtype=np.int64)
    pos = np.flatnonzero(lapse)
    # first lapse per customer: positions are sorted, keep the first per customer
    uc, first_idx = np.unique(vc[pos], return_index=True)
    first_lapse[uc] = vd[pos[first_idx]]
    fl = first_lapse[codes]
    event = fl >= 0
    table["duration"] = np.where(event, fl + w + 1 - d0, d_end - d0).astype(float)
    table["event"] = event.astype(np.int64)
    table["churn_window_days"] = w
    table.attrs.update({"as_of": t0, "until": t_end})
    return table
