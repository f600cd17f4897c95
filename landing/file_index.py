"""The landing index: the SHA-256 of every notice file read by an earlier refresh, with the file's stat.

Reading and hashing the landing folder was most of what a refresh with nothing new cost (10,000 files, 426 MB:
~1.5 s of CPU for SHA-256 on a machine without SHA instructions, beside ~0.8 s to read the bytes). A file
whose size, modification time and inode change time are those it had when it was hashed still has those
bytes, so its hash is taken from the index, and its bytes are read only if a step needs them
(landing/file_bytes.py, which checks that the stat is still the same): the same rule as git's index and make. Two
precautions:

- the change time (st_ctime_ns) is part of the match: unlike the modification time, no tool can set it
  back (`touch -d` and `cp -p` change it), so a file rewritten with its old size and modification time is
  hashed again;
- a file modified less than `RACY_SECONDS` before it was hashed is not trusted (git's "racily clean" entries):
  a write in the same clock tick as the hash would otherwise keep the old hash.

The index is only an accelerator: deleting it costs one hashing of the folder, never data. It lives beside
the warehouse (`<warehouse>.landing-index.parquet`) and is replaced atomically by each run that reads a landing
folder (a refresh, under its lock, or a fetch-only run, which takes no lock: each entry is checked against the
file's stat before use, so whichever run wrote last, the index is right).
"""

import os
from pathlib import Path

import polars as pl

INDEX_SCHEMA = {
    "directory": pl.String,  # the landing folder, resolved
    "source_name": pl.String,
    "size": pl.Int64,
    "mtime_ns": pl.Int64,
    "ctime_ns": pl.Int64,
    "content_sha256": pl.String,
    "hashed_at_ns": pl.Int64,  # wall clock when the bytes were read
}
RACY_SECONDS = 2


def stat_key(stat: os.stat_result) -> tuple[int, int, int]:
    """What a file's stat says of its bytes: (size, mtime_ns, ctime_ns); the same key, the same bytes."""
    return stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns


STAT_COLUMNS = ("size", "mtime_ns", "ctime_ns")  # stat_key, as the index's (and a listing's) columns


def is_racy(mtime_ns, hashed_at_ns):
    """Whether a file modified at `mtime_ns` and read at `hashed_at_ns` may have been written again within the
    same clock tick without its stat showing it: its stat alone cannot vouch for the bytes that were read.
    (Integers, or Polars expressions of the index's columns.)"""
    return mtime_ns >= hashed_at_ns - RACY_SECONDS * 1_000_000_000


def index_path(warehouse: Path) -> Path:
    return warehouse.with_name(f"{warehouse.name}.landing-index.parquet")


def read_index(path: Path | None, directory: Path) -> pl.DataFrame:
    """The trustworthy entries of `directory` (INDEX_SCHEMA but `directory`): none when there is no readable index."""
    columns = [c for c in INDEX_SCHEMA if c != "directory"]
    if path is not None and path.exists():
        try:
            return pl.read_parquet(path).filter(
                (pl.col("directory") == str(directory.resolve()))
                & ~is_racy(pl.col("mtime_ns"), pl.col("hashed_at_ns"))
            ).select(columns)
        except (OSError, pl.exceptions.PolarsError):
            pass  # a damaged index is rebuilt by this refresh
    return pl.DataFrame(schema={c: INDEX_SCHEMA[c] for c in columns})


def write_index(path: Path, directory: Path, entries: pl.DataFrame) -> None:
    """Replace `directory`'s entries (INDEX_SCHEMA but `directory`) in the index at `path`, keeping the other
    folders' entries; atomic (a crash leaves the old index or the new one)."""
    folder = str(directory.resolve())
    rows = entries.select(pl.lit(folder).alias("directory"), *[c for c in INDEX_SCHEMA if c != "directory"])
    others = pl.DataFrame(schema=INDEX_SCHEMA)
    if path.exists():
        try:
            others = pl.read_parquet(path).filter(pl.col("directory") != folder)
        except (OSError, pl.exceptions.PolarsError):
            pass
    building = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        pl.concat([others, rows.cast(INDEX_SCHEMA)], how="vertical").write_parquet(building)
        os.replace(building, path)
    except OSError:
        building.unlink(missing_ok=True)  # an accelerator only: a folder it cannot be written to costs hashing
