import hashlib
import os
import time
from pathlib import Path

import duckdb
import polars as pl
import pytest

from landing.land import RAW_SCHEMA
from transforms.text import decode_notice, normalize_text

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


def _hypothesis_without_local_constants() -> None:
    """Hypothesis mixes the literals of every project module imported so far into what it generates (now and then a
    string or number constant instead of a random one). Which modules a pytest worker has imported depends on which
    test files it ran before, so the derandomized tests (tests/test_layouts.py and others) saw other inputs from one
    run to the next: one `make test` generated a line "1.。" that no other run did. With no local constants their
    inputs depend on the test alone. (Hypothesis's private API: if it moves, this fails at collection, loudly.)"""
    from hypothesis.internal.conjecture import providers
    from hypothesis.internal.constants_ast import Constants

    providers._get_local_constants = Constants  # an empty pool, whatever is imported


_hypothesis_without_local_constants()


def seed_path(prefix: str) -> Path:
    """The seed notice whose file name starts with `prefix` (e.g. '000')."""
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    return path


def seed_text(prefix: str) -> str:
    return normalize_text(decode_notice(seed_path(prefix).read_bytes())[0])


def raw_frame(files: dict[str, bytes], errors: dict[str, str] | None = None) -> pl.DataFrame:
    """Landed files as the raw_notices asset gives them (landing.land.RAW_SCHEMA)."""
    errors = errors or {}
    return pl.DataFrame(
        {
            "source_name": list(files),
            "content_sha256": [hashlib.sha256(b).hexdigest() for b in files.values()],
            "data": list(files.values()),
            "read_error": [errors.get(name) for name in files],
            "path": [None] * len(files),
            "size": [len(data) for data in files.values()],
            "mtime_ns": [None] * len(files),
            "ctime_ns": [None] * len(files),
        },
        schema=RAW_SCHEMA,
    )


def query(warehouse: Path, sql: str, params=None) -> pl.DataFrame:
    """A query's result on a read-only connection to `warehouse`."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return pl.from_arrow(con.sql(sql, params=params).to_arrow_table())
    finally:
        con.close()


def notice_frame(*texts: str) -> pl.DataFrame:
    """Staged-notice frame (content_sha256, source_name, text) for normalised texts."""
    return pl.DataFrame(
        {
            "content_sha256": [hashlib.sha256(t.encode()).hexdigest() for t in texts],
            "source_name": [f"notice_{i}.txt" for i in range(len(texts))],
            "text": list(texts),
        }
    )


@pytest.fixture(scope="session")
def seed_texts() -> dict[str, str]:
    return {path.name[:3]: normalize_text(decode_notice(path.read_bytes())[0]) for path in sorted(SEEDS.glob("*.txt"))}


@pytest.fixture(scope="session")
def published(tmp_path_factory) -> Path:
    """The warehouse published by one real refresh of seeds/ (shared by the tests that only read it)."""
    from orchestration.cli import run_refresh

    warehouse = tmp_path_factory.mktemp("wh") / "zhenggai.duckdb"
    outcome = run_refresh(SEEDS, warehouse)
    assert outcome.published, (outcome.failure, outcome.gate_errors)
    return warehouse


def age_file(path, seconds: float) -> None:
    """Set a file's modification time `seconds` in the past (its change time becomes now): beyond the landing
    index's racy window, its stat vouches for its bytes."""
    past = time.time_ns() - int(seconds * 1e9)
    os.utime(path, ns=(past, past))


def process_alive(pid: int) -> bool:
    """Whether process `pid` runs (a zombie, exited but not reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (exited, not reaped) would still answer: read its state
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "zombie" not in status.read_text()
