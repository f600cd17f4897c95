"""`zhenggai export --format parquet DIR`: one folder per table, read back as datasets by pyarrow and polars."""

import duckdb
import polars as pl
import pyarrow.dataset as ds
import pytest
from typer.testing import CliRunner

from orchestration.cli import app
from warehouse.summary import PARTITIONED_BY_PUBLISH_YEAR

runner = CliRunner()
# Numeric columns whose sums must survive the round trip.
SUMS = {
    "fact_indicator": ["value", "value_base", "char_start"],
    "fact_claim": ["claimed_count", "parsed_count"],
    "fact_issue": ["measure_count", "char_end"],
    "fact_measure": ["ordinal", "char_end"],
    "dim_notice": ["char_count"],
    "mart_notice": ["parsed_issues", "people_disciplined", "funds_cny"],
}


@pytest.fixture(scope="module")
def exported(published, tmp_path_factory):
    directory = tmp_path_factory.mktemp("export")
    result = runner.invoke(app, ["export", "--warehouse", str(published), "--format", "parquet", str(directory)])
    assert result.exit_code == 0, result.output
    return directory


def relations(published):
    with duckdb.connect(str(published), read_only=True) as con:
        tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE NOT internal").fetchall()]
        views = [r[0] for r in con.execute(
            "SELECT view_name FROM duckdb_views() WHERE NOT internal AND schema_name = 'main'").fetchall()]
    return tables, views


def test_every_table_and_mart_has_its_folder_with_the_same_rows_and_sums(published, exported):
    tables, views = relations(published)
    assert {p.name for p in exported.iterdir()} == set(tables) | set(views)
    with duckdb.connect(str(published), read_only=True) as con:
        for name in tables + views:
            dataset = ds.dataset(exported / name, format="parquet", partitioning="hive")
            table = dataset.to_table()
            (rows,) = con.execute(f'SELECT count(*) FROM "{name}"').fetchone()
            assert table.num_rows == rows, name
            for column in SUMS.get(name, []):
                (expected,) = con.execute(f'SELECT sum("{column}") FROM "{name}"').fetchone()
                got = pl.from_arrow(table)[column].sum()
                assert got == pytest.approx(expected), (name, column)


def test_notice_tables_are_hive_partitioned_by_publish_year(published, exported):
    assert (exported / "fact_issue" / "publish_year=2022").is_dir()
    assert (exported / "fact_issue" / "publish_year=__HIVE_DEFAULT_PARTITION__").is_dir()  # unsigned notices
    with duckdb.connect(str(published), read_only=True) as con:
        expected = dict(con.execute("""SELECT year(n.publish_date), count(*) FROM fact_indicator x
                                       JOIN dim_notice n USING (notice_key) GROUP BY 1""").fetchall())
    for name in PARTITIONED_BY_PUBLISH_YEAR:
        assert not list((exported / name).glob("*.parquet")), f"{name} should only hold partition folders"
    # polars reads the same dataset, turning the partition folders back into a column (null for unsigned).
    years = (pl.scan_parquet(exported / "fact_indicator" / "**" / "*.parquet", hive_partitioning=True)
             .group_by("publish_year").len().collect())
    assert dict(years.iter_rows()) == expected


def test_re_export_replaces_the_folders_without_duplicating_rows(published, exported):
    result = runner.invoke(app, ["export", "--warehouse", str(published), "--format", "parquet", str(exported)])
    assert result.exit_code == 0, result.output
    assert ds.dataset(exported / "fact_issue", format="parquet", partitioning="hive").count_rows() == 170
