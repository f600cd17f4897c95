"""End to end: the real Dagster job on the seed notices, published into a temporary warehouse."""

import shutil
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from orchestration.cli import EXIT_GATE_BLOCKED, app, run_refresh
from tests.conftest import SEEDS, query, seed_path

CONTRACT = {
    "dim_notice": ["notice_key", "source_name", "content_sha256", "title", "publisher", "publish_date", "report_stage", "inspection_key", "organization_key"],
    "dim_inspection": ["inspection_key", "inspection_kind", "inspecting_level", "inspecting_body", "inspection_start", "inspection_end", "feedback_date"],
    "dim_organization": ["organization_key", "name", "org_type", "province", "city", "county"],
    "fact_issue": ["issue_key", "notice_key", "parent_issue_key", "level", "number", "title", "status", "status_phrase", "expected_completion", "topic", "measure_count"],
    "fact_measure": ["measure_key", "issue_key", "notice_key", "ordinal", "text"],
    "fact_indicator": ["indicator_key", "notice_key", "issue_key", "measure_key", "value", "unit", "value_base", "base_unit", "qualifier", "direction", "metric", "quote"],
    "fact_claim": ["notice_key", "subject", "status", "claimed_count", "parsed_count", "quote"],
    "quarantine_notice": ["source_name", "content_sha256", "reason", "raw_text", "quarantined_at"],
}


def per_seed(warehouse: Path, sql: str) -> dict[str, dict]:
    """Rows of `sql` (which must select source_name first) keyed by the seed prefix (000…004)."""
    frame = query(warehouse, sql)
    return {row["source_name"][:3]: row for row in frame.iter_rows(named=True)}


def test_contract_tables_and_columns_exist_with_comments(published):
    columns = query(published, "SELECT table_name, column_name, comment FROM duckdb_columns() WHERE NOT internal")
    tables = query(published, "SELECT table_name, comment FROM duckdb_tables() WHERE NOT internal")
    for table, names in CONTRACT.items():
        present = set(columns.filter(pl.col("table_name") == table)["column_name"])
        assert set(names) <= present, f"{table} lacks {set(names) - present}"
    assert tables.filter(pl.col("comment").is_null() | (pl.col("comment") == "")).is_empty()
    assert columns.filter(pl.col("comment").is_null() | (pl.col("comment") == "")).is_empty()


def test_every_seed_is_a_notice_and_nothing_is_quarantined(published):
    assert query(published, "SELECT count(*) AS n FROM dim_notice")["n"][0] == 5
    assert query(published, "SELECT count(*) AS n FROM quarantine_notice")["n"][0] == 0


EXPECTED_LEVELS = {
    "000": {"category": 0, "issue": 25, "sub_issue": 0},
    "001": {"category": 0, "issue": 25, "sub_issue": 0},
    "002": {"category": 4, "issue": 14, "sub_issue": 0},
    "003": {"category": 0, "issue": 34, "sub_issue": 0},
    "004": {"category": 4, "issue": 16, "sub_issue": 48},
}


def test_issue_nodes_per_level(published):
    found = per_seed(
        published,
        """SELECT n.source_name,
                  count(*) FILTER (WHERE level = 'category') AS category,
                  count(*) FILTER (WHERE level = 'issue') AS issue,
                  count(*) FILTER (WHERE level = 'sub_issue') AS sub_issue
           FROM dim_notice n LEFT JOIN fact_issue USING (notice_key) GROUP BY ALL""",
    )
    assert {prefix: {k: v for k, v in row.items() if k != "source_name"} for prefix, row in found.items()} == EXPECTED_LEVELS


def test_statuses_from_section_headings_and_status_lines(published):
    rows = query(
        published,
        """SELECT substr(n.source_name, 1, 3) AS seed, status, status_source, count(*) AS nodes
           FROM fact_issue i JOIN dim_notice n USING (notice_key)
           WHERE level <> 'category' AND status IS NOT NULL GROUP BY ALL ORDER BY ALL""",
    )
    by_seed = {(r["seed"], r["status"]): (r["status_source"], r["nodes"]) for r in rows.iter_rows(named=True)}
    assert by_seed[("000", "completed")] == ("section_heading", 15)
    assert by_seed[("000", "in_progress")] == ("section_heading", 10)
    assert by_seed[("002", "completed_long_term")] == ("status_line", 11)
    assert by_seed[("002", "in_progress")] == ("status_line", 3)


def test_titles_are_problem_statements_without_wrappers(published):
    titles = query(
        published,
        "SELECT substr(n.source_name, 1, 3) AS seed, level, number, i.title FROM fact_issue i JOIN dim_notice n USING (notice_key)",
    )

    def title(seed, level, number):
        hit = titles.filter((pl.col("seed") == seed) & (pl.col("level") == level) & (pl.col("number") == number))
        return hit["title"].to_list()

    assert title("000", "issue", "1")[0] == "‘抓好党建是最大政绩’的主责主业意识有所弱化"
    assert "撂荒复耕工作开展不扎实" in title("002", "issue", "3")
    assert "农业农村工作存在薄弱环节" in title("001", "issue", "9")
    assert title("004", "sub_issue", "(48)")[0].rstrip("。") == "主题教育存在“过关”思想"
    assert query(published, "SELECT count(*) AS n FROM fact_issue WHERE title LIKE '%关于“%问题的整改%'")["n"][0] == 0


def test_expected_completion_and_measures(published):
    rows = per_seed(
        published,
        """SELECT n.source_name, count(m.measure_key) AS measures,
                  count(m.measure_key) FILTER (WHERE m.phase = 'next_step') AS next_steps
           FROM dim_notice n LEFT JOIN fact_measure m USING (notice_key) GROUP BY ALL""",
    )
    assert rows["001"]["measures"] == 143
    assert rows["000"]["next_steps"] > 0
    assert all(row["measures"] > 0 for row in rows.values())
    expected = query(
        published,
        """SELECT expected_completion FROM fact_issue JOIN dim_notice n USING (notice_key)
           WHERE n.source_name LIKE '002%' AND expected_completion IS NOT NULL ORDER BY 1""",
    )["expected_completion"].to_list()
    assert date(2023, 12, 1) in expected and date(2024, 3, 1) in expected


def test_metadata_fields(published):
    rows = per_seed(
        published,
        """SELECT n.source_name, n.publisher, n.publish_date, n.report_stage, i.inspection_kind,
                  i.inspecting_level, i.inspecting_body, i.inspection_start, i.inspection_end,
                  i.inspection_end_precision, i.feedback_date, o.name AS unit
           FROM dim_notice n JOIN dim_inspection i USING (inspection_key)
           LEFT JOIN dim_organization o USING (organization_key)""",
    )
    assert {
        k: rows["000"][k] for k in ("publisher", "publish_date", "inspection_kind", "inspecting_level", "inspecting_body", "inspection_start", "inspection_end", "feedback_date")
    } == {
        "publisher": "中共常州市新北区薛家镇委员会",
        "publish_date": date(2022, 4, 11),
        "inspection_kind": "巡察",
        "inspecting_level": "区委",
        "inspecting_body": "区委第二巡察组",
        "inspection_start": date(2021, 8, 13),
        "inspection_end": date(2021, 10, 29),
        "feedback_date": date(2021, 11, 29),
    }
    assert (rows["001"]["inspecting_body"], rows["001"]["feedback_date"], rows["001"]["publish_date"]) == (
        "省委第九巡视组", date(2019, 12, 31), date(2020, 4, 27))
    assert (rows["002"]["inspection_end"], rows["002"]["inspection_end_precision"], rows["002"]["feedback_date"]) == (
        date(2023, 1, 1), "early_month", date(2023, 3, 10))
    assert rows["002"]["report_stage"] == "整改阶段性进展情况"
    assert (rows["003"]["inspection_start"], rows["003"]["feedback_date"], rows["003"]["unit"]) == (
        date(2023, 6, 30), date(2023, 10, 14), "梁溪区")
    assert (rows["004"]["inspecting_body"], rows["004"]["publisher"]) == ("省委第一巡视组", "中共郴州市苏仙区委")


def test_claims_with_parsed_counts(published):
    claims = query(
        published,
        """SELECT substr(n.source_name, 1, 3) AS seed, subject, status, claimed_count, parsed_count, reconciled
           FROM fact_claim JOIN dim_notice n USING (notice_key)""",
    )

    def claim(seed, subject, status):
        hit = claims.filter((pl.col("seed") == seed) & (pl.col("subject") == subject) & pl.col("status").eq_missing(status))
        return hit.select("claimed_count", "parsed_count").rows()

    assert (15, 15) in claim("000", "issues", "completed")
    assert (14, 14) in claim("002", "issues", None)
    assert claim("002", "issues", "not_feasible") == [(1, 0)]  # the notice's own status lines disagree
    assert (48, 48) in claim("004", "issues", None)
    assert claim("004", "issues", "completed") == [(35, None)]  # its sub-issues state no status
    assert claim("001", "measures", None) == [(153, 143)]


def test_a_second_refresh_of_the_same_content_gives_the_same_keys_and_rows(published, tmp_path):
    again = tmp_path / "again.duckdb"
    assert run_refresh(SEEDS, again).published
    for table in ("dim_notice", "dim_inspection", "dim_organization", "fact_issue", "fact_measure", "fact_indicator", "fact_claim"):
        first = query(published, f"SELECT * FROM {table} ORDER BY ALL")
        second = query(again, f"SELECT * FROM {table} ORDER BY ALL")
        assert first.equals(second), table


def test_indicator_quotes_are_at_their_offsets(published):
    bad = query(
        published,
        """SELECT indicator_key FROM fact_indicator x JOIN raw_notice r USING (notice_key)
           WHERE substr(r.text, x.char_start + 1, x.char_end - x.char_start) <> x.quote""",
    )
    assert bad.is_empty()
    assert query(published, "SELECT count(*) AS n FROM fact_indicator")["n"][0] > 100


def test_gate_blocks_a_corrupted_load_and_keeps_the_previous_warehouse(tmp_path, monkeypatch):
    source = tmp_path / "in"
    source.mkdir()
    shutil.copy(seed_path("000"), source)
    warehouse = tmp_path / "zhenggai.duckdb"
    runner = CliRunner()
    first = runner.invoke(app, ["refresh", "--source", str(source), "--warehouse", str(warehouse), "--quiet"])
    assert first.exit_code == 0, first.output
    before = warehouse.read_bytes()

    import transforms.pipeline as pipeline

    real_notice_tables = pipeline.notice_tables

    def corrupted(*args):
        tables = real_notice_tables(*args)
        issues = tables["fact_issue"]
        tables["fact_issue"] = pl.concat([issues, issues.head(1)])  # a duplicated key
        return tables

    monkeypatch.setattr(pipeline, "notice_tables", corrupted)
    monkeypatch.setattr("warehouse.build.code_digest", lambda: "corrupting-version")  # new code: a rebuild
    monkeypatch.setattr("warehouse.parse_cache.parser_version", lambda: "corrupting-version")  # and a new parse
    blocked = runner.invoke(app, ["refresh", "--source", str(source), "--warehouse", str(warehouse)])
    assert blocked.exit_code == EXIT_GATE_BLOCKED
    assert "gate blocked publication" in blocked.output
    assert "fact_issue" in blocked.output and "issue_key" in blocked.output
    assert warehouse.read_bytes() == before
    assert (tmp_path / "validation" / "validation.json").exists()


def test_empty_and_binary_files_are_quarantined_and_the_rest_published(tmp_path):
    source = tmp_path / "in"
    source.mkdir()
    for prefix in ("000", "002"):
        shutil.copy(seed_path(prefix), source)
    (source / "empty.txt").write_bytes(b"")
    (source / "image.html").write_bytes(bytes(range(256)) * 8)
    warehouse = tmp_path / "w.duckdb"
    assert run_refresh(source, warehouse).published
    quarantined = query(warehouse, "SELECT source_name, reason, octet_length(raw_bytes) AS size FROM quarantine_notice ORDER BY 1")
    assert quarantined.rows() == [
        ("empty.txt", "cannot decode: empty file", 0),
        ("image.html", quarantined["reason"][1], 2048),
    ]
    assert quarantined["reason"][1].startswith("cannot decode: binary content")
    assert query(warehouse, "SELECT count(*) AS n FROM dim_notice")["n"][0] == 2


def test_a_landing_folder_of_files_that_are_no_notices_publishes_their_quarantine(tmp_path):
    source = tmp_path / "in"
    source.mkdir()
    (source / "short.txt").write_text("hello", encoding="utf-8")
    warehouse = tmp_path / "w.duckdb"
    outcome = run_refresh(source, warehouse)
    assert outcome.published, (outcome.failure, outcome.gate_errors)
    assert query(warehouse, "SELECT source_name FROM quarantine_notice").rows() == [("short.txt",)]
    assert query(warehouse, "SELECT count(*) AS n FROM dim_notice")["n"].to_list() == [0]
