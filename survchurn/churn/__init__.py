"""Stage 2: churn definitions, choosing the window, survival tables, features, KPIs, lifecycle."""

from survchurn.churn.active_base import ActiveBaseChurn, active_base_churn
from survchurn.churn.definitions import (
    ChurnDefinition,
    ContractualChurn,
    InactivityChurn,
    PartialChurn,
)
from survchurn.churn.features import FeatureTable, feature_panel, features
from survchurn.churn.kpis import (
    ChurnRates,
    CohortRetention,
    churn_rate_by_period,
    cohort_retention,
    convert_rate,
)
from survchurn.churn.landmark import landmark_table
from survchurn.churn.lifecycle import STAGE_ORDER, StageResult, StageRules, assign_stages
from survchurn.churn.migration import (
    ChurnTypesResult,
    MigrationResult,
    churn_types,
    stage_migration,
    stage_survival_table,
)
from survchurn.churn.survival_table import SurvivalTable, survival_table
from survchurn.churn.window import PurchaseCycle, WindowChoice, purchase_cycle, roll_rate

__all__ = [
    "STAGE_ORDER",
    "ActiveBaseChurn",
    "ChurnDefinition",
    "ChurnRates",
    "ChurnTypesResult",
    "CohortRetention",
    "ContractualChurn",
    "FeatureTable",
    "InactivityChurn",
    "MigrationResult",
    "PartialChurn",
    "PurchaseCycle",
    "StageResult",
    "StageRules",
    "SurvivalTable",
    "WindowChoice",
    "active_base_churn",
    "assign_stages",
    "churn_rate_by_period",
    "churn_types",
    "cohort_retention",
    "convert_rate",
    "feature_panel",
    "features",
    "landmark_table",
    "purchase_cycle",
    "roll_rate",
    "stage_migration",
    "stage_survival_table",
    "survival_table",
]
