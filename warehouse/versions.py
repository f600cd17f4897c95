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

from warehouse.store import LOAD_MEMORY_LIMIT, read_table

# The columns of notice_version that update_versions works on (every one but raw_text).
VERSION_COLUMNS = ("source_name", "content_sha256", "notice_key", "valid_from", "valid_to")


def previous_versions(warehouse: Path) -> pl.DataFrame | None:
    """The previous warehouse's notice_version without its raw texts, or None when there is none."""
    return read_table(warehouse, "notice_version", columns=VERSION_COLUMNS)


def load_versions(staging: Path, versions: pl.DataFrame, previous: Path) -> None:
    """Insert `versions` (update_versions without raw_text) into the staging file's notice_version, each with
    its raw text: from raw_notice for a current version, from `previous`'s notice_version for a closed one
    (matched on file, content and valid_from, which name one version). Rows in the order update_versions
    gives them; a version whose text is found nowhere fails the NOT NULL constraint loudly."""
    con = duckdb.connect(str(staging), config={"memory_limit": LOAD_MEMORY_LIMIT})
    try:
        previous_text = "SELECT NULL::VARCHAR AS source_name, NULL::VARCHAR AS content_sha256, " \
            "NULL::TIMESTAMPTZ AS valid_from, NULL::VARCHAR AS raw_text WHERE false"
        if previous.exists():
            con.execute("ATTACH ? AS previous (READ_ONLY)", [str(previous)])
            if _has_versions(con, "previous"):
                previous_text = "SELECT source_name, content_sha256, valid_from, raw_text FROM previous.notice_version"
        con.register("versions", versions.select(VERSION_COLUMNS).with_row_index("version_order").to_arrow())
        con.execute("BEGIN TRANSACTION")
        con.execute(f"""
            INSERT INTO notice_version BY NAME
            SELECT v.source_name, v.content_sha256, v.notice_key, v.valid_from, v.valid_to,
                   CASE WHEN v.valid_to IS NULL THEN current_text.raw_text ELSE previous_text.raw_text END AS raw_text
            FROM versions AS v
            LEFT JOIN (SELECT content_sha256, any_value(raw_text) AS raw_text FROM raw_notice GROUP BY content_sha256)
                AS current_text ON current_text.content_sha256 = v.content_sha256
            LEFT JOIN ({previous_text}) AS previous_text
                ON previous_text.source_name = v.source_name AND previous_text.content_sha256 = v.content_sha256
               AND previous_text.valid_from = v.valid_from
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

