from datetime import datetime, timezone

import polars as pl

from tests.conftest import raw_frame
from transforms.ingest import NOTICE_SCHEMA, complete_quarantine, expand_rejections, plan_staging, reject_unreadable, stage_notices
from transforms.pipeline import stage_batch

NOTICE = "根据区委统一部署,区委第二巡察组对某镇进行了巡察。现将巡察整改情况予以公布。" * 2


def test_every_file_is_staged_or_quarantined_with_a_reason():
    raw = raw_frame(
        {
            "good.txt": NOTICE.encode(),
            "gbk.txt": NOTICE.encode("gb18030"),
            "empty.txt": b"",
            "binary.txt": bytes(range(256)) * 4,
            "other.txt": ("与通报无关的一段文字。" * 10).encode(),
            "gone.txt": b"",
        },
        errors={"gone.txt": "PermissionError: Permission denied"},
    )
    notices, quarantine = stage_notices(raw)
    assert sorted(notices["source_name"]) == ["gbk.txt", "good.txt"]
    reasons = dict(zip(quarantine["source_name"], quarantine["reason"]))
    assert reasons["empty.txt"] == "cannot decode: empty file"
    assert reasons["binary.txt"].startswith("cannot decode: binary content")
    assert reasons["other.txt"].startswith("not a rectification notice")
    assert reasons["gone.txt"] == "unreadable file: PermissionError: Permission denied"
    assert notices.height + quarantine.height == raw.height


def test_gb18030_and_utf8_copies_are_distinct_contents_with_equal_text():
    notices, _ = stage_notices(raw_frame({"a.txt": NOTICE.encode(), "b.txt": NOTICE.encode("gb18030")}))
    assert notices.height == 2
    assert notices["text"].n_unique() == 1
    assert set(notices["encoding"]) == {"utf-8", "gb18030"}


def test_exact_duplicates_under_two_names_are_staged_once():
    notices, quarantine = stage_notices(raw_frame({"b.txt": NOTICE.encode(), "a.txt": NOTICE.encode()}))
    assert notices["source_name"].to_list() == ["a.txt"]
    assert quarantine.is_empty()


def test_html_notice_is_reduced_to_text():
    page = f"<html><body><script>alert(1)</script><p>{NOTICE}</p></body></html>".encode()
    notices, _ = stage_notices(raw_frame({"n.html": page}))
    assert notices["text"][0] == NOTICE
    assert notices["raw_text"][0] == page.decode()  # the page as published is kept


def test_quarantine_keeps_bytes_and_first_seen_time():
    raw = raw_frame({"bad.txt": b"\x00\x01\x02"})
    _, rows = stage_notices(raw)
    then = datetime(2026, 1, 1, tzinfo=timezone.utc)
    first = complete_quarantine(rows, raw, previous=None, now=then)
    assert first["raw_bytes"][0] == b"\x00\x01\x02"
    later = complete_quarantine(rows, raw, previous=first, now=datetime(2026, 2, 1, tzinfo=timezone.utc))
    assert later["quarantined_at"][0] == then


def test_staging_batches_reuse_known_contents_and_give_what_a_full_staging_gives():
    notice = "关于巡察整改进展情况的通报\n" + "一、整改工作推进情况。巡察组反馈的问题已全部完成整改。" * 3
    page = f"<html><body><p>{notice}</p><script>var x = 1;</script></body></html>"
    files = {
        "a.txt": notice.encode(),
        "copy of a.txt": notice.encode(),
        "b.html": page.encode(),
        "b.txt": page.encode(),  # same bytes, but a .txt name: staged as text, never from the .html row
        "new.txt": (notice + "补充说明。").encode(),
        "empty.txt": b"",
        "huge.txt": b"x" * 5001,
    }
    raw = raw_frame(files)
    full_notices, full_rejected = stage_notices(raw, max_bytes=5000)
    earlier, _ = stage_notices(raw.filter(pl.col("source_name").is_in(["a.txt", "b.html"])))
    landed, rejected = reject_unreadable(raw, max_bytes=5000)
    assert rejected["source_name"].to_list() == ["huge.txt"]
    settled, work = plan_staging(
        landed, pl.DataFrame(schema=NOTICE_SCHEMA), earlier.select("source_name", "content_sha256"),
        earlier.select("content_sha256"), batch_contents=1,
    )
    # a.txt's content was staged before and is cached: loaded under its first name without being read
    assert settled.rows() == [("a.txt", earlier["content_sha256"][0], True)]
    assert sorted(work["source_name"]) == ["b.html", "b.txt", "empty.txt", "new.txt"]
    rows = work.join(raw.select("source_name", "content_sha256", "data"), on=["source_name", "content_sha256"], how="left")
    batches = [stage_batch(rows.filter(pl.col("batch") == batch)) for batch in range(work["batch"].max() + 1)]
    assert len(batches) == 2  # one content to parse a batch (b's rows are cached: it is only staged)
    loaded = pl.concat([batch for batch, _ in batches])
    assert sorted(settled["source_name"].to_list() + loaded["source_name"].to_list()) == sorted(full_notices["source_name"])
    assert loaded.drop("source_present", "parse").sort("source_name").equals(
        full_notices.filter(pl.col("source_name") != "a.txt").sort("source_name")
    )
    quarantine = pl.concat([rejected, expand_rejections(pl.concat([batch for _, batch in batches]), landed)])
    columns = ["source_name", "content_sha256", "reason", "raw_text"]
    assert quarantine.select(columns).sort("source_name").equals(full_rejected.select(columns).sort("source_name"))
