"""Stated completion rates (transforms.claim_rates) checked against the claimed counts with rounding tolerance."""

import pytest

from tests.conftest import notice_frame
from transforms.claim_rates import extract_rates
from transforms.claims import extract_claims
from transforms.structure import extract_issues


def rates(text: str):
    frame = notice_frame(text)
    return extract_rates(frame, extract_claims(frame, extract_issues(frame))).drop("content_sha256").rows(named=True)


def test_summary_notice_rate_agrees_with_its_counts():
    text = "巡察反馈的697个问题,完成整改688个,基本完成整改4个,未完成5个,总体完成率98.71%。"
    (rate,) = rates(text)
    assert rate["quote"] == "总体完成率98.71%" and text[rate["char_start"]:rate["char_end"]] == rate["quote"]
    assert (rate["stated_percent"], rate["total_count"], rate["completed_count"], rate["agrees"]) == (98.71, 697, 688, True)
    assert rate["computed_percent"] == pytest.approx(98.7088, abs=1e-4)


@pytest.mark.parametrize(
    ("stated", "agrees"),
    [("98.7", True), ("98.71", True), ("98.70", True), ("99", True), ("98.72", False), ("98.6", False), ("97", False)],
)
def test_tolerance_is_one_unit_of_the_last_stated_decimal(stated, agrees):
    (rate,) = rates(f"反馈的697个问题,已完成整改688个,整改完成率为{stated}%。")
    assert rate["agrees"] is agrees


def test_rate_without_counts_is_kept_unchecked_and_task_rates_are_not_claims():
    (rate,) = rates("上轮巡视指出的问题,整改完成率71.43%。新增科创载体32万平方米,完成率213.3%;信访办结率100%。")
    assert (rate["stated_percent"], rate["computed_percent"], rate["agrees"]) == (71.43, None, None)


def test_counts_on_an_earlier_line_are_not_used():
    (rate,) = rates("反馈的10个问题,已完成整改8个。\n另,整改完成率80%。")
    assert rate["total_count"] is None and rate["agrees"] is None
