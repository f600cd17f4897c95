"""Private individuals masked in everything BI users read; queries that cannot change the warehouse (issue 4)."""

import hashlib

import duckdb
import pytest

from transforms.privacy import mask_private_persons
from warehouse.summary import ReadOnlyQueryError, run_query

# Tables and columns that keep the notice as published; no BI view reads them.
RAW_COLUMNS = {("raw_notice", "raw_text"), ("notice_version", "raw_text"), ("quarantine_notice", "raw_text")}


@pytest.mark.parametrize(
    "text, masked",
    [
        ("建档立卡贫困户曾宪文家庭生活困难", "建档立卡贫困户曾某某家庭生活困难"),
        ("关于其女儿曾怡岚在家待业", "关于其女儿曾某某在家待业"),
        ("贫困户曾宪文家庭困难。当时对曾宪文户领取", "贫困户曾某某家庭困难。当时对曾某某户领取"),
        ("村民王五反映青苗补偿款", "村民王某反映青苗补偿款"),
        ("低保户欧阳娜娜等3户", "低保户欧阳某某等3户"),
        ("群众张某某反映", "群众张某某反映"),  # already masked
        ("党委书记张建国同志", "党委书记张建国同志"),  # an official in a public role
        ("加快推进群众安置相关工作", "加快推进群众安置相关工作"),  # a role word followed by an ordinary word
        ("实现居民全流程参与", "实现居民全流程参与"),
        ("党内、群众和社会舆论监督", "党内、群众和社会舆论监督"),
    ],
)
def test_mask_private_persons(text, masked):
    assert mask_private_persons(text) == masked
    assert len(mask_private_persons(text)) == len(text)  # offsets stay valid


def test_no_private_name_is_readable_outside_the_raw_tables(published):
    con = duckdb.connect(str(published), read_only=True)
    try:
        columns = con.execute(
            "SELECT table_name, column_name FROM duckdb_columns() WHERE data_type = 'VARCHAR' AND NOT internal AND schema_name = 'main'"
        ).fetchall()
        views = {name for (name,) in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
        found = {
            (table, column)
            for table, column in columns
            if con.execute(f'SELECT count(*) FROM "{table}" WHERE "{column}" LIKE ?', ["%曾宪文%"]).fetchone()[0]
        }
        masked_measures = con.execute(
            "SELECT count(*) FROM fact_measure WHERE text LIKE '%贫困户曾某某家庭%'").fetchone()[0]
    finally:
        con.close()
    assert ("raw_notice", "raw_text") in found  # the notice as published is kept ...
    assert found <= RAW_COLUMNS  # ... and only there
    assert not {table for table, _ in found} & views
    assert masked_measures == 1


@pytest.mark.parametrize(
    "query",
    [
        "DELETE FROM dim_notice",
        "CREATE TABLE t AS SELECT 1",
        "COPY (SELECT 1) TO 'elsewhere.csv'",
        "ATTACH 'another.duckdb' AS other",
        "SET enable_external_access = true",
        "SELECT * FROM read_csv('/etc/passwd')",
        "INSTALL httpfs",
    ],
)
def test_queries_cannot_change_the_warehouse_or_reach_files(published, query, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    before = hashlib.sha256(published.read_bytes()).hexdigest()
    with pytest.raises(ReadOnlyQueryError):
        run_query(published, query)
    assert hashlib.sha256(published.read_bytes()).hexdigest() == before
    assert list(tmp_path.iterdir()) == []


def test_queries_take_user_values_as_parameters(published):
    hostile = "x' OR 1=1; DROP TABLE dim_notice; --"
    assert run_query(published, "SELECT count(*) AS n FROM dim_notice WHERE source_name = ?", [hostile])["n"].item() == 0
    assert run_query(published, "SELECT count(*) AS n FROM dim_notice")["n"].item() == 5
