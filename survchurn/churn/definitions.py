"""Churn definitions: explicit, frozen objects that say what "churned" means.

Every survival table, feature set and report carries its definition and prints
:meth:`ChurnDefinition.describe`, so a number is never read without knowing what was counted.

* :class:`InactivityChurn` - non-contractual businesses (retail, e-commerce, after-sales):
  nobody announces leaving, so a customer has churned, at the date of an activity, when no
  further activity follows within ``window_days`` and that is observable by ``as_of``.
* :class:`ContractualChurn` - subscriptions, telecom, insurance: an observed end date in the
  customer table, voluntary or involuntary by end reason.
* :class:`PartialChurn` - still a customer, but activity in a period fell below a share of the
  customer's own earlier level.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from survchurn.exceptions import ChurnDefinitionError

__all__ = ["ChurnDefinition", "ContractualChurn", "InactivityChurn", "PartialChurn"]


class ChurnDefinition:
    """Base class of churn definitions (frozen dataclasses)."""

    kind = "abstract"

    def describe(self) -> str:  # pragma: no cover - abstract
        """One sentence that says what churn means under this definition."""
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        """Settings as a JSON-ready dict with a ``kind`` key (see :func:`from_dict`)."""
        out = {"kind": self.kind}
        out.update({k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()})  # type: ignore[call-overload]
        return out

    @staticmethod
    def from_dict(data: dict[str, Any]) -> ChurnDefinition:
        """Rebuild a definition from :meth:`to_dict` output."""
        data = dict(data)
        kinds = {c.kind: c for c in (InactivityChurn, ContractualChurn, PartialChurn)}
        kind = data.pop("kind", None)
        if kind not in kinds:
            raise ChurnDefinitionError(
                f"unknown churn definition kind {kind!r}; expected one of {sorted(kinds)}"
            )
        if "involuntary_reasons" in data:
            data["involuntary_reasons"] = tuple(data["involuntary_reasons"])
        try:
            return kinds[kind](**data)
        except TypeError as exc:
            raise ChurnDefinitionError(f"bad settings for {kind} churn: {exc}") from exc

    def __str__(self) -> str:
        return self.describe()


def _positive_int(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ChurnDefinitionError(
            f"{name} must be a positive whole number of days, got {value!r}. Fix: e.g. {name}=90."
        )


@dataclass(frozen=True)
class InactivityChurn(ChurnDefinition):
    """Non-contractual churn: no activity for ``window_days`` days.

    A customer churns at the date of an activity ``t`` when no activity follows in
    ``(t, t + W]`` and ``t + W <= as_of`` (the gap is observable by ``as_of``). Which activity:

    * ``lapse="last"`` (default): the last activity up to ``as_of``. A customer who lapsed and
      came back is active again (the usual "is the customer alive today" view, used for
      scoring). A churn seen as of one date can be undone by a later return;
    * ``lapse="first"``: the first lapse in the history ("time to first churn"); returns after
      it are flagged ``returned`` in the survival table. Churn dates never change when
      ``as_of`` moves forward.

    Parameters
    ----------
    window_days : int
        The inactivity window W in days (see :func:`survchurn.churn.window.roll_rate` to
        choose it from data).
    lapse : {"last", "first"}
        Which lapse dates the churn (see above).
    """

    window_days: int = 90
    lapse: Literal["last", "first"] = "last"
    kind = "inactivity"

    def __post_init__(self) -> None:
        _positive_int("window_days", self.window_days)
        if self.lapse not in ("last", "first"):
            raise ChurnDefinitionError(f"lapse must be 'last' or 'first', got {self.lapse!r}.")

    def describe(self) -> str:
        """One sentence that says what churn means under this definition."""
        w = self.window_days
        which = ("last activity" if self.lapse == "last"
                 else "first activity in the history")
        return (
            f"inactivity churn (W = {w} days): churned at the {which} followed by no activity "
            f"within {w} days, once those {w} days are observed; otherwise censored"
        )


@dataclass(frozen=True)
class ContractualChurn(ChurnDefinition):
    """Contractual churn: an observed end date in the customer table.

    Ends whose reason is in ``involuntary_reasons`` (fraud, non-payment...) are not churn: the
    survival table marks them ``event = 0`` with ``censor_reason = "involuntary end: <reason>"``
    and ``end_type = "involuntary"``, so a competing-risks analysis can still use them.

    Parameters
    ----------
    end_col : str
        Column of the customer table with the contract end date (empty while active).
    reason_col : str, optional
        Column with the end reason.
    involuntary_reasons : tuple of str
        Reasons that make an end involuntary.
    start_col : str, optional
        Column with the contract start date; by default the customer's first event.
    """

    end_col: str = "end_date"
    reason_col: str | None = None
    involuntary_reasons: tuple[str, ...] = ()
    start_col: str | None = None
    kind = "contractual"

    def __post_init__(self) -> None:
        if not isinstance(self.end_col, str) or not self.end_col:
            raise ChurnDefinitionError("end_col must name the end-date column of the customer table.")
        if isinstance(self.involuntary_reasons, str):
            raise ChurnDefinitionError(
                "involuntary_reasons must be a tuple of reasons, not one string. "
                f"Fix: involuntary_reasons=({self.involuntary_reasons!r},)"
            )
        if self.involuntary_reasons and self.reason_col is None:
            raise ChurnDefinitionError("involuntary_reasons needs reason_col= (the end-reason column).")
        object.__setattr__(self, "involuntary_reasons", tuple(str(r) for r in self.involuntary_reasons))

    def describe(self) -> str:
        """One sentence that says what churn means under this definition."""
        text = f"contractual churn: the contract end date in column {self.end_col!r}"
        if self.involuntary_reasons:
            text += (
                f"; ends with reason ({', '.join(self.involuntary_reasons)}) in {self.reason_col!r} "
                "are involuntary and censored"
            )
        return text


@dataclass(frozen=True)
class PartialChurn(ChurnDefinition):
    """Partial churn: activity in a period falls below a share of the customer's own level.

    Periods of ``period_days`` days start at the customer's first activity. Period ``k`` is
    *low* when its activity (event count, or amount with ``measure="amount"``) is below
    ``share`` times the mean activity of periods ``0..k-1``; periods are only judged once
    complete and after ``min_baseline_periods`` periods of history. The customer churns at the
    start of the first low period.

    Parameters
    ----------
    period_days : int
        Length of a period in days.
    share : float
        Threshold as a share of the earlier mean level, in (0, 1].
    measure : {"events", "amount"}
        What counts as activity.
    min_baseline_periods : int
        Periods of history needed before a period can be judged.
    """

    period_days: int = 90
    share: float = 0.5
    measure: Literal["events", "amount"] = "events"
    min_baseline_periods: int = 1
    kind = "partial"

    def __post_init__(self) -> None:
        _positive_int("period_days", self.period_days)
        _positive_int("min_baseline_periods", self.min_baseline_periods)
        if isinstance(self.share, bool) or not isinstance(self.share, int | float) or not 0 < self.share <= 1:
            raise ChurnDefinitionError(f"share must be in (0, 1], got {self.share!r}. Fix: e.g. share=0.5.")
        if self.measure not in ("events", "amount"):
            raise ChurnDefinitionError(f"measure must be 'events' or 'amount', got {self.measure!r}.")

    def describe(self) -> str:
        """One sentence that says what churn means under this definition."""
        what = "event count" if self.measure == "events" else "amount"
        return (
            f"partial churn: the {what} in a {self.period_days}-day period falls below "
            f"{self.share:g} x the customer's own mean of the earlier periods "
            f"(after {self.min_baseline_periods} period(s) of history)"
        )
