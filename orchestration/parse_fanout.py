"""`parsed_notices` with the parse fanned out over steps: the asset the definitions use when each step runs in a process
of its own (ZHENGGAI_EXECUTOR=multiprocess, and on a cluster a pod per step: docs/scale-out.md).

The parse is ~2/3 of a full refresh. In one process (orchestration/assets.py) it runs on that machine's cores only (a
pool of its own); here it is three kinds of step, so that an executor with a process, container or pod per step
spreads it over as many machines as it is given:
- `plan_parse`: which notices to parse, in which batches (warehouse.parse_cache.plan_parse), and one dynamic output
  per chunk of PARSE_STEP_BATCHES batches (ZHENGGAI_PARSE_STEP_BATCHES), the files' bytes joined in;
- `parse_chunk`, one step per chunk (Dagster's dynamic mapping): stages and parses its batches into the parse cache
  beside the warehouse, on one core (the executor runs the chunks side by side: a process per core here, a pod
  per chunk on a cluster);
- `finish_parse`: the chunks' results gathered into the ParsedBatches that warehouse_staging reads.

What the one-process asset gives, row for row (warehouse.parse_cache.stage_into_cache is the same three parts); the
parse cache must be on storage every step sees (one machine here; a shared volume or object storage on a cluster).
"""

import os

import dagster as dg
import polars as pl

from orchestration.resources import WarehouseTarget
from transforms.ingest import NoticeSelection
from warehouse import parse_cache

# Batches of transforms.pipeline.PARSE_BATCH_NOTICES (250) notices per step, unless ZHENGGAI_PARSE_STEP_BATCHES says
# otherwise: ~2,000 notices, ~15 s of parse on one core of the machines measured, against the ~3 s a step's process
# takes to start (Python, Dagster, the definitions).
PARSE_STEP_BATCHES = 8
STEP_BATCHES_SETTING = "ZHENGGAI_PARSE_STEP_BATCHES"


def parse_step_batches() -> int:
    """ZHENGGAI_PARSE_STEP_BATCHES (a positive integer), else PARSE_STEP_BATCHES."""
    setting = os.environ.get(STEP_BATCHES_SETTING, "").strip()
    if not setting:
        return PARSE_STEP_BATCHES
    if not setting.isdigit() or int(setting) < 1:
        raise ValueError(f"{STEP_BATCHES_SETTING} must be a positive integer, not {setting!r}")
    return int(setting)


@dg.op(out={"plan": dg.Out(parse_cache.ParsePlan), "chunks": dg.DynamicOut(pl.DataFrame)})
def plan_parse(raw_notices: pl.DataFrame, staged_notices: NoticeSelection, warehouse: WarehouseTarget):
    """The parse planned, and its batches handed out a chunk per step (at least one, empty when nothing is parsed)."""
    plan = parse_cache.plan_parse(warehouse.file, staged_notices.landed, staged_notices.kept)
    yield dg.Output(plan, "plan")
    for index, chunk in enumerate(parse_cache.parse_chunks(plan, raw_notices, parse_step_batches())):
        yield dg.DynamicOutput(chunk, output_name="chunks", mapping_key=chunk_key(index))


def chunk_key(index: int) -> str:
    """The mapping key of the `index`-th chunk: its parse step is `parse_chunk[<key>]`."""
    return f"chunk_{index}"


# Without the warehouse resource, so without the refresh lock: the chunks of one run parse side by side (the lock is
# exclusive and does not wait). finish_parse, under the lock, refuses a parse whose batches another run pruned.
@dg.op
def parse_chunk(plan: parse_cache.ParsePlan, chunk: pl.DataFrame) -> parse_cache.ParsedChunk:
    """One chunk's batches staged and parsed into the parse cache, on one core."""
    return parse_cache.stage_chunk(plan.folder, chunk)


@dg.op(out=dg.Out(parse_cache.ParsedBatches))
def finish_parse(
    context: dg.OpExecutionContext, plan: parse_cache.ParsePlan, parsed: list, warehouse: WarehouseTarget
) -> parse_cache.ParsedBatches:
    """The chunks' results gathered in batch order, as one parse."""
    batches = parse_cache.finish_chunks(warehouse.file, plan, parsed)
    context.add_output_metadata(batches.figures() | {"parse_steps": len(parsed)})
    return batches


@dg.graph_asset(group_name="staging", kinds={"parquet"})
def parsed_notices(raw_notices: pl.DataFrame, staged_notices: NoticeSelection) -> parse_cache.ParsedBatches:
    """Each notice decoded, HTML-stripped and normalised, then its metadata, issue hierarchy, measures, claims and
    indicators, as star rows in Parquet batches of the parse cache (warehouse/parse_cache.py), with a step per
    chunk of batches (orchestration/parse_fanout.py). Only notices absent from the parse cache are parsed."""
    plan, chunks = plan_parse(raw_notices, staged_notices)
    return finish_parse(plan, chunks.map(lambda chunk: parse_chunk(plan, chunk)).collect())
