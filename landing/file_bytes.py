"""The bytes of landed files, read when a step needs them rather than held from the listing on.

Listing a landing folder gives every file's name and SHA-256 (landing index, orchestration.resources). A file
whose hash the landing index vouches for (landing/file_index.py: same size, modification and change time as
when it was hashed) is not read at all; a file hashed now has its bytes dropped again once hashed, unless its
stat cannot vouch for them (it changed while being read, or was modified within the index's racy window).
Such a raw_notices row (landing.land.RAW_SCHEMA) has `data` null and the file's `path`, `size`, `mtime_ns` and
`ctime_ns`. A refresh with nothing new needs only the hashes, one with a changed file the bytes of that file,
and a full build the bytes of one batch at a time: the run never holds the bytes of the whole corpus (426 MB
at 10,000 notices). The steps that decode files call `with_bytes` for their rows: the staging of each batch of
notices to parse, and the quarantine of files that cannot be loaded.

The bytes read later are those that were hashed when the file still has the stat it was listed with (the
landing index's rule, git's): a file whose size, modification or change time differs, or that cannot be read
any more, fails the run (`LandedFileChanged`) instead of loading other bytes under the listed hash; the next
refresh lists and hashes it again.
"""

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import polars as pl

_READ_THREADS = 4  # reading releases the GIL: a few threads overlap the disk


class LandedFileChanged(RuntimeError):
    """A landed file is no longer the one that was listed (and hashed)."""


def is_loaded() -> pl.Expr:
    """True for a row whose bytes are in `data` (read when listed, fetched, or a read error's empty bytes)."""
    return pl.col("data").is_not_null() | pl.col("path").is_null()


def with_bytes(rows: pl.DataFrame) -> pl.DataFrame:
    """`rows` (RAW_SCHEMA columns at least) with `data` read from `path` where the listing left it out, in row
    order. Raises LandedFileChanged when a file no longer has the stat it was listed with, or cannot be read."""
    missing = rows.select(~is_loaded()).to_series()
    if not missing.any():
        return rows
    wanted = rows.filter(missing).select("source_name", "path", "size", "mtime_ns", "ctime_ns").rows()
    with ThreadPoolExecutor(max_workers=min(_READ_THREADS, len(wanted))) as pool:
        loaded = list(pool.map(lambda row: _read_unchanged(*row), wanted))
    data = iter(loaded)
    column = [next(data) if absent else value for absent, value in zip(missing, rows.get_column("data"))]
    return rows.with_columns(pl.Series("data", column, dtype=pl.Binary))


def _read_unchanged(name: str, path: str, size: int, mtime_ns: int, ctime_ns: int) -> bytes:
    listed = (size, mtime_ns, ctime_ns)
    try:
        before = os.stat(path)
        data = Path(path).read_bytes()
        after = os.stat(path)
    except OSError as error:
        raise LandedFileChanged(f"{name}: cannot be read any more since it was listed ({error}); refresh again") from error
    for stat in (before, after):
        if (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns) != listed:
            raise LandedFileChanged(f"{name}: changed since it was listed in this refresh; refresh again to load the new version")
    return data
