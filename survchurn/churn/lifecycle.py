"""Lifecycle stages as of a date: new, growth, mature, decline, churned.

DOMAIN.md, "Lifecycle stages": customers move from *new* (first purchase only) to *growth*
(re-purchasing) to *mature* (re-purchasing across categories: the golden customers), and many
pass through *decline* (their rhythm fades) before they *churn*. :func:`assign_stages` puts
every customer seen up to ``as_of`` into one stage, from behaviour up to ``as_of`` only, with
rules whose thresholds come from the data (see :class:`StageRules`). The rules are printed
with every result.

Behaviour is measured on **visits**: distinct (customer, day) pairs, so that several lines of
one visit (CDNOW's same-day orders, a service visit with three service lines) count once for
frequency and gaps, while amounts and categories add up over all lines.

The engine (private module :mod:`survchurn.churn._stage_engine`) is plain vectorised numpy
over pre-sorted arrays (no per-customer Python), so a log of 10 million events is staged in
seconds. The point-in-time features it computes (recency, tenure, gaps, visits, spend and
category breadth in the lookback window) are returned in ``StageResult.customers``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from survchurn._display import Result
from survchurn.churn._stage_engine import (
    _EPOCH,
    Prepared,
    _check_as_of,
    _classify,
    _day_of,
    _resolve_with_features,
    _Resolved,
    evaluate,
)
from survchurn.data.eventlog import EventLog, as_timestamp
from survchurn.exceptions import ConfigError, DataError, DataProblem

__all__ = ["STAGE_ORDER", "StageResult", "StageRules", "assign_stages", "prepare_events"]

logger = logging.getLogger(__name__)

STAGE_ORDER = ("new", "growth", "mature", "decline", "churned")


@dataclass(frozen=True)
class StageRules:
    """Settings of the stage rules; ``None`` means "derive from the data as of the date".

    Parameters
    ----------
    churn_window_days : int, optional
        Churned = no visit for W days or more. Default: the ``churn_quantile`` quantile of
        all inter-visit gaps completed by ``as_of`` (a gap longer than almost every gap seen
        is taken as a lapse). Pass the window from your churn definition to stay consistent.
    churn_quantile : float, default 0.95
    new_tenure_days : int, optional
        New = a single visit so far, or a first visit less than this many days ago. Default:
        the purchase cycle (median inter-visit gap), i.e. not yet one cycle old.
    lookback_days : int, optional
        Window for current activity (visits, spend, categories). Default: two purchase
        cycles, long enough to see two visits of a customer on the usual rhythm.
    decline_ratio : float, optional
        Decline = the current gap (days since the last visit, or the last completed gap if
        longer) exceeds ``decline_ratio`` times the customer's own usual gap (median of the
        earlier gaps; the one gap for two-visit customers). Default: the
        ``decline_quantile`` quantile, over customers with three or more visits, of
        (last gap / usual gap): a slowdown that only 5% of such gaps reach.
    decline_quantile : float, default 0.95
    mature_rule : {"auto", "categories", "top_band", "either"}, default "auto"
        ``"categories"``: cross-purchase, at least ``min_categories`` distinct categories
        bought after the first purchase within the lookback window; ``"top_band"``: the top
        band of frequency and value, i.e. the top ``1 - top_quantile`` of active repeat
        customers by the mean of their percentile ranks in visits and in spend over the
        lookback window (an RFM-style score; the rule for logs without categories); ``"either"``: one of
        the two; ``"auto"``: categories when a category column is given, else top band.
    min_categories : int, default 3
        Cross-purchase means the main line plus at least two others (with 2, a customer who
        once bought a second line would already be "golden").
    top_quantile : float, default 0.75
        The top band is the top quarter by the frequency-and-value score.
    prior_gaps : float, default 2
        The usual gap is shrunk towards the purchase cycle as if each customer had this many
        extra gaps of the population's median length: ``(k * own median + prior_gaps *
        cycle) / (k + prior_gaps)`` with k the customer's gaps, so that one short gap of a
        young customer does not make the next normal gap look like a decline. 0 turns it off.
    """

    churn_window_days: int | None = None
    churn_quantile: float = 0.95
    new_tenure_days: int | None = None
    lookback_days: int | None = None
    decline_ratio: float | None = None
    decline_quantile: float = 0.95
    mature_rule: Literal["auto", "categories", "top_band", "either"] = "auto"
    min_categories: int = 3
    top_quantile: float = 0.75
    prior_gaps: float = 2.0

    def __post_init__(self) -> None:
        for name in ("churn_quantile", "decline_quantile", "top_quantile"):
            q = getattr(self, name)
            if not 0.0 < q < 1.0:
                raise ConfigError(f"StageRules.{name} must be in (0, 1), got {q!r}")
        for name in ("churn_window_days", "new_tenure_days", "lookback_days"):
            v = getattr(self, name)
            if v is not None and (
                isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0
            ):
                raise ConfigError(
                    f"StageRules.{name} must be a positive whole number of days, got {v!r}"
                )
        if self.decline_ratio is not None and not self.decline_ratio > 1.0:
            raise ConfigError(
                f"StageRules.decline_ratio must be above 1, got {self.decline_ratio!r}"
            )
        if not (isinstance(self.prior_gaps, (int, float)) and self.prior_gaps >= 0):
            raise ConfigError(
                f"StageRules.prior_gaps must be a number >= 0, got {self.prior_gaps!r}"
            )
        if self.mature_rule not in ("auto", "categories", "top_band", "either"):
            raise ConfigError(
                f"StageRules.mature_rule must be 'auto', 'categories', 'top_band' or 'either', got {self.mature_rule!r}"
            )
        if (
            isinstance(self.min_categories, bool)
            or not isinstance(self.min_categories, int)
            or self.min_categories < 2
        ):
            raise ConfigError(
                f"StageRules.min_categories must be an integer >= 2, got {self.min_categories!r}"
            )


def _problem(column: str, message: str, mask: np.ndarray, ids: Any, fix: str) -> DataProblem:
    ex = pd.Series(ids)[np.asarray(mask)].head(5).tolist()
    return DataProblem(column, message, int(np.sum(mask)), ex, fix)


def prepare_events(
    events: pd.DataFrame | EventLog,
    *,
    id_col: str = "customer_id",
    time_col: str = "date",
    amount_col: str | None = None,
    category_col: str | None = None,
) -> Prepared:
    """Check an event log and turn it into sorted arrays (done once, reused for many dates).

    Parameters
    ----------
    events : pandas.DataFrame or EventLog
        One row per event. An :class:`~survchurn.data.eventlog.EventLog` is read with its
        canonical columns (``customer_id``, ``time``, ``amount``/``category`` when mapped)
        and the column arguments are ignored.
    id_col, time_col, amount_col, category_col : str
        Column names in ``events``.

    Raises
    ------
    DataError
        Missing columns, missing ids, dates that are missing or cannot be read, amounts that
        are not numbers; all reported at once.
    """
    if isinstance(events, EventLog):
        frame = events.to_pandas()
        id_col, time_col = "customer_id", "time"
        amount_col = "amount" if events.has_amount else None
        category_col = "category" if events.has_category else None
        events = frame
    if not isinstance(events, pd.DataFrame):
        raise DataError(
            [
                DataProblem(
                    None,
                    f"events must be a pandas DataFrame or an EventLog, got {type(events).__name__}",
                    0,
                )
            ],
            context="lifecycle stages",
        )
    wanted = [c for c in (id_col, time_col, amount_col, category_col) if c is not None]
    missing = [c for c in wanted if c not in events.columns]
    if missing:
        have = ", ".join(map(str, events.columns[:20]))
        raise DataError(
            [
                DataProblem(
                    c,
                    "column not found in the event log",
                    len(events),
                    (),
                    f"pass the right name; columns are: {have}",
                )
                for c in missing
            ],
            context="lifecycle stages",
        )
    ids = events[id_col]
    problems = []
    if ids.isna().any():
        problems.append(
            _problem(
                id_col,
                "missing customer id",
                ids.isna().to_numpy(),
                events.index,
                "drop or fill these rows",
            )
        )
    times = events[time_col]
    if not pd.api.types.is_datetime64_any_dtype(times):
        try:
            times = pd.to_datetime(times, errors="coerce")
        except (TypeError, ValueError):
            times = pd.Series(pd.NaT, index=events.index)
    if getattr(times.dt, "tz", None) is not None:
        times = times.dt.tz_convert("UTC").dt.tz_localize(None)
    bad_t = times.isna().to_numpy()
    if bad_t.any():
        problems.append(
            _problem(
                time_col,
                "dates that are missing or cannot be read",
                bad_t,
                ids,
                "fix or drop these rows",
            )
        )
    amount = None
    if amount_col is not None:
        amt = pd.to_numeric(events[amount_col], errors="coerce")
        bad_a = (amt.isna() & events[amount_col].notna()).to_numpy() | ~np.isfinite(
            amt.fillna(0).to_numpy(float)
        )
        if bad_a.any():
            problems.append(
                _problem(
                    amount_col, "amounts that are not numbers", bad_a, ids, "fix these amounts"
                )
            )
        amount = amt.fillna(0.0).to_numpy(float)
    if problems:
        raise DataError(problems, context="lifecycle stages")
    if len(events) == 0:
        raise DataError(
            [DataProblem(None, "the event log is empty", 0, (), "pass a log with events")],
            context="lifecycle stages",
        )

    codes, uniques = pd.factorize(ids, sort=True)
    cust = codes.astype(np.int64)
    day = times.to_numpy().astype("datetime64[D]").astype(np.int64)
    cat, n_cat = None, 0
    if category_col is not None:
        ccodes, cuniq = pd.factorize(events[category_col])
        cat, n_cat = ccodes.astype(np.int64), len(cuniq)  # missing category -> -1 (not counted)
    d0 = int(day.min())
    span = int(day.max()) - d0 + 1
    key = cust * span + (day - d0)
    if np.any(key[1:] < key[:-1]):
        order = np.argsort(key, kind="stable")
        key, cust, day = key[order], cust[order], day[order]
        amount = amount[order] if amount is not None else None
        cat = cat[order] if cat is not None else None
    first_of_day = np.r_[True, key[1:] != key[:-1]]
    vcust, vday = cust[first_of_day], day[first_of_day]
    n = len(uniques)
    vcount = np.bincount(vcust, minlength=n)
    vstart = np.r_[0, np.cumsum(vcount)[:-1]]
    gap = np.r_[-1, np.diff(vday)]
    gap[vstart] = -1
    return Prepared(
        pd.Index(uniques, name="customer_id"),
        cust,
        day,
        amount,
        cat,
        n_cat,
        vcust,
        vday,
        vstart,
        vcount,
        gap,
    )


class StageResult(Result):
    """Stages of every customer seen up to ``as_of``, with the rules that produced them.

    Attributes
    ----------
    as_of : pandas.Timestamp
    customers : pandas.DataFrame
        One row per customer: ``customer_id, stage`` (ordered categorical), ``stage_since``
        (the day the customer entered the stage: exact under the rules for new, decline and
        churned; NaT for growth and mature, which have no single trigger), ``first_date,
        last_date, n_visits, tenure_days, recency_days, last_gap_days, usual_gap_days,
        gap_ratio, visits_lookback`` and ``value_lookback`` / ``categories_lookback`` when
        amounts / categories are given.
    rules : dict
        The thresholds in force (``churn_window_days``, ``new_tenure_days``,
        ``lookback_days``, ``decline_ratio``, ``mature_rule``, ``min_categories``,
        ``top_score``, ``purchase_cycle_days``, ``prior_gaps``).
    origin : dict
        Where each derived threshold came from.
    settings : StageRules
    """

    _title = "Lifecycle stages"

    def __init__(
        self,
        as_of: pd.Timestamp,
        customers: pd.DataFrame,
        resolved: _Resolved,
        settings: StageRules,
    ):
        self.as_of = as_of
        self.customers = customers
        self.rules = {
            f.name: getattr(resolved, f.name)
            for f in fields(resolved)
            if f.name not in ("origin", "top_ref")
        }
        self.origin = dict(resolved.origin)
        self.settings = settings
        self._resolved = resolved

    def counts(self) -> pd.Series:
        """Customers per stage (all five stages, zeros included)."""
        return (
            self.customers["stage"]
            .value_counts(sort=False)
            .reindex(list(STAGE_ORDER), fill_value=0)
        )

    def to_frame(self) -> pd.DataFrame:
        """Per stage: customers, share, median recency, visits and tenure."""
        c = self.customers
        g = c.groupby("stage", observed=False)
        out = pd.DataFrame({"customers": self.counts()})
        out["share"] = out["customers"] / max(len(c), 1)
        out["median_recency_days"] = g["recency_days"].median()
        out["median_visits"] = g["n_visits"].median()
        out["median_tenure_days"] = g["tenure_days"].median()
        out.index.name = "stage"
        return out

    def rules_text(self) -> list[str]:
        """The stage rules in words, with the numbers in force."""
        r, o = self._resolved, self.origin
        lines = [
            f"churned: no visit for {r.churn_window_days} days or more ({o['churn_window_days']})",
            f"new: a single visit, or first visit less than {r.new_tenure_days} days ago ({o['new_tenure_days']})",
            f"decline: days since the last visit, or the last gap, above {r.decline_ratio:.3g} x the customer's "
            f"usual gap ({o['decline_ratio']})",
        ]
        if r.mature_rule in ("categories", "either"):
            lines.append(
                f"mature: {r.min_categories}+ categories bought after the first purchase in the last "
                f"{r.lookback_days} days ({o['lookback_days']})"
            )
        if r.mature_rule in ("top_band", "either"):
            lines.append(
                f"mature{' (or)' if r.mature_rule == 'either' else ''}: band score (visits and spend in the last "
                f"{r.lookback_days} days) >= {r.top_score:.3g}: {o.get('top_band', 'top band')}"
            )
        lines.append(
            f"growth: every other repeat customer (purchase cycle {r.purchase_cycle_days:g} days: {o['purchase_cycle_days']})"
        )
        lines.append("order of precedence: churned > new > decline > mature > growth")
        return lines

    def _header(self) -> dict[str, Any]:
        head: dict[str, Any] = {"as_of": self.as_of, "customers": len(self.customers)}
        for i, line in enumerate(self.rules_text(), 1):
            head[f"rule {i}"] = line
        return head


def _frame(
    p: Prepared, f: dict[str, np.ndarray], cut: np.ndarray, stage: np.ndarray, since: np.ndarray
) -> pd.DataFrame:
    has = f["has"]

    def dates(x: np.ndarray) -> np.ndarray:
        d = np.full(len(x), np.datetime64("NaT"), dtype="datetime64[D]")
        ok = np.isfinite(x)
        d[ok] = _EPOCH + x[ok].astype(np.int64)
        return d.astype("datetime64[ns]")

    usual = f["usual_gap"][has]
    cur = np.maximum(cut - f["last"], f["last_gap"])[has]
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(usual > 0, cur / usual, np.nan)
    out = pd.DataFrame(
        {
            "customer_id": p.ids[has],
            "stage": pd.Categorical.from_codes(
                stage[has], categories=list(STAGE_ORDER), ordered=True
            ),
            "stage_since": dates(since[has]),
            "first_date": dates(f["first"][has].astype(float)),
            "last_date": dates(f["last"][has].astype(float)),
            "n_visits": f["n_visits"][has],
            "tenure_days": (cut - f["first"])[has],
            "recency_days": (cut - f["last"])[has],
            "last_gap_days": np.where(f["last_gap"][has] >= 0, f["last_gap"][has], np.nan),
            "usual_gap_days": usual,
            "gap_ratio": ratio,
            "visits_lookback": f["visits_lb"][has],
        }
    )
    if "value_lb" in f:
        out["value_lookback"] = f["value_lb"][has]
    if "categories_lb" in f:
        out["categories_lookback"] = f["categories_lb"][has]
    return out


def _as_rules(settings: StageRules | None, churn_window_days: int | None) -> StageRules:
    """The stage settings in force: ``settings`` (default :class:`StageRules`) with ``churn_window_days`` if given."""
    rules = settings if settings is not None else StageRules()
    if not isinstance(rules, StageRules):
        raise ConfigError(f"settings must be a StageRules, got {type(rules).__name__}")
    if churn_window_days is not None:
        rules = replace(rules, churn_window_days=churn_window_days)
    return rules


def _as_prepared(
    events: pd.DataFrame | EventLog | Prepared,
    id_col: str,
    time_col: str,
    amount_col: str | None,
    category_col: str | None,
) -> Prepared:
    """``events`` as a :class:`Prepared` (checked and sorted by :func:`prepare_events` unless it already is one)."""
    if isinstance(events, Prepared):
        return events
    return prepare_events(
        events, id_col=id_col, time_col=time_col, amount_col=amount_col, category_col=category_col
    )


def stage_at(
    p: Prepared, as_of: pd.Timestamp, rules: StageRules, resolved: _Resolved | None = None
) -> StageResult:
    """Stages at one date; thresholds derived at that date unless ``resolved`` freezes them."""
    cut = np.full(len(p.ids), _day_of(as_of), dtype=np.int64)
    if resolved is None:
        _check_as_of(p, as_of)
        res, f = _resolve_with_features(p, int(cut[0]), rules)
        stage, since = _classify(f, cut, res)
    else:
        res = resolved
        f, stage, since = evaluate(p, cut, res)
    return StageResult(as_of, _frame(p, f, cut, stage, since), res, rules)


def assign_stages(
    events: pd.DataFrame | EventLog | Prepared,
    as_of: Any,
    *,
    id_col: str = "customer_id",
    time_col: str = "date",
    amount_col: str | None = None,
    category_col: str | None = None,
    churn_window_days: int | None = None,
    settings: StageRules | None = None,
) -> StageResult:
    """Put every customer seen up to ``as_of`` into a lifecycle stage.

    Rules (the numbers in force are printed with the result; see :class:`StageRules`):

    1. **churned**: no visit for W days or more (W = ``churn_window_days``), as in the
       survival table;
    2. **new**: a single visit so far, or a first visit less than one purchase cycle ago;
    3. **decline**: the current gap (days since the last visit, or the last completed gap if
       longer) is above ``decline_ratio`` times the customer's own usual gap;
    4. **mature**: cross-purchase (``min_categories`` categories after the first purchase in
       the lookback window) or, without categories, the top band of visits and spend;
    5. **growth**: every other repeat customer.

    Parameters
    ----------
    events : DataFrame, EventLog or Prepared
        The event log (one row per event); a :class:`Prepared` from :func:`prepare_events`
        skips the checks and sorting when staging one log at many dates.
    as_of : date-like
        Cut-off: only events on or before this day are used. Always explicit.
    id_col, time_col, amount_col, category_col : str
        Column names (ignored for an EventLog or Prepared).
    churn_window_days : int, optional
        Shortcut for ``settings.churn_window_days`` (e.g. the W of your churn definition).
    settings : StageRules, optional
        Thresholds; ``None`` fields are derived from the data as of ``as_of``.

    Returns
    -------
    StageResult

    Raises
    ------
    DataError
        Invalid event log (missing columns, unreadable dates...).
    ChurnDefinitionError
        ``as_of`` before the first event, or no repeat visit to measure a purchase cycle.
    ConfigError
        Invalid settings, or a category rule without a category column.

    Examples
    --------
    >>> from survchurn import load_cdnow
    >>> res = assign_stages(load_cdnow(), "1997-12-31", amount_col="amount")
    >>> res.counts().index.tolist()
    ['new', 'growth', 'mature', 'decline', 'churned']
    """
    rules = _as_rules(settings, churn_window_days)
    p = _as_prepared(events, id_col, time_col, amount_col, category_col)
    stamp = as_timestamp(as_of)
    result = stage_at(p, stamp, rules)
    logger.info("stages as of %s: %s", stamp.date(), result.counts().to_dict())
    return result
