"""survchurn: customer churn early warning with survival analysis.

The public API is re-exported here; each stage's full API is in its sub-package
(``survchurn.data``, ``.churn``, ``.survival``, ``.scoring``, ``.plotting``, ``.reporting``).
See ``docs/ARCHITECTURE.md`` for the layout.
"""

from survchurn.analysis import analyse
from survchurn.churn import (
    ContractualChurn,
    InactivityChurn,
    PartialChurn,
    active_base_churn,
    assign_stages,
    churn_types,
    cohort_retention,
    feature_panel,
    features,
    landmark_table,
    purchase_cycle,
    roll_rate,
    stage_migration,
    survival_table,
)
from survchurn.data import load_cdnow, read_customer_table, read_event_log, simulate_dealership
from survchurn.exceptions import (
    ChurnDefinitionError,
    ConfigError,
    DataError,
    DependencyError,
    ModelError,
    ReportError,
    ScoringError,
    SurvchurnError,
    SurvchurnWarning,
)
from survchurn.pipeline import build_report, run_config, run_demo, write_outputs
from survchurn.plotting import plot_forest, plot_km
from survchurn.scoring import Scorecard, build_warning_score, horizon_dataset, warning_list
from survchurn.survival import (
    CoxPH,
    KaplanMeier,
    cox_zph,
    logrank_test,
    pairwise_logrank,
    stage_survival,
)

__version__ = "0.1.0"

__all__ = [
    "ChurnDefinitionError",
    "ConfigError",
    "ContractualChurn",
    "CoxPH",
    "DataError",
    "DependencyError",
    "InactivityChurn",
    "KaplanMeier",
    "ModelError",
    "PartialChurn",
    "ReportError",
    "ScoringError",
    "SurvchurnError",
    "Scorecard",
    "SurvchurnWarning",
    "__version__",
    "active_base_churn",
    "analyse",
    "assign_stages",
    "build_report",
    "build_warning_score",
    "churn_types",
    "cohort_retention",
    "cox_zph",
    "feature_panel",
    "features",
    "horizon_dataset",
    "landmark_table",
    "load_cdnow",
    "logrank_test",
    "pairwise_logrank",
    "plot_forest",
    "plot_km",
    "purchase_cycle",
    "read_customer_table",
    "read_event_log",
    "roll_rate",
    "run_config",
    "run_demo",
    "simulate_dealership",
    "stage_migration",
    "stage_survival",
    "survival_table",
    "warning_list",
    "write_outputs",
]
