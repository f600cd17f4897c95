"""parse_report (transforms.parse_report): what was understood of each notice and the confidence rule."""

import polars as pl
import pytest

from tests.conftest import notice_frame
from tests.conftest import query
from tests.test_refresh import per_seed
from transforms.parse_report import label_kind, parse_report
from transforms.pipeline import parse_notices

OPENING = "根据区委统一部署,2021年8月13日至10月29日,区委第二巡察组对某镇党委开展了巡察。11月29日,巡察组向某镇党委反馈了巡察意见。"


def report_of(*texts: str) -> pl.DataFrame:
    frame = notice_frame(*texts).with_columns(pl.col("text").alias("raw_text"))
    parsed = parse_notices(frame)
    assert parsed.failures.is_empty()
    return parse_report(parsed.notices, parsed.metadata, parsed.issues, parsed.measures, parsed.claims, parsed.indicators)


@pytest.mark.parametrize(
    ("label", "kind"),
    [("一", "cn_comma"), ("(一)", "cn_paren"), ("12", "arabic"), ("(3)", "arabic_paren"), ("②", "circled"),
     ("第三", "cn_ordinal"), ("二是", "inline"), ("A", "other"), (None, None)],
)
def test_label_kind(label, kind):
    assert label_kind(label) == kind


def test_notice_without_understood_structure_loads_with_low_confidence():
    # A summary-only notice: claims and figures, no numbered problems.
    text = OPENING + "\n巡察反馈的697个问题,完成整改688个,基本完成整改4个,未完成5个。共清退资金12万元。\n中共某镇委员会\n2022年4月11日"
    (row,) = report_of(text).iter_rows(named=True)
    assert row["confidence"] == "low" and "not understood" in row["confidence_reason"]
    assert row["numbering"] is None and row["issue_count"] == 0 and row["problem_level"] is None
    assert row["claim_count"] >= 2 and row["issue_total_claimed"] == 697 and row["issue_total_reconciled"] is False
    assert "hierarchy" in row["missing"] and {"claims", "publisher", "feedback_date"} <= set(row["found"])


ISSUES = "\n".join(
    f"{n}.关于“问题{n}”的整改\n整改状态:已完成整改\n整改情况:一是建立制度。二是开展检查。" for n in range(1, 4)
)


def test_claimed_total_that_matches_gives_high_confidence():
    (row,) = report_of(OPENING + "\n反馈的3个问题已全部完成整改。\n" + ISSUES).iter_rows(named=True)
    assert (row["numbering"], row["measure_numbering"]) == ("issue:arabic", "inline")
    assert (row["issue_count"], row["measure_count"], row["problems_with_status"], row["status_sources"]) == (3, 6, 3, "status_line")
    assert (row["issue_total_claimed"], row["issue_total_reconciled"], row["confidence"]) == (3, True, "high")


def test_truncated_notice_with_most_claimed_problems_missing_is_low():
    (row,) = report_of(OPENING + "\n反馈的10个问题,已完成整改8个。\n" + ISSUES).iter_rows(named=True)
    assert row["issue_count"] == 3 and row["issue_total_claimed"] == 10
    assert row["confidence"] == "low" and row["confidence_reason"] == "3 problem nodes found of 10 claimed"


def test_uncorroborated_nodes_are_medium():
    text = OPENING + "\n" + ISSUES.replace("整改状态:已完成整改\n", "")
    (row,) = report_of(text).iter_rows(named=True)
    assert row["issue_count"] == 3 and row["problems_with_status"] == 0 and row["issue_total_claimed"] is None
    assert row["confidence"] == "medium" and "statuses" in row["missing"]


def test_published_seeds_each_have_a_report(published):
    rows = per_seed(published, """SELECT n.source_name, r.* FROM parse_report r JOIN dim_notice n USING (notice_key)""")
    assert set(rows) == {"000", "001", "002", "003", "004"}
    assert rows["004"]["numbering"] == "category:cn_paren > issue:arabic > sub_issue:arabic_paren"
    assert (rows["004"]["sub_issue_count"], rows["004"]["issue_total_claimed"], rows["004"]["confidence"]) == (48, 48, "high")
    assert rows["001"]["measure_numbering"] == "arabic_paren" and rows["001"]["confidence"] == "high"
    assert rows["000"]["status_sources"] == "section_heading" and rows["002"]["status_sources"] == "status_line"
    assert {row["confidence"] for row in rows.values()} <= {"high", "medium"}
    counts = query(published, "SELECT notice_key, count(*) FILTER (WHERE level = 'issue') AS n FROM fact_issue GROUP BY ALL")
    by_key = dict(counts.iter_rows())
    assert all(by_key[row["notice_key"]] == row["issue_count"] for row in rows.values())
