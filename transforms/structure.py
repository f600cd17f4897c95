"""The problem hierarchy of a notice (问题类别 → 反馈问题 → 具体问题) and its rectification measures (整改措施).

The parser reads structure, not content it has seen before:
1. Lines starting with a numbering label are heading candidates, by numbering system: 一、 / (一) / 1. /
   (1) / ①. A candidate is kept only when its number continues the sequence of its system (n+1, or 1 to
   restart), which rejects sentences that merely start with a figure.
2. The notice's top-level sections (一、二、三、) hold issues only when they carry rectification cues
   (lines opening with 整改情况:, 整改状态:, … or headings quoting a problem, 关于“…” / 对“…”). Framing sections
   (organisation of the work, next steps, contacts) yield nothing. A section heading that states a status
   (一、已完成整改的问题) gives that status to every issue under it.
3. Inside an issue section, the numbering systems nest in the order they first appear. The deepest system
   becomes measures when its items carry no rectification cue while a shallower system does (numbered
   measure paragraphs (1)…(143)); the remaining systems are, from the top, category / issue / sub_issue,
   anchored on the system that quotes problem statements (that one is 'issue').
4. Each leaf node's text is split into blocks by section labels (整改情况:, 下一步推进举措:, …), and blocks into
   measures by inline enumerators (一是, 二是, 一方面); an unenumerated block is one measure.
5. A label opens a block at the start of a line or run in after a sentence (1.关于“…”问题的整改。整改情况:…,
   the one-paragraph layout web pages print): a node's own text then starts at the first label of its heading
   line. Other sentences after a heading's first one are read for a status only: they may describe the problem.
All offsets index the normalised notice text.
"""

import itertools
import re
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache
from pathlib import Path

import polars as pl
import yaml

from transforms.chinese_numerals import cn2an
from transforms.indicators import units
from transforms.status import find_status, status_phrases

ISSUE_SCHEMA = {
    "content_sha256": pl.String,
    "node_ordinal": pl.Int32,
    "parent_ordinal": pl.Int32,
    "level": pl.String,
    "number": pl.String,
    "title": pl.String,
    "status": pl.String,
    "status_phrase": pl.String,
    "status_source": pl.String,
    "expected_completion": pl.Date,
    "text": pl.String,
    "char_start": pl.Int64,
    "char_end": pl.Int64,
}
MEASURE_SCHEMA = {
    "content_sha256": pl.String,
    "node_ordinal": pl.Int32,
    "measure_ordinal": pl.Int32,
    "label": pl.String,
    "phase": pl.String,
    "text": pl.String,
    "char_start": pl.Int64,
    "char_end": pl.Int64,
}
LEVELS = ("category", "issue", "sub_issue")

_CN_DIGITS = "一二三四五六七八九十"
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
# Numbering systems, from the usual outermost to innermost. `label` is the number as written.
_HEADING_PATTERNS = {
    "cn_comma": re.compile(rf"^(?P<label>(?P<n>[{_CN_DIGITS}]+))、"),
    "cn_paren": re.compile(rf"^(?P<label>\((?P<n>[{_CN_DIGITS}]+)\))"),
    "arabic": re.compile(r"^(?P<label>(?P<n>\d{1,3}))(?:[.、](?!\d)|\s)"),
    "arabic_paren": re.compile(r"^(?P<label>\((?P<n>\d{1,3})\))"),
    "circled": re.compile(rf"^(?P<label>(?P<n>[{_CIRCLED}]))"),
    # 第一、 / 第二, headings; a punctuation mark must follow so that 第一巡察组… is not a heading.
    "cn_ordinal": re.compile(rf"^(?P<label>第(?P<n>[{_CN_DIGITS}]+))[、,,::.]"),
}
# The quoted title stays within the heading's first sentence: a run-in text after it may quote too.
_QUOTED_PROBLEM = re.compile(r"^\s*(?:关于|对)[“\"'‘](?P<title>[^。]+)[”\"'’](?:问题)?(?:的)?(?:整改|问题|$)")
_EXPECTED = re.compile(r"预计(?:于)?(?P<y>\d{4})年(?P<m>\d{1,2})月(?:(?P<d>\d{1,2})日)?(?:底|前|前后)?(?:完成|整改到位|办结)")


@cache
def cues() -> dict:
    with Path(__file__).with_name("hierarchy_cues.yaml").open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


# The characters after which a label may run in on the same line (besides the start of a line).
_LABEL_AFTER = "。;!?"


@cache
def _label_pattern() -> re.Pattern[str]:
    """A label wherever it is written; _labels keeps those that open a block. (A pattern starting with the labels
    lets the regex engine skip to their first characters; one starting with where they may stand, a line start
    or a sentence end, is tried at every character: the parse was ~12 % slower.)"""
    labels = sorted(cues()["section_labels"] + cues()["status_labels"], key=len, reverse=True)
    return re.compile(rf"(?P<label>{'|'.join(map(re.escape, labels))})\s*[::]")


def _labels(text: str, start: int = 0, first_only: bool = False) -> list[re.Match[str]]:
    """The labels of `text` (from `start`) that open a block: at the start of a line, or run in after a
    sentence on it (…问题的整改。整改情况:…), spaces or tabs allowed before them; the first only if asked."""
    found = []
    for match in _label_pattern().finditer(text, start):
        at = match.start()
        while at and text[at - 1] in " \t":
            at -= 1
        if not at or text[at - 1] == "\n" or text[at - 1] in _LABEL_AFTER:
            found.append(match)
            if first_only:
                break
    return found


# The characters after which an inline enumerator may start (besides the start of a block).
_ENUMERATOR_AFTER = "[。;;!?\n:]"


@cache
def _enumerator_pattern() -> re.Pattern[str]:
    # An enumerator counts only at the start of a block or right after a sentence or clause end.
    alternatives = "|".join(cues()["measure_enumerators"])
    return re.compile(rf"(?:^|(?<={_ENUMERATOR_AFTER}))(?P<label>{alternatives})(?=[,,:]?)")


@cache
def _enumerator_place() -> re.Pattern[str]:
    """A break after which an enumerator follows: most breaks are followed by none, and are skipped by
    the regex engine instead of being tried one by one."""
    return re.compile(rf"{_ENUMERATOR_AFTER}(?=(?:{'|'.join(cues()['measure_enumerators'])}))")


def _enumerators(block: str) -> list[re.Match[str]]:
    """`list(_enumerator_pattern().finditer(block))`, the pattern tried only where an enumerator may start
    (the start of the block and after each break followed by an enumerator) instead of at every character
    of the block."""
    pattern = _enumerator_pattern()
    found: list[re.Match[str]] = []
    resume = 0  # the end of the last match: matches do not overlap
    for at in itertools.chain((0,), (place.end() for place in _enumerator_place().finditer(block))):
        if at < resume:
            continue
        match = pattern.match(block, at)
        if match is not None:
            if match.end() == match.start():
                raise ValueError("a measure enumerator of hierarchy_cues.yaml matches the empty string")
            found.append(match)
            resume = match.end()
    return found


def _number(kind: str, digits: str) -> int:
    if kind == "circled":
        return _CIRCLED.index(digits) + 1
    if kind in ("cn_comma", "cn_paren", "cn_ordinal"):
        return int(cn2an(digits, "normal"))
    return int(digits)


@dataclass
class Line:
    start: int
    end: int
    text: str


@dataclass
class Heading:
    kind: str
    number: int
    label: str
    line: Line


@dataclass
class Node:
    level: str
    heading: Heading
    end: int = 0
    parent: "Node | None" = None
    ordinal: int = 0
    status: tuple[str, str, str] | None = None  # code, phrase, source


def _lines(text: str) -> list[Line]:
    lines, offset = [], 0
    for raw in text.split("\n"):
        lines.append(Line(offset, offset + len(raw), raw))
        offset += len(raw) + 1
    return lines


# Every numbering label starts with one of these characters; other lines are not headings (checked once
# instead of trying each system's pattern).
_HEADING_START = re.compile(rf"[{_CN_DIGITS}(\d{_CIRCLED}第]")


def _heading(line: Line) -> Heading | None:
    if not _HEADING_START.match(line.text):
        return None
    parts = _heading_parts(line.text)
    return Heading(parts[0], parts[1], parts[2], line) if parts else None


# What separates a numbering label from its heading (the text is NFKC-normalised: full-width forms are folded), and
# what may follow a label on a line that holds nothing else (sentence ends too: "1.。" is as bare as "1.", and would
# otherwise become an issue with an empty title)
_LABEL_PUNCTUATION = " 、.,:"
_BARE_LABEL_PUNCTUATION = _LABEL_PUNCTUATION + "。;!?"


@lru_cache(maxsize=16384)
def _heading_parts(text: str) -> tuple[str, int, str] | None:
    """(numbering system, number, label) of a heading line, or None. A line is read once per notice but
    tried again by each level of the parse (sections, issues, numbered measures): cached by its text."""
    for kind, pattern in _HEADING_PATTERNS.items():
        match = pattern.match(text)
        if match:
            try:
                number = _number(kind, match.group("n"))
            except (ValueError, TypeError):
                return None
            if not text[match.end():].strip(_BARE_LABEL_PUNCTUATION):
                return None  # a bare label ("(1)" or "1.。" alone on a line) states no problem; never a node
            return kind, number, match.group("label")
    return None


def _in_sequence(headings: list[Heading]) -> list[Heading]:
    """Keep headings whose number continues their system's sequence (n+1, or 1 to restart)."""
    last: dict[str, int] = {}
    kept = []
    for heading in headings:
        previous = last.get(heading.kind)
        if heading.number == 1 or (previous is not None and heading.number == previous + 1):
            kept.append(heading)
            last[heading.kind] = heading.number
    return kept


def _has_cue(text: str) -> bool:
    return bool(_labels(text, first_only=True))


def _heading_body(heading: Heading) -> str:
    return heading.line.text[len(heading.label):].lstrip(_LABEL_PUNCTUATION)


def _quotes_problem(heading: Heading) -> bool:
    return bool(_QUOTED_PROBLEM.match(_heading_body(heading)))


@cache
def _title_prefix_patterns() -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(rf"^{re.escape(prefix)}\s*[::]") for prefix in cues()["title_prefixes"])


def _first_sentence(heading_body: str) -> tuple[str, str]:
    """A heading's first sentence (up to its first 。, kept), the problem it states, and the rest of its line."""
    end = heading_body.find("。") + 1
    return (heading_body[:end], heading_body[end:]) if end else (heading_body, "")


def title_of(heading_body: str) -> str:
    """The problem statement of a heading: the quoted text of 关于“…”问题的整改, else the first sentence."""
    quoted = _QUOTED_PROBLEM.match(heading_body)
    if quoted:
        return quoted.group("title").strip()
    body = heading_body
    for prefix in _title_prefix_patterns():
        body = prefix.sub("", body)
    return _first_sentence(body)[0].rstrip("。;; ").strip()


def _sections(lines: list[Line], headings: list[Heading]) -> list[tuple[Heading | None, list[Heading], bool]]:
    """Top-level sections under 一、二、… headings (in sequence), each with the headings of its lines and
    whether it has lines besides its heading; the whole notice when there are none.

    `headings`: the headings of `lines`, in order (each line is read once, for every level of the parse)."""
    tops = _in_sequence([h for h in headings if h.kind == "cn_comma"])
    if not tops:
        return [(None, headings, bool(lines))]
    sections, starts = [], [top.line.start for top in tops] + [lines[-1].end + 1]
    for top, begin, finish in zip(tops, starts, starts[1:]):
        # Lines are contiguous: the section has a line besides its heading when the next one starts before `finish`.
        sections.append((top, [h for h in headings if begin <= h.line.start < finish and h is not top], top.line.end + 1 < finish))
    return sections


def _section_status(top: Heading | None) -> tuple[str, str, str] | None:
    if top is None:
        return None
    body = _heading_body(top)
    found = find_status(body)
    # A status group heading names problems in a status (已完成整改的问题), it does not describe work.
    if found and "问题" in body:
        return found[0], found[1], "section_heading"
    return None


def _parse_section(text: str, section_headings: list[Heading], section_end: int, status: tuple[str, str, str] | None) -> list[Node]:
    headings = _in_sequence([h for h in section_headings if h.kind != "cn_comma"])
    if not headings:
        return []
    ends = [h.line.start for h in headings[1:]] + [section_end]
    spans = {id(h): (h.line.start, end) for h, end in zip(headings, ends)}
    kinds = list(dict.fromkeys(h.kind for h in headings))

    def own_text(h: Heading) -> str:
        start, end = spans[id(h)]
        return text[start:end]

    def kind_has_cue(kind: str) -> bool:
        return any(_has_cue(own_text(h)) or _quotes_problem(h) for h in headings if h.kind == kind)

    measure_kind = None
    if len(kinds) >= 2 and not kind_has_cue(kinds[-1]) and any(kind_has_cue(k) for k in kinds[:-1]):
        measure_kind = kinds[-1]
    problem_kinds = [k for k in kinds if k != measure_kind]
    if not any(kind_has_cue(k) for k in problem_kinds):
        return []
    levels = _levels(problem_kinds, [k for k in problem_kinds if any(_quotes_problem(h) for h in headings if h.kind == k)])

    nodes: list[Node] = []
    open_by_depth: dict[int, Node] = {}
    for heading in headings:
        if heading.kind == measure_kind or heading.kind not in levels:
            # Measure paragraphs stay in their node's text; extract_measures splits them.
            continue
        depth = problem_kinds.index(heading.kind)
        parent = next((open_by_depth[d] for d in range(depth - 1, -1, -1) if d in open_by_depth), None)
        node = Node(levels[heading.kind], heading, parent=parent, status=status if levels[heading.kind] != "category" else None)
        open_by_depth = {d: n for d, n in open_by_depth.items() if d < depth} | {depth: node}
        nodes.append(node)
    for node, following in zip(nodes, nodes[1:] + [None]):
        node.end = following.heading.line.start if following else section_end
    return nodes


def _levels(problem_kinds: list[str], quoting_kinds: list[str]) -> dict[str, str]:
    """Map numbering systems to levels, anchored on the system that quotes problem statements."""
    if quoting_kinds:
        anchor = problem_kinds.index(quoting_kinds[0])
    elif len(problem_kinds) == 1:
        anchor = 0
    else:
        anchor = 1
    levels = {}
    for index, kind in enumerate(problem_kinds):
        level_index = 1 + index - anchor
        if 0 <= level_index < len(LEVELS):
            levels[kind] = LEVELS[level_index]
    return levels


def _line_status(own: str) -> tuple[tuple[str, str, str] | None, date | None]:
    status, expected = None, None
    matches = _labels(own)
    for match, following in zip(matches, matches[1:] + [None]):
        if match.group("label") not in cues()["status_labels"]:
            continue
        # up to the end of its line, or the next label run in on it (整改状态:已完成。下一步措施:…)
        line = own[match.end():following.start() if following else len(own)].split("\n", 1)[0]
        found = find_status(line)
        if found:
            status = (found[0], found[1], "status_line")
        when = _EXPECTED.search(line)
        if when:
            expected = date(int(when["y"]), int(when["m"]), int(when["d"] or 1))
    return status, expected


_SENTENCE_SPLIT = re.compile(r"[。;;!?\n]")


@cache
def _counted_figure() -> re.Pattern[str]:
    """A number followed by a unit of units.csv (5个, 12处, 3户, 90%): a sentence carrying one reports
    progress of a sub-task, not the status of the problem."""
    written = sorted(units(), key=len, reverse=True)
    return re.compile(rf"[0-9〇零一二三四五六七八九十百千万]+(?:{'|'.join(map(re.escape, written))})")


def text_status(own: str) -> tuple[str, str, str] | None:
    """A status the node's text states of the problem itself, as (code, phrase, 'text'), or None.

    Only a sentence that is about the problem as a whole counts: it opens with a subject cue of
    hierarchy_cues.yaml (目前, 该问题, 截至目前, …) or with the status phrase itself, carries no figure (so
    "174条一般隐患已整改170条" — progress of a sub-task — is not a status), and ends within a few
    characters of the phrase ("目前该问题已整改到位。", "已完成整改并长期坚持。"). A sentence opening a block of work
    done is read after its label (整改情况:已完成整改。); one opening a next-step block states a plan, not a status.
    The last such sentence of the node wins: notices close an issue with its status.
    """
    if find_status(own) is None:
        return None  # no sentence holds a status phrase (one search instead of a split and a search per sentence)
    spec = cues()["text_status"]
    found = None
    for sentence in _SENTENCE_SPLIT.split(own):
        sentence = sentence.strip(" ,,::")
        if (label := _label_pattern().match(sentence)) is not None:  # at the sentence's start
            if _is_next_step(label.group("label")):
                continue
            sentence = sentence[label.end():].strip()
        if not sentence:
            continue
        # Few sentences state a status and many carry a figure: the status phrase is looked for first.
        status = find_status(sentence)
        if status is None or _counted_figure().search(sentence):
            continue
        start = sentence.index(status[1])
        before, after = sentence[:start], sentence[start + len(status[1]):]
        opens = not before or any(before.startswith(cue) for cue in spec["subjects"])
        if opens and len(before) <= spec["max_before"] and len(after) <= spec["max_after"]:
            found = (status[0], status[1], "text")
    return found


def _body_start(heading: Heading) -> int:
    """Where the node's own text starts: after its heading line, or at the first label run in on it
    (1.关于“…”问题的整改。整改情况:已完成整改。一是…), from where the line reports the work."""
    run_in = _labels(heading.line.text, len(heading.label), first_only=True)
    return heading.line.start + run_in[0].start("label") if run_in else heading.line.end


def _after_first_sentence(heading: Heading) -> str:
    """The heading line's sentences after its first (the problem statement), read for a status only
    (3.选人用人把关不严。目前已整改到位。): they may as well describe the problem, so they yield no measure."""
    return _first_sentence(_heading_body(heading))[1]


def _parse_notice(text: str) -> list[Node]:
    lines = _lines(text)
    nodes: list[Node] = []
    sections = _sections(lines, [h for line in lines if (h := _heading(line))])
    for index, (top, section_headings, has_lines) in enumerate(sections):
        if not has_lines:
            continue
        end = sections[index + 1][0].line.start if index + 1 < len(sections) else len(text)
        nodes.extend(_parse_section(text, section_headings, end, _section_status(top)))
    for ordinal, node in enumerate(nodes):
        node.ordinal = ordinal
    return nodes


def extract_issues(notices: pl.DataFrame, texts: list[str] | None = None) -> pl.DataFrame:
    """One row per issue node of every notice (columns: ISSUE_SCHEMA); `texts`: the `text` column as a
    list, when the caller has it."""
    rows = []
    texts = notices.get_column("text").to_list() if texts is None else texts
    for sha, text in zip(notices.get_column("content_sha256").to_list(), texts):
        for node in _parse_notice(text):
            heading = node.heading
            body_start = _body_start(heading)
            own = text[body_start:node.end] if node.end > body_start else ""
            line_status, expected = _line_status(own)
            status = line_status or node.status or text_status(own)
            if status is None and body_start == heading.line.end and (run_in := _after_first_sentence(heading)):
                # the heading line comes before the node's own text: a status there counts only when the text
                # states none (text_status: the last status sentence wins)
                status = text_status(run_in)
            rows.append(
                (
                    sha,
                    node.ordinal,
                    node.parent.ordinal if node.parent else None,
                    node.level,
                    heading.label.strip("()") if heading.kind in ("cn_comma", "arabic") else heading.label,
                    title_of(_heading_body(heading)),
                    status[0] if status else None,
                    status[1] if status else None,
                    status[2] if status else None,
                    expected,
                    own,
                    heading.line.start,
                    node.end,
                )
            )
    return _frame(rows, ISSUE_SCHEMA)


def _frame(rows: list[tuple], schema: dict) -> pl.DataFrame:
    """A frame of `rows` (tuples in the order of `schema`), built column by column."""
    columns = list(zip(*rows)) if rows else [()] * len(schema)
    return pl.DataFrame(dict(zip(schema, map(list, columns))), schema=schema)


def extract_measures(issues: pl.DataFrame) -> pl.DataFrame:
    """One row per measure of every node (columns: MEASURE_SCHEMA).

    Offsets come from the node's own text, which starts right after its heading line (char_end - len(text)).
    A node with child nodes yields measures only from labelled blocks: its unlabelled text introduces the
    children rather than reporting work.
    """
    parents = set(issues.filter(pl.col("parent_ordinal").is_not_null()).select("content_sha256", "parent_ordinal").iter_rows())
    rows = []
    for row in issues.select("content_sha256", "node_ordinal", "text", "char_end").iter_rows(named=True):
        own = row["text"] or ""
        base = row["char_end"] - len(own)
        has_children = (row["content_sha256"], row["node_ordinal"]) in parents
        ordinal = 0
        for label, phase, start, end in _measures_in(own, labelled_only=has_children):
            ordinal += 1
            rows.append((row["content_sha256"], row["node_ordinal"], ordinal, label, phase, own[start:end], base + start, base + end))
    return _frame(rows, MEASURE_SCHEMA)


def _measures_in(own: str, labelled_only: bool = False) -> list[tuple[str | None, str, int, int]]:
    """(label, phase, start, end) of each measure in a node's own text (offsets within it)."""
    labels = _labels(own)  # labelled blocks, or else numbered paragraphs (one regex scan before any line split)
    if not labels and (items := _numbered_items(own)):
        return items
    measures = []
    for label, start, end in _blocks(own, labels):
        if label in cues()["status_labels"] or (label is None and labelled_only):
            continue
        # An unlabelled block (a node whose text has no section label) reports work done.
        phase = "next_step" if label is not None and _is_next_step(label) else "done"
        measures.extend(
            (item_label, phase, s, e) for item_label, s, e in _enumerated(own, start, end)
            # a block opening with the problem's status (整改情况:已完成整改。一是…) states it, it is not a measure
            if item_label is not None or not _states_status_only(own[s:e])
        )
    return measures


def _is_next_step(label: str) -> bool:
    return label.startswith(_next_step_prefixes())


@cache
def _next_step_prefixes() -> tuple[str, ...]:
    return tuple(cues()["next_step_prefixes"])


def _states_status_only(piece: str) -> bool:
    """The piece is one sentence, which states a status (text_status)."""
    if len(piece) > _longest_status_sentence():  # most pieces: checked first
        return False
    return text_status(piece) is not None and len([s for s in _SENTENCE_SPLIT.split(piece) if s.strip()]) == 1


@cache
def _longest_status_sentence() -> int:
    """The longest sentence text_status can read as a status: the longest status phrase with at most max_before
    characters before it and max_after after it, and the sentence's end and a stripped separator."""
    spec = cues()["text_status"]
    return spec["max_before"] + max(len(phrase) for phrase, _ in status_phrases()) + spec["max_after"] + 2


def _numbered_items(own: str) -> list[tuple[str | None, str, int, int]]:
    """Numbered measure paragraphs ((1)…(n)) directly under the node, whose text has no section label: each
    paragraph one measure."""
    headings = [h for line in _lines(own) if (h := _heading(line)) and h.kind in ("arabic_paren", "circled", "arabic")]
    if not headings:
        return []
    starts = [h.line.start for h in headings] + [len(own)]
    items = []
    for heading, end in zip(headings, starts[1:]):
        start = heading.line.start
        chunk = own[start:end].rstrip()
        phase = "next_step" if "下一步" in chunk[: len(heading.label) + 4] else "done"
        items.append((heading.label, phase, start, start + len(chunk)))
    return items


def _blocks(own: str, matches: list[re.Match[str]]) -> list[tuple[str | None, int, int]]:
    """Blocks of a node's text, each opened by one of its section labels `matches` (_labels; None for text before
    any label)."""
    if not matches:
        return [(None, 0, len(own))] if own.strip() else []
    blocks = []
    for match, following in zip(matches, matches[1:] + [None]):
        blocks.append((match.group("label"), match.end(), following.start() if following else len(own)))
    return blocks


def _enumerated(own: str, start: int, end: int) -> list[tuple[str | None, int, int]]:
    """Split own[start:end] at inline enumerators; an unenumerated block is one measure."""
    block = own[start:end]
    found = _enumerators(block)
    pieces = []
    cuts = [m.start() for m in found] + [len(block)]
    lead_end = cuts[0]
    if block[:lead_end].strip():
        pieces.append((None, 0, lead_end))
    for match, cut in zip(found, cuts[1:]):
        pieces.append((match.group("label"), match.start(), cut))
    result = []
    for label, s, e in pieces:
        text = block[s:e]
        stripped_left = len(text) - len(text.lstrip())
        stripped = text.strip()
        if stripped:
            result.append((label, start + s + stripped_left, start + s + stripped_left + len(stripped)))
    return result
