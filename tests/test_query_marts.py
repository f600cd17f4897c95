"""The marts behind the example queries (warehouse/sql/08_query_marts.sql) on the warehouse built from seeds/.

Each mart is compared with the SQL it replaces, computed here from the tables it is built from, and each
rewritten example query (warehouse/queries/) with its text before the marts existed: same rows, and the same
sequence of ORDER BY keys (rows that tie on every key may come in any order, as they may from one run of
the same query to the next).
"""

from pathlib import Path

import duckdb
import pytest

QUERIES = Path(__file__).resolve().parent.parent / "warehouse" / "queries"
QUERY_MARTS = ("mart_claim", "mart_headline_figure", "mart_unit_headline", "mart_open_problem")

# The example queries as they were written over the contract tables and the marts of 03_marts.sql, with the
# output columns their ORDER BY keys are (by position), for the comparison.
BEFORE = {
    "03_claims_that_disagree": ("""
        SELECT n.organization, c.subject, coalesce(c.status, 'total') AS status,
               c.claimed_count, c.parsed_count, c.claimed_count - c.parsed_count AS gap,
               CASE WHEN c.reconciled THEN 'agrees' WHEN NOT c.reconciled THEN 'differs' ELSE 'unverifiable' END AS verdict,
               c.quote
        FROM fact_claim c
        JOIN mart_notice n USING (notice_key)
        WHERE c.reconciled IS DISTINCT FROM true
        ORDER BY verdict, n.organization, c.subject""", (6, 0, 1)),
    "04_open_problems": ("""
        SELECT organization, number, title, status, status_phrase, expected_completion, measures_next_step
        FROM mart_issue
        WHERE is_leaf AND status_group IN ('open', 'basically_completed', 'not_feasible')
        ORDER BY organization, node_ordinal""", (0,)),
    "06_headline_figures_by_unit": ("""
        SELECT i.organization, h.label_en, h.label_zh, h.base_unit,
               count(*) AS mentions, sum(i.value_base) AS total, max(i.value_base) AS largest_single_figure
        FROM mart_indicator i
        JOIN (SELECT DISTINCT headline, label_en, label_zh, base_unit FROM mart_headline_metric) h USING (headline)
        GROUP BY ALL
        ORDER BY i.organization, h.label_en""", (0, 1)),
    "07_disciplinary_figures_with_quotes": ("""
        SELECT organization, issue_number, issue_title, value, unit, qualifier, quote
        FROM mart_indicator
        WHERE headline = 'people_disciplined'
        ORDER BY organization, value DESC""", (0, 3)),
}


@pytest.fixture(scope="module")
def con(published):
    connection = duckdb.connect(str(published), read_only=True)
    yield connection
    connection.close()


def rows(con, sql):
    return con.execute(sql).fetchall()


def unordered(result):
    """Rows in a canonical order (NULLs sort apart from values of any type)."""
    return sorted(result, key=lambda row: tuple((value is None, str(value)) for value in row))


def columns(con, table):
    return [name for (name,) in rows(con, f"SELECT column_name FROM duckdb_columns() WHERE table_name = '{table}' ORDER BY column_index")]


def test_every_query_mart_is_a_table_with_a_comment_on_it_and_on_each_column(con):
    tables = dict(rows(con, "SELECT table_name, comment FROM duckdb_tables() WHERE NOT internal AND schema_name = 'main'"))
    for mart in QUERY_MARTS:
        assert tables.get(mart), f"{mart} missing or without COMMENT"
    uncommented = rows(con, f"""SELECT table_name || '.' || column_name FROM duckdb_columns()
                               WHERE table_name IN {QUERY_MARTS} AND (comment IS NULL OR comment = '')""")
    assert uncommented == []


@pytest.mark.parametrize("name", sorted(BEFORE))
def test_example_query_answers_as_before_the_marts(con, name):
    before_sql, keys = BEFORE[name]
    before = rows(con, before_sql)
    after = rows(con, (QUERIES / f"{name}.sql").read_text(encoding="utf-8"))
    assert before, f"{name} returns nothing on the seeds: the comparison would prove nothing"
    assert unordered(after) == unordered(before)
    assert [tuple(row[k] for k in keys) for row in after] == [tuple(row[k] for k in keys) for row in before]
    described = lambda sql: [(column, str(kind)) for column, kind in zip(con.sql(sql).columns, con.sql(sql).types)]
    assert described((QUERIES / f"{name}.sql").read_text(encoding="utf-8").rstrip().rstrip(";")) == described(before_sql)


def test_mart_claim_is_every_claim_with_its_unit_gap_and_verdict(con):
    mart = rows(con, "SELECT claim_key, organization, subject, status, claimed_count, parsed_count, gap, reconciled, verdict, quote FROM mart_claim")
    expected = rows(con, """SELECT c.claim_key, n.organization, c.subject, c.status, c.claimed_count, c.parsed_count,
                                   c.claimed_count - c.parsed_count, c.reconciled, c.quote
                            FROM fact_claim c JOIN mart_notice n USING (notice_key)""")
    assert len(mart) == len(expected) == rows(con, "SELECT count(*) FROM fact_claim")[0][0] > 0
    verdict = {True: "agrees", False: "differs", None: "unverifiable"}
    assert unordered(mart) == unordered([row[:8] + (verdict[row[7]],) + row[8:] for row in expected])
    # The seeds have all three verdicts, so the mapping is exercised both ways.
    assert {row[8] for row in mart} == {"agrees", "differs", "unverifiable"}


def test_mart_headline_figure_is_the_figures_of_mart_indicator_that_count_towards_a_headline(con):
    wanted = ", ".join(columns(con, "mart_headline_figure"))
    mart = rows(con, f"SELECT {wanted} FROM mart_headline_figure")
    expected = rows(con, f"SELECT {wanted} FROM mart_indicator WHERE headline IS NOT NULL")
    assert unordered(mart) == unordered(expected)
    assert len(mart) < rows(con, "SELECT count(*) FROM mart_indicator")[0][0]  # a slice, not a copy
    assert rows(con, "SELECT count(*) FROM mart_headline_figure WHERE headline = 'people_disciplined'")[0][0] > 0


def test_mart_unit_headline_sums_the_figures_of_each_unit_and_headline(con):
    mart = rows(con, "SELECT organization, headline, base_unit, mentions, total, largest_single_figure FROM mart_unit_headline")
    expected = rows(con, """SELECT organization, headline, base_unit, count(*), sum(value_base), max(value_base)
                            FROM mart_indicator WHERE headline IS NOT NULL GROUP BY ALL""")
    assert unordered(mart) == unordered(expected)
    assert len({(organization, headline) for organization, headline, *_ in mart}) == len(mart)
    # Each figure is counted once: the sums per headline are those of mart_notice's headline columns,
    # including meetings_trainings, which two metrics (meetings, trainings) feed.
    by_headline = dict(rows(con, "SELECT headline, sum(total) FROM mart_unit_headline GROUP BY headline"))
    for headline in ("people_disciplined", "meetings_trainings", "funds_cny"):
        (notice_sum,) = rows(con, f"SELECT sum({headline}) FROM mart_notice")[0]
        assert by_headline[headline] == pytest.approx(notice_sum) and notice_sum > 0


def test_mart_open_problem_is_the_leaf_problems_not_yet_rectified(con):
    wanted = ", ".join(columns(con, "mart_open_problem"))
    mart = rows(con, f"SELECT {wanted} FROM mart_open_problem")
    expected = rows(con, f"""SELECT {wanted} FROM mart_issue
                             WHERE is_leaf AND status_group IN ('open', 'basically_completed', 'not_feasible')""")
    assert unordered(mart) == unordered(expected) and mart
    assert {status for (status,) in rows(con, "SELECT DISTINCT status FROM mart_open_problem")} <= {
        "in_progress", "long_term", "basically_completed", "not_feasible"}


@pytest.mark.parametrize("mart, order", [
    ("mart_claim", "verdict, organization, subject"),
    ("mart_headline_figure", "headline, organization, value DESC"),
    ("mart_unit_headline", "organization, headline"),
    ("mart_open_problem", "organization, node_ordinal"),
])
def test_query_marts_are_stored_in_the_order_their_query_asks_for(con, mart, order):
    # A scan keeps insertion order (DuckDB preserve_insertion_order): the stored order is what makes the
    # query's ORDER BY cheap and a filter on the leading column skip row groups.
    keys = ", ".join(column.split()[0] for column in order.split(", "))
    stored = rows(con, f"SELECT {keys} FROM {mart}")
    assert stored == rows(con, f"SELECT {keys} FROM {mart} ORDER BY {order}")
    assert len(set(stored)) > 1


def test_gate_blocks_query_marts_that_repeat_or_let_in_the_wrong_rows(published, tmp_path):
    from expectations.gate import run_gate

    staged = tmp_path / "staged.duckdb"
    staged.write_bytes(published.read_bytes())
    with duckdb.connect(str(staged)) as writable:
        writable.execute("""
            INSERT INTO mart_claim SELECT * FROM mart_claim ORDER BY claim_key LIMIT 1;
            INSERT INTO mart_headline_figure SELECT * FROM mart_headline_figure WHERE headline = 'people_disciplined' LIMIT 1;
            UPDATE mart_headline_figure SET headline = 'petitions'
            WHERE indicator_key = (SELECT min(indicator_key) FROM mart_headline_figure WHERE headline = 'funds_cny');
            INSERT INTO mart_unit_headline SELECT * FROM mart_unit_headline ORDER BY organization, headline LIMIT 1;
            UPDATE mart_open_problem SET status_group = 'completed'
            WHERE issue_key = (SELECT min(issue_key) FROM mart_open_problem);""")
    result = run_gate(staged, tmp_path / "validation")
    assert not result.passed
    failed = {line.split(" — ")[0] for line in result.errors}
    assert failed == {
        "mart_claim: claim_key values are unique",
        "mart_headline_figure: indicator_key values are unique",
        "mart_headline_figure: the figure is a row of mart_indicator with the same headline (not NULL)",
        "mart_unit_headline: (organization, headline) values are unique",
        "mart_open_problem: status_group is one of: open, basically_completed, not_feasible",
    }


def test_query_06_counts_each_figure_once(con):
    """meetings_trainings is fed by two metrics, so it has two rows in mart_headline_metric; joining them
    counted every such figure twice."""
    query = (QUERIES / "06_headline_figures_by_unit.sql").read_text(encoding="utf-8").strip().rstrip(";")
    answered = dict(rows(con, f"SELECT label_en, sum(mentions) FROM ({query}) GROUP BY label_en"))
    figures = dict(rows(con, """SELECT label_en, count(*) FROM mart_indicator
                                JOIN (SELECT DISTINCT headline, label_en FROM mart_headline_metric) USING (headline)
                                GROUP BY label_en"""))
    assert answered == figures
    assert any("meeting" in label.lower() for label in answered)
