"""The version history (notice_version) written into the staging file, a closed version's raw text filled in by DuckDB.

notice_version keeps every version of every file ever loaded. A current version's text is raw_notice.raw_text of
its content, so it is not stored again (raw_text NULL while valid_to is NULL: at 10,000 notices, writing that third
copy of the corpus's texts was ~2.5 s of a full build). A version closed by this refresh (its file edited, renamed
or pruned) takes its text from the previous warehouse's raw_notice, where it was current; one closed earlier keeps
the text the previous warehouse's notice_version holds. transforms.lineage.update_versions decides which versions
there are and when each was current from names, contents and dates only; the texts are then copied in SQL,
without passing through Python (the previous warehouse attached read-only: as read_table does, the published file
is only read, never locked for writing). warehouse/patch.py writes a patch's new version rows with the same
insert_versions.
"""

from pathlib import Path

import duckdb
import polars as pl

from warehouse.schema import quoted_identifier
from warehouse.store import WarehouseReader, connect_staging, reading

# The columns of notice_version that update_versions works on (every one but raw_text).
VERSION_COLUMNS = ("source_name", "content_sha256", "notice_key", "valid_from", "valid_to")


def previous_versions(warehouse: Path | WarehouseReader) -> pl.DataFrame | None:
    """The previous warehouse's notice_version without its raw texts, or None when there is none."""
    with reading(warehouse) as previous:
        return previous.read_table("notice_version", columns=VERSION_COLUMNS)


def load_versions(staging: Path, versions: pl.DataFrame, previous: Path) -> None:
    """Insert `versions` (update_versions without raw_text) into the staging file's notice_version (insert_versions),
    the closed ones' texts read from the warehouse file `previous` (attached read-only) when there is one."""
    con = connect_staging(staging)
    try:
        catalog = None
        if previous.exists():
            con.execute("ATTACH ? AS previous (READ_ONLY)", [str(previous)])
            catalog = "previous"
        con.execute("BEGIN TRANSACTION")
        insert_versions(con, versions, catalog)
        con.execute("COMMIT")
        con.execute("CHECKPOINT")
    finally:
        con.close()


def insert_versions(con: duckdb.DuckDBPyConnection, versions: pl.DataFrame, previous: str | None) -> None:
    """Insert `versions` (VERSION_COLUMNS) into notice_version, in their order, a closed version with its raw text:
    the row of the warehouse `previous` (a catalog of `con`, None for none) for the same file, content and valid_from
    (which name one version) when that row has a text, else `previous`'s raw_notice text of its content (the version
    was current there). For a full build `previous` is the attached published file; for a patch, the copy of it being
    patched, before its notice tables change. A closed version whose text is found nowhere fails the table's CHECK
    constraint loudly.

    The texts are read by rowid: the joins and the sort of the versions carry no text (joining the texts themselves
    hashed and sorted ~0.4 GB of them at 10,000 notices, out of memory with a previous warehouse's texts beside
    them)."""
    version_rows = "SELECT NULL::VARCHAR AS source_name, NULL::VARCHAR AS content_sha256, " \
        "NULL::TIMESTAMPTZ AS valid_from, NULL::BIGINT AS text_row WHERE false"
    raw_rows = "SELECT NULL::VARCHAR AS content_sha256, NULL::BIGINT AS text_row WHERE false"
    version_texts = raw_texts = "SELECT NULL::BIGINT AS rowid, NULL::VARCHAR AS raw_text WHERE false"
    if previous is not None:
        catalog = quoted_identifier(previous)
        if _has_versions(con, previous):
            version_rows = "SELECT source_name, content_sha256, valid_from, rowid AS text_row " \
                f"FROM {catalog}.notice_version WHERE raw_text IS NOT NULL"
            version_texts = f"SELECT rowid, raw_text FROM {catalog}.notice_version WHERE rowid IN (SELECT version_row FROM located)"
        raw_rows = f"SELECT content_sha256, min(rowid) AS text_row FROM {catalog}.raw_notice GROUP BY content_sha256"
        raw_texts = f"SELECT rowid, raw_text FROM {catalog}.raw_notice WHERE rowid IN (SELECT raw_row FROM located)"
    con.register("versions", versions.select(VERSION_COLUMNS).with_row_index("version_order").to_arrow())
    con.execute(f"""
        INSERT INTO notice_version BY NAME
        WITH located AS (  -- where a closed version's text is: a version row, else a raw_notice row
            SELECT v.*, version_row.text_row AS version_row,
                   CASE WHEN version_row.text_row IS NULL THEN raw_row.text_row END AS raw_row
            FROM versions AS v
            LEFT JOIN ({version_rows}) AS version_row
                ON v.valid_to IS NOT NULL AND version_row.source_name = v.source_name
               AND version_row.content_sha256 = v.content_sha256 AND version_row.valid_from = v.valid_from
            LEFT JOIN ({raw_rows}) AS raw_row ON v.valid_to IS NOT NULL AND raw_row.content_sha256 = v.content_sha256
        )
        SELECT v.source_name, v.content_sha256, v.notice_key, v.valid_from, v.valid_to,
               coalesce(version_text.raw_text, raw_text.raw_text) AS raw_text
        FROM located AS v
        LEFT JOIN ({version_texts}) AS version_text ON version_text.rowid = v.version_row
        LEFT JOIN ({raw_texts}) AS raw_text ON raw_text.rowid = v.raw_row
        ORDER BY v.version_order
    """)
    con.unregister("versions")  # (a failed insert leaves the transaction aborted: its connection is given up)


def _has_versions(con: duckdb.DuckDBPyConnection, database: str) -> bool:
    return bool(con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = ? AND schema_name = 'main' AND table_name = 'notice_version'",
        [database],
    ).fetchall()[0][0])

