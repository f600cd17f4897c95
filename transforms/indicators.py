"""Quantitative indicators (量化指标): every figure with a unit in a span of notice text.

`extract_indicators(spans)` takes any text spans (`content_sha256, node_ordinal, measure_ordinal, text,
char_start`) and returns one row per figure: `content_sha256, node_ordinal, measure_ordinal, value, unit,
value_base, base_unit, qualifier, direction, metric, quote, char_start, char_end, value_low, value_high,
dimension, metric_rule, period, period_start, period_end`, where `char_start` and `char_end` are offsets in
the *notice* text (span offset + offset in the span), so `notice_text[char_start:char_end] == quote`. The
function is pure: no I/O beyond reading the reference tables next to this module.

Reference tables (edit these, not the code):
- `units.csv` — `unit, base_unit, factor, dimension, numerals`. Factors are exact decimal strings.
  `numerals = arabic` marks a measure word that also makes words after a Chinese numeral (三期 a phase,
  三管三必须 a slogan, 两管齐下 an idiom): it is a unit only after Arabic digits (第18期 aside). Rows whose
  dimension is `multiplier` (万, 亿, 千, 百万, 千万, 万亿) are number multipliers written between a figure
  and its unit ("1.5万人", "3.2亿元", "2000余万元"); rows of dimension `fraction` and `number` describe
  figures with no written unit (below); every other row is a unit. A figure "N<multiplier><unit>" has the
  unit "<multiplier><unit>" (万元, 万人次): its factor is the table's when that composite has a row (万元,
  亿元, 万平方米, 千米…), else multiplier × unit factor. `value_base = value × factor` in exact decimals
  (16.4亿元 → 1640000000, never 1639999999.99).
- `metrics.csv` — `metric, keyword, dimension, priority`: keyword rules saying what a figure measures (see
  `classify_metric_rule`); `metric_catalogue.csv` names and describes each metric (`dim_metric`).

How a figure is found: four candidate patterns, each scanned vectorised in Polars (`str.extract_all` then
`str.extract_groups`), then a Python pass per candidate that locates it, rejects what is not an indicator
and converts the number to an exact `Decimal` (Chinese numerals through cn2an, after a shape check). In
priority order (a later pattern never takes digits an earlier one has read):
1. a figure with a written unit: `[prefix qualifier] number [- number] [余|多] [multiplier] [余|多] unit
   [以上|左右]`. The number is Arabic ("1,234", "83.3"; full-width digits and thin spaces are normalised
   away before) or Chinese (两, 十三, 一千, 十三万). Units are tried longest first (个百分点 beats 个).
   A range ("3-5个", "3至5个", "三至五名", "20~30万元") gives value = value_low = the lower end and
   value_high = the upper end; value_base is the lower end in the base unit. A single figure has
   value_low = value_high = value.
2. a percentage in words: 百分之三十 → 30 %.
3. a fraction with a slash: "19/25" → 0.76, base unit `fraction` (not after or before other digits,
   letters or slashes: dates 2021/6/30, units μg/m3, URLs).
4. an Arabic figure scaled by 万/亿 with no unit after it ("老人数16.72万", "500万以上"): unit 万, base unit
   `number` (the thing counted is not written), value_base 167200.

What is rejected (not indicators):
- figures inside quotation or title marks “…” ‘…’ 《…》 〈…〉 「…」 "…" on one line: these are names
  (“143”党建工作法, “3个五”, “两个维护”, 《…三年行动计划》) — also whole problem statements quoted in an
  issue heading, a known loss;
- a 4-digit number from 1900 to 2100 before 年: a year (2021年, 2021年度), not a duration; a range of
  years (2020-2023年);
- ordinals: 第 before the number (第二巡察组, 第18期), and the later items of an ordinal list
  (第18、19期, 第十轮、十一轮);
- numbers glued to Latin letters, digits, `. / @ _` or a time's colon (PM2.5, 5G, 19:00, e-mails, phone
  numbers); a colon after a word ("整改情况:80个") does not glue;
- Chinese numerals that are not counts: a bare 一 (一起, 一次性, 一户一策, 一个 as an article),
  digit-by-digit numerals (二〇二一, 十四五 fails cn2an), and anything cn2an rejects;
- a unit that is the start of a longer word (年级, 名单, 次性, 处级…, see `_UNIT_VETO`).
Dates (8月, 13日, 上旬), document numbers (〔2021〕68号), enumeration labels (一是, (1), 1.) and bare
numbers (phones, postcodes) never reach the Python pass because no unit follows them.

Qualifier: `at_least` for 余/多 (inside the figure), 以上 (after it), 超/超过/逾 (before it); `approx` for
约/大约/近 (before) and 左右 (after). 近 before a duration means "the last N years", not "about": no
qualifier then; 不超过 and 消超 are not "at least" either. A qualifier written before or after the figure is
part of the quote ("约1.5万人", "1亿元以上").

Direction: `increase` / `decrease` when a change word immediately governs the figure (同比增长8.8%,
下降了9.6%, 较去年同期减少33件), see `_DIRECTION_WORDS`, and the figures listed after it with 、
("分别同比增长97.7%、43.2%"); "提升至93.86%" is a level, not a change, and 提升 marks a change of rates only.

Period: the period phrase stated before the figure in its sentence, with dates when its year is written
(`transforms.periods`).

Two readers apply these rules. The Python one below (`read_indicators`) is the reference, where every rule is
written. The compiled one (`transforms/figure_reader`, Rust) reads the same patterns, tables and word lists
from this module and from `transforms.periods` when it is made (`_figure_reader_config`). It reads the Chinese
numerals through `parse_number` and takes about a third of the Python reader's CPU. `extract_indicators` uses it where
`make` has built it, unless ZHENGGAI_FIGURE_READER=python is set. tests/test_figure_reader.py compares the two
frame for frame, so a rule changed here in its data (a unit, a keyword, a word list) needs no change in Rust; a
rule changed in its logic does (the tests fail until both say the same).
"""

from __future__ import annotations

import csv
import dataclasses
import os
import re
import threading
from bisect import bisect_left
from dataclasses import dataclass
from decimal import Decimal
from functools import cache, lru_cache
from itertools import accumulate
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from transforms import periods
from transforms.chinese_numerals import cn2an
from transforms.periods import Period, PeriodFinder, scan_periods

_UNITS_CSV = Path(__file__).with_name("units.csv")
_METRICS_CSV = Path(__file__).with_name("metrics.csv")
_CATALOGUE_CSV = Path(__file__).with_name("metric_catalogue.csv")

INDICATORS_SCHEMA: dict[str, Any] = {
    "content_sha256": pl.String,
    "node_ordinal": pl.Int32,
    "measure_ordinal": pl.Int32,
    "value": pl.Float64,
    "unit": pl.String,
    "value_base": pl.Float64,
    "base_unit": pl.String,
    "qualifier": pl.String,
    "direction": pl.String,
    "metric": pl.String,
    "quote": pl.String,
    "char_start": pl.Int64,
    "char_end": pl.Int64,
    "value_low": pl.Float64,
    "value_high": pl.Float64,
    "dimension": pl.String,
    "metric_rule": pl.String,
    "period": pl.String,
    "period_start": pl.Date,
    "period_end": pl.Date,
}

# --------------------------------------------------------------------------------------------------
# Reference tables


@dataclass(frozen=True)
class Unit:
    unit: str
    base_unit: str
    factor: Decimal
    dimension: str
    arabic_only: bool = False  # a unit only after Arabic digits (units.csv `numerals`)


# Dimensions of units.csv rows that are not written after a figure as its unit.
_NOT_WRITTEN_UNITS = {"multiplier", "fraction", "number"}


@cache
def _unit_rows() -> tuple[Unit, ...]:
    with _UNITS_CSV.open(encoding="utf-8") as handle:
        rows = tuple(
            Unit(row["unit"], row["base_unit"], Decimal(row["factor"]), row["dimension"], row["numerals"] == "arabic")
            for row in csv.DictReader(handle)
        )
    names = [row.unit for row in rows]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"{_UNITS_CSV.name}: duplicate units {duplicates}")
    return rows


@cache
def units() -> dict[str, Unit]:
    """Every unit of `units.csv` written after a figure (multipliers and special rows excluded), by its written form."""
    return {row.unit: row for row in _unit_rows() if row.dimension not in _NOT_WRITTEN_UNITS}


@cache
def multipliers() -> dict[str, Decimal]:
    """Number multipliers (万 → 10000, 亿 → 100000000, …) by their written form."""
    return {row.unit: row.factor for row in _unit_rows() if row.dimension == "multiplier"}


@cache
def special_unit(dimension: str) -> Unit:
    """The units.csv row of a figure with no written unit: `fraction` (19/25) or `number` (16.72万)."""
    (row,) = (row for row in _unit_rows() if row.dimension == dimension)
    return row


@cache
def resolve_unit(written: str) -> Unit | None:
    """The unit for a written form, multiplier included ("万元", "万人次", "千人"); None if unknown."""
    table = units()
    if written in table:
        return table[written]
    for mult, factor in sorted(multipliers().items(), key=lambda item: len(item[0]), reverse=True):
        if written.startswith(mult) and written[len(mult) :] in table:
            base = table[written[len(mult) :]]
            return Unit(written, base.base_unit, factor * base.factor, base.dimension)
    return None


def base_units() -> list[str]:
    """Every base unit a figure can have (the gate's code set for fact_indicator.base_unit)."""
    return sorted({row.base_unit for row in _unit_rows() if row.base_unit})


@dataclass(frozen=True)
class MetricRule:
    metric: str
    keyword: str
    dimension: str  # empty: any dimension
    priority: int = 0  # a rule of higher priority found in the clause wins over a nearer keyword

    def describe(self) -> str:
        """The rule as stored in fact_indicator.metric_rule: 'keyword 处分 (people)' / 'dimension percent'."""
        if not self.keyword:
            return f"dimension {self.dimension}"
        return f"keyword {self.keyword}" + (f" ({self.dimension})" if self.dimension else "")


@cache
def metric_rules() -> tuple[MetricRule, ...]:
    with _METRICS_CSV.open(encoding="utf-8") as handle:
        rules = tuple(
            MetricRule(row["metric"], row["keyword"], row["dimension"] or "", int(row.get("priority") or 0))
            for row in csv.DictReader(handle)
        )
    unknown = sorted({rule.metric for rule in rules} - set(metric_catalogue()["metric"]))
    if unknown:
        raise ValueError(f"{_METRICS_CSV.name}: metrics {unknown} are not in {_CATALOGUE_CSV.name}")
    return rules


@cache
def metric_catalogue() -> pl.DataFrame:
    """`dim_metric`: one row per metric of metric_catalogue.csv with its keyword rules written out.

    Columns: metric, name, name_zh, dimension, description, keyword_rule (the rules of metrics.csv in
    order, grouped by unit dimension, e.g. "people: 党纪处分, 政务处分, … | any: 问题线索, …"; a keyword
    marked * has priority over nearer keywords), rule_count.
    """
    with _CATALOGUE_CSV.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    names = [row["metric"] for row in rows]
    if len(set(names)) != len(names) or "other" not in names:
        raise ValueError(f"{_CATALOGUE_CSV.name}: metrics must be unique and include 'other'")
    with _METRICS_CSV.open(encoding="utf-8") as handle:
        rules = [
            MetricRule(row["metric"], row["keyword"], row["dimension"] or "", int(row.get("priority") or 0))
            for row in csv.DictReader(handle)
        ]
    records = []
    for row in rows:
        mine = [rule for rule in rules if rule.metric == row["metric"]]
        groups: dict[str, list[str]] = {}
        for rule in mine:
            word = (rule.keyword or "(any figure)") + ("*" if rule.priority > 0 else "")
            groups.setdefault(rule.dimension or "any", []).append(word)
        described = " | ".join(f"{dim}: {', '.join(words)}" for dim, words in groups.items())
        records.append(
            {
                "metric": row["metric"],
                "name": row["name"],
                "name_zh": row["name_zh"],
                "dimension": row["dimension"] or None,
                "description": row["description"],
                "keyword_rule": described or "no rule matched",
                "rule_count": len(mine),
            }
        )
    return pl.DataFrame(
        records,
        schema={
            "metric": pl.String,
            "name": pl.String,
            "name_zh": pl.String,
            "dimension": pl.String,
            "description": pl.String,
            "keyword_rule": pl.String,
            "rule_count": pl.Int32,
        },
    )


# --------------------------------------------------------------------------------------------------
# The candidate patterns, built from the tables

# Thousands are separated by commas (1,234) or, after NFKC folding, by the space a thin space becomes (1 234).
_ARABIC = r"[0-9]{1,3}(?:[, ][0-9]{3})+(?:\.[0-9]+)?|[0-9]+(?:\.[0-9]+)?"
_CJK_DIGITS = "零〇一二两三四五六七八九"
_CJK_POWERS = "十百千万亿"
# A Chinese numeral starts with a digit or 十 (十三), never with 百/千/万 (千家万户, 百姓).
_CJK_NUMERAL = rf"[{_CJK_DIGITS}十][{_CJK_DIGITS}{_CJK_POWERS}]*"
# Between the two ends of a range: 3-5个, 3~5个, 3—5个, 3至5个, 三到五个.
_RANGE_SEPARATOR = r" ?[-~—–至到] ?"

_PREFIX_QUALIFIERS = {"大约": "approx", "约": "approx", "近": "approx", "超过": "at_least", "超": "at_least", "逾": "at_least"}
_INNER_QUALIFIERS = {"余": "at_least", "多": "at_least"}
_SUFFIX_QUALIFIERS = {"以上": "at_least", "左右": "approx"}

# Change words that govern a figure written right after them (an optional 了 between).
_DIRECTION_WORDS = {
    "增长": "increase",
    "上升": "increase",
    "提高": "increase",
    "增加": "increase",
    "提升": "increase",  # rates only, see _RATE_ONLY_DIRECTION_WORDS
    "增幅": "increase",
    "增速": "increase",
    "下降": "decrease",
    "减少": "decrease",
    "压减": "decrease",
    "降低": "decrease",
    "降幅": "decrease",
}

# Change words that only mark a change on a rate: "整顿提升9个软弱涣散党组织" is not a change of 9.
_RATE_ONLY_DIRECTION_WORDS = {"提升"}
_RATE_DIMENSIONS = {"percent", "percentage_point"}

# Characters before 约 that make it part of a word (签约, 节约, 履约…) rather than "about".
_WORD_BEFORE_YUE = "签节预制合履违特公条集简邀赴毁守践誓"

# After a Chinese numeral and its unit, the start of a name: 八项规定, 三年行动计划, 五年规划.
_CJK_NAME_FOLLOWERS = ("规定", "行动", "计划", "规划", "攻坚", "专项", "禁令")

# A unit followed by one of these characters is the start of another word, not a unit.
_UNIT_VETO = {
    "年": "级",  # 三年级: a school grade
    "名": "单称誉额",  # 名单, 名称 (not 义: "1-2名义务监督员" is two volunteers)
    "次": "性",  # 二次性
    "条": "例",  # 条例
    "处": "级长室",  # 处级干部, 处长
    "所": "属有",  # 所属单位
    "支": "部",  # 支部
    "本": "级",  # 本级
    "期": "间限",  # 期间
    "台": "账",  # 台账
    "人": "民",  # 人民
}

# Glued to letters, digits, a decimal point, a slash, @ (e-mails) or a time's colon (19:00); a colon after
# a word ("整改情况:80个") introduces a figure.
_GLUED_BEFORE = re.compile(r"(?:[A-Za-z0-9./@_#]|[0-9]:)$")
_RANGE_BEFORE = re.compile(rf"(?:[0-9]|[{_CJK_DIGITS}{_CJK_POWERS}])\s*[-~—–至到]$")
# An earlier item of an ordinal list: "第18、" before "19期", "第十轮、" before "十一轮".
_ORDINAL_LIST_BEFORE = re.compile(rf"第(?:[0-9]+|[{_CJK_DIGITS}{_CJK_POWERS}]+)[^\W\d_]?、$")
# The last character before a number that any of the rejections above (or 第) needs; a line break too, as `$`
# also matches before a final one. A number after any other character is not rejected by them.
_MAY_REJECT_AFTER = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789./@_#:-~—–至到、第\n")
_CLAUSE_BREAKS = ",;。!?:\n、"
_CLAUSE_BREAK = re.compile(f"[{re.escape(_CLAUSE_BREAKS)}]")
# Characters that may not follow a bare "N万" or a ratio: a longer number, a word in Latin letters.
_GLUED_AFTER_CHARACTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/.%"
_GLUED_AFTER = re.compile(f"^[{re.escape(_GLUED_AFTER_CHARACTERS)}]")
# What follows a month/day written as a fraction (6/30前, 9/1起).
_DATE_FOLLOWERS = tuple("前后起至止日号")


def _alternation(words: Any) -> str:
    return "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))


@cache
def candidate_pattern() -> str:
    """The regex (Rust and Python syntax alike) of a figure with a written unit, with named groups."""
    inner = _alternation(_INNER_QUALIFIERS)
    number = f"{_ARABIC}|{_CJK_NUMERAL}"
    return (
        rf"(?P<prefix>{_alternation(_PREFIX_QUALIFIERS)})?"
        rf"(?P<number>{number})"
        rf"(?:(?P<range_sep>{_RANGE_SEPARATOR})(?P<high>{number}))?"
        rf"(?P<inner1>{inner})?"
        rf"(?P<mult>{_alternation(multipliers())})?"
        rf"(?P<inner2>{inner})?"
        rf"(?P<unit>{_alternation(units())})"
        rf"(?P<suffix>{_alternation(_SUFFIX_QUALIFIERS)})?"
    )


@cache
def bare_multiple_pattern() -> str:
    """An Arabic figure scaled by 万/亿 with no unit after it: "老人数16.72万", "500万以上投资项目"."""
    return rf"(?P<prefix>{_alternation(_PREFIX_QUALIFIERS)})?" + _bare_multiple_after_prefix()


@cache
def _bare_multiple_after_prefix() -> str:
    inner = _alternation(_INNER_QUALIFIERS)
    big = [m for m, factor in multipliers().items() if factor >= 10000]
    return (
        rf"(?P<number>{_ARABIC})"
        rf"(?P<inner1>{inner})?"
        rf"(?P<mult>{_alternation(big)})"
        rf"(?P<inner2>{inner})?"
        rf"(?P<suffix>{_alternation(_SUFFIX_QUALIFIERS)})?"
    )


# A fraction written with a slash ("19/25": 19 of 25) or a percentage written in words (百分之三十).
FRACTION_PATTERN = r"(?P<numerator>[0-9]+)/(?P<denominator>[0-9]+)"
PERCENT_WORDS_PATTERN = rf"百分之(?P<number>{_ARABIC}|{_CJK_NUMERAL})"


# --------------------------------------------------------------------------------------------------
# Numbers


@lru_cache(maxsize=65536)
def parse_number(text: str, *, counting: bool = False) -> Decimal | None:
    """The exact value of a number as written: "1,234" → 1234, "83.3", "两" → 2, "十三" → 13, "一千" → 1000.

    Arabic numbers are exact decimals. Chinese numerals go through cn2an (strict) after a shape check, and
    give None when they are not counts: a bare 一 or 二 is an article, a word or an ordinal (一起, 一次性,
    二次, 二期; a count of two is written 两) — unless `counting` (an end of a range, "一至两名");
    two or more digits with no 十/百/千/万/亿 are a date or a name (二〇二一, 四五); and anything cn2an
    rejects (十四五).
    """
    if not text:
        return None
    if text[0].isascii():
        return Decimal(text.replace(",", "").replace(" ", ""))
    if text in ("一", "二") and not counting:
        return None
    if len(text) > 1 and not any(ch in _CJK_POWERS for ch in text):
        return None
    try:
        value = cn2an(text.replace("两", "二").replace("〇", "零"), "strict")
    except (ValueError, KeyError, IndexError):
        return None
    if not isinstance(value, int):
        return None
    return Decimal(value)


def _split_chinese_multiplier(number: str, mult: str) -> tuple[str, str]:
    """"十三万" + "" → ("十三", "万"): a Chinese numeral ending in 万/亿 carries the multiplier itself."""
    if mult or not number or number[0].isascii() or len(number) < 2:
        return number, mult
    if number[-1] in "万亿" and number[-2] not in "万亿":
        return number[:-1], number[-1]
    return number, mult


_FOUR_DIGITS = re.compile(r"[0-9]{4}")


def _is_year(number: str) -> bool:
    return bool(_FOUR_DIGITS.fullmatch(number)) and 1900 <= int(number) <= 2100


# --------------------------------------------------------------------------------------------------
# Context: names in quotation marks, qualifiers, direction, metric

_PAIRED_MARKS = {"“": "”", "‘": "’", "《": "》", "〈": "〉", "「": "」", "『": "』"}
_SYMMETRIC_MARKS = "\"'"


_CLOSERS = {close: open_ for open_, close in _PAIRED_MARKS.items()}
# The only characters name_regions acts on: the marks (every other character is skipped; a line break only
# empties the stack of open marks, which is done when the next mark comes after one).
_MARK = re.compile("[" + re.escape("".join(_PAIRED_MARKS) + "".join(_CLOSERS) + _SYMMETRIC_MARKS) + "]")


def name_regions(text: str) -> list[tuple[int, int]]:
    """(start, end) of every quotation or title on one line, marks included; unmatched marks are ignored."""
    regions: list[tuple[int, int]] = []
    stack: list[tuple[str, int]] = []
    closers = _CLOSERS
    previous = 0
    for found in _MARK.finditer(text):
        pos, ch = found.start(), found.group()
        if stack and text.find("\n", previous, pos) >= 0:
            stack.clear()  # marks pair on one line only
        previous = pos
        if ch in _PAIRED_MARKS:
            stack.append((ch, pos))
        elif ch in closers or ch in _SYMMETRIC_MARKS:
            opener = closers.get(ch, ch)
            if stack and stack[-1][0] == opener:
                depth: int | None = len(stack) - 1  # the usual case: it closes the innermost open mark
            else:
                depth = next((i for i in range(len(stack) - 1, -1, -1) if stack[i][0] == opener), None)
            if depth is not None:
                regions.append((stack[depth][1], pos + 1))
                del stack[depth:]
            elif ch in _SYMMETRIC_MARKS:
                stack.append((ch, pos))
    return regions


class _Regions:
    """Name regions for the question "is `pos` strictly inside one of them?" in O(log n): the regions sorted
    by start, and the furthest end reached by the regions up to each one."""

    __slots__ = ("starts", "reach")

    def __init__(self, regions: list[tuple[int, int]]) -> None:
        ordered = sorted(regions)
        self.starts = [start for start, _ in ordered]
        self.reach = list(accumulate((end for _, end in ordered), max))


def _inside(regions: _Regions, pos: int) -> bool:
    """Whether start < pos < end for one of the regions."""
    before = bisect_left(regions.starts, pos)  # the regions that start before `pos`
    return before > 0 and regions.reach[before - 1] > pos


_DIRECTION_WORD_LENGTHS = tuple(sorted({len(word) for word in _DIRECTION_WORDS}, reverse=True))


def direction_before(before: str, dimension: str) -> str | None:
    """'increase' / 'decrease' when `before` ends with a change word (optionally followed by 了).

    The longest change word that ends `before` wins (one word of each length can end it: looked up by its
    last characters, not by testing every word)."""
    before = before.removesuffix("了")
    for length in _DIRECTION_WORD_LENGTHS:
        word = before[-length:]
        if len(word) != length or word not in _DIRECTION_WORDS:
            continue
        if word in _RATE_ONLY_DIRECTION_WORDS and dimension not in _RATE_DIMENSIONS:
            continue
        return _DIRECTION_WORDS[word]
    return None


def classify_metric_rule(before: str, after: str, dimension: str) -> tuple[str, MetricRule | None]:
    """The metric of a figure from `metrics.csv`, and the rule that decided it (None for 'other').

    `before` / `after` are the clause text on either side of the quote (clauses end at , ; 。 : 、 and line
    breaks). Among the rules whose dimension fits (empty: any) and whose keyword is in the clause, the one
    of highest `priority` wins (an action such as 争取 or 追缴 says more than the noun 资金 next to the
    figure), then the one whose keyword is nearest to the figure, ties going to the longer (more specific)
    keyword, then to the earlier row; rules with no keyword are fallbacks by dimension (every
    percentage is at least a 'rate'); 'other' when nothing matches.
    """
    # A keyword's distance is counted from the end of its last occurrence in `before` to the figure, or from
    # the figure to its first occurrence in `after`. The clause is read once, position by position, trying
    # only the keywords that start with the character there (instead of searching every rule's keyword).
    by_first_char, fallback = _keyword_index(dimension)
    distances: dict[_KeywordRule, int] = {}
    length = len(before)
    for at, char in enumerate(before):
        entries = by_first_char.get(char)
        if entries:
            for entry in entries:
                if before.startswith(entry.keyword, at):
                    distances[entry] = length - at - len(entry.keyword)  # a later occurrence is nearer
    for at, char in enumerate(after):
        entries = by_first_char.get(char)
        if entries:
            for entry in entries:
                if after.startswith(entry.keyword, at):
                    known = distances.get(entry)
                    if known is None or at < known:
                        distances[entry] = at
    if distances:
        best = min(distances.items(), key=lambda item: (item[0].neg_priority, item[1], item[0].neg_length, item[0].order))
        rule = best[0].rule
        return rule.metric, rule
    if fallback is not None:
        return fallback.metric, fallback
    return "other", None


@dataclass(frozen=True, eq=False)
class _KeywordRule:
    """The rule that a keyword stands for among the rules of one dimension (ties of a keyword: priority, then row)."""

    keyword: str
    neg_priority: int
    neg_length: int
    order: int
    rule: MetricRule


@cache
def _keyword_index(dimension: str) -> tuple[dict[str, tuple[_KeywordRule, ...]], MetricRule | None]:
    """The rules with a keyword that fit `dimension`, by the first character of their keyword, and the
    fallback rule of the dimension (its first rule with no keyword), for classify_metric_rule."""
    best: dict[str, _KeywordRule] = {}
    for order, rule in enumerate(metric_rules()):
        if not rule.keyword or (rule.dimension and rule.dimension != dimension):
            continue
        entry = _KeywordRule(rule.keyword, -rule.priority, -len(rule.keyword), order, rule)
        known = best.get(rule.keyword)
        # Rules sharing a keyword share its distance and length: the higher priority, then the earlier row wins.
        if known is None or (entry.neg_priority, entry.order) < (known.neg_priority, known.order):
            best[rule.keyword] = entry
    by_first_char: dict[str, list[_KeywordRule]] = {}
    for entry in best.values():
        by_first_char.setdefault(entry.keyword[0], []).append(entry)
    fallback = next((rule for rule in metric_rules() if not rule.keyword and rule.dimension == dimension), None)
    return {char: tuple(entries) for char, entries in by_first_char.items()}, fallback


# --------------------------------------------------------------------------------------------------
# One candidate


@dataclass(slots=True)
class Mention:
    value: Decimal
    unit: Unit
    qualifier: str | None
    direction: str | None
    metric: str
    start: int  # offset in the span text
    end: int
    value_high: Decimal | None = None  # the upper end of a written range ("3-5个" → 5), else None
    metric_rule: str | None = None
    period: Period | None = None


class _Span:
    """The text of one span with what every candidate in it needs, computed once per span: the name regions,
    the clause breaks and the periods of its sentences."""

    __slots__ = ("text", "regions", "_reversed", "_periods", "_period_matches")

    def __init__(self, text: str, period_matches: tuple[list[re.Match[str]], list[re.Match[str]]]) -> None:
        """`period_matches`: the text's matches of the period patterns, as `scan_periods` finds them."""
        self.text = text
        self.regions = _Regions(name_regions(text))
        self._reversed: str | None = None
        self._periods: PeriodFinder | None = None
        self._period_matches = period_matches

    def clause(self, start: int, end: int) -> tuple[int, int]:
        """(start, end) of the clause around text[start:end]: after the last break before `start`, up to the
        first break at or after `end`."""
        # Searched from the figure outwards (the last break before `start` is the first one in the reversed
        # text after its offset): a clause is short, while listing every break of a long span once cost a
        # Python object per break (~1,100 per notice) for the ~160 figures that ask.
        text = self.text
        found = _CLAUSE_BREAK.search(text, end)
        clause_end = found.start() if found else len(text)
        if self._reversed is None:
            self._reversed = text[::-1]
        found = _CLAUSE_BREAK.search(self._reversed, len(text) - start)
        return (len(text) - found.start() if found else 0), clause_end

    def period_before(self, start: int) -> Period | None:
        if self._periods is None:
            self._periods = PeriodFinder(self.text, *self._period_matches)
        return self._periods.before(start)


def _context(span: _Span, start: int, end: int, unit: Unit, value: Decimal, *, value_high: Decimal | None = None,
             qualifier: str | None = None) -> Mention:
    """Direction, metric and period of a located figure [start, end)."""
    text = span.text
    direction = direction_before(text[max(0, start - 8) : start], unit.dimension)
    clause_start, clause_end = span.clause(start, end)
    metric, rule = classify_metric_rule(text[clause_start:start], text[end:clause_end], unit.dimension)
    return Mention(
        value, unit, qualifier, direction, metric, start, end,
        value_high=value_high,
        metric_rule=rule.describe() if rule else None,
        period=span.period_before(start),
    )


def _rejected_before(text: str, number_start: int, regions: _Regions) -> bool:
    """A number in a name, glued to letters or digits, the second end of a range, or an ordinal."""
    if _inside(regions, number_start):
        return True
    if number_start == 0 or text[number_start - 1] not in _MAY_REJECT_AFTER:
        return False  # the usual case: a figure after a Chinese character
    before_number = text[max(0, number_start - 12) : number_start]
    if _GLUED_BEFORE.search(before_number) or _RANGE_BEFORE.search(before_number):
        return True
    return before_number.endswith("第") or bool(_ORDINAL_LIST_BEFORE.search(before_number))


def _qualifier(text: str, start: int, number_start: int, prefix: str, dimension: str,
               inners: tuple[str | None, ...], suffix: str) -> tuple[int, str | None]:
    """(start of the quote, qualifier): a prefix that is part of a word is dropped from the quote."""
    before_prefix = text[max(0, start - 2) : start]
    if prefix and (
        (prefix == "近" and dimension == "time")  # 近3年: the last three years
        or (prefix.startswith("超") and ("不" in before_prefix or before_prefix.endswith("消")))  # 不超过, 消超
        or (prefix == "约" and before_prefix[-1:] != "" and before_prefix[-1] in _WORD_BEFORE_YUE)  # 签约7个
    ):
        start, prefix = number_start, ""
    qualifier = _PREFIX_QUALIFIERS[prefix] if prefix else None
    for inner in inners:
        if inner:
            qualifier = _INNER_QUALIFIERS[inner]
    if suffix:
        qualifier = _SUFFIX_QUALIFIERS[suffix]
    return start, qualifier


def read_candidate(span: _Span, start: int, match: str, groups: tuple[str | None, ...]) -> Mention | None:
    """The indicator a regex candidate `match` (of `candidate_pattern`, its groups in pattern order) at
    `start` in `text` stands for, or None."""
    text, regions = span.text, span.regions
    prefix, number, _, high, inner1, mult, inner2, unit_written, suffix = groups
    prefix = prefix or ""
    number = number or ""
    high = high or ""
    suffix = suffix or ""
    number_start = start + len(prefix)
    end = start + len(match)  # the groups make up the whole match
    unit_written = unit_written or ""
    unit_end = end - len(suffix)
    if not number or not unit_written:
        return None
    if unit_written == "年" and not high and not mult and _is_year(number):
        return None  # a year (2021年, 2021年度), not a duration: a fifth of all candidates, rejected first

    if _rejected_before(text, number_start, regions):
        return None
    if unit_end < len(text) and text[unit_end] in _UNIT_VETO.get(unit_written, ""):
        return None
    if unit_end < len(text) and unit_written.isascii() and text[unit_end].isascii() and text[unit_end].isalnum():
        return None

    if not number[0].isascii():
        if getattr(units().get(unit_written), "arabic_only", False) or text.startswith(_CJK_NAME_FOLLOWERS, unit_end):
            return None  # 三期 is a phase, 三管 a slogan; 八项规定, 三年行动计划 are names
    mult = mult or ""
    value_high = None
    if high:
        high, mult = _split_chinese_multiplier(high, mult)
        value_high = parse_number(high, counting=True)
        value = parse_number(number, counting=True)
        if value is None or value_high is None or value_high < value:
            return None  # "10-3个" is not a range; a failed numeral is not a figure
        if unit_written == "年" and not mult and (_is_year(number) or _is_year(high)):
            return None  # 2020-2023年: years, not durations
    else:
        number, mult = _split_chinese_multiplier(number, mult)
        value = parse_number(number)
        if value is None:
            return None
    unit = resolve_unit(mult + unit_written)
    if unit is None:
        return None

    start, qualifier = _qualifier(
        text, start, number_start, prefix, unit.dimension, (inner1, inner2), suffix
    )
    return _context(span, start, end, unit, value, value_high=value_high, qualifier=qualifier)


def read_bare_multiple(span: _Span, start: int, match: str, groups: tuple[str | None, ...]) -> Mention | None:
    """A candidate of `bare_multiple_pattern` ("16.72万"): base unit `number`, value in 万/亿."""
    text, regions = span.text, span.regions
    prefix, number, inner1, mult, inner2, suffix = groups
    prefix = prefix or ""
    suffix = suffix or ""
    number_start = start + len(prefix)
    end = start + len(match)  # the groups make up the whole match
    if _rejected_before(text, number_start, regions) or _GLUED_AFTER.match(text[end : end + 1]):
        return None
    unit = _bare_multiple_unit(mult or "")
    value = parse_number(number or "")
    if value is None:
        return None
    start, qualifier = _qualifier(text, start, number_start, prefix, unit.dimension, (inner1, inner2), suffix)
    return _context(span, start, end, unit, value, qualifier=qualifier)


@cache
def _bare_multiple_unit(mult: str) -> Unit:
    """The unit of a bare "N万": the multiplier, in the base unit of a figure with no written unit (`number`)."""
    number_unit = special_unit("number")
    return Unit(mult, number_unit.base_unit, multipliers()[mult] * number_unit.factor, number_unit.dimension)


def read_fraction(span: _Span, start: int, match: str, groups: tuple[str | None, ...]) -> Mention | None:
    """A candidate of `FRACTION_PATTERN` ("19/25"): the value is the quotient, base unit `fraction`."""
    text, regions = span.text, span.regions
    written_numerator, written_denominator = groups
    end = start + len(written_numerator or "") + 1 + len(written_denominator or "")
    if _rejected_before(text, start, regions) or _GLUED_AFTER.match(text[end : end + 1]):
        return None
    if text[max(0, start - 1) : start] in ("-", "—"):
        return None
    numerator, denominator = Decimal(written_numerator or "0"), Decimal(written_denominator or "0")
    if denominator == 0 or numerator > denominator:
        return None  # a share never exceeds its whole: 24/7 is a schedule
    if numerator <= 12 and denominator <= 31 and text[end : end + 1] in _DATE_FOLLOWERS:
        return None  # 6/30前: a month and a day
    value = numerator / denominator
    return _context(span, start, end, special_unit("fraction"), value)


def read_percent_words(span: _Span, start: int, match: str, groups: tuple[str | None, ...]) -> Mention | None:
    """A candidate of `PERCENT_WORDS_PATTERN` ("百分之三十" → 30 %)."""
    text, regions = span.text, span.regions
    (number,) = groups
    end = start + len("百分之") + len(number or "")
    if _inside(regions, start):
        return None
    value = parse_number(number or "", counting=True)
    if value is None:
        return None
    unit = units()["%"]
    return _context(span, start, end, unit, value)


# --------------------------------------------------------------------------------------------------
# The frame


def _scan(spans: pl.DataFrame, texts: list[str], pattern: str) -> dict[int, list[tuple[int, str, tuple[str | None, ...]]]]:
    """Every match of `pattern` in every span, by span index: (offset in the span, the match, its groups in
    pattern order).

    The spans are scanned by Polars (the Rust engine: fast over long texts), and the groups of every match
    are read by the same engine from the match alone (one vectorised pass, no Python match object or dict
    per candidate): the match is the engine's preferred match at its place, so it is again the preferred
    match of its own text, with the same groups. The pattern is plain (no look-around, no Unicode classes).
    """
    matches = (
        spans.select(pl.col("text").str.extract_all(pattern).alias("_match"))
        .with_row_index("_span")
        .explode("_match")
        .drop_nulls("_match")
    )
    groups = matches.get_column("_match").str.extract_groups(pattern).struct.unnest()
    found: dict[int, list[tuple[int, str, tuple[str | None, ...]]]] = {}
    rows = zip(matches.get_column("_span").to_list(), matches.get_column("_match").to_list(), groups.rows())
    # The matches of a span come together (exploded in span order): the span's text, list and cursor are
    # looked up once per span, not once per match.
    current, text, in_span, cursor = -1, "", [], 0
    for index, match, written in rows:
        if index != current:
            current, text, cursor = index, texts[index], 0
            in_span = found[index] = []
        # Matches come in order and do not overlap; with no look-around in the pattern, the first
        # occurrence of a match's text after the previous match is where the regex found it.
        local = text.find(match, cursor)
        if local < 0:
            raise RuntimeError(f"candidate {match!r} not found in its span")
        cursor = local + len(match)
        in_span.append((local, match, written))
    return found


def _readers() -> list[tuple[str, Any]]:
    """The patterns in priority order: a figure with a written unit wins over the same digits read otherwise."""
    return [
        (candidate_pattern(), read_candidate),
        (PERCENT_WORDS_PATTERN, read_percent_words),
        (FRACTION_PATTERN, read_fraction),
        (bare_multiple_pattern(), read_bare_multiple),
    ]


def _floats(value: Decimal, unit: Unit, value_high: Decimal | None) -> tuple[float, float, float]:
    """value, value_base (exact in decimals, then rounded once) and value_high of a figure, as stored."""
    return float(value), float(value * unit.factor), float(value if value_high is None else value_high)


def _row(span: dict[str, Any], text: str, mention: Mention) -> tuple[Any, ...]:
    """One indicator row, its values in the order of INDICATORS_SCHEMA."""
    period = mention.period
    unit = mention.unit
    value, value_base, value_high = _floats(mention.value, unit, mention.value_high)
    offset = span["char_start"]
    return (
        span["content_sha256"],
        span["node_ordinal"],
        span["measure_ordinal"],
        value,
        unit.unit,
        value_base,
        unit.base_unit,
        mention.qualifier,
        mention.direction,
        mention.metric,
        text[mention.start : mention.end],
        offset + mention.start,
        offset + mention.end,
        value,  # value_low
        value_high,
        unit.dimension,
        mention.metric_rule,
        period.phrase if period else None,
        period.start if period else None,
        period.end if period else None,
    )


# --------------------------------------------------------------------------------------------------
# The compiled reader

# ZHENGGAI_FIGURE_READER=python makes the parse use the Python reader where the compiled one is built.
FIGURE_READER_ENV = "ZHENGGAI_FIGURE_READER"


def _without_final_newline_quirk(pattern: re.Pattern[str]) -> str:
    """A Python pattern ending in `$` written for Rust's engine, where `$` is only the end of the text: Python's
    also matches before a final line break."""
    assert pattern.pattern.endswith("$"), pattern.pattern
    return pattern.pattern[:-1] + r"\n?$"


def _unit_row(unit: Unit) -> tuple[str, str, str, str]:
    return unit.unit, unit.base_unit, format(unit.factor, "f"), unit.dimension


def _figure_reader_config() -> dict[str, Any]:
    """The rules of this module and of `transforms.periods` as the compiled reader
    (transforms/figure_reader/src/lib.rs) takes them."""
    written = {name: _unit_row(unit) for name, unit in units().items()}
    for mult in multipliers():
        for name in units():
            resolved = resolve_unit(mult + name)
            if resolved is not None:
                written[mult + name] = _unit_row(resolved)
    rules = metric_rules()
    return {
        # The compiled reader's kinds, in this order: (pattern, what it searches, the prefixes it then looks back for).
        # The bare multiple is searched without its optional prefix, which Rust's regex 1.7 scans 7x slower.
        "patterns": [
            (pattern, _bare_multiple_after_prefix(), sorted(_PREFIX_QUALIFIERS, key=len, reverse=True))
            if pattern == bare_multiple_pattern() else (pattern, pattern, [])
            for pattern, _ in _readers()
        ],
        "glued_before": _without_final_newline_quirk(_GLUED_BEFORE),
        "range_before": _without_final_newline_quirk(_RANGE_BEFORE),
        "ordinal_list_before": _without_final_newline_quirk(_ORDINAL_LIST_BEFORE),
        "arabic_only_units": [name for name, unit in units().items() if unit.arabic_only],
        "units": written,
        "bare_units": {mult: _unit_row(_bare_multiple_unit(mult)) for mult in multipliers()},
        "fraction_unit": _unit_row(special_unit("fraction")),
        "percent_unit": _unit_row(units()["%"]),
        "prefix_qualifiers": _PREFIX_QUALIFIERS,
        "inner_qualifiers": _INNER_QUALIFIERS,
        "suffix_qualifiers": _SUFFIX_QUALIFIERS,
        "direction_words": _DIRECTION_WORDS,
        "rate_only_direction_words": sorted(_RATE_ONLY_DIRECTION_WORDS),
        "rate_dimensions": sorted(_RATE_DIMENSIONS),
        "word_before_yue": _WORD_BEFORE_YUE,
        "name_followers": list(_CJK_NAME_FOLLOWERS),
        "unit_veto": _UNIT_VETO,
        "may_reject_after": "".join(sorted(_MAY_REJECT_AFTER)),
        "clause_breaks": _CLAUSE_BREAKS,
        "glued_after": _GLUED_AFTER_CHARACTERS,
        "date_followers": "".join(_DATE_FOLLOWERS),
        "paired_marks": _PAIRED_MARKS,
        "symmetric_marks": _SYMMETRIC_MARKS,
        "metric_rules": [(rule.keyword, rule.dimension, rule.priority, rule.metric, rule.describe()) for rule in rules],
        **periods.compiled_reader_config(),
    }


def _chinese_value(text: str, counting: bool) -> str | None:
    """`parse_number` for the compiled reader: the value as a decimal string."""
    value = parse_number(text, counting=counting)
    return None if value is None else str(value)


def _compiled_reader_class() -> Any:
    """The compiled reader's class (`transforms/_figure_reader.so`, built by `make`), or None where it is not
    built or ZHENGGAI_FIGURE_READER=python asks for the Python one."""
    if os.environ.get(FIGURE_READER_ENV, "").strip().lower() == "python":
        return None
    try:
        from transforms._figure_reader import FigureReader  # type: ignore[import-not-found]
    except ImportError:
        return None
    return FigureReader


_READER_LOCK = threading.Lock()


def _compiled_reader() -> Any:
    reader_class = _compiled_reader_class()
    return None if reader_class is None else _reader_of(reader_class)


@cache
def _reader_of(reader_class: Any) -> Any:
    return reader_class(_figure_reader_config(), _chinese_value)


def figure_reader() -> str:
    """Which reader the parse uses: 'compiled' or 'python' (part of the parser version)."""
    return "python" if _compiled_reader_class() is None else "compiled"


# The unit of a figure by the compiled reader's kind (the order of `_readers`) and its written unit.
_UNIT_OF_KIND: tuple[Any, ...] = (resolve_unit, lambda _: units()["%"], lambda _: special_unit("fraction"), _bare_multiple_unit)


def _read_compiled(spans: pl.DataFrame) -> pl.DataFrame:
    """`extract_indicators` by the compiled reader. It hands back numbers as arrays and strings as codes into the
    batch's distinct strings (a Python object per value cost more than reading the figures); the values it leaves
    to Python (a fraction's quotient, a product longer than Decimal's 28 digits) are computed here as the Python
    reader computes them."""
    texts = spans.get_column("text")
    with _READER_LOCK:  # one reader per process, which Rust borrows mutably while it reads (its numerals' cache)
        found = _compiled_reader().read(texts.to_list())

    def array(name: str, dtype: Any) -> np.ndarray:
        return np.frombuffer(found[name], dtype=dtype)

    values, value_base, value_high = (array(name, np.float64).copy() for name in ("value", "value_base", "value_high"))
    for row, kind, written, value_text, denominator, high in found["by_python"]:
        unit = _UNIT_OF_KIND[kind](written)
        value = Decimal(value_text) if denominator is None else Decimal(value_text) / Decimal(denominator)
        values[row], value_base[row], value_high[row] = _floats(value, unit, None if high is None else Decimal(high))
    span, start, end = (pl.Series(array(name, np.uint32)) for name in ("span", "start", "end"))
    strings = pl.Series(found["strings"], dtype=pl.String)
    keys = spans.select("content_sha256", "node_ordinal", "measure_ordinal", "char_start")[span]
    offset = keys.get_column("char_start").cast(pl.Int64)
    length = (end.cast(pl.Int64) - start.cast(pl.Int64))
    dates = {
        name: pl.Series(array(name, np.int32)).replace(found["no_date"], None).cast(pl.Date)
        for name in ("period_start", "period_end")
    }
    frame = keys.select("content_sha256", "node_ordinal", "measure_ordinal").with_columns(
        **{name: strings.gather(pl.Series(array(name, np.uint32)))
           for name in ("unit", "base_unit", "qualifier", "direction", "metric", "dimension", "metric_rule", "period")},
        value=pl.Series(values), value_low=pl.Series(values), value_base=pl.Series(value_base),
        value_high=pl.Series(value_high),
        quote=texts.gather(span).str.slice(start, length),
        char_start=offset + start.cast(pl.Int64),
        char_end=offset + end.cast(pl.Int64),
        **dates,
    )
    return frame.select(INDICATORS_SCHEMA.keys()).cast(INDICATORS_SCHEMA)


def _frame(rows: list[tuple[Any, ...]]) -> pl.DataFrame:
    # Built column by column: Polars reads a typed column of Python values in one pass, while a frame of rows
    # is read value by value (60 notices: ~1.6 % fewer instructions for the whole parse, counted by callgrind).
    columns = zip(*rows) if rows else [()] * len(INDICATORS_SCHEMA)
    return pl.DataFrame([pl.Series(name, values, dtype=dtype) for (name, dtype), values in zip(INDICATORS_SCHEMA.items(), columns)])


def extract_indicators(spans: pl.DataFrame) -> pl.DataFrame:
    """One row per indicator found in the spans; see the module docstring for the rules. The compiled reader
    reads them where it is built (`figure_reader()`), else the Python reader (`read_indicators`): the same rows."""
    if not spans.is_empty() and _compiled_reader() is not None:
        return _read_compiled(spans)
    return read_indicators(spans)


def read_indicators(spans: pl.DataFrame) -> pl.DataFrame:
    """`extract_indicators` by the Python reader: the reference the compiled reader is tested against."""
    if spans.is_empty():
        return pl.DataFrame(schema=INDICATORS_SCHEMA)
    texts = spans.get_column("text").to_list()  # once: the scans and the loop below read the same strings
    # A pattern whose first group is a prefix qualifier: the candidate's digits start after it.
    scans = [
        (_scan(spans, texts, pattern), reader, re.compile(pattern).groupindex.get("prefix") == 1)
        for pattern, reader in _readers()
    ]

    period_matches = scan_periods(spans.get_column("text"), texts)

    rows: list[tuple[Any, ...]] = []
    keys = spans.select("content_sha256", "node_ordinal", "measure_ordinal", "char_start").iter_rows(named=True)
    for index, (span, text) in enumerate(zip(keys, texts)):
        if not any(index in found for found, _, _ in scans):
            continue
        context = _Span(text, period_matches[index])
        accepted: list[Mention] = []
        for found, reader, prefixed in scans:
            taken = [(m.start, m.end) for m in accepted]
            for local, match, groups in found.get(index, []):
                if taken:
                    # A mention ends where its match ends and starts at the match or after its prefix
                    # qualifier: when the match less its prefix overlaps a taken mention, so would the
                    # mention, so the candidate is not read at all.
                    core_start = local + (len(groups[0] or "") if prefixed else 0)
                    core_end = local + len(match)
                    if any(core_start < end and start < core_end for start, end in taken):
                        continue
                mention = reader(context, local, match, groups)
                if mention is None:
                    continue
                if taken and any(mention.start < end and start < mention.end for start, end in taken):
                    continue  # the same digits already read by a pattern of higher priority
                accepted.append(mention)
        accepted.sort(key=lambda m: m.start)
        previous: Mention | None = None
        for mention in accepted:
            if (
                mention.direction is None
                and previous is not None
                and previous.direction is not None
                and text[previous.end : mention.start] == "、"
                and previous.unit.dimension == mention.unit.dimension
            ):
                # "分别同比增长97.7%、43.2%、23.8%": the change word governs the whole list
                mention = dataclasses.replace(mention, direction=previous.direction)
            previous = mention
            rows.append(_row(span, text, mention))
    return _frame(rows)
