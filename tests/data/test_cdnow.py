import pandas as pd

from survchurn import load_cdnow


def test_full_log_sizes_and_types():
    log = load_cdnow()
    assert len(log) == 69_659
    assert log["customer_id"].nunique() == 23_570
    assert list(log.columns) == ["customer_id", "date", "quantity", "amount"]
    assert str(log["date"].dtype).startswith("datetime64")
    assert log["date"].min() == pd.Timestamp("1997-01-01")
    assert log["date"].max() == pd.Timestamp("1998-06-30")
    # every customer made the first purchase in Q1 1997
    first = log.groupby("customer_id")["date"].min()
    assert first.max() <= pd.Timestamp("1997-03-31")
    assert log["quantity"].min() >= 1
    assert log["amount"].min() >= 0


def test_sorted_and_deterministic():
    a, b = load_cdnow(), load_cdnow()
    pd.testing.assert_frame_equal(a, b)
    assert a["customer_id"].is_monotonic_increasing
