"""The parse fanned out over steps (orchestration/parse_fanout.py, the definitions with a process per step): planned,
staged and parsed a chunk of batches per step, then gathered, it gives what the one-process parse gives."""

import dataclasses
import os
import shutil
import time

import dagster as dg
import polars as pl
import pytest

import transforms.pipeline as pipeline
from orchestration import parse_fanout
from orchestration.definitions import build_definitions
from orchestration.resources import EXECUTOR_SETTING, IN_PROCESS, MULTIPROCESS
from tests.conftest import SEEDS, raw_frame, seed_path
from transforms.ingest import NOTICE_SCHEMA, reject_unreadable
from warehouse import parse_cache
from warehouse.compare import compare_warehouses
from warehouse.store import read_table


def _files() -> dict[str, bytes]:
    seeds = {path.name: path.read_bytes() for path in sorted(SEEDS.glob("*.txt"))}
    return {**seeds, "copy.txt": seed_path("000").read_bytes(), "empty.txt": b"", "binary.txt": bytes(range(256)) * 4}


def _fanned_out(warehouse, raw, landed, kept, batches_per_chunk: int) -> tuple[parse_cache.ParsedBatches, int]:
    plan = parse_cache.plan_parse(warehouse, landed, kept)
    chunks = [parse_cache.stage_chunk(plan.folder, chunk) for chunk in parse_cache.parse_chunks(plan, raw, batches_per_chunk)]
    return parse_cache.finish_chunks(warehouse, plan, chunks[::-1]), len(chunks)  # gathered in any order


def _same(fanned: parse_cache.ParsedBatches, whole: parse_cache.ParsedBatches) -> None:
    assert fanned.batches == whole.batches
    assert (fanned.parsed, fanned.reused) == (whole.parsed, whole.reused)
    assert fanned.loaded.equals(whole.loaded)
    assert fanned.rejected.drop("quarantined_at", strict=False).equals(whole.rejected.drop("quarantined_at", strict=False))
    assert fanned.failures.equals(whole.failures)


def test_a_parse_in_chunks_gives_the_batches_notices_and_quarantine_of_one_parse(tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline, "PARSE_BATCH_NOTICES", 2)  # several batches from a few notices
    raw = raw_frame(_files())
    landed, _ = reject_unreadable(raw)
    kept = pl.DataFrame(schema=NOTICE_SCHEMA)
    one, fanned = tmp_path / "one" / "w.duckdb", tmp_path / "fanned" / "w.duckdb"

    whole = parse_cache.stage_into_cache(one, raw, landed, kept, workers=1)
    in_chunks, chunks = _fanned_out(fanned, raw, landed, kept, batches_per_chunk=2)
    assert len(whole.batches) == 3 and chunks == 2  # 5 notices (the copy is one of them): batches of 2, chunks of 2
    _same(in_chunks, whole)
    assert {path.name for path in parse_cache.version_dir(fanned).iterdir()} == set(whole.batches)

    # everything cached: one empty chunk, so that the step that gathers the parse still runs
    again, chunks = _fanned_out(fanned, raw, landed, kept, batches_per_chunk=2)
    assert chunks == 1 and again.parsed == 0
    _same(again, parse_cache.stage_into_cache(one, raw, landed, kept, workers=1))


def test_a_parse_whose_batches_another_refresh_pruned_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline, "PARSE_BATCH_NOTICES", 2)
    raw = raw_frame(_files())
    landed, _ = reject_unreadable(raw)
    warehouse = tmp_path / "w.duckdb"
    plan = parse_cache.plan_parse(warehouse, landed, pl.DataFrame(schema=NOTICE_SCHEMA))
    chunks = [parse_cache.stage_chunk(plan.folder, chunk) for chunk in parse_cache.parse_chunks(plan, raw, 1)]
    # another refresh, between this one's chunks and its finish, pruned one of the batches just written
    pruned = plan.folder / chunks[1].results[0][0][0]
    held = pl.read_parquet(pruned / "raw_notice.parquet")["content_sha256"].n_unique()
    shutil.rmtree(pruned)
    with pytest.raises(parse_cache.ParseCacheChanged, match=f"lost the rows of {held} notice"):
        parse_cache.finish_chunks(warehouse, plan, chunks)


def _parse_ops(definitions: dg.Definitions) -> set[str]:
    """The ops of the refresh job's parse: none when it is one op, the graph's ops when it is fanned out."""
    node = definitions.resolve_job_def("refresh").graph.node_named("parsed_notices")
    return {op.name for op in getattr(node.definition, "nodes", [])}


def test_the_definitions_parse_in_one_step_or_fanned_out_by_executor():
    assert _parse_ops(build_definitions(executor=IN_PROCESS)) == set()
    assert _parse_ops(build_definitions(executor=MULTIPROCESS)) == {"plan_parse", "parse_chunk", "finish_parse"}


def test_the_command_line_parses_in_one_step_whatever_the_executor_setting(monkeypatch):
    from orchestration.cli import _definitions

    monkeypatch.setenv(EXECUTOR_SETTING, MULTIPROCESS)
    assert _parse_ops(_definitions(None)) == set()


def test_bad_settings_fail_when_the_definitions_load(monkeypatch):
    with pytest.raises(ValueError, match="executor must be one of in_process, multiprocess, docker, not 'k8s'"):
        build_definitions(executor="k8s")
    monkeypatch.setenv(parse_fanout.STEP_BATCHES_SETTING, "0")
    with pytest.raises(ValueError, match="ZHENGGAI_PARSE_STEP_BATCHES must be a positive integer, not '0'"):
        build_definitions(executor=MULTIPROCESS)


def test_the_refresh_job_with_the_parse_fanned_out_publishes_what_the_command_publishes(published, tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline, "PARSE_BATCH_NOTICES", 2)
    monkeypatch.setattr(parse_fanout, "PARSE_STEP_BATCHES", 1)  # a step per batch
    monkeypatch.delenv(parse_fanout.STEP_BATCHES_SETTING, raising=False)
    source, warehouse = tmp_path / "landing", tmp_path / "zhenggai.duckdb"
    shutil.copytree(SEEDS, source)
    monkeypatch.setenv("ZHENGGAI_SOURCE", str(source))
    monkeypatch.setenv("ZHENGGAI_WAREHOUSE", str(warehouse))
    monkeypatch.setenv(EXECUTOR_SETTING, MULTIPROCESS)
    job = build_definitions().resolve_job_def("refresh")

    first = job.execute_in_process(instance=dg.DagsterInstance.ephemeral())  # the steps in order, in this process
    assert first.success
    chunk_steps = sorted(event.step_key for event in first.all_events if event.event_type_value == "STEP_SUCCESS"
                         and event.step_key.startswith("parsed_notices.parse_chunk"))
    assert chunk_steps == [f"parsed_notices.parse_chunk[{parse_fanout.chunk_key(index)}]" for index in range(3)]
    assert all(c.same for c in compare_warehouses(published, warehouse, times_by_order=True))

    # a renamed file: nothing to parse (one empty chunk), the notice published under its new name
    (source / seed_path("000").name).rename(source / "renamed.txt")
    second = job.execute_in_process(instance=dg.DagsterInstance.ephemeral())
    assert second.success
    parsed = second.asset_materializations_for_node("parsed_notices")[-1].metadata
    assert parsed["parsed"].value == 0 and parsed["parse_steps"].value == 1
    assert "renamed.txt" in read_table(warehouse, "dim_notice", columns=["source_name"])["source_name"].to_list()


def test_prune_leaves_a_batch_another_run_is_writing_and_removes_what_a_crashed_one_left(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    folder = parse_cache.version_dir(warehouse)
    writing, crashed, unused = folder / ".abcd.4242", folder / ".dcba.4343", folder / "unused"
    for path in (writing, crashed, unused):
        path.mkdir(parents=True)
    old = time.time() - parse_cache.BUILDING_KEPT_SECONDS - 60
    os.utime(crashed, (old, old))
    parse_cache.prune(warehouse, keep=[])
    assert writing.exists() and not crashed.exists() and not unused.exists()


def test_a_parse_planned_by_another_parser_version_is_refused(tmp_path, monkeypatch):
    raw = raw_frame(_files())
    landed, _ = reject_unreadable(raw)
    warehouse = tmp_path / "w.duckdb"
    plan = parse_cache.plan_parse(warehouse, landed, pl.DataFrame(schema=NOTICE_SCHEMA))
    planned_elsewhere = dataclasses.replace(plan, folder=plan.folder.with_name("0123456789abcdef"))
    with pytest.raises(parse_cache.ParseCacheChanged, match="planned for parser version 0123456789abcdef"):
        parse_cache.finish_chunks(warehouse, planned_elsewhere, [])
