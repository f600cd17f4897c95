"""The compiled figure reader (transforms/figure_reader, Rust) gives the Python reader's rows, frame for frame.

The Python reader (`indicators.read_indicators`) is the reference: every rule is written there and read by the
compiled one from it (patterns, tables, word lists). These checks compare the two on the seeds, on notices of the
bench's generator and on generated text rich in the characters the rules look at. They run where the reader is
compiled (`make` builds it where cargo and Debian's Rust crates are, as in CI) and are skipped elsewhere.
"""

import glob
import os
import shutil

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from bench.generate import notice
from transforms import indicators
from transforms.indicators import INDICATORS_SCHEMA, multipliers, read_indicators, units

compiled = pytest.mark.skipif(
    indicators._compiled_reader_class() is None,
    reason="the figure reader is not compiled here (make figure-reader), or ZHENGGAI_FIGURE_READER=python",
)


def spans_of(texts: list[str], *, by_line: bool = False) -> pl.DataFrame:
    """Spans as `extract_indicators` takes them: each text whole, or each of its lines with its offset."""
    rows = []
    for number, text in enumerate(texts):
        pieces = [(0, text)]
        if by_line:
            offsets = [0]
            for line in text.split("\n")[:-1]:
                offsets.append(offsets[-1] + len(line) + 1)
            pieces = list(zip(offsets, text.split("\n")))
        for ordinal, (offset, piece) in enumerate(pieces):
            rows.append((f"notice-{number}", ordinal, None if ordinal % 3 else ordinal, piece, offset))
    return pl.DataFrame(
        rows,
        schema={"content_sha256": pl.String, "node_ordinal": pl.Int32, "measure_ordinal": pl.Int32, "text": pl.String,
                "char_start": pl.Int64},
        orient="row",
    )


def assert_read_alike(spans: pl.DataFrame) -> pl.DataFrame:
    expected = read_indicators(spans)
    assert_frame_equal(indicators._read_compiled(spans), expected)
    return expected


def test_the_reader_is_compiled_where_cargo_and_the_crates_are():
    """`make` builds it wherever it can, so that CI compares the two readers instead of skipping."""
    if shutil.which("cargo") is None or not glob.glob("/usr/share/cargo/registry/pyo3-0.17*"):
        pytest.skip("no cargo or no Debian Rust crates here")
    if os.environ.get(indicators.FIGURE_READER_ENV, "").strip().lower() == "python":
        pytest.skip("ZHENGGAI_FIGURE_READER=python asks for the Python reader")
    assert indicators.figure_reader() == "compiled"


@compiled
def test_the_seeds_read_alike(seed_texts):
    texts = list(seed_texts.values())
    found = assert_read_alike(spans_of(texts))
    assert found.height > 500 and found.get_column("period").null_count() < found.height
    assert_read_alike(spans_of(texts, by_line=True))


@compiled
def test_generated_notices_read_alike():
    """300 notices of the bench's corpus (the seeds' blocks recombined, figures scaled, years shifted)."""
    found = assert_read_alike(spans_of([notice(index) for index in range(300)], by_line=True))
    assert found.height > 30_000
    assert set(found.get_column("base_unit")) >= {"CNY", "number", "percent", "count"}


@compiled
def test_what_the_compiled_reader_leaves_to_python_reads_alike():
    """Fractions (a quotient Python rounds to 28 digits) and products longer than 28 digits are computed in Python."""
    texts = [
        "完成19/25个,占比2/3;追缴1234567890123456789012345.678901万元,共12345678901234567890123456789012345678901元。",
        "收回0.000000000000000000000000000001亿元和3.14159265358979323846264338327950288亿元。",
    ]
    found = assert_read_alike(spans_of(texts))
    assert found.filter(pl.col("base_unit") == "fraction").height == 2
    assert found.height == 6


@compiled
def test_pythons_end_of_text_before_a_final_line_break_is_kept():
    """Python's `$` also matches before a final line break: a number at the start of a line after a letter is
    rejected as glued (the rule as the Python reader has it); the compiled reader's patterns say the same."""
    texts = ["检测PM\n5个点位,共“3个\n”4个方面", "第十轮、\n十一轮8人", "a.\n3个", "2019-\n2021年"]
    assert_read_alike(spans_of(texts))


@compiled
def test_a_bare_multiple_with_its_prefix_qualifier_reads_alike():
    """The compiled reader searches a bare "N万" without its optional prefix (regex 1.7 scans that 7x faster) and
    then looks back for the longest prefix, which must not overlap the figure before."""
    texts = ["老人约16.72万,大约500万以上,超过3亿,近2万余", "12约3万、3万约5万、签约7万、超约8亿、大约约9万"]
    found = assert_read_alike(spans_of(texts))
    assert {"约16.72万", "大约500万以上", "超过3亿"} <= set(found.get_column("quote"))


@compiled
def test_an_empty_batch_and_spans_without_figures():
    assert_frame_equal(indicators._read_compiled(spans_of(["没有数字。", ""])), pl.DataFrame(schema=INDICATORS_SCHEMA))


_UNITS = sorted(units())
_PIECES = [
    # numbers, Arabic and Chinese, with what surrounds them
    "1", "2", "3", "12", "30", "2021", "2,345", "1 234", "0.5", "83.3", "19/25", "6/30", "/", ".", "-", "~", "—", "至",
    "到", "一", "二", "两", "三", "十", "十三", "百", "千", "〇", "零", "百分之", "第", "、", "余", "多", "以上", "左右",
    "约", "大约", "大", "近", "超过", "过", "超", "逾", "不", "消", "签", "a", "Z", "PM", ":", "@", "#", "_", "%",
    # marks, breaks, periods, change words, metric keywords
    "“", "”", "《", "》", "\"", "'", "「", "」", "\n", ",", ";", "。", "!", "?", "年", "月", "日", "截至", "以来",
    "上半年", "一季度", "今年以来", "全年", "较", "同期", "增长", "下降了", "提升", "同比", "处分", "追缴", "资金",
    "问题", "整改", "规定", "行动", "级", "单", "性", "例", "民", "前", "起",
    *multipliers(), *_UNITS,
]
_texts = st.lists(st.sampled_from(_PIECES), max_size=40).map("".join)


@compiled
@settings(max_examples=300, deadline=None)
@given(st.lists(_texts, min_size=1, max_size=4))
def test_generated_text_reads_alike(texts):
    assert_read_alike(spans_of(texts))


@compiled
def test_the_parse_can_be_told_to_use_the_python_reader(monkeypatch):
    from warehouse.parse_cache import parser_version

    spans = spans_of(["共追缴资金1.5万元。"])
    compiled_version = parser_version()
    monkeypatch.setenv(indicators.FIGURE_READER_ENV, "python")
    parser_version.cache_clear()
    try:
        assert indicators.figure_reader() == "python"
        assert indicators._compiled_reader() is None
        assert parser_version() != compiled_version  # a batch of the parse cache says which reader read it
        assert_frame_equal(indicators.extract_indicators(spans), read_indicators(spans))
    finally:
        parser_version.cache_clear()
