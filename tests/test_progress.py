"""The refresh progress display and the run metadata the Dagster UI shows, from one real refresh."""

import io

import dagster as dg
import duckdb
import pytest
from rich.console import Console

from orchestration.cli import run_refresh
from orchestration.definitions import defs
from orchestration.progress import RefreshProgress, wants_progress
from tests.conftest import SEEDS


@pytest.fixture(scope="module")
def watched_refresh(tmp_path_factory):
    """One refresh of seeds/ with the progress display on a (fake) terminal, and every event it received."""
    warehouse = tmp_path_factory.mktemp("progress") / "zhenggai.duckdb"
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=120)
    events = []
    steps = len(defs.resolve_job_def("refresh").graph.nodes)
    with RefreshProgress(console, steps=steps) as progress:
        def handle(entry, cursor=None):
            events.append(entry)
            progress.handle(entry, cursor)

        outcome = run_refresh(SEEDS, warehouse, on_event=handle)
    assert outcome.published, outcome.failure
    return warehouse, progress, screen.getvalue(), events, steps


def test_progress_counts_steps_notices_parsed_and_tables_loaded(watched_refresh):
    warehouse, progress, screen, _, steps = watched_refresh
    # source/landing, fetch_log, raw_notices, staged+rejected, parsed_notices, warehouse_staging, the gate, published
    assert steps == 8
    assert progress.progress.tasks[progress.steps].completed == steps
    assert progress.notices_parsed == 5
    with duckdb.connect(str(warehouse), read_only=True) as con:
        # the tables loaded from the parsed notices; the marts are then built from them (warehouse/store.py)
        (tables,) = con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE NOT internal AND table_name NOT LIKE 'mart\\_%' ESCAPE '\\'"
        ).fetchone()
    assert progress.tables_loaded == tables
    assert "notices parsed" in screen and "tables loaded" in screen and "5/5" in screen
    assert f"{tables}/{tables}" in screen


def test_run_metadata_has_rows_per_table_and_notices_quarantined(watched_refresh):
    warehouse, _, _, events, _ = watched_refresh
    metadata = {}
    for entry in events:
        event = entry.dagster_event
        if event is not None and event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
            materialization = event.step_materialization_data.materialization
            metadata[materialization.asset_key.to_user_string()] = {k: v.value for k, v in materialization.metadata.items()}
    published = metadata["published_warehouse"]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for table in ("fact_issue", "fact_indicator", "dim_notice", "quarantine_notice"):
            (rows,) = con.execute(f"SELECT count(*) FROM {table}").fetchone()
            assert published[f"rows_{table}"] == rows
            assert metadata["warehouse_staging"][f"rows_{table}"] == rows
    assert published["notices_quarantined"] == metadata["warehouse_staging"]["notices_quarantined"] == 0
    assert metadata["parsed_notices"]["notices_parsed"] == 5


def test_no_live_display_when_quiet_or_not_on_a_terminal():
    terminal = Console(file=io.StringIO(), force_terminal=True)
    assert wants_progress(terminal, quiet=False)
    assert not wants_progress(terminal, quiet=True)
    assert not wants_progress(Console(file=io.StringIO(), force_terminal=False), quiet=False)
