"""The command line and the Dagster definitions that the schedule, the sensor and the UI use."""

import json
import subprocess
import sys

import dagster as dg
import polars as pl
from typer.testing import CliRunner

from orchestration.cli import app
from orchestration.definitions import defs, new_notice_sensor
from orchestration.resources import NoticeSource

runner = CliRunner()


def test_sql_prints_query_results_as_csv_and_json(published):
    csv = runner.invoke(app, ["sql", "--warehouse", str(published), "--format", "csv",
                                    "SELECT level, count(*) AS n FROM fact_issue GROUP BY level ORDER BY level"])
    assert csv.exit_code == 0, csv.output
    assert csv.output.splitlines() == ["level,n", "category,8", "issue,114", "sub_issue,48"]
    as_json = runner.invoke(app, ["sql", "--warehouse", str(published), "--format", "json", "SELECT count(*) AS n FROM dim_notice"])
    assert json.loads(as_json.output) == [{"n": 5}]


def test_sql_refuses_writes_and_leaves_the_file_unchanged(published):
    before = published.read_bytes()
    result = runner.invoke(app, ["sql", "--warehouse", str(published), "DELETE FROM fact_issue"])
    assert result.exit_code != 0
    assert "read-only" in result.output
    assert published.read_bytes() == before


def test_export_writes_one_parquet_folder_per_table_with_all_rows(published, tmp_path):
    result = runner.invoke(app, ["export", "--warehouse", str(published), "--format", "parquet", str(tmp_path)])
    assert result.exit_code == 0, result.output
    issues = pl.read_parquet(tmp_path / "fact_issue" / "**" / "*.parquet")  # Hive folders publish_year=…
    assert issues.height == 170
    assert pl.read_parquet(tmp_path / "dim_notice" / "**" / "*.parquet").height == 5
    assert {p.name for p in tmp_path.iterdir()} >= {"dim_notice", "dim_inspection", "dim_organization", "fact_issue", "fact_measure", "fact_indicator", "fact_claim", "quarantine_notice"}


def test_the_command_as_a_process_keeps_its_output_and_exit_code(published, tmp_path):
    """`zhenggai` (orchestration.cli.main) ends its process without the interpreter's teardown: what the command
    printed to a pipe is all there, and its exit code is the command's."""
    def zhenggai(*args):
        return subprocess.run([sys.executable, "-m", "orchestration.cli", *args], capture_output=True, text=True, timeout=120)

    rows = zhenggai("sql", "--warehouse", str(published), "--format", "csv", "SELECT notice_key FROM dim_notice ORDER BY 1")
    assert rows.returncode == 0, rows.stderr
    assert len(rows.stdout.splitlines()) == 6 and rows.stdout.endswith("\n")
    missing = zhenggai("refresh", "--source", str(tmp_path / "nope"), "--warehouse", str(tmp_path / "w.duckdb"))
    assert missing.returncode == 3 and "notice folder not found" in missing.stderr
    assert zhenggai("no-such-command").returncode == 2  # a usage error, as click reports it


def test_refresh_of_a_missing_folder_is_a_clear_error(tmp_path):
    result = runner.invoke(app, ["refresh", "--source", str(tmp_path / "nope"), "--warehouse", str(tmp_path / "w.duckdb")])
    assert result.exit_code == 3
    assert "notice folder not found" in result.output
    assert not (tmp_path / "w.duckdb").exists()


def test_definitions_group_assets_by_layer_with_a_nightly_schedule():
    groups = {key.to_user_string(): spec.group_name for key, spec in ((s.key, s) for s in defs.resolve_all_asset_specs())}
    assert groups == {
        "source/landing": "landing",
        "raw_notices": "raw",
        "fetch_log": "raw",
        "staged_notices": "staging",
        "rejected_notices": "staging",
        "parsed_notices": "staging",
        "warehouse_staging": "marts",
        "published_warehouse": "marts",
    }
    schedule = defs.resolve_schedule_def("nightly_refresh")
    assert (schedule.cron_schedule, schedule.execution_timezone, schedule.job_name) == ("0 2 * * *", "Asia/Shanghai", "refresh")
    checks = {key.name for key in defs.resolve_asset_graph().asset_check_keys}
    assert {"gx_fact_issue", "gx_dim_notice", "gx_fact_claim"} <= checks


def test_sensor_requests_a_refresh_only_when_the_landing_folder_changes(tmp_path):
    (tmp_path / "a.txt").write_text("巡察整改", encoding="utf-8")
    source = NoticeSource(directory=str(tmp_path))
    with dg.build_sensor_context(resources={"notice_source": source}) as context:
        first = new_notice_sensor(context)
        assert isinstance(first, dg.RunRequest)
        assert isinstance(new_notice_sensor(context), dg.SkipReason)
        (tmp_path / "b.html").write_text("<p>巡视</p>", encoding="utf-8")
        assert isinstance(new_notice_sensor(context), dg.RunRequest)
