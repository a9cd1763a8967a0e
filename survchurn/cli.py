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
import sys
import time
from collections.abc import Sequence

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

    val = sub.add_parser("validate", parents=[common], help="check a configuration and its data without fitting models")
    val.add_argument("config")
    val.add_argument("--as-of", default=None, help="also check events after this date, YYYY-MM-DD")
    return p


def _fail(code: int, exc: BaseException) -> int:
    print(f"survchurn: error: {exc}", file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``survchurn`` command; returns the exit code."""
    args = _parser().parse_args(argv)
    progress = _Progress(quiet=args.quiet)
    from survchurn import pipeline  # imported late so `survchurn --help` is instant

    try:
        if args.command == "demo":
            result = pipeline.run_demo(out_dir=args.out, lang=args.lang, pdf=not args.no_pdf, progress=progress)
        elif args.command == "run":
            result = pipeline.run_config(args.config, as_of=args.as_of, out_dir=args.out,
                                         previous=args.previous, progress=progress)
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
