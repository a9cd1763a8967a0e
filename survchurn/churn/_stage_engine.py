"""The array engine behind :mod:`survchurn.churn.lifecycle` (private).

Everything here works on a :class:`Prepared` event log (sorted numpy arrays, see
:func:`survchurn.churn.lifecycle.prepare_events`) and integer day numbers (days since 1970):
point-in-time features per customer, thresholds derived from the data (:class:`_Resolved`),
and stage codes (indices into :data:`survchurn.churn.lifecycle.STAGE_ORDER`). Plain
vectorised numpy, no per-customer Python. The public API and the result objects live in
:mod:`survchurn.churn.lifecycle`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from survchurn.exceptions import ChurnDefinitionError, ConfigError

if TYPE_CHECKING:
    from survchurn.churn.lifecycle import StageRules

_EPOCH = np.datetime64("1970-01-01", "D")


@dataclass(frozen=True)
class Prepared:
    """An event log as sorted numpy arrays, ready to be staged at any date.

    Built by :func:`survchurn.churn.lifecycle.prepare_events`.
    """

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
