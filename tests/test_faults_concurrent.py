"""A reader querying while a refresh runs (issue 4)."""

import threading
import time

import duckdb

from tests.fault_helpers import notice_count, zhenggai, served_copy, two_then_three  # noqa: F401 (fixture)




def test_a_reader_keeps_querying_during_a_refresh(two_then_three, tmp_path):
    _, _, large, published = two_then_three
    warehouse = served_copy(published, tmp_path)
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
