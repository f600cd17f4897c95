"""The period a figure refers to (统计期), as stated in its sentence: "2021年", "1-3月", "2021年1—6月",
"截至6月30日", "2023年1-11月", "今年以来".

`period_before(text, start)` returns the period phrase nearest before offset `start` in the same sentence
(sentences end at 。!? and line breaks), with the dates it stands for when the phrase states its year:

| phrase                    | period_start | period_end  |
|---------------------------|--------------|-------------|
| 2021年                    | 2021-01-01   | 2021-12-31  |
| 2021年1—6月 / 2021年1-6月份 | 2021-01-01   | 2021-06-30  |
| 2021年上半年               | 2021-01-01   | 2021-06-30  |
| 2021年5月20日              | 2021-05-20   | 2021-05-20  |
| 2021年8月13日至10月29日     | 2021-08-13   | 2021-10-29  |
| 截至2021年6月30日 / 截至2021年底 | NULL     | 2021-06-30 / 2021-12-31 (a cumulative figure: the start is not said) |
| 2022年以来                 | 2022-01-01   | NULL        |
| 1-3月, 截至6月30日, 今年以来  | NULL         | NULL (the year is not in the phrase; the raw phrase is kept) |

Dates are never guessed: a phrase without its year keeps only the raw text. A date written right after
较/比/与/同 ("较2022年增加", "比2020年同期") is the base of a comparison, not the period, and is skipped.
"""

from __future__ import annotations

import calendar
import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import date

import polars as pl

from transforms.text import matches_in_column

# One period phrase. Groups: upto (截至), y (year), m1/m2 (month or month range), d (day), and a second
# date after 至 (y2, m3, d2) for day ranges; tail: 以来, 底/末, 上半年…, 上旬…
_PERIOD_PARTS = (
    r"(?P<upto>截至|截止到|截止)?",
    r"(?:(?P<y>(?:19|20)[0-9]{2})年(?:度)?)?",
    r"(?:(?P<m1>1[0-2]|0?[1-9])(?:[-—~–至到](?P<m2>1[0-2]|0?[1-9]))?月(?:份)?"
    r"(?:(?P<d>3[01]|[12][0-9]|0?[1-9])日)?"
    r"(?:[-—~至到](?:(?P<y2>(?:19|20)[0-9]{2})年)?(?:(?P<m3>1[0-2]|0?[1-9])月)?(?P<d2>3[01]|[12][0-9]|0?[1-9])日)?)?",
    r"(?P<tail>以来|上半年|下半年|前三季度|第一季度|一季度|第二季度|二季度|第三季度|三季度|第四季度|四季度|"
    r"上旬|中旬|下旬|底|末|初)?",
)
_PERIOD = re.compile("".join(_PERIOD_PARTS))
# Phrases whose year is implicit: kept raw, no dates.
_RELATIVE = re.compile(
    r"(?:截至|截止)?(?:目前|当前|今年以来|今年|去年|全年|上半年|下半年|前三季度|第?[一二三四]季度|年初以来|年初至今|近年来|"
    r"(?:巡视|巡察)?整改以来|巡视以来|巡察以来)"
)
# A sentence ends at 。!? or a line break. Not at ;: the clauses a ; separates share the time frame stated
# at the head of the sentence ("2021年,…;空气质量优良天数290天").
_SENTENCE_BREAKS = "。!?\n"
_SENTENCE_BREAK = re.compile(f"[{_SENTENCE_BREAKS}]")
# A relative phrase that adds nothing after a phrase that is a year alone ("2021年,…全年完成…").
_WHOLE_YEAR = "全年"
_COMPARISON_BEFORE = ("较", "比", "与", "同", "相比", "对比", "高于", "低于")

# (first month, last month) of each quarter as written
_QUARTERS = {f"{prefix}{name}季度": (3 * n - 2, 3 * n) for n, name in enumerate("一二三四", 1) for prefix in ("第", "")}


@dataclass(frozen=True)
class Period:
    phrase: str
    start: date | None
    end: date | None


def _last_day(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _dates(m: re.Match[str]) -> tuple[date | None, date | None]:
    """The dates a phrase with its year stands for (see the module table); (None, None) without a year."""
    if not m["y"]:
        return None, None
    year = int(m["y"])
    tail = m["tail"] or ""
    upto = bool(m["upto"])
    if m["m1"]:
        m1 = int(m["m1"])
        if m["d"]:
            start = _safe_date(year, m1, int(m["d"]))
            if m["d2"]:
                year2 = int(m["y2"]) if m["y2"] else year
                end = _safe_date(year2, int(m["m3"]) if m["m3"] else m1, int(m["d2"]))
            else:
                end = start
        else:
            m2 = int(m["m2"]) if m["m2"] else m1
            if m2 < m1:
                return None, None
            start, end = date(year, m1, 1), _last_day(year, m2)
            if tail in ("上旬", "中旬") and not m["m2"]:
                end = date(year, m1, 10 if tail == "上旬" else 20)
            if tail == "初" and not m["m2"]:
                end = date(year, m1, 10)
    else:
        start, end = date(year, 1, 1), date(year, 12, 31)
        if tail == "上半年":
            end = date(year, 6, 30)
        elif tail == "下半年":
            start = date(year, 7, 1)
        elif tail == "前三季度":
            end = date(year, 9, 30)
        elif tail in _QUARTERS:
            first_month, last_month = _QUARTERS[tail]
            start, end = date(year, first_month, 1), _last_day(year, last_month)
    if tail == "以来":
        return start, None
    if upto or tail in ("底", "末"):
        return None, end
    return start, end


def period_before(text: str, start: int) -> Period | None:
    """The period phrase nearest before `start` in its sentence, or None when the sentence states none."""
    sentence_start = max((b.end() for b in _SENTENCE_BREAK.finditer(text, 0, start)), default=0)
    best: tuple[int, Period] | None = None
    for m in _PERIOD.finditer(text, sentence_start, start):
        period = _period_of(text, m, sentence_start)
        if period is not None:
            best = (m.end(), period)
    for m in _RELATIVE.finditer(text, sentence_start, start):
        if best is not None and m.start() < best[0]:
            continue  # the tail of a dated phrase (2021年上半年)
        if m.group(0) == _WHOLE_YEAR and best is not None and _YEAR_ONLY.fullmatch(best[1].phrase):
            continue  # "2021年,…全年完成…": the whole of the year already stated
        best = (m.end(), Period(m.group(0), None, None))
    return best[1] if best else None


class PeriodFinder:
    """`period_before(text, start)` for many offsets of one text, the text scanned once.

    `period_before` scans the sentence up to `start` with both period patterns for every figure, which is
    quadratic in the figures of a long sentence. Here the matches of both patterns in the whole text are found
    once (`period_matches`, `relative_matches`: as `scan_periods` finds them for a column of texts): a match never
    spans a sentence break (no pattern matches one of its characters), so those in the sentence of `start` that end
    at or before it are the ones the bounded scan finds (the patterns have no look-around, so a match that ends before `start` does not depend on the text
    after it). When a match straddles `start`, the bounded scan would find a shorter one there: that offset is
    answered by `period_before` itself. The results are those of `period_before`, offset for offset.
    """

    __slots__ = ("text", "_reversed", "_matches", "_starts", "_ends", "_period_by_match", "_relatives", "_relative_starts")

    def __init__(self, text: str, period_matches: list[re.Match[str]], relative_matches: list[re.Match[str]]) -> None:
        self.text = text
        # The sentence around an offset is searched from the offset outwards (the last break before it is the
        # first one in the reversed text after its offset) rather than listing every break of the text.
        self._reversed = text[::-1]
        self._matches = period_matches
        self._starts = [m.start() for m in self._matches]
        self._ends = [m.end() for m in self._matches]
        self._period_by_match: dict[int, Period | None] = {}  # by match index, read when an offset first asks
        self._relatives = [(m.start(), m.end(), m.group(0)) for m in relative_matches]
        self._relative_starts = [start for start, _, _ in self._relatives]

    def before(self, start: int) -> Period | None:
        text = self.text
        found = _SENTENCE_BREAK.search(self._reversed, len(text) - start)  # the last break before `start`
        sentence_start = len(text) - found.start() if found else 0
        starts, ends = self._starts, self._ends
        # Matches are in order and do not overlap: those before `count` end at or before `start`.
        count = bisect_right(ends, start)
        if count < len(starts) and starts[count] < start:
            return period_before(text, start)  # a period match straddles `start`
        best: tuple[int, Period] | None = None
        for at in range(count - 1, -1, -1):
            if starts[at] < sentence_start:
                break  # in an earlier sentence
            period = self._period(at, sentence_start)
            if period is not None:
                best = (ends[at], period)
                break
        relatives = self._relatives
        for index in range(bisect_left(self._relative_starts, sentence_start), len(relatives)):
            rel_start, rel_end, phrase = relatives[index]
            if rel_end > start:
                if rel_start < start:
                    return period_before(text, start)  # a relative phrase straddles `start`
                break
            if best is not None and rel_start < best[0]:
                continue
            if phrase == _WHOLE_YEAR and best is not None and _YEAR_ONLY.fullmatch(best[1].phrase):
                continue
            best = (rel_end, Period(phrase, None, None))
        return best[1] if best else None

    def _period(self, index: int, sentence_start: int) -> Period | None:
        """The period of the match `index`, which lies in the sentence starting at `sentence_start`."""
        if index not in self._period_by_match:
            self._period_by_match[index] = _period_of(self.text, self._matches[index], sentence_start)
        return self._period_by_match[index]


def scan_periods(texts: pl.Series, as_strings: list[str] | None = None) -> list[tuple[list[re.Match[str]], list[re.Match[str]]]]:
    """For each text, the matches of the period and relative patterns that `PeriodFinder` takes, found by the Rust
    engine behind Polars in one pass over all texts (`transforms.text.matches_in_column`) instead of Python's engine
    trying every position of every sentence; `as_strings`: the same texts as Python strings, when the caller has them."""
    periods = matches_in_column(_PERIOD_NON_EMPTY, texts, _PERIOD_RELAXED, as_strings)
    relatives = matches_in_column(_RELATIVE, texts, _RELATIVE.pattern, as_strings)
    return list(zip(periods, relatives))


# Every part of _PERIOD is optional, so it matches (empty) at every position; a match is non-empty exactly
# where one of its parts matches. Asserting that first gives the same non-empty matches, and the scan skips
# the other positions in the regex engine instead of yielding an empty match to Python at each of them.
# The characters a non-empty match can start with (截至, a year or month digit, the first character of a
# tail) are asserted before that: Python's engine skips other positions with one set test instead of trying
# every alternative of the parts there (measured when it scanned sentences: a third of the time). It now tries only
# the stretches the Rust engine found (scan_periods), where the non-empty assertion is what keeps it from matching
# the empty string.
_PERIOD_FIRST_CHARACTERS = "截0-9以上下前第一二三四中底末初"
_UNNAMED_PARTS = [re.sub(r"\(\?P<\w+>", "(?:", part) for part in _PERIOD_PARTS]  # each optional as a whole: "(…)?"
_PERIOD_NON_EMPTY = re.compile(
    f"(?=[{_PERIOD_FIRST_CHARACTERS}])(?="
    + "|".join(part.removesuffix("?") for part in _UNNAMED_PARTS)
    + ")"
    + _PERIOD.pattern
)
# _PERIOD_NON_EMPTY as the Rust engine reads it (it has no look-around): one part required, the parts after it
# optional, the alternatives in the order of the parts (the first part that matches is the one Python's greedy
# reading takes). Its non-empty matches are Python's (tests/test_fast_paths.py). Neither pattern may match a sentence
# break (PeriodFinder reads a sentence's matches from those of the whole text).
_PERIOD_RELAXED = "|".join(
    part.removesuffix("?") + "".join(_UNNAMED_PARTS[index + 1 :]) for index, part in enumerate(_UNNAMED_PARTS)
)
_YEAR_ONLY = re.compile(r"(?:19|20)[0-9]{2}年(?:度)?")


def _period_of(text: str, m: re.Match[str], sentence_start: int) -> Period | None:
    """The period a match of _PERIOD stands for, or None when it is not one."""
    if not (m["y"] or m["m1"]):
        return None
    if not m["y"] and not m["tail"] and not m["upto"] and not m["m2"] and not m["d"]:
        return None  # a bare "6月" could be a duration's tail or a month name: too weak alone
    if m.start() > 0 and text[m.start() - 1 : m.start()].isdigit():
        return None  # inside a longer number
    if m.end() < len(text) and text[m.end() : m.end() + 1].isdigit():
        return None
    if text[max(sentence_start, m.start() - 2) : m.start()].endswith(_COMPARISON_BEFORE):
        return None
    if text.startswith("同期", m.end()):
        return None
    first, last = _dates(m)
    return Period(m.group(0), first, last)


def compiled_reader_config() -> dict[str, object]:
    """The patterns and word lists of this module as the compiled figure reader takes them
    (transforms/figure_reader/src/periods.rs, which follows `PeriodFinder` and `period_before`)."""
    return {
        "period_pattern": _PERIOD.pattern,
        "period_relaxed_pattern": _PERIOD_RELAXED,
        "relative_pattern": _RELATIVE.pattern,
        "year_only_pattern": _YEAR_ONLY.pattern,
        "sentence_breaks": _SENTENCE_BREAKS,
        "whole_year": _WHOLE_YEAR,
        "comparison_before": list(_COMPARISON_BEFORE),
        "quarters": _QUARTERS,
    }
