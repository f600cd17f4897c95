"""Staging in the parse workers (parse_cache.stage_into_cache) gives what staging everything in one process
and parsing (stage_notices, notices_to_load, parse_into_cache) gives: the same notices under the same names,
the same quarantine rows, the same star rows, on a first refresh and on a refresh reusing the cache."""

from datetime import datetime, timezone

import duckdb
import polars as pl
import pytest

import transforms.pipeline as pipeline
from tests.conftest import raw_frame, seed_path
from transforms.ingest import LOADED_SCHEMA, NOTICE_SCHEMA, plan_staging, reject_unreadable, stage_notices
from transforms.lineage import loaded_versions, notices_to_load, update_versions
from warehouse import parse_cache
from warehouse.store import create_staging
from warehouse.versions import load_versions, previous_versions

NOTICE = "根据区委统一部署,区委第二巡察组对某镇进行了巡察。现将巡察整改情况予以公布。" * 2


def _tables(staging) -> dict[str, list[tuple]]:
    with duckdb.connect(str(staging), read_only=True) as con:
        names = [row[0] for row in con.execute("SELECT table_name FROM duckdb_tables() WHERE table_name NOT LIKE 'mart%'").fetchall()]
        return {name: sorted(con.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr) for name in names}


def _rows(frame: pl.DataFrame, columns) -> list[tuple]:
    return sorted(frame.select(columns).rows(), key=repr)


def _in_one_process(warehouse, raw, kept):
    notices, rejected = stage_notices(raw)
    loaded = notices_to_load(notices, kept, prune_missing=False)
    return loaded, rejected, parse_cache.parse_into_cache(warehouse, loaded, workers=1)


def _in_workers(warehouse, raw, kept):
    landed, rejected = reject_unreadable(raw)
    parsed = parse_cache.stage_into_cache(warehouse, raw, landed, kept, workers=1)
    return parsed.loaded, pl.concat([rejected, parsed.rejected]), parsed


def _same_result(tmp_path, night: str, raw, kept):
    old, new = tmp_path / "old" / "w.duckdb", tmp_path / "new" / "w.duckdb"
    old_loaded, old_rejected, old_parsed = _in_one_process(old, raw, kept)
    new_loaded, new_rejected, new_parsed = _in_workers(new, raw, kept)
    assert _rows(new_loaded, list(LOADED_SCHEMA)) == _rows(old_loaded, list(LOADED_SCHEMA)), night
    quarantine = ["source_name", "content_sha256", "reason", "raw_text"]
    assert _rows(new_rejected, quarantine) == _rows(old_rejected, quarantine), night
    assert (new_parsed.parsed, new_parsed.reused) == (old_parsed.parsed, old_parsed.reused), night
    old_tables = _tables(create_staging(old, {}, old_parsed.star_rows(old_loaded)))
    assert _tables(create_staging(new, {}, new_parsed.star_rows(new_loaded))) == old_tables, night
    return new_loaded, new_rejected, old_tables


def test_staging_in_the_workers_gives_the_notices_quarantine_and_rows_of_staging_first(tmp_path, monkeypatch):
    # two notices a batch, so that contents, their duplicates and rejected files fall into several batches
    monkeypatch.setattr(pipeline, "PARSE_BATCH_NOTICES", 2)
    seed = {prefix: seed_path(prefix).read_bytes() for prefix in ("000", "001", "002", "003")}
    files = {
        "s000.txt": seed["000"], "b_copy.txt": seed["000"], "z_copy.txt": seed["000"],  # exact duplicates
        "s001.txt": seed["001"],
        "s002.txt": seed["002"], "a002.html": seed["002"],  # the same bytes read as text and as a page
        "news.txt": ("与通报无关的一段文字。" * 10).encode(), "news_copy.txt": ("与通报无关的一段文字。" * 10).encode(),
        "binary.txt": bytes(range(256)) * 4, "empty.txt": b"", "locked.txt": b"",
        "gbk.txt": NOTICE.encode("gb18030"),
    }
    raw = raw_frame(files, errors={"locked.txt": "PermissionError: Permission denied"})
    no_kept = pl.DataFrame(schema=NOTICE_SCHEMA)
    loaded, rejected, first = _same_result(tmp_path, "first refresh", raw, no_kept)
    assert dict(zip(loaded["content_sha256"], loaded["source_name"]))[raw["content_sha256"][0]] == "b_copy.txt"
    assert sorted(rejected["source_name"]) == ["binary.txt", "empty.txt", "locked.txt", "news.txt", "news_copy.txt"]

    # next night: s001 edited, s000 and b_copy gone (the content stays, as z_copy), a notice kept although its
    # file is gone (not in the cache), and another whose content is landed under another name
    edited = seed["001"].replace("整改".encode(), "整 改".encode(), 1)
    night = {**{k: v for k, v in files.items() if k not in ("s000.txt", "b_copy.txt")}, "s001.txt": edited}
    raw2 = raw_frame(night, errors={"locked.txt": "PermissionError: Permission denied"})
    staged_kept, _ = stage_notices(raw_frame({"gone.txt": seed["003"], "old002.txt": seed["002"]}))
    loaded2, _, _ = _same_result(tmp_path, "second refresh", raw2, staged_kept)
    present = dict(zip(loaded2["source_name"], loaded2["source_present"]))
    assert present["gone.txt"] is False and "old002.txt" not in present and present["z_copy.txt"] is True


def test_a_content_staged_before_and_cached_is_settled_without_staging():
    key = "1" * 64
    landed = pl.DataFrame({"source_name": ["b.txt", "a.txt", "new.txt"], "content_sha256": [key, key, "2" * 64]})
    known = pl.DataFrame({"source_name": ["old.txt"], "content_sha256": [key]})
    kept = pl.DataFrame(
        [{"source_name": "gone.txt", "content_sha256": "3" * 64, "encoding": "utf-8", "raw_text": "t", "text": "t"}],
        schema=NOTICE_SCHEMA,
    )
    settled, work = plan_staging(landed, kept, known, pl.DataFrame({"content_sha256": [key, "3" * 64]}), batch_contents=1)
    assert settled.sort("source_name").rows() == [("a.txt", key, True), ("gone.txt", "3" * 64, False)]
    assert work.select("source_name", "parse", "batch").rows() == [("new.txt", True, 0)]
    # the same content under an HTML name was never staged as a page: it must be staged (its rows stay cached)
    settled, work = plan_staging(
        landed.with_columns(pl.col("source_name").str.replace("b.txt", "b.html")), kept.clear(), known,
        pl.DataFrame({"content_sha256": [key]}), batch_contents=1,
    )
    assert settled.is_empty()
    assert work.select("source_name", "parse", "batch").rows() == [("a.txt", False, 0), ("b.html", False, 0), ("new.txt", True, 0)]


def test_closed_versions_take_their_texts_from_the_previous_warehouse_and_current_ones_store_none(tmp_path):
    day1, day2 = datetime(2026, 11, 1, tzinfo=timezone.utc), datetime(2026, 11, 2, tzinfo=timezone.utc)
    a1, a2, b = "a" * 64, "c" * 64, "b" * 64

    def notices(*rows):
        return pl.DataFrame([{"source_name": n, "content_sha256": s, "encoding": "utf-8", "raw_text": f"text of {s[0]}", "text": "x"}
                             for n, s in rows], schema=NOTICE_SCHEMA)

    def staging_with(warehouse, loaded, previous_file, now):
        staging = create_staging(warehouse, {})
        with duckdb.connect(str(staging)) as con:
            con.register("loaded", loaded.with_columns(pl.col("content_sha256").str.slice(0, 16).alias("notice_key")).to_arrow())
            con.execute("INSERT INTO raw_notice BY NAME SELECT * FROM loaded")
        landed = loaded.select("source_name", "content_sha256")
        versions = update_versions(previous_versions(previous_file), loaded_versions(loaded.drop("raw_text"), landed), now)
        load_versions(staging, versions, previous_file)
        with duckdb.connect(str(staging), read_only=True) as con:
            rows = con.execute("SELECT source_name, content_sha256, raw_text, valid_to IS NULL FROM notice_version").fetchall()
        # the texts held in Polars, as update_versions gives them with raw_text, are the ones DuckDB filled in, but
        # for a current version's: that is raw_notice's, not stored again
        previous = None
        if previous_file.exists():
            with duckdb.connect(str(previous_file), read_only=True) as con:
                previous = pl.from_arrow(con.sql(
                    "SELECT v.* REPLACE (coalesce(v.raw_text, r.raw_text) AS raw_text) "
                    "FROM notice_version AS v LEFT JOIN raw_notice AS r USING (content_sha256)"
                ).to_arrow_table())
        expected = update_versions(previous, loaded_versions(loaded, landed), now)
        assert rows == expected.select(
            "source_name", "content_sha256", pl.when(pl.col("valid_to").is_not_null()).then("raw_text"), pl.col("valid_to").is_null()
        ).rows()
        return staging, rows

    first = tmp_path / "one" / "w.duckdb"
    staging, rows = staging_with(first, notices(("a.txt", a1), ("b.txt", b)), first, day1)
    staging.rename(first)
    assert rows == [("a.txt", a1, None, True), ("b.txt", b, None, True)]
    # a.txt edited: its first version, now closed, keeps its text from the previous warehouse's raw_notice
    second = tmp_path / "two" / "w.duckdb"
    staging, rows = staging_with(second, notices(("a.txt", a2), ("b.txt", b)), first, day2)
    staging.rename(second)
    assert rows == [("a.txt", a1, "text of a", False), ("a.txt", a2, None, True), ("b.txt", b, None, True)]
    # b.txt edited next: a1's text now comes from the previous warehouse's notice_version, b's from its raw_notice
    _, rows = staging_with(tmp_path / "three" / "w.duckdb", notices(("a.txt", a2), ("b.txt", a1)), second, day2 + (day2 - day1))
    assert rows == [("a.txt", a1, "text of a", False), ("a.txt", a2, None, True), ("b.txt", b, "text of b", False),
                    ("b.txt", a1, None, True)]
