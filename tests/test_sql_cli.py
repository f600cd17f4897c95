"""`zhenggai sql`: formats, read-only refusal, the interactive prompt, and the example queries."""

import io
import json
import re
from pathlib import Path

import duckdb
import polars as pl
import pytest
from typer.testing import CliRunner

from orchestration.cli import app
from orchestration.sql_prompt import statements

runner = CliRunner()
QUERIES = sorted((Path(__file__).resolve().parent.parent / "warehouse" / "queries").glob("*.sql"))


def sql(published, *args, stdin=None):
    return runner.invoke(app, ["sql", "--warehouse", str(published), *args], input=stdin)


def test_ten_example_queries_each_say_what_they_answer():
    assert len(QUERIES) == 10
    for path in QUERIES:
        assert path.read_text(encoding="utf-8").startswith("-- Answers: "), path.name


@pytest.mark.parametrize("path", QUERIES, ids=lambda p: p.stem)
def test_example_query_runs_and_returns_rows(published, path):
    result = sql(published, "--format", "json", "--file", str(path))
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert len(records) > 0
    # The CLI prints what DuckDB itself returns for the file.
    with duckdb.connect(str(published), read_only=True) as con:
        assert len(records) == len(con.execute(path.read_text(encoding="utf-8")).fetchall())


def test_table_is_the_default_format(published):
    result = sql(published, "SELECT source_name, issues FROM notice_summary ORDER BY source_name")
    assert result.exit_code == 0, result.output
    assert "source_name" in result.output and "┃" in result.output
    assert re.search(r"000_\S+\.txt\s+│\s+25", result.output)


def test_parquet_goes_to_the_output_file_or_to_piped_stdout(published, tmp_path):
    target = tmp_path / "notices.parquet"
    result = sql(published, "--format", "parquet", "--output", str(target), "SELECT notice_key, parsed_issues FROM mart_notice")
    assert result.exit_code == 0, result.output
    assert pl.read_parquet(target)["parsed_issues"].sum() == 25 + 25 + 14 + 34 + 48
    piped = sql(published, "--format", "parquet", "SELECT count(*) AS n FROM fact_issue")
    assert piped.exit_code == 0
    assert pl.read_parquet(io.BytesIO(piped.stdout_bytes))["n"].to_list() == [170]


def test_csv_writes_list_cells_as_json_text(published, tmp_path):
    target = tmp_path / "issues.csv"
    result = sql(published, "--format", "csv", "--output", str(target),
                 "SELECT issue_key, indicator_metrics FROM mart_issue WHERE indicators > 0 ORDER BY issue_key LIMIT 3")
    assert result.exit_code == 0, result.output
    frame = pl.read_csv(target)
    assert frame.height == 3
    assert all(isinstance(json.loads(cell), list) and json.loads(cell) for cell in frame["indicator_metrics"])


@pytest.mark.parametrize("statement", [
    "CREATE TABLE scratch AS SELECT 1",
    "UPDATE fact_issue SET status = NULL",
    "COPY dim_notice TO '/tmp/zhenggai_leak.csv'",
])
def test_writes_are_refused_with_a_clear_message(published, statement):
    before = published.read_bytes()
    result = sql(published, statement)
    assert result.exit_code == 3
    assert "refused:" in result.output
    assert "read-only" in result.output or "cannot be read or written" in result.output
    assert published.read_bytes() == before
    assert not Path("/tmp/zhenggai_leak.csv").exists()


def test_a_bad_query_is_an_error_message_not_a_traceback(published):
    result = sql(published, "SELECT nothing FROM nowhere")
    assert result.exit_code == 1
    assert "query failed" in result.output and "Traceback" not in result.output


def test_interactive_prompt_runs_statements_until_quit(published):
    stdin = (
        "SELECT count(*) AS notices\n"
        "  FROM dim_notice;\n"
        "\n"
        "DELETE FROM fact_issue;\n"
        "SELECT no_such_column FROM dim_notice;\n"
        ".tables\n"
        "SELECT level, count(*) AS n FROM fact_issue GROUP BY level ORDER BY level;\n"
        ".quit\n"
        "SELECT 'after quit' AS never;\n"
    )
    result = sql(published, "--format", "csv", stdin=stdin)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "notices\n5\n" in out
    assert "level,n\ncategory,8\nissue,114\nsub_issue,48\n" in out
    assert "mart_notice,table," in out  # .tables lists the marts
    assert "after quit" not in out
    # The refused write and the bad column are reported and the prompt went on.
    assert "read-only" in result.output and "no_such_column" in result.output


def test_interactive_prompt_ends_at_end_of_input_and_runs_a_last_statement_without_semicolon(published):
    result = sql(published, "--format", "json", stdin="SELECT 41 + 1 AS answer")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [{"answer": 42}]


def test_statements_split_on_a_line_ending_with_a_semicolon():
    lines = ["-- a comment\n", "SELECT 1;\n", "SELECT\n", "  2;\n", ".help\n", "SELECT 3\n"]
    assert list(statements(lines)) == ["SELECT 1;", "SELECT\n  2;", ".help", "SELECT 3"]


def test_missing_query_file_or_warehouse_is_a_clear_error(published, tmp_path):
    missing_file = sql(published, "--file", str(tmp_path / "nope.sql"))
    assert missing_file.exit_code == 2 and "does not exist" in missing_file.output
    missing_warehouse = runner.invoke(app, ["sql", "--warehouse", str(tmp_path / "none.duckdb"), "SELECT 1"])
    assert missing_warehouse.exit_code == 3 and "no warehouse at" in missing_warehouse.output
    export = runner.invoke(app, ["export", "--warehouse", str(tmp_path / "none.duckdb"), str(tmp_path / "out")])
    assert export.exit_code == 3 and "no warehouse at" in export.output
