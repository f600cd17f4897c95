"""Whether two warehouse files hold the same rows: every table compared as a multiset of rows.

Used to show that two ways of building the same notices give the same warehouse (a patched copy against a full
build, a run with a process per step against one process: bench/scale_out_demo.py).
"""

from dataclasses import dataclass
from pathlib import Path

import duckdb

BUILD_TABLE, BUILD_TIME = "refresh_build", "built_at"


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


def compare_warehouses(first: Path | str, second: Path | str, *, ignore_build_time: bool = False) -> list[TableComparison]:
    """Every table of either file, by name. With `ignore_build_time`, a TIMESTAMP WITH TIME ZONE value equal to the
    file's own `refresh_build.built_at` (the time of its build, which the build also gives the notice versions it
    opens) is compared as NULL, so that two builds of the same notices at different times compare equal."""
    con = duckdb.connect()
    try:
        con.execute("ATTACH ? AS first_file (READ_ONLY)", [str(first)])
        con.execute("ATTACH ? AS second_file (READ_ONLY)", [str(second)])
        columns = {name: _columns(con, name) for name in ("first_file", "second_file")}
        comparisons = []
        for table in sorted(columns["first_file"].keys() | columns["second_file"].keys()):
            in_first, in_second = columns["first_file"].get(table), columns["second_file"].get(table)
            rows = tuple(
                None if found is None else con.execute(f'SELECT count(*) FROM {name}."{table}"').fetchone()[0]
                for name, found in (("first_file", in_first), ("second_file", in_second))
            )
            if in_first is None or in_second is None or in_first != in_second:
                comparisons.append(TableComparison(table, rows, same_columns=in_first == in_second))
                continue
            selects = {name: _select(con, name, table, in_first, ignore_build_time) for name in ("first_file", "second_file")}
            only = [
                con.execute(f"SELECT count(*) FROM ({selects[left]} EXCEPT ALL {selects[right]})").fetchone()[0]
                for left, right in (("first_file", "second_file"), ("second_file", "first_file"))
            ]
            comparisons.append(TableComparison(table, rows, only[0], only[1]))
        return comparisons
    finally:
        con.close()


def _columns(con: duckdb.DuckDBPyConnection, database: str) -> dict[str, list[tuple[str, str]]]:
    """(column name, type) of every table of `database`, in column order."""
    tables: dict[str, list[tuple[str, str]]] = {}
    for table, column, data_type in con.execute(
        "SELECT table_name, column_name, data_type FROM duckdb_columns() "
        "WHERE database_name = ? AND table_name IN (SELECT table_name FROM duckdb_tables() WHERE database_name = ?) "
        "ORDER BY table_name, column_index", [database, database]
    ).fetchall():
        tables.setdefault(table, []).append((column, data_type))
    return tables


def _select(con: duckdb.DuckDBPyConnection, database: str, table: str, columns: list[tuple[str, str]],
            ignore_build_time: bool) -> str:
    build_time = None
    if ignore_build_time and con.execute(
        "SELECT count(*) FROM duckdb_columns() WHERE database_name = ? AND table_name = ? AND column_name = ?",
        [database, BUILD_TABLE, BUILD_TIME],
    ).fetchone()[0]:
        build_time = f'(SELECT max("{BUILD_TIME}") FROM {database}."{BUILD_TABLE}")'
    parts = [
        f'CASE WHEN "{column}" = {build_time} THEN NULL ELSE "{column}" END AS "{column}"'
        if build_time is not None and data_type == "TIMESTAMP WITH TIME ZONE" else f'"{column}"'
        for column, data_type in columns
    ]
    return f'SELECT {", ".join(parts)} FROM {database}."{table}"'
