"""`zhenggai refresh` starts the gate's own process before the run (orchestration/early_gate.py); the run adopts it
when it loads something (a first build, a full build or a patch) and ends it when nothing is new."""

import json
import shutil

import dagster as dg
import pytest
from typer.testing import CliRunner

from expectations.gate_process import EarlyGate
from orchestration import definitions, early_gate
from orchestration.cli import app
from orchestration.resources import EXECUTOR_SETTING, GateRunner
from tests.conftest import SEEDS, process_alive

runner = CliRunner()


def test_the_run_adopts_the_process_started_before_it_or_ends_it(monkeypatch):
    monkeypatch.delenv(early_gate.PROCESS_SETTING, raising=False)
    early_gate.prestart()
    pid = early_gate._spare.pid
    with dg.build_resources({"gate": GateRunner()}) as resources:
        resources.gate.start_early()  # staged_notices: something will be loaded
        assert resources.gate._early_gate.pid == pid and early_gate.take() is None  # adopted, no second process
    assert not process_alive(pid)

    early_gate.prestart()
    pid = early_gate._spare.pid
    with dg.build_resources({"gate": GateRunner()}) as resources:
        resources.gate.decline_early()  # nothing new
        assert not process_alive(pid) and not resources.gate.runs_early

    early_gate.prestart()
    pid = early_gate._spare.pid
    with dg.build_resources({"gate": GateRunner()}):
        pass  # the run failed before deciding
    assert not process_alive(pid) and early_gate.take() is None

    monkeypatch.setenv(early_gate.PROCESS_SETTING, "0")
    early_gate.prestart()
    assert early_gate.take() is None


class _Recorded(EarlyGate):
    """An EarlyGate that records itself in `started` and whether its gate ran."""

    started: list["_Recorded"] = []

    def __init__(self, warm_up: bool = False):
        super().__init__(warm_up=warm_up)
        self.ran, self.warm_up = False, warm_up
        self.started.append(self)

    def run_gate(self, *args, **kwargs):
        self.ran = True
        return super().run_gate(*args, **kwargs)


@pytest.fixture
def started(monkeypatch) -> list[_Recorded]:
    """The early gates `zhenggai refresh` starts from now on, in order."""
    monkeypatch.delenv(early_gate.PROCESS_SETTING, raising=False)
    monkeypatch.setattr(_Recorded, "started", [])
    monkeypatch.setattr(early_gate, "EarlyGate", _Recorded)
    return _Recorded.started


def test_a_first_build_runs_its_gate_in_the_process_started_first(started, tmp_path):
    warehouse = tmp_path / "zhenggai.duckdb"
    built = runner.invoke(app, ["refresh", "--source", str(SEEDS), "--warehouse", str(warehouse), "--quiet"])
    assert built.exit_code == 0, built.output
    assert warehouse.is_file()
    assert len(started) == 1 and started[0].ran and not process_alive(started[0].pid)
    assert not started[0].warm_up  # a first build's parse workers use every core: the gate is not warmed up
    gated = json.loads((tmp_path / "validation" / "validation.json").read_text(encoding="utf-8"))
    assert gated["mode"] == "full" and gated["passed"]


# The command runs in its own process whatever ZHENGGAI_EXECUTOR says (the definitions' executor for `dagster dev`
# and `dagster job execute`), so its gate runs early under either setting.
@pytest.mark.parametrize("executor", ["in_process", "multiprocess"])
def test_refresh_starts_the_gate_process_first_when_there_is_a_published_file(started, published, tmp_path, monkeypatch, executor):
    monkeypatch.setenv(EXECUTOR_SETTING, executor)
    monkeypatch.setattr(definitions, "defs", definitions.build_definitions())  # as a process started with it sees them
    source, warehouse = tmp_path / "landing", tmp_path / "zhenggai.duckdb"
    shutil.copytree(SEEDS, source)
    shutil.copy(published, warehouse)  # built from the same files by the same code
    refresh = ["refresh", "--source", str(source), "--warehouse", str(warehouse), "--quiet"]

    nothing_new = runner.invoke(app, refresh)
    assert nothing_new.exit_code == 0, nothing_new.output
    assert len(started) == 1 and not started[0].ran and not process_alive(started[0].pid)  # started, not used, ended

    edited = sorted(source.glob("*.txt"))[0]
    edited.write_text(edited.read_text(encoding="utf-8") + "\n截至目前,上述问题已全部完成整改。\n", encoding="utf-8")
    patched = runner.invoke(app, refresh)
    assert patched.exit_code == 0, patched.output
    assert len(started) == 2 and started[1].ran and not process_alive(started[1].pid)  # the gate ran in it, then it ended
    # its patch is ready before a warm-up would be done, and would share the cores with it (watch warms up between changes)
    assert not any(gate.warm_up for gate in started)


def test_a_gate_finished_in_the_background_is_waited_for_and_its_docs_failure_logged(caplog):
    class Finishing:
        closed = False

        def finish(self):
            return "GXError: the site could not be written"

        def close(self):
            self.closed = True

    gate = Finishing()
    with caplog.at_level("ERROR", logger="orchestration.early_gate"):
        early_gate.finish_in_background(gate)
        early_gate.wait_for_docs()
    assert gate.closed
    assert "Data Docs were not built: GXError: the site could not be written" in caplog.text
