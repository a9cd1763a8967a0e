"""Stage 4: survival models: Kaplan-Meier, log-rank tests, Cox PH, diagnostics, metrics."""

from survchurn.survival._counts import SurvivalCounts, counts_from_duckdb, counts_from_frame
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

__all__ = [
    "KaplanMeier",
    "KaplanMeierResult",
    "LogRankResult",
    "PairwiseLogRankResult",
    "SurvivalCounts",
    "TrendTestResult",
    "counts_from_duckdb",
    "counts_from_frame",
    "logrank_test",
    "logrank_test_counts",
    "logrank_trend",
    "p_adjust",
    "pairwise_logrank",
]
