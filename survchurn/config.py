"""Run configuration: a TOML file read into frozen settings, validated with clear messages.

Every key is documented in ``examples/quarterly.toml``. Unknown keys are errors with a
"did you mean" suggestion; wrong types and bad dates name the key and the value.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import pandas as pd

from survchurn.exceptions import ConfigError

__all__ = ["ChurnSettings", "DataSettings", "ReportSettings", "RunConfig", "ScoreSettings",
           "config_from_dict", "load_config", "parse_date"]


def parse_date(value: Any, key: str) -> pd.Timestamp:
    """Parse an ISO date (``YYYY-MM-DD``) given for ``key``; raise ConfigError otherwise."""
    if isinstance(value, pd.Timestamp):
        return value.normalize()
    text = str(value)
    try:
        stamp = pd.Timestamp(pd.to_datetime(text, format="%Y-%m-%d"))
    except (ValueError, TypeError) as exc:
        raise ConfigError(
            f"{key}: {text!r} is not a date in the form YYYY-MM-DD (for example 2026-09-30). "
            "Fix: write the date as year-month-day with dashes."
        ) from exc
    return stamp


@dataclass(frozen=True)
class DataSettings:
    """Where the event log is and how its columns are named."""

    events: str = ""
    id_col: str = "customer_id"
    time_col: str = "date"
    amount_col: str | None = None
    category_col: str | None = None
    customers: str | None = None
    table: str | None = None  # table or view name when ``events`` is a DuckDB database file


@dataclass(frozen=True)
class ChurnSettings:
    """The churn definition and the horizon of warnings."""

    definition: str = "inactivity"
    window_days: int = 90
    horizon_days: int = 90


@dataclass(frozen=True)
class ScoreSettings:
    """The integer warning score and the cost model of the retention action."""

    method: str = "lasso"
    max_points: int = 5
    action_cost: float = 10.0
    success_rate: float = 0.2
    value_saved: float = 100.0
    capacity: int = 0  # 0: no limit on the customers the team can contact


@dataclass(frozen=True)
class ReportSettings:
    """What the report looks like and which files are written."""

    title: str = "Customer churn early warning"
    lang: str = "en"
    formats: tuple[str, ...] = ("html", "pdf")
    segment_col: str | None = None
    font_path: str | None = None


@dataclass(frozen=True)
class RunConfig:
    """A whole quarterly run's settings."""

    data: DataSettings = field(default_factory=DataSettings)
    churn: ChurnSettings = field(default_factory=ChurnSettings)
    score: ScoreSettings = field(default_factory=ScoreSettings)
    report: ReportSettings = field(default_factory=ReportSettings)
    output_dir: str = "reports"
    seed: int = 2024
    base_dir: str = "."

    def fingerprint(self) -> str:
        """A SHA-256 of the settings (for the manifest)."""
        payload = asdict(self)
        payload.pop("base_dir")
        text = json.dumps(payload, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    def resolve(self, path: str) -> Path:
        """A path from the config, relative to the config file's folder."""
        p = Path(path)
        return p if p.is_absolute() else Path(self.base_dir) / p


_SECTIONS = {"data": DataSettings, "churn": ChurnSettings, "score": ScoreSettings,
             "report": ReportSettings}
_TOP_KEYS = {"output_dir", "seed"}
_DEFINITIONS = ("inactivity",)
_METHODS = ("lasso", "stepwise", "full")
_LANGS = ("en", "zh")
_FORMATS = ("html", "pdf")


def _did_you_mean(key: str, options: list[str]) -> str:
    close = difflib.get_close_matches(key, options, n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else f" Known keys: {', '.join(sorted(options))}."


def _check_type(where: str, value: Any, annotation: str) -> Any:
    wants_int = annotation.startswith("int")
    wants_str = annotation.startswith("str")
    if annotation.startswith("float"):
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ConfigError(f"{where}: expected a number, got {value!r}. Fix: write e.g. 10.0.")
        return float(value)
    if wants_int and (not isinstance(value, int) or isinstance(value, bool)):
        raise ConfigError(f"{where}: expected a whole number, got {value!r}. Fix: write e.g. 90.")
    if wants_str and not isinstance(value, str):
        raise ConfigError(f"{where}: expected text in quotes, got {value!r}.")
    if annotation.startswith("tuple"):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where}: expected a list of text, e.g. [\"html\", \"pdf\"].")
        return tuple(value)
    return value


def _build_section(name: str, raw: Any) -> Any:
    cls = _SECTIONS[name]
    if not isinstance(raw, dict):
        raise ConfigError(f"[{name}] must be a table of settings, got {raw!r}.")
    known = {f.name: str(f.type) for f in fields(cls)}
    values = {}
    for key, value in raw.items():
        if key not in known:
            raise ConfigError(f"unknown key {name}.{key}.{_did_you_mean(key, list(known))}")
        values[key] = _check_type(f"{name}.{key}", value, known[key])
    return cls(**values)


def config_from_dict(raw: dict[str, Any], base_dir: str | Path = ".") -> RunConfig:
    """Build and validate a :class:`RunConfig` from a parsed TOML mapping."""
    sections: dict[str, Any] = {}
    top: dict[str, Any] = {}
    for key, value in raw.items():
        if key in _SECTIONS:
            sections[key] = _build_section(key, value)
        elif key in _TOP_KEYS:
            top[key] = _check_type(key, value, "int" if key == "seed" else "str")
        else:
            options = list(_SECTIONS) + sorted(_TOP_KEYS)
            raise ConfigError(f"unknown key {key!r}.{_did_you_mean(key, options)}")
    cfg = RunConfig(**sections, **top, base_dir=str(base_dir))
    if not cfg.data.events:
        raise ConfigError("data.events is missing. Fix: set it to the event log's path (CSV, Parquet or DuckDB).")
    if cfg.churn.definition not in _DEFINITIONS:
        raise ConfigError(f"churn.definition: {cfg.churn.definition!r} is not one of {_DEFINITIONS}.")
    for key in ("window_days", "horizon_days"):
        if getattr(cfg.churn, key) <= 0:
            raise ConfigError(f"churn.{key} must be a positive number of days, got {getattr(cfg.churn, key)}.")
    sc = cfg.score
    if sc.method not in _METHODS:
        raise ConfigError(f"score.method: {sc.method!r} is not one of {_METHODS}.")
    if not 1 <= sc.max_points <= 20:
        raise ConfigError(f"score.max_points must be between 1 and 20, got {sc.max_points}.")
    if not 0 <= sc.success_rate <= 1:
        raise ConfigError(f"score.success_rate must be between 0 and 1, got {sc.success_rate}.")
    if sc.action_cost < 0 or sc.value_saved < 0 or sc.capacity < 0:
        raise ConfigError("score.action_cost, score.value_saved and score.capacity must not be negative.")
    if cfg.report.lang not in _LANGS:
        raise ConfigError(f"report.lang: {cfg.report.lang!r} is not one of {_LANGS}.")
    bad = [f for f in cfg.report.formats if f not in _FORMATS]
    if bad:
        raise ConfigError(f"report.formats: {bad} not supported; choose from {_FORMATS}.")
    return cfg


def load_config(path: str | Path) -> RunConfig:
    """Read and validate a TOML run configuration.

    Parameters
    ----------
    path : str or Path
        The TOML file. Relative paths inside it are relative to the file's folder.

    Raises
    ------
    ConfigError
        The file is missing, is not valid TOML, or has unknown keys or bad values.
    """
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"config file {str(p)!r} does not exist. Fix: check the path.")
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {str(p)!r} is not valid TOML: {exc}") from exc
    return config_from_dict(raw, base_dir=p.resolve().parent)
