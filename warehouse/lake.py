"""The published warehouse mirrored into a lake catalog (DuckLake: Parquet files, catalog in PostgreSQL), one
snapshot per published build.

`mirror` makes every table and view of the published DuckDB file the same in an attached catalog, in ONE
transaction: on DuckLake that is one snapshot, so a reader of the lake sees the previous build whole until the
commit, and the previous builds stay readable (`AT (VERSION => n)`), as `os.replace` gives readers of the file.
Only what differs is written, so a night that changes a few notices adds a few small Parquet files, not a copy:

- a table with a notice_key column: the keys whose rows differ (each key's rows compared as a multiset, by a
  fingerprint: `_fingerprints`) have their rows deleted from the lake and inserted from the warehouse; the rows of
  every other key are the same in both, so the lake table ends up with the warehouse's rows;
- any other table (dimensions, reference tables, build records): replaced whole when its rows differ;
- a table whose columns differ (a new code version changed the schema), or that the lake lacks: created anew;
  a table the warehouse no longer has: dropped;
- views: those whose definition differs created again from the warehouse's own SQL (they name tables unqualified,
  and resolve in the lake the same way), those it no longer has dropped.

The lake's side of each comparison is read from the fingerprints the mirror stored in the lake when it wrote the
table (STORED_FINGERPRINTS, a schema of its own beside main, written in the same transaction), not from the lake's
rows: on object storage, fingerprinting the lake's tables meant downloading the whole lake every night. A table
without stored fingerprints (a lake mirrored before they existed) is fingerprinted from its rows, once. The stored
fingerprints are only as true as the lake is the mirror's alone: a write into the lake's main schema by anything else
goes unseen until `check` (which compares rows) finds it, and a mirror with `refingerprint=True` reads the rows again.

The same SQL runs against any attached DuckDB catalog: the tests mirror into a DuckDB file with the project's
DuckDB; `python -m warehouse.lake` mirrors into DuckLake (or a DuckDB file), which needs the DuckDB of the lake environment
(requirements-lake.lock: the project's DuckDB 2.0.1 has no DuckLake extension that installs without the network,
while DuckDB 1.5.5 has it, and the PostgreSQL scanner, as PyPI packages). DuckDB 1.5.5 reads the published file
because the warehouse writes it with storage_compatibility_version v1.4.0 (warehouse/store.py).

Imports only DuckDB, the standard library, warehouse.schema and warehouse.compare (which import nothing else), so
that it runs in that small environment.
"""

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

import duckdb

from warehouse.compare import compare_catalogs, table_columns
from warehouse.schema import quoted_identifier, sql_literal

NOTICE_KEY = "notice_key"
PROJECT_ROOT = Path(__file__).resolve().parent.parent  # where `python -m warehouse.lake` finds this package
# The extensions a DuckLake on PostgreSQL with its files on object storage needs, and the PyPI package that carries
# each one's binary (duckdb-extension-<name>, by santosh-d3vpl3x: the binaries signed by DuckDB, for one DuckDB version)
LAKE_EXTENSIONS = {"ducklake": "duckdb_extension_ducklake", "postgres_scanner": "duckdb_extension_postgres_scanner"}
OBJECT_STORAGE_EXTENSIONS = {"httpfs": "duckdb_extension_httpfs"}


@dataclass(frozen=True)
class TableMirror:
    """What `mirror` did to one table: `action` is created, replaced, patched, unchanged or dropped; `keys` the
    notice keys whose rows were rewritten (patched), `deleted` and `inserted` rows written in the lake."""

    table: str
    action: str
    rows: int = 0
    keys: int = 0
    deleted: int = 0
    inserted: int = 0


@dataclass(frozen=True)
class MirrorReport:
    tables: list[TableMirror]
    views: list[str]  # the views created (new, or their definition changed)
    seconds: float

    @property
    def changed(self) -> list[TableMirror]:
        return [table for table in self.tables if table.action != "unchanged"]


def mirror(con: duckdb.DuckDBPyConnection, source: str, lake: str, refingerprint: bool = False) -> MirrorReport:
    """Make the main schema of the attached catalog `lake` hold the tables and views of the attached catalog
    `source` (the published warehouse, attached read-only), in one transaction (rolled back on any error).
    `refingerprint`: compare with the lake's rows rather than with the fingerprints stored at the last mirror."""
    started = time.perf_counter()
    source_tables, lake_tables = table_columns(con, source), table_columns(con, lake)
    default_catalog = con.execute("SELECT current_database()").fetchone()[0]
    con.execute("BEGIN TRANSACTION")
    try:
        stored = _stored_fingerprints(con, lake)
        if refingerprint:
            con.execute(f"DELETE FROM {stored}")
        # read once: on object storage each read of the lake's table is a download; written back once, at the end
        con.execute(f"CREATE OR REPLACE TEMP TABLE lake_stored_fingerprints AS SELECT * FROM {stored}")
        known = {row[0] for row in con.execute("SELECT table_name FROM lake_stored_fingerprints WHERE whole").fetchall()}
        for changes in ("lake_fingerprints_out", "lake_fingerprints_in"):
            con.execute(f"CREATE OR REPLACE TEMP TABLE {changes} AS FROM lake_stored_fingerprints LIMIT 0")
        # first, since a table of the source may take the name of one of them
        for view in sorted(_views(con, lake).keys() - _views(con, source).keys()):
            con.execute(f"DROP VIEW {_name(lake, view)}")
        tables = [_mirror_table(con, source, lake, table, columns, lake_tables.get(table), table in known)
                  for table, columns in sorted(source_tables.items())]
        for table in sorted(lake_tables.keys() - source_tables.keys()):
            con.execute(f"DROP TABLE {_name(lake, table)}")
            con.execute("INSERT INTO lake_fingerprints_out FROM lake_stored_fingerprints WHERE table_name = ?", [table])
            tables.append(TableMirror(table, "dropped"))
        _write_fingerprints(con, stored)
        views = _copy_views(con, source, lake)
        con.execute("COMMIT")
    except BaseException:
        try:
            con.execute("ROLLBACK")
        except duckdb.Error:  # a failed COMMIT has ended the transaction already: its own error is the one to show
            pass
        raise
    finally:
        con.execute(f"USE {quoted_identifier(default_catalog)}")  # (_copy_views leaves the lake the default)
    return MirrorReport(tables, views, round(time.perf_counter() - started, 3))


def _mirror_table(con, source: str, lake: str, table: str, columns: list[tuple[str, str]],
                  lake_columns: list[tuple[str, str]] | None, known: bool) -> TableMirror:
    """One table made the same in the lake, its stored fingerprints made the warehouse's (`_store_fingerprints`).
    `known`: the lake has stored fingerprints of the table (else its rows are fingerprinted). The row counts reported
    come with the fingerprints (their first part): nothing is scanned again to count."""
    ours, theirs = _name(source, table), _name(lake, table)
    keyed = NOTICE_KEY in {name for name, _ in columns}
    # the warehouse's fingerprints: per notice key, or (notice_key NULL, whole) for a table without the column
    con.execute(f"CREATE OR REPLACE TEMP TABLE lake_our_fingerprints AS {_fingerprints(ours, columns, keyed)}")
    rows = con.execute("SELECT coalesce(sum(row_count), 0) FROM lake_our_fingerprints").fetchone()[0]
    if lake_columns != columns:
        con.execute(f"CREATE OR REPLACE TABLE {theirs} AS SELECT * FROM {ours}")
        _store_fingerprints(con, table, keyed, changed_only=False)
        return TableMirror(table, "created", rows=rows, inserted=rows)
    theirs_fingerprints = (
        "SELECT notice_key, row_count, row_hash FROM lake_stored_fingerprints "
        f"WHERE table_name = {sql_literal(table)} AND whole = {str(not keyed).lower()}"
        if known else _fingerprints(theirs, columns, keyed))
    # per fingerprint that differs (a notice key's, or the whole table's): its rows on each side (0 where a side lacks it)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE lake_changed_keys AS SELECT coalesce(o.notice_key, l.notice_key) AS notice_key, "
        "coalesce(o.row_count, 0) AS our_rows, coalesce(l.row_count, 0) AS lake_rows "
        f"FROM lake_our_fingerprints AS o FULL JOIN ({theirs_fingerprints}) AS l "
        "ON o.notice_key IS NOT DISTINCT FROM l.notice_key "
        "WHERE o.row_count IS DISTINCT FROM l.row_count OR o.row_hash IS DISTINCT FROM l.row_hash"
    )
    keys, inserted, deleted = con.execute(
        "SELECT count(*), coalesce(sum(our_rows), 0), coalesce(sum(lake_rows), 0) FROM lake_changed_keys").fetchone()
    if not keys:
        if not known:
            _store_fingerprints(con, table, keyed, changed_only=False)
        return TableMirror(table, "unchanged", rows=rows)
    if not keyed:
        con.execute(f"DELETE FROM {theirs}")
        con.execute(f"INSERT INTO {theirs} BY NAME SELECT * FROM {ours}")
        _store_fingerprints(con, table, keyed, changed_only=False)
        return TableMirror(table, "replaced", rows=rows, deleted=deleted, inserted=inserted)
    changed = _in_changed_keys(quoted_identifier(NOTICE_KEY))
    con.execute(f"DELETE FROM {theirs} WHERE {changed}")
    con.execute(f"INSERT INTO {theirs} BY NAME SELECT * FROM {ours} WHERE {changed}")
    _store_fingerprints(con, table, keyed, changed_only=known)
    return TableMirror(table, "patched", rows=rows, keys=keys, deleted=deleted, inserted=inserted)


# Where the mirror keeps, in the lake, the fingerprints of what it wrote: per table, one row for the whole table
# (whole: its marker, and its only fingerprint when it has no notice_key) and, for a table with notice_key, one per key
STORED_FINGERPRINTS = ("zhenggai_mirror", "fingerprint")


def _stored_fingerprints(con, lake: str) -> str:
    """The lake's table of stored fingerprints, made when missing (in the mirror's transaction)."""
    schema, table = (quoted_identifier(name) for name in STORED_FINGERPRINTS)
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {quoted_identifier(lake)}.{schema}")
    relation = f"{quoted_identifier(lake)}.{schema}.{table}"
    # the hash sum as text: DuckLake stores its tables as Parquet, which has no 128-bit integer
    con.execute(f"CREATE TABLE IF NOT EXISTS {relation} (table_name VARCHAR, whole BOOLEAN, notice_key VARCHAR, "
                "row_count BIGINT, row_hash VARCHAR)")
    return relation


def _store_fingerprints(con, table: str, keyed: bool, changed_only: bool) -> None:
    """Have `_write_fingerprints` make the stored fingerprints of `table` lake_our_fingerprints: all of them, or
    (`changed_only`) those of the keys of lake_changed_keys, and the whole table's marker."""
    name = sql_literal(table)
    if changed_only:
        con.execute(f"INSERT INTO lake_fingerprints_out FROM lake_stored_fingerprints WHERE table_name = {name} AND "
                    f"(whole OR {_in_changed_keys('notice_key')})")
        mine = f"SELECT * FROM lake_our_fingerprints WHERE {_in_changed_keys('notice_key')}"
    else:
        con.execute(f"INSERT INTO lake_fingerprints_out FROM lake_stored_fingerprints WHERE table_name = {name}")
        mine = "SELECT * FROM lake_our_fingerprints"
    if keyed:
        con.execute(f"INSERT INTO lake_fingerprints_in SELECT {name}, false, notice_key, row_count, row_hash FROM ({mine})")
    # the whole table's: its marker, and its fingerprint (summed, what every key's fingerprint sums to); an empty
    # table's hash stays NULL, as its fingerprint has it
    con.execute(f"INSERT INTO lake_fingerprints_in SELECT {name}, true, NULL, coalesce(sum(row_count), 0), "
                "CAST(sum(CAST(row_hash AS HUGEINT)) AS VARCHAR) FROM lake_our_fingerprints")


def _in_changed_keys(column: str) -> str:
    """SQL: `column` is one of lake_changed_keys' notice keys, NULL included (IN alone never holds for NULL)."""
    return (f"({column} IN (SELECT notice_key FROM lake_changed_keys WHERE notice_key IS NOT NULL) OR "
            f"({column} IS NULL AND EXISTS (SELECT 1 FROM lake_changed_keys WHERE notice_key IS NULL)))")


def _write_fingerprints(con, stored: str) -> None:
    """The fingerprints that changed, out of `stored` and into it, by one DELETE and one INSERT for the whole mirror:
    on DuckLake each write of a table adds files, and a night that changes a few notices changes the fingerprints of
    most tables."""
    if con.execute("SELECT count(*) FROM lake_fingerprints_out").fetchone()[0]:
        con.execute(f"DELETE FROM {stored} AS s WHERE EXISTS (SELECT 1 FROM lake_fingerprints_out AS o WHERE "
                    "o.table_name = s.table_name AND o.whole = s.whole AND o.notice_key IS NOT DISTINCT FROM s.notice_key)")
    con.execute(f"INSERT INTO {stored} SELECT * FROM lake_fingerprints_in")


# A multiset of rows summed up as (row count, sum of the rows' 64-bit hashes): equal multisets give equal
# fingerprints; unequal ones give equal fingerprints with a chance of ~2^-64, but for what hash() does not tell apart:
# DuckDB hashes a NULL list like an empty one, a NULL struct like a struct of NULLs, [[1],[2]] like [[1,2]]. So the
# nested columns (LIST, STRUCT, MAP, ARRAY, UNION) are hashed with their text as well, which tells those apart.
# Cheaper than comparing the rows (EXCEPT ALL holds every row of a side in a hash table: at 10,000 notices the mirror
# of one changed notice took 42 s and 4.9 GB that way): one streaming aggregate a side, a few bytes per notice. Both
# sides are hashed by the same DuckDB in the same statement, and have the same columns (checked before), so equal
# rows hash alike. (-0.0 and 0.0 hash alike, and compare equal in EXCEPT ALL too: a sign change of a zero is not
# mirrored.)
_ROW = "mirrored_row"  # the row, as its table's alias (a struct of every column), named so no column can shadow it
_NESTED_TYPES = ("[", "STRUCT", "MAP", "UNION")


def _row_hash(columns: list[tuple[str, str]]) -> str:
    nested = [f"CAST({_ROW}.{quoted_identifier(name)} AS VARCHAR)" for name, data_type in columns
              if any(marker in data_type.upper() for marker in _NESTED_TYPES)]
    return f"hash({', '.join([_ROW, *nested])})"


def _fingerprints(relation: str, columns: list[tuple[str, str]], keyed: bool) -> str:
    """SELECT of (notice_key, row_count, row_hash): per notice key when `keyed`, else one row (notice_key NULL) for
    the whole relation; row_hash as the decimal text of the sum, as it is stored."""
    key = f"{_ROW}.{quoted_identifier(NOTICE_KEY)}" if keyed else "NULL::VARCHAR"
    return (f"SELECT {key} AS notice_key, count(*) AS row_count, "
            f"CAST(sum({_row_hash(columns)}::HUGEINT) AS VARCHAR) AS row_hash "
            f"FROM {relation} AS {_ROW}" + (f" GROUP BY {key}" if keyed else ""))


def _copy_views(con, source: str, lake: str) -> list[str]:
    """The lake's views made those of the source: the ones whose definition differs or is missing created again
    (their SQL names tables unqualified, so it runs with the lake as the default catalog: `mirror` sets the
    default back).
    Views bind when queried, so a table replaced under one needs no new view. Returns the views (re)created."""
    ours, theirs = _views(con, source), _views(con, lake)  # (the lake's views the source lacks: dropped by mirror)
    written = [view for view, sql in ours.items() if theirs.get(view) != sql]
    con.execute(f"USE {quoted_identifier(lake)}")
    for view in written:
        if view in theirs:
            con.execute(f"DROP VIEW {quoted_identifier(view)}")
        con.execute(ours[view])
    return written


def _views(con, database: str) -> dict[str, str]:
    """The SQL of every view of `database`'s main schema, by name, in the order they were made."""
    return dict(con.execute(
        "SELECT view_name, sql FROM duckdb_views() WHERE database_name = ? AND schema_name = 'main' AND NOT internal "
        "ORDER BY view_oid", [database]).fetchall())


def _name(database: str, table: str) -> str:
    return f"{quoted_identifier(database)}.main.{quoted_identifier(table)}"


# --------------------------------------------------------------------------------------------------------
# DuckLake


DUCKLAKE_PREFIX = "ducklake:"


def load_lake_extensions(con: duckdb.DuckDBPyConnection, data_path: str | None = None) -> None:
    """Load DuckLake and the PostgreSQL scanner, and object storage (`use_object_storage`) when the lake may use it:
    its data path is a URL, or credentials for a store are configured (reading a lake, whose data path its catalog
    holds). Otherwise httpfs is not loaded, so a lake in a folder needs neither its package nor the network."""
    _load_extensions(con, LAKE_EXTENSIONS)
    if _is_url(data_path) or object_storage_secret(os.environ) is not None:
        use_object_storage(con)


def _is_url(location: str | None) -> bool:
    """A location on object storage (s3://…, gs://…), not a folder."""
    return "://" in (location or "")


def use_object_storage(con: duckdb.DuckDBPyConnection, environ: Mapping[str, str] = os.environ) -> None:
    """Let `con` read and write `s3://` paths: the httpfs extension loaded, and the credentials and endpoint of
    `object_storage_secret(environ)` when it gives any."""
    _load_extensions(con, OBJECT_STORAGE_EXTENSIONS)
    secret = object_storage_secret(environ)
    if secret is not None:
        con.execute(secret)


def _load_extensions(con: duckdb.DuckDBPyConnection, extensions: Mapping[str, str]) -> None:
    """Each extension from its PyPI package when installed (for this DuckDB version), else from DuckDB's extension
    repository (which needs the network)."""
    for extension, package in extensions.items():
        spec = importlib.util.find_spec(package)
        binary = None if spec is None or spec.origin is None else \
            Path(spec.origin).parent / "extensions" / f"v{duckdb.__version__}" / f"{extension}.duckdb_extension"
        if binary is not None and binary.is_file():
            con.execute(f"LOAD {sql_literal(str(binary))}")
        else:
            con.execute(f"INSTALL {extension}")
            con.execute(f"LOAD {extension}")


# The variables object_storage_secret reads
OBJECT_STORAGE_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION",
                            "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")


def object_storage_secret(environ: Mapping[str, str]) -> str | None:
    """The DuckDB secret (CREATE SECRET) through which httpfs reaches an S3-compatible store, from the variables AWS's
    own tools read (these alone: a profile, ~/.aws and an instance's role are not read): AWS_ACCESS_KEY_ID and
    AWS_SECRET_ACCESS_KEY (with AWS_SESSION_TOKEN for temporary credentials), AWS_REGION or AWS_DEFAULT_REGION, and,
    for a store other than AWS S3 (MinIO, Cloudflare R2, Ceph, a server on loopback), AWS_ENDPOINT_URL_S3 or
    AWS_ENDPOINT_URL: its host and port, TLS as its scheme says, and path-style URLs (bucket in the path, which every
    such store serves). None without a key: DuckDB then reaches public buckets only."""
    key, secret = environ.get("AWS_ACCESS_KEY_ID"), environ.get("AWS_SECRET_ACCESS_KEY")
    if not key or not secret:
        return None
    options = {"TYPE": "s3", "KEY_ID": key, "SECRET": secret}
    if environ.get("AWS_SESSION_TOKEN"):
        options["SESSION_TOKEN"] = environ["AWS_SESSION_TOKEN"]
    region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")
    if region:
        options["REGION"] = region
    endpoint = environ.get("AWS_ENDPOINT_URL_S3") or environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        url = urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
        if url.scheme not in ("http", "https") or not url.hostname or url.path.strip("/") or url.username:
            raise ValueError(f"the object store's endpoint {endpoint!r} is not an http(s) URL of a host (and port)")
        host = f"{url.hostname}:{url.port}" if url.port else url.hostname
        options |= {"ENDPOINT": host, "USE_SSL": url.scheme == "https", "URL_STYLE": "path"}
    settings = ", ".join(f"{name} {str(value).lower() if isinstance(value, bool) else sql_literal(value)}"
                         for name, value in options.items())
    return f"CREATE OR REPLACE SECRET zhenggai_object_storage ({settings})"


def data_files(data_path: str) -> list[str]:
    """The Parquet files under the lake's data path (a folder or `s3://bucket/prefix/`), as its store lists them."""
    con = duckdb.connect()
    try:
        if _is_url(data_path):
            use_object_storage(con)
        pattern = data_path.rstrip("/") + "/**/*.parquet"
        return [row[0] for row in con.execute("SELECT file FROM glob(?) ORDER BY file", [pattern]).fetchall()]
    finally:
        con.close()


def attach_lake(con: duckdb.DuckDBPyConnection, catalog: str, data_path: str | None, alias: str = "lake",
                version: int | None = None) -> None:
    """ATTACH `catalog` as `alias`: a DuckLake ('ducklake:postgres:dbname=zhenggai host=…', its extensions loaded
    first) or a DuckDB file (a path). `data_path`: where a DuckLake's Parquet files go (needed when the catalog is
    created, remembered by it after); `version`: a DuckLake read-only, as of that snapshot."""
    options = []
    if catalog.startswith(DUCKLAKE_PREFIX):
        load_lake_extensions(con, data_path)
        if data_path is not None:
            options.append(f"DATA_PATH {sql_literal(data_path)}")
        if version is not None:
            options += [f"SNAPSHOT_VERSION {int(version)}", "READ_ONLY"]
    elif version is not None:
        raise ValueError("only a DuckLake catalog has snapshot versions")
    attach_options = f" ({', '.join(options)})" if options else ""
    con.execute(f"ATTACH {sql_literal(catalog)} AS {quoted_identifier(alias)}{attach_options}")


def differences(con: duckdb.DuckDBPyConnection, source: str, lake: str) -> dict[str, str]:
    """What differs between the attached catalogs `source` and `lake`, row for row (warehouse.compare, EXCEPT ALL
    both ways; not by fingerprint: the check of a mirror is independent of how it was made): table or view name ->
    why; empty when they are the same."""
    found = {}
    for table in compare_catalogs(con, source, lake):
        if None in table.rows:
            found[table.table] = f"only in {source if table.rows[0] is not None else lake}"
        elif not table.same_columns:
            found[table.table] = "other columns"
        elif not table.same:
            found[table.table] = f"{table.only_in_first} row(s) only in {source}, {table.only_in_second} only in {lake}"
    views, lake_views = _views(con, source), _views(con, lake)
    for view in sorted(views.keys() | lake_views.keys()):
        if views.get(view) != lake_views.get(view):
            found[view] = "view missing or defined otherwise"
    return found


def _lake_connection(warehouse: Path, catalog: str, data_path: str | None = None, version: int | None = None):
    if not warehouse.is_file():
        raise FileNotFoundError(f"no published warehouse at {warehouse}")
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH {sql_literal(str(warehouse))} AS published (READ_ONLY)")
        attach_lake(con, catalog, data_path, version=version)
    except BaseException:
        con.close()
        raise
    return con


def mirror_to_lake(warehouse: Path, catalog: str, data_path: str | None, refingerprint: bool = False) -> MirrorReport:
    """`mirror` the published file `warehouse` into the lake `catalog` (`attach_lake`): on a DuckLake, a new snapshot
    when anything differs."""
    con = _lake_connection(warehouse, catalog, data_path)
    try:
        return mirror(con, "published", "lake", refingerprint)
    finally:
        con.close()


def check_lake(warehouse: Path, catalog: str, version: int | None = None) -> dict[str, str]:
    """`differences` between the file `warehouse` and the lake `catalog` (a DuckLake: as of its snapshot `version`,
    None for the latest)."""
    con = _lake_connection(warehouse, catalog, version=version)
    try:
        return differences(con, "published", "lake")
    finally:
        con.close()


def snapshots(catalog: str) -> list[dict]:
    """The DuckLake catalog's snapshots: id, time and what each changed."""
    con = duckdb.connect()
    try:
        attach_lake(con, catalog, None)
        rows = con.execute("SELECT snapshot_id, CAST(snapshot_time AS VARCHAR), CAST(changes AS VARCHAR) "
                           "FROM lake.snapshots() ORDER BY snapshot_id").fetchall()
        return [{"snapshot_id": snapshot, "snapshot_time": at, "changes": changes} for snapshot, at, changes in rows]
    finally:
        con.close()


def run_with(python: str, command: str, catalog: str | None, warehouse: Path | None = None, **options) -> tuple[int, dict]:
    """`python -m warehouse.lake COMMAND --json` run by the interpreter `python` (the lake environment's, whose DuckDB
    has the DuckLake extension): its exit code (0, or 1 when `check` found differences) and JSON document. `options`:
    the command's other options (data_path, version), None left out. Raises LakeError with its message if it fails."""
    # a path is taken from this process's folder (the command runs from the project's), a bare name from PATH
    # (absolute, not resolved: a virtual environment's interpreter is a symbolic link that must stay one); likewise the
    # paths of a DuckDB file, of a DuckLake whose catalog is a file ('ducklake:meta.ducklake') and of the data; a
    # catalog with another scheme ('ducklake:postgres:…', 'md:…') is passed as it is
    executable = os.path.abspath(python) if os.sep in python else python
    arguments = [executable, "-m", "warehouse.lake", command, "--json"]
    if catalog is not None:
        arguments += ["--catalog", _absolute(catalog)]
    if warehouse is not None:
        arguments += ["--warehouse", str(warehouse.resolve())]
    if options.get("data_path") is not None:
        options["data_path"] = _absolute(options["data_path"])
    for name, value in options.items():
        if value is not None:
            arguments += [f"--{name.replace('_', '-')}", str(value)]
    try:
        done = subprocess.run(arguments, cwd=PROJECT_ROOT, capture_output=True, text=True)
    except OSError as error:
        raise LakeError(f"cannot run the lake environment's interpreter {python}: {error} (make lake-demo builds it)",
                        retryable=False) from error
    if done.returncode not in (0, 1) or not done.stdout.strip():
        raise LakeError(done.stderr.strip() or f"warehouse.lake {command} exited with code {done.returncode}")
    return done.returncode, json.loads(done.stdout)


def mirror_with(python: str, warehouse: Path, catalog: str, data_path: str | None) -> dict:
    """`run_with(python, "mirror", …)`: the mirror's report (tables, views, seconds)."""
    return run_with(python, "mirror", catalog, warehouse, data_path=data_path)[1]


def _absolute(location: str) -> str:
    """`location` with its file path made absolute: a path, or 'ducklake:' and a path; as it is when it has a scheme
    ('ducklake:postgres:…', 's3://…', 'md:…')."""
    path = _local_path(location)
    if path is None:
        return location
    prefix = location[: len(location) - len(path)]
    return prefix + os.path.abspath(path) + (os.sep if path.endswith(os.sep) else "")  # (a folder keeps its slash)


def _local_path(location: str) -> str | None:
    """The file path in `location` (a path, or 'ducklake:' and a path), None when it has a scheme ('ducklake:postgres:…',
    's3://…', 'md:…')."""
    path = location.removeprefix(DUCKLAKE_PREFIX)
    return None if ":" in path.split(os.sep)[0] else path


def lake_folders(catalog: str | None, data_path: str | None) -> list[str]:
    """The folders of this machine a lake lives in, as written: the folder of a catalog that is a file (a DuckDB file,
    or 'ducklake:' and a path) and a data path that is a folder; none for a catalog with a scheme ('ducklake:postgres:…',
    'ducklake:sqlite:…', 'md:…') or data on object storage (what a container running the mirror must mount)."""
    folders = []
    catalog_file = _local_path(catalog) if catalog else None
    if catalog_file is not None:
        folders.append(os.path.dirname(os.path.normpath(catalog_file)) or os.curdir)
    data_folder = _local_path(data_path) if data_path else None
    if data_folder is not None:
        folders.append(os.path.normpath(data_folder))
    return folders


class LakeError(RuntimeError):
    """The mirror into the lake failed; the lake is as it was (its transaction was rolled back). `retryable`: whether
    trying again may help (an unreachable lake, a conflicting commit: yes; no interpreter to run it: no)."""

    def __init__(self, message: str, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m warehouse.lake", description=(
        "The published warehouse in a DuckLake catalog: mirror it (one snapshot), check a snapshot against a file, "
        "list the snapshots, list the Parquet files under the data path."))
    parser.add_argument("command", choices=["mirror", "check", "snapshots", "files"])
    parser.add_argument("--catalog", help="the lake: a DuckLake, e.g. 'ducklake:postgres:dbname=zhenggai "
                        "host=/run/postgresql', or a DuckDB file")
    parser.add_argument("--warehouse", type=Path, help="the published DuckDB file (mirror, check)")
    parser.add_argument("--data-path", help="mirror: where the lake's Parquet files are written (object storage or a "
                        "folder); files: where to list them. Object storage is reached with the AWS_* variables "
                        "(warehouse.lake.object_storage_secret)")
    parser.add_argument("--refingerprint", action="store_true", help="mirror: compare with the lake's rows, not with "
                        "the fingerprints stored by the last mirror (after something else wrote into the lake)")
    parser.add_argument("--version", type=int, help="check: the snapshot to compare with (default: the latest)")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of text")
    options = parser.parse_args(argv)
    if options.command != "files" and options.catalog is None:
        parser.error(f"{options.command} needs --catalog")
    if options.command in ("mirror", "check") and options.warehouse is None:
        parser.error(f"{options.command} needs --warehouse")
    if options.command == "files" and options.data_path is None:
        parser.error("files needs --data-path")
    try:
        if options.command == "mirror":
            result = mirror_to_lake(options.warehouse, options.catalog, options.data_path, options.refingerprint)
            document = {"tables": [asdict(table) for table in result.tables], "views": result.views,
                        "seconds": result.seconds}
            lines = [f"{t.table:24} {t.action:9} {t.rows} rows" + (
                f"; {t.keys} notice key(s): -{t.deleted} +{t.inserted} rows" if t.action == "patched" else "")
                for t in result.tables]
            lines.append(f"{len(result.changed)} of {len(result.tables)} tables written, "
                         f"{len(result.views)} view(s) created, {result.seconds:.2f} s")
            code = 0
        elif options.command == "check":
            found = check_lake(options.warehouse, options.catalog, options.version)
            document = {"same": not found, "differences": found}
            lines = [f"{name}: {why}" for name, why in found.items()] or ["the lake holds the warehouse's rows and views"]
            code = 1 if found else 0
        elif options.command == "files":
            document = {"files": data_files(options.data_path)}
            lines = document["files"] + [f"{len(document['files'])} Parquet file(s) under {options.data_path}"]
            code = 0
        else:
            document = {"snapshots": snapshots(options.catalog)}
            lines = [f"{s['snapshot_id']:>4} {s['snapshot_time']} {s['changes']}" for s in document["snapshots"]]
            code = 0
    except (duckdb.Error, OSError, ValueError) as error:
        print(f"{options.command} failed (the lake is unchanged): {type(error).__name__}: {error}", file=sys.stderr)
        return 2
    print(json.dumps(document, ensure_ascii=False) if options.json else "\n".join(lines))
    return code


if __name__ == "__main__":
    sys.exit(main())
