"""Stage 3: survival models: Kaplan-Meier, log-rank tests, Cox PH, diagnostics, metrics."""

from survchurn.survival._counts import SurvivalCounts, counts_from_duckdb, counts_from_frame
from survchurn.survival.by_stage import StageSurvival, stage_survival
from survchurn.survival.cox import CoxPH, CoxResult
from survchurn.survival.cox_diagnostics import ZphResult, check_proportional_hazards, cox_zph
from survchurn.survival.kaplan_meier import KaplanMeier, KaplanMeierResult
from survchurn.survival.logrank import (
    LogRankResult,
    PairwiseLogRankResult,
    TrendTestResult,
    logrank_test,
    logrank_test_counts,
    logrank_trend,
    p_adjust,
    pairwise_logrank,
)
from survchurn.survival.metrics import (
    ConcordanceResult,
    brier_score,
    calibration_at_horizon,
    concordance_index,
    cumulative_dynamic_auc,
    integrated_brier_score,
    uno_concordance,
)
from survchurn.survival.predict import (
    baseline_cumulative_hazard,
    churn_probability,
    expected_churners,
    expected_remaining_lifetime,
    forecast_churners,
    predict_survival,
)

__all__ = [
    "ConcordanceResult",
    "CoxPH",
    "CoxResult",
    "KaplanMeier",
    "KaplanMeierResult",
    "LogRankResult",
    "PairwiseLogRankResult",
    "StageSurvival",
    "SurvivalCounts",
    "TrendTestResult",
    "ZphResult",
    "baseline_cumulative_hazard",
    "brier_score",
    "calibration_at_horizon",
    "check_proportional_hazards",
    "churn_probability",
    "concordance_index",
    "counts_from_duckdb",
    "counts_from_frame",
    "cox_zph",
    "cumulative_dynamic_auc",
    "expected_churners",
    "expected_remaining_lifetime",
    "forecast_churners",
    "integrated_brier_score",
    "logrank_test",
    "logrank_test_counts",
    "logrank_trend",
    "p_adjust",
    "pairwise_logrank",
    "predict_survival",
    "stage_survival",
    "uno_concordance",
]
