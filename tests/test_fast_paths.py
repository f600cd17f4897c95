"""The fast paths of the parse give exactly what the plain definitions give.

Issue 6 made the parse faster by computing per span what every candidate needs (periods of a sentence,
clause breaks, name regions) and by indexing the metric keywords. Each fast path is checked here against
the straightforward definition it replaces, on the seeds and on generated text rich in the characters
that matter.
"""

from bisect import bisect_left

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms import indicators, periods
from transforms.indicators import (
    _PAIRED_MARKS,
    _SYMMETRIC_MARKS,
    _inside,
    _Regions,
    classify_metric_rule,
    direction_before,
    metric_rules,
    name_regions,
)
from transforms.periods import PeriodFinder, period_before, scan_periods


# ------------------------------------------------------------------------------------------ reference definitions


def reference_classify_metric_rule(before: str, after: str, dimension: str):
    best = None
    for order, rule in enumerate(metric_rules()):
        if not rule.keyword or (rule.dimension and rule.dimension != dimension):
            continue
        distances = []
        at = before.rfind(rule.keyword)
        if at >= 0:
            distances.append(len(before) - at - len(rule.keyword))
        at = after.find(rule.keyword)
        if at >= 0:
            distances.append(at)
        rank = (-rule.priority, min(distances) if distances else 0, -len(rule.keyword), order)
        if distances and (best is None or rank < best[0]):
            best = (rank, rule)
    if best is not None:
        return best[1].metric, best[1]
    for rule in metric_rules():
        if not rule.keyword and rule.dimension == dimension:
            return rule.metric, rule
    return "other", None


def reference_name_regions(text: str) -> list[tuple[int, int]]:
    regions, stack = [], []
    closers = {close: open_ for open_, close in _PAIRED_MARKS.items()}
    for pos, ch in enumerate(text):
        if ch == "\n":
            stack.clear()
        elif ch in _PAIRED_MARKS:
            stack.append((ch, pos))
        elif ch in closers or ch in _SYMMETRIC_MARKS:
            opener = closers.get(ch, ch)
            depth = next((i for i in range(len(stack) - 1, -1, -1) if stack[i][0] == opener), None)
            if depth is not None:
                regions.append((stack[depth][1], pos + 1))
                del stack[depth:]
            elif ch in _SYMMETRIC_MARKS:
                stack.append((ch, pos))
    return regions


def reference_direction_before(before: str, dimension: str):
    before = before.removesuffix("了")
    for word in sorted(indicators._DIRECTION_WORDS, key=len, reverse=True):
        if word in indicators._RATE_ONLY_DIRECTION_WORDS and dimension not in indicators._RATE_DIMENSIONS:
            continue
        if before.endswith(word):
            return indicators._DIRECTION_WORDS[word]
    return None


# ------------------------------------------------------------------------------------------ generated text

_KEYWORDS = sorted({rule.keyword for rule in metric_rules() if rule.keyword})
_DIMENSIONS = sorted({rule.dimension for rule in metric_rules() if rule.dimension}) + ["count", "time", "none"]
_PIECES = _KEYWORDS + [k[:1] for k in _KEYWORDS] + [k[1:] for k in _KEYWORDS if len(k) > 1] + ["的", "了", "和"]
_clauses = st.lists(st.sampled_from(_PIECES), max_size=8).map("".join)

_PERIOD_PIECES = [
    "2021年", "2021年度", "20", "21", "年", "1", "6", "12", "-", "—", "至", "月", "月份", "日", "30", "31",
    "截至", "截止", "截止到", "以来", "上半年", "下半年", "前三季度", "第一季度", "三季度", "上旬", "底", "末", "初",
    "今年以来", "全年", "目前", "巡视整改以来", "较", "比", "同期", "增长", "5%", "个", "。", "!", "\n", ",", ";",
    # where the two engines could read a class differently: every separator, 0, a 19xx year, the other tails
    "~", "–", "到", "0", "1998年", "中旬", "下旬", "二季度", "第四季度", "去年", "当前", "?",
]
_period_texts = st.lists(st.sampled_from(_PERIOD_PIECES), max_size=25).map("".join)
_mark_texts = st.lists(
    st.sampled_from(list(_PAIRED_MARKS) + list(_PAIRED_MARKS.values()) + list(_SYMMETRIC_MARKS) + ["\n", "a", "字", "3"]),
    max_size=30,
).map("".join)


# ------------------------------------------------------------------------------------------ the checks


@settings(max_examples=400, deadline=None)
@given(_clauses, _clauses, st.sampled_from(_DIMENSIONS))
def test_classify_metric_rule_is_the_reference(before, after, dimension):
    assert classify_metric_rule(before, after, dimension) == reference_classify_metric_rule(before, after, dimension)


@settings(max_examples=400, deadline=None)
@given(_period_texts)
def test_period_finder_is_period_before_on_generated_text(text):
    (finder,) = _finders_of_scanned([text])
    for start in range(len(text) + 1):
        assert finder.before(start) == period_before(text, start), start


def _finders_of_scanned(texts: list[str]) -> list[PeriodFinder]:
    """PeriodFinders fed the matches that Polars' engine found in all texts at once, as extract_indicators does."""
    scanned = scan_periods(pl.Series(texts, dtype=pl.String), texts)
    return [PeriodFinder(text, periods, relatives) for text, (periods, relatives) in zip(texts, scanned)]


@settings(max_examples=150, deadline=None)
@given(st.lists(_period_texts, min_size=1, max_size=4))
def test_period_finder_of_scanned_matches_is_period_before_on_generated_text(texts):
    for text, finder in zip(texts, _finders_of_scanned(texts)):
        for start in range(len(text) + 1):
            assert finder.before(start) == period_before(text, start), (text, start)


def test_period_finder_of_scanned_matches_is_period_before_on_the_seeds(seed_texts):
    texts = list(seed_texts.values())
    for text, finder in zip(texts, _finders_of_scanned(texts)):
        for start in range(0, len(text) + 1, 3):
            assert finder.before(start) == period_before(text, start), start


def test_scan_periods_finds_what_pythons_engine_finds_on_the_seeds(seed_texts):
    """The Rust engine's reading of the period patterns (_PERIOD_RELAXED: no look-around) loses no match."""
    texts = list(seed_texts.values())
    for text, (found, relatives) in zip(texts, scan_periods(pl.Series(texts, dtype=pl.String), texts)):
        spans = [(m.start(), m.end()) for m in found]
        assert spans == [(m.start(), m.end()) for m in periods._PERIOD_NON_EMPTY.finditer(text)]
        assert [m.span() for m in relatives] == [m.span() for m in periods._RELATIVE.finditer(text)]
        assert spans, "the seeds state periods"


def test_period_finder_when_a_period_straddles_the_offset():
    text = "2021年5月20日增长5%,截至2021年6月30日共30件"
    (finder,) = _finders_of_scanned([text])
    for start in range(len(text) + 1):
        assert finder.before(start) == period_before(text, start), start


@settings(max_examples=400, deadline=None)
@given(_mark_texts)
def test_name_regions_and_inside_are_the_reference(text):
    regions = name_regions(text)
    assert regions == reference_name_regions(text)
    fast = _Regions(regions)
    for pos in range(len(text) + 1):
        assert _inside(fast, pos) == any(start < pos < end for start, end in regions)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(list(indicators._DIRECTION_WORDS) + ["了", "同比", "较", "3", "长", "少"]), max_size=5).map("".join),
       st.sampled_from(["percent", "percentage_point", "count", "money"]))
def test_direction_before_is_the_reference(before, dimension):
    assert direction_before(before, dimension) == reference_direction_before(before, dimension)


def test_regions_bisect_helper_counts_regions_starting_before():
    fast = _Regions([(5, 9), (0, 20), (12, 14)])
    assert fast.starts == [0, 5, 12]
    assert bisect_left(fast.starts, 5) == 1
    assert _inside(fast, 19) and not _inside(fast, 20) and not _inside(fast, 0)


_spaced = st.lists(st.sampled_from([" ", "\u3000", "\u2009", "\u00a0", "\ufeff", "a", "字", "\n", "1", "“", "》"]), max_size=16).map("".join)


@settings(max_examples=500, deadline=None)
@given(_spaced)
def test_spaces_next_to_cjk_dropped_run_by_run_as_the_regex_does(text):
    from transforms.text import _SPACE_NEXT_TO_CJK, _drop_spaces_next_to_cjk

    assert _drop_spaces_next_to_cjk(text) == _SPACE_NEXT_TO_CJK.sub("", text)


def test_metadata_and_claims_given_the_converted_texts_equal_converting_themselves(seed_texts):
    from polars.testing import assert_frame_equal

    from tests.conftest import notice_frame
    from transforms.claims import extract_claims
    from transforms.metadata import extract_metadata
    from transforms.structure import extract_issues, extract_measures
    from transforms.text import simplified_for_matching

    traditional = "一、關於巡視反饋問題的整改情況\n(一)關於“落實不到位”問題\n整改情況:已完成整改。共計15個問題已完成整改。"
    notices = notice_frame(*seed_texts.values(), traditional)
    matching = [simplified_for_matching(text) for text in notices["text"]]
    issues = extract_issues(notices)
    measures = extract_measures(issues)
    assert_frame_equal(extract_metadata(notices, matching), extract_metadata(notices))
    assert_frame_equal(extract_claims(notices, issues, measures, matching), extract_claims(notices, issues, measures))
