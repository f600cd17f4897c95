"""Run every parsing transform over staged notices, isolating a notice whose parse fails.

The transforms are written over whole frames (fast, vectorised). If a batch raises, the batch is re-run one
notice at a time so that only the notices that really fail are quarantined, with the exception as the reason;
the others are parsed as usual.
"""

import gc
import multiprocessing
import os
import threading
import traceback
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

import polars as pl

from transforms.claims import extract_claims
from transforms.indicators import extract_indicators
from transforms.ingest import LOADED_SCHEMA, NOTICE_SCHEMA, QUARANTINE_SCHEMA, stage_notices
from transforms.lineage import notices_to_load
from transforms.metadata import extract_metadata
from transforms.star import assign_measures, indicator_spans, notice_tables
from transforms.structure import extract_issues, extract_measures
from transforms.text import simplified_for_matching


@dataclass(frozen=True)
class ParsedNotices:
    """Everything parsed from a set of staged notices (the frames of docs/architecture.md)."""

    notices: pl.DataFrame
    metadata: pl.DataFrame
    issues: pl.DataFrame
    measures: pl.DataFrame
    claims: pl.DataFrame
    indicators: pl.DataFrame
    failures: pl.DataFrame  # quarantine rows for notices whose parse raised

    def frames(self) -> dict[str, pl.DataFrame]:
        return {
            "metadata": self.metadata,
            "issues": self.issues,
            "measures": self.measures,
            "claims": self.claims,
            "indicators": self.indicators,
        }


PARSED_FRAMES = ("metadata", "issues", "measures", "claims", "indicators")


def parse_batch(notices: pl.DataFrame) -> ParsedNotices:
    """Parse a batch of staged notices; raises if any transform raises."""
    # The texts are copied out of Polars once (~0.1 ms a notice each time), for every transform that reads them.
    texts = notices.get_column("text").to_list()
    # Metadata and claims both match cues on the simplified text: each notice is converted once, for both.
    matching = [simplified_for_matching(text or "") for text in texts]
    metadata = extract_metadata(notices, matching, texts)
    issues = extract_issues(notices, texts)
    measures = extract_measures(issues)
    claims = extract_claims(notices, issues, measures, matching)
    indicators = assign_measures(extract_indicators(indicator_spans(notices, issues, texts)), measures)
    return ParsedNotices(notices, metadata, issues, measures, claims, indicators, _no_failures())


# Notices parsed together. The transforms build Python objects per notice before their frames; parsing a
# whole corpus in one batch kept all of them alive at once (peak RSS ~1 MB per notice at 10,000 notices).
PARSE_BATCH_NOTICES = 250


# Worker processes are spawned (a new interpreter each), never forked from the caller. A forked child has
# only the forking thread, while Polars' thread pool and the allocator's state are copied as they were: the
# first parallel Polars operation in the child waits for pool threads that do not exist there (measured: a
# 'fork' pool hangs on the first batch once the caller has used Polars, as staging does), and the caller may
# be a Dagster run with threads of its own. 'forkserver' is no cheaper here: a server that preloads the
# transforms has Polars' and NumPy's threads too (the same hazard), and an empty one leaves every worker to
# import everything, as 'spawn' does. A spawned worker imports the transforms (~1.5 s) and, as multiprocessing
# does for every start method but fork, the caller's __main__ module (cheap for a script, seconds when it is
# the Dagster CLI); both workers start at once.
POOL_START_METHOD = "spawn"

# The parse allocates millions of short-lived containers (tuples, lists, dicts of the figure reader and the
# segmenters), none of them in reference cycles that outlive a batch. Python's cyclic collector runs every 700
# net allocations and, at each older-generation pass, walks every object the imports made (~56,000 in a
# parse worker): ~4 % of a worker's parse CPU (measured: 0.20 s of 5.0 s for 400 notices, 0.05 s with this
# threshold; freezing the imported objects as well gained nothing more). Refcounting still frees everything.
PARSE_GC_THRESHOLD = 50_000

T = TypeVar("T")


def default_workers(batches: int) -> int:
    """One worker per core, no more than there are batches."""
    return max(1, min(os.cpu_count() or 1, batches))


def parse_notices(notices: pl.DataFrame, workers: int | None = None) -> ParsedNotices:
    """Parse all notices, PARSE_BATCH_NOTICES at a time; a notice whose parse raises is moved to `failures`.

    Batches only bound memory: every transform works notice by notice, so the frames are the ones a single
    batch gives, in the same order. `workers` is the number of processes that parse: this one and
    `workers - 1` spawned ones (default: one per core, at most one per batch); `workers=1` parses
    everything here. The frames are concatenated in batch order, so they are the same whatever the number
    of workers.
    """
    if notices.height <= PARSE_BATCH_NOTICES:
        return _parse_isolating_failures(notices)
    batches = in_batches(notices)
    parts = []
    for batch, (frames, failures) in zip(batches, map_batches(_parse_batch_in_worker, batches, workers)):
        parts.append(ParsedNotices(without_failures(batch, failures), **frames, failures=failures))
    return ParsedNotices(
        pl.concat([p.notices for p in parts]),
        **{name: pl.concat([p.frames()[name] for p in parts], how="vertical_relaxed") for name in PARSED_FRAMES},
        failures=pl.concat([p.failures for p in parts]),
    )


def notice_star(notices: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """The star rows (transforms.star.notice_tables) of a batch of staged notices; raises if a transform raises."""
    parsed = parse_batch(notices)
    return notice_tables(parsed.notices, parsed.metadata, parsed.issues, parsed.measures, parsed.claims, parsed.indicators)


def star_notices(notices: pl.DataFrame, sink: Callable[[dict[str, pl.DataFrame], pl.DataFrame], T], workers: int | None = None) -> list[T]:
    """Parse `notices` and build their star rows PARSE_BATCH_NOTICES at a time; each batch's tables and
    quarantine rows (notices whose parse or star rows raised) go to `sink` in the process that built them.

    Only `sink`'s results travel back, in batch order, so no process ever holds the rows of every notice:
    a sink that writes the tables out keeps memory bounded by a batch. `sink` must be picklable (a module-level
    function or an instance of a module-level class) for the spawned workers.
    """
    return map_batches(partial(_star_batch, sink), in_batches(notices), workers)


def _star_batch(sink, batch: pl.DataFrame):
    return sink(*isolating_failures(batch, notice_star))


def stage_star_notices(
    batches: Sequence[pl.DataFrame], sink: Callable[[dict[str, pl.DataFrame], pl.DataFrame], T], workers: int | None = None
) -> list[tuple[T, pl.DataFrame, pl.DataFrame]]:
    """`star_notices` from the files' bytes: each batch (transforms.ingest.plan_staging's rows of one batch,
    with the `data` of the landed files) is staged, then parsed, by the process that takes it, so that no
    process holds the staged texts of the whole corpus.

    Returns, per batch in order: `sink`'s result, the batch's loaded notices (LOADED_SCHEMA and `parse`) and
    its staging quarantine rows (without the bytes, which the caller holds).
    """
    return map_batches(partial(_stage_star_batch, sink), batches, workers)


def stage_batch(rows: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(the notices of a staging batch, NOTICE_SCHEMA with source_present and parse; its quarantine rows).

    Each content is loaded under the first of its files that stages, or as the kept notice when none does
    (transforms.lineage.notices_to_load)."""
    landed = rows.filter(pl.col("source_present"))
    notices, rejected = stage_notices(
        landed.select("source_name", "content_sha256", "data", pl.lit(None, dtype=pl.String).alias("read_error"))
    )
    kept = rows.filter(~pl.col("source_present")).select(list(NOTICE_SCHEMA))
    loaded = notices_to_load(notices, kept, prune_missing=False).join(
        rows.select("content_sha256", "parse").unique("content_sha256"), on="content_sha256", how="left"
    )
    return loaded, rejected.with_columns(pl.lit(None, dtype=pl.Binary).alias("raw_bytes"))


def _stage_star_batch(sink, rows: pl.DataFrame):
    loaded, rejected = stage_batch(rows)
    to_parse = loaded.filter(pl.col("parse")).sort("content_sha256").select(list(NOTICE_SCHEMA))
    return sink(*isolating_failures(to_parse, notice_star)), loaded.select(*LOADED_SCHEMA, "parse"), rejected


def in_batches(notices: pl.DataFrame) -> list[pl.DataFrame]:
    """`notices` cut into consecutive batches of PARSE_BATCH_NOTICES (one empty batch for no notices)."""
    return [notices.slice(start, PARSE_BATCH_NOTICES) for start in range(0, max(notices.height, 1), PARSE_BATCH_NOTICES)]


def map_batches(work: Callable[[pl.DataFrame], T], batches: Sequence[pl.DataFrame], workers: int | None = None) -> list[T]:
    """`work` of every batch, in batch order, computed by this process and `workers - 1` spawned ones
    (default: one per core, at most one per batch). `work` must be picklable for the spawned workers."""
    workers = default_workers(len(batches)) if workers is None else max(1, min(workers, len(batches)))
    with fewer_collections():
        if workers == 1:
            return [work(batch) for batch in batches]
        return _map_in_pool(work, batches, workers - 1)


@contextmanager
def fewer_collections() -> Iterator[None]:
    """The cyclic garbage collector of this process set for parsing (PARSE_GC_THRESHOLD), its earlier setting
    restored after."""
    saved = _collect_for_parsing()
    try:
        yield
    finally:
        gc.set_threshold(*saved)


def _collect_for_parsing() -> tuple[int, int, int]:
    """Set the collector's first threshold to PARSE_GC_THRESHOLD (a spawned worker's initializer: for its life);
    return the setting it replaced."""
    saved = gc.get_threshold()
    gc.set_threshold(PARSE_GC_THRESHOLD, *saved[1:])
    return saved


# A worker is handed a batch ahead of the one it parses while more than this many batches per process remain.
FEED_AHEAD_WHILE = 2


def _map_in_pool(work: Callable[[pl.DataFrame], T], batches: Sequence[pl.DataFrame], spawned: int) -> list[T]:
    """`work` of every batch by this process and `spawned` worker processes, in batch order.

    This process works from the first batch on while the workers start (a worker needs a second or more to
    import the transforms, see POOL_START_METHOD) and take batches from the last one back. A thread of this
    process hands each worker its batches: once the worker has sent back its first, one queued ahead of the one it
    parses while more than FEED_AHEAD_WHILE batches per process remain, so that the worker does not wait for this
    busy process (holding the GIL while it parses) to send the next one and read back the last (at 10,000 notices
    a worker waited ~0.25 s between batches, ~4.7 s in all); none queued while the worker starts (this process
    could take that batch) nor near the end, so that when the batches run out no process waits for a batch
    queued in another (with two batches queued per worker to the end, this process idled for up to two batches).
    After an error, the batches queued ahead and not started are cancelled.
    """
    results: list = [None] * len(batches)
    remaining = _RemainingBatches(len(batches))
    failed: list[BaseException] = []
    ahead_while = FEED_AHEAD_WHILE * (spawned + 1)

    def feed(pool: ProcessPoolExecutor) -> None:
        queued: deque = deque()
        started = False  # the worker sent back a result: it runs (a batch queued before, this process could take)
        try:
            while True:
                while len(queued) < (2 if started and remaining.count() > ahead_while else 1):
                    if (index := remaining.take_last()) is None:
                        break
                    queued.append((index, pool.submit(work, batches[index])))
                if not queued:
                    return
                index, future = queued.popleft()
                results[index] = future.result()
                started = True
        except BaseException as error:  # noqa: BLE001 - raised again in the calling thread below
            failed.append(error)
            remaining.stop()
        finally:
            for _, future in queued:
                future.cancel()  # a batch queued ahead and not started is not parsed after an error

    with ProcessPoolExecutor(
        max_workers=spawned, mp_context=multiprocessing.get_context(POOL_START_METHOD), initializer=_collect_for_parsing
    ) as pool:
        feeders = [threading.Thread(target=feed, args=(pool,), daemon=True) for _ in range(spawned)]
        for feeder in feeders:
            feeder.start()
        try:
            while (index := remaining.take_first()) is not None:
                results[index] = work(batches[index])
        finally:
            remaining.stop()  # after an error here, the workers take no new batch
            for feeder in feeders:
                feeder.join()
    if failed:
        raise failed[0]
    return results


class _RemainingBatches:
    """The batches no process has taken yet: this process takes them from the first, the workers from the
    last; the workers leave the first batch to this process, which is ready before they are."""

    def __init__(self, count: int):
        self._lock = threading.Lock()
        self._first, self._last = 0, count - 1
        self._started = False  # this process has taken a batch

    def take_first(self) -> int | None:
        with self._lock:
            if self._first > self._last:
                return None
            self._started = True
            self._first += 1
            return self._first - 1

    def count(self) -> int:
        with self._lock:
            return max(0, self._last - self._first + 1)

    def take_last(self) -> int | None:
        with self._lock:
            if self._first > self._last or (self._first == self._last and not self._started):
                return None
            self._last -= 1
            return self._last + 1

    def stop(self) -> None:
        with self._lock:
            self._first, self._last = 1, 0


def _parse_batch_in_worker(batch: pl.DataFrame) -> tuple[dict[str, pl.DataFrame], pl.DataFrame]:
    parsed = _parse_isolating_failures(batch)
    return parsed.frames(), parsed.failures


def _parse_isolating_failures(notices: pl.DataFrame) -> ParsedNotices:
    """Parse one batch; a notice whose parse raises is moved to `failures` instead of stopping the rest."""
    frames, failures = isolating_failures(notices, lambda some: parse_batch(some).frames())
    return ParsedNotices(without_failures(notices, failures), **frames, failures=failures)


def without_failures(notices: pl.DataFrame, failures: pl.DataFrame) -> pl.DataFrame:
    """The notices that did not fail (the worker sends back failures only, not the notices it parsed)."""
    return notices.filter(~pl.col("content_sha256").is_in(failures["content_sha256"].implode()))


def isolating_failures(
    notices: pl.DataFrame, work: Callable[[pl.DataFrame], dict[str, pl.DataFrame]]
) -> tuple[dict[str, pl.DataFrame], pl.DataFrame]:
    """`work` over a batch of notices, and the quarantine rows of the notices it raised for.

    `work` maps notices to frames whose rows belong to single notices. When it raises on the batch, it is run
    again one notice at a time, so only the notices that really fail are quarantined, with the exception as
    the reason, and the frames hold the rows of all the others.
    """
    try:
        return work(notices), _no_failures()
    except Exception:  # noqa: BLE001 - isolate the failing notice below
        pass
    parts, failures = [], []
    for index in range(notices.height):
        one = notices.slice(index, 1)
        try:
            parts.append(work(one))
        except Exception as error:  # noqa: BLE001 - a parser bug must not stop the other notices
            row = one.row(0, named=True)
            reason = f"parse failed: {type(error).__name__}: {error} | {traceback.format_exc(limit=-1).strip().splitlines()[-2].strip()}"
            failures.append(
                {
                    "source_name": row["source_name"],
                    "content_sha256": row["content_sha256"],
                    "reason": reason,
                    "raw_text": row["raw_text"],
                    "raw_bytes": None,
                }
            )
    if not parts:
        parts = [work(notices.clear())]
    frames = {name: pl.concat([part[name] for part in parts], how="vertical_relaxed") for name in parts[0]}
    return frames, pl.DataFrame(failures, schema=QUARANTINE_SCHEMA)


def _no_failures() -> pl.DataFrame:
    return pl.DataFrame(schema=QUARANTINE_SCHEMA)
