import threading
from datetime import datetime, timezone

import duckdb
import polars as pl
import pytest

from warehouse.store import RefreshInProgress, StagingNotOurs, create_staging, publish, read_table, refresh_lock


def _tables(source_name: str) -> dict[str, pl.DataFrame]:
    return {
        "raw_notice": pl.DataFrame(
            {"notice_key": ["k1"], "source_name": [source_name], "content_sha256": ["s"], "encoding": ["utf-8"], "raw_text": ["r"], "text": ["t"]}
        )
    }


def test_staging_has_every_table_with_comments_and_opens_in_duckdb_1_4_format(tmp_path):
    staging = create_staging(tmp_path / "w.duckdb", _tables("a.txt"))
    con = duckdb.connect(str(staging), read_only=True)
    tables = dict(con.execute("SELECT table_name, comment FROM duckdb_tables() WHERE NOT internal").fetchall())
    uncommented = con.execute(
        "SELECT table_name || '.' || column_name FROM duckdb_columns() WHERE NOT internal AND (comment IS NULL OR comment = '')"
    ).fetchall()
    storage = con.execute("SELECT tags['storage_version'] FROM duckdb_databases() WHERE NOT internal").fetchall()[0][0]
    con.close()
    for table in ("dim_notice", "dim_inspection", "dim_organization", "fact_issue", "fact_measure", "fact_indicator", "fact_claim", "quarantine_notice", "dim_date"):
        assert tables[table], f"{table} has no COMMENT"
    assert uncommented == []
    assert storage.startswith("v1.4.0")


def test_publish_replaces_atomically_and_open_readers_keep_their_snapshot(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    publish(create_staging(warehouse, _tables("old.txt")), warehouse)
    reader = duckdb.connect(str(warehouse), read_only=True)
    publish(create_staging(warehouse, _tables("new.txt")), warehouse)
    assert reader.execute("SELECT source_name FROM raw_notice").fetchall()[0][0] == "old.txt"
    reader.close()
    assert read_table(warehouse, "raw_notice")["source_name"].to_list() == ["new.txt"]
    assert not (tmp_path / "w.duckdb.staging").exists()


def test_publish_frees_the_replaced_file_in_the_background_and_removes_a_leftover_second_name(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    second = tmp_path / "w.duckdb.replaced"
    second.write_bytes(b"left by a process that died between its link and its removal")
    publish(create_staging(warehouse, _tables("old.txt")), warehouse)  # nothing published yet: no second name made
    assert not second.exists()
    published = warehouse.stat().st_ino
    publish(create_staging(warehouse, _tables("new.txt")), warehouse)
    for thread in threading.enumerate():
        if thread.name == "free-replaced-warehouse":
            thread.join()
    assert not second.exists() and warehouse.stat().st_ino != published
    assert read_table(warehouse, "raw_notice")["source_name"].to_list() == ["new.txt"]


def test_publish_refuses_a_staging_file_another_run_staged_over_its_own(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    publish(create_staging(warehouse, _tables("old.txt")), warehouse)
    ours, theirs = (datetime(2026, 11, 27, 2, 0, second, 123456, tzinfo=timezone.utc) for second in (1, 2))
    build = lambda at: pl.DataFrame(  # noqa: E731 - one refresh_build row
        {"build_digest": ["b"], "input_digest": ["i"], "code_digest": ["c"], "source_files": [1],
         "prune_missing": [False], "built_at": [at]})
    staging = create_staging(warehouse, _tables("new.txt") | {"refresh_build": build(theirs)})
    with pytest.raises(StagingNotOurs, match="another refresh staged over it; nothing was published"):
        publish(staging, warehouse, built_at=ours)
    assert read_table(warehouse, "raw_notice")["source_name"].to_list() == ["old.txt"] and staging.exists()
    publish(staging, warehouse, built_at=theirs)
    assert read_table(warehouse, "raw_notice")["source_name"].to_list() == ["new.txt"]


def test_a_second_refresh_is_refused_while_one_holds_the_lock(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    with refresh_lock(warehouse):
        with pytest.raises(RefreshInProgress, match="another refresh"):
            with refresh_lock(warehouse):
                pass
    with refresh_lock(warehouse):  # released
        pass


def test_read_table_of_missing_warehouse_is_none(tmp_path):
    assert read_table(tmp_path / "none.duckdb", "raw_notice") is None


def test_a_staging_build_out_of_memory_is_made_again_once_on_one_thread(tmp_path, monkeypatch, caplog):
    import warehouse.store as store

    connections, spans = [], []  # the threads asked for by each connection; DuckDB's setting at the calendar
    connect, original_span = store.connect_staging, store.date_span

    def recording_connect(staging, row_group_size=None, threads=None):
        connections.append(threads)
        return connect(staging, row_group_size, threads=threads)

    def date_span_once_out_of_memory(con):
        spans.append(con.execute("SELECT current_setting('threads')").fetchone()[0])
        if len(spans) == 1:
            raise duckdb.OutOfMemoryException("Out of Memory Error: could not allocate block of size 256.0 KiB")
        return original_span(con)

    monkeypatch.setattr(store, "connect_staging", recording_connect)
    monkeypatch.setattr(store, "date_span", date_span_once_out_of_memory)
    warehouse = tmp_path / "w.duckdb"
    with caplog.at_level("WARNING", logger="warehouse.store"):
        publish(create_staging(warehouse, _tables("a.txt")), warehouse)
    assert connections == [None, None, 1, 1] and spans[1] == 1
    assert "ran out of memory" in caplog.text
    assert read_table(warehouse, "raw_notice")["source_name"].to_list() == ["a.txt"]


def test_a_staging_build_that_runs_out_of_memory_twice_fails(tmp_path, monkeypatch):
    import warehouse.store as store

    def out_of_memory(con):
        raise duckdb.OutOfMemoryException("Out of Memory Error")

    monkeypatch.setattr(store, "date_span", out_of_memory)
    with pytest.raises(duckdb.OutOfMemoryException):
        create_staging(tmp_path / "w.duckdb", _tables("a.txt"))
