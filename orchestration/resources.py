"""Dagster resources: where notices land and where the warehouse is published.

Both are configured from the environment (ZHENGGAI_SOURCE, ZHENGGAI_WAREHOUSE) so that `dagster dev`, the
schedule, the sensor and `zhenggai refresh` all run the same definitions on the same folders.
"""

import hashlib
import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl
from pydantic import PrivateAttr

from expectations.gate import DEFAULT_MAX_DROP_SHARE
from landing.file_index import INDEX_SCHEMA, index_path, is_racy, known_entry, read_index, write_index
from landing.land import RAW_SCHEMA
from orchestration.defaults import DEFAULT_SOURCE, DEFAULT_WAREHOUSE
from warehouse.store import refresh_lock

NOTICE_SUFFIXES = (".txt", ".html", ".htm")
# Files are gathered into frames this many at a time, read by this many threads.
_FRAME_ROWS = 500
_READ_THREADS = 4


class NoticeSource(dg.ConfigurableResource):
    """The landing folder of raw notices (.txt and .html files)."""

    directory: str = DEFAULT_SOURCE
    # A notice whose file disappeared keeps its facts unless this is set (CLI --prune, ZHENGGAI_PRUNE_MISSING=1).
    prune_missing: bool = False
    # The landing index (landing/file_index.py) beside the warehouse: hashes of files whose stat is unchanged are
    # reused. A path here, not the warehouse resource, which would take the refresh lock in a fetch-only run.
    landing_index: str | None = None

    def files(self) -> list[Path]:
        root = Path(self.directory)
        if not root.is_dir():
            raise FileNotFoundError(f"notice source folder does not exist: {root.resolve()}")
        with os.scandir(root) as entries:
            names = sorted(e.name for e in entries if e.name.lower().endswith(NOTICE_SUFFIXES) and not e.name.startswith("."))
        return [root / name for name in names]

    def fingerprint(self) -> str:
        """Changes whenever a notice file is added, removed or modified (cheap: names, sizes, mtimes)."""
        digest = hashlib.sha256()
        for path in self.files():
            try:
                stat = path.stat()
                digest.update(f"{path.name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
            except OSError as error:
                digest.update(f"{path.name}\0{error}\n".encode())
        return digest.hexdigest()

    def read_all(self, index: Path | None = None) -> pl.DataFrame:
        """Every notice file's SHA-256, and where to read its bytes; a file that cannot be read keeps its error.

        With `index` (landing.file_index, beside the warehouse), a file whose stat did not change since an
        earlier refresh hashed it keeps that hash and is not read. The others are read and hashed, and their bytes
        dropped again unless the stat cannot vouch for them (_read_notice_file): a row without `data` has the
        file's `path` and stat, and its bytes are read when a step needs them (landing.file_bytes). The index is
        updated with the files hashed now."""
        paths = self.files()
        known = read_index(index, Path(self.directory))
        read = partial(_read_notice_file, known=known)
        # Reading and hashing release the GIL: a few threads overlap the disk with SHA-256 on every core.
        with ThreadPoolExecutor(max_workers=_READ_THREADS) as pool:
            chunks = [list(pool.map(read, paths[start : start + _FRAME_ROWS])) for start in range(0, len(paths), _FRAME_ROWS)]
        # a frame per chunk: the bytes are not held twice, as objects and as a frame
        frames = [pl.DataFrame([row for row, _ in chunk], schema=RAW_SCHEMA) for chunk in chunks]
        if index is not None:
            stats = [stat for chunk in chunks for _, stat in chunk if stat is not None]
            write_index(index, Path(self.directory), pl.DataFrame(stats, schema={k: v for k, v in INDEX_SCHEMA.items() if k != "directory"}, orient="row"))
        return pl.concat([pl.DataFrame(schema=RAW_SCHEMA), *frames])


def _read_notice_file(path: Path, known: dict) -> tuple[dict, tuple | None]:
    """(RAW_SCHEMA row, landing index entry or None) of one file.

    The row holds the bytes only when the file's stat cannot vouch for them later (it changed while it was
    read, or was modified within the index's racy window): otherwise landing.file_bytes reads them again when a
    step needs them, so that the run never holds the bytes of every landed file at once."""
    try:
        before = path.stat()
    except OSError as exc:
        return _unreadable(path, exc), None
    indexed = known_entry(known, path.name, before)
    if indexed is not None:  # hashed by an earlier refresh and unchanged since: not read now
        sha, hashed_at = indexed
        return _row(path, sha, None, before), (path.name, before.st_size, before.st_mtime_ns, before.st_ctime_ns, sha, hashed_at)
    try:
        read_at = time.time_ns()
        data = path.read_bytes()
        after = path.stat()
    except OSError as exc:
        return _unreadable(path, exc), None
    sha = hashlib.sha256(data).hexdigest()
    if not _same_stat(before, after):  # changed while it was read: these bytes and their hash, not indexed
        return _row(path, sha, data, after), None
    keep = is_racy(before.st_mtime_ns, read_at)
    return _row(path, sha, data if keep else None, before), (path.name, before.st_size, before.st_mtime_ns, before.st_ctime_ns, sha, read_at)


def _row(path: Path, sha: str, data: bytes | None, stat: os.stat_result) -> dict:
    return {"source_name": path.name, "content_sha256": sha, "data": data, "read_error": None, "path": str(path),
            "size": len(data) if data is not None else stat.st_size, "mtime_ns": stat.st_mtime_ns, "ctime_ns": stat.st_ctime_ns}


def _unreadable(path: Path, exc: OSError) -> dict:
    error = f"{type(exc).__name__}: {exc.strerror or exc}"
    return {"source_name": path.name, "content_sha256": hashlib.sha256(b"").hexdigest(), "data": b"", "read_error": error,
            "path": None, "size": 0}


def _same_stat(before: os.stat_result, after: os.stat_result) -> bool:
    return (before.st_size, before.st_mtime_ns, before.st_ctime_ns) == (after.st_size, after.st_mtime_ns, after.st_ctime_ns)


class WarehouseTarget(dg.ConfigurableResource):
    """The published DuckDB file; a run holds its refresh lock from start to end."""

    path: str = DEFAULT_WAREHOUSE
    # The gate blocks a load that would drop more than this share of the published notices or issues.
    max_drop_share: float = DEFAULT_MAX_DROP_SHARE

    @property
    def file(self) -> Path:
        return Path(self.path)

    @property
    def report_dir(self) -> Path:
        """Validation results (JSON and GX Data Docs) live beside the warehouse file."""
        return self.file.parent / "validation"

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator["WarehouseTarget"]:
        with refresh_lock(self.file):
            yield self


class GateRunner(dg.ConfigurableResource):
    """Where the gate runs: in the run's process, or in a process of its own started before the gate is due, which
    imports Great Expectations (~4 s) while the run reads, parses and stages (expectations/gate_process.py).

    `early`: True starts that process with the run; False never; None (the default) when `start_early` is called,
    which staged_notices does when the load will likely patch the published file. Only then: a small change's
    gate is mostly GX's fixed cost, while a full build's gate holds ~1.3 GB in that process beside the run's
    own (which it would otherwise reuse), and an early process idling through a full parse adds ~265 MB to the
    peak (ZHENGGAI_GATE_PROCESS=1 / 0 forces it on or off)."""

    early: bool | None = None
    _early_gate: Any = PrivateAttr(default=None)

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator["GateRunner"]:
        if self.early:
            self.start_early()
        try:
            yield self
        finally:
            if self._early_gate is not None:
                self._early_gate.close()
                self._early_gate = None

    def start_early(self) -> None:
        """Start the gate's process now (unless it runs already or early gates are switched off)."""
        if self.early is False or self._early_gate is not None:
            return
        from expectations.gate_process import EarlyGate

        self._early_gate = EarlyGate()

    @property
    def runs_early(self) -> bool:
        """Whether the gate will run in its own early process."""
        return self._early_gate is not None

    def run_gate(self, *args, **kwargs):
        """expectations.gate.run_gate(*args, **kwargs), in the early process when there is one."""
        if self._early_gate is not None:
            return self._early_gate.run_gate(*args, **kwargs)
        from expectations.gate import run_gate

        return run_gate(*args, **kwargs)


def gate_from_env() -> GateRunner:
    setting = os.environ.get("ZHENGGAI_GATE_PROCESS", "").strip().lower()
    return GateRunner(early=True if setting in ("1", "true", "yes") else False if setting in ("0", "false", "no") else None)


def source_from_env() -> NoticeSource:
    return NoticeSource(
        directory=os.environ.get("ZHENGGAI_SOURCE", DEFAULT_SOURCE),
        prune_missing=os.environ.get("ZHENGGAI_PRUNE_MISSING", "") in ("1", "true", "yes"),
        landing_index=str(index_path(Path(os.environ.get("ZHENGGAI_WAREHOUSE", DEFAULT_WAREHOUSE)))),
    )


def warehouse_from_env() -> WarehouseTarget:
    return WarehouseTarget(
        path=os.environ.get("ZHENGGAI_WAREHOUSE", DEFAULT_WAREHOUSE),
        max_drop_share=float(os.environ.get("ZHENGGAI_MAX_DROP", DEFAULT_MAX_DROP_SHARE)),
    )
