"""Where and how the gate runs changes nothing it reports: the gate in an early process (expectations/gate_process.py,
the `gate` resource with early=True) and the prefetching of frames give the validation.json of the plain gate."""

import json
import os
import shutil
import time
from pathlib import Path

import dagster as dg
import pytest

import expectations.gate as gate_module
from expectations.gate import GateError, run_gate
from expectations.gate_process import EarlyGate
from orchestration.resources import GateRunner, gate_from_env

VARYING = ("database", "run_time", "duration_seconds", "data_docs")  # times and paths


def report(result) -> dict:
    document = json.loads(result.json_path.read_text(encoding="utf-8"))
    for name in VARYING:
        document.pop(name)
    return document


@pytest.fixture(scope="module")
def seed(published, tmp_path_factory):
    """A copy of the seed warehouse and its gate run in this process, frames loaded one suite at a time."""
    root = tmp_path_factory.mktemp("process")
    database = root / "published.duckdb"
    shutil.copy(published, database)
    saved = gate_module.AHEAD_BYTES
    gate_module.AHEAD_BYTES = -1  # the next frame is loaded only once the previous one is validated
    try:
        plain = run_gate(database, root / "plain")
    finally:
        gate_module.AHEAD_BYTES = saved
    assert plain.passed and plain.warnings
    return database, plain


def test_the_early_process_gives_the_same_report_and_ends(seed, tmp_path):
    database, plain = seed
    with EarlyGate() as early:
        pid = early.pid
        assert pid != os.getpid()
        result = early.run_gate(database, tmp_path / "validation")
        with pytest.raises(GateError, match="one gate only"):
            early.run_gate(database, tmp_path / "again")
    assert not _alive(pid)
    assert result.passed == plain.passed and result.warnings == plain.warnings
    assert [(s.table, s.row_count, s.evaluated, s.scope) for s in result.suites] == \
        [(s.table, s.row_count, s.evaluated, s.scope) for s in plain.suites]
    assert report(result) == report(plain)
    assert result.docs_path.is_file() and result.docs_path.is_relative_to(tmp_path / "validation")


def test_prefetching_every_frame_gives_the_same_report(seed, tmp_path, monkeypatch):
    """With no limit on the frames held, the loader runs as far ahead as it can: same report."""
    database, plain = seed
    monkeypatch.setattr(gate_module, "AHEAD_BYTES", 2**62)
    assert report(run_gate(database, tmp_path / "validation")) == report(plain)


def test_an_unused_early_process_is_ended_at_once(tmp_path):
    started = time.perf_counter()
    with EarlyGate() as early:
        pid = early.pid
    # terminated, not waited for: a refresh with nothing new does not wait for GX's import (~4 s)
    assert time.perf_counter() - started < 3
    assert not _alive(pid)


def test_a_gate_that_fails_in_the_early_process_raises_in_the_caller(tmp_path):
    with EarlyGate() as early:
        with pytest.raises(GateError, match="staged warehouse not found"):
            early.run_gate(tmp_path / "missing.duckdb", tmp_path / "validation")


def test_the_gate_resource_runs_the_gate_early_when_asked(seed, tmp_path, monkeypatch):
    database, plain = seed
    monkeypatch.setenv("ZHENGGAI_GATE_PROCESS", "1")
    assert gate_from_env().early
    monkeypatch.delenv("ZHENGGAI_GATE_PROCESS")
    assert not gate_from_env().early
    with dg.build_resources({"gate": GateRunner(early=True)}) as resources:
        assert resources.gate._early_gate is not None
        early = report(resources.gate.run_gate(str(database), tmp_path / "early"))
    with dg.build_resources({"gate": GateRunner()}) as resources:
        assert resources.gate._early_gate is None
        here = report(resources.gate.run_gate(str(database), tmp_path / "here"))
    assert early == here == report(plain)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (exited, not reaped) would still answer: read its state
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "zombie" not in status.read_text()
