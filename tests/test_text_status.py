"""Status read from a node's own text (structure.text_status) when no heading or status line gives one."""

import pytest

from tests.conftest import notice_frame
from transforms.structure import extract_issues, text_status


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("整改情况:一是建立制度。目前该问题已整改到位。", ("completed", "已整改到位", "text")),
        ("截至目前,已整改到位。", ("completed", "已整改到位", "text")),
        ("已完成整改并长期坚持。", ("completed_long_term", "已完成整改并长期坚持", "text")),
        ("目前,正在推进。", ("in_progress", "正在推进", "text")),
        # Progress of a sub-task, not of the problem: a counted figure in the sentence.
        ("174条一般隐患已整改170条,剩余4条正在推进中。", None),
        ("违规出借的15笔借款目前已完成整改9笔。", None),
        # A measure that merely mentions pushing on, or an enumerated measure.
        ("目前持续推进专项整治工作,加强监督。", None),
        ("一是完成整改台账。二是清退资金。", None),
        ("对分步推进和长期坚持的整改任务,常态化推进。", None),
    ],
)
def test_text_status(text, expected):
    assert text_status(text) == expected


def test_text_status_only_when_no_heading_or_line_says():
    notice = "\n".join(
        [
            "根据区委统一部署,区委第一巡察组对某镇进行了巡察。",
            "1.关于“台账不全”问题的整改",
            "整改情况:补齐台账。目前该问题已整改到位。",
            "2.关于“制度缺失”问题的整改",
            "整改状态:正在推进",
            "整改情况:起草制度。目前该问题已整改到位。",
        ]
    )
    rows = extract_issues(notice_frame(notice)).select("title", "status", "status_source").rows()
    assert rows == [("台账不全", "completed", "text"), ("制度缺失", "in_progress", "status_line")]


def test_seed_sub_task_progress_is_not_a_status(seed_texts):
    issues = extract_issues(notice_frame(seed_texts["001"], seed_texts["003"], seed_texts["004"]))
    # These layouts state no status per issue; their texts only report sub-task progress.
    assert issues.filter(issues["status_source"] == "text").is_empty()
