"""Evaluate a retention campaign: did the action keep customers, in which tier, and did it pay?

Endpoint
--------
Every assigned customer's clock starts at the campaign start ``S``. The outcome is the time
to the first lapse after ``S`` on the *recognition clock*
(:func:`survchurn.churn.landmark.landmark_table`): a customer churns when W days pass without
activity, and the churn is dated when it becomes known (last activity + W). Customers with no
lapse known by ``as_of`` are censored at ``as_of``. Assigned customers with no activity in
``(S - W, S]`` were not active at the start; they are left out with a warning (their exclusion
uses data before the start only, so it does not bias the comparison of arms).

Estimates (per arm, overall and per tier)
-----------------------------------------
* churn rate at the horizon ``H``: ``1 - S(H)`` from Kaplan-Meier, so customers censored before
  ``H`` are handled (a plain share of churners would count them as kept), with the log-log
  interval of ``S(H)`` (see :mod:`survchurn.survival.kaplan_meier`);
* absolute difference ``F_t(H) - F_c(H)`` (negative: the action lowers churn) with a Wald
  interval from the Greenwood standard errors of the two independent arms; relative change
  ``F_t / F_c - 1`` with an interval on the log scale (delta method:
  ``var log F = var F / F^2``);
* log-rank test of the arms; overall, stratified by tier (the sum over tiers of O - E of the
  treated arm squared over the sum of its variances), as the randomisation was stratified;
* Cox hazard ratio of treatment (Efron ties; overall stratified by tier);
* restricted mean time without churn up to ``tau`` per arm (Kaplan-Meier area, SE as
  :meth:`KaplanMeierResult.rmst`), their difference with ``SE = sqrt(se_t^2 + se_c^2)``, and the
  customer-days kept: difference x treated customers;
* return: customers saved ``= -(F_t - F_c) x n_treated``, value ``= saved x customer_value``,
  cost ``= n_treated x action_cost`` (+ ``fixed_cost`` in the overall row), net and
  ``ROI = net / cost``; the intervals follow from the interval of the difference (the value
  and costs are taken as known).

Heterogeneity across tiers: see :mod:`survchurn.campaign.results`.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import chi2, norm

from survchurn.campaign.design import ARMS
from survchurn.campaign.results import CampaignResult, heterogeneity
from survchurn.campaign.simulate import TIERS
from survchurn.churn.landmark import landmark_table
from survchurn.data.eventlog import EventLog, as_timestamp, read_event_log
from survchurn.exceptions import (
    ConfigError,
    DataError,
    DataProblem,
    DataQualityWarning,
    ModelError,
    SmallGroupWarning,
)
from survchurn.survival.cox import CoxPH
from survchurn.survival.kaplan_meier import KaplanMeier, KaplanMeierResult
from survchurn.survival.logrank import logrank_test

__all__ = ["campaign_outcomes", "evaluate_campaign", "evaluate_outcomes"]

logger = logging.getLogger(__name__)

OVERALL = "overall"


def _check_assignment(assignment: pd.DataFrame, id_col: str, arm_col: str, tier_col: str | None,
                      arms: Sequence[str], context: str) -> None:
    if not isinstance(assignment, pd.DataFrame):
        raise DataError([f"expected a pandas DataFrame, got {type(assignment).__name__}"], context)
    need = [c for c in (id_col, arm_col, tier_col) if c is not None]
    missing = [c for c in need if c not in assignment.columns]
    if missing:
        raise DataError([DataProblem(c, "column missing", len(assignment),
                                     fix=f"columns are {list(assignment.columns)[:10]}")
                         for c in missing], context)
    problems: list[DataProblem] = []
    ids = assignment[id_col]
    dup = ids[ids.duplicated(keep=False)]
    if len(dup):
        problems.append(DataProblem(id_col, "duplicated customer ids", len(dup),
                                    list(dict.fromkeys(dup.tolist()))[:5],
                                    fix="keep one row per customer"))
    bad = ~assignment[arm_col].isin(list(arms))
    if bad.any():
        problems.append(DataProblem(arm_col, f"arm is not one of {list(arms)}", int(bad.sum()),
                                    ids[bad].tolist()[:5],
                                    fix="relabel the arms or pass arms=(holdout, treated)"))
    if tier_col is not None and assignment[tier_col].isna().any():
        miss = assignment[tier_col].isna()
        problems.append(DataProblem(tier_col, "missing tier", int(miss.sum()), ids[miss].tolist()[:5],
                                    fix="fill it in or drop the rows"))
    if problems:
        raise DataError(problems, context)
    present = set(assignment[arm_col])
    if not set(arms) <= present:
        raise DataError([DataProblem(arm_col, f"arm {a!r} has no customers", 0,
                                     fix="an evaluation needs both arms")
                         for a in arms if a not in present], context)


def campaign_outcomes(assignment: pd.DataFrame, events: pd.DataFrame | EventLog, *, start: Any,
                      as_of: Any, window_days: int = 365, id_col: str = "customer_id",
                      time_col: str = "date", arm_col: str = "arm") -> pd.DataFrame:
    """Time from the campaign start to the first lapse for every assigned customer.

    Parameters
    ----------
    assignment : pandas.DataFrame
        One row per assigned customer (``id_col``, ``arm_col``, tier...).
    events : pandas.DataFrame or EventLog
        The activity log (``id_col``, ``time_col``), before and after the start.
    start, as_of : date-like
        Campaign start and end of follow-up (explicit: nothing reads today's date).
    window_days : int
        The inactivity window W of the churn definition.

    Returns
    -------
    pandas.DataFrame
        The assignment columns plus ``duration`` (days after the start) and ``event``; customers
        not active at the start are left out with a :class:`DataQualityWarning`.
    """
    if isinstance(events, EventLog):
        log = events
    else:
        log = read_event_log(events, id_col=id_col, time_col=time_col)
    lt = landmark_table(log, start, as_of, window_days=window_days)
    lt = lt.rename(columns={"customer_id": id_col})
    try:
        out = assignment.merge(lt[[id_col, "duration", "event"]], on=id_col, how="left",
                               validate="one_to_one")
    except ValueError as exc:
        raise DataError([DataProblem(id_col, f"ids cannot be matched with the event log ({exc})",
                                     len(assignment), assignment[id_col].head(5).tolist(),
                                     fix="give both the same id type (e.g. both text)")],
                        "campaign assignment") from None
    gone = out["duration"].isna()
    if len(out) and gone.all():
        raise DataError([DataProblem(id_col, "no assigned customer was active in the event log at "
                                     f"the start (activity in the {window_days} days before it)",
                                     len(out), out[id_col].head(5).tolist(),
                                     fix="check the start date, the id column and the log")],
                        "campaign assignment")
    if gone.any():
        warnings.warn(
            f"campaign: {int(gone.sum()):,} assigned customers had no activity in the {window_days} "
            f"days before the start {as_timestamp(start):%Y-%m-%d}, e.g. "
            f"{out.loc[gone, id_col].head(5).tolist()}; they were not active and are left out "
            f"(by arm: {out.loc[gone, arm_col].value_counts().to_dict()})",
            DataQualityWarning, stacklevel=2)
    out = out[~gone].reset_index(drop=True)
    out["event"] = out["event"].astype(int)
    return out


def _tier_order(tiers: pd.Series) -> list[str]:
    """Categorical order, else the warning-tier order (green, yellow, orange, red), else sorted."""
    present = {str(t) for t in tiers.dropna().unique()}
    if isinstance(tiers.dtype, pd.CategoricalDtype):
        return [str(c) for c in tiers.cat.categories if str(c) in present]
    if present <= set(TIERS):
        return [t for t in TIERS if t in present]
    return sorted(present)


def _cox(frame: pd.DataFrame, strata: str | None, alpha: float) -> tuple[float, float, float]:
    """(log HR of treatment, its SE, p) or NaNs when the model cannot be fitted."""
    cols = ["duration", "event", "treated"] + ([strata] if strata else [])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SmallGroupWarning)
            fit = CoxPH(alpha=alpha).fit(frame[cols], covariates=["treated"], strata=strata,
                                         categorical=[])
    except ModelError as exc:
        logger.warning("Cox model of treatment failed: %s", exc)
        return np.nan, np.nan, np.nan
    r = fit.result_
    b, se = float(r.params.iloc[0]), float(r.se.iloc[0])
    return b, se, float(2 * norm.sf(abs(b / se)))


def _segment(frame: pd.DataFrame, label: str, horizon: float, tau: float, arms: Sequence[str],
             alpha: float, strata: str | None) -> tuple[dict[str, Any], KaplanMeierResult, tuple]:
    z = norm.ppf(1 - alpha / 2)
    km = KaplanMeier(alpha=alpha).fit(frame, "duration", "event", group_col="arm").result_
    at = km.at([horizon]).set_index("group")
    rm = km.rmst(tau).set_index("group")
    c, t = arms
    n = frame.groupby("arm").size()
    ev = frame.groupby("arm")["event"].sum()
    row: dict[str, Any] = {"segment": label, "n_control": int(n.get(c, 0)),
                           "n_treated": int(n.get(t, 0)), "events_control": int(ev.get(c, 0)),
                           "events_treated": int(ev.get(t, 0))}
    for arm, key in ((c, "control"), (t, "treated")):
        s = at.loc[arm]
        row[f"churn_{key}"] = 1 - s["survival"]
        row[f"churn_{key}_lower"] = 1 - s["upper"]
        row[f"churn_{key}_upper"] = 1 - s["lower"]
        row[f"_se_{key}"] = s["std_err"]
    if bool(at["beyond_follow_up"].any()):
        warnings.warn(f"campaign, {label}: the horizon {horizon:g} days is beyond the follow-up of "
                      "an arm; churn at the horizon is missing. Use a shorter horizon_days.",
                      DataQualityWarning, stacklevel=3)
    fc, ft = row["churn_control"], row["churn_treated"]
    se_d = float(np.hypot(row.pop("_se_control"), row.pop("_se_treated")))
    se_c, se_t = (at.loc[c, "std_err"], at.loc[t, "std_err"])
    d = ft - fc
    row.update(risk_diff=d, risk_diff_se=se_d, risk_diff_lower=d - z * se_d,
               risk_diff_upper=d + z * se_d)
    with np.errstate(divide="ignore", invalid="ignore"):
        se_log = float(np.sqrt((se_t / ft) ** 2 + (se_c / fc) ** 2))
        rr = ft / fc
    row.update(rel_change=rr - 1, rel_change_lower=rr * np.exp(-z * se_log) - 1,
               rel_change_upper=rr * np.exp(z * se_log) - 1)
    b, se_b, p_b = _cox(frame, strata, alpha)
    with np.errstate(over="ignore"):  # a separated arm gives a huge coefficient (and a warning)
        row.update(hr=np.exp(b), hr_lower=np.exp(b - z * se_b), hr_upper=np.exp(b + z * se_b),
                   log_hr=b, log_hr_se=se_b, hr_p=p_b)
    lr = logrank_test(frame, "duration", "event", group_col="arm")
    tab = lr.table.set_index("group")
    o_e, var = float(tab.loc[t, "o_minus_e"]), float(lr.variance.loc[t, t])
    row.update(logrank_chisq=lr.chisq, logrank_p=lr.p_value)
    rc, rt = rm.loc[c], rm.loc[t]
    diff, se_r = rt["rmst"] - rc["rmst"], float(np.hypot(rt["std_err"], rc["std_err"]))
    row.update(rmst_control=rc["rmst"], rmst_treated=rt["rmst"], rmst_diff=diff,
               rmst_diff_se=se_r, rmst_diff_lower=diff - z * se_r, rmst_diff_upper=diff + z * se_r,
               days_kept=diff * row["n_treated"])
    return row, km, (o_e, var)


def _money(row: dict[str, Any], action_cost: float | None, customer_value: float | None,
           fixed_cost: float) -> None:
    nt = row["n_treated"]
    saved = -row["risk_diff"] * nt
    lo, hi = -row["risk_diff_upper"] * nt, -row["risk_diff_lower"] * nt
    row.update(saved=saved, saved_lower=lo, saved_upper=hi)
    if action_cost is None or customer_value is None:
        return
    cost = nt * action_cost + fixed_cost
    row.update(value=saved * customer_value, cost=cost, net=saved * customer_value - cost,
               net_lower=lo * customer_value - cost, net_upper=hi * customer_value - cost)
    row.update(roi=row["net"] / cost if cost > 0 else np.nan,
               roi_lower=row["net_lower"] / cost if cost > 0 else np.nan,
               roi_upper=row["net_upper"] / cost if cost > 0 else np.nan)


def evaluate_outcomes(outcomes: pd.DataFrame, *, horizon_days: float, tau: float | None = None,
                      arm_col: str = "arm", tier_col: str | None = "tier",
                      arms: Sequence[str] = ARMS, duration_col: str = "duration",
                      event_col: str = "event", id_col: str = "customer_id", alpha: float = 0.05,
                      action_cost: float | None = None, customer_value: float | None = None,
                      fixed_cost: float = 0.0, meta: dict[str, Any] | None = None) -> CampaignResult:
    """Evaluate a campaign from per-customer outcomes (days since the start, churn 0/1).

    See :func:`evaluate_campaign`; this is its second half, for outcomes already computed
    (e.g. another churn definition, or true churn times in a simulation).
    """
    if not 0 < alpha < 1:
        raise ConfigError(f"alpha must be between 0 and 1 (0.05 gives 95% intervals), got {alpha!r}")
    if not (np.isfinite(horizon_days) and horizon_days > 0):
        raise ConfigError(f"horizon_days must be a positive number of days, got {horizon_days!r}")
    for name, v in (("action_cost", action_cost), ("customer_value", customer_value)):
        if v is not None and not (np.isfinite(v) and v >= 0):
            raise ConfigError(f"{name} must be a number >= 0, got {v!r}")
    arms = tuple(arms)
    _check_assignment(outcomes, id_col, arm_col, tier_col, arms, "campaign outcomes")
    missing = [c for c in (duration_col, event_col) if c not in outcomes.columns]
    if missing:
        raise DataError([DataProblem(c, "column missing", len(outcomes),
                                     fix="compute outcomes with campaign_outcomes()")
                         for c in missing], "campaign outcomes")
    frame = pd.DataFrame({"duration": outcomes[duration_col].to_numpy(float),
                          "event": outcomes[event_col].to_numpy(),
                          "arm": outcomes[arm_col].to_numpy(),
                          "treated": (outcomes[arm_col] == arms[1]).to_numpy(float)})
    if tier_col is not None:
        frame["tier"] = outcomes[tier_col].astype(str).to_numpy()
    if tau is None:
        tau = float(horizon_days)
    tiers = _tier_order(outcomes[tier_col]) if tier_col is not None else []
    strata = "tier" if len(tiers) > 1 else None
    row, km, (o_e, var) = _segment(frame, OVERALL, horizon_days, tau, arms, alpha, strata)
    rows, kms, lr_parts = [], {OVERALL: km}, []
    for tier in tiers:
        sub = frame[frame["tier"] == tier]
        if sub["arm"].nunique() < 2:
            warnings.warn(f"campaign: tier {tier!r} has customers in one arm only "
                          f"({sub['arm'].iloc[0]!r}); it is left out of the tier rows",
                          SmallGroupWarning, stacklevel=2)
            continue
        r, k, part = _segment(sub, str(tier), horizon_days, tau, arms, alpha, None)
        rows.append(r)
        kms[str(tier)] = k
        lr_parts.append(part)
    if len(lr_parts) > 1:  # stratified log-rank for the overall row
        o_e, var = sum(p[0] for p in lr_parts), sum(p[1] for p in lr_parts)
        row["logrank_chisq"] = o_e**2 / var
        row["logrank_p"] = float(chi2.sf(row["logrank_chisq"], 1))
        shares = frame.groupby("tier")["treated"].mean()
        if shares.max() - shares.min() > 0.05:
            warnings.warn(f"campaign: the treated share differs across tiers ({shares.min():.0%} to "
                          f"{shares.max():.0%}); the overall churn rates mix tiers in different "
                          "proportions, read the tier rows (the HR and log-rank are stratified)",
                          DataQualityWarning, stacklevel=2)
    for r in [row, *rows]:
        _money(r, action_cost, customer_value, fixed_cost if r is row else 0.0)
    table = pd.DataFrame([row, *rows])
    het = heterogeneity(table.iloc[1:], alpha) if len(rows) > 1 else heterogeneity(table.iloc[:0], alpha)
    settings = {"horizon_days": float(horizon_days), "tau": float(tau), "alpha": alpha,
                "arms": arms, "tier_col": tier_col, "action_cost": action_cost,
                "customer_value": customer_value, "fixed_cost": fixed_cost, **(meta or {})}
    logger.info("campaign evaluated: %d customers, %d tiers", len(frame), len(rows))
    return CampaignResult(table, het, kms, outcomes.copy(), settings)


def evaluate_campaign(assignment: pd.DataFrame, events: pd.DataFrame | EventLog, *, start: Any,
                      horizon_days: float, as_of: Any, window_days: int = 365,
                      tau: float | None = None, id_col: str = "customer_id",
                      time_col: str = "date", arm_col: str = "arm", tier_col: str | None = "tier",
                      arms: Sequence[str] = ARMS, alpha: float = 0.05,
                      action_cost: float | None = None, customer_value: float | None = None,
                      fixed_cost: float = 0.0) -> CampaignResult:
    """Evaluate a retention campaign from its assignment and the activity log.

    Parameters
    ----------
    assignment : pandas.DataFrame
        One row per assigned customer: ``id_col``, ``arm_col`` (values ``arms``) and
        ``tier_col`` (e.g. green/yellow/orange/red; None for no tiers), as from
        :func:`survchurn.campaign.design.assign_campaign`.
    events : pandas.DataFrame or EventLog
        Activity log with ``id_col`` and ``time_col``, covering ``(start - W, as_of]``.
    start : date-like
        Campaign start: day 0 of every customer's clock.
    horizon_days : float
        Horizon of the churn rates, differences and savings (e.g. 180).
    as_of : date-like
        End of follow-up; customers without a known lapse are censored here.
    window_days : int
        Inactivity window W of the churn definition.
    tau : float, optional
        Horizon of the restricted mean (default ``horizon_days``).
    alpha : float
        0.05 gives 95% intervals.
    action_cost, customer_value : float, optional
        Cost of the action per treated customer and value of a customer kept (same currency);
        with both, the result has value, cost, net and ROI columns.
    fixed_cost : float
        Campaign cost not per customer (added to the overall row).

    Returns
    -------
    CampaignResult
        One row per segment (overall, then each tier), heterogeneity across tiers, KM curves.

    Raises
    ------
    ConfigError
        Invalid settings.
    DataError
        Missing columns, duplicated ids, unknown arms, an empty arm (all listed at once).
    """
    arms = tuple(arms)
    _check_assignment(assignment, id_col, arm_col, tier_col, arms, "campaign assignment")
    s, end = as_timestamp(start, "start"), as_timestamp(as_of)
    if end <= s + pd.Timedelta(days=1):
        raise ConfigError(f"as_of {end:%Y-%m-%d} must be after the campaign start {s:%Y-%m-%d}")
    outcomes = campaign_outcomes(assignment, events, start=s, as_of=end, window_days=window_days,
                                 id_col=id_col, time_col=time_col, arm_col=arm_col)
    meta = {"start": s, "as_of": end, "window_days": window_days,
            "n_assigned": len(assignment), "n_excluded": len(assignment) - len(outcomes)}
    return evaluate_outcomes(outcomes, horizon_days=horizon_days, tau=tau, arm_col=arm_col,
                             tier_col=tier_col, arms=arms, id_col=id_col, alpha=alpha,
                             action_cost=action_cost, customer_value=customer_value,
                             fixed_cost=fixed_cost, meta=meta)
