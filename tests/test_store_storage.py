"""How create_staging and load_versions store the rows (warehouse/store.py, warehouse/versions.py): the long
text columns compressed with zstd, no write-ahead log left beside the staging file, and notice_version's
texts (a closed version's only, found by row in the previous warehouse; a current version's is raw_notice's) in
the order update_versions gives."""

from datetime import datetime, timezone

import duckdb
import polars as pl
import pytest

from warehouse.store import create_staging
from warehouse.versions import VERSION_COLUMNS, load_versions

T0 = datetime(2025, 1, 1, tzinfo=timezone.utc)
T1 = datetime(2025, 6, 1, tzinfo=timezone.utc)
VERSION_SCHEMA = {"source_name": pl.String, "content_sha256": pl.String, "notice_key": pl.String,
                  "valid_from": pl.Datetime("us", "UTC"), "valid_to": pl.Datetime("us", "UTC")}


def _raw_notice(rows: list[tuple[str, str, str]]) -> pl.DataFrame:
    """raw_notice rows of (source_name, content_sha256, raw_text)."""
    return pl.DataFrame(
        {"notice_key": [sha[:4] for _, sha, _ in rows], "source_name": [name for name, _, _ in rows],
         "content_sha256": [sha for _, sha, _ in rows], "encoding": ["utf-8"] * len(rows),
         "raw_text": [text for _, _, text in rows], "text": [text.upper() for _, _, text in rows]}
    )


def _versions(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=VERSION_SCHEMA, orient="row")


def _notice_version(staging) -> list[tuple]:
    con = duckdb.connect(str(staging), read_only=True)
    try:  # rowid: the order the rows are stored in
        return con.execute(f"SELECT {', '.join(VERSION_COLUMNS)}, raw_text FROM notice_version ORDER BY rowid").fetchall()
    finally:
        con.close()


def test_long_texts_are_stored_with_zstd_and_no_log_is_left(tmp_path):
    measure = pl.DataFrame({"measure_key": ["m1"], "issue_key": ["i1"], "notice_key": ["aaaa"], "ordinal": [1], "label": [None],
                            "phase": ["done"], "text": ["一是建立台账。"], "char_start": [0], "char_end": [7]},
                           schema_overrides={"ordinal": pl.Int32, "label": pl.String})
    previous = tmp_path / "w.duckdb"
    create_staging(previous, {"raw_notice": _raw_notice([("a.txt", "aaaa0", "旧通报全文")])}).replace(previous)
    staging = create_staging(previous, {"raw_notice": _raw_notice([("a.txt", "aaaa1", "通报全文")]), "fact_measure": measure})
    load_versions(staging, _versions([("a.txt", "aaaa0", "aaaa", T0, T1), ("a.txt", "aaaa1", "aaaa", T1, None)]), previous=previous)
    assert not staging.with_name(staging.name + ".wal").exists()
    con = duckdb.connect(str(staging), read_only=True)
    stored = {
        (table, column): compression
        for table in ("raw_notice", "fact_measure", "notice_version")
        for column, compression in con.execute(
            f"SELECT DISTINCT column_name, compression FROM pragma_storage_info('{table}') WHERE segment_type = 'VARCHAR'"
        ).fetchall()
    }
    con.close()
    for column in (("raw_notice", "raw_text"), ("raw_notice", "text"), ("fact_measure", "text"), ("notice_version", "raw_text")):
        assert stored[column] == "ZSTD", column
    assert stored[("fact_measure", "measure_key")] != "ZSTD"  # keys keep DuckDB's choice


def test_a_closed_version_takes_its_text_from_the_previous_file_and_a_current_one_stores_none_in_order(tmp_path):
    previous = tmp_path / "w.duckdb"
    create_staging(previous, {
        "raw_notice": _raw_notice([("a.txt", "aaaa1", "旧文"), ("d.txt", "dddd1", "删文")]),
        "notice_version": _versions([
            ("a.txt", "aaaa1", "aaaa", T0, None),  # current there: its text is raw_notice's
            ("d.txt", "dddd1", "dddd", T0, None),
            ("z.txt", "zzzz1", "zzzz", T0, T0),  # closed earlier, with its text
        ]).with_columns(raw_text=pl.Series([None, None, "更早"], dtype=pl.String)),
    }).replace(previous)
    staging = create_staging(previous, {"raw_notice": _raw_notice([("a.txt", "bbbb1", "新文"), ("c.txt", "cccc1", "另文")])})
    versions = _versions([
        ("c.txt", "cccc1", "cccc", T1, None),
        ("a.txt", "aaaa1", "aaaa", T0, T1),  # closed now: its text is only in the previous file's raw_notice
        ("a.txt", "bbbb1", "bbbb", T1, None),
        ("b.txt", "bbbb1", "bbbb", T1, None),  # the same content under a second name
        ("d.txt", "dddd1", "dddd", T0, T1),  # pruned now
        ("z.txt", "zzzz1", "zzzz", T0, T0),
    ])
    load_versions(staging, versions, previous=previous)
    assert _notice_version(staging) == [
        ("c.txt", "cccc1", "cccc", T1, None, None),
        ("a.txt", "aaaa1", "aaaa", T0, T1, "旧文"),
        ("a.txt", "bbbb1", "bbbb", T1, None, None),
        ("b.txt", "bbbb1", "bbbb", T1, None, None),
        ("d.txt", "dddd1", "dddd", T0, T1, "删文"),
        ("z.txt", "zzzz1", "zzzz", T0, T0, "更早"),
    ]


def test_a_closed_version_whose_text_is_nowhere_fails(tmp_path):
    staging = create_staging(tmp_path / "w.duckdb", {"raw_notice": _raw_notice([("a.txt", "aaaa1", "文")])})
    with pytest.raises(duckdb.ConstraintException):
        load_versions(staging, _versions([("a.txt", "aaaa1", "aaaa", T0, T1)]), previous=tmp_path / "w.duckdb")
