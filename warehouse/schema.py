"""The warehouse's schema as SQL text: the scripts of warehouse/sql, in order.

Kept apart from warehouse.store (which imports Polars and the transforms) so that readers of the schema alone,
such as the gate's empty comparison warehouse, pay for reading a few files and nothing else.
"""

from pathlib import Path

SQL_DIR = Path(__file__).with_name("sql")
# Scripts named *marts.sql build tables FROM the loaded rows (CREATE TABLE ... AS SELECT): run after the
# load. Every other script of SQL_DIR declares the schema the rows are loaded into.
MART_SCRIPTS = "*marts.sql"


def ddl_statements() -> str:
    """The schema: tables the rows are loaded into, and views (every script but the marts), in order."""
    return _scripts(path for path in sorted(SQL_DIR.glob("*.sql")) if not path.match(MART_SCRIPTS))


def mart_statements() -> str:
    """The marts, built as tables from the loaded contract tables (run after the load, in this order)."""
    return _scripts(sorted(SQL_DIR.glob(MART_SCRIPTS)))


def _scripts(paths) -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in paths)


def sql_literal(text: str) -> str:
    """`text` as an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def slice_starts(con, relation: str, column: str, size: int) -> list:
    """The values of `column` that start each slice of `size` rows of `relation` (SQL: a quoted table name) in the
    column's order, NULLs left out: its first value, the value `size` rows after it, and so on (`con`: a DuckDB
    connection). What cuts a table into slices that take every row once, whatever gaps its values have."""
    return [row[0] for row in con.execute(
        f"SELECT {column} FROM (SELECT {column}, row_number() OVER (ORDER BY {column}) - 1 AS position "
        f"FROM {relation} WHERE {column} IS NOT NULL) WHERE position % {int(size)} = 0 ORDER BY {column}"
    ).fetchall()]


def quoted_identifier(name: str) -> str:
    """`name` as a quoted SQL identifier (a table, column or catalog name), whatever characters it holds."""
    return '"' + name.replace('"', '""') + '"'
