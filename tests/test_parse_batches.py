"""Parsing in batches bounds memory without changing a single row of the parsed frames."""

import polars as pl
from polars.testing import assert_frame_equal

import transforms.pipeline as pipeline
from tests.conftest import notice_frame


def test_batched_parse_gives_the_frames_of_one_batch(seed_texts, monkeypatch):
    notices = notice_frame(*seed_texts.values()).with_columns(raw_text=pl.col("text"))
    whole = pipeline.parse_notices(notices, workers=1)
    monkeypatch.setattr(pipeline, "PARSE_BATCH_NOTICES", 2)
    batched = pipeline.parse_notices(notices, workers=1)
    assert whole.issues.height > 0 and whole.indicators.height > 0
    assert_frame_equal(batched.notices, whole.notices)
    for name, frame in whole.frames().items():
        assert_frame_equal(_in_notice_order(batched.frames()[name]), _in_notice_order(frame))
    assert batched.failures.is_empty() and whole.failures.is_empty()


def _in_notice_order(frame: pl.DataFrame) -> pl.DataFrame:
    order = [c for c in ("content_sha256", "node_ordinal", "measure_ordinal", "char_start") if c in frame.columns]
    return frame.sort(order, nulls_last=False, maintain_order=True)
