"""One call from a feature table and a churn label to an integer warning score and its scorecard.

``build_warning_score`` runs: candidate risk flags -> screening -> selection (LASSO, stepwise or
the full model) -> integer points -> score report -> frozen scorecard, and with a test set the
side-by-side comparison of the three models.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from survchurn._display import Result
from survchurn.exceptions import ConfigError, DataError
from survchurn.scoring.candidates import CandidateBuilder
from survchurn.scoring.evaluation import ModelComparison, auc, compare_models, ks_statistic
from survchurn.scoring.lasso import LassoLogistic, LassoResult
from survchurn.scoring.logistic import LogisticResult, fit_logistic
from survchurn.scoring.monitoring import StabilityReport, population_stability
from survchurn.scoring.points import PointsTable, WarningPoints
from survchurn.scoring.report import DEFAULT_TIERS, ScoreReport, risk_value_grid, score_report
from survchurn.scoring.scorecard import Scorecard
from survchurn.scoring.screening import ScreeningResult, screen_candidates
from survchurn.scoring.stepwise import StepwiseLogistic, StepwiseResult

__all__ = ["WarningScoreResult", "build_warning_score"]

logger = logging.getLogger(__name__)


@dataclass(repr=False)
class WarningScoreResult(Result):
    """Everything one warning-score fit produced.

    Attributes
    ----------
    report : ScoreReport
        Score table on the training customers (``test_report`` on the test customers).
    points : PointsTable
    model : LogisticResult
        The logistic model the points came from.
    selection : LassoResult, StepwiseResult or None
    screening : ScreeningResult
    comparison : ModelComparison or None
        Full / LASSO / stepwise / integer score on the test set.
    scorecard : Scorecard
    scores : Series
        Training customers' scores; ``reasons``: their top reasons.
    """

    method: str
    report: ScoreReport
    test_report: ScoreReport | None
    points: PointsTable
    model: LogisticResult
    selection: LassoResult | StepwiseResult | None
    screening: ScreeningResult
    comparison: ModelComparison | None
    scorecard: Scorecard
    scores: pd.Series
    reasons: pd.DataFrame
    builder: CandidateBuilder
    test_scores: pd.Series | None = None
    grid: pd.DataFrame | None = None
    train_features: pd.DataFrame | None = None

    _title = "Warning score"

    def stability(self, new_features: pd.DataFrame, *, n_bins: int = 10) -> StabilityReport:
        """PSI of the score and of every scorecard input between training and ``new_features``."""
        if self.train_features is None:
            raise DataError(["the training features were not kept; call population_stability directly"],
                            "warning score")
        cols = self.scorecard.variables
        old = self.train_features[cols].assign(score=self.scores.to_numpy())
        new = new_features[cols].assign(score=self.scorecard.score(new_features).to_numpy())
        return population_stability(old, new, columns=["score", *cols], n_bins=n_bins)

    def to_frame(self) -> pd.DataFrame:
        return (self.test_report or self.report).to_frame()

    def _header(self) -> dict[str, Any]:
        head = {"method": self.method, "max points": self.scorecard.max_points,
                "training customers": self.report.n, "training churned": self.report.n_churned}
        head.update({k: v for k, v in self.scorecard.metrics.items() if isinstance(v, int | float | str)})
        if self.scorecard.churn_definition:
            head["churn definition"] = self.scorecard.churn_definition
        return head


def _select(method: str, F: pd.DataFrame, y: np.ndarray, groups: dict[str, str], seed: int,
            foldid: Sequence[int] | None, nfolds: int) -> tuple[LogisticResult, LassoResult | StepwiseResult | None]:
    if method == "full":
        return fit_logistic(F, y, groups=groups), None
    if method == "lasso":
        las = LassoLogistic(seed=seed, nfolds=nfolds).fit(F, y, foldid=foldid, groups=groups).result_
        if las.refit is None:
            raise DataError(["LASSO selected no flag at lambda.1se: no candidate predicts churn; "
                             "check the label or try method='stepwise'"], "warning score")
        return las.refit, las
    if method == "stepwise":
        st = StepwiseLogistic(direction="both", criterion="aic").fit(F, y, groups=groups).result_
        if not st.columns:
            raise DataError(["stepwise selection kept no flag: no candidate predicts churn"], "warning score")
        return st.model, st
    raise ConfigError(f"method must be 'lasso', 'stepwise' or 'full', got {method!r}")


def build_warning_score(
    features: pd.DataFrame,
    label: pd.Series | np.ndarray | str,
    *,
    method: str = "lasso",
    max_points: int = 5,
    seed: int = 0,
    test: float | tuple[pd.DataFrame, pd.Series | np.ndarray] | None = None,
    points_method: str = "scaled",
    candidates: CandidateBuilder | None = None,
    tiers: Mapping[str, int] | None = None,
    exclude: Sequence[str] = (),
    foldid: Sequence[int] | None = None,
    nfolds: int = 10,
    compare: bool = True,
    churn_definition: str = "",
    training_period: str = "",
    segment_col: str | None = None,
    value_col: str | None = None,
) -> WarningScoreResult:
    """Build an integer warning score from point-in-time features and a horizon churn label.

    Parameters
    ----------
    features : DataFrame
        One row per customer; raw feature columns (numeric and categorical).
    label : Series, array or str
        1 if the customer churned within the horizon, else 0 (or the name of that column).
    method : {"lasso", "stepwise", "full"}
        How the risk flags are selected.
    max_points : int
        Largest total score.
    seed : int
        Seed of the random test split and the CV folds.
    test : float or (DataFrame, labels), optional
        A share of rows to hold out at random, or an explicit test set (e.g. out-of-time).
    points_method : {"scaled", "count"}
    candidates : CandidateBuilder, optional
        Candidate settings (default: event-rate flags of every column not in ``exclude``).
    tiers : mapping, optional
        Tier name -> lowest score.
    exclude : sequence of str
        Columns never used as candidates (ids, dates); ignored when ``candidates`` is given
        (set ``exclude`` on the builder instead).
    foldid : array, optional
        CV folds for the LASSO (training rows).
    compare : bool
        With a test set, also fit the other two models and compare all on the test set.
    churn_definition, training_period : str
        Text stored in the scorecard.
    segment_col : str, optional
        Column (e.g. lifecycle stage) for the score report by segment (``report.by_segment``).
    value_col : str, optional
        Customer-value column for the risk x value grid (``grid``), on the test set if given.
    """
    if isinstance(label, str):
        if label not in features.columns:
            raise DataError([f"label column {label!r} not found in the features"], "warning score")
        y_all = features[label].to_numpy(dtype=float)
        features = features.drop(columns=[label])
    else:
        y_all = np.asarray(label, dtype=float)
    if len(y_all) != len(features):
        raise DataError([f"label has {len(y_all):,} rows but features have {len(features):,}"], "warning score")
    test_X = test_y = None
    train_X, train_y = features, y_all
    if isinstance(test, float):
        if not 0 < test < 1:
            raise ConfigError(f"test share must be between 0 and 1, got {test}")
        rng = np.random.default_rng(seed)
        is_test = rng.random(len(features)) < test
        train_X, train_y = features[~is_test], y_all[~is_test]
        test_X, test_y = features[is_test], y_all[is_test]
    elif test is not None:
        test_X, test_y = test[0], np.asarray(test[1], dtype=float)
    builder = candidates or CandidateBuilder(exclude=exclude)
    F = builder.fit_transform(train_X, train_y)
    groups = builder.groups_
    screening = screen_candidates(train_X, train_y, columns=builder.inputs_)
    model, selection = _select(method, F, train_y, groups, seed, foldid, nfolds)
    pts = WarningPoints(max_points=max_points, method=points_method).fit(model.coef, groups)
    by_name = {s["name"]: s for s in builder.specs_}
    flags = tuple({**by_name[f], "points": int(p)} for f, p in pts.points_.items())
    card = Scorecard(flags=flags, max_points=max_points, tiers=dict(tiers or DEFAULT_TIERS),
                     churn_definition=churn_definition, training_period=training_period, method=method)
    scores = card.score(train_X)
    metrics: dict[str, Any] = {"train_auc": auc(scores, train_y), "train_ks": ks_statistic(scores, train_y),
                               "n_train": int(len(train_y)), "n_flags": len(flags)}
    for col in (segment_col, value_col):
        if col is not None and col not in features.columns:
            raise DataError([f"column {col!r} not found in the features"], "warning score")
    seg = None if segment_col is None else train_X[segment_col].to_numpy()
    report = score_report(scores, train_y, segment=seg, tiers=card.tiers, description=churn_definition)
    test_report = comparison = test_scores = None
    if test_X is not None:
        test_scores = card.score(test_X)
        seg_t = None if segment_col is None else test_X[segment_col].to_numpy()
        test_report = score_report(test_scores, test_y, segment=seg_t, tiers=card.tiers,
                                   description=churn_definition)
        metrics.update(test_auc=auc(test_scores, test_y), test_ks=ks_statistic(test_scores, test_y),
                       n_test=int(len(test_y)))
        Ft = builder.transform(test_X)
        models = {method: model}
        if compare:
            for other in ("full", "lasso", "stepwise"):
                if other not in models:
                    models[other] = _select(other, F, train_y, groups, seed, foldid, nfolds)[0]
        rows = {f"{k} (logistic)": (m.predict_proba(Ft), len(m.columns)) for k, m in models.items()}
        rows["integer score"] = (test_scores.to_numpy(), len(flags))
        comparison = compare_models(rows, test_y)
    metrics["score_table"] = {str(k): {c: float(v) for c, v in r.items()} for k, r in report.table.iterrows()}
    card = replace(card, metrics={k: (float(v) if isinstance(v, np.floating) else v) for k, v in metrics.items()})
    reasons = pts.reasons(F)
    grid = None
    if value_col is not None:
        gx, gs, gy = (test_X, test_scores, test_y) if test_X is not None else (train_X, scores, train_y)
        grid = risk_value_grid(gs, gx[value_col].to_numpy(dtype=float), gy, tiers=card.tiers)
    return WarningScoreResult(method=method, report=report, test_report=test_report, points=pts.table_,
                              model=model, selection=selection, screening=screening, comparison=comparison,
                              scorecard=card, scores=scores, reasons=reasons, builder=builder,
                              test_scores=test_scores, grid=grid, train_features=train_X)
