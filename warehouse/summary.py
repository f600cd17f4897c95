"""Read-only access to the published warehouse: summaries, queries and exports."""

import shutil
from pathlib import Path

import duckdb
import polars as pl

from warehouse.schema import quoted_identifier, sql_literal


class ReadOnlyQueryError(RuntimeError):
    """The query tried to change the warehouse, or the warehouse cannot be opened."""


# Query connections read the warehouse and nothing else: no COPY … TO, ATTACH or file reads/writes (a locked
# setting the query cannot switch back on), and no extension downloads.
QUERY_CONFIG = {"enable_external_access": False, "autoinstall_known_extensions": False, "lock_configuration": True}


def _connect(warehouse: Path, config: dict | None = None) -> duckdb.DuckDBPyConnection:
    if not warehouse.exists():
        raise ReadOnlyQueryError(f"no warehouse at {warehouse}: run `zhenggai refresh` first")
    return duckdb.connect(str(warehouse), read_only=True, config=config or {})


def run_query(warehouse: Path, query: str, parameters: list | None = None) -> pl.DataFrame:
    """Run `query` on a read-only connection: any write is refused by DuckDB itself."""
    con = _connect(warehouse, QUERY_CONFIG)
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
        raise ReadOnlyQueryError(
            f"queries read the warehouse only; files cannot be read or written from here "
            f"(use `zhenggai export` to write files): {error}"
        ) from None
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


def table_rows(warehouse: Path) -> dict[str, int]:
    """Rows per base table of the published warehouse (run metadata for the Dagster UI)."""
    con = _connect(warehouse)
    try:
        return table_rows_of(con)
    finally:
        con.close()


def table_rows_of(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """`table_rows` of the database `con` uses."""
    names = [row[0] for row in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE NOT internal AND database_name = current_database() "
        "ORDER BY table_name").fetchall()]
    if not names:
        return {}
    # one statement (a count per statement cost ~0.5 ms each of a patch's ~30 tables)
    counts = dict(con.execute(" UNION ALL ".join(
        f"SELECT {sql_literal(name)}, count(*) FROM {quoted_identifier(name)}" for name in names)).fetchall())
    return {name: counts[name] for name in names}


def quarantine_summary(warehouse: Path) -> pl.DataFrame:
    return run_query(warehouse, "SELECT source_name, reason FROM quarantine_notice ORDER BY source_name")


# Tables keyed by notice are Hive-partitioned by the notice's publish year (publish_year=2023/, and
# publish_year=__HIVE_DEFAULT_PARTITION__ for unsigned notices): a year is a natural unit for analysts and
# keeps files few and large, where one folder per notice would make thousands of tiny files. The partition
# value lives in the folder name only, as Hive, Spark, Trino, pyarrow and polars expect.
PARTITIONED_BY_PUBLISH_YEAR = ("dim_notice", "raw_notice", "fact_issue", "fact_measure", "fact_indicator", "fact_claim")


def export_parquet(warehouse: Path, directory: Path) -> dict[str, int]:
    """Write every table and view as Parquet, one folder per relation named after it; return rows per relation.

    Tables of PARTITIONED_BY_PUBLISH_YEAR become DIRECTORY/<table>/publish_year=<year>/data_0.parquet; the
    other tables (the marts among them) and the views become DIRECTORY/<name>/data.parquet. A folder left by a previous
    export of the same relation is replaced, so a re-export never mixes old and new files.
    """
    con = _connect(warehouse)
    try:
        tables = [row[0] for row in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE NOT internal ORDER BY table_name").fetchall()]
        views = [row[0] for row in con.execute(
            "SELECT view_name FROM duckdb_views() WHERE NOT internal AND schema_name = 'main' ORDER BY view_name"
        ).fetchall()]
        counts = {}
        for name in tables + views:
            folder = directory / name
            if folder.exists():
                shutil.rmtree(folder)
            folder.parent.mkdir(parents=True, exist_ok=True)
            if name in PARTITIONED_BY_PUBLISH_YEAR:
                con.execute(
                    f"""COPY (SELECT t.*, year(n.publish_date) AS publish_year
                              FROM "{name}" t LEFT JOIN dim_notice n ON n.notice_key = t.notice_key)
                        TO ? (FORMAT parquet, PARTITION_BY (publish_year))""",
                    [str(folder)],
                )
            else:
                folder.mkdir()
                con.execute(f'COPY "{name}" TO ? (FORMAT parquet)', [str(folder / "data.parquet")])
            counts[name] = con.execute(f'SELECT count(*) FROM "{name}"').fetchall()[0][0]
        return counts
    finally:
        con.close()


def missing_sources(warehouse: Path) -> list[str]:
    """Source files whose notice is kept although the file left the landing folder (source_file.state)."""
    return run_query(
        warehouse, "SELECT source_name FROM source_file WHERE state = 'missing' ORDER BY source_name"
    )["source_name"].to_list()
