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

The engine is plain vectorised numpy over pre-sorted arrays (no per-customer Python), so a
log of 10 million events is staged in seconds. Point-in-time features computed here (recency,
tenure, gaps, visits, spend and category breadth in the lookback window) are returned in
``StageResult.customers``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from survchurn._display import Result
from survchurn.data.eventlog import EventLog, as_timestamp
from survchurn.exceptions import ChurnDefinitionError, ConfigError, DataError, DataProblem

__all__ = ["STAGE_ORDER", "StageResult", "StageRules", "assign_stages", "prepare_events"]

logger = logging.getLogger(__name__)

STAGE_ORDER = ("new", "growth", "mature", "decline", "churned")
_EPOCH = np.datetime64("1970-01-01", "D")


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


@dataclass(frozen=True)
class _Resolved:
    """Thresholds in force for one as-of date (numbers, and where each came from)."""

    churn_window_days: int
    new_tenure_days: int
    lookback_days: int
    decline_ratio: float
    mature_rule: str
    min_categories: int
    top_score: float
    purchase_cycle_days: float
    prior_gaps: float
    origin: dict[str, str]
    top_ref: tuple[np.ndarray, ...] = ()  # sorted visits (and spend) of the reference pool


@dataclass(frozen=True)
class Prepared:
    """An event log as sorted numpy arrays, ready to be staged at any date (see :func:`prepare_events`)."""

    ids: pd.Index  # customer id by code
    cust: np.ndarray  # row -> customer code, sorted by (customer, day)
    day: np.ndarray  # row -> days since 1970
    amount: np.ndarray | None
    cat: np.ndarray | None  # row -> category code
    n_cat: int
    vcust: np.ndarray  # visits (distinct customer, day), sorted
    vday: np.ndarray
    vstart: np.ndarray  # customer code -> first visit position
    vcount: np.ndarray  # customer code -> number of visits in the whole log
    gap: np.ndarray  # visit position -> days since the customer's previous visit (-1 for the first)


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


def _group_median(group: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """Median of non-negative integer ``values`` per group code (NaN for empty groups)."""
    out = np.full(n_groups, np.nan)
    if len(values) == 0:
        return out
    m = int(values.max()) + 1
    key = np.sort(group * m + values)
    v = key % m
    cnt = np.bincount(group, minlength=n_groups)
    start = np.r_[0, np.cumsum(cnt)[:-1]]
    ok = cnt > 0
    lo = v[start[ok] + (cnt[ok] - 1) // 2]
    hi = v[start[ok] + cnt[ok] // 2]
    out[ok] = (lo + hi) / 2.0
    return out


def _per_row(cut: np.ndarray, idx: np.ndarray) -> np.ndarray | int:
    """``cut[idx]``, or the scalar when every customer has the same cut-off (no gather)."""
    if len(cut) and cut[0] == cut.min() == cut.max():
        return int(cut[0])
    return cut[idx]


def _features(p: Prepared, cut: np.ndarray) -> dict[str, np.ndarray]:
    """Point-in-time visit features per customer code, from visits on or before ``cut[code]``."""
    n = len(p.ids)
    keep_v = p.vday <= _per_row(cut, p.vcust)
    nv = np.bincount(p.vcust[keep_v], minlength=n)
    last_pos = p.vstart + np.maximum(nv - 1, 0)
    last = p.vday[last_pos]
    prev = np.where(nv >= 2, p.vday[np.maximum(last_pos - 1, 0)], -1)
    # Usual gap: median of the gaps before the last one (the one gap for two-visit customers).
    pos = np.flatnonzero(keep_v & (p.gap >= 0))
    c = p.vcust[pos]
    use = np.where(nv[c] >= 3, pos < last_pos[c], True)
    return {
        "has": nv > 0,
        "n_visits": nv,
        "first": p.vday[p.vstart],
        "last": last,
        "prev": prev,
        "last_gap": np.where(nv >= 2, last - prev, -1),
        "own_gap": _group_median(c[use], p.gap[pos[use]], n),
        "n_gaps": np.bincount(c[use], minlength=n),
        "recency": cut - last,
        "_keep_v": keep_v,
    }


def _add_lookback(p: Prepared, f: dict[str, np.ndarray], cut: np.ndarray, lookback: int) -> None:
    """Add visits, spend and category breadth in ``(cut - lookback, cut]`` to ``f``."""
    n = len(p.ids)
    lo = cut - lookback
    in_v = f["_keep_v"] & (p.vday > _per_row(lo, p.vcust))
    f["visits_lb"] = np.bincount(p.vcust[in_v], minlength=n)
    hi_r, lo_r = _per_row(cut, p.cust), _per_row(lo, p.cust)
    rows = (p.day <= hi_r) & (p.day > lo_r)
    if p.amount is not None:
        f["value_lb"] = np.bincount(p.cust[rows], weights=p.amount[rows], minlength=n)
    if p.cat is not None:
        # Rows after the first visit (the first visit's day is the first row's day of a customer).
        rows &= p.day > p.vday[p.vstart][p.cust]
        rows &= p.cat >= 0
        f["categories_lb"] = _distinct_per_customer(p.cust[rows], p.cat[rows], p.n_cat, n)


def _distinct_per_customer(cust: np.ndarray, cat: np.ndarray, n_cat: int, n: int) -> np.ndarray:
    """Distinct category codes per customer; ``cust`` is sorted (rows are sorted by customer)."""
    out = np.zeros(n, dtype=np.int64)
    if len(cust) == 0:
        return out
    starts = np.flatnonzero(np.r_[True, cust[1:] != cust[:-1]])
    if n_cat <= 64:
        # One bit per category, OR-ed per customer, then counted: no sort, no hashing.
        bits = np.left_shift(np.uint64(1), cat.astype(np.uint64))
        out[cust[starts]] = np.bitwise_count(np.bitwise_or.reduceat(bits, starts))
    else:
        key = np.sort(cust * n_cat + cat)
        first = np.r_[True, key[1:] != key[:-1]]
        out += np.bincount(key[first] // n_cat, minlength=n)
    return out


def _resolve(p: Prepared, f: dict[str, np.ndarray], cut_day: int, rules: StageRules) -> _Resolved:
    """Turn ``None`` settings into numbers derived from the data up to ``cut_day``."""
    origin: dict[str, str] = {}
    gaps = p.gap[(p.gap > 0) & (p.vday <= cut_day)]
    if len(gaps) == 0:
        raise ChurnDefinitionError(
            "lifecycle stages: no customer has two visits on different days by as_of, so no purchase "
            "cycle can be measured. Fix: pick a later as_of, or set churn_window_days, new_tenure_days and "
            "lookback_days in StageRules."
        )
    cycle = float(np.median(gaps))
    origin["purchase_cycle_days"] = f"median of {len(gaps):,} inter-visit gaps up to as_of"
    if rules.churn_window_days is None:
        window = int(np.ceil(np.quantile(gaps, rules.churn_quantile)))
        origin["churn_window_days"] = f"{rules.churn_quantile:.0%} quantile of the inter-visit gaps"
    else:
        window, origin["churn_window_days"] = int(rules.churn_window_days), "set in StageRules"
    if rules.new_tenure_days is None:
        new_days, origin["new_tenure_days"] = (
            max(int(round(cycle)), 1),
            "the purchase cycle (median gap)",
        )
    else:
        new_days, origin["new_tenure_days"] = int(rules.new_tenure_days), "set in StageRules"
    if rules.lookback_days is None:
        lookback, origin["lookback_days"] = max(int(round(2 * cycle)), 1), "two purchase cycles"
    else:
        lookback, origin["lookback_days"] = int(rules.lookback_days), "set in StageRules"
    _add_usual(f, rules.prior_gaps, cycle)
    if rules.decline_ratio is None:
        ok = f["has"] & (f["n_visits"] >= 3) & (f["usual_gap"] > 0)
        ratio = f["last_gap"][ok] / f["usual_gap"][ok]
        decline = (
            float(max(np.quantile(ratio, rules.decline_quantile), 1.0 + 1e-9))
            if len(ratio)
            else 2.0
        )
        origin["decline_ratio"] = (
            f"{rules.decline_quantile:.0%} quantile of last gap / usual gap over {int(ok.sum()):,} customers with 3+ visits"
            if len(ratio)
            else "no customer with 3+ visits: fallback 2 (the gap doubled)"
        )
    else:
        decline, origin["decline_ratio"] = float(rules.decline_ratio), "set in StageRules"
    mature = rules.mature_rule
    if mature == "auto":
        mature = "categories" if p.cat is not None else "top_band"
    if mature in ("categories", "either") and p.cat is None:
        raise ConfigError(
            f"StageRules.mature_rule={rules.mature_rule!r} needs a category column. Fix: pass category_col=..., "
            "or use mature_rule='top_band' (or 'auto')."
        )
    return _Resolved(
        window,
        new_days,
        lookback,
        decline,
        mature,
        rules.min_categories,
        np.nan,
        cycle,
        rules.prior_gaps,
        origin,
    )


def _add_usual(f: dict[str, np.ndarray], prior_gaps: float, cycle: float) -> None:
    """The usual gap: own median gap shrunk towards the purchase cycle (see StageRules.prior_gaps)."""
    k = f["n_gaps"].astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        f["usual_gap"] = (k * np.nan_to_num(f["own_gap"]) + prior_gaps * cycle) / (k + prior_gaps)


def _top_band(
    p: Prepared, f: dict[str, np.ndarray], res: _Resolved, rules: StageRules
) -> _Resolved:
    """Freeze the reference pool and the score level of the top band."""
    if res.mature_rule not in ("top_band", "either"):
        return res
    pool = f["has"] & (f["n_visits"] >= 2) & (f["recency"] < res.churn_window_days)
    if not pool.any():
        return replace(res, top_score=np.inf)
    ref = tuple(np.sort(f[k][pool]) for k in ("visits_lb", "value_lb") if k in f)
    score = _band_score(f, ref)[pool]
    level = float(np.quantile(score, rules.top_quantile))
    origin = dict(res.origin)
    measures = "visits and spend" if len(ref) == 2 else "visits"
    origin["top_band"] = (
        f"top {1 - rules.top_quantile:.0%} of the {int(pool.sum()):,} active repeat customers by the mean "
        f"percentile rank of {measures} in the lookback window"
    )
    return replace(res, top_score=level, top_ref=ref, origin=origin)


def _band_score(f: dict[str, np.ndarray], ref: tuple[np.ndarray, ...]) -> np.ndarray:
    """Mean mid-rank percentile of visits (and spend) in the lookback window against ``ref``.

    A mid-rank (share strictly below plus half the share tied) treats ties fairly: with visit
    counts that are small integers, a plain quantile of 1 would put anyone with one visit in
    the "top" band.
    """
    parts = []
    for key, r in zip(("visits_lb", "value_lb"), ref, strict=False):
        x = f[key]
        lo = np.searchsorted(r, x, side="left")
        hi = np.searchsorted(r, x, side="right")
        parts.append((lo + 0.5 * (hi - lo)) / len(r))
    return np.mean(parts, axis=0)


def _classify(
    f: dict[str, np.ndarray], cut: np.ndarray, res: _Resolved
) -> tuple[np.ndarray, np.ndarray]:
    """Stage codes (index into STAGE_ORDER) and the day each stage started (NaN if unknown)."""
    recency = cut - f["last"]
    tenure = cut - f["first"]
    usual = f["usual_gap"]
    with np.errstate(invalid="ignore", divide="ignore"):
        by_recency = recency > res.decline_ratio * usual
        by_gap = f["last_gap"] > res.decline_ratio * usual
    repeat = f["n_visits"] >= 2
    stage = np.ones(len(cut), dtype=np.int8)  # growth
    since = np.full(len(cut), np.nan)
    if res.mature_rule in ("categories", "either"):
        mature = f["categories_lb"] >= res.min_categories
    else:
        mature = np.zeros(len(cut), dtype=bool)
    if res.mature_rule in ("top_band", "either"):
        band = (
            (f["n_visits"] >= 2) & (_band_score(f, res.top_ref) >= res.top_score)
            if res.top_ref
            else False
        )
        mature |= band
    stage[mature] = 2
    decline = repeat & (by_recency | by_gap)
    stage[decline] = 3
    # Decline began when the gap crossed the threshold; after a return from churn, at the return.
    trigger = np.where(by_gap, f["prev"], f["last"]) + np.ceil(res.decline_ratio * usual)
    trigger = np.where(by_gap & (f["last_gap"] > res.churn_window_days), f["last"], trigger)
    since[decline] = trigger[decline]
    new = ~repeat | (tenure < res.new_tenure_days)
    stage[new] = 0
    since[new] = f["first"][new]
    # as the survival table: churned once W days without a visit have passed (recency >= W)
    churned = recency >= res.churn_window_days
    stage[churned] = 4
    since[churned] = f["last"][churned] + res.churn_window_days
    return stage, since


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


def _day_of(stamp: pd.Timestamp) -> int:
    return int((np.datetime64(stamp.normalize().date(), "D") - _EPOCH).astype(np.int64))


def _resolve_at(p: Prepared, as_of: pd.Timestamp, rules: StageRules) -> _Resolved:
    """Derive the thresholds from the data up to ``as_of`` (one date for every customer)."""
    _check_as_of(p, as_of)
    return _resolve_with_features(p, _day_of(as_of), rules)[0]


def _check_as_of(p: Prepared, as_of: pd.Timestamp) -> None:
    if _day_of(as_of) < int(p.vday.min()):
        raise ChurnDefinitionError(
            f"as_of {as_of:%Y-%m-%d} is before the first event ({(_EPOCH + int(p.vday.min())).item():%Y-%m-%d}): "
            "no customer exists yet. Fix: pick a later as_of."
        )


def _resolve_with_features(
    p: Prepared, cut_day: int, rules: StageRules
) -> tuple[_Resolved, dict[str, np.ndarray]]:
    cut = np.full(len(p.ids), cut_day, dtype=np.int64)
    f = _features(p, cut)
    res = _resolve(p, f, cut_day, rules)
    _add_lookback(p, f, cut, res.lookback_days)
    return _top_band(p, f, res, rules), f


def evaluate(
    p: Prepared, cut: np.ndarray, res: _Resolved
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Features, stage codes and stage start days with frozen thresholds at per-customer cut-offs.

    ``cut`` holds one cut-off day (days since 1970) per customer code, so a stage can be taken
    at a different day for every customer (e.g. the day of the last visit, for churn types).
    Customers with no visit by their cut-off have ``f["has"] == False``.
    """
    f = _features(p, cut)
    _add_usual(f, res.prior_gaps, res.purchase_cycle_days)
    _add_lookback(p, f, cut, res.lookback_days)
    stage, since = _classify(f, cut, res)
    return f, stage, since


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
    rules = settings if settings is not None else StageRules()
    if not isinstance(rules, StageRules):
        raise ConfigError(f"settings must be a StageRules, got {type(rules).__name__}")
    if churn_window_days is not None:
        rules = replace(rules, churn_window_days=churn_window_days)
    p = (
        events
        if isinstance(events, Prepared)
        else prepare_events(
            events,
            id_col=id_col,
            time_col=time_col,
            amount_col=amount_col,
            category_col=category_col,
        )
    )
    stamp = as_timestamp(as_of)
    result = stage_at(p, stamp, rules)
    logger.info("stages as of %s: %s", stamp.date(), result.counts().to_dict())
    return result
