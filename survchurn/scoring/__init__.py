"""Stage 4: integer warning scores: candidates, LASSO and stepwise logistic regression, points,
score reports, cut-offs, frozen JSON scorecards, monitoring and back-tests."""

from survchurn.scoring.backtest import (
    QuarterOverQuarter,
    WarningBacktest,
    backtest_warnings,
    compare_quarters,
)
from survchurn.scoring.candidates import CandidateBuilder
from survchurn.scoring.cutoff import CutoffResult, choose_cutoff, cutoff_table
from survchurn.scoring.evaluation import (
    ModelComparison,
    auc,
    brier,
    compare_models,
    ks_statistic,
    log_loss,
)
from survchurn.scoring.lasso import LassoLogistic, LassoResult, lambda_sequence, lasso_path
from survchurn.scoring.live import WARNING_FEATURES, HorizonDataset, horizon_dataset, warning_list
from survchurn.scoring.logistic import LogisticResult, fit_logistic
from survchurn.scoring.monitoring import (
    StabilityReport,
    population_stability,
    psi,
    psi_table,
    traffic_light,
)
from survchurn.scoring.points import PointsTable, WarningPoints
from survchurn.scoring.report import (
    DEFAULT_TIERS,
    ScoreReport,
    assign_tiers,
    risk_value_grid,
    score_report,
)
from survchurn.scoring.scorecard import Scorecard
from survchurn.scoring.screening import ScreeningResult, screen_candidates
from survchurn.scoring.stepwise import StepwiseLogistic, StepwiseResult
from survchurn.scoring.warning_score import WarningScoreResult, build_warning_score

__all__ = [
    "DEFAULT_TIERS",
    "WARNING_FEATURES",
    "CandidateBuilder",
    "CutoffResult",
    "HorizonDataset",
    "LassoLogistic",
    "LassoResult",
    "LogisticResult",
    "ModelComparison",
    "PointsTable",
    "QuarterOverQuarter",
    "ScoreReport",
    "Scorecard",
    "ScreeningResult",
    "StabilityReport",
    "StepwiseLogistic",
    "StepwiseResult",
    "WarningBacktest",
    "WarningPoints",
    "WarningScoreResult",
    "assign_tiers",
    "auc",
    "backtest_warnings",
    "brier",
    "build_warning_score",
    "choose_cutoff",
    "compare_models",
    "compare_quarters",
    "cutoff_table",
    "fit_logistic",
    "horizon_dataset",
    "ks_statistic",
    "lambda_sequence",
    "lasso_path",
    "log_loss",
    "population_stability",
    "psi",
    "psi_table",
    "risk_value_grid",
    "score_report",
    "screen_candidates",
    "traffic_light",
    "warning_list",
]
