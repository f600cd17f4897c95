"""Read-only access to the published warehouse: summaries, queries and exports."""

from pathlib import Path

import duckdb
import polars as pl


class ReadOnlyQueryError(RuntimeError):
    """The query tried to change the warehouse, or the warehouse cannot be opened."""


def _connect(warehouse: Path, file_access: bool = True) -> duckdb.DuckDBPyConnection:
    if not warehouse.exists():
        raise ReadOnlyQueryError(f"no warehouse at {warehouse}: run `zhenggai refresh` first")
    if file_access:
        return duckdb.connect(str(warehouse), read_only=True)
    # A read-only connection still lets COPY ... TO and ATTACH reach the file system; a user's query
    # gets neither, and cannot switch them back on.
    return duckdb.connect(
        str(warehouse), read_only=True, config={"enable_external_access": False, "lock_configuration": True}
    )


def run_query(warehouse: Path, query: str, parameters: list | None = None) -> pl.DataFrame:
    """Run `query` on a read-only connection without file-system access: any write is refused by DuckDB."""
    con = _connect(warehouse, file_access=False)
    try:
        relation = con.sql(query, params=parameters)
        if relation is None:  # a statement that returns no rows
            return pl.DataFrame()
        return pl.from_arrow(relation.to_arrow_table())
    except duckdb.InvalidInputException as error:
        if "read-only" in str(error).lower() or "configuration" in str(error).lower():
            raise ReadOnlyQueryError(f"the warehouse is read-only for queries: {error}") from None
        raise
    except duckdb.PermissionException as error:
        raise ReadOnlyQueryError(f"queries cannot reach the file system: {error}") from None
    finally:
        con.close()


def notice_summary(warehouse: Path) -> pl.DataFrame:
    """The notice_summary view, condensed to fit a terminal: one row per notice."""
    return run_query(
        warehouse,
        """SELECT source_name AS notice,
                  concat_ws('/', categories, issues, sub_issues) AS "cat/iss/sub",
                  concat_ws(' ', CASE WHEN completed > 0 THEN completed || ' done' END,
                            CASE WHEN basically_completed > 0 THEN basically_completed || ' basic' END,
                            CASE WHEN in_progress_or_long_term > 0 THEN in_progress_or_long_term || ' open' END,
                            CASE WHEN not_feasible > 0 THEN not_feasible || ' n/f' END,
                            CASE WHEN status_unknown > 0 THEN status_unknown || ' unstated' END) AS status,
                  measures || ' (' || next_steps || ' next)' AS measures,
                  indicators,
                  concat_ws(' ', claims_reconciled || ' agree', claims_disagreeing || ' differ',
                            (claims - claims_reconciled - claims_disagreeing) || ' n/a') AS claims
           FROM notice_summary""",
    )


def quarantine_summary(warehouse: Path) -> pl.DataFrame:
    return run_query(warehouse, "SELECT source_name, reason FROM quarantine_notice ORDER BY source_name")


def export_parquet(warehouse: Path, directory: Path) -> dict[str, int]:
    """Write every base table as DIRECTORY/<table>/data.parquet; return rows per table."""
    con = _connect(warehouse)
    try:
        tables = [row[0] for row in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE NOT internal ORDER BY table_name").fetchall()]
        counts = {}
        for table in tables:
            folder = directory / table
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / "data.parquet"
            con.execute(f"COPY \"{table}\" TO '{_sql_string(str(target))}' (FORMAT parquet)")
            counts[table] = con.execute(f'SELECT count(*) FROM "{table}"').fetchall()[0][0]
        return counts
    finally:
        con.close()


def _sql_string(value: str) -> str:
    # COPY takes no parameters for its target; the path is ours (DIRECTORY/<table>), quotes are doubled.
    return value.replace("'", "''")


def missing_sources(warehouse: Path) -> list[str]:
    """Source files whose notice is kept although the file left the landing folder (source_file.state)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute("SELECT source_name FROM source_file WHERE state = 'missing' ORDER BY source_name").fetchall()
    finally:
        con.close()
    return [name for (name,) in rows]
