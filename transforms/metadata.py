"""Notice metadata (通报要素): title, publisher, dates of the inspection and feedback, contacts.

`extract_metadata(notices)` reads each normalised notice text (transforms.text.normalize_text) and returns one
row per notice with the columns of docs/architecture.md. It is pure: no I/O besides reading the cue file
`metadata_cues.yaml` next to this module, which holds every word list the parser relies on.

How each field is found (by cues and patterns, never by titles or file names):

- The *opening* is the first sentence (split on 。 and line breaks) among the first lines that names an
  inspecting body ("区委第二巡察组", "九届区委第二轮巡察第一组", "省委第十巡视组") or says "对<unit>进行了<kind>".
  From it: inspecting_body, inspected_unit (between 对 and 进行了/开展了, as written), the inspection period
  (the first date range "…至…", else a single date as the start), inspection_kind (巡视/巡察 named in the
  body, else in the sentence) and inspecting_level (first level word of the body, else of "根据…统一部署").
- feedback_date: the first date after the inspection period in a sentence (from the opening on) that says
  反馈.
- Dates: "2021年8月13日", "2023年1月上旬", "8月底", Chinese numerals ("二〇二一年八月十三日", read with
  cn2an). A date without a year takes the most recent explicit year written before it, then moves forward
  a year at a time while it falls before the date it must follow (a range end follows its start; the
  feedback follows the inspection end; the signature follows the feedback). Precision codes: day, month,
  early_month (上旬/初), mid_month (中旬), late_month (下旬/底/末), year; a vague date is stored as the first
  day of its period (上旬 → 1st, 中旬 → 11th, 下旬 → 21st, month → 1st, year → 1 January).
- title: a line before the opening that ends with a title word (通报/情况/公告/…) and is not a sentence;
  otherwise null (a title is never constructed).
- publisher / publish_date: the signature at the end, after web-page junk lines are dropped: a line that
  is only a date is the publish_date, a short organisation line next to it (ending in 委员会/党委/…) the
  publisher. Without a signature, the publisher is the part of the title before 关于 when it names an
  organisation; otherwise null.
- report_stage: the phrase between 现将 and 予以公布 (or similar), from 整改 on ("整改进展情况",
  "整改阶段性进展情况"); else the same phrase in the title.
- contact_phones / contact_emails / contact_address: from the contact lines among the last lines. Phones
  only from segments labelled 电话/联系方式/…; the address from a segment labelled 地址/邮政信箱/….
- A notice in traditional characters is read through a character-for-character simplified copy (OpenCC
  t2s), so its metadata values come out in simplified characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from transforms.chinese_numerals import integer
from transforms.text import simplified_for_matching

_CUES_YAML = Path(__file__).with_name("metadata_cues.yaml")

METADATA_SCHEMA: dict[str, Any] = {
    "content_sha256": pl.String,
    "title": pl.String,
    "publisher": pl.String,
    "publish_date": pl.Date,
    "report_stage": pl.String,
    "inspection_kind": pl.String,
    "inspecting_level": pl.String,
    "inspecting_body": pl.String,
    "inspected_unit": pl.String,
    "inspection_start": pl.Date,
    "inspection_start_precision": pl.String,
    "inspection_end": pl.Date,
    "inspection_end_precision": pl.String,
    "feedback_date": pl.Date,
    "feedback_date_precision": pl.String,
    "contact_phones": pl.List(pl.String),
    "contact_emails": pl.List(pl.String),
    "contact_address": pl.String,
}

# How far into the notice the opening is looked for (lines, then characters).
_OPENING_LINES = 6
_OPENING_CHARS = 3000


@cache
def cues() -> dict[str, Any]:
    with _CUES_YAML.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _alt(words: list[str]) -> str:
    """Regex alternation of literal words, longest first."""
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


# ---------------------------------------------------------------------------------------------------- dates

_CN_DIGITS = "〇零一二三四五六七八九"
_YEAR = rf"(?P<y>\d{{4}}|[{_CN_DIGITS}]{{4}})年"
_MONTH = r"(?P<m>1[0-2]|0?[1-9]|十[一二]?|[一二三四五六七八九])月"
_DAY = r"(?P<d>3[01]|[12]\d|0?[1-9]|[一二三]?十[一二三四五六七八九]?|[一二三四五六七八九])[日号]"
_DAY_ONLY = re.compile(r"(?P<d>3[01]|[12]\d|0?[1-9]|[一二三]?十[一二三四五六七八九]?|[一二三四五六七八九])[日号]")


@cache
def _date_pattern() -> re.Pattern[str]:
    parts = _alt(list(cues()["month_parts"]))
    # Every date starts with a digit or a Chinese numeral: the look-ahead lets the scan skip other positions.
    return re.compile(
        rf"(?=[\d{_CN_DIGITS}十])(?:"
        rf"(?<![\d{_CN_DIGITS}十])(?:{_YEAR})?{_MONTH}(?:{_DAY}|(?P<p>{parts}))?"
        rf"|(?<![\d{_CN_DIGITS}])(?P<yo>\d{{4}}|[{_CN_DIGITS}]{{4}})年(?![\d一二三四五六七八九十度底初末中内来以])"
        rf")"
    )


def _cn_int(value: str) -> int:
    if len(value) > 1 and all(ch in _CN_DIGITS for ch in value):  # a year written digit by digit: 二〇二一
        return int("".join(str(max(_CN_DIGITS.index(ch) - 1, 0)) for ch in value))
    return integer(value)


@dataclass(frozen=True)
class DateToken:
    start: int  # offset of the token in the searched string
    end: int
    year: int | None  # as written; None when the year is omitted
    month: int | None
    day: int  # first day of the period the token names
    precision: str

    def resolve(self, context_year: int | None, not_before: date | None = None) -> date | None:
        """The Date, taking an omitted year from `context_year` and rolling it forward past `not_before`."""
        year = self.year if self.year is not None else context_year
        if year is None:
            return None
        month = self.month or 1
        try:
            value = date(year, month, self.day)
        except ValueError:
            return None
        if self.year is None and not_before is not None:
            while value < not_before and value.year < not_before.year + 2:
                value = value.replace(year=value.year + 1)
        return value


def find_dates(text: str, offset: int = 0) -> list[DateToken]:
    """Every date expression in `text` (offsets shifted by `offset`), in order."""
    parts = cues()["month_parts"]
    tokens = []
    for match in _date_pattern().finditer(text):
        if match.group("yo"):
            tokens.append(DateToken(match.start() + offset, match.end() + offset, _cn_int(match.group("yo")), None, 1, "year"))
            continue
        year = _cn_int(match.group("y")) if match.group("y") else None
        month = _cn_int(match.group("m"))
        if match.group("d"):
            day, precision = _cn_int(match.group("d")), "day"
        elif match.group("p"):
            precision, day = parts[match.group("p")]
        else:
            day, precision = 1, "month"
        tokens.append(DateToken(match.start() + offset, match.end() + offset, year, month, day, precision))
    return tokens


def _context_year(tokens: list[DateToken], position: int) -> int | None:
    """The most recent explicit year written before `position`."""
    years = [t.year for t in tokens if t.year is not None and t.start < position]
    return years[-1] if years else None


# ---------------------------------------------------------------------------------------------------- opening


@cache
def _body_pattern() -> re.Pattern[str]:
    c = cues()
    word = r"[^\s\d,。;:、()“”‘’《》对于向在的和与及]"
    return re.compile(
        rf"(?:[一二三四五六七八九十\d]+届)?(?:{_alt(c['inspecting_levels'])}){word}{{0,12}}?"
        rf"(?:{_alt(c['inspection_kinds'])}){word}{{0,6}}?组"
    )


@cache
def _unit_pattern() -> re.Pattern[str]:
    c = cues()
    return re.compile(
        rf"对(?P<unit>[^,。;:]{{1,60}}?)(?:{_alt(c['inspection_verbs'])})[^,。;]{{0,10}}?(?P<kind>{_alt(c['inspection_kinds'])})"
    )


def _sentences(text: str, limit: int) -> list[tuple[int, str]]:
    """(offset, sentence) pairs of text[:limit], split on 。 and line breaks."""
    out, start = [], 0
    for match in re.finditer(r"[。\n]", text[:limit] + "\n"):
        if match.start() > start:
            out.append((start, text[start : match.start()]))
        start = match.end()
    return out


def _first_level(text: str) -> str | None:
    found = re.search(_alt(cues()["inspecting_levels"]), text)
    return found.group(0) if found else None


def _kind_in(text: str) -> str | None:
    """The inspection kind nearest the end of `text` (the body "…巡察第一组" names it last)."""
    found = list(re.finditer(_alt(cues()["inspection_kinds"]), text))
    return found[-1].group(0) if found else None


def _parse_opening(text: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    head_limit = min(len(text), _OPENING_CHARS)
    head_lines = text.split("\n")[:_OPENING_LINES]
    head_limit = min(head_limit, sum(len(line) + 1 for line in head_lines))
    sentences = _sentences(text, head_limit)
    # The first sentence naming a body or "对<unit>进行了<kind>" and a date; else the first naming one
    # (a title "关于对某局开展巡察整改情况的通报" names a unit but no date).
    named = [i for i, (_, s) in enumerate(sentences) if _body_pattern().search(s) or _unit_pattern().search(s)]
    dated = [i for i in named if find_dates(sentences[i][1])]
    opening = dated[0] if dated else named[0] if named else None
    if opening is None:
        return out
    out["_opening_offset"] = sentences[opening][0]
    offset, sentence = sentences[opening]
    body = _body_pattern().search(sentence)
    unit = _unit_pattern().search(sentence, body.end() if body else 0) or _unit_pattern().search(sentence)
    if body:
        out["inspecting_body"] = body.group(0)
    if unit:
        out["inspected_unit"] = unit.group("unit").strip()
    out["inspection_kind"] = (_kind_in(body.group(0)) if body else None) or (unit.group("kind") if unit else None)
    level = _first_level(body.group(0)) if body else None
    if level is None:
        deploy = re.search(r"根据(.{0,12}?)统一部署", text[: offset + len(sentence)])
        level = _first_level(deploy.group(1)) if deploy else None
    out["inspecting_level"] = level

    all_tokens = find_dates(text[:head_limit])
    tokens = [t for t in all_tokens if offset <= t.start < offset + len(sentence)]
    start_tok = end_tok = None
    separators = _alt(cues()["range_separators"])
    for tok in tokens:
        gap = text[tok.end :]
        sep = re.match(rf"\s*(?:{separators})\s*", gap)
        if not sep:
            continue
        following = [t for t in tokens if t.start == tok.end + sep.end()]
        if following:
            start_tok, end_tok = tok, following[0]
            break
        day_only = _DAY_ONLY.match(gap, sep.end())
        if day_only and tok.month is not None:  # "8月13日至29日": the end inherits year and month
            start_tok = tok
            end_tok = DateToken(tok.end + sep.end(), tok.end + day_only.end(), tok.year, tok.month, _cn_int(day_only.group("d")), "day")
            break
    if start_tok is None and tokens:
        start_tok = tokens[0]
    last_period_pos = offset
    start = end = None
    if start_tok is not None:
        start = start_tok.resolve(_context_year(all_tokens, start_tok.start))
        out["inspection_start"], out["inspection_start_precision"] = start, start_tok.precision if start else None
        last_period_pos = start_tok.end
    if end_tok is not None:
        context = end_tok.year if end_tok.year is not None else (start_tok.year or _context_year(all_tokens, end_tok.start))
        end = end_tok.resolve(context, start)
        out["inspection_end"], out["inspection_end_precision"] = end, end_tok.precision if end else None
        last_period_pos = end_tok.end

    feedback_cue = _alt(cues()["feedback_cues"])
    for s_offset, s_text in sentences[opening : opening + 3]:
        if not re.search(feedback_cue, s_text):
            continue
        candidates = [t for t in all_tokens if s_offset <= t.start < s_offset + len(s_text) and t.start >= last_period_pos]
        if candidates:
            tok = candidates[0]
            value = tok.resolve(_context_year(all_tokens, tok.start), end or start)
            out["feedback_date"], out["feedback_date_precision"] = value, tok.precision if value else None
            break
    return out


# ---------------------------------------------------------------------------------------------------- lines


def _is_junk(line: str) -> bool:
    return any(cue in line for cue in cues()["web_junk"])


def _content_lines(text: str) -> list[tuple[int, str]]:
    """(offset, line) pairs without the web-junk lines at either end."""
    lines, offset = [], 0
    for line in text.split("\n"):
        lines.append((offset, line))
        offset += len(line) + 1
    while lines and (not lines[0][1].strip() or _is_junk(lines[0][1])):
        lines.pop(0)
    while lines and (not lines[-1][1].strip() or _is_junk(lines[-1][1])):
        lines.pop()
    return lines


_SENTENCE_PUNCT = re.compile(r"[。,;:!?、]")


def _title(lines: list[tuple[int, str]], opening_offset: int | None) -> str | None:
    c = cues()["title"]
    for offset, line in lines:
        if opening_offset is not None and offset + len(line) > opening_offset:
            break
        candidate = line.strip()
        if (
            candidate
            and len(candidate) <= c["max_length"]
            and not _SENTENCE_PUNCT.search(candidate)
            and re.search(rf"(?:{_alt(c['suffixes'])})$", candidate)
        ):
            return candidate
    return None


def _is_org_line(line: str) -> bool:
    c = cues()
    line = line.strip()
    return (
        0 < len(line) <= c["publisher_max_length"]
        and not _SENTENCE_PUNCT.search(line)
        and not re.search(r"\d", line)
        and re.search(rf"(?:{_alt(c['publisher_suffixes'])})$", line) is not None
    )


def _only_date(line: str) -> DateToken | None:
    line = line.strip()
    tokens = find_dates(line)
    if len(tokens) == 1 and tokens[0].start == 0 and tokens[0].end == len(line) and tokens[0].precision != "year":
        return tokens[0]
    return None


def _signature(lines: list[tuple[int, str]]) -> tuple[str | None, DateToken | None]:
    """(publisher, date token) of the signature among the last lines."""
    tail = [line.strip() for _, line in lines[-3:]]
    publisher, when = None, None
    for index in range(len(tail) - 1, -1, -1):
        line = tail[index]
        if when is None and _only_date(line):
            when = _only_date(line)
            for neighbour in (index - 1, index + 1):
                if 0 <= neighbour < len(tail) and _is_org_line(tail[neighbour]):
                    publisher = tail[neighbour]
                    break
            break
        tokens = find_dates(line)  # "中共某某委员会 2022年4月11日" on one line
        if tokens and tokens[-1].end == len(line) and tokens[-1].precision != "year":
            head = line[: tokens[-1].start].strip()
            if _is_org_line(head) and _only_date(line[tokens[-1].start :]):
                return head, _only_date(line[tokens[-1].start :])
    if publisher is None and when is None and tail and _is_org_line(tail[-1]):
        publisher = tail[-1]
    return publisher, when


def _report_stage(text: str, title: str | None) -> str | None:
    c = cues()["report_stage"]
    pattern = re.compile(rf"(?:{_alt(c['openers'])})(?P<phrase>[^,。;:\n]{{1,40}}?)(?:{_alt(c['closers'])})")
    found = pattern.search(text[:_OPENING_CHARS])
    phrase = found.group("phrase") if found else None
    if phrase is None and title:
        in_title = re.search(rf"(?:关于)?(?P<phrase>[^,。;:]*?{re.escape(c['anchor'])}[^,。;:]*?)(?:的)?(?:通报|公告|公示|报告)$", title)
        phrase = in_title.group("phrase") if in_title else None
    if not phrase:
        return None
    anchor = phrase.find(c["anchor"])
    if anchor >= 0:
        return phrase[anchor:]
    prefixes = _alt(c["strip_prefixes"])
    return re.sub(rf"^(?:{prefixes})+", "", phrase) or None


# ---------------------------------------------------------------------------------------------------- contacts

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_PHONE = re.compile(
    r"(?<![\dA-Za-z])(?:\(0\d{2,3}\)\s*|0\d{2,3}\s*[-—]\s*)?\d{7,8}(?!\d)"
    r"|(?<!\d)1[3-9]\d{9}(?!\d)"
    r"|(?<!\d)12\d{3}(?!\d)"
)


def _contacts(lines: list[tuple[int, str]]) -> tuple[list[str], list[str], str | None]:
    c = cues()["contact"]
    region = [line for _, line in lines[-c["tail_lines"] :] if any(cue in line for cue in c["line_cues"])]
    phones: list[str] = []
    emails: list[str] = []
    address = None
    address_label = re.compile(rf"^(?:{_alt(c['address_labels'])})\s*:?\s*")
    phone_label = re.compile(_alt(c["phone_labels"]))
    for line in region:
        for email in _EMAIL.findall(line):
            if email not in emails:
                emails.append(email)
        for segment in re.split(r"[;。,]", _EMAIL.sub(" ", line)):
            segment = segment.strip()
            if not segment:
                continue
            # "联系方式:地址:…": look at the last labelled part of the segment.
            parts = segment.split(":")
            labelled_address = None
            for i, part in enumerate(parts):
                if address_label.match(part.strip()):
                    rest = ":".join(parts[i:]).strip()
                    labelled_address = address_label.sub("", rest, count=1).strip()
                    break
            if labelled_address:
                address = address or labelled_address
                continue
            label = phone_label.search(segment)
            # The numbers follow the label directly: "联系电话:0735-2880717、13912345678".
            listed = label and re.match(
                rf"(?:[:\s]|{phone_label.pattern})*(?P<numbers>(?:{_PHONE.pattern})(?:\s*[、/和或]\s*(?:{_PHONE.pattern}))*)",
                segment[label.end() :],
            )
            if listed:
                for phone in _PHONE.findall(listed.group("numbers")):
                    phone = phone.strip()
                    if phone not in phones:
                        phones.append(phone)
    return phones, emails, address


# ---------------------------------------------------------------------------------------------------- notice


def parse_metadata(text: str, matching: str | None = None) -> dict[str, Any]:
    """The metadata of one normalised notice text (the columns of METADATA_SCHEMA but content_sha256)."""
    row: dict[str, Any] = {name: None for name in METADATA_SCHEMA if name != "content_sha256"}
    text = simplified_for_matching(text) if matching is None else matching
    opening = _parse_opening(text)
    opening_offset = opening.pop("_opening_offset", None)
    row.update(opening)
    lines = _content_lines(text)
    row["title"] = _title(lines, opening_offset)
    publisher, when = _signature(lines)
    if publisher is None and row["title"]:
        separator = cues()["title"]["publisher_separator"]
        head = row["title"].split(separator)[0] if separator in row["title"] else ""
        if head and _is_org_line(head):
            publisher = head
    row["publisher"] = publisher
    if when is not None:
        context = row["feedback_date"] or row["inspection_end"] or row["inspection_start"]
        row["publish_date"] = when.resolve(context.year if context else None, context)
    row["report_stage"] = _report_stage(text, row["title"])
    row["contact_phones"], row["contact_emails"], row["contact_address"] = _contacts(lines)
    return row


def extract_metadata(notices: pl.DataFrame, matching: list[str] | None = None, texts: list[str | None] | None = None) -> pl.DataFrame:
    """One row per notice (input columns content_sha256, text) with the columns of METADATA_SCHEMA.

    `matching`: `simplified_for_matching` of each notice's text, in row order, when the caller has it
    (transforms.pipeline converts each text once for metadata and claims); else converted here. `texts`:
    the `text` column as a list, when the caller has it.
    """
    texts = notices.get_column("text").to_list() if texts is None else texts
    pairs = zip(notices.get_column("content_sha256").to_list(), texts)
    rows = [
        {"content_sha256": sha, **parse_metadata(text or "", None if matching is None else matching[index])}
        for index, (sha, text) in enumerate(pairs)
    ]
    return pl.DataFrame(rows, schema=METADATA_SCHEMA) if rows else pl.DataFrame(schema=METADATA_SCHEMA)
