"""Write a run's files atomically: the report, the manifest and (later) lists and metrics."""

from __future__ import annotations

import json
import platform
from pathlib import Path
from typing import Any

from survchurn._io import atomic_write_text
from survchurn.analysis import Analysis
from survchurn.reporting.document import Report
from survchurn.reporting.pdf import pdf_available, write_report

__all__ = ["write_outputs"]


def write_outputs(analysis: Analysis, report: Report, out_dir: str | Path, *,
                  formats: tuple[str, ...] = ("html", "pdf"), font_path: str | None = None,
                  extra_manifest: dict[str, Any] | None = None) -> tuple[dict[str, Path], list[str]]:
    """Write the report (and a manifest) into ``out_dir``; returns (paths, messages).

    When a PDF is asked for but WeasyPrint/Pango is missing, the HTML is still written and a
    message says in one line how to enable the PDF.
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
    manifest = {
        "as_of": str(analysis.as_of.date()),
        "churn_definition": analysis.definition.describe(),
        "data_fingerprint": analysis.data_fingerprint,
        "customers": len(analysis.survival.table),
        "rejected_customers": len(analysis.survival.rejected),
        "python": platform.python_version(),
        "files": sorted(p.name for p in paths.values()),
        **(extra_manifest or {}),
    }
    paths["manifest"] = atomic_write_text(out / "manifest.json", json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return paths, messages
