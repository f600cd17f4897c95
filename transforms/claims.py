"""Summary counts a notice claims (共计15个问题已完成整改), beside the counts parsed from its hierarchy.

`extract_claims(notices, issues, measures=None)` returns one row per stated count:
`content_sha256, subject, status, claimed_count, parsed_count, quote, char_start, char_end`, where
`text[char_start:char_end] == quote` in the normalised notice text. Claimed and parsed counts may disagree;
both are recorded and nothing is forced to agree. Word lists live in `claims_cues.yaml`; status phrases in
`status_phrases.csv` (transforms/status.py).

What is a claim. An *anchor* is a count of a rectification noun: "<N><个|项|条|件><modifier><noun>"
("48个具体问题", "153条有针对性的整改措施") or "<noun><N><unit>" ("整改措施153条"), optionally preceded by a
grouping count "<N><类|方面|个方面…>" ("16类48个具体问题", "四方面14个问题"). An anchor on problems is kept
only when its clause says it summarises the inspection (反馈/移交/细化/分解/共计… before it) or a status
follows it; a measures anchor (整改措施) is always kept. "共召开4次党委会议" or "发现问题12个" are not claims.
When the issues frame carries node offsets (char_start/char_end, as structure.extract_issues gives),
anchors inside the text of an issue or sub_issue node are figures of that issue, not summaries, and are
dropped — unless a top-level section heading ("二、…") starts between the node and the anchor, which
happens when status groups ("二、正在推进整改的问题") are not nodes themselves.

Rows an anchor yields:
- a grouping count → subject 'categories', status null ("四方面" → 4);
- the anchor itself → a total (status null), or, when a status phrase directly follows it ("共计15个问题
  已完成整改", "10项问题完成整改"), a status count with that status;
- each following comma-separated clause that is a status count ("已完成整改11个", "1个暂不具备整改条件",
  "正在推进2个", "已整改销号26个") → that status; "已全部办结" → that status for the whole total.
  The chain stops at the first clause that is not a status count, and at ; 。 or a line break.

Subjects: 'issues' (问题), 'transferred_issues' (问题 after 移交/交办: problems handed over, outside the
hierarchy), 'refined_issues' (a count written right after 细化成/分解为: the finer problems the feedback was
split into), 'categories' (a grouping count), 'measures' (整改措施/整改举措), 'petitions' (信访件),
'leads' (问题线索).

parsed_count, the documented rule:
- The counted problems are the finest level of the hierarchy that has nodes: sub_issue if any exist, else
  issue. 'issues' counts those nodes; 'categories' counts the nodes of the next level up (issue above
  sub_issue, category above issue). So in a notice with 16 issues and 48 sub_issues, "16类48个具体问题" is
  categories 16 ↔ 16 issue nodes and issues 48 ↔ 48 sub_issue nodes.
- A status count counts the finest-level nodes with that status; 'completed' (已完成整改) also counts
  completed_long_term (已完成整改并长期坚持), since such a problem is completed; every other status counts its
  own code only. When no finest-level node has a status, the hierarchy cannot say: null.
- 'refined_issues' counts sub_issue nodes (null when there are none).
- 'measures' totals count the rows of `measures` for the notice (null when `measures` is None or has none);
  measures carry no status, so measure status counts are null.
- 'transferred_issues', 'petitions', 'leads' are outside the hierarchy: null.
- Any count is null when the notice has no node of the level it needs.

A notice in traditional characters is matched through a character-for-character simplified copy; quotes
and offsets refer to the text as given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from transforms.chinese_numerals import integer
from transforms.text import matches_where, simplified_for_matching
from transforms.status import status_phrases

_CUES_YAML = Path(__file__).with_name("claims_cues.yaml")

CLAIMS_SCHEMA: dict[str, Any] = {
    "content_sha256": pl.String,
    "subject": pl.String,
    "status": pl.String,
    "claimed_count": pl.Int64,
    "parsed_count": pl.Int64,
    "quote": pl.String,
    "char_start": pl.Int64,
    "char_end": pl.Int64,
}

_NUM_CHARACTERS = "零〇一二三四五六七八九十百千两"
_NUM = rf"\d+|[{_NUM_CHARACTERS}]+"
_WORD = r"[^\W\d_]"  # a letter (CJK included), no digit, no punctuation
_CLAUSE_BREAK = re.compile(r"[,;。:!?\n]")
_TOP_HEADING = re.compile(r"\n[一二三四五六七八九十]+、")


@cache
def cues() -> dict[str, Any]:
    with _CUES_YAML.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _alt(words: list[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


@cache
def _nouns() -> dict[str, str]:
    """noun → subject."""
    return {noun: subject for subject, nouns in cues()["subjects"].items() for noun in nouns}


@cache
def _status_alt() -> str:
    return _alt([phrase for phrase, _ in status_phrases()])


@cache
def _patterns() -> dict[str, Any]:
    c = cues()
    units, nouns = _alt(c["count_units"]), _alt(list(_nouns()))
    prefixes = _alt(c["status_prefixes"])
    # A forward anchor starts with a total prefix (共计…) or a number: the look-ahead on those first characters
    # lets the scan skip every other position at once (same matches, about five times faster).
    first_characters = "".join(sorted({re.escape(word[0]) for word in c["total_prefixes"]}))
    # Every anchor starts (after its prefix) with a number and a count or group unit: asserting that too means
    # the full pattern is tried only there, not at every numeral of the text (same matches, measured ~4x faster).
    unit_first = "".join(sorted({re.escape(word[0]) for word in c["count_units"] + c["group_units"]}))
    forward = re.compile(
        rf"(?=[\d{_NUM_CHARACTERS}{first_characters}])"
        rf"(?=(?:{_alt(c['total_prefixes'])})?(?:{_NUM})\s*[{unit_first}])"
        rf"(?:(?P<prefix>{_alt(c['total_prefixes'])}))?"
        rf"(?:(?P<group>(?P<gnum>{_NUM})\s*(?:{_alt(c['group_units'])}))(?:{_alt(c['group_connectors'])})?)?"
        rf"(?P<num>{_NUM})\s*(?:{units})(?P<mod>{_WORD}{{0,{c['max_modifier']}}}?)(?P<noun>{nouns})(?!线索)"
    )
    # The forward anchor as Polars (Rust) reads it, for matches_where: no look-around, and classes that hold
    # at least what Python's hold (Python's \s also has \x1c-\x1f; a letter is any character but a digit or _).
    forward_relaxed = (
        rf"(?:{_alt(c['total_prefixes'])})?"
        rf"(?:(?:{_NUM})[\s\x1c-\x1f]*(?:{_alt(c['group_units'])})(?:{_alt(c['group_connectors'])})?)?"
        rf"(?:{_NUM})[\s\x1c-\x1f]*(?:{units})[^\d_]{{0,{c['max_modifier']}}}?(?:{nouns})"
    )
    backward = re.compile(rf"(?P<noun>{nouns})(?:共计|共|为)?(?P<num>{_NUM})\s*(?:{units})(?!{_WORD}{{0,3}}(?:{nouns}))")
    status = _status_alt()
    filler = c["max_status_filler"]
    # "已完成整改11个", "已整改销号26个", "其中基本完成整改10个问题"
    status_first = re.compile(
        rf"(?:{prefixes})*(?P<status>{status}){_WORD}{{0,{filler}}}?(?P<num>{_NUM})(?:{units})(?:具体)?(?:问题)?"
    )
    # "1个暂不具备整改条件", "2个正在整改过程中"
    count_first = re.compile(
        rf"(?:{prefixes})*(?P<num>{_NUM})(?:{units})(?:问题)?(?:{prefixes})*(?P<status>{status}){_WORD}{{0,6}}"
    )
    leading_status = re.compile(rf"(?:{prefixes})*(?P<status>{status})")
    return {
        "forward": forward,
        "forward_relaxed": forward_relaxed,
        "backward": backward,
        "status_first": status_first,
        "count_first": count_first,
        "leading_status": leading_status,
    }


def _number(value: str) -> int | None:
    try:
        return integer(value)
    except (ValueError, KeyError, TypeError):
        return None


def _code(phrase: str) -> str:
    return dict(status_phrases())[phrase]


@dataclass(frozen=True)
class Claim:
    subject: str
    status: str | None
    claimed_count: int
    quote: str
    char_start: int
    char_end: int


def _clause_start(text: str, position: int) -> int:
    for index in range(position - 1, -1, -1):
        if _CLAUSE_BREAK.match(text, index):
            return index + 1
    return 0


def _clause_end(text: str, position: int) -> int:
    found = _CLAUSE_BREAK.search(text, position)
    return found.start() if found else len(text)


def _stripped_span(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _status_item(text: str, start: int, end: int, total: int | None) -> tuple[str, int] | None:
    """(status code, count) when text[start:end] is a status count, else None."""
    clause = text[start:end]
    p = _patterns()
    for name in ("status_first", "count_first"):
        found = p[name].fullmatch(clause)
        if found:
            count = _number(found.group("num"))
            return (_code(found.group("status")), count) if count is not None else None
    if total is not None and not re.search(_NUM, clause) and any(w in clause for w in cues()["all_words"]):
        found = re.search(_status_alt(), clause)
        if found and len(clause) <= len(found.group(0)) + 4:
            return _code(found.group(0)), total
    return None


def _inside_issue(text: str, position: int, spans: list[tuple[int, int]]) -> bool:
    for start, end in spans:
        if start <= position < end and not _TOP_HEADING.search(text, start, position):
            return True
    return False


def forward_anchors(matching: list[str]) -> list[list[re.Match[str]]]:
    """The forward anchors (共计15个问题) of each text, as `find_claims` reads them (see `matches_where`)."""
    p = _patterns()
    return matches_where(p["forward"], matching, p["forward_relaxed"])


def find_claims(
    text: str,
    issue_spans: list[tuple[int, int]] | None = None,
    matching: str | None = None,
    forward: list[re.Match[str]] | None = None,
) -> list[Claim]:
    """Every summary count stated in a normalised notice text, in reading order.

    `issue_spans` are the (char_start, char_end) of the issue and sub_issue nodes; counts inside them are
    figures of one issue, not claims about the notice. `forward`: the `forward_anchors` of `matching`,
    when the caller has found those of many notices at once.
    """
    # same offsets; quotes are cut from `original` (`matching`: the conversion, when the caller has it)
    original, text = text, simplified_for_matching(text) if matching is None else matching
    c = cues()
    p = _patterns()
    spans = issue_spans or []
    if forward is None:
        (forward,) = forward_anchors([text])
    anchors: list[tuple[re.Match[str], bool]] = [(m, True) for m in forward]
    taken = [(m.start(), m.end()) for m, _ in anchors]
    for m in p["backward"].finditer(text):
        if not any(s < m.end() and m.start() < e for s, e in taken):
            anchors.append((m, False))
    anchors.sort(key=lambda pair: pair[0].start())

    claims: list[Claim] = []
    consumed = 0  # end of the text already read as part of a claim (a chain item is not a new anchor)
    for match, forward in anchors:
        if match.start() < consumed or _inside_issue(text, match.start(), spans):
            continue
        total = _number(match.group("num"))
        if total is None:
            continue
        if forward and any(word in match.group("mod") for word in c["modifier_stop_words"]):
            continue
        subject = _nouns()[match.group("noun")]
        clause_from = _clause_start(text, match.start())
        before = text[clause_from : match.start()]
        if subject == "issues":
            if any(cue in before for cue in c["transfer_cues"]):
                subject = "transferred_issues"
            elif forward and re.search(rf"(?:{_alt(c['refinement_verbs'])})\s*$", before):
                subject = "refined_issues"
        has_cue = any(cue in before for cue in c["summary_cues"]) or (
            forward and match.group("prefix") in c["summary_cues"]
        )
        if not forward and subject != "measures" and not has_cue:
            continue  # "发现问题12个": a backward count is a claim only after 反馈/移交/…

        # The rest of the anchor's clause: a status directly after it, or a status count.
        rest_end = _clause_end(text, match.end())
        rest_start, rest_stop = _stripped_span(text, match.end(), rest_end)
        rest_item = _status_item(text, rest_start, rest_stop, total) if rest_stop > rest_start else None
        leading = p["leading_status"].match(text, rest_start, rest_stop) if rest_item is None else None

        chain: list[tuple[str, int, int, int]] = []  # (status, count, start, end)
        if rest_item is not None:
            chain.append((rest_item[0], rest_item[1], rest_start, rest_stop))
        position = rest_end
        while position < len(text) and text[position] == ",":
            start = position + 1
            end = _clause_end(text, start)
            item_start, item_end = _stripped_span(text, start, end)
            item = _status_item(text, item_start, item_end, None if leading else total)
            if item is None:
                break
            chain.append((item[0], item[1], item_start, item_end))
            position = end

        if subject != "measures" and not (has_cue or leading or chain):
            continue

        if forward and match.group("group"):
            gcount = _number(match.group("gnum"))
            if gcount is not None:
                claims.append(Claim("categories", None, gcount, original[match.start("group") : match.end("group")], match.start("group"), match.end("group")))
        if forward:
            quote_start = match.start("num") if match.group("group") else match.start()
        else:
            quote_start = match.start()
        if leading is not None:
            status = _code(leading.group("status"))
            claims.append(Claim(subject, status, total, original[quote_start:rest_stop], quote_start, rest_stop))
        else:
            claims.append(Claim(subject, None, total, original[quote_start : match.end()], quote_start, match.end()))
        for status, count, start, end in chain:
            claims.append(Claim(subject, status, count, original[start:end], start, end))
        consumed = max(claim.char_end for claim in claims)
    return claims


# ------------------------------------------------------------------------------------------------ parsed counts

_PARENT_LEVEL = {"sub_issue": "issue", "issue": "category"}


def status_matches(claimed: str) -> set[str]:
    """Node statuses a status claim counts: 已完成整改 includes 已完成整改并长期坚持."""
    return {"completed", "completed_long_term"} if claimed == "completed" else {claimed}


def _count_nodes(nodes: list[dict[str, Any]], status: str | None) -> int | None:
    if not nodes:
        return None
    if status is None:
        return len(nodes)
    statuses = [node.get("status") for node in nodes]
    if all(s is None for s in statuses):
        return None
    wanted = status_matches(status)
    return sum(1 for s in statuses if s in wanted)


def parsed_count(subject: str, status: str | None, nodes: list[dict[str, Any]], measure_rows: int | None) -> int | None:
    """The count the parsed hierarchy gives for a claim (see the module docstring), or None."""
    by_level: dict[str, list[dict[str, Any]]] = {}
    for node in nodes:
        by_level.setdefault(node["level"], []).append(node)
    finest = "sub_issue" if by_level.get("sub_issue") else "issue" if by_level.get("issue") else None
    if subject == "issues":
        return _count_nodes(by_level.get(finest, []), status) if finest else None
    if subject == "categories":
        if finest is None or status is not None:
            return None
        return len(by_level.get(_PARENT_LEVEL[finest], [])) or None
    if subject == "refined_issues":
        return _count_nodes(by_level.get("sub_issue", []), status)
    if subject == "measures":
        return measure_rows if status is None and measure_rows else None
    return None


def extract_claims(
    notices: pl.DataFrame, issues: pl.DataFrame, measures: pl.DataFrame | None = None, matching: list[str] | None = None
) -> pl.DataFrame:
    """One row per summary count of each notice (columns of CLAIMS_SCHEMA), in reading order.

    `notices`: content_sha256, text. `issues`: content_sha256, node_ordinal, parent_ordinal, level, status
    (and, optionally, char_start/char_end to tell claims from figures inside issues). `measures`:
    content_sha256, node_ordinal, measure_ordinal, or None when measures are not parsed. `matching`:
    `simplified_for_matching` of each notice's text, in row order, when the caller has it.
    """
    issue_columns = [c for c in ("content_sha256", "level", "status", "char_start", "char_end") if c in issues.columns]
    nodes_by_notice: dict[str, list[dict[str, Any]]] = {}
    for node in issues.select(issue_columns).iter_rows(named=True):
        nodes_by_notice.setdefault(node["content_sha256"], []).append(node)
    measure_rows: dict[str, int] = {}
    if measures is not None and measures.height:
        for sha, count in measures.group_by("content_sha256").agg(pl.len()).iter_rows():
            measure_rows[sha] = count

    texts = notices.get_column("text").to_list()  # once: copying the texts out of Polars costs ~0.1 ms a notice
    if matching is None:
        matching = [simplified_for_matching(text or "") for text in texts]
    forward = forward_anchors(matching)  # all notices in one scan
    rows = []
    for index, (sha, text) in enumerate(zip(notices.get_column("content_sha256").to_list(), texts)):
        nodes = nodes_by_notice.get(sha, [])
        spans = [
            (node["char_start"], node["char_end"])
            for node in nodes
            if node["level"] in ("issue", "sub_issue") and node.get("char_start") is not None and node.get("char_end") is not None
        ]
        rows_measures = measure_rows.get(sha) if measures is not None else None
        for claim in find_claims(text or "", spans, matching[index], forward[index]):
            rows.append(
                {
                    "content_sha256": sha,
                    "subject": claim.subject,
                    "status": claim.status,
                    "claimed_count": claim.claimed_count,
                    "parsed_count": parsed_count(claim.subject, claim.status, nodes, rows_measures),
                    "quote": claim.quote,
                    "char_start": claim.char_start,
                    "char_end": claim.char_end,
                }
            )
    return pl.DataFrame(rows, schema=CLAIMS_SCHEMA) if rows else pl.DataFrame(schema=CLAIMS_SCHEMA)
