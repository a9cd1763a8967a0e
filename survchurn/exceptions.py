"""The survchurn error and warning tree.

Every error raised on purpose by survchurn derives from :class:`SurvchurnError` and from the
matching builtin (``ValueError``, ``RuntimeError``...), so ``except ValueError`` keeps working.
There is one subclass per stage of the data flow. Data errors carry a list of
:class:`DataProblem` records and report all of them at once, each naming the column, the number
of rows, a few example ids and what to do about it.

Statistical trouble that still gives a usable answer (non-convergence, separation, tiny groups,
non-proportional hazards) is reported with a warning class of its own that carries advice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ChurnDefinitionError",
    "ConfigError",
    "ConvergenceWarning",
    "DataError",
    "DataProblem",
    "DataQualityWarning",
    "DependencyError",
    "ModelError",
    "ProportionalHazardsWarning",
    "ReportError",
    "ScoringError",
    "SeparationWarning",
    "SmallGroupWarning",
    "SurvchurnError",
    "SurvchurnWarning",
]

_MAX_EXAMPLES = 5


@dataclass(frozen=True)
class DataProblem:
    """One problem found while validating input data.

    Parameters
    ----------
    column : str or None
        The column at fault (``None`` for problems about the whole table).
    message : str
        What is wrong, e.g. ``"dates that cannot be parsed"``.
    n_rows : int
        How many rows have the problem.
    examples : sequence
        A few example ids (or values) of the rows at fault.
    fix : str
        What the user should do about it.
    """

    column: str | None
    message: str
    n_rows: int
    examples: Sequence[Any] = field(default_factory=tuple)
    fix: str = ""

    def __str__(self) -> str:
        where = f"column {self.column!r}: " if self.column is not None else ""
        ex = list(self.examples)[:_MAX_EXAMPLES]
        examples = f", e.g. {ex!r}" if ex else ""
        rows = "row" if self.n_rows == 1 else "rows"
        fix = f". Fix: {self.fix}" if self.fix else ""
        return f"{where}{self.message}: {self.n_rows:,} {rows}{examples}{fix}"


class SurvchurnError(Exception):
    """Root of every error survchurn raises on purpose."""


class ConfigError(SurvchurnError, ValueError):
    """A setting or configuration file is invalid."""


class DependencyError(SurvchurnError, ImportError):
    """An optional system or Python dependency is missing; the message says what to install."""


class DataError(SurvchurnError, ValueError):
    """Input data (an event log or customer table) failed validation.

    Parameters
    ----------
    problems : iterable of DataProblem or str
        Every problem found; all are reported at once.
    context : str
        What was being validated, e.g. ``"event log"``.
    """

    def __init__(self, problems: Iterable[DataProblem | str], context: str = "input data"):
        self.problems: list[DataProblem | str] = list(problems)
        self.context = context
        super().__init__(self._format())

    def _format(self) -> str:
        n = len(self.problems)
        if n == 1:
            return f"{self.context}: {self.problems[0]}"
        lines = [f"{self.context}: {n} problems found"]
        lines += [f"  {i}. {p}" for i, p in enumerate(self.problems, 1)]
        return "\n".join(lines)


class ChurnDefinitionError(SurvchurnError, ValueError):
    """A churn definition, as-of date or horizon is invalid for the data."""


class ModelError(SurvchurnError, ValueError):
    """A model cannot be fitted or applied to the data given."""


class ScoringError(SurvchurnError, ValueError):
    """A warning score, scorecard file or cut-off is invalid."""


class ReportError(SurvchurnError, RuntimeError):
    """A report could not be built or written."""


class SurvchurnWarning(UserWarning):
    """Root of survchurn's warnings; each carries advice in its message."""


class DataQualityWarning(SurvchurnWarning):
    """Rows were rejected or repaired; see the rejected-rows table."""


class ConvergenceWarning(SurvchurnWarning):
    """An iterative fit stopped before meeting its tolerance."""


class SeparationWarning(SurvchurnWarning):
    """A covariate (nearly) separates events from non-events; its estimate runs to infinity."""


class SmallGroupWarning(SurvchurnWarning):
    """A group or level has too few subjects or events for a stable estimate."""


class ProportionalHazardsWarning(SurvchurnWarning):
    """The proportional-hazards assumption fails for at least one covariate."""
