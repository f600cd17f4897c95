"""Breaking things on purpose: full disks, unwritable folders and hostile inputs (issue 4).

Killed refreshes are in test_faults_killed.py, readers and concurrent refreshes in
test_faults_concurrent.py (separate files so that the test workers share them out).
"""

import os
import resource
import shutil
import signal

import duckdb
import pytest

from orchestration.cli import EXIT_RUN_FAILED, run_refresh
from tests.conftest import seed_path
from tests.fault_helpers import digest, notice_count, zhenggai, served_copy, two_then_three  # noqa: F401 (fixture)




def _limit_file_size():
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG, like ENOSPC
    resource.setrlimit(resource.RLIMIT_FSIZE, (512 * 1024, 512 * 1024))


def test_a_full_disk_fails_clearly_and_keeps_the_previous_warehouse(two_then_three, tmp_path):
    _, _, large, published = two_then_three
    warehouse = served_copy(published, tmp_path)
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
    warehouse = served_copy(published, folder)
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
