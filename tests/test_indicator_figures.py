"""Second version of the indicators (issue 3): ranges, fractions, bare 万/亿 figures, 百分之, exact base
values, the period of a figure, the metric rule and the dim_metric catalogue, figures outside issue
nodes, the gate's new expectations and the mart_notice_figures mart."""

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.indicators import base_units, extract_indicators, metric_catalogue, metric_rules
from transforms.periods import period_before
from transforms.star import build_star, indicator_spans
from transforms.text import normalize_text

from tests.conftest import notice_frame

ROOT = Path(__file__).resolve().parent.parent


def found(text: str) -> list[dict]:
    frame = pl.DataFrame(
        {
            "content_sha256": ["sha"],
            "node_ordinal": pl.Series([0], dtype=pl.Int32),
            "measure_ordinal": pl.Series([None], dtype=pl.Int32),
            "text": [normalize_text(text)],
            "char_start": pl.Series([0], dtype=pl.Int64),
        }
    )
    return extract_indicators(frame).to_dicts()


def one(text: str) -> dict:
    rows = found(text)
    assert len(rows) == 1, rows
    return rows[0]


# --------------------------------------------------------------------------------------------------
# Ranges: value = value_low = the lower end, value_high = the upper end


@pytest.mark.parametrize(
    ("text", "quote", "low", "high", "unit"),
    [
        ("每个村配备3-5个网格员", "3-5个", 3, 5, "个"),
        ("培育3至5个示范点", "3至5个", 3, 5, "个"),
        ("邀请1-2名义务监督员", "1-2名", 1, 2, "名"),
        ("配备三至五名专职人员", "三至五名", 3, 5, "名"),
        ("配备一至两名", "一至两名", 1, 2, "名"),
        ("投入20~30万元", "20~30万元", 20, 30, "万元"),
        ("每年开展2—3次", "2—3次", 2, 3, "次"),
    ],
)
def test_ranges(text, quote, low, high, unit):
    row = one(text)
    assert (row["quote"], row["value"], row["value_low"], row["value_high"], row["unit"]) == (quote, low, low, high, unit)


def test_range_base_value_is_the_lower_end():
    row = one("投入20~30万元")
    assert (row["value_base"], row["base_unit"]) == (200000.0, "CNY")


def test_single_figure_is_its_own_range():
    row = one("立案6起")
    assert row["value_low"] == row["value_high"] == row["value"] == 6.0


@pytest.mark.parametrize("text", ["(2020-2023年)", "2017-2019年度", "2021至2023年", "第3-5条", "10-3个"])
def test_not_ranges(text):
    assert found(text) == []


# --------------------------------------------------------------------------------------------------
# Fractions, bare multiples, percentages in words


def test_fraction():
    row = one("已完成19/25")
    assert (row["quote"], row["value"], row["base_unit"], row["dimension"]) == ("19/25", 0.76, "fraction", "fraction")


@pytest.mark.parametrize("text", ["2021/6/30", "μg/m3", "www.x.cn/12/34", "1/0"])
def test_not_fractions(text):
    assert found(text) == []


def test_bare_multiple_has_base_unit_number():
    row = one("全区65岁以上老人数16.72万")
    assert (row["quote"], row["value"], row["unit"], row["value_base"], row["base_unit"]) == ("16.72万", 16.72, "万", 167200.0, "number")
    row = one("列统500万以上投资项目")
    assert (row["quote"], row["qualifier"], row["value_base"]) == ("500万以上", "at_least", 5000000.0)


def test_bare_multiple_gives_way_to_a_written_unit():
    assert [r["quote"] for r in found("累计拖车16.74万辆次")] == ["16.74万辆次"]


def test_percent_in_words():
    row = one("占比百分之三十")
    assert (row["quote"], row["value"], row["base_unit"]) == ("百分之三十", 30.0, "percent")


def test_colon_before_a_figure_is_not_a_time():
    assert one("整改情况:80个大班额已化解")["quote"] == "80个"
    assert found("19:00议事") == []


def test_thousands_separated_by_a_thin_space():
    row = one("共计1\u2009234件")  # NFKC folds the thin space to a space
    assert (row["quote"], row["value"]) == ("1 234件", 1234.0)
    assert one("共计１，２３４件")["value"] == 1234.0  # full-width digits and comma


# --------------------------------------------------------------------------------------------------
# Exact base values


@given(
    units=st.integers(min_value=0, max_value=999999),
    cents=st.integers(min_value=0, max_value=99),
    multiplier=st.sampled_from(["万元", "亿元", "万人", "万平方米"]),
)
@settings(max_examples=60, deadline=None)
def test_base_value_is_the_exact_product(units, cents, multiplier):
    written = f"{units}.{cents:02d}"
    row = one(f"共计{written}{multiplier}。")
    factor = Decimal(10000) if multiplier.startswith("万") else Decimal(100000000)
    assert row["value_base"] == float(Decimal(written) * factor)


@pytest.mark.parametrize(
    ("text", "base"),
    [
        ("16.4亿元", Decimal("1640000000")),
        ("0.07亿元", Decimal("7000000")),
        ("65178.79万元", Decimal("651787900")),
        ("1.15万亿元", Decimal("1150000000000")),
        ("3.3万公斤", Decimal("33000")),
    ],
)
def test_base_values_are_exact(text, base):
    assert Decimal(repr(one(text)["value_base"])) == base


# --------------------------------------------------------------------------------------------------
# Periods


@pytest.mark.parametrize(
    ("sentence", "phrase", "start", "end"),
    [
        ("2021年,全镇完成投资20亿元", "2021年", date(2021, 1, 1), date(2021, 12, 31)),
        ("2021年1—6月落实民生支出5亿元", "2021年1—6月", date(2021, 1, 1), date(2021, 6, 30)),
        ("2023年1-11月,12个主要指标", "2023年1-11月", date(2023, 1, 1), date(2023, 11, 30)),
        ("截至2021年底,共摸排1758人", "截至2021年底", None, date(2021, 12, 31)),
        ("截至2021年7月底,全区完成34593.52亩", "截至2021年7月底", None, date(2021, 7, 31)),
        ("截至2024年1月上旬,39个问题", "截至2024年1月上旬", None, date(2024, 1, 10)),
        ("2021年以来开展专题廉政教育5次", "2021年以来", date(2021, 1, 1), None),
        ("2021年上半年完成8个", "2021年上半年", date(2021, 1, 1), date(2021, 6, 30)),
        ("2020年9月8日至11月13日巡视3个单位", "2020年9月8日至11月13日", date(2020, 9, 8), date(2020, 11, 13)),
        ("截至6月30日,巡视交办信访件465件", "截至6月30日", None, None),  # no year written: no dates
        ("数据显示1-3月份联网企业7家", "1-3月份", None, None),
        ("今年以来共查处5人", "今年以来", None, None),
        ("2021年,薛家镇…;空气质量优良天数290天", "2021年", date(2021, 1, 1), date(2021, 12, 31)),  # ; does not end it
        ("2021年,全镇全年完成投资45亿元", "2021年", date(2021, 1, 1), date(2021, 12, 31)),
    ],
)
def test_period_phrases(sentence, phrase, start, end):
    period = period_before(sentence, len(sentence) - 1)
    assert period is not None
    assert (period.phrase, period.start, period.end) == (phrase, start, end)


@pytest.mark.parametrize(
    "sentence",
    ["较2022年增加4.55万人", "比2020年同期下降5%", "上一句2021年。处理3700余件", "召开会议3次"],
)
def test_no_period(sentence):
    assert period_before(sentence, len(sentence) - 1) is None


def test_period_columns_on_indicators():
    rows = found("2021年1—6月落实民生支出5.2亿元,同比增长7.1%。")
    assert [(r["quote"], r["period"], r["period_start"], r["period_end"]) for r in rows] == [
        ("5.2亿元", "2021年1—6月", date(2021, 1, 1), date(2021, 6, 30)),
        ("7.1%", "2021年1—6月", date(2021, 1, 1), date(2021, 6, 30)),
    ]


# --------------------------------------------------------------------------------------------------
# Metric rules and the catalogue


@pytest.mark.parametrize(
    ("text", "metric", "rule"),
    [
        ("给予党纪处分12人", "people_disciplined", "keyword 党纪处分 (people)"),
        ("移送司法机关2人", "people_disciplined", "keyword 移送司法 (people)"),
        ("立案2人", "cases_and_clues", "keyword 立案"),
        ("追缴违规资金38万元", "funds_recovered", "keyword 追缴"),  # 追缴 outranks the nearer 资金
        ("挽回经济损失120万元", "funds_recovered", "keyword 挽回经济损失 (money)"),
        ("争取上级资金3000万元", "funds_raised", "keyword 争取 (money)"),
        ("巡视交办信访件465件", "petitions", "keyword 信访件"),
        ("已办结30件", "petitions_closed", "keyword 办结 (count)"),
        ("重复信访件已化解55件", "petitions_closed", "keyword 化解 (count)"),  # 化解 outranks the nearer 信访件
        ("印发3项制度", "rules_created", "keyword 制度"),
        ("组织8次区委理论中心组学习", "trainings", "keyword 中心组学习"),
        ("召开19次调度会议", "meetings", "keyword 调度会"),
        ("化解率83.3%", "completion_rate", "keyword 化解率 (percent)"),
        ("整改完成率71.43%", "rectification_rate", "keyword 整改完成率 (percent)"),
        ("新增规模以上工业企业23家", "enterprises", "keyword 企业 (count)"),
        ("总投资30亿元的项目", "investment", "keyword 投资 (money)"),  # 项目 counts projects, not money
        ("PM2.5年均浓度39.7μg/m3", "environment_reading", "keyword 浓度"),
        ("复种面积约27814.69亩", "area", "keyword 面积 (area)"),
        ("居民占18.5%", "rate", "dimension percent"),
        ("清理私设地锁822个", "other", None),
    ],
)
def test_metric_and_rule(text, metric, rule):
    row = one(text)
    assert (row["metric"], row["metric_rule"]) == (metric, rule)


def test_catalogue_covers_every_rule_and_other():
    catalogue = metric_catalogue()
    assert catalogue["metric"].is_unique().all()
    assert {rule.metric for rule in metric_rules()} <= set(catalogue["metric"])
    assert "other" in set(catalogue["metric"])
    for wanted in ("people_disciplined", "cases_and_clues", "funds_recovered", "funds_raised", "investment",
                   "petitions", "petitions_closed", "rules_created", "meetings", "trainings", "completion_rate", "rate", "projects",
                   "enterprises", "area", "environment_reading"):
        assert wanted in set(catalogue["metric"]), wanted
    people = catalogue.filter(pl.col("metric") == "people_disciplined").row(0, named=True)
    assert people["name_zh"] and "党纪处分" in people["keyword_rule"] and people["rule_count"] > 5
    raised = catalogue.filter(pl.col("metric") == "funds_raised").row(0, named=True)
    assert raised["keyword_rule"].startswith("money: 争取*")  # * marks a keyword with priority
    other = catalogue.filter(pl.col("metric") == "other").row(0, named=True)
    assert other["rule_count"] == 0


def test_metric_csv_keywords_of_the_issue_are_present():
    with (ROOT / "transforms" / "metrics.csv").open(encoding="utf-8") as handle:
        keywords = {(row["metric"], row["keyword"]) for row in csv.DictReader(handle)}
    for metric, words in {
        "people_disciplined": ["党纪处分", "政务处分", "开除党籍", "诫勉", "问责", "约谈", "移送司法"],
        "cases_and_clues": ["立案", "问题线索"],
        "funds_recovered": ["追缴", "退缴", "清退", "挽回经济损失"],
        "petitions": ["信访件"],
        "petitions_closed": ["办结", "化解"],
        "rules_created": ["制度", "办法"],
    }.items():
        for word in words:
            assert (metric, word) in keywords, (metric, word)


def test_gate_base_unit_and_dimension_sets_match_units_table():
    suites = yaml.safe_load((ROOT / "expectations" / "suites.yaml").read_text(encoding="utf-8"))
    assert sorted(suites["codes"]["base_unit"]) == base_units()
    (dimensions,) = (
        e["kwargs"]["value_set"]
        for e in suites["suites"]["fact_indicator"]["expectations"]
        if e["kwargs"].get("column") == "dimension"
    )
    with (ROOT / "transforms" / "units.csv").open(encoding="utf-8") as handle:
        written = {row["dimension"] for row in csv.DictReader(handle)} - {"multiplier"}
    assert sorted(dimensions) == sorted(written)


# --------------------------------------------------------------------------------------------------
# Figures outside issue nodes; older frames in build_star


def test_figures_outside_issue_nodes_have_no_issue():
    text = "开头共计15个问题已完成整改。\n1.关于问题的整改。\n整改情况:清退3万元。\n联系方式:85951003。"
    notices = notice_frame(text)
    node_start = text.index("1.关于")
    node_end = text.index("\n联系")
    issues = pl.DataFrame(
        {"content_sha256": notices["content_sha256"], "node_ordinal": [0], "text": [text[node_start:node_end]],
         "char_start": [node_start], "char_end": [node_end]},
        schema_overrides={"node_ordinal": pl.Int32, "char_start": pl.Int64, "char_end": pl.Int64},
    )
    spans = indicator_spans(notices, issues)
    assert spans["node_ordinal"].to_list() == [0, None, None]
    assert "".join(spans.sort("char_start")["text"]) == text  # every character in exactly one span
    out = extract_indicators(spans).sort("char_start")
    assert [(r["quote"], r["node_ordinal"]) for r in out.iter_rows(named=True)] == [("15个", None), ("3万元", 0)]


def test_build_star_publishes_dim_metric():
    from tests.test_star import _frames

    tables = build_star(*_frames())
    assert set(tables["dim_metric"]["metric"]) >= {"funds_recovered", "other"}
    fact = tables["fact_indicator"]
    assert fact["value_low"].to_list() == [3.0] and fact["value_high"].to_list() == [3.0]


# --------------------------------------------------------------------------------------------------
# The gate's new expectations


BROKEN_INDICATOR_ROWS = [
    # (change to the valid staged warehouse of test_gate, the failure line it must produce)
    ("UPDATE fact_indicator SET metric = 'no_such_metric', metric_rule = 'keyword x' WHERE indicator_key LIKE '%-x26'",
     "fact_indicator: metric resolves to dim_metric.metric"),
    ("UPDATE fact_indicator SET value_low = 9, value_high = 3 WHERE indicator_key LIKE '%-x26'",
     "fact_indicator: value_low ≤ value_high"),
    ("UPDATE fact_indicator SET base_unit = 'furlong' WHERE indicator_key LIKE '%-x26'",
     "fact_indicator: base_unit is one of"),
    ("UPDATE fact_indicator SET value_high = 'inf'::DOUBLE WHERE indicator_key LIKE '%-x5'",
     "fact_indicator: value_low and value_high are finite numbers"),
    ("UPDATE fact_indicator SET period_start = DATE '2022-01-01', period_end = DATE '2021-01-01' WHERE indicator_key LIKE '%-x5'",
     "fact_indicator: period_start ≤ period_end"),
    ("UPDATE fact_indicator SET metric_rule = 'keyword x' WHERE indicator_key LIKE '%-x5'",
     "fact_indicator: metric_rule names the rule that set metric"),
    ("UPDATE fact_indicator SET dimension = 'vibes' WHERE indicator_key LIKE '%-x5'",
     "fact_indicator: dimension is one of"),
    ("INSERT INTO dim_metric VALUES ('other', 'Other', '其他', NULL, 'dup', 'none', 0)",
     "dim_metric: metric values are unique"),
]


def test_gate_blocks_broken_indicator_rows(tmp_path):
    """One gate run over a warehouse broken in every way at once (each change touches a different rule)."""
    from tests.test_gate import gate

    result = gate(tmp_path, *(change for change, _ in BROKEN_INDICATOR_ROWS))
    assert not result.passed
    for _, expected in BROKEN_INDICATOR_ROWS:
        assert any(line.startswith(expected) for line in result.errors), (expected, result.errors)
    # the valid rows (tests/test_gate.py VALID_ROWS, new columns included) pass: test_valid_warehouse_passes


# --------------------------------------------------------------------------------------------------
# The mart on the published seeds


def _mart(published) -> dict[str, dict]:
    con = duckdb.connect(str(published), read_only=True)
    try:
        frame = pl.from_arrow(con.sql("SELECT * FROM mart_notice_figures").to_arrow_table())
        comments = con.execute(
            "SELECT column_name, comment FROM duckdb_columns() WHERE table_name = 'mart_notice_figures'"
        ).fetchall()
        table_comment = con.execute("SELECT comment FROM duckdb_tables() WHERE table_name = 'mart_notice_figures'").fetchall()
        dim_metric = con.execute("SELECT count(*) FROM dim_metric").fetchall()[0][0]
        orphans = con.execute(
            "SELECT count(*) FROM fact_indicator x LEFT JOIN dim_metric m USING (metric) WHERE m.metric IS NULL"
        ).fetchall()[0][0]
    finally:
        con.close()
    assert table_comment[0][0] and all(comment for _, comment in comments)
    assert dim_metric >= 15 and orphans == 0
    return {row["source_name"][:3]: row for row in frame.iter_rows(named=True)}


def test_mart_notice_figures(published):
    mart = _mart(published)
    assert set(mart) == {"000", "001", "002", "003", "004"}
    # 000 claims 15 issues completed and 10 in progress: 60 %
    assert (mart["000"]["claimed_issues"], mart["000"]["claimed_completed"], mart["000"]["computed_completion_rate"]) == (25, 15, 60.0)
    # 002: 14 issues, 11 completed
    assert mart["002"]["computed_completion_rate"] == pytest.approx(78.57)
    # 004: 48 specific problems, 35 completed; 001 claims totals only: no rate
    assert mart["004"]["computed_completion_rate"] == pytest.approx(72.92)
    assert mart["001"]["claimed_completed"] is None and mart["001"]["computed_completion_rate"] is None
    # 003 states 整改完成率71.43% (the first rectification rate it writes)
    assert (mart["003"]["stated_completion_rate"], mart["003"]["stated_completion_quote"]) == (71.43, "71.43%")
    # 003 recovered 5300万元 (挽损) among others; 004 罚没款24.4万元 and 财产刑 563.75万元
    assert mart["003"]["funds_recovered_cny"] >= 53000000
    assert mart["004"]["funds_recovered_cny"] >= 244000 + 5637500
    # 000: 查办违纪人员11名, 党内警告处分7人, 开除党籍3人 … are all people disciplined
    assert mart["000"]["people_disciplined"] >= 11 + 7 + 3
    # 004: 巡视交办信访件465件 received; 重复信访案件 已化解55件 closed
    assert mart["004"]["petitions_received"] >= 465 and mart["004"]["petitions_handled"] >= 55
    assert mart["004"]["rules_created"] >= 22
