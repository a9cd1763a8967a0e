"""The analysis of one as-of date: every statistic the report and the outputs need.

:func:`analyse` runs, in order, the event-log checks, the survival table, Kaplan-Meier curves by
segment, the churn rate of the active base, lifecycle stages and migration, the landmark Cox
driver model and the integer warning score with its live warning list. It writes no file; the
result is an :class:`Analysis`.
"""

from __future__ import annotations

import hashlib
import html
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from survchurn._display import format_header_text
from survchurn.churn.active_base import ActiveBaseChurn, active_base_churn
from survchurn.churn.definitions import ChurnDefinition, InactivityChurn
from survchurn.churn.features import features as point_in_time_features
from survchurn.churn.landmark import landmark_table
from survchurn.churn.lifecycle import StageResult, assign_stages, prepare_events
from survchurn.churn.migration import (
    ChurnTypesResult,
    MigrationResult,
    churn_types,
    stage_migration,
)
from survchurn.churn.survival_table import SurvivalTable, survival_table
from survchurn.config import ScoreSettings
from survchurn.data.eventlog import EventLog, read_event_log
from survchurn.exceptions import (
    ChurnDefinitionError,
    ConfigError,
    DataError,
    DataProblem,
    ModelError,
    ScoringError,
    SurvchurnError,
)
from survchurn.scoring.backtest import QuarterOverQuarter
from survchurn.scoring.cutoff import CutoffResult, choose_cutoff
from survchurn.scoring.live import horizon_dataset, warning_list
from survchurn.scoring.warning_score import WarningScoreResult, build_warning_score
from survchurn.survival.by_stage import StageSurvival, stage_survival
from survchurn.survival.cox import CoxPH, CoxResult
from survchurn.survival.cox_diagnostics import ZphResult, cox_zph
from survchurn.survival.kaplan_meier import KaplanMeier, KaplanMeierResult
from survchurn.survival.logrank import LogRankResult, logrank_test
from survchurn.survival.predict import expected_churners

__all__ = ["DRIVER_VARIABLES", "Analysis", "Progress", "acquisition_cohort", "analyse", "check_as_of",
           "period_label", "training_as_of"]

log = logging.getLogger(__name__)
Progress = Callable[[str], None]


def period_label(as_of: pd.Timestamp) -> str:
    """The quarter of a date, e.g. ``1998Q2``: the name of a run's output folder."""
    return f"{as_of.year}Q{as_of.quarter}"


def _quiet(_: str) -> None:
    return None


@dataclass(repr=False)
class Analysis:
    """Everything :func:`analyse` computed for one as-of date.

    Attributes
    ----------
    as_of : pandas.Timestamp
    definition : ChurnDefinition
    events : EventLog
    survival : SurvivalTable
    km_overall : KaplanMeierResult
    km_by : dict of str to KaplanMeierResult
        Kaplan-Meier curves by each segment (e.g. acquisition month).
    logrank_by : dict of str to LogRankResult
        The log-rank test across the groups of each segment.
    churn_rates : ActiveBaseChurn
        Churn rate of the active base per quarter.
    drivers : CoxResult or None
        Cox model of the first lapse after ``landmark`` on behaviour measured at ``landmark``
        (see :func:`survchurn.churn.landmark.landmark_table`); ``None`` when too few customers.
    landmark : pandas.Timestamp or None
    warning, warning_list, cutoff, expected_churners
        The integer warning score fitted on features as of ``as_of - horizon_days`` with the
        label "churned within the horizon", the list of live customers scored with it, the
        expected-value cut-off on the validation customers, and the expected churners within
        the horizon among live customers (overall and by tier).
    stages, migration, churn_types, stage_survival
        Lifecycle stages at ``as_of``, migration since the previous quarter end, churn types
        in the last quarters, and survival after ``landmark`` by the stage then.
    dataset : str
        A name for the data (shown in the report).
    data_fingerprint : str
        SHA-256 of the validated event log's content (for the manifest).
    """

    as_of: pd.Timestamp
    definition: ChurnDefinition
    events: EventLog
    survival: SurvivalTable
    km_overall: KaplanMeierResult
    km_by: dict[str, KaplanMeierResult] = field(default_factory=dict)
    logrank_by: dict[str, LogRankResult] = field(default_factory=dict)
    churn_rates: ActiveBaseChurn | None = None
    drivers: CoxResult | None = None
    drivers_zph: ZphResult | None = None
    stages: StageResult | None = None
    migration: MigrationResult | None = None
    churn_types: ChurnTypesResult | None = None
    stage_survival: StageSurvival | None = None
    warning: WarningScoreResult | None = None
    warning_list: pd.DataFrame | None = None
    cutoff: CutoffResult | None = None
    expected_churners: pd.DataFrame | None = None
    live_features: pd.DataFrame | None = None
    warning_note: str | None = None
    qoq: QuarterOverQuarter | None = None
    horizon_days: int = 90
    landmark: pd.Timestamp | None = None
    dataset: str = ""
    data_fingerprint: str = ""


    def _header(self) -> dict[str, Any]:
        st = self.survival
        head: dict[str, Any] = {
            "dataset": self.dataset or "(unnamed)",
            "as_of": str(self.as_of.date()),
            "definition": self.definition.describe(),
            "customers": f"{len(st.table):,} ({st.n_churned:,} churned, {len(st.rejected):,} rejected)",
            "segments compared": ", ".join(self.km_by) or "none",
        }
        if self.stages is not None:
            head["lifecycle stages"] = ", ".join(
                f"{k} {v:,}" for k, v in self.stages.to_frame()["customers"].items())
        if self.drivers is not None and self.landmark is not None:
            head["drivers"] = (f"Cox on {self.drivers.n:,} customers active at "
                               f"{self.landmark.date()}, C = {self.drivers.concordance:.3f}")
        return head

    def __repr__(self) -> str:
        return format_header_text("Analysis", self._header())

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><th style='text-align:right'>{html.escape(k)}</th>"
                       f"<td style='text-align:left'>{html.escape(str(v))}</td></tr>"
                       for k, v in self._header().items())
        return f"<div class='survchurn-result'><strong>Analysis</strong><table>{rows}</table></div>"


def _fingerprint(events: EventLog) -> str:
    """SHA-256 of order-free integer aggregates of the clean events (exact, so identical data
    always give the same fingerprint whatever order DuckDB's threads add them in)."""
    amount = "SUM(CAST(ROUND(amount * 100) AS HUGEINT))" if events.has_amount else "0"
    row = events.con.execute(
        f"SELECT COUNT(*), COUNT(DISTINCT customer_id), SUM(CAST(EXTRACT(EPOCH FROM time) AS HUGEINT)), "
        f"{amount}, SUM(hash(customer_id) % 1000003) FROM {events.view}"
    ).fetchone()
    return hashlib.sha256(repr(tuple(str(v) for v in row)).encode()).hexdigest()


def acquisition_cohort(entry: pd.Series, max_cohorts: int = 12) -> pd.Series:
    """Acquisition cohort labels: months (``1997-03``), else quarters (``1997Q1``), else years,
    the finest that gives at most ``max_cohorts`` cohorts (a KM chart stays readable)."""
    for freq, fmt in (("M", "%Y-%m"), ("Q", None), ("Y", "%Y")):
        periods = entry.dt.to_period(freq)
        if periods.nunique() <= max_cohorts or freq == "Y":
            return periods.astype(str) if fmt is None else entry.dt.strftime(fmt)
    raise AssertionError("unreachable")


def _churn_rates(elog: EventLog, as_of: pd.Timestamp, window: int) -> ActiveBaseChurn | None:
    try:
        return active_base_churn(elog, as_of, window_days=window)
    except ChurnDefinitionError as exc:  # too little history for a complete quarter
        log.info("no quarterly churn rates: %s", exc)
        return None


def check_as_of(elog: EventLog, as_of: pd.Timestamp) -> None:
    """An as-of date outside the data gives empty or biased tables: say so plainly."""
    if elog.min_time is not None and as_of.normalize() < elog.min_time.normalize():
        raise ChurnDefinitionError(
            f"as_of {as_of.date()} is before the first event ({elog.min_time.date()}). "
            "Fix: choose an as-of date inside the data window.")
    if elog.max_time is not None and as_of.normalize() > elog.max_time.normalize() + pd.Timedelta(days=31):
        raise ChurnDefinitionError(
            f"as_of {as_of.date()} is more than a month after the last event ({elog.max_time.date()}): "
            "every customer would look churned. Fix: use an as-of date up to the end of the data, "
            "or load the newer events.")


def _require_events(elog: EventLog) -> None:
    """An event log with no usable row cannot be analysed: say why every row went."""
    if elog.n_rows > 0:
        return
    rejected = elog.rejected
    problems: list[DataProblem | str] = []
    if len(rejected):
        for reason, rows in rejected.groupby("reason"):
            examples = rows.index[:5].tolist()
            problems.append(DataProblem(None, f"rejected: {reason}", len(rows), examples,
                                        "correct these rows in the source"))
    else:
        problems.append("the event log has no rows. Fix: check the file or query.")
    user_id = elog.source_columns.get("customer_id", "customer_id")
    raise DataError(problems, context=f"event log (customer id column {user_id!r}): no usable events")


def analyse(
    events: pd.DataFrame | EventLog,
    *,
    as_of: Any,
    definition: ChurnDefinition | None = None,
    id_col: str = "customer_id",
    time_col: str = "date",
    amount_col: str | None = "amount",
    segments: dict[str, str] | None = None,
    dataset: str = "",
    horizon_days: int = 90,
    score: ScoreSettings | None = None,
    seed: int = 2024,
    customers: pd.DataFrame | None = None,
    progress: Progress | None = None,
) -> Analysis:
    """Run the analysis on an event log as of a date.

    Parameters
    ----------
    events : DataFrame or EventLog
        The event log; a DataFrame is read with ``id_col``, ``time_col`` and ``amount_col``.
    as_of : date-like
        Observation cut-off (always explicit).
    definition : ChurnDefinition, optional
        Default: :class:`InactivityChurn` with a 90-day window.
    segments : dict, optional
        ``{label: column of the survival table}`` to compare retention by; the column
        ``"cohort"`` (acquisition cohort: month, quarter or year, whichever gives at most 12
        cohorts) is always available.
    dataset : str
        A name for the data, shown in the report.
    horizon_days : int
        Horizon H of the warning score (churn within H days).
    score : ScoreSettings, optional
        Warning-score method, points and the cost model of the action.
    seed : int
        Seed of the warning score's test split and cross-validation folds.
    customers : DataFrame, optional
        Customer attributes with a ``customer_id`` column (e.g. ``CustomerTable.frame``),
        offered to the warning score beside the behaviour features.
    progress : callable, optional
        Called with a short message at each step.

    Returns
    -------
    Analysis
    """
    say = progress or _quiet
    definition = definition or InactivityChurn(window_days=90)
    if isinstance(events, EventLog):
        elog = events
    else:
        say("reading and validating the event log")
        elog = read_event_log(events, id_col=id_col, time_col=time_col, amount_col=amount_col)
    _require_events(elog)
    check_as_of(elog, pd.Timestamp(as_of))
    say(f"survival table as of {pd.Timestamp(as_of).date()} ({definition.describe().split(':')[0]})")
    st = survival_table(elog, definition, as_of)
    table = st.table.assign(cohort=acquisition_cohort(st.table["entry_date"]))
    if customers is not None:
        extra = [c for c in customers.columns if c not in table.columns]
        table = table.merge(customers[["customer_id", *extra]], on="customer_id", how="left")
    missing = [c for c in (segments or {}).values() if c not in table.columns]
    if missing:
        raise ConfigError(f"segment column {missing[0]!r} is neither in the survival table nor in the "
                          f"customer table. Fix: use one of {sorted(set(table.columns) - {'cohort'})[:12]}")
    say(f"Kaplan-Meier curves for {len(table):,} customers")
    km_overall = KaplanMeier().fit(table).result_
    km_by: dict[str, KaplanMeierResult] = {}
    logrank_by: dict[str, LogRankResult] = {}
    for label, col in {"cohort": "cohort", **(segments or {})}.items():
        if table[col].nunique() < 2:
            continue
        km_by[label] = KaplanMeier().fit(table, group_col=col).result_
        logrank_by[label] = logrank_test(table, group_col=col)
    window = getattr(definition, "window_days", 90)
    say("lifecycle stages and migration")
    life = _lifecycle(elog, st.as_of, window)
    landmark = _landmark(st.as_of)
    say(f"Cox driver model on behaviour at {landmark.date()}")
    try:
        drivers = _driver_model(elog, landmark, st.as_of, window)
    except (ModelError, ChurnDefinitionError) as exc:  # the report goes without drivers
        log.warning("no driver model: %s", exc)
        drivers = None
    if life.get("prepared") is not None:
        try:
            life["stage_survival"] = stage_survival(life["prepared"], landmark, until=st.as_of,
                                                    churn_window_days=window)
        except SurvchurnError as exc:
            log.info("no survival by stage: %s", exc)
    life.pop("prepared", None)
    say(f"warning score (churn within {horizon_days} days)")
    try:
        warn = _warning(elog, definition, st, horizon_days, score or ScoreSettings(), seed,
                        life.get("stages"), customers)
    except (ScoringError, DataError, ModelError) as exc:  # e.g. no flag predicts churn
        log.warning("no warning score: %s", exc)
        warn = {"warning_note": str(exc)}
    zph = None
    if drivers is not None:
        try:
            zph = cox_zph(drivers)
        except SurvchurnError as exc:
            log.info("no proportional-hazards test: %s", exc)
    return Analysis(
        drivers_zph=zph,
        **life, **warn, horizon_days=horizon_days,
        drivers=drivers, landmark=landmark if drivers is not None else None,
        as_of=st.as_of.normalize(), definition=definition, events=elog, survival=st,
        km_overall=km_overall, km_by=km_by, logrank_by=logrank_by, dataset=dataset,
        churn_rates=_churn_rates(elog, st.as_of, window),
        data_fingerprint=_fingerprint(elog),
    )


#: Driver variables: (internal name, formula on the point-in-time features).
DRIVER_VARIABLES = ("purchases_doubling", "spend_doubling", "recency_30d", "tenure_90d",
                    "behaviour_break")
_MIN_DRIVER_EVENTS = 20


def _landmark(as_of: pd.Timestamp) -> pd.Timestamp:
    """Two quarters before ``as_of``, on a quarter end when ``as_of`` is one."""
    return (as_of.normalize() - pd.DateOffset(months=6)) + pd.offsets.MonthEnd(0)


def _driver_model(elog: EventLog, landmark: pd.Timestamp, as_of: pd.Timestamp,
                  window_days: int) -> CoxResult | None:
    """Cox model of the first lapse after ``landmark`` on behaviour up to it."""
    import numpy as np

    if elog.min_time is None or landmark <= elog.min_time:
        return None
    feats = point_in_time_features(elog, landmark).table
    lt = landmark_table(elog, landmark, as_of, window_days=window_days, features=feats)
    if lt["event"].sum() < _MIN_DRIVER_EVENTS:
        return None
    x = pd.DataFrame({
        "duration": lt["duration"], "event": lt["event"],
        "purchases_doubling": np.log2(lt["frequency"].clip(lower=1)),
        "recency_30d": lt["recency_days"] / 30.0,
        "tenure_90d": lt["tenure_days"] / 90.0,
        "behaviour_break": lt["behaviour_break"].astype(float),
    })
    if elog.has_amount:
        x["spend_doubling"] = np.log2(1.0 + lt["monetary_mean"].clip(lower=0))
    keep = [c for c in x.columns if c in ("duration", "event") or x[c].std() > 0]
    return CoxPH().fit(x[keep]).result_


def _lifecycle(elog: EventLog, as_of: pd.Timestamp, window: int) -> dict[str, Any]:
    """Stages at ``as_of``, migration since the previous quarter end, recent churn types."""
    out: dict[str, Any] = {}
    try:
        prepared = prepare_events(elog)
        out["prepared"] = prepared
        out["stages"] = assign_stages(prepared, as_of, churn_window_days=window)
        ends = [as_of.normalize() - pd.offsets.QuarterEnd(k) for k in (3, 2, 1)]
        ends = [d for d in ends if elog.min_time is not None and d > elog.min_time]
        if ends:
            out["migration"] = stage_migration(prepared, ends[-1], as_of, churn_window_days=window)
            out["churn_types"] = churn_types(prepared, [*ends, as_of], churn_window_days=window)
    except SurvchurnError as exc:  # too little history for stages: the report goes without
        log.info("no lifecycle stages: %s", exc)
    return out


_MIN_LABELLED, _MIN_CHURNED = 200, 20


def training_as_of(as_of: pd.Timestamp, horizon_days: int) -> pd.Timestamp:
    """The feature date of the warning score's training data: ``horizon_days`` before
    ``as_of``, moved back to a month end when ``as_of`` is one (1998-06-30 with H = 90 gives
    1998-03-31), so the label "churned within H days" is observable by ``as_of``."""
    at = as_of.normalize() - pd.Timedelta(days=horizon_days)
    if as_of.is_month_end and not at.is_month_end:
        at = at - pd.offsets.MonthEnd(1)
    return at


def _warning(elog: EventLog, definition: ChurnDefinition, st: SurvivalTable, horizon: int,
             settings: ScoreSettings, seed: int, stages: StageResult | None,
             customers: pd.DataFrame | None = None) -> dict[str, Any]:
    """Fit the warning score on features as of ``as_of - H`` and score the live customers."""
    train_at = training_as_of(st.as_of, horizon)
    if elog.min_time is None or train_at <= elog.min_time:
        return {}
    data = horizon_dataset(elog, definition, train_at, horizon, customers=customers)
    if len(data.label) < _MIN_LABELLED or data.label.sum() < _MIN_CHURNED:
        log.info("warning score skipped: %d labelled customers, %d churned", len(data.label),
                 int(data.label.sum()))
        return {}
    result = build_warning_score(
        data.features, data.label, method=settings.method, max_points=settings.max_points,
        seed=seed, test=0.3, exclude=["customer_id"], churn_definition=definition.describe(),
        training_period=f"features as of {train_at.date()}, churn within {horizon} days after")
    report = result.test_report or result.report
    test_scores = result.test_scores if result.test_scores is not None else result.scores
    test_labels = data.label.loc[test_scores.index]
    cutoff = choose_cutoff(test_scores, test_labels, action_cost=settings.action_cost,
                           success_rate=settings.success_rate, value_saved=settings.value_saved,
                           capacity=settings.capacity or None)
    live_ids = st.table.loc[st.table["event"] == 0, "customer_id"]
    live = point_in_time_features(elog, st.as_of).table
    live = live[live["customer_id"].isin(live_ids)]
    if customers is not None:
        live = live.merge(customers, on="customer_id", how="left", validate="one_to_one")
    stage_of = stages.customers.set_index("customer_id")["stage"] if stages is not None else None
    wl = warning_list(result.scorecard, live, rates=report.to_frame()["churn_rate"], stages=stage_of)
    p = wl["p_churn"].fillna(float(data.label.mean())).to_numpy()
    expected = expected_churners(p, segment=wl["tier"].to_numpy()) if len(wl) else None
    return {"warning": result, "warning_list": wl, "cutoff": cutoff, "expected_churners": expected,
            "live_features": live.reset_index(drop=True)}
