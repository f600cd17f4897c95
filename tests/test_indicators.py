"""Indicator extraction (transforms/indicators.py): one small case per rule, negatives, and the five seeds."""

import csv
import time
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from transforms.indicators import INDICATORS_SCHEMA, extract_indicators, parse_number, resolve_unit, units
from transforms.text import normalize_text

TRANSFORMS = Path(__file__).resolve().parent.parent / "transforms"


def spans(*texts: str, char_start: int = 0) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "content_sha256": [f"sha{i}" for i in range(len(texts))],
            "node_ordinal": pl.Series(range(len(texts)), dtype=pl.Int32),
            "measure_ordinal": pl.Series([None] * len(texts), dtype=pl.Int32),
            "text": list(texts),
            "char_start": pl.Series([char_start] * len(texts), dtype=pl.Int64),
        }
    )


def found(text: str) -> list[dict]:
    return extract_indicators(spans(normalize_text(text))).to_dicts()


def one(text: str) -> dict:
    rows = found(text)
    assert len(rows) == 1, rows
    return rows[0]


def whole_seed(prefix: str, text: str) -> pl.DataFrame:
    return extract_indicators(spans(text).with_columns(pl.lit(prefix).alias("content_sha256")))


# --------------------------------------------------------------------------------------------------
# The frame contract


def test_empty_input_gives_empty_frame_with_schema():
    empty = spans().clear()
    out = extract_indicators(empty)
    assert out.height == 0
    assert out.schema == pl.Schema(INDICATORS_SCHEMA)


def test_output_columns_and_passthrough():
    frame = pl.DataFrame(
        {
            "content_sha256": ["abc"],
            "node_ordinal": pl.Series([7], dtype=pl.Int32),
            "measure_ordinal": pl.Series([3], dtype=pl.Int32),
            "text": ["处理解决民生事项3700余件。"],
            "char_start": pl.Series([1000], dtype=pl.Int64),
        }
    )
    out = extract_indicators(frame)
    assert out.columns == list(INDICATORS_SCHEMA)
    row = out.row(0, named=True)
    assert (row["content_sha256"], row["node_ordinal"], row["measure_ordinal"]) == ("abc", 7, 3)
    assert (row["char_start"], row["char_end"]) == (1008, 1014)


def test_span_without_figures_gives_nothing():
    assert extract_indicators(spans("高度重视巡视整改工作。")).height == 0


# --------------------------------------------------------------------------------------------------
# Units, multipliers and exact values


def test_units_table_is_readable_and_exact():
    with (TRANSFORMS / "units.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["unit", "base_unit", "factor", "dimension", "numerals"]
    for row in rows:
        Decimal(row["factor"])  # an exact decimal string
        assert row["numerals"] in ("", "arabic")
    table = units()
    assert table["个"].base_unit == "count" and table["万元"].factor == Decimal(10000)
    assert table["亿元"].factor == Decimal(100000000) and table["%"].base_unit == "percent"
    assert table["μg/m3"].base_unit == "ug_m3" and table["个百分点"].base_unit == "percentage_point"


def test_composite_units_resolve_through_multipliers():
    assert resolve_unit("万人次").factor == Decimal(10000)
    assert resolve_unit("千人").factor == Decimal(1000) and resolve_unit("千人").base_unit == "count"
    assert resolve_unit("千米").base_unit == "km" and resolve_unit("千米").factor == 1
    assert resolve_unit("万亿元").factor == Decimal(10**12)
    assert resolve_unit("万") is None


def test_money_in_yi_is_exact():
    row = one("实现销售16.4亿元")
    assert row["value"] == 16.4 and row["unit"] == "亿元"
    assert row["value_base"] == 1640000000.0 and row["base_unit"] == "CNY"


def test_wan_with_yu_between_number_and_unit():
    row = one("共争取市级及以上资金2000余万元。")
    assert row["quote"] == "2000余万元"
    assert (row["value"], row["unit"], row["value_base"], row["qualifier"]) == (2000.0, "万元", 20000000.0, "at_least")


def test_wan_people():
    row = one("近1.5万人参加")
    assert (row["quote"], row["value"], row["unit"], row["value_base"], row["base_unit"], row["qualifier"]) == (
        "近1.5万人", 1.5, "万人", 15000.0, "count", "approx"
    )


def test_wan_yu_people_times():
    row = one("全区日最大核酸采样能力10万余人次")
    assert (row["quote"], row["value"], row["unit"], row["value_base"], row["qualifier"]) == (
        "10万余人次", 10.0, "万人次", 100000.0, "at_least"
    )


def test_square_metres_and_usd():
    assert one("盘活闲置载体20.76万平方米")["value_base"] == 207600.0
    row = one("引进总投资1000万美元的项目")
    assert (row["unit"], row["value_base"], row["base_unit"]) == ("万美元", 10000000.0, "USD")


def test_percent():
    row = one("化解率83.3%")
    assert (row["value"], row["unit"], row["value_base"], row["base_unit"], row["metric"]) == (83.3, "%", 83.3, "percent", "completion_rate")
    assert one("占比达到83.3%")["metric"] == "rate"


def test_percentage_points():
    row = one("同比上升3个百分点")
    assert (row["value"], row["unit"], row["base_unit"], row["direction"]) == (3.0, "个百分点", "percentage_point", "increase")


def test_concentration_and_days():
    rows = found("PM2.5年均浓度39.7μg/m3,空气质量优良天数290天")
    assert [(r["quote"], r["base_unit"]) for r in rows] == [("39.7μg/m3", "ug_m3"), ("290天", "day")]


def test_durations():
    assert [(r["quote"], r["base_unit"]) for r in found("分3年落实整改,开展为期2个月的专项整治")] == [("3年", "year"), ("2个月", "month")]


def test_area_in_mu():
    row = one("盘活存量土地654亩")
    assert (row["value"], row["base_unit"], row["metric"]) == (654.0, "mu", "area")


def test_thousands_separator():
    row = one("帮助企业融资1,234.5万元")
    assert (row["quote"], row["value"], row["value_base"]) == ("1,234.5万元", 1234.5, 12345000.0)


def test_arabic_with_thousand_multiplier():
    row = one("覆盖群众5千余人")
    assert (row["value"], row["unit"], row["value_base"], row["qualifier"]) == (5.0, "千人", 5000.0, "at_least")


def test_chinese_numerals():
    assert (one("配齐两名专职人员")["value"], one("配齐两名专职人员")["unit"]) == (2.0, "名")
    assert one("出台十三个文件")["value"] == 13.0
    row = one("累计培训一千余人次")
    assert (row["value"], row["unit"], row["qualifier"]) == (1000.0, "人次", "at_least")
    assert one("开展宣讲三十余场")["value"] == 30.0


def test_chinese_numeral_carrying_wan():
    row = one("覆盖十三万人")
    assert (row["value"], row["unit"], row["value_base"]) == (13.0, "万人", 130000.0)


def test_parse_number_guards():
    assert parse_number("1,234") == Decimal(1234)
    assert parse_number("两") == 2 and parse_number("十三") == 13 and parse_number("一千") == 1000
    assert parse_number("一") is None and parse_number("二") is None
    assert parse_number("二〇二一") is None and parse_number("十四五") is None and parse_number("四五") is None


def test_full_width_input_after_normalisation():
    row = one("全年处理解决民生事项３７００余件，化解率")
    assert (row["quote"], row["value"]) == ("3700余件", 3700.0)
    row = one("化解率８３．３％")
    assert (row["quote"], row["value"]) == ("83.3%", 83.3)
    row = one("开展应急演练 20 次")
    assert (row["quote"], row["value"]) == ("20次", 20.0)


# --------------------------------------------------------------------------------------------------
# Qualifiers


@pytest.mark.parametrize(
    ("text", "quote", "qualifier"),
    [
        ("民生事项3700余件", "3700余件", "at_least"),
        ("推送资讯50多条", "50多条", "at_least"),
        ("总投资1亿元以上的项目", "1亿元以上", "at_least"),
        ("总投资超75亿元", "超75亿元", "at_least"),
        ("引进首店超过120家", "超过120家", "at_least"),
        ("盘活存量资金共计约1900万元", "约1900万元", "approx"),
        ("首店数量近500家", "近500家", "approx"),
        ("每年选派20名左右的优秀干部", "20名左右", "approx"),
        ("大约300人参加", "大约300人", "approx"),
        ("开展反诈宣传活动23场", "23场", None),
    ],
)
def test_qualifiers(text, quote, qualifier):
    row = one(text)
    assert (row["quote"], row["qualifier"]) == (quote, qualifier)


@pytest.mark.parametrize(
    ("text", "quote"),
    [
        ("库存现金不得超过1000元", "1000元"),  # a ceiling, not "at least"
        ("已消超13人", "13人"),  # 消超: removing over-quota posts
        ("签约7个亿元以上项目", "7个"),  # 签约 is a word, 约 is not "about"
        ("全面梳理近3年获支持的项目", "3年"),  # 近3年: the last three years
    ],
)
def test_words_that_look_like_qualifiers(text, quote):
    row = one(text)
    assert (row["quote"], row["qualifier"]) == (quote, None)


# --------------------------------------------------------------------------------------------------
# Direction


@pytest.mark.parametrize(
    ("text", "direction"),
    [
        ("贸易额同比增长35.58%", "increase"),
        ("收入增长8.8%", "increase"),
        ("优良天数比率同比上升1.7个百分点", "increase"),
        ("完成率提高5%", "increase"),
        ("较2022年增加4.55万人", "increase"),
        ("警情总数同比下降9.6%", "decrease"),
        ("较去年同期减少33件", "decrease"),
        ("压减20%", "decrease"),
        ("成本降低了12%", "decrease"),
        ("比例提升至93.86%", None),  # a level, not a change
        ("整顿提升9个软弱涣散党组织", None),  # 提升 marks changes of rates only
        ("高于全区平均水平3.9个百分点", None),
    ],
)
def test_direction(text, direction):
    assert one(text)["direction"] == direction


def test_direction_carries_over_a_list():
    rows = found("产值分别同比增长97.7%、43.2%、23.8%")
    assert [r["direction"] for r in rows] == ["increase"] * 3


# --------------------------------------------------------------------------------------------------
# Metric


@pytest.mark.parametrize(
    ("text", "metric"),
    [
        ("给予党内警告处分7人", "people_disciplined"),
        ("发现问题线索1条", "cases_and_clues"),
        ("立案6起", "cases_and_clues"),
        ("累计挽损5300万元", "funds_recovered"),
        ("巡视交办信访件465件", "petitions"),
        ("共建立健全12项规章制度", "rules_created"),
        ("召开4次常委会会议", "meetings"),
        ("组织集中学习研讨12次", "trainings"),
        ("整改完成率71.43%", "rectification_rate"),
        ("办结率100%", "completion_rate"),
        ("GDP同比增长8.8%", "rate"),
        ("签约落地项目149个", "projects"),
        ("新增科技型企业831家", "enterprises"),
        ("完成土地流转面积20254.69亩", "area"),
        ("清理私设地锁822个", "other"),
    ],
)
def test_metric(text, metric):
    assert one(text)["metric"] == metric


def test_metrics_table_names_known_dimensions():
    with (TRANSFORMS / "metrics.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    dimensions = {u.dimension for u in units().values()}
    assert rows and {row["dimension"] for row in rows if row["dimension"]} <= dimensions


# --------------------------------------------------------------------------------------------------
# Not indicators

NOT_INDICATORS = [
    "2021年8月13日至10月29日",
    "11月29日",
    "2023年",
    "2023年1月上旬",
    "截至2021年底",
    "纳入2021年度考核",
    "上旬",
    "19:00",
    "联系方式:0511-83371023",
    "电话:0753-2351954",
    "联系方式:85951003",
    "电子邮箱:mjqcbz@163.com",
    "1544696178@qq.com",
    "邮政编码:514089",
    "(薛发〔2021〕68号)",
    "(梅区办函〔2019〕1号)",
    "省委第二巡察组",
    "区委党校第18期",
    "股干班第18、19期",
    "第十轮、十一轮巡察",
    "十九届六中全会",
    "排名全市第一",
    "一是加强学习",
    "(1)强化理论学习",
    "1.关于“理论学习”问题的整改",
    "“143”党建工作法",
    "建立了“3个五”整改责任体系",
    "十四五规划",
    "5G基站建设",
    "坚决做到“两个维护”",
    "加快建设“四个新区”",
    "“两单一响应”机制",
    "全面推行“19:00议事厅”",
    "PM2.5年均浓度",
    "二〇二一年",
    "一起研究",
    "一次性支出",
    "统一部署",
    "千家万户",
    "《2020年污染防治攻坚工作要点》",
    "(2019年本)",
    "吕北路1号",
    "联影二期项目",
    "违反中央八项规定精神",
    "制定三年行动计划",
    "2A级以上社区",
    "4A景区",
    "进行二次考核",
    "建党100周年",
    "认真落实三管三必须要求",  # 管 counts tubes only after Arabic digits (units.csv numerals)
    "坚持两管齐下",
    "于6/30前完成整改",  # a month and a day, not a share
    "实行24/7值守",  # a schedule: a share never exceeds its whole
]


def test_a_measure_word_that_makes_words_after_chinese_numerals_is_a_unit_after_arabic_digits():
    assert [(r["quote"], r["value_base"]) for r in found("日最大核酸检测能力3.26万管,举办培训班3期")] == [("3.26万管", 32600.0), ("3期", 3.0)]


@pytest.mark.parametrize("text", NOT_INDICATORS)
def test_not_an_indicator(text):
    assert found(text) == []


def test_all_negatives_in_one_frame():
    assert len(NOT_INDICATORS) >= 20
    out = extract_indicators(spans(*(normalize_text(t) for t in NOT_INDICATORS)))
    assert out.height == 0


# --------------------------------------------------------------------------------------------------
# The five seeds


@pytest.mark.parametrize("prefix", ["000", "001", "002", "003", "004"])
def test_quotes_are_at_their_offsets_whole_seed(seed_texts, prefix):
    text = seed_texts[prefix]
    out = whole_seed(prefix, text)
    assert out.height > 15
    for row in out.iter_rows(named=True):
        assert text[row["char_start"] : row["char_end"]] == row["quote"]
    assert out["char_start"].n_unique() == out.height  # indicator_key is notice_key-x<char_start>
    assert out["value"].is_finite().all() and out["value_base"].is_finite().all()


@pytest.mark.parametrize("prefix", ["000", "001", "002", "003", "004"])
def test_quotes_are_at_their_offsets_line_spans(seed_texts, prefix):
    """Spans that start inside the notice: offsets are span char_start + local offset."""
    text = seed_texts[prefix]
    lines, offsets, at = [], [], 0
    for line in text.split("\n"):
        lines.append(line)
        offsets.append(at)
        at += len(line) + 1
    frame = pl.DataFrame(
        {
            "content_sha256": [prefix] * len(lines),
            "node_ordinal": pl.Series(range(len(lines)), dtype=pl.Int32),
            "measure_ordinal": pl.Series([None] * len(lines), dtype=pl.Int32),
            "text": lines,
            "char_start": pl.Series(offsets, dtype=pl.Int64),
        }
    )
    out = extract_indicators(frame)
    assert out.height == whole_seed(prefix, text).height
    for row in out.iter_rows(named=True):
        assert text[row["char_start"] : row["char_end"]] == row["quote"]


def _mention(out: pl.DataFrame, quote: str) -> dict:
    rows = out.filter(pl.col("quote") == quote).to_dicts()
    assert rows, quote
    return rows[0]


def test_seed_mentions(seed_texts):
    out = {p: whole_seed(p, t) for p, t in seed_texts.items()}

    row = _mention(out["000"], "3700余件")
    assert (row["value"], row["unit"], row["base_unit"], row["qualifier"]) == (3700.0, "件", "count", "at_least")
    assert "全年处理解决民生事项3700余件" in seed_texts["000"]
    row = _mention(out["000"], "8000余万元")
    assert (row["value_base"], row["base_unit"], row["qualifier"]) == (80000000.0, "CNY", "at_least")
    row = _mention(out["000"], "9.6%")
    assert row["direction"] == "decrease"
    row = _mention(out["000"], "3.9个百分点")
    assert row["base_unit"] == "percentage_point"
    row = _mention(out["000"], "约1900万元")
    assert (row["value_base"], row["qualifier"]) == (19000000.0, "approx")

    row = _mention(out["001"], "2.1亿美元")
    assert (row["value_base"], row["base_unit"]) == (210000000.0, "USD")
    row = _mention(out["001"], "26734.4元")
    assert row["value_base"] == 26734.4

    row = _mention(out["003"], "20.76万平方米")
    assert (row["value_base"], row["base_unit"]) == (207600.0, "m2")
    row = _mention(out["003"], "5300万元")
    assert row["metric"] == "funds_recovered"

    row = _mention(out["004"], "83.3%")
    assert (row["value"], row["base_unit"], row["metric"]) == (83.3, "percent", "completion_rate")
    row = _mention(out["004"], "10万余人次")
    assert (row["value_base"], row["qualifier"]) == (100000.0, "at_least")
    row = _mention(out["004"], "2.74万公斤")
    assert (row["value_base"], row["base_unit"]) == (27400.0, "kg")


def test_seed_names_and_dates_are_not_extracted(seed_texts):
    out = {p: whole_seed(p, t) for p, t in seed_texts.items()}
    quotes = {p: set(frame["quote"]) for p, frame in out.items()}
    years = {q for qs in quotes.values() for q in qs if len(q) == 5 and q[:4].isdigit() and q.endswith("年")}
    assert not years
    assert "二期" not in quotes["000"] and "八项" not in quotes["001"] and "三年" not in quotes["003"]
    for prefix, name in [("000", "“143”"), ("004", "“3个五”"), ("003", "“产业强区16条”"), ("003", "“5分钟3公里”")]:
        at = seed_texts[prefix].index(name)
        starts = out[prefix]["char_start"]
        assert not ((starts >= at) & (starts < at + len(name))).any(), name


def test_runtime_on_all_seeds(seed_texts):
    frame = pl.concat([spans(t).with_columns(pl.lit(p).alias("content_sha256")) for p, t in seed_texts.items()])
    started = time.perf_counter()
    out = extract_indicators(frame)
    assert time.perf_counter() - started < 10
    assert out.height > 500
