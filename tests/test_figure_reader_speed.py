"""The shortcuts that made the figure reader (transforms.indicators) faster give what the full rules give.

Each shortcut is checked against the rule it skips, on generated text rich in the characters that matter.
The whole reader was also compared, frame for frame, before and after these changes on 1,000 bench notices
and the seeds (see the commit messages); these tests keep the shortcuts honest from now on.
"""

from datetime import date

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms import indicators
from transforms.indicators import INDICATORS_SCHEMA, _Regions, _rejected_before, extract_indicators, name_regions


def reference_rejected_before(text: str, number_start: int, regions: _Regions) -> bool:
    """_rejected_before without the shortcut on the character before the number."""
    if indicators._inside(regions, number_start):
        return True
    before_number = text[max(0, number_start - 12) : number_start]
    if indicators._GLUED_BEFORE.search(before_number) or indicators._RANGE_BEFORE.search(before_number):
        return True
    return before_number.endswith("第") or bool(indicators._ORDINAL_LIST_BEFORE.search(before_number))


_BEFORE_PIECES = [
    "第", "十", "轮", "18", "、", "-", "~", "—", "–", "至", "到", " ", "\n", "PM", "2.5", "5G", "19:", ":", "@",
    "_", "#", "/", ".", "a", "Z", "字", "共", "“", "”", "《", "》", "两", "三", "万",
]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_BEFORE_PIECES), max_size=12).map("".join))
def test_rejected_before_with_its_shortcut_is_the_full_rule(before):
    text = before + "3个"
    regions = _Regions(name_regions(text))
    for number_start in range(len(before) + 1):
        assert _rejected_before(text, number_start, regions) == reference_rejected_before(text, number_start, regions)


def test_shortcut_characters_cover_every_rejection_pattern():
    # Every rejection pattern ends with a character of the shortcut set (or a final line break, which `$`
    # also allows): a number after any character outside it is not rejected, whatever comes before.
    for before in ("PM", "19:", "3-", "三至", "第18、", "第", "2.", "a@", "x_", "#", "3 -", "第十轮、\n"):
        assert before[-1] in indicators._MAY_REJECT_AFTER
        assert reference_rejected_before(before + "5个", len(before), _Regions([]))
    for before in ("共", "约", "整改", "“", "》", " ", ",", "(", "%"):
        assert before[-1] not in indicators._MAY_REJECT_AFTER
        assert not reference_rejected_before(before + "5个", len(before), _Regions([]))


def _spans(*texts: str) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "content_sha256": ["x"] * len(texts),
            "node_ordinal": pl.Series([None] * len(texts), dtype=pl.Int32),
            "measure_ordinal": pl.Series([None] * len(texts), dtype=pl.Int32),
            "text": list(texts),
            "char_start": pl.Series(range(len(texts)), dtype=pl.Int64),
        }
    )


def test_years_are_rejected_and_durations_kept():
    # 1900余年 stays a year, as it was before years were rejected first: the rule looks at the digits only.
    found = extract_indicators(_spans("2021年以来,用时3年,1900余年,2021年度,2020-2023年,十三年,2030万年"))
    assert found["quote"].to_list() == ["3年", "十三年", "2030万年"]
    assert found["unit"].to_list() == ["年", "年", "万年"]
    assert found["period"].to_list() == ["2021年以来", "2023年", "2023年"]
    assert found["period_start"].to_list() == [date(2021, 1, 1), date(2023, 1, 1), date(2023, 1, 1)]


def test_spans_without_figures_give_an_empty_frame_with_the_schema():
    found = extract_indicators(_spans("没有数字的文字", "第二巡察组", "2021年"))
    assert found.is_empty()
    assert found.schema == pl.Schema(INDICATORS_SCHEMA)


def test_rows_keep_their_types_when_the_first_has_nulls():
    # Rows are read by Polars as rows with the schema: a NULL in the first row must not decide a column's type.
    found = extract_indicators(_spans("整改3个问题", "2021年上半年同比增长8.8%,约1.5万人"))
    assert found.schema == pl.Schema(INDICATORS_SCHEMA)
    assert found.select("quote", "period", "direction", "qualifier").rows() == [
        ("3个", None, None, None),
        ("8.8%", "2021年上半年", "increase", None),
        ("约1.5万人", "2021年上半年", None, "approx"),
    ]
