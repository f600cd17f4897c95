"""Shared by the fault tests: real `zhenggai refresh` processes and checks of a published warehouse."""

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from orchestration.cli import run_refresh
from tests.conftest import seed_path


def zhenggai(*args: str, **popen) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    return subprocess.Popen(
        [sys.executable, "-m", "orchestration.cli", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, **popen,
    )


def notice_count(warehouse: Path) -> int:
    """Rows of dim_notice, after checking the file opens and its fact tables join (a complete warehouse)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        orphans = con.execute(
            "SELECT count(*) FROM fact_issue i ANTI JOIN dim_notice d USING (notice_key)"
        ).fetchone()[0]
        assert orphans == 0
        return con.execute("SELECT count(*) FROM dim_notice").fetchone()[0]
    finally:
        con.close()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def two_then_three(tmp_path_factory):
    """A warehouse published from two seeds, and a landing folder of three (so old and new differ).

    Module-scoped and imported by each fault-test module, so every test file (one per test worker) builds
    its own."""
    root = tmp_path_factory.mktemp("faults")
    small, large = root / "two", root / "three"
    small.mkdir()
    for prefix in ("000", "002"):
        shutil.copy(seed_path(prefix), small)
    shutil.copytree(small, large)
    shutil.copy(seed_path("001"), large)
    warehouse = root / "zhenggai.duckdb"
    assert run_refresh(small, warehouse).published
    return root, small, large, warehouse


def served_copy(published: Path, folder: Path) -> Path:
    """A copy of `published` as the served warehouse of a test, so the shared one is never changed."""
    warehouse = folder / "zhenggai.duckdb"
    shutil.copy(published, warehouse)
    return warehouse
