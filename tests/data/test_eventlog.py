"""Event log and customer table validation: every rule has a test that matches its message."""

from __future__ import annotations

import warnings

import duckdb
import numpy as np
import pandas as pd
import pytest

from survchurn.data.eventlog import read_event_log
from survchurn.data.validate import read_customer_table
from survchurn.exceptions import DataError, DataQualityWarning


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "cid": [1, 1, 2, 3, 3],
        "day": pd.to_datetime(["2020-01-01", "2020-01-05", "2020-01-02", "2020-01-03", "2020-02-01"]),
        "value": [10.0, 5.0, 7.5, 1.0, 2.0],
        "cat": ["a", "b", "a", "c", "c"],
    })


def _read(frame, **kw):
    kw.setdefault("id_col", "cid")
    kw.setdefault("time_col", "day")
    return read_event_log(frame, **kw)


def test_clean_log_round_trip():
    log = _read(_frame(), amount_col="value", category_col="cat")
    assert log.columns == ("customer_id", "time", "amount", "category")
    assert (log.n_rows_in, log.n_rows, log.n_customers_in, len(log.rejected)) == (5, 5, 3, 0)
    out = log.to_pandas()
    assert out["customer_id"].tolist() == [1, 1, 2, 3, 3] and out["amount"].sum() == 25.5
    assert "5 events" in repr(log) and log.has_amount and log.has_category
    assert log.source_columns["time"] == "day"


def test_missing_columns_listed_at_once_with_did_you_mean():
    with pytest.raises(DataError, match=r"2 problems found") as info:
        _read(_frame(), id_col="customer", time_col="Day")
    text = str(info.value)
    assert "column 'customer': missing column (given as id_col)" in text
    assert "did you mean 'day'?" in text and "the columns are ['cat', 'cid', 'day', 'value']" in text


def test_duplicate_column_names():
    frame = _frame()
    frame.columns = ["cid", "day", "cid", "cat"]
    with pytest.raises(DataError, match="column name appears more than once"):
        _read(frame)


def test_time_column_of_numbers_and_amount_of_booleans():
    frame = _frame().assign(day=20200101, value=True)
    with pytest.raises(DataError, match=r"holds BIGINT values, not dates.*\n.*holds BOOLEAN values, not numbers"):
        _read(frame, amount_col="value")


def test_empty_log():
    with pytest.raises(DataError, match="the event log has no rows"):
        _read(_frame().iloc[:0])


def _dirty() -> pd.DataFrame:
    frame = _frame().astype({"day": object, "value": object, "cid": object})
    frame["day"] = ["2020-01-01", "not a date", None, "2020-01-03", "2020-02-01"]
    frame.loc[0, "cid"] = None
    frame.loc[3, "value"] = -4.0
    frame.loc[4, "value"] = "ten"
    return frame


def test_row_problems_are_rejected_with_reason_and_one_warning():
    with pytest.warns(DataQualityWarning, match=r"5 of 5 rows rejected \(missing customer id: 1 rows; missing date: 1"):
        log = _read(_dirty(), amount_col="value")
    reasons = log.rejected["reason"].value_counts().to_dict()
    assert reasons == {"missing customer id": 1, "missing date": 1, "date cannot be parsed": 1,
                       "amount is not a number": 1, "negative amount (refund)": 1}
    assert log.n_rows == 0
    assert set(log.rejected_customers()["customer_id"]) == {"1", "2", "3"}


def test_on_invalid_raise_lists_every_row_problem():
    with pytest.raises(DataError, match=r"5 problems found") as info:
        _read(_dirty(), amount_col="value", on_invalid="raise")
    text = str(info.value)
    for msg in ["column 'cid': missing customer id: 1 row", "column 'day': date cannot be parsed: 1 row, e.g. ['1']",
                "column 'day': missing date: 1 row, e.g. ['2']", "column 'value': amount is not a number: 1 row",
                "column 'value': negative amount (refund): 1 row, e.g. ['3']. Fix: drop refunds, or pass allow_negative_amounts=True"]:
        assert msg in text


def test_negative_amounts_allowed_when_asked():
    frame = _frame().assign(value=[10.0, -5.0, 7.5, 1.0, 2.0])
    with pytest.warns(DataQualityWarning, match="negative amount"):
        assert _read(frame, amount_col="value").n_rows == 4
    assert _read(frame, amount_col="value", allow_negative_amounts=True).n_rows == 5


def test_non_integral_float_ids():
    frame = _frame().assign(cid=[1.0, 1.0, 2.5, np.nan, 3.0])
    with pytest.warns(DataQualityWarning, match="customer id is not a 64-bit whole number: 1 rows"):
        log = _read(frame)
    assert log.n_rows == 3 and log.to_pandas()["customer_id"].dtype == np.int64


def test_duplicates_policies():
    frame = pd.concat([_frame(), _frame().iloc[[0, 0, 2]]], ignore_index=True)
    assert _read(frame).n_rows == 8  # keep: real repeat transactions
    with pytest.warns(DataQualityWarning, match=r"exact duplicate rows \(extra copies\): 3 rows, e.g. \[1, 2\]"):
        assert _read(frame, duplicates="warn").n_duplicates == 3
    with pytest.warns(DataQualityWarning, match=r"duplicate row: 3 rows"):
        log = _read(frame, duplicates="drop")
    assert log.n_rows == 5 and (log.rejected["reason"] == "duplicate row").sum() == 3
    with pytest.raises(DataError, match=r"exact duplicate rows .*Fix: pass duplicates='keep' if repeats are real"):
        _read(frame, duplicates="error")
    with pytest.raises(DataError, match="duplicates='maybe' is not one of"):
        _read(frame, duplicates="maybe")
    with pytest.raises(DataError, match="on_invalid='ignore' is not one of"):
        _read(frame, on_invalid="ignore")


def test_events_after_as_of_are_counted_not_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        log = _read(_frame(), as_of="2020-01-03")
    assert (log.n_after_as_of, log.n_rows, len(log.rejected)) == (2, 3, 0)
    assert log.max_time == pd.Timestamp("2020-01-03")


def test_sources_csv_parquet_relation_query(tmp_path):
    frame = _frame()
    frame.to_csv(tmp_path / "ev.csv", index=False)
    frame.to_parquet(tmp_path / "ev.parquet")
    assert _read(str(tmp_path / "ev.csv"), amount_col="value").n_rows == 5
    assert _read(tmp_path / "ev.parquet", amount_col="value").n_rows == 5
    con = duckdb.connect()
    con.execute(f"CREATE TABLE ev AS SELECT * FROM read_parquet('{tmp_path / 'ev.parquet'}')").fetchall()
    assert _read("SELECT * FROM ev WHERE cid < 3", con=con).n_rows == 3
    assert _read(con.table("ev"), con=con).n_rows == 5
    with pytest.raises(DataError, match="a SQL query needs the connection"):
        _read("SELECT * FROM ev")
    with pytest.raises(DataError, match="a DuckDB relation needs the connection"):
        _read(con.table("ev"))
    with pytest.raises(DataError, match="file not found"):
        _read(str(tmp_path / "missing.parquet"))
    with pytest.raises(DataError, match="not a .csv/.parquet path nor a SELECT query"):
        _read(str(tmp_path / "events.xlsx"))
    with pytest.raises(DataError, match="unsupported source type list"):
        _read([1, 2])
    with pytest.raises(DataError, match="cannot read the source"):
        _read("SELECT * FROM no_such_table", con=con)


def test_text_dates_with_format():
    frame = _frame().assign(day=["20200101", "20200105", "20200102", "20200103", "2020-02-01"])
    with pytest.warns(DataQualityWarning, match="date cannot be parsed: 1 rows"):
        log = _read(frame, time_format="%Y%m%d")
    assert log.n_rows == 4


def test_customer_table_rules():
    good = pd.DataFrame({"id": [1, 2], "start": ["2020-01-01", "2020-02-01"], "region": ["n", "s"]})
    table = read_customer_table(good, id_col="id", date_cols=["start"])
    assert table.attributes == ["start", "region"] and table.frame["start"].dtype == "datetime64[ns]"
    with pytest.raises(DataError, match=r"column 'ID': missing column \(given as id_col\).*did you mean 'id'"):
        read_customer_table(good, id_col="ID")
    dup = pd.DataFrame({"id": [1, 1, 2], "start": ["2020-01-01", "x", "2020-01-01"]})
    with pytest.raises(DataError, match=r"2 problems found(.|\n)*appears on more than one row: 2 rows, e.g. \[1\]"
                       r"(.|\n)*'start': date cannot be parsed: 1 row"):
        read_customer_table(dup, id_col="id", date_cols=["start"])
    with pytest.warns(DataQualityWarning, match="1 rows without a customer id rejected"):
        t = read_customer_table(pd.DataFrame({"id": [1, None]}), id_col="id")
    assert len(t.frame) == 1 and len(t.rejected) == 1
    with pytest.raises(DataError, match="cannot read a customer table from"):
        read_customer_table(42, id_col="id")
    with pytest.raises(DataError, match="a column named 'customer_id' exists besides id_col"):
        read_customer_table(pd.DataFrame({"id": [1], "customer_id": [2]}), id_col="id")


def test_customer_table_from_files(tmp_path):
    pd.DataFrame({"id": [1, 2]}).to_csv(tmp_path / "c.csv", index=False)
    pd.DataFrame({"id": ["a", "b"]}).to_parquet(tmp_path / "c.parquet")
    assert read_customer_table(tmp_path / "c.csv", id_col="id").frame["customer_id"].tolist() == [1, 2]
    assert read_customer_table(str(tmp_path / "c.parquet"), id_col="id").frame["customer_id"].tolist() == ["a", "b"]
