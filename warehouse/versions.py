"""The version history (notice_version) written into the staging file with its raw texts filled in by DuckDB.

notice_version keeps the decoded text of every version of every file ever loaded: at corpus scale, the texts
of the whole corpus and more. transforms.lineage.update_versions decides which versions there are and when
each was current from names, contents and dates only; the texts are then taken where they already are, in
SQL, without passing through Python: a current version's from the staging file's raw_notice (the text just
staged, one row per loaded content), a closed one's from the previous warehouse's notice_version (attached
read-only; as read_table does, the published file is only read, never locked for writing).
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
    """Insert `versions` (update_versions without raw_text) into the staging file's notice_version, each with
    its raw text: from raw_notice for a current version, from `previous`'s notice_version for a closed one
    (matched on file, content and valid_from, which name one version). Rows in the order update_versions
    gives them; a version whose text is found nowhere fails the NOT NULL constraint loudly.

    In DuckDB's default row groups, unlike raw_notice (store.TEXT_ROW_GROUP_SIZE): this insert also joins and sorts
    the texts, and the small row groups that its writer holds until they are written (up to five, ~0.4 GB of
    texts at 10,000 notices) cannot be spilled: out of memory at 700 MB, and once in four runs at 1 GB."""
    con = connect_staging(staging)
    try:
        # the rows holding the texts, by rowid: the joins and the sort of the versions carry no text (joining the
        # texts themselves hashed and sorted ~0.4 GB of them at 10,000 notices: twice the CPU, and out of memory
        # with a previous warehouse's texts beside them). The previous join is on every version, as before, so
        # that a version matches as many previous rows as before; only a closed version reads their text.
        previous_rows = "SELECT NULL::VARCHAR AS source_name, NULL::VARCHAR AS content_sha256, " \
            "NULL::TIMESTAMPTZ AS valid_from, NULL::BIGINT AS text_row WHERE false"
        previous_texts = "SELECT NULL::BIGINT AS rowid, NULL::VARCHAR AS raw_text WHERE false"
        if previous.exists():
            con.execute("ATTACH ? AS previous (READ_ONLY)", [str(previous)])
            if _has_versions(con, "previous"):
                previous_rows = "SELECT source_name, content_sha256, valid_from, rowid AS text_row FROM previous.notice_version"
                # only the texts of the versions closed now: a full build after a new parser has none to read
                previous_texts = "SELECT rowid, raw_text FROM previous.notice_version WHERE rowid IN (SELECT previous_row FROM located)"
        con.register("versions", versions.select(VERSION_COLUMNS).with_row_index("version_order").to_arrow())
        con.execute("BEGIN TRANSACTION")
        con.execute(f"""
            INSERT INTO notice_version BY NAME
            WITH located AS (
                SELECT v.*, current_row.text_row AS current_row,
                       CASE WHEN v.valid_to IS NOT NULL THEN previous_row.text_row END AS previous_row
                FROM versions AS v
                LEFT JOIN (SELECT content_sha256, min(rowid) AS text_row FROM raw_notice GROUP BY content_sha256)
                    AS current_row ON current_row.content_sha256 = v.content_sha256 AND v.valid_to IS NULL
                LEFT JOIN ({previous_rows}) AS previous_row
                    ON previous_row.source_name = v.source_name AND previous_row.content_sha256 = v.content_sha256
                   AND previous_row.valid_from = v.valid_from
            )
            SELECT v.source_name, v.content_sha256, v.notice_key, v.valid_from, v.valid_to,
                   CASE WHEN v.valid_to IS NULL THEN current_text.raw_text ELSE previous_text.raw_text END AS raw_text
            FROM located AS v
            LEFT JOIN raw_notice AS current_text ON current_text.rowid = v.current_row
            LEFT JOIN ({previous_texts}) AS previous_text ON previous_text.rowid = v.previous_row
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

