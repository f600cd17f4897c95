"""Parsing batches in worker processes gives exactly the frames of parsing them in this process."""

import gc
import os
import time

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import transforms.pipeline as pipeline
from tests.conftest import notice_frame


def test_workers_give_the_frames_of_one_process_in_the_same_order(seed_texts, monkeypatch):
    notices = notice_frame(*seed_texts.values()).with_columns(raw_text=pl.col("text"))
    # one notice the parser cannot read (no text): it is isolated in its batch, in a worker as in-process
    broken = notices.head(1).with_columns(
        content_sha256=pl.lit("f" * 64), source_name=pl.lit("broken.txt"), text=pl.lit(None, dtype=pl.String)
    )
    notices = pl.concat([notices.head(3), broken, notices.tail(2)])
    monkeypatch.setattr(pipeline, "PARSE_BATCH_NOTICES", 2)  # 3 batches, sliced in this process
    here = pipeline.parse_notices(notices, workers=1)
    # workers=2: this process parses the first batch, one spawned worker the last two (the broken notice
    # is in the second batch, so it is isolated in the worker)
    pooled = pipeline.parse_notices(notices, workers=2)
    assert here.indicators.height > 0 and here.failures["source_name"].to_list() == ["broken.txt"]
    assert_frame_equal(pooled.notices, here.notices)
    assert_frame_equal(pooled.failures, here.failures)
    for name, frame in here.frames().items():
        assert_frame_equal(pooled.frames()[name], frame)  # same rows in the same order, no sorting


def test_default_workers_one_per_core_at_most_one_per_batch(monkeypatch):
    monkeypatch.setattr(pipeline.os, "cpu_count", lambda: 2)
    assert [pipeline.default_workers(batches) for batches in (1, 2, 40)] == [1, 2, 2]
    monkeypatch.setattr(pipeline.os, "cpu_count", lambda: None)
    assert pipeline.default_workers(40) == 1


def test_this_process_parses_a_batch_even_when_the_workers_could_take_them_all(seed_texts, monkeypatch):
    notices = notice_frame(*list(seed_texts.values())[:2]).with_columns(raw_text=pl.col("text"))
    monkeypatch.setattr(pipeline, "PARSE_BATCH_NOTICES", 1)  # 2 batches, 1 worker that could queue both
    parsed_here = []
    original = pipeline._parse_isolating_failures
    monkeypatch.setattr(pipeline, "_parse_isolating_failures", lambda batch: parsed_here.append(batch.height) or original(batch))
    pooled = pipeline.parse_notices(notices, workers=2)
    assert parsed_here == [1]  # the first batch, here; the second in the worker
    assert_frame_equal(pooled.notices, notices)


def _collector_setting(batch: pl.DataFrame) -> tuple[int, int]:
    time.sleep(0.2)  # this process does not take every batch before the worker's feeder takes the last one
    return os.getpid(), gc.get_threshold()[0]


def test_every_process_parses_with_the_collector_set_for_parsing_and_this_one_gets_its_setting_back():
    before = gc.get_threshold()
    batches = [pl.DataFrame({"batch": [index]}) for index in range(4)]
    seen = pipeline.map_batches(_collector_setting, batches, workers=2)
    assert len({pid for pid, _ in seen}) == 2  # this process and a spawned worker
    assert {threshold for _, threshold in seen} == {pipeline.PARSE_GC_THRESHOLD}
    assert pipeline.map_batches(_collector_setting, batches[:1], workers=1)[0][1] == pipeline.PARSE_GC_THRESHOLD
    assert gc.get_threshold() == before != (pipeline.PARSE_GC_THRESHOLD, *before[1:])


def _numbered(batch: pl.DataFrame) -> tuple[int, int]:
    time.sleep(0.2)
    (number,) = batch["batch"].to_list()
    if number == 30:
        raise ValueError(f"batch 30 cannot be parsed in process {os.getpid()}")
    return number, os.getpid()


def test_batches_queued_ahead_come_back_in_order_and_an_error_in_a_worker_ends_the_map():
    batches = [pl.DataFrame({"batch": [index]}) for index in range(12)]  # enough for the worker to get some ahead
    seen = pipeline.map_batches(_numbered, batches, workers=2)
    assert [number for number, _ in seen] == list(range(12)) and len({pid for _, pid in seen}) == 2
    # the worker takes the batches from the last back (31 at once, 30 once 31 is back, with 29 queued ahead),
    # while this process, from the first, would reach 30 only after ~6 s
    failing = [pl.DataFrame({"batch": [index]}) for index in range(32)]
    with pytest.raises(ValueError, match="batch 30 cannot be parsed in process") as raised:
        pipeline.map_batches(_numbered, failing, workers=2)
    assert f"in process {os.getpid()}" not in str(raised.value)
