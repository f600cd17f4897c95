"""Layouts beyond the five seeds (tests/fixtures/layouts/) and property-based robustness of the parser.

Each fixture is a realistic variation built from excerpts of the seeds, re-numbered or re-laid-out; its
expected hierarchy is written out below. The property tests mutate real notices (shuffle, truncate,
duplicate, inject noise) and check that parsing never raises and never yields an issue that is not in the
source text.
"""

from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import SEEDS, notice_frame
from tests.test_parse_report import report_of
from transforms.structure import extract_issues, extract_measures
from transforms.text import decode_notice, normalize_text

LAYOUTS = Path(__file__).parent / "fixtures" / "layouts"


def layout(name: str) -> str:
    return normalize_text((LAYOUTS / name).read_text(encoding="utf-8"))


EXPECTED = {
    # ① ② numbering under (一) categories, restarting in each category; statuses from 整改状态 lines.
    "circled_under_categories.txt": [
        ("category", "(一)", None, "党中央各项决策部署在基层的落实情况方面", None, None),
        ("issue", "①", 0, "乡村振兴成效不够明显,强力推进的举措不多", "completed_long_term", "status_line"),
        ("issue", "②", 0, "撂荒复耕工作开展不扎实", "in_progress", "status_line"),
        ("category", "(二)", None, "基层党组织建设方面", None, None),
        ("issue", "①", 3, "未建立健全意识形态工作台账", "completed_long_term", "status_line"),
    ],
    # 第一、第二 headings; the first states its status in a closing sentence of its text.
    "ordinal_headings.txt": [
        ("issue", "第一", None, "理论学习没有入脑入心", "completed", "text"),
        ("issue", "第二", None, "防范化解金融风险成效不佳", None, None),
        ("issue", "第三", None, "违反中央八项规定精神问题依然存在", None, None),
    ],
    # Summary-only notice (many units, counts and a rate, no problems listed): no structure is invented.
    "summary_only.txt": [],
    # Page cut by a scraper after the second of ten problems: the two present are kept as they are.
    "truncated.txt": [
        ("issue", "1", None, "资金使用、资产管理等重点领域风险防控机制不健全", None, None),
        ("issue", "2", None, "工程项目建设管理不规范", None, None),
    ],
    # A table flattened into text (序号 反馈问题 整改措施 完成情况): rows carry no rectification cue, so
    # they are not taken for headings; the notice loads with low confidence instead.
    "flattened_table.txt": [],
    # One paragraph per problem (heading sentence, then 整改状态: / 整改情况: run in on the same line), as web pages
    # print it: the issues' status and measures are read as in the line-per-label layout.
    "run_in_paragraphs.txt": [
        ("issue", "1", None, "学习贯彻党的二十大精神存在差距", None, None),
        ("issue", "2", None, "争先进位劲头不足,高质量发展成效不显", None, None),
        ("issue", "3", None, "违规向民企出借资金余额较大", "in_progress", "status_line"),
    ],
}
CONFIDENCE = {
    "circled_under_categories.txt": "high",
    "ordinal_headings.txt": "medium",
    "summary_only.txt": "low",
    "truncated.txt": "low",
    "flattened_table.txt": "low",
    "run_in_paragraphs.txt": "medium",
}


def test_every_fixture_has_an_expectation():
    assert {p.name for p in LAYOUTS.glob("*.txt")} == set(EXPECTED) == set(CONFIDENCE)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_layout_hierarchy(name):
    issues = extract_issues(notice_frame(layout(name)))
    got = issues.select("level", "number", "parent_ordinal", "title", "status", "status_source").rows()
    assert got == EXPECTED[name]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_layout_confidence(name):
    (row,) = report_of(layout(name)).iter_rows(named=True)
    assert row["confidence"] == CONFIDENCE[name], row["confidence_reason"]


def test_run_in_paragraphs_give_the_measures_of_the_line_per_label_layout():
    run_in = layout("run_in_paragraphs.txt")
    # the same notice with each label on a line of its own (as the seed it was taken from prints it)
    per_line = run_in.replace("。整改", "。\n整改")
    texts = [extract_measures(extract_issues(notice_frame(text))).select("node_ordinal", "label", "text").rows()
             for text in (run_in, per_line)]
    assert texts[0] == texts[1] and len(texts[0]) == 11


def test_summary_only_notice_keeps_its_claims():
    (row,) = report_of(layout("summary_only.txt")).iter_rows(named=True)
    assert row["issue_total_claimed"] == 697 and row["claim_count"] >= 4


# --- properties -------------------------------------------------------------------------------------------

def _seed_lines() -> list[list[str]]:
    return [normalize_text(decode_notice(p.read_bytes())[0]).split("\n") for p in sorted(SEEDS.glob("*.txt"))]


SEED_LINES = _seed_lines() + [layout(name).split("\n") for name in sorted(EXPECTED)]
NOISE = st.sampled_from(["", "1.", "(1)", "①", "一、", "第一、", "整改状态:", "整改情况:", "关于“", "”问题的整改", "\u3000", "<div>", "分享到:", "12345", "(一)"])


@st.composite
def mutated_notices(draw) -> str:
    lines = list(draw(st.sampled_from(SEED_LINES)))
    operation = draw(st.sampled_from(["shuffle", "truncate", "duplicate", "noise", "all"]))
    if operation in ("shuffle", "all"):
        lines = draw(st.permutations(lines))
    if operation in ("duplicate", "all") and lines:
        start = draw(st.integers(0, len(lines) - 1))
        lines = lines[: start + 1] + lines[start : start + draw(st.integers(1, 20))] + lines[start + 1 :]
    if operation in ("noise", "all"):
        for _ in range(draw(st.integers(1, 10))):
            at = draw(st.integers(0, len(lines)))
            lines.insert(at, draw(NOISE) + draw(st.text(max_size=12)))
    text = "\n".join(lines)
    if operation in ("truncate", "all") and text:
        text = text[: draw(st.integers(0, len(text)))]
    return normalize_text(text)


@settings(max_examples=60, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutated_notices())
def test_mutated_notices_never_raise_and_issues_come_from_the_source(text):
    issues = extract_issues(notice_frame(text))
    measures = extract_measures(issues)
    for row in issues.iter_rows(named=True):
        assert 0 <= row["char_start"] <= row["char_end"] <= len(text)
        span = text[row["char_start"]:row["char_end"]]
        assert row["title"] and row["title"] in span, row
        assert text[row["char_end"] - len(row["text"]):row["char_end"]] == row["text"]
    for row in measures.iter_rows(named=True):
        assert text[row["char_start"]:row["char_end"]] == row["text"]
    assert issues.filter(pl.col("parent_ordinal") >= pl.col("node_ordinal")).is_empty()


def test_normalisation_keeps_circled_numbers_and_folds_the_rest():
    assert normalize_text("①对“问题”的整改，共２０个\n②") == "①对“问题”的整改,共20个\n②"


def test_bare_labels_and_first_second_in_prose_are_not_headings():
    text = "(1)\n第一巡察组对某镇开展了巡察。\n1.关于“台账不全”问题的整改\n整改情况:补齐台账。"
    rows = extract_issues(notice_frame(text)).select("number", "title").rows()
    assert rows == [("1", "台账不全")]


def test_a_label_followed_only_by_a_full_stop_is_bare_too():
    """Found by the mutation test above: "1.。" became an issue with an empty title."""
    text = "一、已完成整改的问题\n1.。\n共计15个问题已完成整改。\n1.关于“台账不全”问题的整改\n整改情况:补齐台账。"
    rows = extract_issues(notice_frame(text)).select("number", "title").rows()
    assert rows == [("1", "台账不全")]
