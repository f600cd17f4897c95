"""What a published warehouse was built from, so that a refresh with nothing new does nothing.

A build is fully determined by its inputs (every landed file's name and SHA-256, the fetch log, the prune
option) and by the code that turns them into tables (every file of the project's packages: parser rules,
DDL, gate suites, asset wiring) running on the pinned libraries. The digest of both is stored in the
published file (`refresh_build`); a refresh that computes the same digest skips parsing, staging, the gate
and publication and leaves the published file byte for byte as it was. Any doubt (no file, no table, an
unreadable file) means "build".
"""

import hashlib
from datetime import datetime
from functools import cache
from importlib import metadata
from pathlib import Path

import duckdb
import polars as pl

import expectations
import landing
import orchestration
import transforms
import warehouse
from warehouse.store import WarehouseReader, reading

# The files a package ships (pyproject package-data), by explicit pattern rather than a recursive search: the
# default warehouse, its Data Docs, report and parse cache live inside the warehouse package folder, and a
# refresh's own output must never change the digest of the code that produced it.
# The compiled figure reader's sources (transforms/figure_reader; its build folder `target/` and the built module are
# outputs): a change there is a change of the parser.
COMPILED_READER_FILES = ("figure_reader/Cargo.*", "figure_reader/src/*.rs")
_CODE_FILES = ("*.py", "*.csv", "*.yaml", "*.sql", "sql/*.sql", "queries/*.sql", "*_template.html", *COMPILED_READER_FILES)
# Libraries whose upgrade can change what the parser reads from a notice ...
PARSER_LIBRARIES = ("polars", "numpy", "opencc", "cn2an", "cpca", "charset-normalizer", "selectolax")
# ... and those that can change the table files or the gate's results.
_LIBRARIES = (*PARSER_LIBRARIES, "duckdb", "pyarrow", "great-expectations", "dagster")

BUILD_SCHEMA = {
    "build_digest": pl.String,
    "input_digest": pl.String,
    "code_digest": pl.String,
    "source_files": pl.Int64,
    "prune_missing": pl.Boolean,
    "built_at": pl.Datetime("us", "UTC"),
}


def files_digest(packages, patterns: tuple[str, ...], libraries: tuple[str, ...] = ()) -> str:
    """16 hex digits over the name and content of the files matching `patterns` in each package's folder
    (patterns may name a subfolder: `sql/*.sql`) and the installed versions of `libraries`."""
    digest = hashlib.sha256()
    for package in packages:
        root = Path(package.__file__).parent
        for path in sorted({p for pattern in patterns for p in root.glob(pattern) if p.is_file()}):
            digest.update(f"{package.__name__}/{path.relative_to(root).as_posix()}".encode() + b"\0" + path.read_bytes() + b"\0")
    for library in libraries:
        digest.update(f"{library}=={metadata.version(library)}\0".encode())
    return digest.hexdigest()[:16]


@cache
def code_digest() -> str:
    """Digest of every shipped code, DDL, suite and reference file of the project and of the library versions."""
    return files_digest((transforms, warehouse, expectations, orchestration, landing), _CODE_FILES, _LIBRARIES)


def input_digest(raw_notices: pl.DataFrame, fetch_log: pl.DataFrame, prune_missing: bool) -> str:
    """16 hex digits over the landed files (name, SHA-256, read error), the fetch log and the prune option."""
    digest = hashlib.sha256(b"prune" if prune_missing else b"keep")
    files = raw_notices.select("source_name", "content_sha256", pl.col("read_error").fill_null("")).sort("source_name")
    for name, sha, error in files.iter_rows():
        digest.update(f"{name}\0{sha}\0{error}\n".encode())
    digest.update(b"\0fetch_log\0")
    if fetch_log.height:
        digest.update(fetch_log.write_csv().encode())
    return digest.hexdigest()[:16]


def build_record(raw_notices: pl.DataFrame, fetch_log: pl.DataFrame, prune_missing: bool, now: datetime) -> pl.DataFrame:
    """The one-row `refresh_build` table of a new build."""
    inputs, code = input_digest(raw_notices, fetch_log, prune_missing), code_digest()
    return pl.DataFrame(
        [{"build_digest": hashlib.sha256(f"{inputs}{code}".encode()).hexdigest()[:16], "input_digest": inputs,
          "code_digest": code, "source_files": raw_notices.height, "prune_missing": prune_missing, "built_at": now}],
        schema=BUILD_SCHEMA,
    )


def published_build(warehouse: Path | WarehouseReader) -> dict | None:
    """The `refresh_build` row of the published file (or of the file a reader reads), or None when there is none to
    trust."""
    try:
        with reading(warehouse) as published:
            rows = published.read_table("refresh_build")
    except duckdb.Error:  # not a DuckDB file, or one this DuckDB cannot open
        return None
    return rows.row(0, named=True) if rows is not None and rows.height == 1 else None


def is_unchanged(
    warehouse: Path | WarehouseReader, raw_notices: pl.DataFrame, fetch_log: pl.DataFrame, prune_missing: bool
) -> dict | None:
    """The published build when building again from these inputs would give the same warehouse, else None."""
    previous = published_build(warehouse)
    if previous is None:
        return None
    if previous["input_digest"] != input_digest(raw_notices, fetch_log, prune_missing) or previous["code_digest"] != code_digest():
        return None
    return previous
