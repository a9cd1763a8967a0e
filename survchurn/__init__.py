"""survchurn: customer churn early warning with survival analysis.

The public API is re-exported here; see ``docs/ARCHITECTURE.md`` for the layout.
"""

from survchurn.data import load_cdnow
from survchurn.exceptions import (
    ChurnDefinitionError,
    ConfigError,
    DataError,
    ModelError,
    ReportError,
    ScoringError,
    SurvchurnError,
    SurvchurnWarning,
)

__version__ = "0.1.0"

__all__ = [
    "ChurnDefinitionError",
    "ConfigError",
    "DataError",
    "ModelError",
    "ReportError",
    "ScoringError",
    "SurvchurnError",
    "SurvchurnWarning",
    "__version__",
    "load_cdnow",
]
