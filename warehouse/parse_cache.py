"""The parse cache: parsed frames of every notice, keyed by content and by the parser's own version.

Parsing is the expensive step of a refresh; a notice whose bytes did not change gives the same frames as
long as the parser did not change either. The cache lives beside the warehouse
(`<warehouse>.parse-cache/<parser version>/<frame>.parquet`); the parser version is a digest of every
file of the `transforms` package (code and reference data), so editing a rule reparses everything. The
cache is only an accelerator: deleting it costs one full parse, never data, and whatever it returns goes
through the same gate as a fresh parse.
"""

import hashlib
import os
import shutil
from functools import cache
from pathlib import Path

import polars as pl

import transforms
from transforms.pipeline import PARSED_FRAMES, ParsedNotices

_PARSER_FILES = ("*.py", "*.csv", "*.yaml")
# The staged text (decoded, normalised, simplified, masked) of the cached notices: staging depends on the
# same transforms code as parsing, so it is reused on the same terms.
_STAGED = "staged_notices"


@cache
def parser_version() -> str:
    """16 hex digits over the content of every code and reference file of the transforms package."""
    root = Path(transforms.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(p for pattern in _PARSER_FILES for p in root.rglob(pattern)):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def cache_dir(warehouse: Path) -> Path:
    return warehouse.with_name(f"{warehouse.name}.parse-cache")


def load(warehouse: Path) -> dict[str, pl.DataFrame] | None:
    """The cached frames for the current parser version, or None (no cache, other version, unreadable)."""
    folder = cache_dir(warehouse) / parser_version()
    try:
        frames = {name: pl.read_parquet(folder / f"{name}.parquet") for name in PARSED_FRAMES}
    except (OSError, pl.exceptions.PolarsError):
        return None
    return frames


def load_staged(warehouse: Path) -> pl.DataFrame | None:
    """The staged notices (transforms.ingest NOTICE_SCHEMA) of the cached parse, or None."""
    try:
        return pl.read_parquet(cache_dir(warehouse) / parser_version() / f"{_STAGED}.parquet")
    except (OSError, pl.exceptions.PolarsError):
        return None


def save(warehouse: Path, parsed: ParsedNotices) -> None:
    """Replace the cache with the frames of `parsed` (written aside, then swapped in; older versions removed)."""
    root = cache_dir(warehouse)
    final = root / parser_version()
    building = root / f".{parser_version()}.{os.getpid()}"
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    for name, frame in parsed.frames().items():
        frame.write_parquet(building / f"{name}.parquet")
    parsed.notices.write_parquet(building / f"{_STAGED}.parquet")
    old = root / f".old.{os.getpid()}"
    if final.exists():
        final.rename(old)
    building.rename(final)
    for stale in root.iterdir():
        if stale != final:
            shutil.rmtree(stale, ignore_errors=True)
