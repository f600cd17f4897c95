"""A full build makes SLICED_MARTS a slice of notices at a time (warehouse/marts.py): the marts of one statement."""

import shutil

import duckdb
import pytest

from transforms.star import NOTICE_TABLES
from warehouse import marts


def test_the_slices_take_every_notice_key_once_in_dim_notice_or_not():
    con = duckdb.connect()
    con.execute("CREATE TABLE dim_notice AS SELECT unnest(['b', 'd', 'f', 'h', 'j''k', NULL]) AS notice_key")
    slices = marts.notice_slices(con, 2)  # a NULL key is no notice's: it bounds no slice
    assert slices == ["notice_key < 'f'", "notice_key >= 'f' AND notice_key < 'j''k'", "notice_key >= 'j''k'"]
    keys = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j'k", "k"]  # 'a', 'c', ... are not in dim_notice
    taken = {key: [condition for condition in slices
                   if con.execute(f"SELECT {condition} FROM (SELECT ? AS notice_key)", [key]).fetchall()[0][0]]
             for key in keys}
    assert all(len(conditions) == 1 for conditions in taken.values())
    assert marts.notice_slices(con, 5) == ["notice_key IS NOT NULL"]  # one slice: built in one statement


def _mart(con, catalog: str, name: str) -> tuple:
    rows = con.execute(f'SELECT * FROM {catalog}."{name}"').fetchall()
    columns = con.execute("SELECT column_name, data_type, comment FROM duckdb_columns() WHERE database_name = ? "
                          "AND table_name = ? ORDER BY column_index", [catalog, name]).fetchall()
    comment = con.execute("SELECT comment FROM duckdb_tables() WHERE database_name = ? AND table_name = ?",
                          [catalog, name]).fetchall()
    return sorted(map(repr, rows)), columns, comment


def test_a_sliced_build_gives_every_mart_of_a_build_in_one_statement(published, tmp_path, monkeypatch):
    copy = tmp_path / "sliced.duckdb"
    shutil.copy(published, copy)
    con = duckdb.connect(str(copy))
    for name in reversed(list(marts.marts())):
        con.execute(f'DROP TABLE "{name}"')
    monkeypatch.setattr(marts, "MART_SLICE_NOTICES", 2)
    slices = len(marts.notice_slices(con, marts.MART_SLICE_NOTICES))
    assert slices > 1  # the seeds' notices, two at a time
    inserts = []
    original = marts.insert_notice_rows
    monkeypatch.setattr(marts, "insert_notice_rows", lambda *args: inserts.append(args[2]) or original(*args))
    marts.build_marts(con)
    con.close()
    assert inserts == [name for name in marts.marts() if name in marts.SLICED_MARTS for _ in range(slices)]
    con = duckdb.connect()
    con.execute(f"ATTACH '{published}' AS whole (READ_ONLY)")
    con.execute(f"ATTACH '{copy}' AS sliced (READ_ONLY)")
    for name in marts.marts():
        whole = _mart(con, "whole", name)
        assert whole[0], name  # the seeds give every mart rows
        assert _mart(con, "sliced", name) == whole, name


def test_a_failed_insert_raises_its_own_error_not_the_aborted_transactions(published, tmp_path):
    # create_staging builds again on one thread after an out-of-memory error only: the error must come out as it is,
    # not as the error of dropping the views in the aborted transaction
    copy = tmp_path / "failing.duckdb"
    shutil.copy(published, copy)
    con = duckdb.connect(str(copy))
    database = con.execute("SELECT current_database()").fetchall()[0][0]
    con.execute("BEGIN TRANSACTION")
    with pytest.raises(duckdb.ConversionException):
        failing = "SELECT * REPLACE (CAST(title AS INTEGER) AS number) FROM mart_issue"
        with marts.notice_rows_only(con, database, "notice_key IS NOT NULL", NOTICE_TABLES):
            marts.insert_notice_rows(con, database, "mart_issue", failing, "notice_key IS NOT NULL")
    con.execute("ROLLBACK")
    con.close()
