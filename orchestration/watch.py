"""`zhenggai watch`: the refresh job run in one long-lived process whenever the landing folder changes.

The sensor of `make ui` (definitions.new_notice_sensor) starts a refresh when the landing folder's fingerprint
changes, and `zhenggai refresh` run by cron does the same job; both start a new process for every run. At 10,000
notices a refresh after one changed notice then spends ~1.4 s before its first step (Python, Dagster, Polars, DuckDB
and the transforms imported, Dagster's instance set up) and its parse compiles its patterns again, for ~3 s of work.
`watch` runs the same job in process (cli.run_refresh: the same steps, gate and publication) from one process that
keeps those imports, and between refreshes keeps a gate process that has imported GX already
(orchestration/early_gate.py, as `zhenggai refresh` starts one first thing).

A change is refreshed once the folder's fingerprint (NoticeSource.fingerprint: names, sizes, modification times)
differs from the one the last refresh read and is the same at two polls in a row, so that a file still being copied
in is not read half-written. A refresh that another one holds the lock against is tried again at the next poll; one
that fails (gate blocked, run failed) is not, until the folder changes again.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from orchestration import early_gate


@dataclass(frozen=True)
class WatchedRefresh:
    """One refresh the watcher ran: its outcome (cli.RefreshOutcome) and how long the run took."""

    outcome: object
    seconds: float


def watch(
    source: Path,
    warehouse: Path,
    run: Callable[[], object],
    on_refresh: Callable[[WatchedRefresh], None],
    interval_s: float = 2.0,
    refreshes: int | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Poll `source` every `interval_s` seconds and `run()` the refresh (first at once, then on every settled
    change), handing each to `on_refresh`; stop after `refreshes` refreshes (None: until interrupted). Returns how
    many ran."""
    from expectations.gate import release_freed_memory
    from orchestration.resources import NoticeSource
    from transforms.warm_up import warm_up

    folder = NoticeSource(directory=str(source))
    warm_up()  # the parser's reference data and patterns, loaded before the first change rather than on it
    early_gate.prestart(warm_up=True)  # (started already by `zhenggai watch`, unless the setting is off)
    refreshed: str | None = None  # the fingerprint the last refresh (that was not locked out) read
    previous: str | None = None  # the fingerprint at the previous poll
    done = 0
    while refreshes is None or done < refreshes:
        fingerprint = folder.fingerprint()
        if fingerprint != refreshed and (refreshed is None or fingerprint == previous):
            started = time.perf_counter()
            outcome = run()
            seconds = time.perf_counter() - started
            if not getattr(outcome, "locked", False):
                refreshed = fingerprint
            done += 1
            on_refresh(WatchedRefresh(outcome, seconds))
            # what the run freed goes back to the system while the watcher waits; the next refresh's gate process
            # imports GX meanwhile
            release_freed_memory()
            early_gate.prestart(warm_up=True)
        previous = fingerprint
        if refreshes is None or done < refreshes:
            sleep(interval_s)
    return done
