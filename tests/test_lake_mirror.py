"""warehouse/lake.py: the published warehouse mirrored into an attached catalog, only what differs written.

Mirrored here into a DuckDB file with the project's DuckDB (the same SQL as for DuckLake; the DuckLake run on
PostgreSQL is `make lake-demo`, bench/lake_demo.py, which CI runs)."""

import shutil

import duckdb
import pytest

from warehouse.compare import compare_warehouses
from warehouse.lake import data_files, lake_folders, mirror, object_storage_secret


def _run_mirror(source, lake, refingerprint=False):
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{source}' AS published (READ_ONLY)")
        con.execute(f"ATTACH '{lake}' AS lake")
        return mirror(con, "published", "lake", refingerprint=refingerprint)
    finally:
        con.close()


def _sql(path, *statements):
    with duckdb.connect(str(path)) as con:
        for statement in statements:
            con.execute(statement)


def _rows(path, sql):
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def _actions(report):
    return {table.table: table.action for table in report.tables}


@pytest.fixture
def small(tmp_path):
    """A warehouse-like file: a table keyed by notice (a NULL key and a duplicated row among them), a table
    without notice_key, and a view."""
    source = tmp_path / "published.duckdb"
    _sql(source,
         "CREATE TABLE fact (notice_key VARCHAR, figure INTEGER)",
         "INSERT INTO fact VALUES ('a', 1), ('a', 2), ('b', 3), ('b', 3), ('c', 4), (NULL, 5)",
         "CREATE TABLE dim (code VARCHAR, label VARCHAR)",
         "INSERT INTO dim VALUES ('x', 'one'), ('y', 'two')",
         "CREATE VIEW fact_total AS SELECT notice_key, sum(figure) AS total FROM fact GROUP BY ALL")
    return source, tmp_path / "lake.duckdb"


def test_a_first_mirror_creates_every_table_and_view(small):
    source, lake = small
    report = _run_mirror(source, lake)
    assert _actions(report) == {"dim": "created", "fact": "created"}
    assert report.views == ["fact_total"]
    assert all(c.same for c in compare_warehouses(source, lake))
    assert _rows(lake, "SELECT total FROM fact_total WHERE notice_key = 'b'") == [(6,)]


def test_a_second_mirror_of_the_same_file_writes_nothing(small):
    source, lake = small
    _run_mirror(source, lake)
    report = _run_mirror(source, lake)
    assert _actions(report) == {"dim": "unchanged", "fact": "unchanged"}
    assert report.views == [] and report.changed == []


def test_only_the_rows_of_changed_notice_keys_are_rewritten(small):
    source, lake = small
    _run_mirror(source, lake)
    # notice b loses one of its two equal rows (a multiset change), d is new, c is gone, a and NULL stay
    _sql(source, "DELETE FROM fact WHERE notice_key IN ('b', 'c')", "INSERT INTO fact VALUES ('b', 3), ('d', 9)")
    kept = _rows(lake, "SELECT rowid, * FROM fact WHERE notice_key = 'a' ORDER BY rowid")
    report = _run_mirror(source, lake)
    fact = next(table for table in report.tables if table.table == "fact")
    assert (fact.action, fact.keys, fact.deleted, fact.inserted) == ("patched", 3, 3, 2)
    assert _actions(report)["dim"] == "unchanged"
    assert all(c.same for c in compare_warehouses(source, lake))
    # the rows of notice a were not rewritten: they keep their row ids
    assert _rows(lake, "SELECT rowid, * FROM fact WHERE notice_key = 'a' ORDER BY rowid") == kept


def _stored(lake):
    return _rows(lake, "SELECT table_name, whole, notice_key, row_count FROM zhenggai_mirror.fingerprint "
                       "ORDER BY ALL")


def test_the_mirror_keeps_the_fingerprints_of_what_it_wrote_in_the_lake(small):
    source, lake = small
    _run_mirror(source, lake)
    # the whole of each table (its marker), and each notice key of the keyed one: as many rows as the table holds
    assert _stored(lake) == [("dim", True, None, 2), ("fact", False, "a", 2), ("fact", False, "b", 2),
                             ("fact", False, "c", 1), ("fact", False, None, 1), ("fact", True, None, 6)]
    _sql(source, "DELETE FROM fact WHERE notice_key = 'c'", "INSERT INTO fact VALUES ('d', 9)",
         "UPDATE dim SET label = 'deux' WHERE code = 'y'")
    _run_mirror(source, lake)
    assert _stored(lake) == [("dim", True, None, 2), ("fact", False, "a", 2), ("fact", False, "b", 2),
                             ("fact", False, "d", 1), ("fact", False, None, 1), ("fact", True, None, 6)]
    # the lake's main schema, what `check` and readers see, is the warehouse's alone
    assert all(c.same for c in compare_warehouses(source, lake))
    _sql(source, "DROP TABLE dim")
    assert _actions(_run_mirror(source, lake))["dim"] == "dropped"
    assert {table for table, *_ in _stored(lake)} == {"fact"}  # none left of the dropped table


def test_the_lake_is_compared_through_its_stored_fingerprints_not_its_rows(small):
    source, lake = small
    _run_mirror(source, lake)
    _sql(lake, "UPDATE fact SET figure = 40 WHERE notice_key = 'c'")  # written into the lake by something else
    assert _actions(_run_mirror(source, lake))["fact"] == "unchanged"  # unseen: the lake's rows were not read
    fact = next(t for t in _run_mirror(source, lake, refingerprint=True).tables if t.table == "fact")
    assert (fact.action, fact.keys) == ("patched", 1)  # read again, repaired
    assert all(c.same for c in compare_warehouses(source, lake))


def test_a_lake_without_stored_fingerprints_is_compared_by_its_rows_once(small):
    source, lake = small
    _run_mirror(source, lake)
    _sql(lake, "DROP SCHEMA zhenggai_mirror CASCADE")  # a lake mirrored before they were stored
    _sql(source, "INSERT INTO fact VALUES ('d', 9)")
    fact = next(t for t in _run_mirror(source, lake).tables if t.table == "fact")
    assert (fact.action, fact.keys, fact.inserted) == ("patched", 1, 1)
    assert ("fact", False, "d", 1) in _stored(lake)
    assert _actions(_run_mirror(source, lake)) == {"dim": "unchanged", "fact": "unchanged"}


def test_an_empty_table_stays_unchanged(small):
    source, lake = small
    _sql(source, "CREATE TABLE quarantine (code VARCHAR)", "CREATE TABLE keyed_empty (notice_key VARCHAR, x INTEGER)")
    _run_mirror(source, lake)
    actions = _actions(_run_mirror(source, lake))
    assert (actions["quarantine"], actions["keyed_empty"]) == ("unchanged", "unchanged")


def test_a_changed_row_without_a_notice_key_is_rewritten(small):
    source, lake = small
    _run_mirror(source, lake)
    _sql(source, "UPDATE fact SET figure = 50 WHERE notice_key IS NULL")
    fact = next(t for t in _run_mirror(source, lake).tables if t.table == "fact")
    assert (fact.action, fact.keys, fact.deleted, fact.inserted) == ("patched", 1, 1, 1)
    assert _rows(lake, "SELECT figure FROM fact WHERE notice_key IS NULL") == [(50,)]


def test_tables_without_notice_key_are_replaced_whole_when_a_row_differs(small):
    source, lake = small
    _run_mirror(source, lake)
    _sql(source, "UPDATE dim SET label = 'deux' WHERE code = 'y'")
    report = _run_mirror(source, lake)
    dim = next(t for t in report.tables if t.table == "dim")
    assert (dim.action, dim.deleted, dim.inserted) == ("replaced", 2, 2)
    assert _rows(lake, "SELECT label FROM dim ORDER BY code") == [("one",), ("deux",)]


def test_schema_changes_recreate_tables_drop_gone_ones_and_follow_views(small):
    source, lake = small
    _run_mirror(source, lake)
    _sql(source,
         "ALTER TABLE dim ADD COLUMN rank INTEGER",
         "DROP VIEW fact_total",
         "CREATE VIEW fact_rows AS SELECT count(*) AS n FROM fact",
         "CREATE TABLE extra AS SELECT 1 AS one")
    _sql(lake, "CREATE TABLE stale AS SELECT 1 AS one")  # a table the warehouse does not have
    report = _run_mirror(source, lake)
    assert _actions(report) == {"dim": "created", "extra": "created", "fact": "unchanged", "stale": "dropped"}
    assert report.views == ["fact_rows"]
    assert all(c.same for c in compare_warehouses(source, lake))
    assert _rows(lake, "SELECT view_name FROM duckdb_views() WHERE NOT internal") == [("fact_rows",)]


def test_a_mirror_that_fails_leaves_the_lake_as_it_was(small):
    source, lake = small
    _run_mirror(source, lake)
    before = shutil.copy(lake, lake.with_name("before.duckdb"))
    # the table changes are written first; the view, which reads a macro the lake does not have, then fails
    _sql(source,
         "INSERT INTO fact VALUES ('e', 7)",
         "CREATE MACRO doubled(x) AS x * 2",
         "CREATE VIEW fact_doubled AS SELECT doubled(figure) AS figure FROM fact")
    with pytest.raises(duckdb.Error, match="doubled"):
        _run_mirror(source, lake)
    assert all(c.same for c in compare_warehouses(before, lake))


def test_the_published_seed_warehouse_is_mirrored_row_for_row(published, tmp_path):
    lake = tmp_path / "lake.duckdb"
    report = _run_mirror(published, lake)
    assert {table.action for table in report.tables} == {"created"}
    comparisons = compare_warehouses(published, lake)
    assert len(comparisons) == len(report.tables) >= 20 and all(c.same for c in comparisons)
    assert set(report.views) == {row[0] for row in _rows(published, "SELECT view_name FROM duckdb_views() WHERE NOT internal")}
    assert _run_mirror(published, lake).changed == []


def test_the_lake_asset_mirrors_the_published_file_in_the_lake_environment(published, tmp_path):
    import sys

    import dagster as dg

    from orchestration.lake_assets import lake_snapshot
    from orchestration.resources import LakeTarget

    lake = tmp_path / "lake.duckdb"
    target = LakeTarget(catalog=str(lake), python=sys.executable, warehouse=str(published))
    result = dg.materialize([lake_snapshot], resources={"lake": target})
    metadata = {key: value.value for key, value in result.asset_materializations_for_node("lake_snapshot")[0].metadata.items()}
    assert metadata["tables_written"] == metadata["tables"] >= 20 and metadata["rows_deleted"] == 0
    assert {table["table"] for table in metadata["report"]["tables"]} == {c.table for c in compare_warehouses(published, lake)}
    assert all(c.same for c in compare_warehouses(published, lake))
    again = dg.materialize([lake_snapshot], resources={"lake": target})
    assert again.asset_materializations_for_node("lake_snapshot")[0].metadata["tables_written"].value == 0


def test_the_lake_asset_fails_clearly_without_a_lake_or_its_environment(published, tmp_path):
    import dagster as dg

    from orchestration.lake_assets import lake_snapshot
    from orchestration.resources import LakeTarget

    with pytest.raises(dg.Failure, match="ZHENGGAI_LAKE_CATALOG"):
        dg.materialize([lake_snapshot], resources={"lake": LakeTarget(warehouse=str(published))})
    missing = LakeTarget(catalog=str(tmp_path / "lake.duckdb"), python=str(tmp_path / "no-python"), warehouse=str(published))
    with pytest.raises(dg.Failure, match="lake environment"):
        dg.materialize([lake_snapshot], resources={"lake": missing})


def test_the_refresh_job_leaves_the_lake_to_its_own_job_started_after_each_publication(tmp_path):
    import dagster as dg

    from orchestration.definitions import build_definitions
    from orchestration.resources import LakeTarget

    unconfigured = build_definitions(lake=LakeTarget())
    assert "lake_snapshot" not in {key.to_user_string() for key in unconfigured.resolve_all_asset_keys()}
    assert not any(job.name == "mirror_to_lake" for job in unconfigured.resolve_all_job_defs())
    defs = build_definitions(lake=LakeTarget(catalog=str(tmp_path / "lake.duckdb")))
    refresh = {node.name for node in defs.resolve_job_def("refresh").graph.node_defs}
    assert "published_warehouse" in refresh and "lake_snapshot" not in refresh
    assert [node.name for node in defs.resolve_job_def("mirror_to_lake").graph.node_defs] == ["lake_snapshot"]
    sensor = defs.resolve_sensor_def("lake_after_publish")
    assert isinstance(sensor, dg.AssetSensorDefinition) and sensor.job_name == "mirror_to_lake"
    assert sensor.asset_key == dg.AssetKey("published_warehouse")


def test_differences_name_each_table_and_view_the_lake_lacks_row_for_row(small):
    from warehouse.lake import differences

    source, lake = small
    _run_mirror(source, lake)
    _sql(source, "UPDATE fact SET figure = 8 WHERE notice_key = 'c'", "CREATE TABLE extra AS SELECT 1 AS one",
         "CREATE OR REPLACE VIEW fact_total AS SELECT 1 AS total")
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{source}' AS published (READ_ONLY)")
        con.execute(f"ATTACH '{lake}' AS lake")
        assert differences(con, "published", "lake") == {
            "extra": "only in published",
            "fact": "1 row(s) only in published, 1 only in lake",
            "fact_total": "view missing or defined otherwise",
        }
        mirror(con, "published", "lake")
        assert differences(con, "published", "lake") == {}
    finally:
        con.close()


def test_a_null_list_that_becomes_empty_is_mirrored(small):
    """hash() gives a NULL list and an empty one, a NULL struct and a struct of NULLs, the same value: nested columns
    are fingerprinted by their text too."""
    source, lake = small
    _sql(source, "CREATE TABLE contact (notice_key VARCHAR, phones VARCHAR[], place STRUCT(city VARCHAR))",
         "INSERT INTO contact VALUES ('a', NULL, NULL), ('b', [['1'], ['2']]::VARCHAR[][]::VARCHAR[], {'city': NULL})")
    _run_mirror(source, lake)
    _sql(source, "UPDATE contact SET phones = [], place = {'city': NULL} WHERE notice_key = 'a'",
         "UPDATE contact SET place = NULL WHERE notice_key = 'b'")
    contact = next(t for t in _run_mirror(source, lake).tables if t.table == "contact")
    assert (contact.action, contact.keys) == ("patched", 2)
    assert all(c.same for c in compare_warehouses(source, lake))


def test_a_view_that_becomes_a_table_of_the_same_name_is_mirrored(small):
    source, lake = small
    _run_mirror(source, lake)
    _sql(source, "DROP VIEW fact_total", "CREATE TABLE fact_total AS SELECT 'a' AS notice_key, 3 AS total")
    report = _run_mirror(source, lake)
    assert _actions(report)["fact_total"] == "created" and report.views == []
    assert all(c.same for c in compare_warehouses(source, lake))
    assert _rows(lake, "SELECT count(*) FROM duckdb_views() WHERE NOT internal") == [(0,)]


def test_object_storage_is_configured_by_the_variables_aws_tools_read():
    assert object_storage_secret({}) is None  # public buckets only
    assert object_storage_secret({"AWS_ACCESS_KEY_ID": "key"}) is None  # a key without its secret is no credential
    aws = object_storage_secret({"AWS_ACCESS_KEY_ID": "AKIA1", "AWS_SECRET_ACCESS_KEY": "s'cret", "AWS_DEFAULT_REGION": "eu-west-1"})
    assert aws == ("CREATE OR REPLACE SECRET zhenggai_object_storage "
                   "(TYPE 's3', KEY_ID 'AKIA1', SECRET 's''cret', REGION 'eu-west-1')")
    local = object_storage_secret({"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s", "AWS_REGION": "us-east-1",
                                   "AWS_DEFAULT_REGION": "eu-west-1", "AWS_SESSION_TOKEN": "t",
                                   "AWS_ENDPOINT_URL": "https://r2.example.com", "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9000"})
    assert local == ("CREATE OR REPLACE SECRET zhenggai_object_storage (TYPE 's3', KEY_ID 'k', SECRET 's', "
                     "SESSION_TOKEN 't', REGION 'us-east-1', ENDPOINT '127.0.0.1:9000', USE_SSL false, URL_STYLE 'path')")
    for endpoint in ("ftp://host", "http://host:9000/bucket", "http://user:password@host"):
        with pytest.raises(ValueError, match="not an http"):
            object_storage_secret({"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s", "AWS_ENDPOINT_URL": endpoint})
    bare = object_storage_secret({"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s", "AWS_ENDPOINT_URL": "minio.lan/"})
    assert bare.endswith("ENDPOINT 'minio.lan', USE_SSL true, URL_STYLE 'path')")


def test_the_lakes_data_files_are_listed_as_its_store_lists_them(tmp_path):
    for folder in ("main/fact_issue", "main/dim_notice"):
        (tmp_path / folder).mkdir(parents=True)
        duckdb.sql("SELECT 1 AS x").write_parquet(str(tmp_path / folder / "ducklake-1.parquet"))
    (tmp_path / "main" / "notes.txt").write_text("not a table's file")

    assert data_files(f"{tmp_path}/") == [f"{tmp_path}/main/dim_notice/ducklake-1.parquet",
                                          f"{tmp_path}/main/fact_issue/ducklake-1.parquet"]
    assert data_files(str(tmp_path / "empty")) == []


@pytest.mark.parametrize("catalog, data_path, folders", [
    ("ducklake:/srv/lake/meta.ducklake", "/srv/lake/files/", ["/srv/lake", "/srv/lake/files"]),
    ("/srv/lake.duckdb", None, ["/srv"]),  # a DuckDB file: its folder (DuckDB writes its WAL beside it)
    ("ducklake:meta.ducklake", "files", [".", "files"]),  # as written: relative stays relative
    ("ducklake:postgres:dbname=zhenggai host=db", "s3://bucket/lake/", []),  # a server and a bucket: nothing here
    ("md:zhenggai", None, []),
    (None, None, []),
])
def test_the_folders_a_lake_lives_in_on_this_machine(catalog, data_path, folders):
    assert lake_folders(catalog, data_path) == folders
