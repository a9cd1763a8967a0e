"""Every matplotlib call lives here. Plot functions take ``ax=None`` and return the Axes; they
never call ``plt.show()``/``savefig`` and never switch the backend."""

from survchurn.plotting._style import use_report_style
from survchurn.plotting.churn import plot_cohort_retention, plot_purchase_cycle, plot_roll_rate
from survchurn.plotting.forest import forest_table, plot_forest
from survchurn.plotting.km import at_risk_axes, at_risk_table, plot_km
from survchurn.plotting.lifecycle import plot_stage_migration, plot_stage_survival
from survchurn.plotting.ph import plot_schoenfeld, schoenfeld_frame
from survchurn.plotting.scoring import (
    plot_cv_curve,
    plot_lasso_path,
    plot_points,
    plot_score_report,
)

__all__ = [
    "at_risk_axes",
    "at_risk_table",
    "forest_table",
    "plot_cohort_retention",
    "plot_cv_curve",
    "plot_forest",
    "plot_km",
    "plot_lasso_path",
    "plot_points",
    "plot_purchase_cycle",
    "plot_roll_rate",
    "plot_schoenfeld",
    "plot_score_report",
    "plot_stage_migration",
    "plot_stage_survival",
    "schoenfeld_frame",
    "use_report_style",
]
