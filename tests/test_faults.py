"""Breaking things on purpose: killed refreshes, readers during a refresh, concurrent refreshes, full disks,
unwritable folders and hostile inputs (issue 4).

Refreshes run as real `zhenggai refresh` processes where the fault is about processes.
"""

import hashlib
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

from orchestration.cli import EXIT_LOCKED, EXIT_RUN_FAILED, run_refresh
from tests.conftest import SEEDS, seed_path
from warehouse.store import refresh_lock


def zhenggai(*args: str, **popen) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    return subprocess.Popen(
        [sys.executable, "-m", "orchestration.cli", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, **popen,
    )


def notice_count(warehouse: Path) -> int:
    """Rows of dim_notice, after checking the file opens and its fact tables join (a complete warehouse)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        orphans = con.execute(
            "SELECT count(*) FROM fact_issue i ANTI JOIN dim_notice d USING (notice_key)"
        ).fetchone()[0]
        assert orphans == 0
        return con.execute("SELECT count(*) FROM dim_notice").fetchone()[0]
    finally:
        con.close()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def two_then_three(tmp_path_factory):
    """A warehouse published from two seeds, and a landing folder of three (so old and new differ)."""
    root = tmp_path_factory.mktemp("faults")
    small, large = root / "two", root / "three"
    small.mkdir()
    for prefix in ("000", "002"):
        shutil.copy(seed_path(prefix), small)
    shutil.copytree(small, large)
    shutil.copy(seed_path("001"), large)
    warehouse = root / "zhenggai.duckdb"
    assert run_refresh(small, warehouse).published
    return root, small, large, warehouse


def test_a_refresh_killed_at_any_point_leaves_the_old_or_the_new_warehouse(two_then_three, tmp_path):
    root, _, large, published = two_then_three
    warehouse = tmp_path / "zhenggai.duckdb"
    shutil.copy(published, warehouse)
    old = digest(warehouse)
    started = time.monotonic()
    full = zhenggai("refresh", "--source", str(large), "--warehouse", str(tmp_path / "timing.duckdb"), "--quiet")
    assert full.wait(timeout=300) == 0, full.stderr.read()
    duration = time.monotonic() - started
    outcomes = []
    for fraction in sorted(random.Random(4).uniform(0.2, 1.0) for _ in range(3)):
        process = zhenggai("refresh", "--source", str(large), "--warehouse", str(warehouse), "--quiet")
        time.sleep(duration * fraction)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        count = notice_count(warehouse)
        assert count in (2, 3)
        if count == 2:
            assert digest(warehouse) == old  # untouched, byte for byte
        outcomes.append(count)
    # whatever the kills left behind (staging file, lock file, partial cache), the next refresh succeeds
    after = zhenggai("refresh", "--source", str(large), "--warehouse", str(warehouse), "--quiet")
    assert after.wait(timeout=300) == 0, after.stderr.read()
    assert notice_count(warehouse) == 3


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


def _limit_file_size():
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG, like ENOSPC
    resource.setrlimit(resource.RLIMIT_FSIZE, (512 * 1024, 512 * 1024))


def test_a_full_disk_fails_clearly_and_keeps_the_previous_warehouse(two_then_three, tmp_path):
    _, _, large, published = two_then_three
    warehouse = tmp_path / "zhenggai.duckdb"
    shutil.copy(published, warehouse)
    before = digest(warehouse)
    process = zhenggai("refresh", "--source", str(large), "--warehouse", str(warehouse), preexec_fn=_limit_file_size)
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == EXIT_RUN_FAILED
    assert "refresh failed" in stderr and "unchanged" in stderr
    assert "File too large" in stderr or "No space" in stderr or "Errno 27" in stderr, stderr
    assert digest(warehouse) == before
    assert notice_count(warehouse) == 2


def test_an_unwritable_warehouse_folder_fails_clearly(two_then_three, tmp_path):
    _, small, _, _ = two_then_three
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the warehouse folder should be")
    process = zhenggai("refresh", "--source", str(small), "--warehouse", str(blocker / "zhenggai.duckdb"))
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == EXIT_RUN_FAILED
    assert "Not a directory" in stderr or "cannot write" in stderr, stderr
    assert blocker.read_text() == "a file where the warehouse folder should be"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through directory permissions")
def test_a_read_only_warehouse_folder_fails_clearly_and_keeps_the_previous_warehouse(two_then_three, tmp_path):
    _, _, large, published = two_then_three
    folder = tmp_path / "ro"
    folder.mkdir()
    warehouse = folder / "zhenggai.duckdb"
    shutil.copy(published, warehouse)
    before = digest(warehouse)
    folder.chmod(0o555)
    try:
        process = zhenggai("refresh", "--source", str(large), "--warehouse", str(warehouse))
        _, stderr = process.communicate(timeout=300)
    finally:
        folder.chmod(0o755)
    assert process.returncode == EXIT_RUN_FAILED and "Permission denied" in stderr
    assert digest(warehouse) == before


# ------------------------------------------------------------------------------------------- hostile inputs

INJECTION = "o'brien'); DROP TABLE dim_notice; --.txt"  # file names reach SQL only as parameters
TRADITIONAL = (
    "中共某某區委巡察組對某某街道黨工委開展了巡察，並反饋了巡察意見。現將巡察整改進展情況予以公布。\n"
    "一、已完成整改的問題\n"
    "1.關於“理論學習不夠深入”問題的整改。\n"
    "整改結果及成效:一是制定學習計劃3項;二是開展專題學習12次。\n"
)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    notice = seed_path("002").read_bytes().decode("utf-8")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 64)
    (folder / "gb18030.txt").write_bytes(notice.encode("gb18030"))
    (folder / "utf16.txt").write_bytes(seed_path("000").read_text(encoding="utf-8").encode("utf-16"))
    (folder / "truncated.txt").write_text(seed_path("003").read_text(encoding="utf-8")[:3000], encoding="utf-8")
    (folder / "page.html").write_text(
        "<html><head><style>body{color:red} .x{}</style><script>var 巡察 = 'alert(1)';</script></head><body>"
        + "".join(f"<p>{line}</p>" for line in seed_path("004").read_text(encoding="utf-8").splitlines())
        + "<script>document.write('广告')</script></body></html>",
        encoding="utf-8",
    )
    with (folder / "huge.txt").open("wb") as handle:  # 50 MB
        block = notice.encode("utf-8")
        while handle.tell() < 50 * 1024 * 1024:
            handle.write(block)
    (folder / "薛家镇 巡察 整改 通报.txt").write_text(seed_path("001").read_text(encoding="utf-8"), encoding="utf-8")
    os.symlink("loop.txt", folder / "loop.txt")
    (folder / "traditional.txt").write_text(TRADITIONAL * 3, encoding="utf-8")
    shutil.copy(seed_path("003"), folder / INJECTION)
    warehouse = tmp_path_factory.mktemp("hostile-wh") / "zhenggai.duckdb"
    outcome = run_refresh(folder, warehouse)
    assert outcome.published, (outcome.failure, outcome.gate_errors)
    return warehouse


def test_every_hostile_input_has_its_defined_outcome(hostile):
    con = duckdb.connect(str(hostile), read_only=True)
    states = dict(con.execute("SELECT source_name, state FROM source_file").fetchall())
    reasons = dict(con.execute("SELECT source_name, reason FROM quarantine_notice").fetchall())
    encodings = dict(con.execute("SELECT source_name, encoding FROM raw_notice").fetchall())
    con.close()
    assert states == {
        "empty.txt": "quarantined",
        "binary.txt": "quarantined",
        "gb18030.txt": "loaded",
        "utf16.txt": "loaded",
        "truncated.txt": "loaded",
        "page.html": "loaded",
        "huge.txt": "quarantined",
        "薛家镇 巡察 整改 通报.txt": "loaded",
        "loop.txt": "quarantined",
        "traditional.txt": "loaded",
        INJECTION: "loaded",
    }
    assert "empty" in reasons["empty.txt"]
    assert "too large" in reasons["huge.txt"] and "52,4" in reasons["huge.txt"]
    assert "symbolic links" in reasons["loop.txt"]
    assert encodings["gb18030.txt"] == "gb18030" and encodings["utf16.txt"].startswith("utf-16")


def test_hostile_inputs_are_parsed_like_their_clean_originals(hostile, published):
    def issues(warehouse, name):
        con = duckdb.connect(str(warehouse), read_only=True)
        try:
            return con.execute(
                "SELECT i.level, i.title, i.status FROM fact_issue i JOIN dim_notice n USING (notice_key)"
                " WHERE n.source_name = ? ORDER BY i.issue_key", [name]
            ).fetchall()
        finally:
            con.close()

    assert issues(hostile, "gb18030.txt") == issues(published, seed_path("002").name)
    assert issues(hostile, "薛家镇 巡察 整改 通报.txt") == issues(published, seed_path("001").name)
    assert len(issues(hostile, "page.html")) == len(issues(published, seed_path("004").name)) == 68
    truncated = issues(hostile, "truncated.txt")
    assert 0 < len(truncated) < len(issues(published, seed_path("003").name))
    traditional = issues(hostile, "traditional.txt")
    assert ("issue", "理论学习不够深入", "completed") in traditional
    con = duckdb.connect(str(hostile), read_only=True)
    raw, text = con.execute(
        "SELECT raw_text, text FROM raw_notice WHERE source_name = 'traditional.txt'").fetchone()
    page = con.execute("SELECT text FROM raw_notice WHERE source_name = 'page.html'").fetchone()[0]
    con.close()
    assert "巡察組" in raw and "巡察组" in text  # the original is kept, the parse reads simplified characters
    assert "alert" not in page and "color:red" not in page and "document.write" not in page
