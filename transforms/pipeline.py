"""Run every parsing transform over staged notices, isolating a notice whose parse fails.

The transforms are written over whole frames (fast, vectorised). If a batch raises, the batch is re-run one
notice at a time so that only the notices that really fail are quarantined, with the exception as the reason;
the others are parsed as usual.
"""

import multiprocessing
import os
import traceback
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass

import polars as pl

from transforms.claims import extract_claims
from transforms.indicators import extract_indicators
from transforms.ingest import QUARANTINE_SCHEMA
from transforms.metadata import extract_metadata
from transforms.star import assign_measures, indicator_spans
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


def reuse_parsed(notices: pl.DataFrame, cached: dict[str, pl.DataFrame], fresh: ParsedNotices) -> ParsedNotices:
    """All of `notices` parsed: the frames of notices found in `cached` plus the `fresh` parse of the rest.

    `cached` holds parsed frames keyed like `ParsedNotices.frames()` (possibly of other notices too); only
    rows of notices in `notices` that `fresh` did not parse are taken from it. Rows are ordered by notice
    and position so that an incremental refresh gives exactly the frames a full parse gives.
    """
    failed = fresh.failures["content_sha256"].implode()
    parsed_now = pl.concat([fresh.notices["content_sha256"], fresh.failures["content_sha256"]]).implode()
    wanted = notices.filter(~pl.col("content_sha256").is_in(parsed_now))["content_sha256"].implode()
    merged = {}
    for name, frame in fresh.frames().items():
        reused = cached[name].filter(pl.col("content_sha256").is_in(wanted))
        merged[name] = _in_notice_order(pl.concat([reused, frame], how="vertical_relaxed").cast(frame.schema))
    kept = notices.filter(~pl.col("content_sha256").is_in(failed))
    return ParsedNotices(kept, **merged, failures=fresh.failures)


def _in_notice_order(frame: pl.DataFrame) -> pl.DataFrame:
    order = [c for c in ("content_sha256", "node_ordinal", "measure_ordinal", "char_start") if c in frame.columns]
    return frame.sort(order, nulls_last=False, maintain_order=True)


def parse_batch(notices: pl.DataFrame) -> ParsedNotices:
    """Parse a batch of staged notices; raises if any transform raises."""
    # Metadata and claims both match cues on the simplified text: each notice is converted once, for both.
    matching = [simplified_for_matching(text or "") for text in notices.get_column("text").to_list()]
    metadata = extract_metadata(notices, matching)
    issues = extract_issues(notices)
    measures = extract_measures(issues)
    claims = extract_claims(notices, issues, measures, matching)
    indicators = assign_measures(extract_indicators(indicator_spans(notices, issues)), measures)
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
    batches = [notices.slice(start, PARSE_BATCH_NOTICES) for start in range(0, notices.height, PARSE_BATCH_NOTICES)]
    workers = default_workers(len(batches)) if workers is None else max(1, min(workers, len(batches)))
    if workers == 1:
        parts = [_parse_isolating_failures(batch) for batch in batches]
    else:
        parts = _parse_in_pool(batches, workers - 1)
    return ParsedNotices(
        pl.concat([p.notices for p in parts]),
        **{name: pl.concat([p.frames()[name] for p in parts], how="vertical_relaxed") for name in PARSED_FRAMES},
        failures=pl.concat([p.failures for p in parts]),
    )


def _parse_in_pool(batches: list[pl.DataFrame], spawned: int) -> list[ParsedNotices]:
    """The batches parsed by this process and `spawned` worker processes, in batch order.

    This process parses batches from the first one on while the workers start (a worker needs a second or
    more to import the transforms, see POOL_START_METHOD) and take batches from the last one back; each
    worker has one batch running and one waiting, so it does not idle between batches. A worker sends back
    the parsed frames and the failures only: the notices it parsed are the batch less the failures, taken
    here from the batch (the notice texts are not sent back).
    """
    parts: list[ParsedNotices | None] = [None] * len(batches)
    first, last = 0, len(batches) - 1  # the batches no process has taken yet
    running: dict[int, Future] = {}
    with ProcessPoolExecutor(max_workers=spawned, mp_context=multiprocessing.get_context(POOL_START_METHOD)) as pool:
        while True:
            for index in [index for index, future in running.items() if future.done()]:
                frames, failures = running.pop(index).result()
                batch = batches[index]
                ok = batch if failures.is_empty() else batch.filter(~pl.col("content_sha256").is_in(failures["content_sha256"].implode()))
                parts[index] = ParsedNotices(ok, **frames, failures=failures)
            while first < last and len(running) < 2 * spawned:  # the first batch left is this process's
                running[last] = pool.submit(_parse_batch_in_worker, batches[last])
                last -= 1
            if first <= last:
                parts[first] = _parse_isolating_failures(batches[first])
                first += 1
            elif running:
                wait(running.values(), return_when=FIRST_COMPLETED)
            else:
                break
    return parts  # type: ignore[return-value]  # every batch was parsed by one process or the other


def _parse_batch_in_worker(batch: pl.DataFrame) -> tuple[dict[str, pl.DataFrame], pl.DataFrame]:
    parsed = _parse_isolating_failures(batch)
    return parsed.frames(), parsed.failures


def _parse_isolating_failures(notices: pl.DataFrame) -> ParsedNotices:
    """Parse one batch; a notice whose parse raises is moved to `failures` instead of stopping the rest."""
    try:
        return parse_batch(notices)
    except Exception:  # noqa: BLE001 - isolate the failing notice below
        if notices.height <= 1:
            raise
    parsed, failures = [], []
    for index in range(notices.height):
        one = notices.slice(index, 1)
        try:
            parsed.append(parse_batch(one))
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
    merged = {
        name: pl.concat([p.frames()[name] for p in parsed], how="vertical_relaxed") if parsed else None
        for name in ("metadata", "issues", "measures", "claims", "indicators")
    }
    ok = notices.filter(~pl.col("content_sha256").is_in([f["content_sha256"] for f in failures]))
    if not parsed:
        empty = parse_batch(notices.clear())
        merged = empty.frames()
    return ParsedNotices(ok, **merged, failures=pl.DataFrame(failures, schema=QUARANTINE_SCHEMA))


def _no_failures() -> pl.DataFrame:
    return pl.DataFrame(schema=QUARANTINE_SCHEMA)
