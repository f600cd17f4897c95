"""Whether two warehouse files hold the same rows: every table compared as a multiset of rows.

Used to show that two ways of building the same notices give the same warehouse (a patched copy against a full
build, a run with a process per step against one process: bench/scale_out_demo.py).
"""

from dataclasses import dataclass
from pathlib import Path

import duckdb

from warehouse.schema import quoted_identifier

TIME_TYPE = "TIMESTAMP WITH TIME ZONE"  # the type of every time a build records (built_at, valid_from, ...)


@dataclass(frozen=True)
class TableComparison:
    """One table in both files: its rows in each (None: the file has no such table), the rows of each that the
    other lacks (counted with their multiplicity), and whether both have the same columns."""

    table: str
    rows: tuple[int | None, int | None]
    only_in_first: int = 0
    only_in_second: int = 0
    same_columns: bool = True

    @property
    def same(self) -> bool:
        return None not in self.rows and self.same_columns and not self.only_in_first and not self.only_in_second


def compare_warehouses(first: Path | str, second: Path | str, *, times_by_order: bool = False) -> list[TableComparison]:
    """Every table of either file, by name.

    With `times_by_order`, a TIMESTAMP WITH TIME ZONE value is compared by its rank among the distinct such values
    of its own file (every table), not by its value: two builds of the same history made at other times (the build
    time in refresh_build, the versions' valid_from and valid_to, quarantined_at) compare equal, while a row stamped
    by another build of that history than in the other file still differs."""
    con = duckdb.connect()
    try:
        con.execute("ATTACH ? AS first_file (READ_ONLY)", [str(first)])
        con.execute("ATTACH ? AS second_file (READ_ONLY)", [str(second)])
        return compare_catalogs(con, "first_file", "second_file", times_by_order=times_by_order)
    finally:
        con.close()


def compare_catalogs(con: duckdb.DuckDBPyConnection, first: str, second: str, *,
                     times_by_order: bool = False) -> list[TableComparison]:
    """Every table of the attached catalogs `first` and `second` (their main schemas), by name: compare_warehouses
    for catalogs attached to `con` (a DuckLake too: warehouse/lake.py checks its snapshots so)."""
    columns = {name: table_columns(con, name) for name in (first, second)}
    if times_by_order:
        for name in columns:
            _rank_times(con, name, columns[name])
    comparisons = []
    for table in sorted(columns[first].keys() | columns[second].keys()):
        in_first, in_second = columns[first].get(table), columns[second].get(table)
        rows = tuple(
            None if found is None else con.execute(f"SELECT count(*) FROM {quoted_identifier(name)}.{quoted_identifier(table)}").fetchone()[0]
            for name, found in ((first, in_first), (second, in_second))
        )
        if in_first is None or in_second is None or in_first != in_second:
            comparisons.append(TableComparison(table, rows, same_columns=in_first == in_second))
            continue
        selects = {name: _select(name, table, in_first, times_by_order) for name in (first, second)}
        only = [
            con.execute(f"SELECT count(*) FROM ({selects[left]} EXCEPT ALL {selects[right]})").fetchone()[0]
            for left, right in ((first, second), (second, first))
        ]
        comparisons.append(TableComparison(table, rows, only[0], only[1]))
    return comparisons


def table_columns(con: duckdb.DuckDBPyConnection, database: str) -> dict[str, list[tuple[str, str]]]:
    """(column name, type) of every table of `database`'s main schema, in column order."""
    tables: dict[str, list[tuple[str, str]]] = {}
    for table, column, data_type in con.execute(
        "SELECT c.table_name, c.column_name, c.data_type FROM duckdb_columns() AS c "
        "JOIN duckdb_tables() AS t USING (database_name, schema_name, table_name) "
        "WHERE c.database_name = ? AND c.schema_name = 'main' ORDER BY c.table_name, c.column_index", [database]
    ).fetchall():
        tables.setdefault(table, []).append((column, data_type))
    return tables


def _rank_times(con: duckdb.DuckDBPyConnection, database: str, columns: dict[str, list[tuple[str, str]]]) -> None:
    """TEMP table `<database>_time` (time_value, time_rank): every distinct time of the file's tables and its dense
    rank."""
    times = [f"SELECT {quoted_identifier(column)} AS time_value FROM {quoted_identifier(database)}.{quoted_identifier(table)}"
             for table, typed in columns.items() for column, data_type in typed if data_type == TIME_TYPE]
    union = " UNION ALL ".join(times) if times else f"SELECT CAST(NULL AS {TIME_TYPE}) AS time_value"
    con.execute(f"CREATE TEMP TABLE {database}_time AS "
                f"SELECT time_value, dense_rank() OVER (ORDER BY time_value) AS time_rank "
                f"FROM (SELECT DISTINCT time_value FROM ({union}) WHERE time_value IS NOT NULL)")


def _select(database: str, table: str, columns: list[tuple[str, str]], times_by_order: bool) -> str:
    """The table's rows; with `times_by_order`, each time as its rank (_rank_times)."""
    parts = [
        f"(SELECT time_rank FROM {database}_time WHERE time_value = {quoted_identifier(column)}) AS {quoted_identifier(column)}"
        if times_by_order and data_type == TIME_TYPE else quoted_identifier(column)
        for column, data_type in columns
    ]
    return f"SELECT {', '.join(parts)} FROM {quoted_identifier(database)}.{quoted_identifier(table)}"
