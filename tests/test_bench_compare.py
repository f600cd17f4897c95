"""`make bench-compare`: two runs of the results file picked by commit, date or index, their shared figures side by
side with their change, and what keeps their wall times from comparing said above them."""

import csv

import pytest

from bench.compare import (
    BadResults,
    Compared,
    Run,
    UnknownRun,
    compared,
    main,
    pick_run,
    read_runs,
    speed_warnings,
)

FAST, SLOW, DIRTY = "2026-11-28T10:00:00+00:00", "2026-11-28T12:00:00+00:00", "2026-11-28T13:00:00+00:00"
LATER = "2026-11-29T09:00:00+00:00"


def rows_of(commit, date, figures):
    return [(commit, date, n, metric, value) for n, metrics in figures.items() for metric, value in metrics.items()]


RUNS = [
    *rows_of("aaaa111", FAST, {
        "100": {"host_reference_ms_start": 10.0, "full_refresh_s": 5.0, "query_rows_p95_ms:01_open": 3.0,
                "host_reference_ms_end": 10.2},
        "10000": {"host_reference_ms_start": 10.1, "full_refresh_s": 60.0, "host_reference_ms_end": 10.0},
        "fit": {"full_refresh_s_per_notice": 0.0056, "full_refresh_fixed_s": -0.5},
    }),
    *rows_of("aaaa111", SLOW, {  # the machine slowed: at N = 100 against the fast run, at 10,000 during the run
        "100": {"host_reference_ms_start": 14.0, "full_refresh_s": 7.0, "host_reference_ms_end": 14.0},
        "10000": {"host_reference_ms_start": 10.1, "full_refresh_s": 61.0, "host_reference_ms_end": 12.0},
        "fit": {"full_refresh_s_per_notice": 0.0054, "full_refresh_fixed_s": -1.0},
    }),
    *rows_of("aaaa111-dirty", DIRTY, {"100": {"full_refresh_s": 0.0}}),  # benched before the references were
    *rows_of("bbbb222", LATER, {
        "100": {"host_reference_ms_start": 10.4, "full_refresh_s": 4.0, "query_rows_p95_ms:01_open": 6.0,
                "host_reference_ms_end": 10.0},
        "1000": {"host_reference_ms_start": 10.0, "full_refresh_s": 11.0, "host_reference_ms_end": 10.0},
        "fit": {"full_refresh_s_per_notice": 0.0058, "full_refresh_fixed_s": 4.4},
    }),
]


def write_results(path, rows):
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["commit", "date", "n", "metric", "value"])
        writer.writerows(rows)
    return path


@pytest.fixture
def runs(tmp_path):
    return read_runs(write_results(tmp_path / "results.csv", RUNS))


def test_runs_are_picked_by_index_commit_or_commit_and_date(runs):
    order = list(runs)
    assert order == [Run("aaaa111", FAST), Run("aaaa111", SLOW), Run("aaaa111-dirty", DIRTY), Run("bbbb222", LATER)]
    assert pick_run(order, "-1") == order[3] and pick_run(order, "-4") == order[0]
    assert pick_run(order, "aaaa111") == order[1]  # a commit's latest run; the exact name before the -dirty one
    assert pick_run(order, "aaaa111-d") == order[2] and pick_run(order, "bbbb") == order[3]
    assert pick_run(order, "aaaa111@2026-11-28T10") == order[0]
    for selector, reason in (("-5", "has 4 run"), ("-0", "counts back"), ("-x", "counts back"),
                             ("cccc", "no run of 'cccc'"), ("aaaa@2026-11-28", "several commits: aaaa111, aaaa111-dirty")):
        with pytest.raises(UnknownRun, match=reason):
            pick_run(order, selector)


def test_the_figures_both_runs_have_are_compared_with_their_change(runs):
    before, after = runs[Run("aaaa111", FAST)], runs[Run("bbbb222", LATER)]
    rows = compared(before, after)
    assert [(r.n, r.metric, r.before, r.after) for r in rows] == [
        ("100", "host_reference_ms_start", 10.0, 10.4), ("100", "full_refresh_s", 5.0, 4.0),
        ("100", "host_reference_ms_end", 10.2, 10.0),
        ("fit", "full_refresh_s_per_notice", 0.0056, 0.0058), ("fit", "full_refresh_fixed_s", -0.5, 4.4),
    ]  # N = 10,000 and 1,000 each measured by one run only
    assert rows[1].change == pytest.approx(-0.2)
    assert rows[4].change == pytest.approx(9.8)  # from -0.5 to 4.4: up, whatever before's sign
    assert Compared("1", "m", -1.0, -2.0).change == pytest.approx(-1.0)
    assert Compared("1", "m", 0.0, 0.0).change == 0.0 and Compared("1", "m", 0.0, 1.0).change is None
    assert [r.metric for r in compared(before, after, queries=True)][2] == "query_rows_p95_ms:01_open"


def test_sizes_where_the_machine_ran_at_another_speed_are_named(runs):
    fast, slow = runs[Run("aaaa111", FAST)], runs[Run("aaaa111", SLOW)]
    assert speed_warnings(fast, fast) == ([], [])
    differed, missing = speed_warnings(fast, slow)
    assert differed == [
        "N = 100: host references 10.0–10.2 ms against 14.0–14.0 ms (start–end)",
        "N = 10000: host references 10.1–10.0 ms against 10.1–12.0 ms (start–end)",  # slowed during the later run
        "N = fit: over sizes whose wall times do not compare",
    ] and missing == []
    assert speed_warnings(slow, fast)[0] == [  # either way round
        "N = 100: host references 14.0–14.0 ms against 10.0–10.2 ms (start–end)",
        "N = 10000: host references 10.1–12.0 ms against 10.1–10.0 ms (start–end)", differed[2]]
    later = runs[Run("bbbb222", LATER)]
    assert speed_warnings(fast, later) == (["N = fit: over other sizes (100, 10000 against 100, 1000)"], [])
    assert speed_warnings(fast, runs[Run("aaaa111-dirty", DIRTY)]) == ([], ["N = 100: a run has no host reference"])
    # 10 % apart at most, measured from the smaller
    assert speed_warnings({"1": {"host_reference_ms_start": 10.0, "host_reference_ms_end": 10.0}},
                          {"1": {"host_reference_ms_start": 11.0, "host_reference_ms_end": 11.0}}) == ([], [])
    assert speed_warnings({"1": {"host_reference_ms_start": 10.0, "host_reference_ms_end": 10.0}},
                          {"1": {"host_reference_ms_start": 10.0, "host_reference_ms_end": 11.01}})[0] != []


def test_the_command_prints_both_runs_and_what_keeps_them_from_comparing(tmp_path, capsys):
    results = write_results(tmp_path / "r.csv", RUNS)
    assert main(["--results", str(results), "aaaa111@2026-11-28T10", "aaaa111"]) == 0
    printed = capsys.readouterr().out
    assert f"before aaaa111@{FAST}\nafter  aaaa111@{SLOW}" in printed
    assert "The machine ran at another speed" in printed and "N = 100: host references 10.0–10.2 ms" in printed
    assert "before (aaaa111)" in printed and "+40.0%" in printed  # full refresh 5.0 → 7.0 s

    assert main(["--results", str(results), "aaaa111", "-2"]) == 0
    printed = capsys.readouterr().out
    assert "No host reference" in printed and "N = 100: a run has no host reference" in printed
    assert "N = 10000 measured only by the run before" in printed

    assert main(["--results", str(results)]) == 0  # the last two runs
    assert f"before aaaa111-dirty@{DIRTY}\nafter  bbbb222@{LATER}" in capsys.readouterr().out


def test_the_command_says_what_is_missing(tmp_path, capsys):
    assert main(["--results", str(tmp_path / "none.csv")]) == 2
    assert "run `make bench` first" in capsys.readouterr().out
    results = write_results(tmp_path / "r.csv", RUNS)
    assert main(["--results", str(results), "cccc[/x]", "-1"]) == 2  # (printed as it is, not as rich markup)
    assert "no run of 'cccc[/x]'" in capsys.readouterr().out
    one_size = write_results(tmp_path / "one.csv", rows_of("c1", FAST, {"100": {"m": 1.0}}) + rows_of("c2", LATER, {"5": {"m": 1.0}}))
    assert main(["--results", str(one_size)]) == 1
    assert "the two runs share no figure: sizes 100 against 5" in capsys.readouterr().out
    cut_short = write_results(tmp_path / "cut.csv", [*RUNS, ("bbbb222", LATER, "100")])
    with pytest.raises(BadResults, match=f"line {len(RUNS) + 2}: not a row"):  # (after the header and every run's row)
        read_runs(cut_short)
    assert main(["--results", str(cut_short)]) == 2 and f"line {len(RUNS) + 2}" in capsys.readouterr().out
    with pytest.raises(BadResults, match="line 2: .*N is 'ten'"):
        read_runs(write_results(tmp_path / "n.csv", [("c1", FAST, "ten", "m", "1.0")]))
    with pytest.raises(SystemExit):
        main(["--results", str(results), "-1"])  # one run: two are compared
