"""The publication gate (expectations/gate.py) on small staged warehouses built from the real DDL."""

import dataclasses
import json
from pathlib import Path

import duckdb
import polars as pl
import pytest

from expectations.gate import GateError, load_suites, run_gate, suite_names
from warehouse.schema import ddl_statements, mart_statements

A, B = "a" * 16, "b" * 16  # notice keys: first 16 hex digits of content_sha256 ("a" * 64, "b" * 64)
ORG = "0123456789abcdef"
INS_A, INS_B = "1111111111111111", "2222222222222222"

def notice_text(length: int, *quotes: tuple[int, str]) -> str:
    """A normalised notice text of `length` characters holding each quote at its offset."""
    chars = ["。"] * length
    for start, quote in quotes:
        chars[start : start + len(quote)] = quote
    return "".join(chars)


TEXT_A = notice_text(100, (0, "共计1个问题已完成整改"), (26, "3万余元"))
TEXT_B = notice_text(50, (0, "确定了12条整改措施"), (20, "增长12.5%"))

# A consistent two-notice warehouse: a category → issue → sub-issue hierarchy with measures, indicators
# (one outside any issue), claims (one without parsed count), vague inspection dates, a quarantined file.
VALID_ROWS = f"""
INSERT INTO raw_notice VALUES
    ('{A}', 'a.txt', '{"a" * 64}', 'utf-8', 'raw a', '{TEXT_A}'),
    ('{B}', 'b.txt', '{"b" * 64}', 'gb18030', 'raw b', '{TEXT_B}');
INSERT INTO dim_organization VALUES ('{ORG}', '薛家镇', 'township', '江苏省', '常州市', '新北区', '薛家镇', '320411000000');
INSERT INTO dim_inspection VALUES
    ('{INS_A}', '巡察', '区委', '区委第二巡察组', DATE '2021-08-13', 'day', DATE '2021-10-29', 'day', DATE '2021-11-29', 'day'),
    -- a precise start after the first day of a vague (month) end is not out of order
    ('{INS_B}', '巡视', '省委', '省委第九巡视组', DATE '2023-01-15', 'day', DATE '2023-01-01', 'month', NULL, NULL);
INSERT INTO dim_notice VALUES
    ('{A}', 'a.txt', '{"a" * 64}', '整改进展情况通报', '中共某镇委员会', DATE '2022-04-11', '整改进展情况',
     '{INS_A}', '{ORG}', ['85951003'], [], NULL, 100),
    ('{B}', 'b.txt', '{"b" * 64}', NULL, NULL, DATE '2023-06-30', '整改情况', '{INS_B}', NULL, [], [], NULL, 50);
INSERT INTO fact_issue VALUES
    ('{A}-i0', '{A}', NULL, 'category', '一', '党的建设方面', NULL, NULL, NULL, NULL, 'other', 0, 0, '', 0, 10, NULL),
    ('{A}-i1', '{A}', '{A}-i0', 'issue', '1', '落实不到位', 'completed', '已完成整改', 'section_heading',
     NULL, 'party_discipline_responsibility', 2, 1, '整改情况', 10, 60, 'title:x'),
    ('{A}-i2', '{A}', '{A}-i1', 'sub_issue', '(1)', '台账不全', 'in_progress', '正在推进', 'status_line',
     DATE '2023-12-01', 'party_discipline_responsibility', 1, 2, '整改状态', 60, 90, 'parent:x'),
    ('{B}-i0', '{B}', NULL, 'issue', '1', '监督不力', NULL, NULL, NULL, NULL, 'other', 0, 0, '', 0, 40, NULL);
INSERT INTO dim_topic VALUES
    ('party_discipline_responsibility', 'Full and strict party governance', '全面从严治党责任', 'x'),
    ('other', 'Other', '其他', 'no rule matched');
INSERT INTO parse_report VALUES
    ('{A}', 'category:cn_comma > issue:arabic > sub_issue:arabic_paren', 'inline', 1, 1, 1, 3, 1, 1, 'sub_issue', 1,
     'status_line', 1, 1, NULL, NULL, ['hierarchy'], ['title'], 'high', 'every problem at the finest level has a status'),
    ('{B}', NULL, NULL, 0, 1, 0, 0, 1, 1, 'issue', 0, NULL, 0, 0, NULL, NULL, ['hierarchy'], [], 'medium', 'not corroborated');
INSERT INTO fact_measure VALUES
    ('{A}-i1-m1', '{A}-i1', '{A}', 1, '一是', 'done', '清退3万元', 22, 33),
    ('{A}-i1-m2', '{A}-i1', '{A}', 2, NULL, 'next_step', '持续推进', 33, 60),
    ('{A}-i2-m1', '{A}-i2', '{A}', 1, '一是', 'done', '补齐台账', 70, 90);
INSERT INTO fact_indicator VALUES
    ('{A}-x26', '{A}', '{A}-i1', '{A}-i1-m1', 3.0, '万元', 30000.0, 'CNY', 'at_least', NULL, 'funds_recovered', '3万余元', 26, 30,
     3.0, 3.0, 'money', 'keyword 清退 (money)', '2021年', DATE '2021-01-01', DATE '2021-12-31'),
    ('{B}-x5', '{B}', NULL, NULL, 12.5, '%', NULL, 'percent', NULL, 'increase', 'other', '增长12.5%', 20, 27,
     12.5, 12.5, 'percent', NULL, NULL, NULL, NULL);
INSERT INTO dim_metric VALUES
    ('funds_recovered', 'Funds recovered or saved', '追缴挽损资金', 'money', 'Money recovered', 'money: 清退', 1),
    ('other', 'Other', '其他', NULL, 'No rule', 'no rule matched', 0);
INSERT INTO fact_claim VALUES
    ('{A}-c0', '{A}', 'issues', 'completed', 1, 1, true, '共计1个问题已完成整改', 0, 11),
    ('{B}-c0', '{B}', 'measures', NULL, 12, NULL, NULL, '确定了12条整改措施', 0, 10);
INSERT INTO quarantine_notice VALUES
    ('broken.txt', '{"c" * 64}', 'not a notice', NULL, 'x'::BLOB, TIMESTAMPTZ '2024-01-01 00:00:00+00');
INSERT INTO dim_date
    SELECT d::DATE, year(d), quarter(d), month(d), day(d), weekofyear(d), isodow(d), strftime(d, '%Y-%m')
    FROM generate_series(DATE '2021-01-01', DATE '2023-12-31', INTERVAL 1 DAY) AS s(d);
"""


def build_warehouse(path: Path, *changes: str) -> Path:
    """A staged warehouse: the schema of warehouse/sql, VALID_ROWS and the marts built from them (as
    create_staging does), then `changes` (SQL that breaks a rule)."""
    con = duckdb.connect(str(path))
    try:
        con.execute(ddl_statements())
        con.execute(VALID_ROWS)
        con.execute(mart_statements())
        for change in changes:
            con.execute(change)
    finally:
        con.close()
    return path


def gate(tmp_path: Path, *changes: str):
    tmp_path.mkdir(exist_ok=True)
    return run_gate(build_warehouse(tmp_path / "staged.duckdb", *changes), tmp_path / "validation")


@pytest.fixture(scope="module")
def valid(tmp_path_factory):
    root = tmp_path_factory.mktemp("valid")
    database = build_warehouse(root / "staged.duckdb")
    return database, run_gate(database, root / "validation")


def test_valid_warehouse_passes(valid):
    _, result = valid
    assert result.errors == [] and result.warnings == []
    assert result.passed
    assert [s.table for s in result.suites] == suite_names()
    assert all(s.success and s.failures == [] for s in result.suites)
    issues = next(s for s in result.suites if s.table == "fact_issue")
    assert issues.row_count == 4 and issues.evaluated == len(next(x for x in load_suites() if x.table == "fact_issue").expectations)


def test_valid_run_writes_json_and_data_docs(valid):
    _, result = valid
    assert result.json_path.name == "validation.json" and result.json_path.is_file()
    report = json.loads(result.json_path.read_text(encoding="utf-8"))  # strict JSON: no NaN
    assert report["passed"] is True and report["errors"] == []
    assert Path(report["data_docs"]) == result.docs_path
    assert result.docs_path.name == "index.html" and result.docs_path.is_file()
    assert result.docs_path.is_relative_to(result.json_path.parent)
    tables = {suite["table"]: suite for suite in report["suites"]}
    assert set(tables) == set(suite_names())
    unique = next(
        e for e in tables["fact_issue"]["expectations"]
        if e["type"] == "expect_column_values_to_be_unique" and e["kwargs"] == {"column": "issue_key"}
    )
    assert unique["severity"] == "error" and unique["success"] is True and unique["unexpected_count"] == 0
    assert unique["element_count"] == 4
    # the Data Docs render a validation result page per suite
    validations = result.docs_path.parent / "validations"
    assert {p.name for p in validations.iterdir()} >= {"fact_issue", "dim_notice", "fact_claim"}


def test_a_verdict_handed_over_comes_before_the_data_docs(valid, tmp_path):
    """With `on_verdict`, the verdict is written and handed over first, and the Data Docs are built after it (the gate's
    process returns the verdict to the refresh while it renders them): the same report, the docs there in the end."""
    database, plain = valid
    seen = []

    def on_verdict(result):
        report = json.loads(result.json_path.read_text(encoding="utf-8"))
        seen.append((result.passed, report["passed"], report["data_docs"], result.docs_path.exists()))

    result = run_gate(database, tmp_path / "validation", on_verdict=on_verdict)
    assert seen == [(True, True, str(result.docs_path), False)]
    assert result.docs_path.is_file() and result.docs_path.relative_to(tmp_path) == plain.docs_path.relative_to(
        plain.json_path.parent.parent)
    assert [(s.table, s.evaluated, s.row_count) for s in result.suites] == [(s.table, s.evaluated, s.row_count) for s in plain.suites]


def test_data_docs_failing_after_the_verdict_keep_the_verdict_and_say_so(valid, tmp_path, monkeypatch):
    from great_expectations.data_context.data_context.abstract_data_context import AbstractDataContext

    def broken(self, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(AbstractDataContext, "build_data_docs", broken)
    database, _ = valid
    verdicts = []
    with pytest.raises(GateError, match="could not build the Data Docs: OSError: disk full"):
        run_gate(database, tmp_path / "after", on_verdict=verdicts.append)
    assert [v.passed for v in verdicts] == [True]
    report = json.loads((tmp_path / "after" / "validation.json").read_text(encoding="utf-8"))
    assert report["passed"] is True and report["data_docs"] is None and "disk full" in report["data_docs_error"]
    # without a verdict handed over, docs that cannot be built fail the gate, and no verdict is written
    with pytest.raises(GateError, match="could not build the Data Docs"):
        run_gate(database, tmp_path / "before")
    assert not (tmp_path / "before" / "validation.json").exists()


def test_the_warm_up_validates_every_suite_over_no_rows_and_leaves_nothing(tmp_path, monkeypatch):
    import tempfile

    from expectations import gate
    from expectations.gate import warm_up

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    # no Data Docs: a build cannot be interrupted by the request the warm-up waits for
    monkeypatch.setattr(gate, "_build_docs", lambda context: pytest.fail("the warm-up built Data Docs"))
    assert warm_up() == len(suite_names())
    asked = []
    assert warm_up(stop=lambda: len(asked.append(1) or asked) > 3) == 3  # asked before each suite: stops at once
    assert not [path for path in tmp_path.iterdir() if path.name.startswith("zhenggai-gate")]  # (GX's template cache stays)


def test_read_only_open_leaves_no_lock(valid):
    database, _ = valid
    con = duckdb.connect(str(database))  # read-write: fails if the gate still held the file
    try:
        con.execute("CREATE TABLE after_gate AS SELECT 1 AS x")
    finally:
        con.close()


def test_every_key_is_checked_not_null_and_unique():
    keys = {
        "raw_notice": "notice_key", "dim_notice": "notice_key", "fact_issue": "issue_key",
        "fact_measure": "measure_key", "fact_indicator": "indicator_key", "fact_claim": "claim_key",
        "dim_inspection": "inspection_key", "dim_organization": "organization_key", "dim_date": "date_key",
    }
    suites = {s.table: s for s in load_suites()}
    for table, key in keys.items():
        checks = {(e.type, e.severity) for e in suites[table].expectations if e.kwargs.get("column") == key}
        assert ("expect_column_values_to_not_be_null", "error") in checks, table
        assert ("expect_column_values_to_be_unique", "error") in checks, table


I2 = f"{A}-i2"

FAILURES = {
    "duplicated_key": (
        f"INSERT INTO fact_issue SELECT * FROM fact_issue WHERE issue_key = '{I2}'",
        ["fact_issue: issue_key values are unique", f"'{I2}' ×2"],
    ),
    "orphan_issue": (
        f"UPDATE fact_issue SET notice_key = 'ffffffffffffffff' WHERE issue_key = '{B}-i0'",
        ["fact_issue: notice_key resolves to dim_notice.notice_key", "'ffffffffffffffff'", f"[issue_key '{B}-i0']"],
    ),
    "orphan_parent": (
        f"UPDATE fact_issue SET parent_issue_key = '{A}-i9' WHERE issue_key = '{I2}'",
        ["fact_issue: parent_issue_key resolves to fact_issue.issue_key", f"'{A}-i9'", f"[issue_key '{I2}']"],
    ),
    "bad_status": (
        f"UPDATE fact_issue SET status = 'done' WHERE issue_key = '{I2}'",
        ["fact_issue: status is one of: completed,", "'done'", f"[issue_key '{I2}']"],
    ),
    "inspection_end_after_feedback": (
        f"UPDATE dim_inspection SET inspection_end = DATE '2021-12-15' WHERE inspection_key = '{INS_A}'",
        ["dim_inspection: inspection_start ≤ inspection_end ≤ feedback_date", "inspection_end 2021-12-15 > feedback_date 2021-11-29"],
    ),
    "nan_value": (
        f"UPDATE fact_indicator SET value = 'nan'::DOUBLE WHERE indicator_key = '{A}-x26'",
        ["fact_indicator: value is a finite number", "'nan'", f"[indicator_key '{A}-x26']"],
    ),
    "empty_title": (
        f"UPDATE fact_issue SET title = '' WHERE issue_key = '{I2}'",
        ["fact_issue: title is not empty", "''", f"[issue_key '{I2}']"],
    ),
    "report_high_without_problems": (
        f"UPDATE parse_report SET confidence = 'high', issue_count = 0 WHERE notice_key = '{B}'; DELETE FROM fact_issue WHERE notice_key = '{B}'",
        ["parse_report: a notice without problem nodes is never of high confidence", f"'{B}'"],
    ),
    # (a file whose notice_version lacks the table's CHECK: the gate does not rely on the DDL it validates)
    "closed_version_without_text": (
        "DROP VIEW notice_change; CREATE TABLE unchecked AS FROM notice_version; DROP TABLE notice_version; "
        "ALTER TABLE unchecked RENAME TO notice_version; INSERT INTO notice_version VALUES "
        f"('a.txt', '{'a' * 64}', '{A}', NULL, TIMESTAMPTZ '2021-02-01 00:00:00+00', NULL), "
        f"('b.txt', '{'b' * 64}', '{B}', NULL, TIMESTAMPTZ '2021-02-01 00:00:00+00', NULL), "
        f"('gone.txt', '{'e' * 64}', 'eeeeeeeeeeeeeeee', NULL, TIMESTAMPTZ '2021-01-01 00:00:00+00', TIMESTAMPTZ '2021-02-01 00:00:00+00')",
        ["notice_version: a closed version keeps its raw text", "'gone.txt eeeeeeeeeeeeeeee'"],
    ),
    "topic_not_in_taxonomy": (
        f"UPDATE fact_issue SET topic = 'weather' WHERE issue_key = '{I2}'",
        ["fact_issue: topic resolves to dim_topic.topic", "'weather'", f"[issue_key '{I2}']"],
    ),
}


@pytest.mark.parametrize("kind", list(FAILURES))
def test_gate_fails_on(kind, tmp_path):
    change, fragments = FAILURES[kind]
    result = gate(tmp_path, change)
    assert not result.passed
    assert len(result.errors) == 1, result.errors  # exactly the broken rule, nothing collateral
    (line,) = result.errors
    for fragment in fragments:
        assert fragment in line, (fragment, line)
    table = line.split(":", 1)[0]
    failed = next(s for s in result.suites if s.table == table)
    assert not failed.success and failed.failures == [(line, "error")]
    report = json.loads(result.json_path.read_text(encoding="utf-8"))
    assert report["passed"] is False and report["errors"] == [line]
    (bad,) = [e for s in report["suites"] for e in s["expectations"] if e["success"] is False]
    assert bad["message"] == line and bad["severity"] == "error" and bad["unexpected_count"] >= 1


def test_claims_disagreement_alone_is_a_warning(tmp_path):
    result = gate(tmp_path, f"UPDATE fact_claim SET parsed_count = 3, reconciled = false WHERE claim_key = '{A}-c0'")
    assert result.passed and result.errors == []
    (line,) = result.warnings
    assert line.startswith("fact_claim: claimed_count agrees with parsed_count") and "claimed 1, parsed 3" in line
    claims = next(s for s in result.suites if s.table == "fact_claim")
    assert not claims.success and claims.failures == [(line, "warning")]


def test_quote_not_at_its_offsets_is_a_warning(tmp_path):
    result = gate(tmp_path, f"UPDATE fact_indicator SET char_start = 25, char_end = 29 WHERE indicator_key = '{A}-x26'")
    assert result.passed
    (line,) = result.warnings
    assert line.startswith("fact_indicator: quote is the notice text at [char_start, char_end)")
    assert '[25, 29) of the notice text is "。3万余"' in line


def test_quote_on_a_later_line_and_across_lines_is_checked(tmp_path):
    # The quote check cuts the text line by line (expectations/macros.sql, notice_text_from): a quote on the third
    # line, a right quote crossing a newline, and a wrong quote on a later line.
    text = "第一行\n第二行共计1个问题已完成整改\n" + "。" * 20 + "3万余元\n末行"
    start = text.index("3万余元")
    result = gate(
        tmp_path / "right",
        f"UPDATE raw_notice SET text = '{text}' WHERE notice_key = '{A}'",
        f"UPDATE fact_claim SET char_start = 7, char_end = 18 WHERE claim_key = '{A}-c0'",
        f"UPDATE fact_indicator SET char_start = {start}, char_end = {start + 4} WHERE indicator_key = '{A}-x26'",
    )
    assert result.passed and result.warnings == []
    crossing = text[2:9]
    assert "\n" in crossing
    result = gate(
        tmp_path / "wrong",
        f"UPDATE raw_notice SET text = '{text}' WHERE notice_key = '{A}'",
        f"UPDATE fact_claim SET char_start = 2, char_end = 9, quote = '{crossing}' WHERE claim_key = '{A}-c0'",
        f"UPDATE fact_indicator SET char_start = {start - 1}, char_end = {start + 3} WHERE indicator_key = '{A}-x26'",
    )
    assert result.passed
    (line,) = result.warnings
    assert line.startswith("fact_indicator: quote is the notice text at [char_start, char_end)")
    assert f'[{start - 1}, {start + 3}) of the notice text is "。3万余"' in line


def test_rows_quoting_one_span_are_checked_each_against_its_own_quote(tmp_path):
    # the gate keeps only the spans whose text differs from a quote (suites.yaml, misquoted_span): a claim and an
    # indicator at the same offsets, one quoting the text and one not, are told apart by their quotes
    result = gate(
        tmp_path,
        f"UPDATE fact_indicator SET char_start = 0, char_end = 11, quote = '共计1个问题已完成整改' WHERE indicator_key = '{A}-x26'",
        f"UPDATE fact_claim SET quote = '共计2个问题已完成整改' WHERE claim_key = '{A}-c0'",
    )
    assert result.passed
    (line,) = result.warnings
    assert line.startswith("fact_claim: quote is the notice text at [char_start, char_end)")
    assert '[0, 11) of the notice text is "共计1个问题已完成整改"' in line


def test_notice_text_from_is_substr_of_the_whole_text(tmp_path):
    """notice_text_from gives what substr(text, char_start + 1, char_end - char_start) gives, for any span, once per
    span and quote (the quote carried along)."""
    import random

    rng = random.Random(6)
    alphabet = ["\n", "\n", "。", "a", "万", "😀", "e\u0301", " ", "\r"]
    texts = ["", "\n", "无换行", "\n\n开头空行", "结尾换行\n"] + [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 80))) for _ in range(40)
    ]
    con = duckdb.connect(str(tmp_path / "spans.duckdb"))
    try:
        con.execute("CREATE TABLE raw_notice (notice_key VARCHAR, text VARCHAR)")
        con.execute("CREATE TABLE quoting (notice_key VARCHAR, char_start BIGINT, char_end BIGINT, quote VARCHAR)")
        notices = pl.DataFrame({"notice_key": [f"n{i}" for i in range(len(texts))], "text": texts})
        con.execute("INSERT INTO raw_notice SELECT * FROM notices")
        spans = [(f"n{i}", a, b, q) for i, t in enumerate(texts)
                 for a in range(-2, len(t) + 3) for b in (a - 1, a, a + 1, a + 3, a + 9, len(t), len(t) + 2)
                 for q in ((None, t[a:b]) if a % 3 == 0 else ("x",))]  # two quotes of one span: a row for each
        spans += [("missing", 0, 1, "x"), *spans[:5]]  # a span twice with the same quote: one row
        # (one insert of a frame: executemany inserted its ~18,000 rows one statement each, ~20 s)
        span_rows = pl.DataFrame(spans, schema={"notice_key": pl.String, "char_start": pl.Int64, "char_end": pl.Int64,
                                                "quote": pl.String}, orient="row")
        con.execute("INSERT INTO quoting SELECT * FROM span_rows")
        con.execute((Path(__file__).resolve().parent.parent / "expectations" / "macros.sql").read_text(encoding="utf-8"))
        got = con.execute("SELECT notice_key, char_start, char_end, quote, text FROM notice_text_from('quoting', 'raw_notice')").fetchall()
        expected = con.execute("""SELECT DISTINCT q.notice_key, q.char_start, q.char_end, q.quote,
                                         substr(r.text, q.char_start + 1, q.char_end - q.char_start)
                                  FROM quoting q JOIN raw_notice r USING (notice_key)""").fetchall()
    finally:
        con.close()
    assert len(got) == len(set(got)) == len(expected)
    assert sorted(got, key=repr) == sorted(expected, key=repr)
    assert sum(a >= 0 and b >= a and t[a:b] != text for (k, a, b, _, text), t in
               ((row, texts[int(row[0][1:])]) for row in got)) == 0  # and Python agrees wherever it is defined


def test_an_expectation_gx_cannot_evaluate_is_an_error_even_at_warning_severity(tmp_path, monkeypatch):
    import expectations.gate as gate_module

    real = gate_module.load_suites

    def with_broken_check():
        specs = real()
        broken = gate_module.ExpectationSpec(
            "expect_column_values_to_be_between", {"column": "subject", "min_value": 0}, "warning"
        )
        return [
            dataclasses.replace(s, expectations=s.expectations + (broken,)) if s.table == "fact_claim" else s
            for s in specs
        ]

    monkeypatch.setattr(gate_module, "load_suites", with_broken_check)
    result = gate(tmp_path)
    assert not result.passed and result.warnings == []
    (line,) = result.errors
    assert line.startswith("fact_claim: subject ≥ 0 (GX could not evaluate it:"), line


def test_a_table_that_cannot_be_loaded_fails_the_gate(tmp_path):
    result = gate(tmp_path, "DROP TABLE fact_claim")
    assert not result.passed
    (line,) = result.errors
    assert line.startswith("fact_claim: could not load the table for validation") and "fact_claim" in line.split(":", 1)[1]


def test_an_empty_warehouse_passes(tmp_path):
    database = tmp_path / "empty.duckdb"
    con = duckdb.connect(str(database))
    con.execute(ddl_statements())
    con.execute(mart_statements())
    con.close()
    result = run_gate(database, tmp_path / "validation")
    assert result.passed and result.errors == [] and result.warnings == []
    sourced = {spec.table for spec in load_suites() if spec.source}
    # the two aggregates have rows of their own (the quoting tables look up their misquoted spans: a derived column)
    assert sourced == {"refresh_volume", "indicator_profile"}
    aggregates = {"refresh_volume", "indicator_profile"}
    assert all(s.row_count == 0 and s.evaluated > 0 for s in result.suites if s.table not in aggregates)


def test_a_prepare_step_runs_first_on_the_suite_connection_and_must_be_sql_text(tmp_path):
    prepared = {spec.table: spec for spec in load_suites() if spec.prepare}
    assert set(prepared) == {"fact_indicator", "fact_claim"}  # the quote checks' notice text (notice_text_from)
    assert all("misquoted_span" in spec.query() for spec in prepared.values())
    suites = tmp_path / "suites.yaml"
    suites.write_text("suites:\n  t:\n    key: k\n    prepare: [1]\n"
                      "    expectations:\n      - {type: expect_column_values_to_not_be_null, kwargs: {column: k}, severity: error}\n")
    with pytest.raises(GateError, match="`prepare` must be SQL text"):
        load_suites(suites)


def test_missing_database_raises(tmp_path):
    with pytest.raises(GateError, match="staged warehouse not found"):
        run_gate(tmp_path / "absent.duckdb", tmp_path / "validation")


def test_rerun_into_same_report_dir_regenerates_and_stays_quiet(tmp_path, capfd):
    report_dir = tmp_path / "validation"
    bad = run_gate(build_warehouse(tmp_path / "bad.duckdb", f"UPDATE fact_issue SET status = 'x' WHERE issue_key = '{I2}'"), report_dir)
    good = run_gate(build_warehouse(tmp_path / "good.duckdb"), report_dir)
    assert not bad.passed and good.passed
    assert good.json_path == bad.json_path and good.docs_path == bad.docs_path
    report = json.loads(good.json_path.read_text(encoding="utf-8"))
    assert report["passed"] is True and report["database"].endswith("good.duckdb")
    # only this run's results are in the GX project (one validation result per suite)
    results = list((report_dir / "gx" / "uncommitted" / "validations").rglob("*.json"))
    assert len(results) == len(suite_names())
    out, err = capfd.readouterr()
    assert out == "" and err == ""  # no progress bars, logs or warnings on the console


def test_the_gate_hands_the_gil_over_quickly_while_it_runs_and_restores_the_setting():
    import sys

    from expectations import gate

    before = sys.getswitchinterval()
    with gate._quick_gil_handover():
        assert sys.getswitchinterval() == pytest.approx(gate.GIL_SWITCH_INTERVAL_S)
    assert sys.getswitchinterval() == before
    with pytest.raises(RuntimeError), gate._quick_gil_handover():
        raise RuntimeError("a failed gate")
    assert sys.getswitchinterval() == before
