"""The issue hierarchy and measures (transforms.structure) on small fixtures and on the five seed layouts."""

from datetime import date

import polars as pl
import pytest

from tests.conftest import notice_frame
from transforms.structure import extract_issues, extract_measures, title_of

OPENING = "根据区委统一部署,区委第一巡察组对某镇进行了巡察。"


def parse(text: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    issues = extract_issues(notice_frame(text))
    return issues, extract_measures(issues)


@pytest.mark.parametrize(
    ("heading", "title"),
    [
        ("关于“理论学习没有入脑入心”问题的整改。", "理论学习没有入脑入心"),
        ("对“撂荒复耕工作开展不扎实”的整改进展情况", "撂荒复耕工作开展不扎实"),
        ("关于“‘四风’问题未得到根本遏制”问题的整改", "‘四风’问题未得到根本遏制"),
        ("反馈问题:学习贯彻不深不实,推动发展成效不明显。", "学习贯彻不深不实,推动发展成效不明显"),
        ("农业农村工作存在薄弱环节", "农业农村工作存在薄弱环节"),
        ("主题教育存在“过关”思想。", "主题教育存在“过关”思想"),
    ],
)
def test_title_drops_the_wrapper(heading, title):
    assert title_of(heading) == title


def test_status_group_headings_give_status_and_numbering_restarts():
    text = "\n".join([
        OPENING,
        "一、已完成整改的问题",
        "1.关于“甲”问题的整改。",
        "整改结果及成效:一是做了一件事。二是做了另一件事。",
        "二、正在推进整改的问题",
        "1.关于“乙”问题的整改。",
        "主要做法及阶段性成效:做了一半。",
        "下一步推进举措:继续做。",
    ])
    issues, measures = parse(text)
    assert issues.select("number", "title", "status", "status_source").rows() == [
        ("1", "甲", "completed", "section_heading"),
        ("1", "乙", "in_progress", "section_heading"),
    ]
    assert measures.select("node_ordinal", "label", "phase", "text").rows() == [
        (0, "一是", "done", "一是做了一件事。"),
        (0, "二是", "done", "二是做了另一件事。"),
        (1, None, "done", "做了一半。"),
        (1, None, "next_step", "继续做。"),
    ]


def test_status_line_and_expected_completion_under_a_category():
    text = "\n".join([
        OPENING,
        "二、坚持问题导向",
        "(一)落实情况方面",
        "1.对“甲”的整改进展情况",
        "整改状态:取得阶段性成效,预计2023年12月完成。",
        "整改过程:",
        "一方面,建立台账。另一方面,压实责任。",
    ])
    issues, measures = parse(text)
    assert issues.select("level", "number", "parent_ordinal", "status", "status_phrase", "expected_completion").rows() == [
        ("category", "(一)", None, None, None, None),
        ("issue", "1", 0, "in_progress", "取得阶段性成效", date(2023, 12, 1)),
    ]
    assert measures["label"].to_list() == ["一方面", "另一方面"]


def test_numbered_paragraphs_under_an_issue_are_measures():
    text = "\n".join([
        OPENING,
        "二、整改落实进展",
        "1. 关于“甲”问题的整改",
        "(1)强化学习。组织专题学习3次。",
        "(2)完善制度。出台办法2项。",
        "2. 关于“乙”问题的整改",
        "(3)加强督查。",
    ])
    issues, measures = parse(text)
    assert issues["level"].to_list() == ["issue", "issue"]
    assert measures.select("node_ordinal", "measure_ordinal", "label").rows() == [(0, 1, "(1)"), (0, 2, "(2)"), (1, 1, "(3)")]


def test_numbered_children_with_their_own_rectification_are_sub_issues():
    text = "\n".join([
        OPENING,
        "二、问题整改情况",
        "(一)反馈问题:政治建设有差距。",
        "1.学习不深不实。",
        "(1)学习流于形式。",
        "整改情况:开展专题学习8次。",
        "(2)研究不够。",
        "整改情况:制定计划。",
    ])
    issues, measures = parse(text)
    assert issues.select("level", "number", "title").rows() == [
        ("category", "(一)", "政治建设有差距"),
        ("issue", "1", "学习不深不实"),
        ("sub_issue", "(1)", "学习流于形式"),
        ("sub_issue", "(2)", "研究不够"),
    ]
    assert issues["parent_ordinal"].to_list() == [None, 0, 1, 1]
    assert measures["node_ordinal"].to_list() == [2, 3]


def test_framing_sections_and_false_headings_produce_no_nodes():
    text = "\n".join([
        OPENING,
        "一、整改工作组织情况",
        "(一)提高站位。召开会议3次。",
        "(二)加强领导。成立领导小组。",
        "2022年以来,全镇共开展检查12次。",
        "3.5亿元资金已拨付。",
        "三、下一步整改工作打算",
        "(一)持续深化整改。",
    ])
    issues, measures = parse(text)
    assert issues.is_empty() and measures.is_empty()
    assert issues.schema == extract_issues(notice_frame()).schema


def test_offsets_index_the_notice_on_every_seed(seed_texts):
    frame = pl.DataFrame({"content_sha256": list(seed_texts), "text": list(seed_texts.values())})
    issues = extract_issues(frame)
    measures = extract_measures(issues)
    for row in measures.iter_rows(named=True):
        assert seed_texts[row["content_sha256"]][row["char_start"]:row["char_end"]] == row["text"]
    for row in issues.iter_rows(named=True):
        node = seed_texts[row["content_sha256"]][row["char_start"]:row["char_end"]]
        assert node.endswith(row["text"]) and row["title"]
    per_level = issues.group_by("content_sha256", "level").len().sort("content_sha256", "level").rows()
    assert per_level == [
        ("000", "issue", 25), ("001", "issue", 25), ("002", "category", 4), ("002", "issue", 14),
        ("003", "issue", 34), ("004", "category", 4), ("004", "issue", 16), ("004", "sub_issue", 48),
    ]
    phases = measures.group_by("content_sha256", "phase").len().sort("content_sha256", "phase").rows()
    assert ("001", "done", 143) in phases and ("000", "next_step", 15) in phases


def test_a_label_run_in_on_the_heading_line_opens_the_issues_own_text():
    # the one-paragraph layout web pages print: heading sentence, then status and measures on the same line
    text = "\n".join([
        OPENING,
        "二、整改落实情况",
        "1.落实主体责任不到位。整改情况:已完成整改。一是召开专题会议;二是修订制度3项。",
        "2.关于“资金管理不规范”问题的整改。整改状态:正在整改,预计2024年6月完成。整改措施:追回资金12.5万元。",
    ])
    issues, measures = parse(text)
    assert issues.select("title", "status", "status_source", "expected_completion").rows() == [
        ("落实主体责任不到位", "completed", "text", None),
        ("资金管理不规范", "in_progress", "status_line", date(2024, 6, 1)),
    ]
    assert issues["text"].to_list()[0].rstrip() == "整改情况:已完成整改。一是召开专题会议;二是修订制度3项。"
    # the status sentence opening the block is not a measure
    assert measures.select("node_ordinal", "label", "text").rows() == [
        (0, "一是", "一是召开专题会议;"),
        (0, "二是", "二是修订制度3项。"),
        (1, None, "追回资金12.5万元。"),
    ]
    for row in measures.iter_rows(named=True):
        assert text[row["char_start"]:row["char_end"]] == row["text"]


def test_sentences_after_the_heading_sentence_give_a_status_but_no_measure():
    text = "\n".join([
        OPENING,
        "二、整改落实情况",
        "1.关于“选人用人把关不严”问题的整改。部分干部档案不全。目前已整改到位。",
        "2.关于“学习不深入”问题的整改。该问题正在整改。",
        "整改情况:开展学习8次。",
        "3.关于“作风不实”问题的整改。整改措施:下一步完成整改。",
    ])
    issues, measures = parse(text)
    assert issues.select("title", "status").rows() == [
        ("选人用人把关不严", "completed"), ("学习不深入", "in_progress"), ("作风不实", None),
    ]
    assert measures.select("node_ordinal", "text").rows() == [(1, "开展学习8次。"), (2, "下一步完成整改。")]


def test_a_next_step_block_states_no_status():
    issues, _ = parse("\n".join([OPENING, "二、整改落实情况", "1.关于“甲”问题的整改。", "整改情况:建立台账。", "下一步措施:完成整改。"]))
    assert issues["status"].to_list() == [None]
