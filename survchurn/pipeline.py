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
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from survchurn._display import format_header_text
from survchurn._io import write_csv
from survchurn.analysis import Analysis, Progress, _quiet, analyse, check_as_of, period_label
from survchurn.churn.definitions import InactivityChurn
from survchurn.config import RunConfig, load_config, parse_date
from survchurn.data.cdnow import load_cdnow
from survchurn.data.eventlog import EventLog, end_of_day, read_event_log
from survchurn.data.validate import read_customer_table
from survchurn.exceptions import ConfigError, DataError
from survchurn.reporting.build import build_report
from survchurn.reporting.document import Report
from survchurn.reporting.outputs import metrics_dict, write_outputs
from survchurn.scoring.backtest import compare_quarters
from survchurn.scoring.live import warning_list
from survchurn.scoring.scorecard import Scorecard

__all__ = ["Analysis", "PipelineResult", "analyse", "build_report", "run_config", "run_demo",
           "campaign_assign", "campaign_evaluate", "score_file", "validate_config", "write_outputs"]

log = logging.getLogger(__name__)


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


def _load_previous(folder: str | Path) -> tuple[dict[str, Any], pd.DataFrame, Scorecard | None]:
    """The ``metrics.json``, ``warning_list.csv`` and ``scorecard.json`` of a previous run."""
    path = Path(folder)
    metrics, wl = path / "metrics.json", path / "warning_list.csv"
    missing = [p.name for p in (metrics, wl) if not p.is_file()]
    if missing:
        raise FileNotFoundError(
            f"--previous {str(path)!r}: {', '.join(missing)} not found. Fix: point --previous at the "
            "output folder of an earlier `survchurn run` (e.g. reports/2026Q2).")
    try:
        data = json.loads(metrics.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError([f"{metrics} is not valid JSON ({exc}); re-run that quarter"],
                        context="previous run") from exc
    card = Scorecard.load(path / "scorecard.json") if (path / "scorecard.json").is_file() else None
    return data, pd.read_csv(wl, dtype={"customer_id": str}), card


def run_config(config: str | Path | RunConfig, *, as_of: Any, out_dir: str | Path | None = None,
               previous: str | Path | None = None, progress: Progress | None = None) -> PipelineResult:
    """Run the analysis configured in a TOML file as of a date into ``reports/<period>/``.

    Parameters
    ----------
    config : path or RunConfig
    as_of : date-like
        Observation cut-off, ``YYYY-MM-DD``.
    out_dir : path, optional
        Output folder; default ``<output_dir>/<period>`` (e.g. ``reports/2026Q3``).
    previous : path, optional
        A previous run's output folder: adds the quarter-over-quarter section.
    """
    say = progress or _quiet
    cfg = config if isinstance(config, RunConfig) else load_config(config)
    stamp = parse_date(as_of, "--as-of")
    prior = _load_previous(previous) if previous is not None else None
    say("reading and validating the event log")
    events = _read_configured_events(cfg)
    definition = InactivityChurn(window_days=cfg.churn.window_days)
    segments = {cfg.report.segment_col: cfg.report.segment_col} if cfg.report.segment_col else None
    customers = None
    if cfg.data.customers:
        path = cfg.resolve(cfg.data.customers)
        if not path.is_file():
            raise FileNotFoundError(f"data.customers: the file {str(path)!r} does not exist. "
                                    "Fix: check the path in the config.")
        customers = read_customer_table(path, id_col=cfg.data.id_col).frame
    analysis = analyse(events, as_of=stamp, definition=definition, segments=segments,
                       dataset=str(cfg.data.events), horizon_days=cfg.churn.horizon_days,
                       score=cfg.score, seed=cfg.seed, customers=customers, progress=say)
    if prior is not None:
        say("comparing with the previous run")
        analysis.qoq = compare_quarters(prior[0], prior[1], metrics_dict(analysis),
                                        analysis.live_features, analysis.survival,
                                        previous_scorecard=prior[2])
    report = build_report(analysis, title=cfg.report.title, lang=cfg.report.lang,
                          font_path=cfg.report.font_path)
    target = Path(out_dir) if out_dir else cfg.resolve(cfg.output_dir) / period_label(analysis.as_of)
    say(f"writing outputs to {target}")
    outputs, messages = write_outputs(analysis, report, target, formats=cfg.report.formats,
                                      font_path=cfg.report.font_path,
                                      extra_manifest={"config_hash": cfg.fingerprint()})
    return PipelineResult(analysis, report, outputs, messages)


def validate_config(config: str | Path, *, as_of: Any = None, progress: Progress | None = None) -> str:
    """Check a configuration and its data without fitting models; returns a short summary.

    With ``as_of``, also says how many events fall after it (left out of a run as of that date)
    and fails when the date lies outside the data.
    """
    cfg = load_config(config)
    stamp = parse_date(as_of, "--as-of") if as_of is not None else None
    events = _read_configured_events(cfg)
    n = events.con.execute(f"SELECT count(*), count(DISTINCT customer_id) FROM {events.view}").fetchone()
    lines = [f"config OK; event log OK: {n[0]:,} events, {n[1]:,} customers, "
             f"{len(events.rejected):,} rows rejected, {events.min_time:%Y-%m-%d} to {events.max_time:%Y-%m-%d}"]
    if stamp is not None:
        check_as_of(events, stamp)
        after = events.con.execute(
            f"SELECT count(*) FROM {events.view} WHERE time > ?", [end_of_day(stamp).to_pydatetime()]
        ).fetchone()[0]
        lines.append(f"as of {stamp.date()}: {after:,} events after it are left out of a run as of that date")
    return "\n".join(lines)


def score_file(scorecard: str | Path, customers: str | Path, out: str | Path, *,
               id_col: str = "customer_id") -> Path:
    """Apply a saved scorecard to a customer table (CSV or Parquet) and write the scores.

    The output CSV has one row per input row: ``id_col``, ``score``, ``tier`` and ``reasons``,
    written atomically and safe to open in a spreadsheet.
    """
    if not Path(scorecard).is_file():
        raise FileNotFoundError(f"scorecard {str(scorecard)!r} does not exist. Fix: check the path.")
    card = Scorecard.load(scorecard)
    table = _read_table(customers, "customer table")
    if id_col not in table.columns:
        raise DataError([f"column {id_col!r} not found; columns are {list(table.columns)[:10]}. "
                         "Fix: pass --id-col"], context="customer table")
    rows = table.rename(columns={id_col: "customer_id"}).reset_index(drop=True)
    # score by row position, so duplicate ids stay separate rows in the input order
    scored = warning_list(card, rows.assign(customer_id=np.arange(len(rows))))
    scored = scored.sort_values("customer_id", kind="stable").reset_index(drop=True)
    scored["customer_id"] = rows["customer_id"].to_numpy()
    present = [c for c in card.variables if c in rows.columns]
    gaps = rows[present].isna()
    scored["missing_inputs"] = ["; ".join(gaps.columns[m]) for m in gaps.to_numpy()]
    if gaps.any(axis=1).any():
        log.warning("%d of %d rows have missing scorecard inputs; they score 0 points for them "
                    "(see the missing_inputs column)", int(gaps.any(axis=1).sum()), len(rows))
    return write_csv(scored.rename(columns={"customer_id": id_col}), out)


def _read_table(path: str | Path, what: str) -> pd.DataFrame:
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{what} {str(p)!r} does not exist. Fix: check the path.")
    if p.suffix.lower() in (".parquet", ".pq"):
        return pd.read_parquet(p)
    if p.suffix.lower() in (".csv", ".txt"):
        return pd.read_csv(p)
    raise DataError([f"{p.name}: unknown file type {p.suffix!r}; use .csv or .parquet"], context=what)


def campaign_assign(customers: str | Path, out: str | Path, *, seed: int, strata: tuple[str, ...] = ("tier",),
                    treat_share: float = 0.5, id_col: str = "customer_id") -> Path:
    """Randomise flagged customers (e.g. a warning list) to treatment and holdout, by stratum."""
    from survchurn.campaign.design import assign_campaign

    table = _read_table(customers, "customer table")
    result = assign_campaign(table, seed=seed, strata=strata, treat_share=treat_share, id_col=id_col)
    return write_csv(result.table, out)


def campaign_evaluate(assignment: str | Path, events: str | Path, out: str | Path, *, start: Any,
                      as_of: Any, horizon_days: int, window_days: int = 90, id_col: str = "customer_id",
                      time_col: str = "date", action_cost: float | None = None,
                      customer_value: float | None = None) -> Path:
    """Evaluate a campaign from its assignment table and the event log; write the result table."""
    from survchurn.campaign.evaluate import evaluate_campaign

    plan = _read_table(assignment, "assignment table")
    log = _read_table(events, "event log")
    if time_col in log.columns:
        log[time_col] = pd.to_datetime(log[time_col], errors="coerce")
    result = evaluate_campaign(plan, log, start=parse_date(start, "--start"),
                               as_of=parse_date(as_of, "--as-of"), horizon_days=horizon_days,
                               window_days=window_days, id_col=id_col, time_col=time_col,
                               action_cost=action_cost, customer_value=customer_value)
    return write_csv(result.to_frame(), out, index=True)
