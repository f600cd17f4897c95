"""`make bench-compare`: two runs of the results file picked by commit, date or index, their shared figures side by
side, and a warning when the machine ran at another speed."""

import csv

import pytest

from bench.compare import Run, UnknownRun, compared, main, pick_run, read_runs, speed_warnings


def write_results(path, rows):
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["commit", "date", "n", "metric", "value"])
        writer.writerows(rows)
    return path


RUNS = [
    ("aaaa111", "2026-11-28T10:00:00+00:00", "100", "host_reference_ms_start", "10.0"),
    ("aaaa111", "2026-11-28T10:00:00+00:00", "100", "full_refresh_s", "5.0"),
    ("aaaa111", "2026-11-28T10:00:00+00:00", "100", "query_rows_p95_ms:01_open", "3.0"),
    ("aaaa111", "2026-11-28T10:00:00+00:00", "100", "host_reference_ms_end", "10.2"),
    ("aaaa111", "2026-11-28T12:00:00+00:00", "100", "host_reference_ms_start", "14.0"),
    ("aaaa111", "2026-11-28T12:00:00+00:00", "100", "full_refresh_s", "7.0"),
    ("bbbb222", "2026-11-29T09:00:00+00:00", "100", "host_reference_ms_start", "10.4"),
    ("bbbb222", "2026-11-29T09:00:00+00:00", "100", "full_refresh_s", "4.0"),
    ("bbbb222", "2026-11-29T09:00:00+00:00", "100", "query_rows_p95_ms:01_open", "6.0"),
    ("bbbb222", "2026-11-29T09:00:00+00:00", "10000", "full_refresh_s", "60.0"),  # a size the first run lacks
    ("bbbb222", "2026-11-29T09:00:00+00:00", "100", "host_reference_ms_end", "10.0"),
]


def test_runs_are_picked_by_index_commit_or_commit_and_date(tmp_path):
    runs = list(read_runs(write_results(tmp_path / "r.csv", RUNS)))
    assert runs == [Run("aaaa111", "2026-11-28T10:00:00+00:00"), Run("aaaa111", "2026-11-28T12:00:00+00:00"),
                    Run("bbbb222", "2026-11-29T09:00:00+00:00")]
    assert pick_run(runs, "-1") == runs[2] and pick_run(runs, "-3") == runs[0]
    assert pick_run(runs, "aaaa") == runs[1]  # a commit's latest run
    assert pick_run(runs, "aaaa111@2026-11-28T10") == runs[0]
    for selector, reason in (("-4", "has 3 run"), ("cccc", "no run of 'cccc'"), ("@2026-11-2", "several commits")):
        with pytest.raises(UnknownRun, match=reason):
            pick_run(runs, selector)


def test_the_figures_both_runs_have_are_compared_with_their_change(tmp_path):
    runs = read_runs(write_results(tmp_path / "r.csv", RUNS))
    before, after = runs[Run("aaaa111", "2026-11-28T10:00:00+00:00")], runs[Run("bbbb222", "2026-11-29T09:00:00+00:00")]
    rows = compared(before, after)
    assert [(r.n, r.metric, r.before, r.after) for r in rows] == [
        ("100", "host_reference_ms_start", 10.0, 10.4), ("100", "full_refresh_s", 5.0, 4.0),
        ("100", "host_reference_ms_end", 10.2, 10.0),
    ]
    assert rows[1].change == pytest.approx(-0.2)
    assert [r.metric for r in compared(before, after, queries=True)][2] == "query_rows_p95_ms:01_open"
    assert speed_warnings(before, after) == []  # at N = 100, 10.1 ms against 10.2 ms


def test_runs_at_another_speed_are_said_not_to_compare(tmp_path, capsys):
    results = write_results(tmp_path / "r.csv", RUNS)
    runs = read_runs(results)
    slow = runs[Run("aaaa111", "2026-11-28T12:00:00+00:00")]
    assert speed_warnings(runs[Run("aaaa111", "2026-11-28T10:00:00+00:00")], slow) == [
        "N = 100: host references 10.1 ms against 14.0 ms"]

    assert main(["--results", str(results), "aaaa111@2026-11-28T10", "-2"]) == 0
    printed = capsys.readouterr().out
    assert "The machine ran at another speed" in printed and "N = 100: host references 10.1 ms against 14.0 ms" in printed
    assert "+40.0%" in printed  # full refresh 5.0 → 7.0 s


def test_the_command_says_what_is_missing(tmp_path, capsys):
    assert main(["--results", str(tmp_path / "none.csv")]) == 2
    assert "run `make bench` first" in capsys.readouterr().out
    results = write_results(tmp_path / "r.csv", RUNS)
    assert main(["--results", str(results), "cccc", "-1"]) == 2
    assert "no run of 'cccc'" in capsys.readouterr().out
    assert main(["--results", str(results)]) == 0  # the last two runs
    printed = capsys.readouterr().out
    assert "before aaaa111@2026-11-28T12:00:00+00:00\nafter  bbbb222@2026-11-29T09:00:00+00:00" in printed
