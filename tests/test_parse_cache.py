"""The parse cache: star rows written batch by batch, loaded by DuckDB, reused by later refreshes."""

import duckdb
import polars as pl
import pytest

import transforms.pipeline as pipeline
from tests.conftest import notice_frame
from warehouse import parse_cache
from warehouse.store import create_staging


@pytest.fixture(scope="module")
def three_notices(seed_texts):
    frame = notice_frame(seed_texts["000"], seed_texts["002"], seed_texts["004"])
    return frame.with_columns(pl.lit("utf-8").alias("encoding"), pl.col("text").alias("raw_text"))


def _tables(staging) -> dict[str, list[tuple]]:
    with duckdb.connect(str(staging), read_only=True) as con:
        names = [row[0] for row in con.execute("SELECT table_name FROM duckdb_tables() WHERE table_name NOT LIKE 'mart%'").fetchall()]
        # rows are stored batch by batch; which batch holds a notice is no part of the result
        return {name: sorted(con.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr) for name in names}


def _load(warehouse, notices, parsed):
    return _tables(create_staging(warehouse, {}, parsed.star_rows(notices)))


def test_rows_reused_from_earlier_batches_are_the_rows_of_a_full_parse(three_notices, tmp_path):
    full = tmp_path / "full" / "w.duckdb"
    everything = parse_cache.parse_into_cache(full, three_notices)
    assert (everything.parsed, everything.reused, len(everything.batches)) == (3, 0, 1)
    expected = _load(full, three_notices, everything)
    assert all(expected[name] for name in ("dim_notice", "fact_issue", "fact_indicator", "fact_claim", "dim_date"))

    night = tmp_path / "night" / "w.duckdb"
    parse_cache.parse_into_cache(night, three_notices.slice(0, 2))
    incremental = parse_cache.parse_into_cache(night, three_notices)
    assert (incremental.parsed, incremental.reused, len(incremental.batches)) == (1, 2, 2)
    assert _load(night, three_notices, incremental) == expected


def test_only_the_wanted_notices_of_a_batch_are_loaded_under_their_current_name(three_notices, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    parse_cache.parse_into_cache(warehouse, three_notices)
    # the first notice's file is gone (pruned), the second's renamed
    wanted = three_notices.slice(1, 2).with_columns(
        pl.when(pl.int_range(pl.len()) == 0).then(pl.lit("renamed.txt")).otherwise(pl.col("source_name")).alias("source_name")
    )
    again = parse_cache.parse_into_cache(warehouse, wanted)
    assert (again.parsed, again.reused) == (0, 2)
    tables = _load(warehouse, wanted, again)
    keys = [sha[:16] for sha in wanted["content_sha256"]]
    names = dict(zip(keys, wanted["source_name"]))
    assert names[keys[0]] == "renamed.txt"
    assert sorted(row[:2] for row in tables["dim_notice"]) == sorted(names.items())
    assert sorted(row[:2] for row in tables["raw_notice"]) == sorted(names.items())
    assert {row[1] for row in tables["fact_issue"]} == set(keys)
    assert len(tables["dim_organization"]) == len(tables["dim_inspection"]) == 2  # only what dim_notice refers to


def test_a_batch_is_reused_while_half_of_it_is_wanted_and_small_batches_are_merged():
    index = pl.DataFrame({"content_sha256": ["a", "b", "e", "f", "c", "d"], "batch": ["1", "1", "1", "1", "2", "3"]})
    wanted = pl.DataFrame({"content_sha256": ["a", "b", "e", "c", "d"]})
    # with batches of 4, 2 and 3 are small (one wanted notice each): beyond one small batch, both are parsed again
    assert parse_cache.reusable_batches(index, wanted, 4, max_small=1) == ["1"]
    assert parse_cache.reusable_batches(index, wanted, 4, max_small=2) == ["1", "2", "3"]
    assert parse_cache.reusable_batches(index.filter(pl.col("batch") != "3"), wanted, 4, max_small=1) == ["1", "2"]
    # a batch with fewer than half of its notices wanted is parsed again
    assert parse_cache.reusable_batches(index, pl.DataFrame({"content_sha256": ["a", "c"]}), 4, max_small=1) == ["2"]


def test_nightly_refreshes_keep_at_most_two_small_batches(three_notices, tmp_path, monkeypatch):
    monkeypatch.setattr(parse_cache, "MAX_SMALL_BATCHES", 1)
    warehouse = tmp_path / "w.duckdb"
    counts = []
    for night in range(1, 4):  # one more notice each night
        parsed = parse_cache.parse_into_cache(warehouse, three_notices.slice(0, night))
        counts.append((len(parsed.batches), parsed.parsed, parsed.reused))
    # night 2 adds a second small batch; night 3 parses the notices of both again with the new one, into one
    assert counts == [(1, 1, 0), (2, 1, 1), (1, 3, 0)]
    assert len(list(parse_cache.version_dir(warehouse).iterdir())) == 1


def test_batches_holding_none_of_the_notices_are_removed(three_notices, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    first = parse_cache.parse_into_cache(warehouse, three_notices.slice(0, 1))
    second = parse_cache.parse_into_cache(warehouse, three_notices.slice(1, 1))
    assert second.parsed == 1 and set(first.batches).isdisjoint(second.batches)
    assert sorted(p.name for p in parse_cache.version_dir(warehouse).iterdir()) == list(second.batches)


def test_a_notice_whose_star_rows_raise_is_quarantined_and_the_batch_written(three_notices, tmp_path, monkeypatch):
    bad = three_notices["content_sha256"][1]
    real = pipeline.notice_tables

    def failing(notices, *frames):
        if bad in notices["content_sha256"].to_list():
            raise ValueError("no star for this one")
        return real(notices, *frames)

    monkeypatch.setattr(pipeline, "notice_tables", failing)
    parsed = parse_cache.parse_into_cache(tmp_path / "w.duckdb", three_notices)
    assert parsed.failures["content_sha256"].to_list() == [bad]
    assert "ValueError: no star for this one" in parsed.failures["reason"][0]
    cached = parse_cache.cached_notices(tmp_path / "w.duckdb")["content_sha256"].to_list()
    assert sorted(cached) == sorted(set(three_notices["content_sha256"]) - {bad})


def test_a_batch_whose_index_cannot_be_read_is_parsed_again(three_notices, tmp_path):
    """The batches' indexes are read in one go; one that cannot be read (a batch cut short by a crash) makes its
    notices unknown to the cache, as when they were read one by one, and the others are still reused."""
    warehouse = tmp_path / "w.duckdb"
    parse_cache.parse_into_cache(warehouse, three_notices.slice(0, 1))
    parse_cache.parse_into_cache(warehouse, three_notices.slice(0, 2))
    assert len(parse_cache._batch_notices(warehouse)) == 2
    (broken, _) = sorted(parse_cache.version_dir(warehouse).iterdir(), key=lambda folder: folder.stat().st_mtime_ns)
    index = next(broken.glob("raw_notice.parquet"))
    index.write_bytes(index.read_bytes()[:100])
    known = parse_cache._batch_notices(warehouse)
    assert known.height == 1 and broken.name not in known["batch"].to_list()
    again = parse_cache.parse_into_cache(warehouse, three_notices.slice(0, 2))
    assert (again.parsed, again.reused) == (1, 1)
