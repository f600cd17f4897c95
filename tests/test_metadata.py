"""transforms.metadata: each rule on a small notice, then the exact metadata of the five seed notices."""

import hashlib
from datetime import date

import polars as pl
import pytest

from transforms.metadata import METADATA_SCHEMA, extract_metadata, find_dates, parse_metadata
from transforms.text import normalize_text


def notice_frame(*texts: str) -> pl.DataFrame:
    return pl.DataFrame({"content_sha256": [hashlib.sha256(t.encode()).hexdigest() for t in texts], "text": list(texts)})


def meta(text: str) -> dict:
    return parse_metadata(normalize_text(text))


# ------------------------------------------------------------------------------------------------ dates


def test_range_end_inherits_year_and_feedback_year_is_inferred():
    m = meta(
        "根据区委统一部署,2021年8月13日至10月29日,区委第二巡察组对某某镇进行了巡察。"
        "11月29日,区委第二巡察组向某某镇党委反馈了巡察意见。\n正文。"
    )
    assert (m["inspection_start"], m["inspection_start_precision"]) == (date(2021, 8, 13), "day")
    assert (m["inspection_end"], m["inspection_end_precision"]) == (date(2021, 10, 29), "day")
    assert (m["feedback_date"], m["feedback_date_precision"]) == (date(2021, 11, 29), "day")


def test_feedback_rolls_into_next_year_when_its_month_is_before_the_inspection_end():
    m = meta(
        "2021年11月1日至12月30日,市委第三巡察组对某某局党组开展了常规巡察。"
        "1月20日,市委第三巡察组向某某局党组反馈了巡察意见。\n正文。"
    )
    assert m["inspection_end"] == date(2021, 12, 30)
    assert m["feedback_date"] == date(2022, 1, 20)


def test_range_end_rolls_into_next_year():
    m = meta("2021年11月1日至1月15日,县委第一巡察组对某某乡党委进行了巡察。\n正文。")
    assert (m["inspection_start"], m["inspection_end"]) == (date(2021, 11, 1), date(2022, 1, 15))


def test_vague_end_across_years_and_feedback_in_the_same_sentence():
    m = meta(
        "根据区委巡察工作统一部署,2022年8月12日至2023年1月上旬,九届区委第二轮巡察第一组对城北镇党委"
        "进行了集中巡察,并于3月10日向镇党委反馈了巡察情况。\n正文。"
    )
    assert (m["inspection_start"], m["inspection_start_precision"]) == (date(2022, 8, 12), "day")
    assert (m["inspection_end"], m["inspection_end_precision"]) == (date(2023, 1, 1), "early_month")
    assert (m["feedback_date"], m["feedback_date_precision"]) == (date(2023, 3, 10), "day")
    assert m["inspecting_body"] == "九届区委第二轮巡察第一组"
    assert m["inspected_unit"] == "城北镇党委"


@pytest.mark.parametrize(
    "period, start, start_precision, end, end_precision",
    [
        ("2019年10月中旬至11月下旬", date(2019, 10, 11), "mid_month", date(2019, 11, 21), "late_month"),
        ("2019年10月至11月", date(2019, 10, 1), "month", date(2019, 11, 1), "month"),
        ("2019年10月初至12月底", date(2019, 10, 1), "early_month", date(2019, 12, 21), "late_month"),
        ("2021年8月13日至29日", date(2021, 8, 13), "day", date(2021, 8, 29), "day"),
        ("二〇二一年八月十三日至十月二十九日", date(2021, 8, 13), "day", date(2021, 10, 29), "day"),
        ("2021年8月13日-10月29日", date(2021, 8, 13), "day", date(2021, 10, 29), "day"),
    ],
)
def test_period_forms(period, start, start_precision, end, end_precision):
    m = meta(f"{period},省委第二巡视组对某某市进行了巡视。\n正文。")
    assert (m["inspection_start"], m["inspection_start_precision"]) == (start, start_precision)
    assert (m["inspection_end"], m["inspection_end_precision"]) == (end, end_precision)


def test_body_before_period_with_yu_and_feedback_with_bing_yu():
    m = meta(
        "根据省委统一部署,省委第十巡视组于2023年6月30日至8月31日对梁溪区开展了巡视,并于10月14日进行了反馈。"
        "按照党务公开原则和巡视工作有关要求,现将巡视整改进展情况予以公布。\n正文。"
    )
    assert m["inspecting_body"] == "省委第十巡视组"
    assert m["inspected_unit"] == "梁溪区"
    assert (m["inspection_start"], m["inspection_end"], m["feedback_date"]) == (
        date(2023, 6, 30),
        date(2023, 8, 31),
        date(2023, 10, 14),
    )
    assert m["report_stage"] == "整改进展情况"


def test_single_date_is_a_start_without_end():
    m = meta("2019年10月,中央第三巡视组对某某省进行了常规巡视。2020年1月10日反馈了巡视意见。\n正文。")
    assert (m["inspection_start"], m["inspection_start_precision"]) == (date(2019, 10, 1), "month")
    assert m["inspection_end"] is None and m["inspection_end_precision"] is None
    assert m["feedback_date"] == date(2020, 1, 10)


def test_find_dates_reads_chinese_numerals_and_parts():
    [token] = find_dates("二〇二二年十二月下旬")
    assert (token.year, token.month, token.day, token.precision) == (2022, 12, 21, "late_month")


# ------------------------------------------------------------------------------------------------ body, kind, level


@pytest.mark.parametrize(
    "opening, kind, level, body, unit",
    [
        ("中央第三巡视组对黑龙江省进行了常规巡视。", "巡视", "中央", "中央第三巡视组", "黑龙江省"),
        ("市委第二巡察组对某某区卫生健康局党组开展了巡察“回头看”。", "巡察", "市委", "市委第二巡察组", "某某区卫生健康局党组"),
        ("县委第四巡察组对某某镇及所辖村(社区)进行了专项巡察。", "巡察", "县委", "县委第四巡察组", "某某镇及所辖村(社区)"),
    ],
)
def test_kind_level_body_unit(opening, kind, level, body, unit):
    m = meta(f"根据统一部署,2020年5月6日至6月30日,{opening}\n正文。")
    assert (m["inspection_kind"], m["inspecting_level"], m["inspecting_body"], m["inspected_unit"]) == (
        kind,
        level,
        body,
        unit,
    )


def test_level_falls_back_to_the_deploying_committee():
    m = meta("根据省委统一部署,2019年8月6日至9月20日,巡视组对某某开发区党工委进行了巡视。\n正文。")
    assert (m["inspecting_level"], m["inspecting_body"], m["inspection_kind"]) == ("省委", None, "巡视")


def test_no_opening_gives_nulls():
    m = meta("这是一段与巡视无关的文字。\n第二行。")
    assert m["inspection_kind"] is None and m["inspection_start"] is None and m["feedback_date"] is None


# ------------------------------------------------------------------------------------------------ title, stage, signature

OPENING = "根据区委统一部署,2021年8月13日至10月29日,区委第二巡察组对某某镇进行了巡察。"


def test_title_line_and_publisher_from_it_without_signature():
    m = meta(f"中共某某县委关于巡视整改进展情况的通报\n{OPENING}\n正文。")
    assert m["title"] == "中共某某县委关于巡视整改进展情况的通报"
    assert m["publisher"] == "中共某某县委"
    assert m["publish_date"] is None
    assert m["report_stage"] == "整改进展情况"  # no 现将…予以公布: read from the title


def test_sentence_and_section_heading_are_not_titles():
    assert meta(f"{OPENING}\n一、整改工作组织情况\n正文。")["title"] is None


def test_title_without_organisation_gives_no_publisher():
    m = meta(f"关于巡察整改情况的通报\n{OPENING}\n正文。")
    assert m["title"] == "关于巡察整改情况的通报"
    assert m["publisher"] is None


def test_signature_organisation_and_date():
    m = meta(f"{OPENING}现将巡察整改情况予以公布。\n正文。\n中共某某镇委员会\n2022年4月11日")
    assert (m["publisher"], m["publish_date"], m["report_stage"]) == ("中共某某镇委员会", date(2022, 4, 11), "整改情况")


def test_signature_on_one_line_in_chinese_numerals_before_web_junk():
    m = meta(f"{OPENING}\n正文。\n中共某某局党组 二〇二二年三月五日\n【打印本页】【关闭窗口】\n使用“扫一扫”即可将网页分享至朋友圈")
    assert (m["publisher"], m["publish_date"]) == ("中共某某局党组", date(2022, 3, 5))


def test_web_junk_is_skipped_before_the_signature():
    m = meta(f"{OPENING}\n正文。\n中共某某镇委员会\n2022年4月11日\n使用“扫一扫”即可将网页分享至朋友圈")
    assert (m["publisher"], m["publish_date"]) == ("中共某某镇委员会", date(2022, 4, 11))


def test_no_signature_no_title_gives_nulls():
    m = meta(f"{OPENING}\n正文。\n欢迎监督。联系方式:0510-82210002。")
    assert (m["title"], m["publisher"], m["publish_date"]) == (None, None, None)


@pytest.mark.parametrize(
    "sentence, stage",
    [
        ("现将巡察整改情况予以公布。", "整改情况"),
        ("现将巡察整改阶段性进展情况予以公布。", "整改阶段性进展情况"),
        ("现将有关整改情况公布如下。", "整改情况"),
        ("现将省委第三巡视组反馈意见整改落实情况予以公开。", "整改落实情况"),
    ],
)
def test_report_stage(sentence, stage):
    assert meta(f"{OPENING}{sentence}\n正文。")["report_stage"] == stage


# ------------------------------------------------------------------------------------------------ contacts


def test_phones_emails_address():
    m = meta(
        f"{OPENING}\n正文,2021年盘活资金1900万元,电话不在此处12345678。\n"
        "欢迎监督。联系电话:0755-1234567、13912345678;通信地址:某市某路1号;邮编:518000;"
        "电子邮箱:a.b@x.gov.cn。\n中共某某局党组\n2022年3月5日"
    )
    assert m["contact_phones"] == ["0755-1234567", "13912345678"]
    assert m["contact_emails"] == ["a.b@x.gov.cn"]
    assert m["contact_address"] == "某市某路1号"


def test_digits_of_an_email_are_not_a_phone():
    m = meta(f"{OPENING}\n正文。\n联系方式:85951003;电子邮箱1544696178@qq.com。")
    assert (m["contact_phones"], m["contact_emails"], m["contact_address"]) == (["85951003"], ["1544696178@qq.com"], None)


# ------------------------------------------------------------------------------------------------ frame


def test_frame_schema_and_empty_input():
    out = extract_metadata(notice_frame(normalize_text(f"{OPENING}\n正文。")))
    assert out.schema == pl.Schema(METADATA_SCHEMA)
    assert out.height == 1
    empty = extract_metadata(pl.DataFrame(schema={"content_sha256": pl.String, "text": pl.String}))
    assert empty.height == 0 and empty.schema == pl.Schema(METADATA_SCHEMA)


# ------------------------------------------------------------------------------------------------ the five seeds

SEED_METADATA = {
    "000": dict(
        title=None,
        publisher="中共常州市新北区薛家镇委员会",
        publish_date=date(2022, 4, 11),
        report_stage="整改情况",
        inspection_kind="巡察",
        inspecting_level="区委",
        inspecting_body="区委第二巡察组",
        inspected_unit="薛家镇及所辖村(社区)",
        inspection_start=date(2021, 8, 13),
        inspection_start_precision="day",
        inspection_end=date(2021, 10, 29),
        inspection_end_precision="day",
        feedback_date=date(2021, 11, 29),
        feedback_date_precision="day",
        contact_phones=["85951003"],
        contact_emails=["1544696178@qq.com"],
        contact_address=None,
    ),
    "001": dict(
        title=None,
        publisher="中共镇江新区工作委员会",
        publish_date=date(2020, 4, 27),
        report_stage="整改进展情况",
        inspection_kind="巡视",
        inspecting_level="省委",
        inspecting_body="省委第九巡视组",
        inspected_unit="镇江经济技术开发区党工委",
        inspection_start=date(2019, 8, 6),
        inspection_start_precision="day",
        inspection_end=date(2019, 9, 20),
        inspection_end_precision="day",
        feedback_date=date(2019, 12, 31),
        feedback_date_precision="day",
        contact_phones=["0511-83371023"],
        contact_emails=["xxgk@zjna.gov.cn"],
        contact_address=None,
    ),
    "002": dict(
        title=None,
        publisher="中共梅州市梅江区城北镇委员会",
        publish_date=date(2023, 9, 8),
        report_stage="整改阶段性进展情况",
        inspection_kind="巡察",
        inspecting_level="区委",
        inspecting_body="九届区委第二轮巡察第一组",
        inspected_unit="城北镇党委",
        inspection_start=date(2022, 8, 12),
        inspection_start_precision="day",
        inspection_end=date(2023, 1, 1),
        inspection_end_precision="early_month",
        feedback_date=date(2023, 3, 10),
        feedback_date_precision="day",
        contact_phones=["0753-2351954"],
        contact_emails=["mjqcbz@163.com"],
        contact_address="梅州市梅江区城北镇人民政府",
    ),
    "003": dict(
        title=None,
        publisher=None,
        publish_date=None,
        report_stage="整改进展情况",
        inspection_kind="巡视",
        inspecting_level="省委",
        inspecting_body="省委第十巡视组",
        inspected_unit="梁溪区",
        inspection_start=date(2023, 6, 30),
        inspection_start_precision="day",
        inspection_end=date(2023, 8, 31),
        inspection_end_precision="day",
        feedback_date=date(2023, 10, 14),
        feedback_date_precision="day",
        contact_phones=["0510-82210002"],
        contact_emails=["lxqwxcb2016@163.com"],
        contact_address="无锡市梁溪区解放南路688号梁溪区委巡察办",
    ),
    "004": dict(
        title="中共郴州市苏仙区委关于巡视整改进展情况的通报",
        publisher="中共郴州市苏仙区委",
        publish_date=None,
        report_stage="整改进展情况",
        inspection_kind="巡视",
        inspecting_level="省委",
        inspecting_body="省委第一巡视组",
        inspected_unit="郴州市苏仙区",
        inspection_start=date(2020, 9, 8),
        inspection_start_precision="day",
        inspection_end=date(2020, 11, 13),
        inspection_end_precision="day",
        feedback_date=date(2021, 4, 1),
        feedback_date_precision="day",
        contact_phones=["0735-2880717"],
        contact_emails=["sxqxszgb@163.com"],
        contact_address="郴州市苏仙区郴县路177号苏仙区行政中心1717室(巡视整改办)",
    ),
}


def test_seed_metadata(seed_texts):
    prefixes = sorted(seed_texts)
    frame = notice_frame(*(seed_texts[p] for p in prefixes))
    out = extract_metadata(frame)
    assert out.schema == pl.Schema(METADATA_SCHEMA)
    assert out["content_sha256"].to_list() == frame["content_sha256"].to_list()
    for prefix, row in zip(prefixes, out.iter_rows(named=True)):
        row.pop("content_sha256")
        assert row == SEED_METADATA[prefix], prefix


def test_traditional_characters():
    m = meta("根據省委統一部署,2020年9月8日至11月13日,省委第一巡視組對郴州市蘇仙區進行了巡視。\n正文。\n聯繫電話:0735-2880717。")
    assert (m["inspection_kind"], m["inspecting_level"], m["inspecting_body"], m["inspected_unit"]) == (
        "巡视",
        "省委",
        "省委第一巡视组",
        "郴州市苏仙区",
    )
    assert m["contact_phones"] == ["0735-2880717"]


def test_title_naming_the_unit_is_not_the_opening():
    m = meta(f"关于对某某镇开展巡察整改情况的通报\n{OPENING}11月29日,区委第二巡察组向某某镇党委反馈了巡察意见。\n正文。")
    assert m["title"] == "关于对某某镇开展巡察整改情况的通报"
    assert (m["inspected_unit"], m["inspection_start"], m["feedback_date"]) == ("某某镇", date(2021, 8, 13), date(2021, 11, 29))
