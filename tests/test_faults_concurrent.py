"""Readers and a second refresh while a refresh runs (issue 4)."""

import shutil
import threading
import time

import duckdb
import pytest

from orchestration.cli import EXIT_LOCKED
from tests.fault_helpers import build_two_then_three, digest, notice_count, zhenggai
from warehouse.store import refresh_lock


@pytest.fixture(scope="module")
def two_then_three(tmp_path_factory):
    return build_two_then_three(tmp_path_factory)


def test_a_reader_keeps_querying_during_a_refresh(two_then_three, tmp_path):
    _, _, large, published = two_then_three
    warehouse = tmp_path / "zhenggai.duckdb"
    shutil.copy(published, warehouse)
    reader = duckdb.connect(str(warehouse), read_only=True)
    seen, errors, stop = [], [], threading.Event()

    def read_in_a_loop():
        cursor = reader.cursor()
        while not stop.is_set():
            try:
                notices, orphans = cursor.execute(
                    "SELECT (SELECT count(*) FROM dim_notice),"
                    " (SELECT count(*) FROM fact_measure m ANTI JOIN fact_issue i USING (issue_key))"
                ).fetchone()
                seen.append((notices, orphans))
            except duckdb.Error as error:  # any error is a failure of the test
                errors.append(error)
            time.sleep(0.01)

    thread = threading.Thread(target=read_in_a_loop)
    thread.start()
    try:
        process = zhenggai("refresh", "--source", str(large), "--warehouse", str(warehouse), "--quiet")
        assert process.wait(timeout=300) == 0, process.stderr.read()
    finally:
        stop.set()
        thread.join()
    assert errors == []
    assert len(seen) > 10 and set(seen) == {(2, 0)}  # the open connection keeps its complete snapshot
    reader.close()
    assert notice_count(warehouse) == 3  # a new connection sees the new load


def test_a_second_refresh_exits_with_a_clear_message_while_one_runs(two_then_three, tmp_path):
    _, small, _, published = two_then_three
    warehouse = tmp_path / "zhenggai.duckdb"
    shutil.copy(published, warehouse)
    before = digest(warehouse)
    with refresh_lock(warehouse):  # a refresh in progress
        second = zhenggai("refresh", "--source", str(small), "--warehouse", str(warehouse))
        _, stderr = second.communicate(timeout=300)
    assert second.returncode == EXIT_LOCKED
    assert "another refresh is running" in stderr
    assert digest(warehouse) == before
    # two started at the same moment: at most one publishes at a time, both end cleanly
    both = [zhenggai("refresh", "--source", str(small), "--warehouse", str(warehouse), "--quiet") for _ in range(2)]
    codes = sorted(p.wait(timeout=300) for p in both)
    assert codes in ([0, 0], [0, EXIT_LOCKED])
    assert notice_count(warehouse) == 2
