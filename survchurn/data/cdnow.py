"""The CDNOW transaction log, bundled with survchurn."""

from __future__ import annotations

import gzip
from importlib import resources

import numpy as np
import pandas as pd

__all__ = ["load_cdnow"]

_RESOURCE = "CDNOW_master.txt.gz"


def load_cdnow() -> pd.DataFrame:
    """Load the full CDNOW transaction log as a tidy event log.

    CDNOW was an online CD retailer. The log holds every purchase, from January 1997 to the end
    of June 1998, of the 23,570 customers who made their first purchase in the first quarter of
    1997: 69,659 rows. Several rows can share a customer and a day (the original data keeps
    separate transactions of one day apart); they are kept as they are.

    Returns
    -------
    pandas.DataFrame
        69,659 rows sorted by customer and date, with columns

        ``customer_id`` (int64)
            the customer's id, 1..23,570;
        ``date`` (datetime64[ns])
            the day of the purchase, 1997-01-01 .. 1998-06-30;
        ``quantity`` (int64)
            number of CDs bought;
        ``amount`` (float64)
            dollar value of the purchase (0.00 for a few free orders).

    Notes
    -----
    Source: the file ``CDNOW_master.txt`` as distributed by Bruce Hardie and shipped in the
    ``Lifetimes`` 0.11.3 wheel (``lifetimes/datasets/CDNOW_master.txt``, MIT licence), bundled
    here gzip-compressed; survchurn does not depend on lifetimes.

    References
    ----------
    Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005). "Counting your customers" the easy way:
    an alternative to the Pareto/NBD model. *Marketing Science* 24(2), 275-284.

    Examples
    --------
    >>> from survchurn import load_cdnow
    >>> log = load_cdnow()
    >>> len(log), log["customer_id"].nunique()
    (69659, 23570)
    """
    path = resources.files("survchurn.data.datasets").joinpath(_RESOURCE)
    with path.open("rb") as raw, gzip.open(raw, "rt", encoding="ascii") as fh:
        table = pd.read_csv(
            fh,
            sep=r"\s+",
            header=0,
            names=["customer_id", "date", "quantity", "amount"],
            dtype={"customer_id": np.int64, "date": str, "quantity": np.int64, "amount": np.float64},
        )
    table["date"] = pd.to_datetime(table["date"], format="%Y%m%d")
    table = table.sort_values(["customer_id", "date"], kind="stable").reset_index(drop=True)
    return table
