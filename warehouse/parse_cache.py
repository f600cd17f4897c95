"""The parse cache: parsed frames of every notice, keyed by content and by the parser's own version.

Parsing is the expensive step of a refresh; a notice whose bytes did not change gives the same frames as
long as the parser did not change either. The cache lives beside the warehouse
(`<warehouse>.parse-cache/<parser version>/<frame>.parquet`); the parser version is a digest of every
file of the `transforms` package (code and reference data) and of the parsing libraries' versions, so
editing a rule or upgrading OpenCC reparses everything. The
cache is only an accelerator: deleting it costs one full parse, never data, and whatever it returns goes
through the same gate as a fresh parse.
"""

import os
import shutil
from functools import cache
from pathlib import Path

import polars as pl

import transforms
from transforms.pipeline import PARSED_FRAMES, ParsedNotices
from warehouse.build import PARSER_LIBRARIES, files_digest

_PARSER_FILES = ("*.py", "*.csv", "*.yaml")
# The staged text (decoded, normalised, simplified, masked) of the cached notices: staging depends on the
# same transforms code as parsing, so it is reused on the same terms.
_STAGED = "staged_notices"


@cache
def parser_version() -> str:
    """16 hex digits over every code and reference file of the transforms package and the versions of the
    libraries the parser relies on (OpenCC, cn2an, the cpca division table, Polars, ...)."""
    return files_digest((transforms,), _PARSER_FILES, PARSER_LIBRARIES)


def cache_dir(warehouse: Path) -> Path:
    return warehouse.with_name(f"{warehouse.name}.parse-cache")


def _read(warehouse: Path, names: tuple[str, ...]) -> dict[str, pl.DataFrame] | None:
    """The cached frames `names` of the current parser version, or None (no cache, other version, unreadable)."""
    folder = cache_dir(warehouse) / parser_version()
    try:
        return {name: pl.read_parquet(folder / f"{name}.parquet") for name in names}
    except (OSError, pl.exceptions.PolarsError):
        return None


def load(warehouse: Path) -> dict[str, pl.DataFrame] | None:
    """The cached parsed frames (PARSED_FRAMES), or None."""
    return _read(warehouse, PARSED_FRAMES)


def load_staged(warehouse: Path) -> pl.DataFrame | None:
    """The staged notices (transforms.ingest NOTICE_SCHEMA) of the cached parse, or None."""
    frames = _read(warehouse, (_STAGED,))
    return frames[_STAGED] if frames else None


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
