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

import hashlib
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import polars as pl

from landing.file_index import STAT_COLUMNS, is_racy, read_index, stat_key, write_index
from landing.land import RAW_SCHEMA

_READ_THREADS = 4  # reading (and hashing) releases the GIL: a few threads overlap the disk
_FRAME_ROWS = 500  # files gathered into a frame at a time


def list_folder(names: list[str], directory: Path, index: Path | None) -> pl.DataFrame:
    """RAW_SCHEMA rows of the files `names` of the landing folder `directory`, in that order: every file's SHA-256,
    and its bytes only where its stat cannot vouch for them (_read_notice_file); a file that cannot be read keeps
    its error. With `index` (landing.file_index), a file unchanged since an earlier refresh hashed it keeps that
    hash and is not read, and the index is updated with the files hashed now."""
    known = read_index(index, directory)
    folder = os.fspath(directory)
    # Every file stat'ed, then matched to the index in one join: nearly all of them are vouched for on every refresh
    # after the first, and Python per file (a Path, a lookup, a row) cost ~10 us, 0.1 s at 10,000 files.
    stats = [_stat(os.path.join(folder, name)) for name in names]
    listed = [(position, stat) for position, stat in enumerate(stats) if isinstance(stat, os.stat_result)]
    keys = list(zip(*(stat_key(stat) for _, stat in listed))) or [()] * len(STAT_COLUMNS)
    stated = pl.DataFrame(
        {"position": [position for position, _ in listed], "source_name": [names[position] for position, _ in listed],
         **dict(zip(STAT_COLUMNS, keys))},
        schema={"position": pl.Int64, "source_name": pl.String, **{column: pl.Int64 for column in STAT_COLUMNS}},
    )
    vouched = stated.join(known, on=["source_name", *STAT_COLUMNS], how="inner", maintain_order="left")
    frames = [_vouched_rows(vouched, folder)]
    entries = [vouched.select(known.columns)]
    vouched_positions = set(vouched.get_column("position").to_list())
    to_read = [(position, Path(folder, names[position]), stat) for position, stat in enumerate(stats)
               if position not in vouched_positions]
    # Reading and hashing release the GIL: a few threads overlap the disk with SHA-256 on every core.
    with ThreadPoolExecutor(max_workers=_READ_THREADS) as pool:
        for start in range(0, len(to_read), _FRAME_ROWS):
            chunk = to_read[start : start + _FRAME_ROWS]
            results = list(pool.map(_read_notice_file, [(path, stat) for _, path, stat in chunk]))
            # a frame per chunk: the bytes are not held twice, as objects and as a frame
            frames.append(pl.DataFrame([row for row, _ in results], schema=RAW_SCHEMA).with_columns(
                pl.Series("position", [position for position, _, _ in chunk], dtype=pl.Int64)
            ))
            hashed = [entry for _, entry in results if entry is not None]
            if hashed:
                entries.append(pl.DataFrame(hashed, schema=known.schema, orient="row"))
    # written when it changes: files hashed now, or entries of files gone or changed (a listing with nothing new
    # would write the same entries again)
    if index is not None and (len(entries) > 1 or vouched.height != known.height):
        write_index(index, directory, pl.concat(entries))
    listed_rows = pl.concat(frames)
    # in `names` order; a sort gathers the bytes kept in memory, so only when both kinds of rows are there
    return (listed_rows.sort("position") if vouched.height and to_read else listed_rows).drop("position")


def _stat(path: str) -> os.stat_result | OSError:
    try:
        return os.stat(path)
    except OSError as exc:
        return exc


def _vouched_rows(vouched: pl.DataFrame, folder: str) -> pl.DataFrame:
    """RAW_SCHEMA rows (and their `position`) of files listed from their stat and indexed hash, unread."""
    return vouched.select(
        "source_name",
        "content_sha256",
        pl.lit(None, pl.Binary).alias("data"),
        pl.lit(None, pl.String).alias("read_error"),
        (pl.lit(os.path.join(folder, "")) + pl.col("source_name")).alias("path"),
        *STAT_COLUMNS,
        "position",
    ).cast({**RAW_SCHEMA, "position": pl.Int64})


def _read_notice_file(listed: tuple[Path, os.stat_result | OSError]) -> tuple[dict, tuple | None]:
    """(RAW_SCHEMA row, landing index entry or None) of a file the index does not vouch for, from its path and
    its stat when listed: read and hashed now.

    The row holds the bytes only when the file's stat cannot vouch for them later (it changed while it was
    read, or was modified within the index's racy window): otherwise landing.file_bytes reads them again when a
    step needs them, so that the run never holds the bytes of every landed file at once."""
    path, before = listed
    if isinstance(before, OSError):
        return _unreadable(path, before), None
    try:
        read_at = time.time_ns()
        data = path.read_bytes()
        after = path.stat()
    except OSError as exc:
        return _unreadable(path, exc), None
    sha = hashlib.sha256(data).hexdigest()
    if stat_key(before) != stat_key(after):  # changed while it was read: these bytes and their hash, not indexed
        return _row(path, sha, data, after), None
    keep = is_racy(before.st_mtime_ns, read_at)
    return _row(path, sha, data if keep else None, before), (path.name, *stat_key(before), sha, read_at)


def _row(path: Path, sha: str, data: bytes | None, stat: os.stat_result) -> dict:
    return {"source_name": path.name, "content_sha256": sha, "data": data, "read_error": None, "path": str(path),
            "size": len(data) if data is not None else stat.st_size, "mtime_ns": stat.st_mtime_ns, "ctime_ns": stat.st_ctime_ns}


def _unreadable(path: Path, exc: OSError) -> dict:
    error = f"{type(exc).__name__}: {exc.strerror or exc}"
    return {"source_name": path.name, "content_sha256": hashlib.sha256(b"").hexdigest(), "data": b"", "read_error": error,
            "path": None, "size": 0}


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
        if stat_key(stat) != listed:
            raise LandedFileChanged(f"{name}: changed since it was listed in this refresh; refresh again to load the new version")
    return data
