"""The ``survchurn`` command: argument parsing only; the work is in :mod:`survchurn.pipeline`.

Exit codes scripts can rely on:

====  ==========================================================
0     success
1     unexpected failure (a bug: please report it with the traceback)
2     bad command line (unknown command or option)
3     bad configuration (missing/misspelled key, bad value, missing config file)
4     bad data (event log or customer table failed validation, file missing)
5     the analysis or the report failed (model, scoring or report error)
====  ==========================================================
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import warnings
from collections.abc import Sequence
from typing import Any

from survchurn.exceptions import ConfigError, DataError, SurvchurnError

__all__ = ["main"]

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_CONFIG, EXIT_DATA, EXIT_ANALYSIS = 0, 1, 2, 3, 4, 5


class _Progress:
    """Step-by-step progress on stderr that reads well in a terminal and in a CI log."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self._t0 = time.perf_counter()
        self._last = self._t0

    def __call__(self, message: str) -> None:
        if self.quiet:
            return
        now = time.perf_counter()
        print(f"[{now - self._t0:6.1f}s] {message}", file=sys.stderr, flush=True)
        self._last = now


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--quiet", action="store_true", help="print no progress, only results and errors")
    p = argparse.ArgumentParser(prog="survchurn", description="Churn early warning with survival analysis.")
    sub = p.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", parents=[common], help="run the whole analysis on the bundled CDNOW data")
    demo.add_argument("--out", default="reports/demo", help="output folder (default: reports/demo)")
    demo.add_argument("--lang", default="en", choices=["en", "zh"], help="report language")
    demo.add_argument("--no-pdf", action="store_true", help="write only the HTML report")

    run = sub.add_parser("run", parents=[common], help="run the configured analysis as of a date")
    run.add_argument("config", help="TOML configuration file (see examples/quarterly.toml)")
    run.add_argument("--as-of", required=True, help="observation cut-off date, YYYY-MM-DD")
    run.add_argument("--out", default=None, help="output folder (default: <output_dir>/<period>)")
    run.add_argument("--previous", default=None,
                     help="a previous run's output folder (adds the quarter-over-quarter section)")

    score = sub.add_parser("score", parents=[common], help="apply a saved scorecard to a customer table")
    score.add_argument("scorecard", help="scorecard.json written by `survchurn run`")
    score.add_argument("customers", help="customer table with the scorecard's inputs (.csv or .parquet)")
    score.add_argument("-o", "--out", required=True, help="output CSV")
    score.add_argument("--id-col", default="customer_id", help="customer id column (default customer_id)")

    camp = sub.add_parser("campaign", help="retention campaigns: assign customers, evaluate results")
    csub = camp.add_subparsers(dest="campaign_command", required=True)
    ca = csub.add_parser("assign", parents=[common], help="randomise customers to treatment / holdout")
    ca.add_argument("customers", help="customers to randomise (.csv/.parquet), e.g. warning_list.csv")
    ca.add_argument("-o", "--out", required=True, help="assignment CSV")
    ca.add_argument("--seed", type=int, required=True, help="random seed (write it down)")
    ca.add_argument("--strata", nargs="*", default=["tier"], help="columns to stratify by (default tier)")
    ca.add_argument("--treat-share", type=float, default=0.5)
    ca.add_argument("--id-col", default="customer_id")
    ce = csub.add_parser("evaluate", parents=[common], help="evaluate a campaign on survival endpoints")
    ce.add_argument("assignment", help="assignment table (customer id, arm, tier)")
    ce.add_argument("events", help="event log after (and W days before) the start (.csv/.parquet)")
    ce.add_argument("-o", "--out", required=True, help="result CSV (overall and per tier)")
    ce.add_argument("--start", required=True, help="campaign start, YYYY-MM-DD")
    ce.add_argument("--as-of", required=True, help="end of follow-up, YYYY-MM-DD")
    ce.add_argument("--horizon-days", type=int, required=True)
    ce.add_argument("--window-days", type=int, default=90, help="inactivity window W (default 90)")
    ce.add_argument("--id-col", default="customer_id")
    ce.add_argument("--time-col", default="date")
    ce.add_argument("--action-cost", type=float, default=None)
    ce.add_argument("--customer-value", type=float, default=None)

    val = sub.add_parser("validate", parents=[common], help="check a configuration and its data without fitting models")
    val.add_argument("config")
    val.add_argument("--as-of", default=None, help="also check events after this date, YYYY-MM-DD")
    return p


def _report_warnings_plainly() -> None:
    """Data-quality warnings and the library's log warnings as one line each on stderr."""

    def show(message: Warning | str, category: type[Warning], filename: str, lineno: int,
             file: Any = None, line: str | None = None) -> None:
        print(f"survchurn: warning: {message}", file=sys.stderr)

    warnings.showwarning = show
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("survchurn: %(levelname)s: %(message)s"))
    root = logging.getLogger("survchurn")
    if not root.handlers:
        root.addHandler(handler)
        root.setLevel(logging.WARNING)


def _fail(code: int, exc: BaseException) -> int:
    print(f"survchurn: error: {exc}", file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``survchurn`` command; returns the exit code."""
    args = _parser().parse_args(argv)
    progress = _Progress(quiet=args.quiet)
    _report_warnings_plainly()
    from survchurn import pipeline  # imported late so `survchurn --help` is instant

    try:
        if args.command == "demo":
            result = pipeline.run_demo(out_dir=args.out, lang=args.lang, pdf=not args.no_pdf, progress=progress)
        elif args.command == "run":
            result = pipeline.run_config(args.config, as_of=args.as_of, out_dir=args.out,
                                         previous=args.previous, progress=progress)
        elif args.command == "campaign" and args.campaign_command == "assign":
            path = pipeline.campaign_assign(args.customers, args.out, seed=args.seed,
                                            strata=tuple(args.strata), treat_share=args.treat_share,
                                            id_col=args.id_col)
            print(f"assignment: {path}")
            return EXIT_OK
        elif args.command == "campaign":
            path = pipeline.campaign_evaluate(
                args.assignment, args.events, args.out, start=args.start, as_of=args.as_of,
                horizon_days=args.horizon_days, window_days=args.window_days, id_col=args.id_col,
                time_col=args.time_col, action_cost=args.action_cost, customer_value=args.customer_value)
            print(f"campaign result: {path}")
            return EXIT_OK
        elif args.command == "score":
            path = pipeline.score_file(args.scorecard, args.customers, args.out, id_col=args.id_col)
            print(f"scores: {path}")
            return EXIT_OK
        else:
            summary = pipeline.validate_config(args.config, as_of=args.as_of, progress=progress)
            print(summary)
            return EXIT_OK
    except ConfigError as exc:
        return _fail(EXIT_CONFIG, exc)
    except (DataError, FileNotFoundError) as exc:
        return _fail(EXIT_DATA, exc)
    except SurvchurnError as exc:
        return _fail(EXIT_ANALYSIS, exc)
    for line in result.messages:
        print(line, file=sys.stderr)
    for name, path in result.outputs.items():
        print(f"{name}: {path}")
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
