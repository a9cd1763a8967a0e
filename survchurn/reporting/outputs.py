"""Write a run's files atomically: report, warning list, scorecard, metrics and manifest.

Everything but ``manifest.json`` depends only on the inputs, so re-running on the same data and
configuration gives byte-identical files; the manifest records when and with what the run was
made. Floats in ``metrics.json`` are rounded to 10 significant digits, so that the last bits of
parallel sums cannot change the file.
"""

from __future__ import annotations

import json
import math
import platform
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from survchurn._io import atomic_write_text, write_csv
from survchurn.analysis import Analysis
from survchurn.reporting.document import Report
from survchurn.reporting.pdf import pdf_available, write_report

__all__ = ["metrics_dict", "write_outputs"]

_PACKAGES = ("survchurn", "numpy", "pandas", "scipy", "duckdb", "lifelines", "statsmodels",
             "matplotlib", "jinja2", "weasyprint")


def _clean(value: Any) -> Any:
    """JSON-safe and stable: NaN -> None, floats to 10 significant digits, numpy -> Python."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.integer | bool | np.bool_):
        return value.item() if hasattr(value, "item") else value
    if isinstance(value, float | np.floating):
        v = float(value)
        return None if not math.isfinite(v) else float(f"{v:.10g}")
    if isinstance(value, pd.Timestamp):
        return str(value.date())
    return value


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    named = any(n is not None for n in frame.index.names)
    flat = frame.reset_index() if named else frame.reset_index(drop=True)
    return [_clean(r) for r in flat.to_dict(orient="records")]


def metrics_dict(a: Analysis) -> dict[str, Any]:
    """The numbers of a run, for scripts and for the next quarter's comparison."""
    st = a.survival.table
    out: dict[str, Any] = {
        "as_of": str(a.as_of.date()),
        "churn_definition": a.definition.describe(),
        "customers": len(st), "churned": int(st["event"].sum()),
        "active": int((st["event"] == 0).sum()), "rejected_customers": len(a.survival.rejected),
        "retention": _records(a.km_overall.at([30, 90, 180, 365])[["time", "survival", "lower", "upper"]]),
        "median_lifetime": _records(a.km_overall.median()[["time", "lower", "upper", "reached"]]),
        "logrank": {k: {"chisq": v.chisq, "df": v.df, "p": v.p_value} for k, v in a.logrank_by.items()},
    }
    if a.churn_rates is not None:
        out["churn_rate_by_quarter"] = _records(a.churn_rates.table[["period", "active_at_start", "lost",
                                                                     "churn_rate"]].set_index("period"))
    if a.stages is not None:
        out["stages"] = {str(k): int(v) for k, v in a.stages.to_frame()["customers"].items()}
    if a.drivers is not None:
        fr = a.drivers.to_frame()
        out["drivers"] = {"landmark": str(a.landmark.date()) if a.landmark is not None else None,
                          "n": a.drivers.n, "events": a.drivers.n_events,
                          "concordance": a.drivers.concordance,
                          "hazard_ratios": {k: fr.loc[k, "exp(coef)"] for k in fr.index}}
    if a.warning is not None:
        card = a.warning.scorecard
        report = a.warning.test_report or a.warning.report
        out["warning_score"] = {
            "horizon_days": a.horizon_days, "method": card.method, "training_period": card.training_period,
            "validation": {k: v for k, v in card.metrics.items() if isinstance(v, int | float)},
            "score_table": _records(report.to_frame()),
            "cutoff": None if a.cutoff is None or a.cutoff.best_cutoff is None else int(a.cutoff.best_cutoff),
            "cutoff_expected_value": None if a.cutoff is None else a.cutoff.best_value,
            "expected_churners": _records(a.expected_churners) if a.expected_churners is not None else None,
        }
    return _clean(out)


def _versions() -> dict[str, str]:
    found = {}
    for name in _PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def write_outputs(analysis: Analysis, report: Report, out_dir: str | Path, *,
                  formats: tuple[str, ...] = ("html", "pdf"), font_path: str | None = None,
                  extra_manifest: dict[str, Any] | None = None) -> tuple[dict[str, Path], list[str]]:
    """Write a run's files into ``out_dir``; returns (paths, messages).

    Files: ``report.html`` / ``report.pdf``, ``metrics.json``, and when a warning score was
    fitted ``warning_list.csv`` (one row per active customer: id, score, tier, stage, p_churn,
    reasons, and the scorecard's inputs) and ``scorecard.json``; ``manifest.json`` last. When a
    PDF is asked for but WeasyPrint/Pango is missing, the HTML is still written and a message
    says in one line how to enable the PDF.
    """
    out = Path(out_dir)
    messages: list[str] = []
    wanted = list(formats)
    if "pdf" in wanted:
        ok, hint = pdf_available()
        if not ok:
            wanted.remove("pdf")
            messages.append(f"PDF not written: {hint}")
    paths = write_report(report, out, formats=wanted, font=font_path)
    if analysis.warning is not None and analysis.warning_list is not None:
        card = analysis.warning.scorecard
        paths["warning_list"] = write_csv(_with_inputs(analysis), out / "warning_list.csv")
        paths["scorecard"] = card.save(out / "scorecard.json")
    paths["metrics"] = atomic_write_text(
        out / "metrics.json", json.dumps(metrics_dict(analysis), indent=2, sort_keys=True) + "\n")
    manifest = {
        "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "as_of": str(analysis.as_of.date()),
        "data_fingerprint": analysis.data_fingerprint,
        "customers": len(analysis.survival.table),
        "python": platform.python_version(),
        "packages": _versions(),
        "files": sorted(p.name for p in paths.values()),
        **(extra_manifest or {}),
    }
    paths["manifest"] = atomic_write_text(out / "manifest.json",
                                          json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return paths, messages


def _with_inputs(a: Analysis) -> pd.DataFrame:
    """The warning list plus the scorecard's input columns (next quarter's stability check)."""
    wl = a.warning_list
    assert wl is not None and a.warning is not None
    cols = a.warning.scorecard.variables
    if a.live_features is None or not cols:
        return wl
    inputs = a.live_features.set_index("customer_id")[cols]
    return wl.join(inputs, on="customer_id")
