"""Stratified random assignment: balance, reproducibility, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from survchurn.campaign.design import assign_campaign
from survchurn.exceptions import ConfigError, DataError


def _customers(n: int = 1000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"customer_id": np.arange(1, n + 1) * 7,
                         "tier": rng.choice(["green", "yellow", "orange", "red"], n,
                                            p=[0.5, 0.25, 0.15, 0.1]),
                         "stage": rng.choice(["growth", "decline"], n)})


def test_balanced_within_every_stratum():
    cust = _customers()
    res = assign_campaign(cust, seed=3, strata=["tier", "stage"], treat_share=0.3)
    bal = res.balance
    assert len(bal) == 8
    # exactly floor or ceil of share x n treated per stratum
    exact = 0.3 * bal["customers"]
    assert ((bal["treated"] == np.floor(exact)) | (bal["treated"] == np.ceil(exact))).all()
    assert bal["customers"].sum() == len(cust) == len(res.table)
    assert set(res.table["arm"]) == {"control", "treatment"}
    assert sorted(res.table["customer_id"]) == sorted(cust["customer_id"])
    assert "seed" in repr(res) and "<table" in res._repr_html_()
    assert res.to_frame().equals(bal)


def test_reproducible_and_independent_of_row_order():
    cust = _customers()
    a = assign_campaign(cust, seed=42).table.set_index("customer_id")["arm"]
    shuffled = cust.sample(frac=1.0, random_state=1)
    b = assign_campaign(shuffled, seed=42).table.set_index("customer_id")["arm"]
    assert a.sort_index().equals(b.sort_index())
    c = assign_campaign(cust, seed=43).table.set_index("customer_id")["arm"]
    assert not a.sort_index().equals(c.sort_index())


def test_random_rounding_is_unbiased_over_small_strata():
    # 200 strata of 3 customers, share 0.5: the treated total stays near 300
    cust = pd.DataFrame({"customer_id": np.arange(600), "tier": np.repeat(np.arange(200), 3)})
    treated = (assign_campaign(cust, seed=5).table["arm"] == "treatment").sum()
    assert abs(treated - 300) < 40  # sd of the rounding total is sqrt(200 / 4) ~ 7


def test_no_strata():
    res = assign_campaign(_customers(11), seed=1, strata=())
    assert res.balance["customers"].item() == 11
    assert res.balance["treated"].item() in (5, 6)


def test_errors():
    cust = _customers(20)
    with pytest.raises(ConfigError, match="treat_share must be strictly between 0 and 1"):
        assign_campaign(cust, seed=1, treat_share=1.0)
    with pytest.raises(ConfigError, match="arms must be two different labels"):
        assign_campaign(cust, seed=1, arms=("a", "a"))
    with pytest.raises(ConfigError, match="seed must be an integer"):
        assign_campaign(cust, seed=None)
    with pytest.raises(DataError, match="column 'segment': column missing"):
        assign_campaign(cust, seed=1, strata="segment")
    with pytest.raises(DataError, match="an arm column already exists"):
        assign_campaign(cust.assign(arm=1), seed=1)
    bad = pd.concat([cust, cust.iloc[:2]], ignore_index=True)
    bad.loc[5, "tier"] = None
    with pytest.raises(DataError, match=r"2 problems found(.|\n)*duplicated customer ids: 4 rows, "
                                        r"e.g. \[7, 14\](.|\n)*missing stratum values: 1 row"):
        assign_campaign(bad, seed=1)
    nan_ids = cust.astype({"customer_id": float})
    nan_ids.loc[3, "customer_id"] = np.nan
    with pytest.raises(DataError, match=r"missing customer ids: 1 row, e.g. \[3\]"):
        assign_campaign(nan_ids, seed=1)
    with pytest.raises(DataError, match="expected a pandas DataFrame"):
        assign_campaign([1, 2], seed=1)
