"""Bytes read on demand (landing/file_bytes.py): a landed file whose stat vouches for its bytes is listed without
them; they are read, while the file still has that stat, only by the steps that decode it."""

import hashlib
import shutil

import duckdb
import polars as pl
import pytest

from landing.file_bytes import LandedFileChanged, with_bytes
from landing.file_index import index_path, read_index
from landing.land import RAW_SCHEMA
from orchestration.cli import run_refresh
from orchestration.resources import NoticeSource
from tests.conftest import age_file, seed_path


def _landing(tmp_path, files: dict[str, bytes]):
    landing = tmp_path / "landing"
    landing.mkdir()
    for name, data in files.items():
        (landing / name).write_bytes(data)
        age_file(landing / name, 60)
    return landing


def test_bytes_are_left_in_their_files_unless_the_stat_cannot_vouch_for_them_and_are_read_back_identical(tmp_path):
    landing = _landing(tmp_path, {"a.txt": b"first notice", "b.txt": b"second notice"})
    (landing / "fresh.txt").write_bytes(b"just written")  # modified within the racy window of its hashing
    index = tmp_path / "wh.duckdb.landing-index.parquet"
    first = NoticeSource(directory=str(landing)).read_all(index=index)
    rows = {row["source_name"]: row for row in first.iter_rows(named=True)}
    assert rows["a.txt"]["data"] is None and rows["b.txt"]["data"] is None  # hashed now, bytes dropped again
    assert rows["fresh.txt"]["data"] == b"just written"  # its stat cannot vouch for later reads: kept
    assert rows["a.txt"]["content_sha256"] == hashlib.sha256(b"first notice").hexdigest()
    assert (rows["a.txt"]["path"], rows["a.txt"]["size"]) == (str(landing / "a.txt"), len(b"first notice"))

    (landing / "b.txt").write_bytes(b"second notice, revised")
    age_file(landing / "b.txt", 60)
    second = NoticeSource(directory=str(landing)).read_all(index=index)
    shas = dict(second.select("source_name", "content_sha256").iter_rows())
    assert shas["b.txt"] == hashlib.sha256(b"second notice, revised").hexdigest()  # its stat changed: hashed again

    loaded = with_bytes(second)
    assert loaded["data"].to_list() == [b"first notice", b"second notice, revised", b"just written"]
    assert loaded.drop("data").equals(second.drop("data"))


def test_a_file_rewritten_or_removed_after_the_listing_fails_instead_of_loading_other_bytes(tmp_path):
    landing = _landing(tmp_path, {"a.txt": b"as listed"})
    listed = NoticeSource(directory=str(landing)).read_all()
    assert listed["data"].to_list() == [None]

    (landing / "a.txt").write_bytes(b"as lisTed")  # same size
    with pytest.raises(LandedFileChanged, match="a.txt: changed since it was listed"):
        with_bytes(listed)
    (landing / "a.txt").unlink()
    with pytest.raises(LandedFileChanged, match="a.txt: cannot be read any more"):
        with_bytes(listed)


def test_rows_with_bytes_are_left_as_they_are(tmp_path):
    frame = pl.DataFrame(
        [{"source_name": "x", "content_sha256": "not checked", "data": b"bytes", "read_error": None, "path": "/nowhere", "size": 5},
         {"source_name": "y", "content_sha256": "e", "data": b"", "read_error": "PermissionError", "path": None, "size": 0}],
        schema=RAW_SCHEMA,
    )
    assert with_bytes(frame).equals(frame)


def test_a_refresh_with_a_warm_index_loads_the_changed_notice_and_quarantines_an_unread_file_with_its_bytes(tmp_path):
    """Second refresh: the unchanged files are not read when listed (their indexed hash is trusted); the changed
    notice is parsed from its new bytes and the file that is no notice is quarantined with its exact bytes, read
    for the quarantine."""
    landing = tmp_path / "landing"
    landing.mkdir()
    shutil.copy(seed_path("001"), landing / "one.txt")
    not_a_notice = "会议纪要:本周安排。".encode() * 3
    (landing / "memo.txt").write_bytes(not_a_notice)
    for path in landing.iterdir():
        age_file(path, 60)
    warehouse = tmp_path / "wh" / "zhenggai.duckdb"
    first = run_refresh(landing, warehouse)
    assert first.published, first.failure

    marker = "\n附:本通报另有补充说明一则。"
    with (landing / "one.txt").open("a", encoding="utf-8") as handle:
        handle.write(marker)
    listed = NoticeSource(directory=str(landing)).read_all(index=index_path(warehouse))
    assert {row[0]: row[1] is None for row in listed.select("source_name", "data").iter_rows()} == {"memo.txt": True, "one.txt": False}
    memo = (landing / "memo.txt").stat()
    indexed = read_index(index_path(warehouse), landing).filter(pl.col("source_name") == "memo.txt")
    assert indexed.select("size", "mtime_ns", "ctime_ns").rows() == [(memo.st_size, memo.st_mtime_ns, memo.st_ctime_ns)]

    second = run_refresh(landing, warehouse)
    assert second.published, second.failure
    with duckdb.connect(str(warehouse), read_only=True) as con:
        raw_text = con.execute("SELECT raw_text FROM raw_notice WHERE source_name = 'one.txt'").fetchone()[0]
        quarantined = con.execute("SELECT raw_bytes FROM quarantine_notice WHERE source_name = 'memo.txt'").fetchall()
    assert raw_text.endswith(marker.strip())
    assert quarantined == [(not_a_notice,)]
