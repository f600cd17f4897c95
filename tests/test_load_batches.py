"""Loading the star rows of several parse-cache batches into the staging file: which rows, in which order.

create_staging reads the files of every batch at once (warehouse/store.py); the rows must still be stored
batch by batch in the order of the batches and, within a batch, in the order of its file, without the notices
that are not to be loaded, and each notice under the file name it is loaded as.
"""

import duckdb
import polars as pl
import pytest

from tests.conftest import notice_frame
from transforms.star import NOTICE_TABLES, SHARED_DIMENSIONS
from warehouse import parse_cache
from warehouse.store import create_staging


@pytest.fixture(scope="module")
def three_batches(seed_texts, tmp_path_factory):
    """A warehouse whose parse cache holds three batches of one notice each (three nightly refreshes)."""
    frame = notice_frame(seed_texts["000"], seed_texts["002"], seed_texts["004"])
    notices = frame.with_columns(pl.lit("utf-8").alias("encoding"), pl.col("text").alias("raw_text"))
    warehouse = tmp_path_factory.mktemp("batches") / "w.duckdb"
    for night in (1, 2, 3):
        parsed = parse_cache.parse_into_cache(warehouse, notices.slice(0, night))
    assert len(parsed.batches) == 3 and parsed.reused == 2
    return warehouse, notices, parsed


def _stored(staging, table: str) -> pl.DataFrame:
    """The rows of `table` in the order they are stored."""
    with duckdb.connect(str(staging), read_only=True) as con:
        return con.sql(f'SELECT * FROM "{table}"').pl()


def _expected(star, table: str, like: pl.DataFrame) -> pl.DataFrame:
    """The rows of `table` read from the batch files one after the other, the unwanted notices left out and
    the notices renamed, with the columns and types of the stored table `like`."""
    wanted = star.notices
    rows = pl.concat([pl.read_parquet(batch / f"{table}.parquet") for batch in star.batches], how="diagonal_relaxed")
    rows = rows.join(wanted, on="notice_key", how="semi", maintain_order="left")
    if "source_name" in rows.columns:
        renamed = rows.select("notice_key").join(wanted, on="notice_key", how="left", maintain_order="left")
        rows = rows.with_columns(renamed["source_name"])
    return rows.select(like.columns).cast(like.schema)


def test_rows_are_stored_batch_by_batch_in_file_order_without_unwanted_notices(three_batches, tmp_path):
    warehouse, notices, parsed = three_batches
    keys = [sha[:16] for sha in notices["content_sha256"]]
    # the second notice's file is gone, the third is loaded under another name
    wanted = notices.filter(pl.col("content_sha256").str.slice(0, 16) != keys[1]).with_columns(
        pl.when(pl.col("content_sha256").str.slice(0, 16) == keys[2]).then(pl.lit("renamed.txt"))
        .otherwise(pl.col("source_name")).alias("source_name")
    )
    star = parsed.star_rows(wanted)
    staging = create_staging(tmp_path / "w.duckdb", {}, star)

    for table in NOTICE_TABLES:
        stored = _stored(staging, table)
        assert stored.equals(_expected(star, table, stored)), table
    dim_notice = _stored(staging, "dim_notice")
    assert dict(zip(dim_notice["notice_key"], dim_notice["source_name"])) == {keys[0]: "notice_0.txt", keys[2]: "renamed.txt"}
    assert set(_stored(staging, "fact_issue")["notice_key"]) == {keys[0], keys[2]}
    for table, key in SHARED_DIMENSIONS.items():  # only what the loaded notices refer to, once
        assert sorted(_stored(staging, table)[key]) == sorted(set(dim_notice[key].drop_nulls()))


def test_order_is_kept_when_batches_span_several_row_groups(three_batches, tmp_path):
    """Files longer than a DuckDB row group (122,880 rows) are scanned by several threads at once: the rows
    still come out file after file, each file in its own order."""
    warehouse, notices, parsed = three_batches
    copies = tmp_path / "batches"
    batches = []
    for number, batch in enumerate(parsed.star_rows(notices).batches):
        folder = copies / batch.name
        folder.mkdir(parents=True)
        for table in (*NOTICE_TABLES, *SHARED_DIMENSIONS):
            rows = pl.read_parquet(batch / f"{table}.parquet")
            if table == "fact_indicator":  # many rows, numbered in file order across the batches
                rows = rows.select(pl.all().gather(pl.int_range(130_000) % rows.height)).with_columns(
                    (pl.int_range(pl.len()) + number * 1_000_000).alias("char_start")
                )
            rows.write_parquet(folder / f"{table}.parquet", row_group_size=20_000)
        batches.append(folder)
    star = type(parsed.star_rows(notices))(batches, parsed.star_rows(notices).notices)
    staging = create_staging(tmp_path / "w.duckdb", {}, star)
    with duckdb.connect(str(staging), read_only=True) as con:
        stored = [row[0] for row in con.execute("SELECT char_start FROM fact_indicator").fetchall()]
    assert stored == [number * 1_000_000 + row for number in range(3) for row in range(130_000)]
