"""transforms.claims: each rule on a small text, then the exact claims of the five seed notices.

Issue frames are built by hand here (transforms.structure is not used): nodes are located with a simple
heading regex per seed only to give them realistic offsets, and their statuses are written out.
"""

import hashlib
import re

import polars as pl
import pytest

from transforms.claims import CLAIMS_SCHEMA, extract_claims, find_claims
from transforms.text import normalize_text

ISSUE_SCHEMA = {
    "content_sha256": pl.String,
    "node_ordinal": pl.Int32,
    "parent_ordinal": pl.Int32,
    "level": pl.String,
    "status": pl.String,
    "char_start": pl.Int64,
    "char_end": pl.Int64,
}
MEASURE_SCHEMA = {"content_sha256": pl.String, "node_ordinal": pl.Int32, "measure_ordinal": pl.Int32}


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def notices(*texts: str) -> pl.DataFrame:
    return pl.DataFrame({"content_sha256": [sha(t) for t in texts], "text": list(texts)})


def nodes(text: str, levels: list[str], statuses: list[str | None] | None = None, offsets: bool = False) -> pl.DataFrame:
    """An issues frame: one node per level in `levels` (document order), parents from the level above."""
    statuses = statuses or [None] * len(levels)
    rows, last = [], {}
    for ordinal, (level, status) in enumerate(zip(levels, statuses)):
        parent = {"category": None, "issue": last.get("category"), "sub_issue": last.get("issue")}[level]
        last[level] = ordinal
        rows.append((sha(text), ordinal, parent, level, status, None, None))
    frame = pl.DataFrame(rows, schema=ISSUE_SCHEMA, orient="row")
    return frame if offsets else frame.drop("char_start", "char_end")


def seed_nodes(text: str, headings: list[tuple[str, str]], statuses: dict[str, list[str | None]] | None = None) -> pl.DataFrame:
    """Nodes at the lines matching `headings` [(level, regex)], each spanning to the next node (or the end)."""
    found = sorted(
        (m.start(), level) for level, pattern in headings for m in re.finditer(pattern, text, flags=re.M)
    )
    statuses = statuses or {}
    seen: dict[str, int] = {}
    rows, last = [], {}
    for ordinal, (start, level) in enumerate(found):
        index = seen.get(level, 0)
        seen[level] = index + 1
        status = statuses[level][index] if level in statuses else None
        parent = {"category": None, "issue": last.get("category"), "sub_issue": last.get("issue")}[level]
        last[level] = ordinal
        end = found[ordinal + 1][0] if ordinal + 1 < len(found) else len(text)
        rows.append((sha(text), ordinal, parent, level, status, start, end))
    return pl.DataFrame(rows, schema=ISSUE_SCHEMA, orient="row")


def measures_frame(text: str, count: int) -> pl.DataFrame:
    return pl.DataFrame([(sha(text), 0, i + 1) for i in range(count)], schema=MEASURE_SCHEMA, orient="row")


def rows(frame: pl.DataFrame) -> list[tuple]:
    return list(frame.select("subject", "status", "claimed_count", "parsed_count", "quote").iter_rows())


def claims(text: str, issues: pl.DataFrame | None = None, measures: pl.DataFrame | None = None) -> pl.DataFrame:
    text = normalize_text(text)
    issues = issues if issues is not None else nodes(text, [])
    out = extract_claims(notices(text), issues, measures)
    for start, end, quote in out.select("char_start", "char_end", "quote").iter_rows():
        assert text[start:end] == quote
    return out


# ------------------------------------------------------------------------------------------------ rules


def test_count_followed_by_status():
    text = "截至目前,共计15个问题已完成整改。"
    out = claims(text, nodes(text, ["issue"] * 16, ["completed"] * 14 + ["completed_long_term", "in_progress"]))
    assert rows(out) == [("issues", "completed", 15, 15, "共计15个问题已完成整改")]
    assert out.row(0, named=True)["char_start"] == 5


def test_total_then_status_chain_with_chinese_numerals():
    text = "目前,细化分解的四方面14个问题,已完成整改11个,1个暂不具备整改条件,正在推进两个,正按整改方案的要求推进。"
    levels = (["category"] + ["issue"] * 4) + (["category"] + ["issue"] * 3) * 2 + ["category"] + ["issue"] * 4
    statuses = [None if lv == "category" else "completed_long_term" for lv in levels]
    statuses[-1] = statuses[-2] = statuses[-3] = "in_progress"
    out = claims(text, nodes(text, levels, statuses))
    assert rows(out) == [
        ("categories", None, 4, 4, "四方面"),
        ("issues", None, 14, 14, "14个问题"),
        ("issues", "completed", 11, 11, "已完成整改11个"),  # completed_long_term counts as completed
        ("issues", "not_feasible", 1, 0, "1个暂不具备整改条件"),
        ("issues", "in_progress", 2, 3, "正在推进两个"),
    ]


def test_finest_level_counts_and_the_level_above_groups():
    text = "截至6月30日,巡视反馈的3类5个具体问题,已完成整改4个,长期整改1个。"
    levels = ["category", "issue", "sub_issue", "sub_issue", "issue", "sub_issue", "issue", "sub_issue", "sub_issue"]
    statuses = [None, None, "completed", "completed", None, "long_term", None, "completed", "in_progress"]
    out = claims(text, nodes(text, levels, statuses))
    assert rows(out) == [
        ("categories", None, 3, 3, "3类"),  # 3 issue nodes group the 5 sub_issues
        ("issues", None, 5, 5, "5个具体问题"),
        ("issues", "completed", 4, 3, "已完成整改4个"),
        ("issues", "long_term", 1, 1, "长期整改1个"),
    ]


def test_parsed_is_null_when_the_hierarchy_cannot_say():
    text = "围绕巡视反馈的7个方面25项问题,逐一对照研究,将反馈问题细化成75个具体问题。截至目前,10项问题完成整改。"
    out = claims(text, nodes(text, ["issue"] * 25))
    assert rows(out) == [
        ("categories", None, 7, None, "7个方面"),  # no category nodes
        ("issues", None, 25, 25, "25项问题"),
        ("refined_issues", None, 75, None, "75个具体问题"),  # no sub_issue nodes
        ("issues", "completed", 10, None, "10项问题完成整改"),  # no node has a status
    ]
    assert rows(claims(text)) == [
        ("categories", None, 7, None, "7个方面"),
        ("issues", None, 25, None, "25项问题"),
        ("refined_issues", None, 75, None, "75个具体问题"),
        ("issues", "completed", 10, None, "10项问题完成整改"),
    ]


def test_measures_forward_and_backward_with_and_without_measure_rows():
    text = "确定了153条有针对性的整改措施,每条整改措施明确牵头领导。制定整改措施48条,已完成整改措施40条。"
    out = claims(text, nodes(text, ["issue"]), measures_frame(normalize_text(text), 143))
    assert rows(out) == [
        ("measures", None, 153, 143, "153条有针对性的整改措施"),
        ("measures", None, 48, 143, "整改措施48条"),
        ("measures", "completed", 40, None, "已完成整改措施40条"),  # measures carry no status
    ]
    assert [r[3] for r in rows(claims(text))] == [None, None, None]


def test_transferred_problems_and_petitions_all_done():
    text = "巡视移交的13个立行立改问题,已完成整改11个,基本完成整改2个;巡视移交的561件信访件,已全部办结。"
    assert rows(claims(text, nodes(text, ["issue"] * 3, ["completed"] * 3))) == [
        ("transferred_issues", None, 13, None, "13个立行立改问题"),
        ("transferred_issues", "completed", 11, None, "已完成整改11个"),
        ("transferred_issues", "basically_completed", 2, None, "基本完成整改2个"),
        ("petitions", None, 561, None, "561件信访件"),
        ("petitions", "completed", 561, None, "已全部办结"),
    ]


def test_counts_that_are_not_rectification_claims():
    text = (
        "巡察反馈后,镇党委共召开4次党委会议、1次专题民主生活会,共建立健全完善12项规章制度。"
        "开展检查13批次,发现问题12个,提出整改建议25条。34个社区共排查问题48个,已整改30个。"
        "带头领办4个重点整改任务。努力实现整改一个问题、教育一批干部。一方面,成立了领导小组。"
    )
    assert rows(claims(text)) == []


def test_a_count_inside_an_issue_is_a_figure_not_a_claim():
    text = normalize_text(
        "一、组织情况\n截至目前,10项问题完成整改。\n二、整改进展\n1.关于“审计整改滞后”问题的整改。\n"
        "整改情况:截至1月,39个问题已整改销号26个。\n三、下一步\n共计2个问题正在整改。"
    )
    issue_at = text.index("1.关于")
    issues = pl.DataFrame(
        [(sha(text), 0, None, "issue", None, issue_at, len(text))], schema=ISSUE_SCHEMA, orient="row"
    )
    # The last claim lies in the issue's span, but a top-level heading (三、) starts in between.
    assert rows(claims(text, issues)) == [
        ("issues", "completed", 10, None, "10项问题完成整改"),
        ("issues", "in_progress", 2, None, "共计2个问题正在整改"),
    ]
    # Without offsets the figure cannot be told from a claim.
    assert ("issues", None, 39, None, "39个问题") in rows(claims(text))


def test_several_notices_and_empty_inputs():
    a, b = "共计3个问题已完成整改。", "细化制定159项整改措施。"
    issues = pl.concat([nodes(a, ["issue"] * 3, ["completed"] * 3), nodes(b, ["issue"] * 2)])
    out = extract_claims(notices(a, b), issues, measures_frame(b, 150))
    assert out.schema == pl.Schema(CLAIMS_SCHEMA)
    assert list(out.select("content_sha256", "subject", "claimed_count", "parsed_count").iter_rows()) == [
        (sha(a), "issues", 3, 3),
        (sha(b), "measures", 159, 150),
    ]
    empty = extract_claims(notices("无统计数字。"), nodes("无统计数字。", []))
    assert empty.height == 0 and empty.schema == pl.Schema(CLAIMS_SCHEMA)


def test_find_claims_offsets():
    text = "巡视反馈问题25个,已完成整改20个,正在整改5个。"
    found = find_claims(text)
    assert [(c.subject, c.status, c.claimed_count, c.quote) for c in found] == [
        ("issues", None, 25, "问题25个"),
        ("issues", "completed", 20, "已完成整改20个"),
        ("issues", "in_progress", 5, "正在整改5个"),
    ]
    assert all(text[c.char_start : c.char_end] == c.quote for c in found)


# ------------------------------------------------------------------------------------------------ the five seeds

ISSUE_HEADING = r"^\d+\.\s?(?:关于|对)"
SEED_HIERARCHY = {
    # 25 issues in two status groups (un-numbered as nodes here): 15 completed, then 10 in progress.
    "000": ([("issue", ISSUE_HEADING)], {"issue": ["completed"] * 15 + ["in_progress"] * 10}, None),
    # 25 issues, no stated status; measures (1)…(143).
    "001": ([("issue", r"^\d+\.\s?\S")], None, 143),
    # 4 categories "(一)…方面", 14 issues; status lines: 11 已完成整改并长期坚持, 3 取得阶段性成效 (issues 3, 7, 14).
    "002": (
        [("category", r"^\([一二三四]\).*方面$"), ("issue", ISSUE_HEADING)],
        {"issue": [s if i not in (2, 6, 13) else "in_progress" for i, s in enumerate(["completed_long_term"] * 14)]},
        None,
    ),
    # 34 issues, no stated status; measures not given.
    "003": ([("issue", ISSUE_HEADING)], None, None),
    # 4 categories "(一)反馈问题:", 16 issues, 48 sub_issues "(1)…(48)".
    "004": ([("category", r"^\([一二三四]\)反馈问题"), ("issue", r"^\d+\."), ("sub_issue", r"^\(\d+\)")], None, None),
}

SEED_CLAIMS = {
    "000": [
        ("issues", "completed", 15, 15, "共计15个问题已完成整改"),
        ("issues", "in_progress", 10, 10, "共计10个问题正在整改过程中"),
    ],
    "001": [
        ("categories", None, 7, None, "7个方面"),
        ("issues", None, 25, 25, "25项问题"),
        ("refined_issues", None, 75, None, "75个具体问题"),
        ("measures", None, 153, 143, "153条有针对性的整改措施"),
    ],
    "002": [
        ("categories", None, 4, 4, "四方面"),
        ("issues", None, 14, 14, "14个问题"),
        ("issues", "completed", 11, 11, "已完成整改11个"),
        ("issues", "not_feasible", 1, 0, "1个暂不具备整改条件"),
        ("issues", "in_progress", 2, 3, "正在推进2个"),
    ],
    "003": [
        ("measures", None, 159, None, "159项整改措施"),
        ("issues", "completed", 10, None, "10项问题完成整改"),
    ],
    "004": [
        ("categories", None, 16, 16, "16类"),
        ("issues", None, 48, 48, "48个具体问题"),
        ("issues", "completed", 35, None, "已完成整改35个"),
        ("issues", "basically_completed", 10, None, "基本完成整改10个"),
        ("issues", "long_term", 3, None, "长期整改3个"),
        ("transferred_issues", None, 13, None, "13个立行立改问题"),
        ("transferred_issues", "completed", 11, None, "已完成整改11个"),
        ("transferred_issues", "basically_completed", 2, None, "基本完成整改2个"),
        ("petitions", None, 561, None, "561件信访件"),
        ("petitions", "completed", 561, None, "已全部办结"),
    ],
}


@pytest.mark.parametrize("prefix", sorted(SEED_CLAIMS))
def test_seed_claims(seed_texts, prefix):
    text = seed_texts[prefix]
    headings, statuses, measure_count = SEED_HIERARCHY[prefix]
    issues = seed_nodes(text, headings, statuses)
    expected_nodes = {"000": 25, "001": 25, "002": 18, "003": 34, "004": 68}[prefix]
    assert issues.height == expected_nodes
    measures = measures_frame(text, measure_count) if measure_count else None
    out = extract_claims(notices(text), issues, measures)
    assert out.schema == pl.Schema(CLAIMS_SCHEMA)
    assert rows(out) == SEED_CLAIMS[prefix]
    for start, end, quote in out.select("char_start", "char_end", "quote").iter_rows():
        assert text[start:end] == quote
    assert out["char_start"].is_sorted()


def test_traditional_characters_keep_their_quotes():
    text = "截至目前,共計15個問題已完成整改。"
    assert rows(claims(text)) == [("issues", "completed", 15, None, "共計15個問題已完成整改")]
