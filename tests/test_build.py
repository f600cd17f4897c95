"""The build digest that lets a refresh with nothing new leave the published file alone (warehouse/build.py)."""

from datetime import datetime, timezone

import duckdb
import polars as pl

from tests.conftest import raw_frame
from warehouse.build import build_record, code_digest, input_digest, is_unchanged, published_build
from warehouse.store import create_staging

RAW = raw_frame({"a.txt": b"x", "b.txt": b"y"})
NO_FETCH = pl.DataFrame({"url": []}, schema={"url": pl.String})
NOW = datetime(2026, 11, 27, tzinfo=timezone.utc)


def test_the_input_digest_follows_names_contents_errors_the_fetch_log_and_pruning():
    base = input_digest(RAW, NO_FETCH, prune_missing=False)
    assert input_digest(RAW.reverse(), NO_FETCH, prune_missing=False) == base  # file order does not matter
    assert input_digest(RAW.with_columns(source_name=pl.Series(["c.txt", "b.txt"])), NO_FETCH, False) != base
    assert input_digest(RAW.with_columns(content_sha256=pl.lit("3" * 64)), NO_FETCH, False) != base
    assert input_digest(RAW.with_columns(read_error=pl.lit("PermissionError")), NO_FETCH, False) != base
    assert input_digest(RAW.head(1), NO_FETCH, False) != base
    assert input_digest(RAW, NO_FETCH, prune_missing=True) != base
    assert input_digest(RAW, pl.DataFrame({"url": ["http://x/1"]}), False) != base


def test_a_published_build_is_recognised_and_anything_else_means_build(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    assert published_build(warehouse) is None and is_unchanged(warehouse, RAW, NO_FETCH, False) is None
    record = build_record(RAW, NO_FETCH, False, NOW)
    assert record["code_digest"].item() == code_digest() and record["source_files"].item() == 2
    create_staging(warehouse, {"refresh_build": record}).replace(warehouse)
    assert is_unchanged(warehouse, RAW, NO_FETCH, False)["build_digest"] == record["build_digest"].item()
    assert is_unchanged(warehouse, RAW.head(1), NO_FETCH, False) is None
    assert is_unchanged(warehouse, RAW, NO_FETCH, True) is None

    con = duckdb.connect(str(warehouse))
    con.execute("INSERT INTO refresh_build SELECT * FROM refresh_build")  # two rows: not a build to trust
    con.close()
    assert published_build(warehouse) is None
    (tmp_path / "broken.duckdb").write_bytes(b"not a database")
    assert published_build(tmp_path / "broken.duckdb") is None


def test_the_code_digest_reads_shipped_files_only_never_a_refresh_output(tmp_path):
    """The default warehouse, its Data Docs, report and parse cache live inside the warehouse package folder."""
    from types import SimpleNamespace

    from warehouse.build import _CODE_FILES, files_digest

    root = tmp_path / "pkg"
    (root / "sql").mkdir(parents=True)
    (root / "__init__.py").write_text("x = 1\n")
    (root / "sql" / "01.sql").write_text("CREATE TABLE t (a INT);\n")
    (root / "report_template.html").write_text("<html></html>\n")
    package = SimpleNamespace(__name__="pkg", __file__=str(root / "__init__.py"))
    before = files_digest((package,), _CODE_FILES)
    for output in ("validation/gx/uncommitted/data_docs/local_site/index.html", "validation/gx/great_expectations.yaml",
                   "report.html", "zhenggai.duckdb.parse-cache/v/issues.parquet", "zhenggai.duckdb"):
        (root / output).parent.mkdir(parents=True, exist_ok=True)
        (root / output).write_text("output of a refresh")
    assert files_digest((package,), _CODE_FILES) == before
    (root / "sql" / "01.sql").write_text("CREATE TABLE t (a BIGINT);\n")
    assert files_digest((package,), _CODE_FILES) != before
    # the compiled figure reader: its sources are code (a warehouse built before they changed is built again),
    # its build folder and module are outputs
    before = files_digest((package,), _CODE_FILES)
    for output in ("figure_reader/target/release/lib_figure_reader.so", "_figure_reader.so"):
        (root / output).parent.mkdir(parents=True, exist_ok=True)
        (root / output).write_text("built")
    assert files_digest((package,), _CODE_FILES) == before
    (root / "figure_reader" / "src").mkdir(parents=True)
    (root / "figure_reader" / "src" / "lib.rs").write_text("fn main() {}\n")
    assert files_digest((package,), _CODE_FILES) != before
    assert files_digest((package,), _CODE_FILES, ("polars",)) != files_digest((package,), _CODE_FILES)
