"""Building the staged DuckDB file and publishing it atomically.

The published file is never written in place: a refresh builds a complete staging file beside it, the gate
validates the staging file, and `publish` swaps it in with os.replace. Readers holding the old file keep
their snapshot; new connections open the new file; a crash at any point leaves either the old or the new
complete file (DESIGN §4, STACK-NOTES on DuckDB 2.0 locks).
"""

import contextlib
import fcntl
import logging
import os
import threading
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl

from transforms.star import NOTICE_TABLES, SHARED_DIMENSIONS, dim_date
from warehouse.marts import build_marts
from warehouse.schema import ddl_statements, sql_literal

# BI drivers still bundle DuckDB 1.x, which cannot open files written in 2.0's default storage format.
STORAGE_COMPATIBILITY = "v1.4.0"
# DuckDB's own memory while it builds the staging file (its default is 80 % of the machine). Loading the rows of
# 10,000 notices took 43 s and 3.3 GB with the default, 51 s and 1.6 GB with 1.5 GB, 64 s and 1.2 GB with 1 GB
# (docs/scale-out.md); a refresh shares the machine with readers, so memory is bounded by default.
LOAD_MEMORY_LIMIT = os.environ.get("ZHENGGAI_LOAD_MEMORY", "1GB")
# A commit writes the rows that DuckDB has not written to the file yet (a table's last, partial row group: all
# of raw_notice's and notice_version's texts, ~0.8 GB at 10,000 notices) to the write-ahead log, and a
# checkpoint then reads them back to write them compressed. With these settings a commit of the staging file
# checkpoints at once instead, without the log (the file is not live: nobody else writes or reads it, and a
# crash leaves a staging file that the next refresh removes). At 10,000 notices ~5 s of CPU and ~10 s of
# writes fewer. "max_vacuum_tasks": see TEXT_ROW_GROUP_SIZE.
DIRECT_CHECKPOINT = {"checkpoint_threshold": "1kB", "auto_checkpoint_skip_wal_threshold": 1, "max_vacuum_tasks": 0}
# Rows per row group of the tables of a few rows holding whole texts (TEXT_TABLES), where DuckDB's
# default is 122,880. DuckDB writes a table's rows to the file, compressed, as its row groups fill, and holds the
# rows of a partial row group uncompressed until the commit, which copies them once more before compressing them
# on one thread. With the default, the 10,000 texts of raw_notice (~0.85 GB) were one partial row group: its
# commit needed ~1.8 GB, spilled ~0.65 GB to disk within LOAD_MEMORY_LIMIT and took ~5 s of CPU. In row groups of
# 2,048 rows (the smallest DuckDB allows, a vector) they are written during the insert, on every core, in ~0.65 GB;
# the file is ~2 MB larger. Only the connection that loads these tables uses it (connect_staging): it is an option
# of the attached file, not stored in it, and the tables of many short rows keep the default.
# A checkpoint's "vacuum" merges consecutive row groups whose rows fit in fewer: any later connection with the
# default size (the rest of the build, a patch of the published file: warehouse/patch.py) would merge these row
# groups back into one, rewriting (and spilling) all the texts: a patch of one notice took 3.8 s of CPU and
# 1.2 GB instead of 0.2 s and 0.3 GB. The connections that write the file (DIRECT_CHECKPOINT) schedule no
# vacuum; deleted rows are still skipped by every reader, and patch.py compacts by rebuilding in full.
TEXT_ROW_GROUP_SIZE = 2048


class RefreshInProgress(RuntimeError):
    """Another refresh holds the warehouse lock."""


class StagingNotOurs(RuntimeError):
    """The staging file about to be published is not the one this run staged (another run staged over it)."""


def staging_path(warehouse: Path) -> Path:
    return warehouse.with_name(f"{warehouse.name}.staging")


@dataclass(frozen=True)
class StarRows:
    """Rows of transforms.star NOTICE_TABLES and SHARED_DIMENSIONS kept as Parquet files, one folder per batch of
    notices (`<folder>/<table>.parquet`, the parse cache's batches), and the notices to load from them."""

    batches: list[Path]  # in the order their rows are stored
    notices: pl.DataFrame  # notice_key, source_name: the notices to load, under the name they are loaded as


def create_staging(warehouse: Path, tables: Mapping[str, pl.DataFrame], star: StarRows | None = None) -> Path:
    """Write `tables`, and the `star` rows from their Parquet files, into a fresh staging file beside
    `warehouse`; return its path.

    Frames are inserted by column name through Arrow, so column order in a frame does not matter and a
    frame missing a DDL column fails loudly. Parquet rows are read by DuckDB itself, within
    LOAD_MEMORY_LIMIT. When `tables` has no dim_date, the calendar covers the
    dates of the loaded rows. The marts are then built from the loaded rows (warehouse/marts.py), in the same
    file, so the gate sees them and they are never stale.

    Two transactions: the notices' texts (TEXT_TABLES) first, in row groups of TEXT_ROW_GROUP_SIZE rows, then
    everything else. DuckDB writes the rows once, compressed, instead of logging each table's rows to the WAL and
    rewriting them at checkpoints (at 10,000 notices 19 s instead of 35 s); each commit checkpoints at once
    (DIRECT_CHECKPOINT). Frames go to Arrow with string views (no copy of the notice texts on the way).

    Row order (tests/test_load_batches.py): each notice table's rows in the order of the batches and of their
    rows within a batch; a shared dimension's in the order of all its columns; marts as their SQL says.

    A build that runs out of LOAD_MEMORY_LIMIT is made again once on one thread, as DuckDB's error advises. The
    statement that needed most memory was a mart's (mart_issue at 10,000 notices: 700-750 MB in one statement, the
    likely cause of 4 of ~50 full builds failing within the 1 GB); the largest marts are now built a slice of notices
    at a time (warehouse/marts.py), and the whole build passes within 300 MB at 10,000 notices (before, it failed
    within 700 MB, on one thread too).
    """
    try:
        return _create_staging(warehouse, tables, star)
    except duckdb.OutOfMemoryException as error:
        logging.getLogger(__name__).warning("the staging build ran out of memory (%s); building it again on one thread",
                                            str(error).splitlines()[0])
        return _create_staging(warehouse, tables, star, threads=1)


def _create_staging(warehouse: Path, tables: Mapping[str, pl.DataFrame], star: StarRows | None,
                    threads: int | None = None) -> Path:
    """create_staging, its connections on `threads` threads (DuckDB's default: one per core)."""
    staging = staging_path(warehouse)
    staging.parent.mkdir(parents=True, exist_ok=True)
    for leftover in (staging, staging.with_name(staging.name + ".wal")):
        leftover.unlink(missing_ok=True)
    star = star if star is not None and star.batches else None
    con = connect_staging(staging, TEXT_ROW_GROUP_SIZE, threads=threads)
    try:
        con.execute("BEGIN TRANSACTION")
        con.execute(ddl_statements())
        if star is not None:
            _register_wanted(con, star)
            loaded_only = _unwanted_left_out(con, star)
            _insert_star_rows(con, star, TEXT_TABLES, loaded_only)
        con.execute("COMMIT")
    finally:
        con.close()
    con = connect_staging(staging, threads=threads)
    try:
        con.execute("BEGIN TRANSACTION")
        if star is not None:
            _register_wanted(con, star)
        for name, frame in tables.items():
            insert_frame(con, name, frame)
        if star is not None:
            _insert_star_rows(con, star, [table for table in NOTICE_TABLES if table not in TEXT_TABLES], loaded_only)
            for table, key in SHARED_DIMENSIONS.items():
                con.execute(f'INSERT INTO "{table}" BY NAME {shared_dimension_rows(star, table, key)}')
        if "dim_date" not in tables:
            insert_frame(con, "dim_date", dim_date({"span": date_span(con)}))
        build_marts(con)
        con.execute("COMMIT")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return staging


def connect_staging(staging: Path, row_group_size: int | None = None, threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """A connection that loads the staging file (created when missing, in STORAGE_COMPATIBILITY), within
    LOAD_MEMORY_LIMIT, each commit checkpointing at once (DIRECT_CHECKPOINT); the row groups it writes have
    `row_group_size` rows (DuckDB's default when None; see TEXT_ROW_GROUP_SIZE); on `threads` threads (None:
    DuckDB's default)."""
    config = {"memory_limit": LOAD_MEMORY_LIMIT, **DIRECT_CHECKPOINT, **({"threads": threads} if threads else {})}
    if row_group_size is None:
        return duckdb.connect(str(staging), config={"storage_compatibility_version": STORAGE_COMPATIBILITY, **config})
    # the row group size is an option of ATTACH only; the file is attached to an in-memory database and used as
    # the default one, its spills go where they go for a connection to the file
    con = duckdb.connect(config={**config, "temp_directory": f"{staging}.tmp"})
    con.execute(f"ATTACH {sql_literal(str(staging))} AS staging "
                f"(STORAGE_VERSION {sql_literal(STORAGE_COMPATIBILITY)}, ROW_GROUP_SIZE {int(row_group_size)})")
    con.execute("USE staging")
    return con


def insert_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    con.register("incoming", frame.to_arrow(compat_level=pl.CompatLevel.newest()))
    con.execute(f'INSERT INTO "{table}" BY NAME SELECT * FROM incoming')
    con.unregister("incoming")


# Notice tables of a few rows holding whole texts (raw_notice: ~85 kB a row). DuckDB writes a table's rows to the
# file as its row groups (122,880 rows) fill, so these rows wait in memory until the commit: they are loaded
# and committed first, in a transaction of their own, so that they do not crowd out (spill to disk) the rows of
# every other table and the marts' joins (at 10,000 notices: ~0.9 GB, with LOAD_MEMORY_LIMIT 1 GB).
TEXT_TABLES = ("raw_notice",)


def _register_wanted(con: duckdb.DuckDBPyConnection, star: StarRows) -> None:
    """Register `wanted` (notice_key, source_name: the notices to load, under the name they are loaded as) on `con`."""
    con.register("wanted", star.notices.select("notice_key", "source_name").to_arrow())


def _unwanted_left_out(con: duckdb.DuckDBPyConnection, star: StarRows) -> str:
    """The WHERE clause that leaves out the notices the batches hold but `wanted` does not (constants, usually
    none): read once from every batch's raw_notice keys, and used by both of create_staging's transactions."""
    unwanted = [row[0] for row in con.execute(
        f"SELECT notice_key FROM {all_parquet(star, 'raw_notice')} "
        "WHERE notice_key NOT IN (SELECT notice_key FROM wanted)"
    ).fetchall()]
    return f" WHERE notice_key NOT IN ({', '.join(sql_literal(key) for key in unwanted)})" if unwanted else ""


def _insert_star_rows(con: duckdb.DuckDBPyConnection, star: StarRows, tables: Sequence[str], loaded_only: str) -> None:
    """Rows of `tables` (notice tables) of the wanted notices only (`loaded_only`, from _unwanted_left_out), each
    notice under its current file name. (A shared dimension keeps, per key, the first row in the order of all
    its columns, as transforms.star.in_published_order does, and only the keys the loaded notices refer to:
    shared_dimension_rows.)

    Rows are stored batch by batch in the order of the files (no sort of the whole corpus): one statement per
    table reads the files of every batch (read_parquet of a list keeps the order of the files and of their
    rows while insertion order is preserved, DuckDB's default), filtered by constants. One statement per
    batch and table instead cost ~400 statements at 10,000 notices, for the same rows in the same order.
    """
    for table in tables:
        con.execute(f'INSERT INTO "{table}" BY NAME SELECT * FROM {all_parquet(star, table)}{loaded_only}')
        use_loaded_names(con, table)


def use_loaded_names(con: duckdb.DuckDBPyConnection, table: str, only: str | None = None) -> None:
    """Rows of `table` (when it has source_name) of a notice loaded under another file name than the one its
    batch was parsed under take the name it is loaded under, from the registered relation `wanted`
    (notice_key, source_name); `only`, a relation of notice_key, limits the update to those notices."""
    if "source_name" not in {row[0] for row in con.execute(f'DESCRIBE "{table}"').fetchall()}:
        return
    limit = f' AND "{table}".notice_key IN (SELECT notice_key FROM {only})' if only else ""
    con.execute(
        f'UPDATE "{table}" SET source_name = wanted.source_name FROM wanted '
        f'WHERE "{table}".notice_key = wanted.notice_key AND "{table}".source_name <> wanted.source_name{limit}'
    )


def shared_dimension_rows(star: StarRows, table: str, key: str) -> str:
    """The SELECT of a shared dimension's published rows from every batch: per key, the first row in the order of
    all its columns (as transforms.star.in_published_order does), only the keys dim_notice refers to."""
    return (f"SELECT DISTINCT ON ({key}) * FROM {all_parquet(star, table)} "
            f"WHERE {key} IN (SELECT {key} FROM dim_notice) ORDER BY ALL NULLS FIRST")


def all_parquet(star: StarRows, table: str) -> str:
    """The `table` files of every batch, read as one relation in batch order (columns matched by name)."""
    files = ", ".join(sql_literal(str(batch / f"{table}.parquet")) for batch in star.batches)
    return f"read_parquet([{files}], union_by_name = true)"


def date_span(con: duckdb.DuckDBPyConnection, exclude: Collection[str] = ()) -> pl.DataFrame:
    """First and last date of every DATE column of the loaded tables but `exclude` (one row, NULLs when there is
    none)."""
    columns = [
        (table, column) for table, column in con.execute(
            "SELECT table_name, column_name FROM duckdb_columns() WHERE data_type = 'DATE' AND NOT internal "
            "AND table_name IN (SELECT table_name FROM duckdb_tables() WHERE NOT temporary)"
        ).fetchall() if table not in exclude
    ]
    bounds = [f'SELECT min("{column}") AS first, max("{column}") AS last FROM "{table}"' for table, column in columns]
    if not bounds:
        return pl.DataFrame({"first": [None], "last": [None]}, schema={"first": pl.Date, "last": pl.Date})
    return pl.from_arrow(con.sql(f"SELECT min(first) AS first, max(last) AS last FROM ({' UNION ALL '.join(bounds)})").to_arrow_table())


def publish(staging: Path, warehouse: Path, built_at: datetime | None = None) -> None:
    """Atomically replace `warehouse` with the complete, validated `staging` file.

    `built_at`, the build time the run wrote into the staging file (refresh_build), is checked first: a run whose
    steps each hold the refresh lock only while they run (ZHENGGAI_EXECUTOR=multiprocess) could otherwise publish a
    file another run staged over its own after its gate passed (StagingNotOurs; nothing is published)."""
    if built_at is not None:
        build = read_table(staging, "refresh_build", columns=["built_at"])
        found = build["built_at"].max() if build is not None else None
        if found != built_at:
            raise StagingNotOurs(f"the staging file {staging} was built at {found}, not by this run (built at "
                                 f"{built_at}): another refresh staged over it; nothing was published")
    with staging.open("rb") as handle:
        os.fsync(handle.fileno())
    replaced = _second_name(warehouse)
    os.replace(staging, warehouse)
    directory = os.open(warehouse.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    if replaced is not None:
        # not a daemon: a process that ends right after still frees the blocks
        threading.Thread(target=replaced.unlink, kwargs={"missing_ok": True}, name="free-replaced-warehouse").start()


def _second_name(warehouse: Path) -> Path | None:
    """A second name (hard link) for the published file about to be replaced, or None when there is none.

    os.replace over the last name of a file frees its blocks before it returns (~0.08 s for the 360 MB of 10,000
    notices on ext4), on the path of every refresh; with a second name the replace is immediate, and publish removes
    that name in the background. One left by a process that died in between is removed by the next publish."""
    second = warehouse.with_name(warehouse.name + ".replaced")
    second.unlink(missing_ok=True)
    try:
        os.link(warehouse, second)
    except OSError:  # no published file yet, or a file system without hard links (the replace frees the blocks)
        return None
    return second


def discard(staging: Path) -> None:
    for path in (staging, staging.with_name(staging.name + ".wal")):
        path.unlink(missing_ok=True)


@contextlib.contextmanager
def refresh_lock(warehouse: Path) -> Iterator[None]:
    """Hold an exclusive lock on `<warehouse>.lock` for the duration of a refresh.

    The lock is an advisory flock, released by the kernel if the process dies, so a killed refresh never
    leaves a stale lock behind.
    """
    lock_path = warehouse.with_name(f"{warehouse.name}.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RefreshInProgress(f"another refresh is running on {warehouse} (lock {lock_path})") from None
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def read_table(
    warehouse: Path, table: str, where: str | None = None, params: list | None = None, columns: Sequence[str] | None = None
) -> pl.DataFrame | None:
    """A table of the published warehouse (its `columns`, default all; its rows matching the SQL condition
    `where`, with `params`), or None when the file or table does not exist."""
    with WarehouseReader(warehouse) as reader:
        return reader.read_table(table, where, params, columns)


class WarehouseReader:
    """The tables of one warehouse file, read over one read-only connection opened by the first read.

    Opening a file (DuckDB reads its catalog), listing its tables and closing it again cost ~27 ms at 10,000
    notices: a step that reads several tables of the published file (the staging step reads five) opens it once.
    Closed by `close` or at the end of a `with` block, before the file is replaced or opened for writing."""

    def __init__(self, warehouse: Path):
        self.path = Path(warehouse)
        self._con: duckdb.DuckDBPyConnection | None = None
        self._tables: frozenset[str] = frozenset()

    def __enter__(self) -> "WarehouseReader":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None

    def connection(self) -> duckdb.DuckDBPyConnection | None:
        """The read-only connection to the file, opened now if it is not yet (None when there is no file)."""
        if self._con is None:
            if not self.path.exists():
                return None
            con = duckdb.connect(str(self.path), read_only=True)
            try:
                self._tables = frozenset(name for (name,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall())
            except BaseException:
                con.close()
                raise
            self._con = con
        return self._con

    def read_table(self, table: str, where: str | None = None, params: list | None = None,
                   columns: Sequence[str] | None = None) -> pl.DataFrame | None:
        """As the module's read_table, from this reader's file."""
        con = self.connection()
        if con is None or table not in self._tables:
            return None
        selected = ", ".join(f'"{column}"' for column in columns) if columns else "*"
        query = f'SELECT {selected} FROM "{table}"' + (f" WHERE {where}" if where else "")
        return pl.from_arrow(con.sql(query, params=params).to_arrow_table())


@contextlib.contextmanager
def reading(warehouse: Path | WarehouseReader) -> Iterator[WarehouseReader]:
    """`warehouse` itself when it is a reader (left open for its owner), else a reader of that file, closed after."""
    if isinstance(warehouse, WarehouseReader):
        yield warehouse
        return
    with WarehouseReader(warehouse) as reader:
        yield reader
