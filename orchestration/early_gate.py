"""The early gate's process, started by the command line before it imports Dagster and the transforms.

A refresh's gate runs in a process of its own that imports Great Expectations while the run does the rest
(expectations/gate_process.py, GateRunner in orchestration/resources.py). Started by the run when staged_notices
sees that something will be loaded, that process was still importing GX (~4 s of CPU on a slow day) when a patched
staging file was ready (one changed notice at 10,000: the run waited ~1-1.5 s for it on a quiet machine, ~3 s on a
busy one). `zhenggai refresh` therefore starts it first thing, on the other core, while its own process imports
Dagster and lists the landing folder; the run adopts it (`GateRunner.start_early` takes it) or ends it as soon as it
knows there is nothing new (`discard`). Until then it costs CPU on a core this process does not use, and
~150-250 MB, never the run's time.

This module imports only the gate process's module (DuckDB and PyYAML, not GX, not Dagster), so that the command
line can start the process before its own heavy imports.
"""

import logging
import os
import threading
from collections.abc import Callable

from expectations.gate_process import EarlyGate

PROCESS_SETTING = "ZHENGGAI_GATE_PROCESS"  # 1 / 0 forces the gate's own process on or off (default: when loading)

_spare: EarlyGate | None = None
_finishing: list[threading.Thread] = []  # threads waiting for a used gate's Data Docs (finish_in_background)


def gate_process_setting() -> bool | None:
    """ZHENGGAI_GATE_PROCESS: True (1, true, yes), False (0, false, no) or None (unset: when the run loads something)."""
    setting = os.environ.get(PROCESS_SETTING, "").strip().lower()
    return True if setting in ("1", "true", "yes") else False if setting in ("0", "false", "no") else None


def prestart(warm_up: bool = False) -> None:
    """Start the early gate's process now, unless one is waiting already or the setting switches it off; `warm_up`:
    it warms the gate up once GX is imported (EarlyGate), for a process that idles until its gate is due (`watch`)."""
    global _spare
    if _spare is None and gate_process_setting() is not False:
        _spare = EarlyGate(warm_up=warm_up)


def take() -> EarlyGate | None:
    """The process started by `prestart`, handed over to its one user (None when there is none)."""
    global _spare
    spare, _spare = _spare, None
    return spare


def discard() -> None:
    """End the process started by `prestart` if nobody took it."""
    spare = take()
    if spare is not None:
        spare.close()


def finish(gate: EarlyGate, report: Callable[[str], None]) -> None:
    """Wait for the Data Docs of `gate`'s gate (its verdict came back before they were built), end its process, and
    `report` why the docs are missing if they are (the verdict stands)."""
    problem = gate.finish()
    gate.close()
    if problem is not None:
        report(f"the gate's Data Docs were not built: {problem}")


def finish_in_background(gate: EarlyGate) -> None:
    """`finish` from a thread, its report logged: the run that published needs the docs no more (`zhenggai watch`,
    where the process lives on); the next gate waits for them first (`wait_for_docs`). Not a daemon thread: a
    process that ends meanwhile waits for the docs."""
    thread = threading.Thread(target=finish, args=(gate, logging.getLogger(__name__).error), name="zhenggai-gate-docs")
    thread.start()
    _finishing.append(thread)


def wait_for_docs() -> None:
    """Wait until the Data Docs that gates finishing in the background build are written: they are written where the
    next gate writes its own report."""
    while _finishing:
        _finishing.pop().join()
