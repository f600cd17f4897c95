"""The bytes of landed files, read when a step needs them rather than when the folder is listed.

Listing a landing folder gives every file's name and SHA-256. For a file whose hash the landing index vouches
for (landing/file_index.py: same size, modification and change time as when it was hashed), the listing does
not read the bytes: a refresh with nothing new needs only the hashes, and one with a changed file needs the
bytes of that file alone. Such a raw_notices row (landing.land.RAW_SCHEMA) has `data` null, the file's `path`
and its `size`. The steps that decode files call `with_bytes` for their rows: the staging of the notices to
parse, batch by batch, and the quarantine of files that cannot be loaded.

The bytes read later must still be those that were hashed: a file rewritten between the listing and the read
fails the run (`LandedFileChanged`) instead of loading new bytes under the old hash; the next refresh lists
and hashes it again.
"""

import hashlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import polars as pl

# Reading and hashing release the GIL: a few threads overlap the disk with SHA-256.
_READ_THREADS = 4


class LandedFileChanged(RuntimeError):
    """A landed file's bytes no longer hash to the SHA-256 it was listed with."""


def is_loaded() -> pl.Expr:
    """True for a row whose bytes are in `data` (read when listed, fetched, or a read error's empty bytes)."""
    return pl.col("data").is_not_null() | pl.col("path").is_null()


def with_bytes(rows: pl.DataFrame) -> pl.DataFrame:
    """`rows` (RAW_SCHEMA columns at least) with `data` read from `path` where the listing left it out, in row
    order. Raises LandedFileChanged when a file's bytes are not the ones its content_sha256 was computed from,
    or it cannot be read any more."""
    missing = rows.select(~is_loaded()).to_series()
    if not missing.any():
        return rows
    wanted = rows.filter(missing).select("source_name", "content_sha256", "path").rows()
    with ThreadPoolExecutor(max_workers=min(_READ_THREADS, len(wanted))) as pool:
        loaded = list(pool.map(lambda row: _read_verified(*row), wanted))
    data = iter(loaded)
    column = [next(data) if absent else value for absent, value in zip(missing, rows.get_column("data"))]
    return rows.with_columns(pl.Series("data", column, dtype=pl.Binary))


def _read_verified(name: str, sha: str, path: str) -> bytes:
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise LandedFileChanged(f"{name}: cannot be read any more since it was listed ({error}); refresh again") from error
    if hashlib.sha256(data).hexdigest() != sha:
        raise LandedFileChanged(f"{name}: changed since it was listed in this refresh; refresh again to load the new version")
    return data
