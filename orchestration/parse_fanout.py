"""`parsed_notices` with the parse fanned out over steps: the asset the definitions use when each step runs in a process
of its own (ZHENGGAI_EXECUTOR=multiprocess, and on a cluster a pod per step: docs/scale-out.md).

The parse is ~2/3 of a full refresh. In one process (orchestration/assets.py) it runs on that machine's cores only (a
pool of its own); here it is three kinds of step, so that an executor with a process, container or pod per step
spreads it over as many machines as it is given:
- `plan_parse`: which notices to parse, in which batches (warehouse.parse_cache.plan_parse), and one dynamic output
  per chunk of PARSE_STEP_BATCHES batches (ZHENGGAI_PARSE_STEP_BATCHES), the files' bytes joined in;
- `parse_chunk`, one step per chunk (Dagster's dynamic mapping): stages and parses its batches into the parse cache
  beside the warehouse, on the cores of the process it runs in;
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
# takes to start (Python, Dagster, the definitions). A pod with more cores parses a larger chunk as fast.
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
        yield dg.DynamicOutput(chunk, output_name="chunks", mapping_key=f"chunk_{index}")


@dg.op
def parse_chunk(plan: parse_cache.ParsePlan, chunk: pl.DataFrame) -> tuple[int, list]:
    """One chunk's batches staged and parsed into the parse cache: (its first batch number, -1 for none; their
    results, in batch order)."""
    first = chunk["batch"].min()
    return (-1 if first is None else int(first)), parse_cache.stage_chunk(plan, chunk)


@dg.op(out=dg.Out(parse_cache.ParsedBatches))
def finish_parse(
    context: dg.OpExecutionContext, plan: parse_cache.ParsePlan, parsed: list, warehouse: WarehouseTarget
) -> parse_cache.ParsedBatches:
    """The chunks' results in batch order, as one parse."""
    results = [result for _, chunk in sorted(parsed, key=lambda numbered: numbered[0]) for result in chunk]
    batches = parse_cache.finish_parse(warehouse.file, plan, results)
    context.add_output_metadata(
        {"parse_failures": batches.failures.height, "notices_parsed": batches.loaded.height - batches.failures.height,
         "rejected_by_staging": batches.rejected.height, "parsed": batches.parsed, "reused_from_cache": batches.reused,
         "batches": len(batches.batches), "parser_version": parse_cache.parser_version(), "parse_steps": len(parsed)}
    )
    return batches


@dg.graph_asset(group_name="staging", kinds={"polars"})
def parsed_notices(raw_notices: pl.DataFrame, staged_notices: NoticeSelection) -> parse_cache.ParsedBatches:
    """Each notice decoded, HTML-stripped and normalised, then its metadata, issue hierarchy, measures, claims and
    indicators, as star rows in Parquet batches of the parse cache (warehouse/parse_cache.py), with a step per
    chunk of batches (orchestration/parse_fanout.py). Only notices absent from the parse cache are parsed."""
    plan, chunks = plan_parse(raw_notices, staged_notices)
    return finish_parse(plan, chunks.map(lambda chunk: parse_chunk(plan, chunk)).collect())
