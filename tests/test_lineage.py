"""Which notice versions a refresh loads (transforms.lineage) and the reuse of cached parses."""

from datetime import datetime, timezone

import polars as pl

from tests.conftest import notice_frame
from transforms.ingest import NOTICE_SCHEMA, QUARANTINE_SCHEMA
from transforms.lineage import missing_notices, notices_to_load, source_files, update_versions

DAY1 = datetime(2026, 11, 1, 2, 0, tzinfo=timezone.utc)
DAY2 = datetime(2026, 11, 2, 2, 0, tzinfo=timezone.utc)
DAY3 = datetime(2026, 11, 3, 2, 0, tzinfo=timezone.utc)


def staged(*rows: tuple[str, str]) -> pl.DataFrame:
    """Staged notices from (source_name, content_sha256) pairs."""
    return pl.DataFrame(
        [{"source_name": n, "content_sha256": sha, "encoding": "utf-8", "raw_text": f"text {sha}", "text": f"text {sha}"} for n, sha in rows],
        schema=NOTICE_SCHEMA,
    )


def loaded(*rows: tuple[str, str]) -> pl.DataFrame:
    return staged(*rows).select("source_name", "content_sha256", "raw_text")


def test_missing_notices_are_those_whose_file_left_the_landing_folder():
    previous = staged(("a.txt", "a" * 64), ("b.txt", "b" * 64)).with_columns(pl.lit("x").alias("notice_key"))
    missing = missing_notices(previous, pl.Series(["a.txt", "new.txt"]))
    assert missing["source_name"].to_list() == ["b.txt"]
    assert missing.columns == list(NOTICE_SCHEMA)
    assert missing_notices(None, pl.Series(["a.txt"])).is_empty()


def test_missing_notices_are_kept_unless_pruned_and_loaded_once():
    now = staged(("a.txt", "a" * 64))
    gone = staged(("b.txt", "b" * 64), ("renamed-away.txt", "a" * 64))
    kept = notices_to_load(now, gone, prune_missing=False)
    # b is kept, flagged; the content of renamed-away.txt is loaded already under a.txt
    assert kept.select("source_name", "source_present").rows() == [("a.txt", True), ("b.txt", False)]
    assert notices_to_load(now, gone, prune_missing=True)["source_name"].to_list() == ["a.txt"]


def test_versions_open_close_and_keep_their_start():
    first = update_versions(None, loaded(("a.txt", "1" * 64), ("b.txt", "2" * 64)), DAY1)
    assert first.select("source_name", "valid_from", "valid_to").rows() == [("a.txt", DAY1, None), ("b.txt", DAY1, None)]
    assert first["notice_key"].to_list() == ["1" * 16, "2" * 16]

    same = update_versions(first, loaded(("a.txt", "1" * 64), ("b.txt", "2" * 64)), DAY2)
    assert same.equals(first)  # nothing new: identical rows

    edited = update_versions(same, loaded(("a.txt", "9" * 64), ("b.txt", "2" * 64)), DAY2)
    assert edited.select("source_name", "content_sha256", "valid_from", "valid_to").rows() == [
        ("a.txt", "1" * 64, DAY1, DAY2),  # the old version stays, closed, with its raw text
        ("a.txt", "9" * 64, DAY2, None),
        ("b.txt", "2" * 64, DAY1, None),
    ]
    assert edited.filter(pl.col("content_sha256") == "1" * 64)["raw_text"].item() == "text " + "1" * 64

    pruned = update_versions(edited, loaded(("a.txt", "9" * 64)), DAY3)
    assert pruned.filter(pl.col("source_name") == "b.txt")["valid_to"].to_list() == [DAY3]
    reverted = update_versions(pruned, loaded(("a.txt", "1" * 64)), DAY3)
    assert reverted.filter(pl.col("source_name") == "a.txt").select("valid_from", "valid_to").rows() == [
        (DAY1, DAY2), (DAY2, DAY3), (DAY3, None)
    ]


def test_source_files_say_what_became_of_each_file():
    landed = pl.DataFrame(
        {"source_name": ["a.txt", "copy of a.txt", "junk.bin"], "content_sha256": ["a" * 64, "a" * 64, "f" * 64]}
    )
    load = staged(("a.txt", "a" * 64), ("gone.txt", "c" * 64)).with_columns(
        pl.Series("source_present", [True, False])
    )
    quarantined = pl.DataFrame(
        [{"source_name": "junk.bin", "content_sha256": "f" * 64, "reason": "binary", "raw_text": None, "raw_bytes": b"\0"}],
        schema=QUARANTINE_SCHEMA,
    )
    files = source_files(landed, load, quarantined)
    assert files.select("source_name", "state", "notice_key").rows() == [
        ("a.txt", "loaded", "a" * 16),
        ("copy of a.txt", "duplicate", "a" * 16),
        ("gone.txt", "missing", "c" * 16),
        ("junk.bin", "quarantined", None),
    ]
    assert files.filter(pl.col("state") == "duplicate")["detail"].item() == "same content as a.txt"


