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
    renamed = three_notices.slice(1, 1).with_columns(pl.lit("renamed.txt").alias("source_name"))
    again = parse_cache.parse_into_cache(warehouse, renamed)
    assert (again.parsed, again.reused) == (0, 1)
    tables = _load(warehouse, renamed, again)
    key = renamed["content_sha256"][0][:16]
    assert [row[:2] for row in tables["dim_notice"]] == [(key, "renamed.txt")]
    assert [row[:2] for row in tables["raw_notice"]] == [(key, "renamed.txt")]
    assert {row[1] for row in tables["fact_issue"]} == {key}
    assert len(tables["dim_organization"]) == len(tables["dim_inspection"]) == 1  # only what dim_notice refers to


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
