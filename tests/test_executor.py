"""ZHENGGAI_EXECUTOR: the definitions run a step per process when asked (the local stand-in for Dagster's k8s and
Docker executors, bench/scale_out_demo.py). `zhenggai refresh` runs in its own process whatever it says, with its
gate's early process: tests/test_early_gate.py."""

import dagster as dg
import pytest

from orchestration.definitions import build_definitions
from orchestration.early_gate import PROCESS_SETTING
from orchestration.resources import EXECUTOR_SETTING, executor_from_env, executor_setting, gate_from_env


@pytest.mark.parametrize("value, executor", [
    (None, dg.in_process_executor), ("", dg.in_process_executor), ("in_process", dg.in_process_executor),
    ("multiprocess", dg.multiprocess_executor), (" Multiprocess ", dg.multiprocess_executor),
])
def test_the_executor_comes_from_the_environment(monkeypatch, value, executor):
    if value is None:
        monkeypatch.delenv(EXECUTOR_SETTING, raising=False)
    else:
        monkeypatch.setenv(EXECUTOR_SETTING, value)
    assert executor_from_env() is executor


def test_an_unknown_executor_is_an_error(monkeypatch):
    monkeypatch.setenv(EXECUTOR_SETTING, "k8s")
    with pytest.raises(ValueError, match="ZHENGGAI_EXECUTOR must be in_process or multiprocess, not 'k8s'"):
        executor_setting()


def test_the_refresh_job_takes_the_executor_of_the_environment(monkeypatch):
    monkeypatch.setenv(EXECUTOR_SETTING, "multiprocess")
    assert build_definitions().resolve_job_def("refresh").executor_def is dg.multiprocess_executor
    monkeypatch.delenv(EXECUTOR_SETTING)
    assert build_definitions().resolve_job_def("refresh").executor_def is dg.in_process_executor


@pytest.mark.parametrize("executor, forced, early", [
    ("in_process", None, None),  # started when the load patches
    ("multiprocess", None, False),  # staged_notices' process would start it, the gate's process would not use it
    ("multiprocess", "1", True),
    ("in_process", "0", False),
])
def test_the_early_gate_is_off_with_a_process_per_step_unless_forced(monkeypatch, executor, forced, early):
    monkeypatch.setenv(EXECUTOR_SETTING, executor)
    if forced is None:
        monkeypatch.delenv(PROCESS_SETTING, raising=False)
    else:
        monkeypatch.setenv(PROCESS_SETTING, forced)
    assert gate_from_env().early is early
    assert gate_from_env("in_process").early is (None if forced is None else forced == "1")  # the command line's
