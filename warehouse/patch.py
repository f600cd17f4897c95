"""The staging file of a small change: a copy of the published file with only the difference applied.

A refresh after one edited notice used to rebuild the whole staging file (every Parquet batch of the parse
cache loaded again, every text copied into notice_version, every mart rebuilt: at 10,000 notices ~43 s of
the ~72 s refresh). When the published file was built by the same code (so the same DDL, parser and marts) and
the change is small, the staging file is instead the published file copied (a few tenths of a second for a
1 GB file) and patched in one transaction:

- notice tables (transforms.star NOTICE_TABLES): the rows of removed notices deleted, those of added ones
  inserted from their parse-cache batches exactly as create_staging reads them, renamed ones' source_name
  rewritten (transforms/notice_delta.py says which notices are which);
- shared dimensions (dim_organization, dim_inspection): recomputed whole from every batch, as
  create_staging does (per key, the first row in the order of all columns, only keys dim_notice refers to:
  rows of one organization key can differ between notices, so a new or removed notice can change the row of a
  key other notices refer to), and only the rows that differ are deleted and inserted;
- small whole tables (reference tables, quarantine_notice, source_file, fetch_log, refresh_build, dim_date's
  calendar): replaced entirely;
- notice_version: only the rows that differ, first; a version closed now takes its text where the full build
  takes it (the published version row when it has a text, else the published raw_notice, where it was current;
  a current version stores none: its text is raw_notice's);
- marts: NOTICE_MARTS patched notice by notice, every other mart rebuilt (MART_REASONS).

The result has the same rows as create_staging + versions.load_versions would give from the same inputs
(each table as a multiset: the rows of a patched table may be stored in another order than a full build
stores them; the rebuilt marts keep their sort). It is checked against full builds table by table in
tests/test_patch_staging.py. The published file is only copied, never opened for writing; a crash leaves a
partial staging file that the next refresh removes, as with a full build.

When patching is not possible or not worth it (`cannot_patch`, StagingCopy's reasons) the caller builds
the staging file in full, exactly as before.
"""

import os
import shutil
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from tempfile import TemporaryDirectory

import duckdb
import polars as pl

from transforms.notice_delta import NoticeDelta, is_small_change, notice_delta, version_delta
from transforms.star import NOTICE_TABLES, SHARED_DIMENSIONS, dim_date
from warehouse import build
from warehouse.marts import NOTICE_MARTS, Mart, insert_notice_rows, marts, notice_rows_only, rebuilt_after_notice_marts
from warehouse.schema import quoted_identifier, sql_literal
from warehouse.summary import table_rows_of
from warehouse.store import (
    STORAGE_COMPATIBILITY,
    StarRows,
    WarehouseReader,
    all_parquet,
    connect_staging,
    date_span,
    discard,
    insert_frame,
    reading,
    shared_dimension_rows,
    staging_path,
    use_loaded_names,
)
from warehouse.versions import VERSION_COLUMNS, insert_versions

# Set to 0 to build every staging file in full (the path every refresh took before patching existed).
PATCH_SWITCH = "ZHENGGAI_PATCH_STAGING"
# A change of more than this share of the notices is built in full. Changed notices count added, removed and
# renamed ones, so an edited file counts twice (its old version removed, its new one added). The patch's cost
# grows with the changed notices (their rows read from Parquet, deleted from tables of millions of rows, every
# per-notice mart patched) while a full build's does not, and each patch leaves deleted rows and free blocks
# behind; a full build writes a compact file. Measured at 10,000 notices on a busy 2-core machine: the staging
# step took 6.6 s patched for one edited file, 8.6 s patched for 500 edited files (1,000 changed notices, this
# threshold; 3 % of the blocks free afterwards) and 54-79 s in full. So 10 % is conservative on time; it is kept
# so that a large change (a new source's whole corpus) is written compactly rather than as a patch.
MAX_CHANGED_SHARE = 0.10
# ... but up to this many changed notices are always patched: on a small warehouse a few notices are a large
# share, and a patch costs little whatever the share.
ALWAYS_PATCH_UP_TO = 100
# The published file is built in full (so rewritten compactly) when more than this share of its blocks, and more
# than this many bytes, are free: a copy keeps the free blocks of the file it copies, and every patch leaves some
# (rebuilt marts, rewritten row groups), so without a full build now and then the file would only grow. A small
# file is mostly free blocks after any patch (each table takes whole 256 kB blocks) and costs nothing to copy.
MAX_FREE_BLOCK_SHARE = 0.25
MIN_FREE_BYTES_TO_COMPACT = 64 * 1024 * 1024

@dataclass(frozen=True)
class StagedWarehouse:
    """The staging file awaiting the gate, and which notices a patch wrote.

    changed_notice_keys: None for a staging file built in full (validate everything); for a patched one, the
    notices whose rows the patch wrote or deleted, sorted: added, renamed and removed notices (a removed one
    has no rows left, but unchanged rows that referred to it must be checked again), and those referring to a
    shared-dimension row that changed (their mart rows were rewritten). This is what the gate's delta mode
    (expectations/gate.py run_gate) validates; whole tables that were replaced or rebuilt (dimensions, small
    tables, marts of MART_REASONS) are not notice rows and are validated whole there.
    """

    path: Path
    changed_notice_keys: tuple[str, ...] | None = None
    built_at: datetime | None = None  # the build time written into the file (refresh_build), checked at publish
    # rows per table (warehouse.summary.table_rows), when the step that wrote the file counted them: the run's
    # metadata for the staging file and, once it is published under the warehouse's name, for the warehouse
    rows: Mapping[str, int] | None = None


@dataclass(frozen=True)
class PatchOutcome:
    """What StagingCopy.patch did: the staging file (None when the caller must build in full) and why."""

    staged: StagedWarehouse | None
    reason: str
    free_block_share: float | None = None  # of the patched staging file


def cannot_patch(warehouse: Path | WarehouseReader) -> str | None:
    """Why the staging file of `warehouse` (the file, or a reader of it) cannot be a patched copy of it, or None when
    it can."""
    if _switched_off():
        return f"patching switched off ({PATCH_SWITCH})"
    with reading(warehouse) as published:
        return _cannot_patch(published)


def _switched_off() -> bool:
    return os.environ.get(PATCH_SWITCH, "1").strip().lower() in {"0", "false", "no", "off"}


def _cannot_patch(published: WarehouseReader) -> str | None:
    warehouse = published.path
    if not warehouse.exists():
        return "no published warehouse"
    if warehouse.with_name(warehouse.name + ".wal").exists():
        # a copy of the file alone would miss what the log holds (a published file is checkpointed; this one
        # was written to since)
        return "the published file has a write-ahead log beside it"
    build_row = build.published_build(published)
    if build_row is None:
        return "the published file has no build record"
    # the code digest covers the parser (every file of transforms/ and the parsing libraries: parse_cache's
    # parser_version), the DDL, the marts and this module; read through the module, as is_unchanged reads it
    if build_row["code_digest"] != build.code_digest():
        return (f"the published file was built by other code ({build_row['code_digest']}, now {build.code_digest()}): "
                "its parser, tables or marts may differ")
    storage, free_share, free_bytes = _storage_of(published.connection())
    if storage != expected_storage_version():
        return f"the published file's storage version is {storage}, not {expected_storage_version()}"
    if free_share > MAX_FREE_BLOCK_SHARE and free_bytes > MIN_FREE_BYTES_TO_COMPACT:
        return (f"{free_share:.0%} of the published file's blocks ({free_bytes / 2**20:.0f} MiB) are free: "
                "built in full to compact it")
    return None


class StagingCopy:
    """A patch begun as soon as the notices to load (`star`) are known: the published file `warehouse` (the file, or a
    reader of it) copied to the staging path by a thread of its own, then whether it can be patched for them (`reason`
    says why not) and, when it can, the copy written to disk by the same thread. The staging step prepares the rest
    (the small tables, the versions) meanwhile: the copy (~0.1 s for the 360 MB of 10,000 notices) was on its path.
    `patch` applies the difference to the copy; leaving the `with` block without a patch removes the copy.

    The copy starts before the checks, which take ~0.05-0.1 s: a copy that cannot be patched (another build's code, a
    large change: built in full anyway, in ~1 minute at 10,000 notices) is removed unsynced. Its bytes are synced as
    soon as it is known to be patched, while the patch's statements run: left in the page cache, they were written by
    the fdatasync of the patch's checkpoint, which waited ~0.17 s for them (fdatasync releases the GIL; DuckDB writes
    through its own descriptor, which the sync does not disturb)."""

    def __init__(self, warehouse: Path | WarehouseReader, star: StarRows):
        self.star = star
        self.delta: NoticeDelta | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._patched = False
        with reading(warehouse) as published:
            self.staging = staging_path(published.path)
            if published.path.exists() and not _switched_off():
                discard(self.staging)
                self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="zhenggai-staging-copy")
                self._copied = self._pool.submit(shutil.copyfile, published.path, self.staging)
            try:
                self.reason = self._why_not(published)
            except BaseException:
                self.close()  # (no `with` block will)
                raise
        if self.reason is None:
            self._synced = self._pool.submit(_sync, self.staging)  # (one thread: after the copy)

    def _why_not(self, published: WarehouseReader) -> str | None:
        reason = cannot_patch(published)
        if reason is not None:
            return reason
        notices = published.read_table("raw_notice", columns=("notice_key", "source_name"))
        self.delta = notice_delta(notices, self.star.notices)
        if not is_small_change(self.delta.changed, notices.height, self.delta.loaded, MAX_CHANGED_SHARE, ALWAYS_PATCH_UP_TO):
            return (f"{self.delta.changed} of {max(notices.height, self.delta.loaded)} notices changed "
                    f"(patched up to {ALWAYS_PATCH_UP_TO} or {MAX_CHANGED_SHARE:.0%})")
        return None

    def __enter__(self) -> "StagingCopy":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        """Wait for the copy's thread; remove the copy unless a patch made it the staging file."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
            if not self._patched:
                discard(self.staging)

    def patch(self, tables: Mapping[str, pl.DataFrame], versions: pl.DataFrame,
              published_versions: pl.DataFrame | None) -> PatchOutcome:
        """The copy patched with what create_staging and versions.load_versions take for `star`: the whole `tables`
        (small tables, replaced) and `versions` (transforms.lineage.update_versions, no raw_text), with the
        `published_versions` they were updated from (versions.previous_versions of the published file); `staged` is
        None when it cannot be (`reason`)."""
        if self.reason is not None:
            return PatchOutcome(None, self.reason)
        if published_versions is None:
            return PatchOutcome(None, "the published file has no notice_version")
        to_insert, to_delete = version_delta(published_versions.select(VERSION_COLUMNS), versions.select(VERSION_COLUMNS))
        staging, star, delta = self.staging, self.star, self.delta
        self._copied.result()
        con = connect_staging(staging)
        try:
            con.execute("BEGIN TRANSACTION")
            # fetched to the end: register() refuses a connection whose last result is still pending
            ((database,),) = con.execute("SELECT current_database()").fetchall()
            _patch_versions(con, database, to_insert, to_delete)  # first: a closed version's text is read from raw_notice
            touched = _patch_notice_tables(con, star, delta)
            touched |= _patch_shared_dimensions(con, star)
            _replace_tables(con, tables)
            _patch_marts(con, database, touched)
            con.execute("COMMIT")
            con.execute("CHECKPOINT")
            # read on this connection: opening the patched file again to read them cost ~0.2 s at 10,000 notices
            storage, free_share, _ = _storage_of(con)
            rows = table_rows_of(con)
        finally:
            con.close()
        self._synced.result()
        if storage != expected_storage_version():
            raise RuntimeError(f"patching changed the storage version of {staging} to {storage}")
        self._patched = True
        return PatchOutcome(
            StagedWarehouse(staging, tuple(sorted(touched)), rows=rows),
            f"patched the published file: {delta.added.len()} notice(s) added, {delta.removed.len()} removed, "
            f"{delta.renamed.height} renamed; {len(to_insert)} version row(s) added, {len(to_delete)} removed",
            free_share,
        )


def _sync(path: Path) -> None:
    with path.open("rb") as handle:
        os.fdatasync(handle.fileno())


def _patch_notice_tables(con: duckdb.DuckDBPyConnection, star: StarRows, delta: NoticeDelta) -> set[str]:
    """Delete the removed notices' rows, insert the added ones' (from the batches that hold them, with the
    rows of every such batch as create_staging reads them), set the current file name; return the keys whose
    mart rows must be rewritten."""
    rewritten = delta.rewritten_keys()
    con.register("removed_notices", pl.DataFrame({"notice_key": delta.removed}, schema={"notice_key": pl.String}).to_arrow())
    con.register("added_notices", pl.DataFrame({"notice_key": delta.added}, schema={"notice_key": pl.String}).to_arrow())
    con.register("rewritten_notices", pl.DataFrame({"notice_key": rewritten}, schema={"notice_key": pl.String}).to_arrow())
    con.register("wanted", star.notices.select("notice_key", "source_name").to_arrow())
    holding = _batches_holding(con, star, delta.added)
    for table in NOTICE_TABLES:
        if delta.removed.len():
            con.execute(f'DELETE FROM "{table}" WHERE notice_key IN (SELECT notice_key FROM removed_notices)')
        if holding.batches:
            con.execute(
                f'INSERT INTO "{table}" BY NAME SELECT * FROM {all_parquet(holding, table)} '
                "WHERE notice_key IN (SELECT notice_key FROM added_notices)"
            )
        if rewritten:
            use_loaded_names(con, table, only="rewritten_notices")
    return set(rewritten) | set(delta.removed.to_list())


def _batches_holding(con: duckdb.DuckDBPyConnection, star: StarRows, keys: pl.Series) -> StarRows:
    """The batches of `star` that hold rows of `keys`, in their order (reading only those is what makes the
    patch cheap: create_staging reads every batch)."""
    if not keys.len() or not star.batches:
        return StarRows([], star.notices)
    files = con.execute(
        f"SELECT DISTINCT filename FROM read_parquet([{', '.join(sql_literal(str(b / 'raw_notice.parquet')) for b in star.batches)}], "
        "filename = true) WHERE notice_key IN (SELECT notice_key FROM added_notices)"
    ).fetchall()
    holding = {Path(row[0]).parent for row in files}
    return StarRows([batch for batch in star.batches if batch in holding], star.notices)


def _patch_shared_dimensions(con: duckdb.DuckDBPyConnection, star: StarRows) -> set[str]:
    """Recompute each shared dimension whole as create_staging does and apply only the rows that differ;
    return the notices referring to a key whose row changed (their mart rows are rewritten)."""
    touched: set[str] = set()
    for table, key in SHARED_DIMENSIONS.items():
        con.execute(f'CREATE TEMP TABLE "fresh_{table}" AS SELECT * FROM "{table}" LIMIT 0')
        if star.batches:
            con.execute(f'INSERT INTO "fresh_{table}" BY NAME {shared_dimension_rows(star, table, key)}')
        con.execute(f'CREATE TEMP TABLE "gone_{table}" AS SELECT * FROM "{table}" EXCEPT ALL SELECT * FROM "fresh_{table}"')
        con.execute(f'CREATE TEMP TABLE "new_{table}" AS SELECT * FROM "fresh_{table}" EXCEPT ALL SELECT * FROM "{table}"')
        columns = [row[0] for row in con.execute(f'DESCRIBE "{table}"').fetchall()]
        same_row = " AND ".join(f'"{table}"."{c}" IS NOT DISTINCT FROM gone."{c}"' for c in columns)
        con.execute(f'DELETE FROM "{table}" USING "gone_{table}" AS gone WHERE {same_row}')
        con.execute(f'INSERT INTO "{table}" BY NAME SELECT * FROM "new_{table}"')
        touched |= {row[0] for row in con.execute(
            f"SELECT notice_key FROM dim_notice WHERE {key} IN "
            f'(SELECT {key} FROM "gone_{table}" UNION SELECT {key} FROM "new_{table}")'
        ).fetchall()}
        for temp in ("fresh", "gone", "new"):
            con.execute(f'DROP TABLE "{temp}_{table}"')
    return touched


def _replace_tables(con: duckdb.DuckDBPyConnection, tables: Mapping[str, pl.DataFrame]) -> None:
    """The small whole tables replaced; dim_date (unless given) recomputed as create_staging computes it: over
    the DATE columns of the loaded tables (not the marts, not the calendar itself)."""
    for name, frame in tables.items():
        con.execute(f'DELETE FROM "{name}"')
        insert_frame(con, name, frame)
    if "dim_date" not in tables:
        con.execute("DELETE FROM dim_date")
        # as create_staging, which computes the calendar before notice_version and the marts are filled
        insert_frame(con, "dim_date", dim_date({"span": date_span(con, exclude={"dim_date", "notice_version", *marts()})}))


def _patch_versions(
    con: duckdb.DuckDBPyConnection, database: str, to_insert: pl.DataFrame, to_delete: pl.DataFrame
) -> None:
    """Insert the new version rows as load_versions does (versions.insert_versions), the file being patched (`database`,
    the catalog of `con`) standing for the published one whose copy it is, then delete the rows that are gone (among them the open rows just closed).
    Runs before the notice tables are patched: the text of a version closed now is still in raw_notice."""
    if to_insert.height:
        insert_versions(con, to_insert, database)
    if to_delete.height:
        con.register("version_deletes", to_delete.select(VERSION_COLUMNS).to_arrow())
        same_row = " AND ".join(f'notice_version."{c}" IS NOT DISTINCT FROM gone."{c}"' for c in VERSION_COLUMNS)
        con.execute(f"DELETE FROM notice_version USING version_deletes AS gone WHERE {same_row}")


def _patch_marts(con: duckdb.DuckDBPyConnection, database: str, touched: set[str]) -> None:
    """Every mart of `database` (the catalog of `con`): NOTICE_MARTS patched for the `touched` notices, the others
    dropped and built again with their comments.

    The per-notice marts are patched in script order (a mart may read an earlier one) within one notice_rows_only:
    every notice table, and every per-notice mart patched before, shadowed by a temporary view of the touched notices'
    rows only, so that a mart's aggregates read a few rows instead of millions (at 10,000 notices 0.5 s for the four
    marts instead of ~5 s with the filter on the result alone, which DuckDB cannot push through their GROUP BYs on
    issue_key). The rebuilt marts scripted before the first per-notice mart are built before them, the others after
    them, in script order (marts() checks that no per-notice mart reads those): one set of views for all the
    per-notice marts."""
    every = marts()
    late = rebuilt_after_notice_marts(list(every))
    for name, mart in every.items():
        if name not in NOTICE_MARTS and name not in late:
            _rebuild_mart(con, name, mart)
    if touched:
        con.register("touched_notices", pl.DataFrame({"notice_key": sorted(touched)}, schema={"notice_key": pl.String}).to_arrow())
        notices = "notice_key IN (SELECT notice_key FROM touched_notices)"
        catalog = quoted_identifier(database)
        with notice_rows_only(con, database, notices, NOTICE_TABLES) as shadow:
            for name, mart in every.items():
                if name in NOTICE_MARTS:
                    con.execute(f'DELETE FROM {catalog}.main."{name}" WHERE {notices}')
                    insert_notice_rows(con, database, name, mart.query, notices)
                    shadow(name)  # for a later mart that reads it
    for name in late:
        _rebuild_mart(con, name, every[name])


def _rebuild_mart(con: duckdb.DuckDBPyConnection, name: str, mart: Mart) -> None:
    con.execute(f'DROP TABLE "{name}"')
    for statement in mart.statements:
        con.execute(statement)


def _storage_of(con: duckdb.DuckDBPyConnection) -> tuple[str | None, float, int]:
    """The storage version of the database `con` uses, the share of its blocks that are free and their bytes (the
    results fetched to the end: the connection reads on)."""
    ((tags,),) = con.execute("SELECT tags FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
    ((total, free, block),) = con.execute("SELECT total_blocks, free_blocks, block_size FROM pragma_database_size() "
                                          "WHERE database_name = current_database()").fetchall()
    return (tags or {}).get("storage_version"), (free / total if total else 0.0), free * block


@cache
def expected_storage_version() -> str | None:
    """The storage version create_staging writes (STORAGE_COMPATIBILITY), as DuckDB reports it."""
    with TemporaryDirectory() as folder:
        probe = Path(folder) / "probe.duckdb"
        duckdb.connect(str(probe), config={"storage_compatibility_version": STORAGE_COMPATIBILITY}).close()
        with WarehouseReader(probe) as reader:
            return _storage_of(reader.connection())[0]

