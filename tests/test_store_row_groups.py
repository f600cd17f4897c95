"""The texts' row groups (warehouse.store.TEXT_ROW_GROUP_SIZE): written small by the connection that loads them,
kept as they are by every later connection that writes the file (the rest of the build, a patch)."""

import duckdb

from warehouse.store import TEXT_ROW_GROUP_SIZE, connect_staging


def row_groups(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return con.execute(f"SELECT count(DISTINCT row_group_id) FROM pragma_storage_info('{table}')").fetchone()[0]


def test_text_row_groups_are_kept_by_later_connections(tmp_path):
    staging = tmp_path / "w.duckdb.staging"
    texts = 2 * TEXT_ROW_GROUP_SIZE + 100
    con = connect_staging(staging, TEXT_ROW_GROUP_SIZE)
    try:
        con.execute("BEGIN TRANSACTION")
        con.execute("CREATE TABLE texts (n BIGINT, body VARCHAR USING COMPRESSION zstd NOT NULL)")
        con.execute(f"INSERT INTO texts SELECT range, repeat('整改' || range, 50) FROM range({texts})")
        con.execute("COMMIT")
        assert row_groups(con, "texts") == 3
    finally:
        con.close()
    assert not staging.with_name(staging.name + ".tmp").exists() or not any(staging.with_name(staging.name + ".tmp").iterdir())

    # the rest of the build: DuckDB's default row groups for the tables of many rows, the texts left as written
    con = connect_staging(staging)
    try:
        con.execute("BEGIN TRANSACTION")
        con.execute("CREATE TABLE facts AS SELECT range AS n FROM range(300000)")
        con.execute("COMMIT")
        con.execute("CHECKPOINT")
        assert row_groups(con, "facts") == 3  # 122,880 rows each
    finally:
        con.close()

    # a patch of the published file (warehouse/patch.py connects with connect_staging): one text replaced
    con = connect_staging(staging)
    try:
        con.execute("BEGIN TRANSACTION")
        con.execute(f"DELETE FROM texts WHERE n = {TEXT_ROW_GROUP_SIZE + 1}")
        con.execute(f"INSERT INTO texts VALUES ({texts}, 'edited')")
        con.execute("COMMIT")
        con.execute("CHECKPOINT")
    finally:
        con.close()

    con = duckdb.connect(str(staging), read_only=True)
    try:
        assert row_groups(con, "texts") == 4  # the three written by the first connection, one appended
        assert con.execute("SELECT count(*), sum(n) FROM texts").fetchone() == (
            texts, sum(range(texts)) - (TEXT_ROW_GROUP_SIZE + 1) + texts)
        assert con.execute("SELECT body FROM texts WHERE n = 7").fetchone()[0] == "整改7" * 50
        storage = con.execute("SELECT tags['storage_version'] FROM duckdb_databases() WHERE NOT internal").fetchone()[0]
        assert storage.startswith("v1.4.0")
    finally:
        con.close()
