"""The marts of warehouse/sql/*marts.sql, one by one: which are per-notice (a patch rewrites only the changed
notices' rows), and how a full build makes the largest of them a slice of notices at a time.

A full build used to run the mart scripts as one text. A mart's statement needs memory in proportion to the rows
it joins, and the staging build runs within ZHENGGAI_LOAD_MEMORY (1 GB by default): mart_issue alone needed 700-750 MB
at 10,000 notices and 1-1.5 GB on twice those notices' rows (DuckDB hashes the problems, with every column they
carry, at each of its joins), and the staging build of 20,000 notices ran out of memory. SLICED_MARTS are built
MART_SLICE_NOTICES notices at a time instead, by the same mechanism as a patch (notice_rows_only), so what they
need no longer grows with the corpus.
"""

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache

import duckdb

from transforms.star import NOTICE_TABLES
from warehouse.schema import mart_statements, quoted_identifier, slice_starts, sql_literal

# Marts whose rows each belong to one notice and are computed from that notice's rows only (its rows of the
# notice tables, whose keys start with its notice_key, plus the dimension rows it refers to and the constant
# mart_headline_metric): deleting a notice's rows and inserting the mart query's rows for it gives what a rebuild
# gives. A notice is patched when it is added, removed, renamed, or refers to a dimension row that changed.
NOTICE_MARTS: dict[str, str] = {
    "mart_issue": "a problem's parent, grandparent, children, measures and indicators are nodes of its own notice "
    "(their keys extend its notice_key); plus its dim_notice and dim_organization rows",
    "mart_indicator": "a figure's issue node and measure are of its own notice; plus its dim_notice and "
    "dim_organization rows and the constant mart_headline_metric",
    "mart_notice": "aggregates of the notice's own issues, claims, measures and indicators, plus its dim_notice, "
    "dim_inspection and dim_organization rows",
    "mart_notice_figures": "aggregates of the notice's own indicators and claims, plus its dim_notice row",
    "mart_headline_figure": "the notice's own rows of mart_indicator that have a headline (patched before it). "
    "Built in full it is stored in its query's order; a patch appends the rewritten notices' rows after the "
    "sorted ones, which the query's ORDER BY puts back in place (rebuilding it whole cost ~0.9 s of a ~13 s "
    "patched refresh at 10,000 notices: ~300,000 rows written and compressed for a handful changed)",
    "mart_claim": "the notice's own claims (fact_claim) with its mart_notice row (patched before it); stored sorted "
    "when built in full, the rewritten notices' rows appended by a patch, as mart_headline_figure's (rebuilding it "
    "and mart_open_problem whole, with their comments, cost ~0.1 s of a ~3 s patched refresh at 10,000 notices)",
    "mart_open_problem": "the notice's own leaf problems of mart_issue (patched before it) not yet rectified; "
    "sorted when built in full, the rewritten notices' rows appended by a patch, as mart_claim's",
}
# Every other mart is rebuilt from the patched tables, and why.
MART_REASONS: dict[str, str] = {
    "mart_headline_metric": "a constant list (rebuilding it costs nothing)",
    "mart_unit_progress": "a window over every report on the same unit and inspection: one notice changes its "
    "neighbours' report_seq and previous_completed_share",
    "mart_unit_headline": "sums over every notice on the same unit",
}


@dataclass(frozen=True)
class Mart:
    query: str  # the SELECT the mart is created as
    statements: tuple[str, ...]  # its CREATE TABLE ... AS and COMMENT statements, in script order


_CREATE = re.compile(r"CREATE\s+TABLE\s+(\w+)\s+AS\s+(.*)", re.IGNORECASE | re.DOTALL)
_COMMENT = re.compile(r"COMMENT\s+ON\s+(?:TABLE|COLUMN)\s+(\w+)", re.IGNORECASE)


@cache
def marts() -> dict[str, Mart]:
    """The marts of mart_statements() by name, in script order. Every mart must be in NOTICE_MARTS or
    MART_REASONS: a new mart fails loudly here until someone says whether it can be patched."""
    queries: dict[str, str] = {}
    statements: dict[str, list[str]] = {}
    for statement in duckdb.extract_statements(mart_statements()):
        text = statement.query
        if (create := _CREATE.search(text)) is not None:
            name = create.group(1)
            queries[name] = create.group(2).strip().rstrip(";")
            statements[name] = [text]
        elif (comment := _COMMENT.search(text)) is not None and comment.group(1) in statements:
            statements[comment.group(1)].append(text)
        else:
            raise ValueError(f"mart script statement of unknown kind: {text.strip()[:80]}")
    unclassified = set(queries) - set(NOTICE_MARTS) - set(MART_REASONS)
    if unclassified:
        raise ValueError(
            f"marts neither in NOTICE_MARTS nor in MART_REASONS (warehouse/marts.py): {sorted(unclassified)}"
        )
    # a patch writes the per-notice marts first, then rebuilds the marts scripted after the first of them (patch.py
    # _patch_marts): a per-notice mart reading one of those would read it before it is rebuilt
    late = rebuilt_after_notice_marts(list(queries))
    for name in NOTICE_MARTS:
        read = [other for other in late if re.search(rf"\b{other}\b", queries.get(name, ""))]
        if read:
            raise ValueError(f"the per-notice mart {name} reads {read}, which are rebuilt after the per-notice marts "
                             "(a per-notice mart's rows come from its notice's rows only)")
    return {name: Mart(queries[name], tuple(statements[name])) for name in queries}


def rebuilt_after_notice_marts(names: Sequence[str]) -> list[str]:
    """The marts of `names` (in script order) that are rebuilt and come after the first per-notice mart."""
    first = next((index for index, name in enumerate(names) if name in NOTICE_MARTS), len(names))
    return [name for name in names[first:] if name not in NOTICE_MARTS]


# The per-notice marts with a row per problem and per figure: their joins' memory grew with the corpus. A sliced mart
# must be in NOTICE_MARTS and its query must have no ORDER BY (a mart stored sorted, as those of 08_query_marts.sql
# are, is built in one statement); tests/test_patch_staging.py checks both.
SLICED_MARTS = ("mart_issue", "mart_indicator")
MART_SLICE_NOTICES = 2_000


@contextmanager
def notice_rows_only(con: duckdb.DuckDBPyConnection, database: str, notices: str,
                     tables: Sequence[str]) -> Iterator[Callable[[str], None]]:
    """While the block runs, `tables` of `database` (the catalog of `con`) shadowed by temporary views of the rows of
    the notices that `notices` (an SQL condition on notice_key) selects, so that a per-notice mart's query reads those
    rows instead of every notice's (the property NOTICE_MARTS states: a notice's mart rows come from its own rows)
    and its joins and aggregates read a few rows. Yields a function that shadows one more table (a per-notice mart
    once its rows are written, for the marts that read it). The views are dropped on leaving."""
    catalog = quoted_identifier(database)
    shadowed: list[str] = []

    def shadow(table: str) -> None:
        con.execute(f'CREATE TEMP VIEW "{table}" AS SELECT * FROM {catalog}.main."{table}" WHERE {notices}')
        shadowed.append(table)

    try:
        for table in tables:
            shadow(table)
        yield shadow
    except duckdb.Error:
        # The failed statement aborted the transaction, where dropping the views fails too: that error must not take
        # the place of this one (create_staging builds again on one thread after an OutOfMemoryException only).
        for table in shadowed:
            try:
                con.execute(f'DROP VIEW IF EXISTS temp.main."{table}"')
            except duckdb.Error:
                pass
        raise
    for table in shadowed:
        con.execute(f'DROP VIEW temp.main."{table}"')


def insert_notice_rows(con: duckdb.DuckDBPyConnection, database: str, name: str, query: str, notices: str) -> None:
    """Insert into the mart `name` of `database` (the catalog of `con`) the rows its `query` gives for the notices
    that `notices` (an SQL condition on notice_key) selects: within notice_rows_only of the same notices."""
    catalog = quoted_identifier(database)
    con.execute(f'INSERT INTO {catalog}.main."{name}" BY NAME SELECT * FROM (\n{query}\n) AS mart WHERE {notices}')


def build_marts(con: duckdb.DuckDBPyConnection) -> None:
    """Build every mart in the database of `con` from its loaded tables, in script order, SLICED_MARTS a slice of
    MART_SLICE_NOTICES notices at a time (in notice_key order) when there are more notices than that."""
    database = con.execute("SELECT current_database()").fetchall()[0][0]
    slices = notice_slices(con, MART_SLICE_NOTICES)
    built: list[str] = []  # per-notice marts already built, which a later one may read
    for name, mart in marts().items():
        if name in SLICED_MARTS and len(slices) > 1:
            con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM (\n{mart.query}\n) AS mart LIMIT 0')
            for comment in mart.statements[1:]:
                con.execute(comment)
            for condition in slices:
                with notice_rows_only(con, database, condition, [*NOTICE_TABLES, *built]):
                    insert_notice_rows(con, database, name, mart.query, condition)
        else:
            for statement in mart.statements:
                con.execute(statement)
        if name in NOTICE_MARTS:
            built.append(name)


def notice_slices(con: duckdb.DuckDBPyConnection, size: int) -> list[str]:
    """SQL conditions on notice_key that cut the notices of dim_notice into consecutive slices of `size` (the last
    may be smaller), together taking every non-NULL key once, in dim_notice or not: `notice_key < k1`,
    `notice_key >= k1 AND notice_key < k2`, ..., `notice_key >= kn`. For `size` notices or fewer, the one condition
    `notice_key IS NOT NULL` (build_marts then builds the mart in one statement)."""
    bounds = slice_starts(con, "dim_notice", "notice_key", size)[1:]
    if not bounds:
        return ["notice_key IS NOT NULL"]
    keys = [sql_literal(bound) for bound in bounds]
    return ([f"notice_key < {keys[0]}"]
            + [f"notice_key >= {low} AND notice_key < {high}" for low, high in zip(keys, keys[1:])]
            + [f"notice_key >= {keys[-1]}"])
