"""The gate in a process of its own, started early: Great Expectations is imported while the refresh does the rest.

Importing GX costs ~4 s of CPU, most of the fixed cost of an incremental refresh's gate. A thread cannot hide it
(the import holds the GIL, as does the refresh's own start-up), a second process can: `EarlyGate()` spawns one
process that imports GX and the gate at once, while the refresh reads, parses and stages on the other core; the
gate then runs there (`EarlyGate.run_gate`, the arguments of `expectations.gate.run_gate`), reading the staged file
itself, so that only the GateResult crosses back, as soon as the verdict is written: the process then builds the
Data Docs while the refresh publishes, and `finish()` waits for them. `close()` terminates the process (a refresh with
nothing new must not wait for an import it does not need, nor any refresh for the teardown of a process whose gate
is done).

It is the same gate (`expectations.gate.run_gate`, same suites, same validation.json and Data Docs); only where it
runs changes. A process that dies or cannot be started is a GateError, never a pass.
"""

import gc
import multiprocessing
import os
import sys
from typing import Any

from expectations.gate import GateError, GateResult, release_freed_memory

_START_METHOD = "spawn"  # a new interpreter: never a fork of a process running Dagster's threads
# How long the refresh waits, at its end, for the Data Docs of a gate whose verdict it has (~0.25-0.5 s at 10,000 notices)
DOCS_TIMEOUT_S = 120.0


def _serve(connection, warm_up: bool) -> None:
    """The child: import GX and the gate (and, asked to, warm the gate up until the request comes), then run the one
    gate request it receives and send back its outcome."""
    _progress_bars_without_a_process_lock()
    _gx_without_its_sql_extra()
    try:
        from expectations import gate

        gate.import_great_expectations()  # the import this process exists to do early
        _imports_out_of_the_collectors_reach()
    except BaseException as exc:  # noqa: BLE001 - reported to the parent when it asks for the gate
        failure: BaseException | None = exc
    else:
        failure = None
        if warm_up:
            try:
                gate.warm_up(stop=connection.poll)  # (a request, or the parent gone, stops it)
            except Exception:  # noqa: BLE001 - a warm-up that fails only leaves the gate cold
                pass
    try:
        request = connection.recv()
    except EOFError:  # the parent closed without running the gate
        return
    if failure is not None:
        connection.send(("error", _picklable(failure)))
        connection.close()
        return
    args, kwargs = request
    verdict_sent = False

    def send_verdict(result: GateResult) -> None:
        nonlocal verdict_sent
        connection.send(("result", result))
        verdict_sent = True

    try:
        gate.run_gate(*args, on_verdict=send_verdict, **kwargs)
    except BaseException as exc:  # noqa: BLE001 - raised again in the parent
        # before the verdict: the gate failed; after it: only its Data Docs did
        connection.send(("docs" if verdict_sent else "error", _picklable(exc)))
    else:
        connection.send(("docs", None))
    connection.close()


def _imports_out_of_the_collectors_reach() -> None:
    """GX's import makes ~260,000 objects that live as long as this process: frozen (gc.freeze), they are no longer
    walked by each collection of the older generations. Measured: the collections of the warm-up that follows the
    import took 0.011-0.012 s instead of 0.195-0.198 s (the warm-up 1.21-1.25 s instead of 1.41-1.44 s), those of a
    full gate of 10,000 notices 0.025 s instead of 0.19 s. The import's few cycles of garbage (~3,000 objects, made
    while the collector was paused) are frozen with the rest, never collected, rather than paying ~0.2 s for a
    collection first. Only in this process, which runs nothing else (a refresh's own process freezes what it imports
    itself: orchestration/cli.py _freeze_imports)."""
    gc.freeze()


def _gx_without_its_sql_extra() -> None:
    """GX imports SQLAlchemy whenever it is installed (here it is, for Dagster), for its SQL data sources, an optional
    extra of GX; the gate validates pandas frames only. Marked as absent in this process, it is not imported: GX then
    runs as it does without that extra, its import took 1.75-1.86 s instead of 1.99-2.48 s (three runs each, in turns)
    and the process holds 166 MiB instead of 186 MiB once it is done, for the whole refresh. A one-notice refresh's
    wall time does not change (the import is over before the gate is due); a full build's parse has that CPU back.
    Only in the gate's own process, which runs nothing else (a process that imported it already keeps it)."""
    sys.modules.setdefault("sqlalchemy", None)


def _progress_bars_without_a_process_lock() -> None:
    """GX builds tqdm progress bars (disabled, but built) while it validates, and tqdm's first bar creates a
    multiprocessing lock, a named semaphore registered with multiprocessing's resource tracker. This process is
    terminated once its work is done (EarlyGate.close), sometimes while its own exit is removing that semaphore:
    the tracker then warned, after the command had ended, of a leaked semaphore. Nothing in this process shares
    a bar with another process, so a thread lock does."""
    import threading

    from tqdm import tqdm

    tqdm.set_lock(threading.RLock())


def _picklable(exc: BaseException) -> BaseException:
    import pickle

    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001 - an exception pickle cannot carry is sent as its text
        return GateError(f"{type(exc).__name__}: {exc}")


class EarlyGate:
    """One spawned process importing GX from now on, to run one gate later (`run_gate`), then `close()`.

    `warm_up`: once GX is imported, the process validates the suites over an empty warehouse until the request comes
    (expectations.gate.warm_up), so that the gate does not pay for GX's first use (~0.2 s at 10,000 notices). For a
    process that idles before its gate is due (`zhenggai watch` between changes). Not for a process that works
    meanwhile: a first build's parse workers use every core, and a new `zhenggai refresh`'s patch is ready before the
    warm-up is done (its DuckDB threads and the warm-up then share the cores, for no faster verdict)."""

    def __init__(self, warm_up: bool = False) -> None:
        context = multiprocessing.get_context(_START_METHOD)
        self._connection, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, warm_up), name="zhenggai-gate", daemon=True)
        self._process.start()
        child.close()
        self._used = False
        self._docs_pending = False  # a verdict was returned and the docs are being built

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def run_gate(self, *args: Any, **kwargs: Any) -> GateResult:
        """`expectations.gate.run_gate(*args, **kwargs)` in the early process (once), returned as soon as its verdict
        is known: the process builds the Data Docs after that, while the refresh goes on (`finish` waits for them)."""
        if self._used:
            raise GateError("the early gate process runs one gate only")
        self._used = True
        # This process waits while the gate runs: the pages its own work freed (the staging file's build: ~130 MiB at
        # 10,000 notices) go back to the system first, as the gate does in its process, instead of adding to the peak.
        release_freed_memory()
        try:
            self._connection.send((args, kwargs))
            kind, value = self._connection.recv()
        except (EOFError, OSError) as exc:
            self._process.join(timeout=5)
            raise GateError(f"the gate's process ended without a result (exit code {self._process.exitcode})") from exc
        if kind == "error":
            raise value
        self._docs_pending = True
        return value

    def finish(self, timeout: float = DOCS_TIMEOUT_S) -> str | None:
        """Wait until the process has built the Data Docs of the gate it ran: None once they are built (or when no
        gate ran), else why they are not (the verdict stands; only the human-readable report is missing)."""
        if not self._docs_pending:
            return None
        self._docs_pending = False
        try:
            if not self._connection.poll(timeout):
                return f"the gate's process did not finish the Data Docs within {timeout:.0f} s"
            kind, value = self._connection.recv()
        except (EOFError, OSError):
            return f"the gate's process ended before building the Data Docs (exit code {self._process.exitcode})"
        return None if value is None else f"{type(value).__name__}: {value}"

    def close(self) -> None:
        """End the process: terminated, whether it never ran a gate or sent back its outcome and built its docs
        (`finish`; its report is written by then, and what is left is the interpreter's teardown of GX and the
        frames, ~0.4 s at 10,000 notices that the refresh need not wait for), or its parent gave up on a gate still
        running."""
        self.finish()
        if self._process.pid is None:
            return
        if self._process.is_alive():
            self._process.terminate()
        self._connection.close()
        self._process.join(timeout=30)
        if self._process.is_alive():  # (SIGTERM ignored)
            os.kill(self._process.pid, 9)
            self._process.join()

    def __enter__(self) -> "EarlyGate":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
