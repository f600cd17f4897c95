"""The BI marts (warehouse/sql/03_marts.sql, tables built after the load) on the warehouse built from seeds/.

Expected values are recomputed here from the contract tables (or read from the seed text where a notice
states them), so a mart that drifts from its definition fails.
"""

import csv
from datetime import date
from pathlib import Path

import duckdb
import pytest

MARTS = ("mart_notice", "mart_issue", "mart_indicator", "mart_unit_progress", "mart_headline_metric")
METRICS_CSV = Path(__file__).resolve().parent.parent / "transforms" / "metrics.csv"


@pytest.fixture(scope="module")
def con(published):
    connection = duckdb.connect(str(published), read_only=True)
    yield connection
    connection.close()


def rows(con, sql, *params):
    return con.execute(sql, list(params)).fetchall()


def notice_key_of(con, prefix):
    (key,) = rows(con, "SELECT notice_key FROM dim_notice WHERE source_name LIKE ?", prefix + "%")[0]
    return key


def test_every_mart_is_a_table_with_a_comment_on_it_and_on_each_column(con):
    # Tables built in the staging file at each refresh (warehouse/store.py): gated with it, never stale.
    tables = dict(rows(con, "SELECT table_name, comment FROM duckdb_tables() WHERE NOT internal AND schema_name = 'main'"))
    for mart in MARTS + ("mart_notice_figures",):
        assert tables.get(mart), f"{mart} missing or without COMMENT"
    uncommented = rows(con, f"""SELECT table_name || '.' || column_name FROM duckdb_columns()
                               WHERE table_name IN {MARTS} AND (comment IS NULL OR comment = '')""")
    assert uncommented == []


def test_headline_metrics_name_metric_codes_that_exist_in_metrics_csv(con):
    # When the metric vocabulary is reworked, this names the mart_headline_metric rows to update.
    with METRICS_CSV.open(encoding="utf-8") as handle:
        known = {row["metric"] for row in csv.DictReader(handle)}
    headline = rows(con, "SELECT metric, headline FROM mart_headline_metric")
    assert len({h for _, h in headline}) == 8  # the headline columns of mart_notice
    assert len(headline) == len({m for m, _ in headline}) == 9  # a metric counts towards one headline at most
    assert {metric for metric, _ in headline} <= known


def test_mart_notice_has_one_row_per_notice_with_its_inspection_unit_and_lags(con):
    assert rows(con, "SELECT count(*), count(DISTINCT notice_key) FROM mart_notice") == [(5, 5)]
    key = notice_key_of(con, "000")
    (row,) = rows(con, """SELECT inspection_kind, inspecting_body, organization, feedback_date, publish_date,
                                 days_inspection_end_to_feedback, days_feedback_to_publish, lags_approximate
                          FROM mart_notice WHERE notice_key = ?""", key)
    # 000: 区委第二巡察组, inspection to 2021-10-29, feedback 2021-11-29, signed 2022-04-11.
    assert row == ("巡察", "区委第二巡察组", "薛家镇及所辖村(社区)", date(2021, 11, 29), date(2022, 4, 11),
                   31, (date(2022, 4, 11) - date(2021, 11, 29)).days, False)
    # A notice without a signature date has no publish lag, and a vague inspection end makes lags approximate.
    assert rows(con, "SELECT count(*) FROM mart_notice WHERE publish_date IS NULL AND days_feedback_to_publish IS NOT NULL") == [(0,)]
    (approx,) = rows(con, "SELECT lags_approximate FROM mart_notice WHERE notice_key = ?", notice_key_of(con, "002"))[0]
    assert approx is True


def test_mart_notice_completion_rates_stated_and_computed(con):
    by_prefix = {p: rows(con, """SELECT parsed_issues, parsed_completed, claimed_issues, claimed_completed,
                                        completion_rate_stated, completion_rate_computed
                                 FROM mart_notice WHERE notice_key = ?""", notice_key_of(con, p))[0]
                 for p in ("000", "001", "002", "004")}
    # 000 claims 15 completed and 10 in progress (no total): stated 15/25; its status groups give 15 of 25.
    assert by_prefix["000"] == (25, 15, None, 15, 0.6, 0.6)
    # 001 states no status at all.
    assert by_prefix["001"] == (25, 0, 25, None, None, None)
    # 002 claims 11 of 14 completed; its status lines agree on 11 completed.
    assert by_prefix["002"] == (14, 11, 14, 11, round(11 / 14, 4), round(11 / 14, 4))
    # 004: 48 specific problems, 35 claimed completed; per-problem statuses are not parsed.
    assert by_prefix["004"] == (48, 0, 48, 35, round(35 / 48, 4), None)


def test_mart_notice_parsed_issues_are_the_leaf_problems(con):
    leaves = dict(rows(con, """SELECT notice_key, count(*) FROM fact_issue f WHERE level <> 'category'
                               AND NOT EXISTS (SELECT 1 FROM fact_issue c WHERE c.parent_issue_key = f.issue_key)
                               GROUP BY notice_key"""))
    assert dict(rows(con, "SELECT notice_key, parsed_issues FROM mart_notice")) == leaves
    measures = dict(rows(con, "SELECT notice_key, count(*) FROM fact_measure GROUP BY notice_key"))
    assert dict(rows(con, "SELECT notice_key, parsed_measures FROM mart_notice")) == measures


def test_headline_figures_sum_level_figures_of_their_metric_and_base_unit(con):
    expected = dict(rows(con, """SELECT notice_key, sum(value_base) FROM fact_indicator
                                 WHERE metric = 'people_disciplined' AND base_unit = 'count' AND direction IS NULL
                                 GROUP BY notice_key"""))
    got = {k: v for k, v in rows(con, "SELECT notice_key, people_disciplined FROM mart_notice") if v is not None}
    assert got == expected and sum(got.values()) > 0
    # mart_indicator.headline marks exactly the figures summed into mart_notice.
    by_headline = dict(rows(con, "SELECT headline, sum(value_base) FROM mart_indicator WHERE headline IS NOT NULL GROUP BY 1"))
    for headline, total in by_headline.items():
        (column_total,) = rows(con, f"SELECT sum({headline}) FROM mart_notice")[0]
        assert column_total == pytest.approx(total), headline
    assert rows(con, "SELECT count(*) FROM mart_indicator WHERE headline IS NOT NULL AND direction IS NOT NULL") == [(0,)]


def test_mart_issue_has_one_row_per_problem_with_category_measures_and_indicators(con):
    assert rows(con, "SELECT count(*) FROM mart_issue") == rows(con, "SELECT count(*) FROM fact_issue WHERE level <> 'category'")
    # Every measure and every figure attached to a problem is counted on exactly that problem.
    assert rows(con, "SELECT sum(measures) FROM mart_issue") == rows(
        con, "SELECT count(*) FROM fact_measure m JOIN fact_issue f USING (issue_key) WHERE f.level <> 'category'")
    assert rows(con, "SELECT sum(indicators) FROM mart_issue") == rows(
        con, "SELECT count(*) FROM fact_indicator x JOIN fact_issue f USING (issue_key) WHERE f.level <> 'category'")
    # 002 has four categories: every one of its issues names its category.
    key = notice_key_of(con, "002")
    assert rows(con, "SELECT count(*), count(category_title), count(DISTINCT category_key) FROM mart_issue WHERE notice_key = ?", key) == [(14, 14, 4)]
    # 004's sub-issues name their issue as parent and the issue's category as category.
    (sub,) = rows(con, """SELECT m.category_key = p.parent_issue_key, m.parent_issue_title = p.title, m.is_leaf, NOT pm.is_leaf
                          FROM mart_issue m JOIN fact_issue p ON p.issue_key = m.parent_issue_key
                          JOIN mart_issue pm ON pm.issue_key = p.issue_key
                          WHERE m.level = 'sub_issue' LIMIT 1""")
    assert sub == (True, True, True, True)
    assert rows(con, "SELECT status_group, count(*) FROM mart_issue WHERE notice_key = ? GROUP BY 1 ORDER BY 1",
                notice_key_of(con, "000")) == [("completed", 15), ("open", 10)]


def test_mart_indicator_has_one_row_per_figure_with_its_context(con):
    assert rows(con, "SELECT count(*), count(DISTINCT indicator_key) FROM mart_indicator") == rows(
        con, "SELECT count(*), count(*) FROM fact_indicator")
    assert rows(con, "SELECT sum(value_base) = (SELECT sum(value_base) FROM fact_indicator) FROM mart_indicator") == [(True,)]
    assert rows(con, "SELECT count(*) FROM mart_indicator WHERE measure_key IS NOT NULL AND measure_phase IS NULL") == [(0,)]


def test_mart_unit_progress_orders_reports_per_unit_and_carries_the_completed_share(con):
    progress = rows(con, """SELECT notice_key, report_seq, completed_share, completed_share_source, previous_completed_share
                            FROM mart_unit_progress ORDER BY notice_key""")
    assert len(progress) == 5
    shares = {key: (share, source) for key, _, share, source, _ in progress}
    assert shares[notice_key_of(con, "000")] == (0.6, "parsed")
    assert shares[notice_key_of(con, "004")] == (round(35 / 48, 4), "claimed")
    assert shares[notice_key_of(con, "001")] == (None, None)
    # One report per unit in the seeds: each is the first of its series.
    assert {(seq, previous) for _, seq, _, _, previous in progress} == {(1, None)}


@pytest.fixture(scope="module")
def two_reports(tmp_path_factory):
    """A unit that published twice on the same inspection: seed 000, then a later report where its open
    problems are done (the second group heading says so and the signature date is six months later)."""
    from orchestration.cli import run_refresh
    from tests.conftest import seed_path

    landing = tmp_path_factory.mktemp("two_reports")
    first = seed_path("000").read_text(encoding="utf-8")
    assert "二、正在推进整改的问题" in first and first.rstrip().endswith("2022年4月11日")
    later = first.replace("二、正在推进整改的问题", "二、已完成整改的问题").rstrip()[: -len("2022年4月11日")] + "2022年10月11日\n"
    (landing / "first.txt").write_text(first, encoding="utf-8")
    (landing / "later.txt").write_text(later, encoding="utf-8")
    warehouse = landing / "zhenggai.duckdb"
    outcome = run_refresh(landing, warehouse)
    assert outcome.published, (outcome.failure, outcome.gate_errors)
    return warehouse


def test_mart_unit_progress_follows_one_unit_across_its_reports(two_reports):
    with duckdb.connect(str(two_reports), read_only=True) as con:
        progress = con.execute("""SELECT report_seq, publish_date, issues, completed, completed_share,
                                         previous_completed_share, count(*) OVER (PARTITION BY organization_key, inspection_key)
                                  FROM mart_unit_progress ORDER BY report_seq""").fetchall()
    assert progress == [
        (1, date(2022, 4, 11), 25, 15, 0.6, None, 2),
        (2, date(2022, 10, 11), 25, 25, 1.0, 0.6, 2),
    ]
