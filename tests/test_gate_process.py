"""Where and how the gate runs changes nothing it reports: the gate in an early process (expectations/gate_process.py,
the `gate` resource with early=True) and the prefetching of frames give the validation.json of the plain gate."""

import json
import os
import signal
import shutil
import subprocess
import sys
import threading

import dagster as dg
import duckdb
import pytest

import expectations.gate as gate_module
from expectations.gate import GateError, run_gate
from expectations.gate_process import EarlyGate
from orchestration.resources import GateRunner, gate_from_env
from tests.conftest import process_alive

VARYING = ("database", "run_time", "duration_seconds", "data_docs")  # times and paths


def report(result) -> dict:
    document = json.loads(result.json_path.read_text(encoding="utf-8"))
    for name in VARYING:
        document.pop(name)
    return document


@pytest.fixture(scope="module")
def seed(published, tmp_path_factory):
    """A copy of the seed warehouse, its gate run in this process, and a delta run (one notice's key, on the same
    file) with the frames loaded one suite at a time."""
    root = tmp_path_factory.mktemp("process")
    database = root / "published.duckdb"
    shutil.copy(published, database)
    plain = run_gate(database, root / "plain")
    assert plain.passed and plain.warnings
    con = duckdb.connect(str(database), read_only=True)
    (key,) = con.execute("SELECT min(notice_key) FROM dim_notice").fetchone()
    con.close()
    saved = gate_module.AHEAD_BYTES
    gate_module.AHEAD_BYTES = -1  # the next frame is loaded only once the previous one is validated
    try:
        one_at_a_time = run_gate(database, root / "delta", previous=database, changed_notice_keys=[key])
    finally:
        gate_module.AHEAD_BYTES = saved
    assert one_at_a_time.passed
    return database, plain, key, one_at_a_time


def test_the_early_process_gives_the_same_report_and_ends(seed, tmp_path):
    database, plain, _, _ = seed
    with EarlyGate() as early:
        pid = early.pid
        assert pid != os.getpid()
        result = early.run_gate(database, tmp_path / "validation")
        with pytest.raises(GateError, match="one gate only"):
            early.run_gate(database, tmp_path / "again")
        # the verdict comes back before the Data Docs are built; `finish` waits for them
        assert early.finish() is None and result.docs_path.is_file()
        assert early.finish() is None  # (once)
    assert not process_alive(pid)
    assert result.passed == plain.passed and result.warnings == plain.warnings
    assert [(s.table, s.row_count, s.evaluated, s.scope) for s in result.suites] == \
        [(s.table, s.row_count, s.evaluated, s.scope) for s in plain.suites]
    assert report(result) == report(plain)
    assert result.docs_path.is_file() and result.docs_path.is_relative_to(tmp_path / "validation")


@pytest.mark.parametrize("ahead", [gate_module.AHEAD_BYTES, 2**62])
def test_prefetched_frames_give_the_same_report(seed, tmp_path, monkeypatch, ahead):
    """The loader thread reads ahead (without limit: as far as it can), the suites with a delta prepare step too
    (it reads the changed notices' rows only), and the report is the one of frames loaded one at a time."""
    database, plain, key, one_at_a_time = seed
    monkeypatch.setattr(gate_module, "AHEAD_BYTES", ahead)
    threads = {}
    load_arrow = gate_module._StagedReader.load_arrow

    def recording(reader, spec):
        threads[spec.table] = threading.current_thread().name
        return load_arrow(reader, spec)

    monkeypatch.setattr(gate_module._StagedReader, "load_arrow", recording)
    result = run_gate(database, tmp_path / "validation", previous=database, changed_notice_keys=[key])
    assert report(result) == report(one_at_a_time)
    prepared = {spec.table for spec in gate_module.load_suites() if spec.delta is not None and (spec.delta.prepare or spec.prepare)
                or spec.delta is None and spec.prepare}
    assert {"fact_indicator", "fact_claim"} <= prepared
    assert set(threads.values()) == {"zhenggai-gate-loader"}
    # over every row, read ahead too, but a suite whose prepare step runs over every row is loaded alone, by the
    # validating thread (DuckDB's largest working memory: see AHEAD_BYTES)
    threads.clear()
    full = run_gate(database, tmp_path / "full")
    assert report(full) == report(plain)
    alone = {spec.table for spec in gate_module.load_suites() if spec.prepare}
    assert {table for table, thread in threads.items() if thread == threading.main_thread().name} == alone
    assert {table for table, thread in threads.items() if thread == "zhenggai-gate-loader"} == \
        {spec.table for spec in gate_module.load_suites()} - alone


def test_a_warmed_up_early_process_gives_the_same_report(seed, tmp_path):
    """The process validates the suites over an empty warehouse while it waits, then the real gate: the same report."""
    database, _, key, one_at_a_time = seed
    with EarlyGate(warm_up=True) as early:
        result = early.run_gate(database, tmp_path / "validation", previous=database, changed_notice_keys=[key])
        assert early.finish() is None
    assert report(result) == report(one_at_a_time)


def test_an_unused_early_process_is_ended_at_once(tmp_path):
    with EarlyGate() as early:
        pid = early.pid
    # terminated, not waited for: a refresh with nothing new does not wait for GX's import (~4 s)
    assert early._process.exitcode == -signal.SIGTERM
    assert not process_alive(pid)


def test_the_gate_resource_runs_the_gate_early_when_asked(tmp_path, monkeypatch):
    monkeypatch.setenv("ZHENGGAI_GATE_PROCESS", "1")
    assert gate_from_env().early
    monkeypatch.setenv("ZHENGGAI_GATE_PROCESS", "0")
    assert gate_from_env().early is False
    monkeypatch.delenv("ZHENGGAI_GATE_PROCESS")
    assert gate_from_env().early is None  # started when staged_notices sees that something will be loaded
    # early=True: the process starts with the resource and the gate runs there (its report equals the plain
    # gate's: test above); a gate failing there is raised here; the process ends with the resource
    with dg.build_resources({"gate": GateRunner(early=True)}) as resources:
        assert resources.gate.runs_early
        pid = resources.gate._early_gate.pid
        with pytest.raises(GateError, match="staged warehouse not found"):
            resources.gate.run_gate(str(tmp_path / "missing.duckdb"), tmp_path / "early")
        assert resources.gate._early_gate._used
    assert not process_alive(pid)
    # the default waits for start_early (staged_notices, when something will be loaded); early=False never starts one
    with dg.build_resources({"gate": GateRunner()}) as resources:
        assert not resources.gate.runs_early
        resources.gate.start_early()
        assert resources.gate.runs_early
        pid = resources.gate._early_gate.pid
    assert not process_alive(pid)
    with dg.build_resources({"gate": GateRunner(early=False)}) as resources:
        resources.gate.start_early()
        assert not resources.gate.runs_early


@pytest.mark.parametrize("enabled", [True, False])
def test_great_expectations_is_imported_with_the_collector_paused_then_as_it_was(monkeypatch, enabled):
    import builtins
    import gc

    seen = []
    real_import = builtins.__import__

    def recording_import(name, *args, **kwargs):
        if name == "great_expectations":
            seen.append(gc.isenabled())
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", recording_import)
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        module = gate_module.import_great_expectations()
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()
    assert seen == [False] and module.__name__ == "great_expectations"


# A bar built as GX builds them while it validates, and the named semaphores registered with the resource tracker.
_BAR_SEMAPHORES = """
import multiprocessing
import multiprocessing.resource_tracker as tracker
multiprocessing.set_start_method("spawn")  # as in the gate's process, spawned (under "fork" no name is registered)
registered = []
tracker.register = lambda name, kind: registered.append(kind)
if {without_lock}:
    from expectations.gate_process import _progress_bars_without_a_process_lock
    _progress_bars_without_a_process_lock()
from tqdm import tqdm
with tqdm(total=1, disable=True):
    pass
print(registered.count("semaphore"))
"""


@pytest.mark.parametrize("without_lock, semaphores", [(False, "1"), (True, "0")])
def test_the_gate_process_makes_no_semaphore_for_its_progress_bars(without_lock, semaphores):
    """The gate's process is terminated once its work is done, possibly while its exit removes a semaphore (the
    tracker then warned of a leak after the command ended): its progress bars take a thread lock instead."""
    code = _BAR_SEMAPHORES.format(without_lock=without_lock)
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert run.stdout.strip() == semaphores


def test_the_gate_process_imports_great_expectations_without_sqlalchemy():
    """The early process marks SQLAlchemy, an optional extra of GX for its SQL data sources, as absent: GX imports
    without it (the reports of the tests above come from such a process)."""
    code = ("import sys; from expectations import gate_process; gate_process._gx_without_its_sql_extra(); "
            "from expectations import gate; gate.import_great_expectations(); import great_expectations as gx; "
            "gx.get_context(mode='ephemeral'); print(sys.modules.get('sqlalchemy', 'absent'))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "None"
