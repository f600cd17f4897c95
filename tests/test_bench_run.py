"""The benchmark's measurements: memory of the whole process tree, both ways of fetching query results, and the
notices its incremental refreshes change."""

import subprocess
import sys
import textwrap

import duckdb
import pytest

from bench.run import (
    FETCHES,
    LinesOf,
    change_a_notice_in,
    change_one_notice,
    host_reference_ms,
    notices_to_change,
    one_notice_refreshes,
    percentile,
    run_measured,
    runs_summary,
)

# A parent holding ~150 MB that starts a child holding ~150 MB while it still holds its own.
PARENT_AND_CHILD = textwrap.dedent(
    """
    import subprocess, sys
    held = b"x" * 150_000_000
    child = "import time; held = b'x' * 150_000_000; time.sleep(3)"
    subprocess.run([sys.executable, "-c", child], check=True)
    """
)


def test_peak_memory_counts_the_processes_a_refresh_starts():
    measured = run_measured([sys.executable, "-c", PARENT_AND_CHILD])

    assert measured.code == 0
    # one process's peak, as wait4 reports it (it may also count the caller's pages, shared at fork before exec)
    assert measured.largest_rss_mb > 140
    assert measured.tree_rss_mb > 290  # both processes' memory at once


def test_a_failing_command_reports_its_exit_code_and_stderr():
    measured = run_measured([sys.executable, "-c", "import sys; sys.exit('no warehouse')"])

    assert measured.code == 1
    assert "no warehouse" in measured.stderr


def test_both_fetches_return_the_whole_result():
    con = duckdb.connect()
    query = "SELECT range AS n, 'quote ' || range AS quote FROM range(1000)"

    arrow = FETCHES["query"](con.sql(query))
    rows = FETCHES["query_rows"](con.sql(query))

    assert arrow.num_rows == len(rows) == 1000
    assert arrow.column("quote")[999].as_py() == rows[999][1] == "quote 999"


def test_percentile_takes_the_nearest_rank():
    assert percentile([5.0, 1.0, 3.0, 2.0, 4.0], 0.5) == 3.0
    assert percentile([float(n) for n in range(1, 21)], 0.95) == 19.0


def test_the_host_reference_grows_with_its_work():
    small, large = host_reference_ms(20_000), host_reference_ms(200_000)
    assert 0 < small < large


def test_each_incremental_refresh_changes_a_notice_of_its_own(tmp_path):
    paths = [tmp_path / f"notice_{number:03d}.txt" for number in range(100)]
    for path in paths:
        path.write_text("整改进展情况。\n", encoding="utf-8")

    targets = notices_to_change(paths, 6)
    for target in targets:
        change_one_notice(target)

    assert len(set(targets)) == 6
    assert [paths.index(target) for target in targets] == [14, 28, 42, 57, 71, 85]  # spread over the corpus
    changed = [path for path in paths if path.read_text(encoding="utf-8") != "整改进展情况。\n"]
    assert changed == targets  # one more sentence in each target, none elsewhere
    assert all(path.read_text(encoding="utf-8").count("\n") == 2 for path in changed)
    assert notices_to_change(paths, 1) == [paths[50]]  # one run: the middle notice


def test_a_demo_changes_the_middle_notice_of_its_folder(tmp_path):
    for number in range(5):
        (tmp_path / f"notice_{number}.txt").write_text("整改进展情况。\n", encoding="utf-8")
    (tmp_path / "sub").mkdir()  # not a notice

    assert change_a_notice_in(tmp_path) == tmp_path / "notice_2.txt"
    assert [path.name for path in sorted(tmp_path.glob("*.txt"))
            if path.read_text(encoding="utf-8") != "整改进展情况。\n"] == ["notice_2.txt"]


def test_a_small_corpus_still_gets_distinct_notices():
    paths = [f"notice_{number}" for number in range(3)]
    assert sorted(notices_to_change(paths, 3)) == paths


def test_the_runs_are_summed_up_by_their_median_fastest_and_slowest():
    assert runs_summary("incremental_refresh_s", [6.2, 4.9, 5.3]) == {
        "incremental_refresh_s": 5.3, "incremental_refresh_min_s": 4.9, "incremental_refresh_max_s": 6.2,
    }


def test_waiting_for_a_line_of_a_silent_child_times_out():
    child = "import sys, time; print('first', flush=True); time.sleep(30)"
    process = subprocess.Popen([sys.executable, "-c", child], stdout=subprocess.PIPE, text=True)
    try:
        lines = LinesOf(process.stdout)
        assert lines.next(10) == "first\n"
        with pytest.raises(TimeoutError):
            lines.next(0.3)
    finally:
        process.kill()
        process.wait()
    assert lines.next(10) == ""  # the killed child's stream ended


def _watched(state, parsed, seconds=1.0):
    return {"state": state, "parsed": parsed, "seconds": seconds}


def test_the_watchers_refreshes_after_its_first_are_timed():
    # the second change also parses the small batches of the parse cache again
    records = [_watched("unchanged", None, 0.2), _watched("published", 1, 2.9), _watched("published", 5, 3.1)]
    assert one_notice_refreshes(records) == [2.9, 3.1]


@pytest.mark.parametrize("records", [
    [_watched("published", 10_000), _watched("published", 1)],  # its first refresh built the warehouse
    [_watched("unchanged", None), _watched("published", 0)],  # the change was not parsed
    [_watched("unchanged", None), _watched("blocked", 1)],
    [_watched("unchanged", None), _watched("unchanged", None)],
])
def test_a_watcher_that_did_not_refresh_one_notice_stops_the_bench(records):
    with pytest.raises(SystemExit):
        one_notice_refreshes(records)


def test_the_table_says_whether_each_target_is_met_at_ten_thousand_notices(capsys):
    from bench.run import TARGET_SIZE, print_table, target_verdict

    results = {100: {"full_refresh_s": 5.0, "query_p95_ms": 400.0},
               TARGET_SIZE: {"full_refresh_s": 71.0, "watch_incremental_share_of_full": 0.05,
                             "incremental_share_of_full": 0.08, "query_p95_ms": 18.5}}
    assert target_verdict("full_refresh_s", results) == "≤ 60 s: not met"
    assert target_verdict("watch_incremental_share_of_full", results) == "≤ 5 % in a running pipeline: met"  # the limit meets it
    # a new process's one-notice refresh is held against the same 5 %, labelled as no target of its own
    assert target_verdict("incremental_share_of_full", results) == "≤ 5 % by a new process (reported only): not met"
    assert target_verdict("query_p95_ms", results) == "≤ 100 ms: met"  # N = 100's figure is not the target's
    assert target_verdict("full_peak_mb", results) == "≤ 2 GB"  # not measured at that size
    assert target_verdict("parse_mb_s", results) == ""  # no target
    assert target_verdict("full_refresh_s", {100: {"full_refresh_s": 5.0}}) == "≤ 60 s"
    print_table(results)
    printed = capsys.readouterr().out
    assert "target (N = 10,000)" in printed and "≤ 60 s: not met" in printed and "≤ 100 ms: met" in printed
