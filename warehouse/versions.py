"""The version history (notice_version) written into the staging file, a closed version's raw text filled in by DuckDB.

notice_version keeps every version of every file ever loaded. A current version's text is raw_notice.raw_text of
its content, so it is not stored again (raw_text NULL while valid_to is NULL: at 10,000 notices, writing that third
copy of the corpus's texts was ~2.5 s of a full build). A version closed by this refresh (its file edited, renamed
or pruned) takes its text from the previous warehouse's raw_notice, where it was current; one closed earlier keeps
the text the previous warehouse's notice_version holds. transforms.lineage.update_versions decides which versions
there are and when each was current from names, contents and dates only; the texts are then copied in SQL,
without passing through Python (the previous warehouse attached read-only: as read_table does, the published file
is only read, never locked for writing).
"""

from pathlib import Path

import duckdb
import polars as pl

from warehouse.store import connect_staging, read_table

# The columns of notice_version that update_versions works on (every one but raw_text).
VERSION_COLUMNS = ("source_name", "content_sha256", "notice_key", "valid_from", "valid_to")


def previous_versions(warehouse: Path) -> pl.DataFrame | None:
    """The previous warehouse's notice_version without its raw texts, or None when there is none."""
    return read_table(warehouse, "notice_version", columns=VERSION_COLUMNS)


def load_versions(staging: Path, versions: pl.DataFrame, previous: Path) -> None:
    """Insert `versions` (update_versions without raw_text) into the staging file's notice_version, a closed
    version with its raw text: the previous warehouse's notice_version row for the same file, content and
    valid_from (matched on those three, which name one version) when it has a text there, else the previous
    warehouse's raw_notice row of its content (it was current there). Rows in the order update_versions gives
    them; a closed version whose text is found nowhere fails the table's CHECK constraint loudly.

    The texts are read by rowid: the joins and the sort of the versions carry no text (joining the texts themselves
    hashed and sorted ~0.4 GB of them at 10,000 notices, out of memory with a previous warehouse's texts beside
    them)."""
    con = connect_staging(staging)
    try:
        # where a closed version's text is (a row of the previous notice_version or raw_notice), then those texts
        previous_rows = "SELECT NULL::VARCHAR AS source_name, NULL::VARCHAR AS content_sha256, " \
            "NULL::TIMESTAMPTZ AS valid_from, NULL::BIGINT AS text_row WHERE false"
        previous_raw_rows = "SELECT NULL::VARCHAR AS content_sha256, NULL::BIGINT AS text_row WHERE false"
        previous_texts = "SELECT NULL::BIGINT AS rowid, NULL::VARCHAR AS raw_text WHERE false"
        previous_raw_texts = previous_texts
        if previous.exists():
            con.execute("ATTACH ? AS previous (READ_ONLY)", [str(previous)])
            if _has_versions(con, "previous"):
                previous_rows = "SELECT source_name, content_sha256, valid_from, rowid AS text_row " \
                    "FROM previous.notice_version WHERE raw_text IS NOT NULL"
                previous_texts = "SELECT rowid, raw_text FROM previous.notice_version WHERE rowid IN (SELECT previous_row FROM located)"
            previous_raw_rows = "SELECT content_sha256, min(rowid) AS text_row FROM previous.raw_notice GROUP BY content_sha256"
            previous_raw_texts = "SELECT rowid, raw_text FROM previous.raw_notice WHERE rowid IN (SELECT previous_raw_row FROM located)"
        con.register("versions", versions.select(VERSION_COLUMNS).with_row_index("version_order").to_arrow())
        con.execute("BEGIN TRANSACTION")
        con.execute(f"""
            INSERT INTO notice_version BY NAME
            WITH closed AS (
                SELECT v.*, previous_row.text_row AS previous_row,
                       CASE WHEN previous_row.text_row IS NULL THEN previous_raw_row.text_row END AS previous_raw_row
                FROM versions AS v
                LEFT JOIN ({previous_rows}) AS previous_row
                    ON previous_row.source_name = v.source_name AND previous_row.content_sha256 = v.content_sha256
                   AND previous_row.valid_from = v.valid_from
                LEFT JOIN ({previous_raw_rows}) AS previous_raw_row ON previous_raw_row.content_sha256 = v.content_sha256
                WHERE v.valid_to IS NOT NULL
            ), located AS (
                SELECT v.*, closed.previous_row, closed.previous_raw_row
                FROM versions AS v LEFT JOIN closed USING (version_order)
            )
            SELECT v.source_name, v.content_sha256, v.notice_key, v.valid_from, v.valid_to,
                   coalesce(previous_text.raw_text, previous_raw_text.raw_text) AS raw_text
            FROM located AS v
            LEFT JOIN ({previous_texts}) AS previous_text ON previous_text.rowid = v.previous_row
            LEFT JOIN ({previous_raw_texts}) AS previous_raw_text ON previous_raw_text.rowid = v.previous_raw_row
            ORDER BY v.version_order
        """)
        con.execute("COMMIT")
        con.unregister("versions")
        con.execute("CHECKPOINT")
    finally:
        con.close()


def _has_versions(con: duckdb.DuckDBPyConnection, database: str) -> bool:
    return bool(con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = ? AND schema_name = 'main' AND table_name = 'notice_version'",
        [database],
    ).fetchall()[0][0])

