"""The one orchestrator: used by the CLI, the notebooks and the demo.

:func:`~survchurn.analysis.analyse` runs the statistics (no files written);
:func:`~survchurn.reporting.build.build_report` turns the :class:`~survchurn.analysis.Analysis`
into a report model; :func:`~survchurn.reporting.outputs.write_outputs` writes the files
atomically. :func:`run_demo` and :func:`run_config` chain the three for the bundled data and for
a TOML configuration. Progress is reported through an optional ``progress(message)`` callable;
the library itself never prints.
"""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from survchurn._display import format_header_text
from survchurn.analysis import Analysis, Progress, analyse, period_label
from survchurn.churn.definitions import InactivityChurn
from survchurn.config import RunConfig, load_config, parse_date
from survchurn.data.cdnow import load_cdnow
from survchurn.data.eventlog import EventLog, read_event_log
from survchurn.exceptions import ConfigError
from survchurn.reporting.build import build_report
from survchurn.reporting.document import Report
from survchurn.reporting.outputs import write_outputs

__all__ = ["Analysis", "PipelineResult", "analyse", "build_report", "run_config", "run_demo",
           "validate_config", "write_outputs"]

log = logging.getLogger(__name__)


def _quiet(_: str) -> None:
    return None


@dataclass(repr=False)
class PipelineResult:
    """What a run produced: the analysis, the report model, written files and messages."""

    analysis: Analysis
    report: Report
    outputs: dict[str, Path]
    messages: list[str]

    def __repr__(self) -> str:
        files = {name: str(path) for name, path in self.outputs.items()}
        return repr(self.analysis) + "\n" + format_header_text("outputs", {**files, **{
            f"note {i}": m for i, m in enumerate(self.messages, 1)}})

    def _repr_html_(self) -> str:
        items = "".join(f"<li>{html.escape(name)}: <code>{html.escape(str(path))}</code></li>"
                        for name, path in self.outputs.items())
        notes = "".join(f"<li>{html.escape(m)}</li>" for m in self.messages)
        return self.analysis._repr_html_() + f"<ul>{items}{notes}</ul>"


def run_demo(out_dir: str | Path = "reports/demo", *, lang: str = "en", pdf: bool = True,
             progress: Progress | None = None) -> PipelineResult:
    """The main job on the bundled CDNOW log, as of its last day (1998-06-30).

    Writes ``report.html`` (and ``report.pdf`` where the PDF engine is available) and
    ``manifest.json`` into ``out_dir``.
    """
    say = progress or _quiet
    say("loading the bundled CDNOW transaction log")
    events = load_cdnow()
    analysis = analyse(events, as_of="1998-06-30", dataset="CDNOW (Fader & Hardie), 1997-01 to 1998-06",
                       progress=say)
    say("building the report")
    title = "CDNOW: customer churn early warning" if lang == "en" else "CDNOW 客户流失预警"
    report = build_report(analysis, title=title, lang=lang)
    formats = ("html", "pdf") if pdf else ("html",)
    say("writing " + " and ".join(formats).upper())
    outputs, messages = write_outputs(analysis, report, out_dir, formats=formats)
    return PipelineResult(analysis, report, outputs, messages)


def _read_configured_events(cfg: RunConfig) -> EventLog:
    d = cfg.data
    path = cfg.resolve(d.events)
    if not path.exists():
        raise FileNotFoundError(f"data.events: the file {str(path)!r} does not exist. Fix: check the path in the config.")
    source: Any = path
    con = None
    if path.suffix in (".duckdb", ".db"):
        import duckdb

        if not d.table:
            raise ConfigError("data.table is required when data.events is a DuckDB database file.")
        con = duckdb.connect(str(path), read_only=True)
        source = f"SELECT * FROM {d.table}"
    return read_event_log(source, id_col=d.id_col, time_col=d.time_col, amount_col=d.amount_col,
                          category_col=d.category_col, con=con)


def run_config(config: str | Path | RunConfig, *, as_of: Any, out_dir: str | Path | None = None,
               progress: Progress | None = None) -> PipelineResult:
    """Run the analysis configured in a TOML file as of a date into ``reports/<period>/``."""
    say = progress or _quiet
    cfg = config if isinstance(config, RunConfig) else load_config(config)
    stamp = parse_date(as_of, "--as-of")
    say("reading and validating the event log")
    events = _read_configured_events(cfg)
    definition = InactivityChurn(window_days=cfg.churn.window_days)
    segments = {cfg.report.segment_col: cfg.report.segment_col} if cfg.report.segment_col else None
    analysis = analyse(events, as_of=stamp, definition=definition, segments=segments,
                       dataset=str(cfg.data.events), progress=say)
    report = build_report(analysis, title=cfg.report.title, lang=cfg.report.lang,
                          font_path=cfg.report.font_path)
    target = Path(out_dir) if out_dir else cfg.resolve(cfg.output_dir) / period_label(analysis.as_of)
    say(f"writing outputs to {target}")
    outputs, messages = write_outputs(analysis, report, target, formats=cfg.report.formats,
                                      font_path=cfg.report.font_path,
                                      extra_manifest={"config_hash": cfg.fingerprint()})
    return PipelineResult(analysis, report, outputs, messages)


def validate_config(config: str | Path, *, as_of: Any = None, progress: Progress | None = None) -> str:
    """Check a configuration and its data without fitting models; returns a short summary."""
    cfg = load_config(config)
    if as_of is not None:
        parse_date(as_of, "--as-of")
    events = _read_configured_events(cfg)
    n = events.con.execute(f"SELECT count(*), count(DISTINCT customer_id) FROM {events.view}").fetchone()
    return (f"config OK; event log OK: {n[0]:,} events, {n[1]:,} customers, "
            f"{len(events.rejected):,} rows rejected")
