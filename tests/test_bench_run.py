"""The benchmark's measurements: memory of the whole process tree, and both ways of fetching query results."""

import sys
import textwrap

import duckdb

from bench.run import FETCHES, host_reference_ms, percentile, run_measured

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
