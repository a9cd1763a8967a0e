"""Random assignment of flagged customers to the retention action or a holdout, by stratum.

:func:`assign_campaign` randomises within each stratum (warning tier, and optionally lifecycle
stage or region), so every tier has its own treated and holdout customers in the same
proportion and tier effects can be estimated one by one. The assignment is reproducible: the same
customers, strata, share and seed give the same arms whatever the row order of the input
(customers are sorted by id inside each stratum before the permutation).

Within a stratum of ``n`` customers exactly ``floor(share * n)`` or ``ceil(share * n)``
customers are treated: the rounding is random with the right expectation (so that many small
strata do not all round the same way), then a random permutation picks who.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from survchurn._display import Result
from survchurn.exceptions import ConfigError, DataError, DataProblem

__all__ = ["CampaignAssignment", "assign_campaign"]

logger = logging.getLogger(__name__)

ARMS = ("control", "treatment")


class CampaignAssignment(Result):
    """A randomised campaign assignment.

    Attributes
    ----------
    table : pandas.DataFrame
        The input rows (sorted by stratum and id) with the arm column added.
    balance : pandas.DataFrame
        Per stratum: customers, treated, control and the treated share.
    strata : list of str
    arm_col : str
    treat_share : float
    seed : int
    """

    _title = "Campaign assignment"

    def __init__(self, table: pd.DataFrame, balance: pd.DataFrame, strata: list[str],
                 arm_col: str, treat_share: float, seed: int, arms: tuple[str, str]):
        self.table = table
        self.balance = balance
        self.strata = strata
        self.arm_col = arm_col
        self.treat_share = treat_share
        self.seed = seed
        self.arms = arms

    def _header(self) -> dict[str, Any]:
        counts = self.table[self.arm_col].value_counts()
        return {"customers": len(self.table), "treated": int(counts.get(self.arms[1], 0)),
                "control": int(counts.get(self.arms[0], 0)),
                "strata": ", ".join(self.strata) or "(none)", "treat_share": self.treat_share,
                "seed": self.seed}

    def to_frame(self) -> pd.DataFrame:
        """The balance table (customers per stratum and arm)."""
        return self.balance.copy()


def assign_campaign(customers: pd.DataFrame, *, seed: int, strata: str | Sequence[str] = ("tier",),
                    treat_share: float = 0.5, id_col: str = "customer_id", arm_col: str = "arm",
                    arms: tuple[str, str] = ARMS) -> CampaignAssignment:
    """Randomise customers to the action (``arms[1]``) or the holdout (``arms[0]``), by stratum.

    Parameters
    ----------
    customers : pandas.DataFrame
        One row per flagged customer with ``id_col`` and the strata columns (e.g. ``tier``).
    seed : int
        Seed of ``np.random.default_rng``; required, so the assignment can be reproduced.
    strata : str or sequence of str
        Columns to stratify by; ``()`` for simple randomisation.
    treat_share : float
        Share of each stratum that gets the action (0.8 keeps a 20% holdout).
    id_col, arm_col : str
        Customer id column, and the name of the arm column to add.
    arms : (str, str)
        Labels of the holdout and the treated arm.

    Returns
    -------
    CampaignAssignment
        ``.table`` is the assignment to hand to the retention team (and keep for the evaluation).

    Raises
    ------
    ConfigError
        Invalid share, arms or seed.
    DataError
        Missing columns, missing or duplicated ids, missing stratum values (all listed at once).
    """
    strata = [strata] if isinstance(strata, str) else list(strata)
    if not 0 < treat_share < 1:
        raise ConfigError(f"treat_share must be strictly between 0 and 1 (0.5 = equal arms), "
                          f"got {treat_share!r}")
    if len(arms) != 2 or arms[0] == arms[1]:
        raise ConfigError(f"arms must be two different labels (holdout, treated), got {arms!r}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise ConfigError(f"seed must be an integer so the assignment can be reproduced, got {seed!r}")
    _validate(customers, id_col, strata, arm_col)
    rng = np.random.default_rng(seed)
    table = customers.sort_values([*strata, id_col], kind="stable").reset_index(drop=True)
    arm = np.empty(len(table), dtype=object)
    keys = table.groupby(strata, sort=True, observed=True).indices if strata else {"all": np.arange(len(table))}
    for key in sorted(keys, key=str):
        idx = keys[key]
        n = len(idx)
        k = int(np.floor(treat_share * n + rng.random()))
        chosen = np.zeros(n, dtype=bool)
        chosen[rng.permutation(n)[:k]] = True
        arm[idx] = np.where(chosen, arms[1], arms[0])
    table[arm_col] = arm
    by = strata if strata else None
    if by:
        bal = table.groupby(by, observed=True)[arm_col].agg(
            customers="size", treated=lambda s: int((s == arms[1]).sum())).reset_index()
    else:
        bal = pd.DataFrame({"customers": [len(table)], "treated": [int((arm == arms[1]).sum())]})
    bal["control"] = bal["customers"] - bal["treated"]
    bal["treated_share"] = bal["treated"] / bal["customers"]
    logger.info("assigned %d customers in %d strata (seed %d)", len(table), len(bal), seed)
    return CampaignAssignment(table, bal, strata, arm_col, float(treat_share), int(seed), tuple(arms))


def _validate(customers: pd.DataFrame, id_col: str, strata: list[str], arm_col: str) -> None:
    if not isinstance(customers, pd.DataFrame):
        raise DataError([f"expected a pandas DataFrame, got {type(customers).__name__}"],
                        context="campaign assignment")
    problems: list[DataProblem] = []
    for col in [id_col, *strata]:
        if col not in customers.columns:
            problems.append(DataProblem(col, "column missing", len(customers),
                                        fix=f"columns are {list(customers.columns)[:10]}"))
    if arm_col in customers.columns:
        problems.append(DataProblem(arm_col, "an arm column already exists", len(customers),
                                    fix="drop it or pass another arm_col"))
    if problems:
        raise DataError(problems, context="campaign assignment")
    ids = customers[id_col]
    if ids.isna().any():
        problems.append(DataProblem(id_col, "missing customer ids", int(ids.isna().sum()),
                                    list(customers.index[ids.isna()][:5]),
                                    fix="drop the rows or fill in the ids (examples are row numbers)"))
    dup = ids[ids.duplicated(keep=False) & ids.notna()]
    if len(dup):
        problems.append(DataProblem(id_col, "duplicated customer ids", len(dup),
                                    list(dict.fromkeys(dup.tolist()))[:5],
                                    fix="keep one row per customer"))
    for col in strata:
        miss = customers[col].isna()
        if miss.any():
            problems.append(DataProblem(col, "missing stratum values", int(miss.sum()),
                                        ids[miss].tolist()[:5], fix="fill them in (e.g. 'unknown')"))
    if problems:
        raise DataError(problems, context="campaign assignment")
