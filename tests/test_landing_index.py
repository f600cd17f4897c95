"""The landing index (landing/file_index.py): a file's hash is reused only while its stat is unchanged."""

import hashlib
import os
import time

import polars as pl

from landing.file_bytes import with_bytes
from landing.file_index import INDEX_SCHEMA, RACY_SECONDS, index_path, read_index
from orchestration.cli import run_fetch
from orchestration.resources import NoticeSource
from tests.conftest import age_file
from warehouse.store import refresh_lock

BOGUS = "0" * 64


def _corrupt_index(index, name: str) -> None:
    """Replace the indexed hash of `name`: a refresh that trusts the index returns this bogus hash."""
    rows = pl.read_parquet(index)
    rows.with_columns(
        pl.when(pl.col("source_name") == name).then(pl.lit(BOGUS)).otherwise(pl.col("content_sha256")).alias("content_sha256")
    ).write_parquet(index)


def _shas(frame: pl.DataFrame) -> dict[str, str]:
    return dict(frame.select("source_name", "content_sha256").iter_rows())


def test_an_unchanged_file_keeps_its_indexed_hash_and_a_rewritten_one_is_hashed_again(tmp_path):
    landing, index = tmp_path / "landing", tmp_path / "wh.duckdb.landing-index.parquet"
    landing.mkdir()
    old, new = landing / "a.txt", landing / "b.txt"
    old.write_bytes("关于巡视整改进展情况的通报".encode())
    new.write_bytes("关于巡察整改进展情况的通报".encode())
    age_file(old, 60)
    source = NoticeSource(directory=str(landing))

    first = source.read_all(index=index)
    assert _shas(first) == {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (old, new)}
    assert set(read_index(index, landing)["source_name"]) == {"a.txt"}  # b.txt was written just now: not trusted yet

    _corrupt_index(index, "a.txt")
    assert _shas(source.read_all(index=index))["a.txt"] == BOGUS  # trusted: not read-and-hashed again

    _corrupt_index(index, "a.txt")
    old.write_bytes("关于巡视整改进展情况的通报（修订）".encode())
    age_file(old, 60)
    again = source.read_all(index=index)
    assert _shas(again)["a.txt"] == hashlib.sha256(old.read_bytes()).hexdigest()
    assert with_bytes(again).filter(pl.col("source_name") == "a.txt")["data"][0] == old.read_bytes()


def test_a_file_written_just_before_it_was_hashed_is_not_trusted(tmp_path):
    landing, index = tmp_path / "landing", tmp_path / "index.parquet"
    landing.mkdir()
    fresh = landing / "a.txt"
    fresh.write_bytes(b"notice")
    NoticeSource(directory=str(landing)).read_all(index=index)
    # modified within RACY_SECONDS of its hashing: a write in the same clock tick could follow unseen
    assert read_index(index, landing).is_empty()
    _corrupt_index(index, "a.txt")
    assert _shas(NoticeSource(directory=str(landing)).read_all(index=index))["a.txt"] == hashlib.sha256(b"notice").hexdigest()
    assert RACY_SECONDS >= 1


def test_same_size_and_restored_modification_time_is_still_hashed_again(tmp_path):
    """`touch -d` can restore a modification time, not the change time (st_ctime)."""
    landing, index = tmp_path / "landing", tmp_path / "index.parquet"
    landing.mkdir()
    notice = landing / "a.txt"
    notice.write_bytes(b"version 1")
    age_file(notice, 60)
    source = NoticeSource(directory=str(landing))
    source.read_all(index=index)
    stat = notice.stat()
    time.sleep(0.01)
    notice.write_bytes(b"version 2")  # same size
    os.utime(notice, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert notice.stat().st_mtime_ns == stat.st_mtime_ns and notice.stat().st_size == stat.st_size
    _corrupt_index(index, "a.txt")
    assert _shas(source.read_all(index=index))["a.txt"] == hashlib.sha256(b"version 2").hexdigest()


def test_other_folders_entries_are_kept_and_a_damaged_index_is_rebuilt(tmp_path):
    index = tmp_path / "index.parquet"
    folders = [tmp_path / "one", tmp_path / "two"]
    for folder in folders:
        folder.mkdir()
        (folder / "a.txt").write_bytes(folder.name.encode())
        age_file(folder / "a.txt", 60)
        NoticeSource(directory=str(folder)).read_all(index=index)
    assert all(set(read_index(index, folder)["source_name"]) == {"a.txt"} for folder in folders)
    assert pl.read_parquet(index).schema == pl.Schema(INDEX_SCHEMA)

    index.write_bytes(b"not parquet")
    frame = NoticeSource(directory=str(folders[0])).read_all(index=index)
    assert _shas(frame) == {"a.txt": hashlib.sha256(b"one").hexdigest()}
    assert set(read_index(index, folders[0])["source_name"]) == {"a.txt"}


def test_without_an_index_nothing_is_written(tmp_path):
    (tmp_path / "a.txt").write_bytes(b"x")
    NoticeSource(directory=str(tmp_path)).read_all()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


def test_a_fetch_only_run_writes_the_index_without_taking_the_refresh_lock(tmp_path, monkeypatch):
    """The index path comes with the notice source, not the warehouse resource (which holds the refresh lock)."""
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "a.txt").write_bytes("关于巡察整改进展情况的通报".encode())
    sources = tmp_path / "sources.yaml"
    sources.write_text(f"archive: {tmp_path / 'archive'}\nsources:\n  - name: local\n    folder: {landing}\n", encoding="utf-8")
    warehouse = tmp_path / "wh" / "zhenggai.duckdb"
    monkeypatch.setenv("ZHENGGAI_WAREHOUSE", str(warehouse))
    with refresh_lock(warehouse):  # a refresh is running
        succeeded, statuses, failure = run_fetch(sources)
    assert succeeded, failure
    assert set(read_index(index_path(warehouse), landing)["source_name"]) <= {"a.txt"} and index_path(warehouse).is_file()
    assert not warehouse.exists()


def test_a_listing_keeps_the_folders_order_when_indexed_read_and_unreadable_files_alternate(tmp_path):
    landing, index = tmp_path / "landing", tmp_path / "wh.duckdb.landing-index.parquet"
    landing.mkdir()
    for name in ("a.txt", "b.txt", "c.txt"):
        (landing / name).write_bytes(f"关于{name}巡察整改进展情况的通报".encode())
        age_file(landing / name, 60)
    (landing / "d.txt").symlink_to(landing / "gone.txt")  # listed, but cannot be read
    source = NoticeSource(directory=str(landing))
    source.read_all(index=index)
    (landing / "b.txt").write_bytes("关于巡视整改进展情况的通报（修订）".encode())
    age_file(landing / "b.txt", 30)

    listed = source.read_all(index=index)

    assert listed["source_name"].to_list() == ["a.txt", "b.txt", "c.txt", "d.txt"]
    assert _shas(listed) | {"d.txt": None} == {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in map(landing.joinpath, ("a.txt", "b.txt", "c.txt"))
    } | {"d.txt": None}
    assert listed["read_error"].is_null().to_list() == [True, True, True, False]
    assert listed.filter(pl.col("source_name") != "d.txt")["path"].to_list() == [str(landing / n) for n in ("a.txt", "b.txt", "c.txt")]
    assert with_bytes(listed)["data"].to_list()[:3] == [(landing / n).read_bytes() for n in ("a.txt", "b.txt", "c.txt")]


def test_the_index_is_written_only_when_its_entries_change(tmp_path):
    landing, index = tmp_path / "landing", tmp_path / "index.parquet"
    landing.mkdir()
    for name in ("a.txt", "b.txt"):
        (landing / name).write_bytes(name.encode())
        age_file(landing / name, 60)
    source = NoticeSource(directory=str(landing))
    source.read_all(index=index)
    written = index.stat()

    source.read_all(index=index)  # nothing new: the same entries are not written again
    assert (index.stat().st_ino, index.stat().st_mtime_ns) == (written.st_ino, written.st_mtime_ns)

    (landing / "b.txt").unlink()  # an entry gone: written without it
    assert _shas(source.read_all(index=index)) == {"a.txt": hashlib.sha256(b"a.txt").hexdigest()}
    assert read_index(index, landing)["source_name"].to_list() == ["a.txt"]
