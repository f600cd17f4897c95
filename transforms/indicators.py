"""Quantitative indicators (量化指标): every figure with a unit in a span of notice text.

`extract_indicators(spans)` takes any text spans (`content_sha256, node_ordinal, measure_ordinal, text,
char_start`) and returns one row per figure: `content_sha256, node_ordinal, measure_ordinal, value, unit,
value_base, base_unit, qualifier, direction, metric, quote, char_start, char_end`, where `char_start` and
`char_end` are offsets in the *notice* text (span offset + offset in the span), so
`notice_text[char_start:char_end] == quote`. The function is pure: no I/O beyond reading the two
reference tables next to this module.

Reference tables (edit these, not the code):
- `units.csv` — `unit, base_unit, factor, dimension`. Factors are exact decimal strings. Rows whose
  dimension is `multiplier` (万, 亿, 千, 百万, 千万, 万亿) are number multipliers written between a figure
  and its unit ("1.5万人", "3.2亿元", "2000余万元"); every other row is a unit. A figure "N<multiplier><unit>"
  has the unit "<multiplier><unit>" (万元, 万人次): its factor is the table's when that composite has a
  row (万元, 亿元, 万平方米, 千米…), else multiplier × unit factor. A multiplier with no unit after it
  ("老人数16.72万") is not extracted in this version.
- `metrics.csv` — `metric, keyword, dimension`: a coarse class of what the figure counts (see
  `classify_metric`).

How a figure is found, in two steps:
1. Candidate scan, vectorised in Polars (`str.extract_all` then `str.extract_groups`) with one regex built
   from the units table: `[prefix qualifier] number [余|多] [multiplier] [余|多] unit [以上|左右]`. The number
   is Arabic ("1,234", "83.3") or Chinese (两, 十三, 一千). Units are tried longest first, so 个百分点
   beats 个 and 个月 beats 个.
2. A Python pass per candidate locates it (its offset), rejects what is not an indicator and converts the
   number to an exact `Decimal` (Chinese numerals through cn2an, after a shape check).

What is rejected (not indicators):
- figures inside quotation or title marks “…” ‘…’ 《…》 〈…〉 「…」 "…" on one line: these are names
  (“143”党建工作法, “3个五”, “两个维护”, 《…三年行动计划》) — also whole problem statements quoted in an
  issue heading, a known loss;
- a 4-digit number from 1900 to 2100 before 年: a year (2021年, 2021年度), not a duration;
- ordinals: 第 before the number (第二巡察组, 第18期), and the later items of an ordinal list
  (第18、19期, 第十轮、十一轮);
- numbers glued to Latin letters, digits or `. : / @ _` (PM2.5, 5G, 19:00, e-mails, phone numbers);
- ranges ("3-5个", "1-2名", "三至五个"): deferred to a later version rather than half-extracted;
- Chinese numerals that are not counts: a bare 一 (一起, 一次性, 一户一策, 一个 as an article),
  digit-by-digit numerals (二〇二一, 十四五 fails cn2an), and anything cn2an rejects;
- a unit that is the start of a longer word (年级, 名义, 次性, 处级…, see `_UNIT_VETO`).
Dates (8月, 13日, 上旬), document numbers (〔2021〕68号), enumeration labels (一是, (1), 1.) and bare
numbers (phones, postcodes) never reach step 2 because no unit follows them.

Qualifier: `at_least` for 余/多 (inside the figure), 以上 (after it), 超/超过/逾 (before it); `approx` for
约/大约/近 (before) and 左右 (after). 近 before a duration means "the last N years", not "about": no
qualifier then; 不超过 and 消超 are not "at least" either. A qualifier written before or after the figure is
part of the quote ("约1.5万人", "1亿元以上").

Direction: `increase` / `decrease` when a change word immediately governs the figure (同比增长8.8%,
下降了9.6%, 较去年同期减少33件), see `_DIRECTION_WORDS`, and the figures listed after it with 、
("分别同比增长97.7%、43.2%"); "提升至93.86%" is a level, not a change, and 提升 marks a change of rates only.
"""

from __future__ import annotations

import csv
import dataclasses
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import cn2an
import polars as pl

_UNITS_CSV = Path(__file__).with_name("units.csv")
_METRICS_CSV = Path(__file__).with_name("metrics.csv")

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
}

# --------------------------------------------------------------------------------------------------
# Reference tables


@dataclass(frozen=True)
class Unit:
    unit: str
    base_unit: str
    factor: Decimal
    dimension: str


@cache
def _unit_rows() -> tuple[Unit, ...]:
    with _UNITS_CSV.open(encoding="utf-8") as handle:
        rows = tuple(
            Unit(row["unit"], row["base_unit"], Decimal(row["factor"]), row["dimension"]) for row in csv.DictReader(handle)
        )
    names = [row.unit for row in rows]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"{_UNITS_CSV.name}: duplicate units {duplicates}")
    return rows


@cache
def units() -> dict[str, Unit]:
    """Every unit of `units.csv` (multipliers excluded), by its written form."""
    return {row.unit: row for row in _unit_rows() if row.dimension != "multiplier"}


@cache
def multipliers() -> dict[str, Decimal]:
    """Number multipliers (万 → 10000, 亿 → 100000000, …) by their written form."""
    return {row.unit: row.factor for row in _unit_rows() if row.dimension == "multiplier"}


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


@dataclass(frozen=True)
class MetricRule:
    metric: str
    keyword: str
    dimension: str  # empty: any dimension


@cache
def metric_rules() -> tuple[MetricRule, ...]:
    with _METRICS_CSV.open(encoding="utf-8") as handle:
        return tuple(MetricRule(row["metric"], row["keyword"], row["dimension"] or "") for row in csv.DictReader(handle))


# --------------------------------------------------------------------------------------------------
# The candidate pattern, built from the tables

_ARABIC = r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?|[0-9]+(?:\.[0-9]+)?"
_CJK_DIGITS = "零〇一二两三四五六七八九"
_CJK_POWERS = "十百千万亿"
# A Chinese numeral starts with a digit or 十 (十三), never with 百/千/万 (千家万户, 百姓).
_CJK_NUMERAL = rf"[{_CJK_DIGITS}十][{_CJK_DIGITS}{_CJK_POWERS}]*"

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
    "名": "义单称誉额",  # 名义, 名单, 名称
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

_GLUED_BEFORE = re.compile(r"[A-Za-z0-9.:/@_#]$")
_RANGE_BEFORE = re.compile(rf"(?:[0-9]|[{_CJK_DIGITS}{_CJK_POWERS}])\s*[-~—至到]$")
# An earlier item of an ordinal list: "第18、" before "19期", "第十轮、" before "十一轮".
_ORDINAL_LIST_BEFORE = re.compile(rf"第(?:[0-9]+|[{_CJK_DIGITS}{_CJK_POWERS}]+)[^\W\d_]?、$")
_CLAUSE_BREAK = re.compile(r"[,;。!?:\n、]")


def _alternation(words: Any) -> str:
    return "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))


@cache
def candidate_pattern() -> str:
    """The regex (Rust and Python syntax alike) of a candidate figure, with named groups."""
    inner = _alternation(_INNER_QUALIFIERS)
    return (
        rf"(?P<prefix>{_alternation(_PREFIX_QUALIFIERS)})?"
        rf"(?P<number>{_ARABIC}|{_CJK_NUMERAL})"
        rf"(?P<inner1>{inner})?"
        rf"(?P<mult>{_alternation(multipliers())})?"
        rf"(?P<inner2>{inner})?"
        rf"(?P<unit>{_alternation(units())})"
        rf"(?P<suffix>{_alternation(_SUFFIX_QUALIFIERS)})?"
    )


# --------------------------------------------------------------------------------------------------
# Numbers


def parse_number(text: str) -> Decimal | None:
    """The exact value of a number as written: "1,234" → 1234, "83.3", "两" → 2, "十三" → 13, "一千" → 1000.

    Arabic numbers are exact decimals. Chinese numerals go through cn2an (strict) after a shape check, and
    give None when they are not counts: a bare 一 or 二 is an article, a word or an ordinal (一起, 一次性,
    二次, 二期; a count of two is written 两); two or more digits with no 十/百/千/万/亿 are a date or a
    name (二〇二一, 四五); and anything cn2an rejects (十四五).
    """
    if not text:
        return None
    if text[0].isascii():
        return Decimal(text.replace(",", ""))
    if text in ("一", "二"):
        return None
    if len(text) > 1 and not any(ch in _CJK_POWERS for ch in text):
        return None
    try:
        value = cn2an.cn2an(text.replace("两", "二").replace("〇", "零"), "strict")
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


# --------------------------------------------------------------------------------------------------
# Context: names in quotation marks, qualifiers, direction, metric

_PAIRED_MARKS = {"“": "”", "‘": "’", "《": "》", "〈": "〉", "「": "」", "『": "』"}
_SYMMETRIC_MARKS = "\"'"


def name_regions(text: str) -> list[tuple[int, int]]:
    """(start, end) of every quotation or title on one line, marks included; unmatched marks are ignored."""
    regions: list[tuple[int, int]] = []
    stack: list[tuple[str, int]] = []
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


def _inside(regions: list[tuple[int, int]], pos: int) -> bool:
    return any(start < pos < end for start, end in regions)


def direction_before(before: str, dimension: str) -> str | None:
    """'increase' / 'decrease' when `before` ends with a change word (optionally followed by 了)."""
    before = before.removesuffix("了")
    for word in sorted(_DIRECTION_WORDS, key=len, reverse=True):
        if word in _RATE_ONLY_DIRECTION_WORDS and dimension not in _RATE_DIMENSIONS:
            continue
        if before.endswith(word):
            return _DIRECTION_WORDS[word]
    return None


def classify_metric(before: str, after: str, dimension: str) -> str:
    """Coarse class of the figure from `metrics.csv`.

    `before` / `after` are the clause text on either side of the quote (clauses end at , ; 。 : 、 and line
    breaks). Among the rules whose dimension fits (empty: any), the one whose keyword is nearest to the
    figure wins, ties going to the earlier row; rules with no keyword are fallbacks by dimension (every
    percentage is at least a 'rate'); 'other' when nothing matches.
    """
    best: tuple[int, int, str] | None = None
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
        if distances and (best is None or (min(distances), order) < best[:2]):
            best = (min(distances), order, rule.metric)
    if best is not None:
        return best[2]
    for rule in metric_rules():
        if not rule.keyword and rule.dimension == dimension:
            return rule.metric
    return "other"


# --------------------------------------------------------------------------------------------------
# One candidate


@dataclass(frozen=True)
class Mention:
    value: Decimal
    unit: Unit
    qualifier: str | None
    direction: str | None
    metric: str
    start: int  # offset in the span text
    end: int


def read_candidate(text: str, start: int, groups: dict[str, str | None], regions: list[tuple[int, int]]) -> Mention | None:
    """The indicator a regex candidate at `start` in `text` stands for, or None when it is not one."""
    prefix = groups["prefix"] or ""
    number = groups["number"] or ""
    suffix = groups["suffix"] or ""
    number_start = start + len(prefix)
    end = start + len(prefix) + sum(len(groups[g] or "") for g in ("number", "inner1", "mult", "inner2", "unit")) + len(suffix)
    unit_written = groups["unit"] or ""
    unit_end = end - len(suffix)
    if not number or not unit_written:
        return None

    if _inside(regions, number_start):
        return None
    before_number = text[max(0, number_start - 12) : number_start]
    if _GLUED_BEFORE.search(before_number) or _RANGE_BEFORE.search(before_number):
        return None
    if before_number.endswith("第") or _ORDINAL_LIST_BEFORE.search(before_number):
        return None
    if unit_end < len(text) and text[unit_end] in _UNIT_VETO.get(unit_written, ""):
        return None
    if unit_end < len(text) and unit_written.isascii() and text[unit_end].isascii() and text[unit_end].isalnum():
        return None

    if not number[0].isascii():
        if unit_written == "期" or text.startswith(_CJK_NAME_FOLLOWERS, unit_end):
            return None  # 三期 is a phase; 八项规定, 三年行动计划 are names
    number, mult = _split_chinese_multiplier(number, groups["mult"] or "")
    value = parse_number(number)
    if value is None:
        return None
    unit = resolve_unit(mult + unit_written)
    if unit is None:
        return None
    if unit_written == "年" and not mult and re.fullmatch(r"[0-9]{4}", number) and 1900 <= int(number) <= 2100:
        return None  # a year (2021年, 2021年度), not a duration

    qualifier = None
    before_prefix = text[max(0, start - 2) : start]
    if prefix and (
        (prefix == "近" and unit.dimension == "time")  # 近3年: the last three years
        or (prefix.startswith("超") and ("不" in before_prefix or before_prefix.endswith("消")))  # 不超过, 消超
        or (prefix == "约" and before_prefix[-1:] != "" and before_prefix[-1] in _WORD_BEFORE_YUE)  # 签约7个
    ):
        start, prefix = number_start, ""
    if prefix:
        qualifier = _PREFIX_QUALIFIERS[prefix]
    for inner in (groups["inner1"], groups["inner2"]):
        if inner:
            qualifier = _INNER_QUALIFIERS[inner]
    if suffix:
        qualifier = _SUFFIX_QUALIFIERS[suffix]

    direction = direction_before(text[max(0, start - 8) : start], unit.dimension)

    clause_start = max((m.end() for m in _CLAUSE_BREAK.finditer(text, 0, start)), default=0)
    next_break = _CLAUSE_BREAK.search(text, end)
    clause_end = next_break.start() if next_break else len(text)
    metric = classify_metric(text[clause_start:start], text[end:clause_end], unit.dimension)

    return Mention(value, unit, qualifier, direction, metric, start, end)


# --------------------------------------------------------------------------------------------------
# The frame


def extract_indicators(spans: pl.DataFrame) -> pl.DataFrame:
    """One row per indicator found in the spans; see the module docstring for the rules."""
    if spans.is_empty():
        return pl.DataFrame(schema=INDICATORS_SCHEMA)
    pattern = candidate_pattern()
    candidates = (
        spans.with_row_index("_span")
        .select("_span", pl.col("text").str.extract_all(pattern).alias("_match"))
        .explode("_match")
        .drop_nulls("_match")
        .with_columns(pl.col("_match").str.extract_groups(f"^(?:{pattern})$").alias("_groups"))
        .unnest("_groups")
    )
    by_span: dict[int, list[dict[str, Any]]] = {}
    for row in candidates.iter_rows(named=True):
        by_span.setdefault(row["_span"], []).append(row)

    records: list[dict[str, Any]] = []
    for index, span in enumerate(spans.iter_rows(named=True)):
        found = by_span.get(index)
        if not found:
            continue
        text: str = span["text"]
        regions = name_regions(text)
        cursor = 0
        previous: Mention | None = None
        for row in found:
            # Matches come in order and do not overlap; with no look-around in the pattern, the first
            # occurrence of a match's text after the previous match is where the regex found it.
            local = text.find(row["_match"], cursor)
            if local < 0:
                raise RuntimeError(f"candidate {row['_match']!r} not found in its span")
            cursor = local + len(row["_match"])
            mention = read_candidate(text, local, row, regions)
            if mention is None:
                continue
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
            records.append(
                {
                    "content_sha256": span["content_sha256"],
                    "node_ordinal": span["node_ordinal"],
                    "measure_ordinal": span["measure_ordinal"],
                    "value": float(mention.value),
                    "unit": mention.unit.unit,
                    "value_base": float(mention.value * mention.unit.factor),
                    "base_unit": mention.unit.base_unit,
                    "qualifier": mention.qualifier,
                    "direction": mention.direction,
                    "metric": mention.metric,
                    "quote": text[mention.start : mention.end],
                    "char_start": span["char_start"] + mention.start,
                    "char_end": span["char_start"] + mention.end,
                }
            )
    return pl.DataFrame(records, schema=INDICATORS_SCHEMA)
