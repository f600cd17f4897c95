"""Decoding and normalising the text of a notice (通报原文).

Everything downstream (metadata, issues, measures, claims, indicators) reads the *normalised* text and
records character offsets into it, so normalisation is done once, here, and is deterministic.
These functions are pure: bytes or str in, str out. One exception, at start-up: the t2s shortcut reads OpenCC's
own dictionaries once per process, through the `opencc_dict` tool of the OpenCC wheel (`_t2s_dictionary_texts`).
"""

import json
import re
import subprocess
import tempfile
import unicodedata
from functools import cache
from pathlib import Path

import numpy as np
import polars as pl
from charset_normalizer import from_bytes
from selectolax.lexbor import LexborHTMLParser as HTMLParser


class UndecodableNotice(ValueError):
    """The bytes are not text in any encoding a notice is published in."""


# Encodings notices are published in, tried strictly in this order before falling back to detection.
# GB18030 is a superset of GBK/GB2312, so one entry covers all three.
_STRICT_ENCODINGS = ("utf-8", "gb18030")


def decode_notice(data: bytes) -> tuple[str, str]:
    """Decode raw bytes into text; return (text, encoding name).

    UTF-8 (with or without BOM) and UTF-16 with a BOM are recognised by their signatures; otherwise
    UTF-8 then GB18030 (or Big5, when the bytes are valid in both and read as Big5) are tried strictly, then
    charset-normalizer guesses. Binary content (NUL bytes,
    control characters) and empty files raise UndecodableNotice with a readable reason.
    """
    if not data.strip():
        raise UndecodableNotice("empty file")
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    if b"\x00" in data:
        raise UndecodableNotice("binary content (NUL bytes)")
    for encoding in _STRICT_ENCODINGS:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding == "gb18030":
            text, encoding = _gb18030_or_big5(data, text)
        _reject_control_characters(text)
        return text, encoding
    best = from_bytes(data).best()
    if best is None:
        raise UndecodableNotice("not text in any known encoding")
    text = str(best)
    _reject_control_characters(text)
    return text, best.encoding


def _gb18030_or_big5(data: bytes, as_gb18030: str) -> tuple[str, str]:
    """Traditional-character pages (Hong Kong / Macau / Taiwan mirrors) come in Big5, whose bytes are almost
    always valid GB18030 too, decoding to nonsense. When both decodings are strict, the character statistics
    of charset-normalizer choose between the two; otherwise GB18030 stands."""
    try:
        as_big5 = data.decode("big5")
    except UnicodeDecodeError:
        return as_gb18030, "gb18030"
    best = from_bytes(data, cp_isolation=["gb18030", "big5"]).best()
    if best is not None and best.encoding == "big5":
        return as_big5, "big5"
    return as_gb18030, "gb18030"


# Unicode category Cc (C0 and C1 controls) except tab, line feed, form feed and carriage return. One regex
# scan instead of a Python loop over every character (the loop was a tenth of a 1,000-notice refresh).
_CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")


def _reject_control_characters(text: str) -> None:
    controls = len(_CONTROL_CHARACTERS.findall(text))
    if controls > max(8, len(text) // 100):
        raise UndecodableNotice(f"binary content ({controls} control characters)")


_BLOCK_TAGS = "p, div, br, li, tr, h1, h2, h3, h4, h5, h6, table, section, article, title"


def html_to_text(html: str) -> str:
    """Visible text of an HTML page, one line per block element; scripts and styles dropped."""
    tree = HTMLParser(html)
    for node in tree.css("script, style, noscript, template, head > meta, head > link"):
        node.decompose()
    for node in tree.css(_BLOCK_TAGS):
        node.insert_after("\n")
    root = tree.body or tree.root
    if root is None:
        return ""
    return root.text(separator="", strip=False)


def looks_like_html(text: str) -> bool:
    head = text[:2000].lower()
    return "<html" in head or "<body" in head or "<!doctype html" in head or "<p>" in head or "<div" in head


# Characters a typist or an OCR step substitutes for the intended one. Applied with str.replace, one
# character at a time: str.translate looks every character of the notice up in a dict (a tenth of staging).
_TYPOS = {"笫": "第"}
# (As str.translate did, a replacement is never itself replaced: no typo may occur in a replacement.)
assert all(len(typo) == 1 and not any(t in intended for t in _TYPOS) for typo, intended in _TYPOS.items())
# Every kind of horizontal space: thin, no-break, ideographic, zero-width.
_SPACE = r"[ \t\u00a0\u2000-\u200b\u202f\u205f\u3000\ufeff]"
_CJK = r"\u3000-\u303f\u3400-\u9fff\uff00-\uffef“”‘’《》〔〕【】"
# A space only separates words in Latin text; next to a CJK character it is layout noise
# ("开展应急演练 20 次"), and removing it keeps numbers next to their units.
_SPACE_NEXT_TO_CJK = re.compile(rf"(?<=[{_CJK}]){_SPACE}+|{_SPACE}+(?=[{_CJK}])")
_RUNS_OF_SPACE = re.compile(rf"{_SPACE}+")
_BLANK_LINES = re.compile(r"\n\s*\n+")
_CIRCLED = re.compile("[\u2460-\u2473]")  # ① … ⑳
_CIRCLED_SPLIT = re.compile("([\u2460-\u2473])")


def _drop_spaces_next_to_cjk(text: str, collapse: bool = False) -> str:
    """`_SPACE_NEXT_TO_CJK.sub("", text)`, applied run by run of spaces; with `collapse`, what is left of
    each run is then one space (`_RUNS_OF_SPACE.sub(" ", …)` of the result, in the same pass).

    A match is made of spaces only and depends on the characters on either side of its run, so each run is
    rewritten in a window of the run and its two neighbours; the regex then never visits the (many) other
    characters, where its look-behind made it slow. Only spaces are dropped, so what is left of two runs
    never joins: collapsing each run's remainder is collapsing the runs of the result.
    """
    pieces, last, length = [], 0, len(text)
    for run in _RUNS_OF_SPACE.finditer(text):
        start, end = run.span()
        lead, trail = (1 if start > 0 else 0), (1 if end < length else 0)
        window = _SPACE_NEXT_TO_CJK.sub("", text[start - lead : end + trail])
        left = window[lead : len(window) - trail]
        pieces.append(text[last:start])
        pieces.append(" " if collapse and left else left)
        last = end
    pieces.append(text[last:])
    return "".join(pieces)


def normalize_text(text: str) -> str:
    """Normalise width, typos and spacing; keep line structure.

    NFKC folds full-width digits, letters and punctuation (，：（）％) to ASCII, so every downstream
    regex sees one form; curly quotes “” and CJK punctuation (、。《》〔〕) are unaffected by NFKC.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # Circled numbers (① ②) are a numbering system of their own; NFKC would fold them into plain digits.
    if _CIRCLED.search(text):
        text = "".join(
            piece if _CIRCLED.fullmatch(piece) else unicodedata.normalize("NFKC", piece) for piece in _CIRCLED_SPLIT.split(text)
        )
    else:  # the same, without splitting the (usual) text that has none
        text = unicodedata.normalize("NFKC", text)
    for typo, intended in _TYPOS.items():
        text = text.replace(typo, intended)
    text = _drop_spaces_next_to_cjk(text, collapse=True)  # and _RUNS_OF_SPACE.sub(" ", …) in the same pass
    lines = (line.strip() for line in text.split("\n"))
    text = "\n".join(lines)
    return _BLANK_LINES.sub("\n", text).strip()


# A simplified notice may contain a handful of characters that t2s would still change (乾隆, 著作); a
# notice in traditional characters changes in far more places.
_TRADITIONAL_SHARE = 0.01


@cache
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> tuple[str, bool]:
    """(text in simplified characters, whether it was converted).

    Notices copied from Hong Kong / Macau mirrors are in traditional characters (巡視, 區委); every cue of
    the parser is simplified. Text that is already simplified is returned unchanged.
    """
    # Code points as one array: counting Han characters and changed positions is vectorised, not a Python
    # loop per character.
    points = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    han = int(((points >= 0x3400) & (points <= 0x9FFF)).sum())
    if not han or not _t2s_may_change(text, points):
        return text, False
    converted = _t2s().convert(text)
    if len(converted) == len(text):
        changed = int((points != np.frombuffer(converted.encode("utf-32-le"), dtype=np.uint32)).sum())
    else:
        changed = han
    if changed / han < _TRADITIONAL_SHARE:
        return text, False
    return converted, True


def simplified_for_matching(text: str) -> str:
    """`text` in simplified characters when that keeps every offset, else `text` unchanged.

    Notices scraped from Hong Kong / Macau mirrors are in traditional characters (巡視, 區委); the cues are
    simplified. The conversion is used only when it is character-for-character, so offsets found in the
    converted text are offsets in `text`. (Staged notices are already simplified by `to_simplified`; this
    keeps the transforms right when called on raw text.)
    """
    if not _t2s_may_change(text):
        return text
    converted = _t2s().convert(text)
    return converted if len(converted) == len(text) else text


# Converting a notice with OpenCC costs ~0.6 ms, and a staged notice is converted twice (to_simplified at
# staging, simplified_for_matching at parsing), nearly always for nothing: its text is already simplified.
# t2s replaces a stretch of text only where a key of its dictionaries matches and the key's (first) value
# differs from it; where no such key occurs in the text, the conversion returns the text unchanged. Each
# changing key is filed under one of its characters, its anchor (the first one its value replaces: a
# traditional character, rare in simplified text). The anchors of a text are found in one vectorised pass
# over its code points; a key can occur only around one of them, so each of its keys is compared there
# (a few comparisons, where a substring search per key would cost as much as converting). A text where
# no changing key occurs is returned as it is, without converting.


@cache
def _t2s_changing_keys() -> dict[str, tuple[tuple[str, int], ...]] | None:
    """The keys of the t2s dictionaries whose conversion changes them, by anchor character, each with the
    offset of the anchor in it; None when OpenCC's dictionaries cannot be read (then every text is converted)."""
    texts = _t2s_dictionary_texts()
    if not texts:
        return None
    entries = [line.split("\t") for text in texts for line in text.splitlines() if line]
    by_anchor: dict[str, set[tuple[str, int]]] = {}
    for key, values in entries:
        value = values.split(" ")[0]  # the first of several values is the one t2s writes
        if value != key:
            offset = next((at for at, (k, v) in enumerate(zip(key, value)) if k != v), 0)
            by_anchor.setdefault(key[offset], set()).add((key, offset))
    return {anchor: tuple(sorted(keys)) for anchor, keys in by_anchor.items()}


def _t2s_dictionary_texts() -> list[str] | None:
    """Every dictionary of OpenCC's t2s configuration as text (key TAB values), written out by the
    opencc_dict tool that comes with OpenCC; None when the tool or a dictionary format is not the expected."""
    import opencc

    config = Path(_t2s().config)
    tool = Path(opencc.__file__).parent / "clib" / "bin" / "opencc_dict"
    steps = json.loads(config.read_text(encoding="utf-8"))
    dictionaries = [d for step in steps.get("normalization", []) + steps["conversion_chain"] for d in _dictionaries(step["dict"])]
    if not tool.is_file() or any(d.get("type") != "ocd2" for d in dictionaries):
        return None
    try:
        with tempfile.TemporaryDirectory() as scratch:
            texts = []
            for number, dictionary in enumerate(dictionaries):
                out = Path(scratch) / f"{number}.txt"
                subprocess.run(
                    [tool, "-i", config.parent / dictionary["file"], "-o", out, "-f", "ocd2", "-t", "text"],
                    check=True, capture_output=True,
                )
                texts.append(out.read_text(encoding="utf-8"))
            return texts
    except (OSError, subprocess.CalledProcessError):
        return None  # no scratch folder, or the tool failed: every text is converted


def _dictionaries(spec: dict) -> list[dict]:
    """The dictionary files of a dictionary spec of an OpenCC configuration (a group lists several)."""
    return [d for member in spec["dicts"] for d in _dictionaries(member)] if spec.get("type") == "group" else [spec]


@cache
def _t2s_anchor_table() -> np.ndarray | None:
    """A lookup table over code points: True for the anchor characters of _t2s_changing_keys."""
    keys = _t2s_changing_keys()
    if keys is None:
        return None
    table = np.zeros(0x110000, dtype=bool)
    table[[ord(anchor) for anchor in keys]] = True
    return table


def _t2s_may_change(text: str, points: np.ndarray | None = None) -> bool:
    """False when OpenCC's t2s would return `text` unchanged (see _t2s_changing_keys); `points`: the code
    points of `text`, when the caller has them."""
    table = _t2s_anchor_table()
    if table is None:
        return True
    if points is None:
        points = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    keys = _t2s_changing_keys()
    return any(
        at >= offset and text.startswith(key, at - offset)
        for at in np.flatnonzero(table[points]).tolist()
        for key, offset in keys[text[at]]
    )


def matches_where(pattern: re.Pattern[str], texts: list[str], relaxed: str) -> list[list[re.Match[str]]]:
    """`list(pattern.finditer(text))` for each of `texts`, with `pattern` tried only where the regex
    `relaxed` matches.

    Python's engine costs about a microsecond at every position where a pattern's first characters fit
    (in notice text: every Chinese numeral); the Rust engine behind Polars scans the texts for `relaxed` in
    far less (all texts in one call: the regex is compiled once per call). `relaxed` must match wherever
    `pattern` matches (the same pattern without its look-arounds, with classes widened where the two
    engines read them differently) and must not use anchors or look-around (Rust has none); neither may
    match the empty string.

    Why the matches are those of `finditer`: every position where `relaxed` matches lies inside one of its
    leftmost, non-overlapping matches (a position the scan passes over is where a match would start), so
    trying `pattern` at every position of those matches, in order and from the end of its last match on,
    finds exactly its leftmost matches.
    """
    return matches_in_column(pattern, pl.Series(texts, dtype=pl.String), relaxed, texts)


def matches_in_column(
    pattern: re.Pattern[str], texts: pl.Series, relaxed: str, as_strings: list[str] | None = None
) -> list[list[re.Match[str]]]:
    """`matches_where` over a column of texts, where only the texts `relaxed` matches in are copied out of
    Polars: copying every notice text into Python (and back) costs more than searching them. `as_strings`: the
    column as Python strings, when the caller has them (nothing is copied then; `matches_where` passes them)."""
    stretches = texts.str.extract_all(relaxed).to_list()
    found_in = [index for index, found in enumerate(stretches) if found]
    matches: list[list[re.Match[str]]] = [[] for _ in stretches]
    found_texts = texts.gather(found_in).to_list() if as_strings is None else [as_strings[index] for index in found_in]
    for index, text in zip(found_in, found_texts):
        matches[index] = _matches_in_stretches(pattern, text, stretches[index])
    return matches


def _matches_in_stretches(pattern: re.Pattern[str], text: str, stretches: list[str]) -> list[re.Match[str]]:
    found: list[re.Match[str]] = []
    resume = 0  # where the next match of `pattern` may start
    cursor = 0  # where the next match of `relaxed` starts searching
    for stretch in stretches:
        # With no look-around, a match of `relaxed` is the first occurrence of its text after the previous one.
        start = text.find(stretch, cursor)
        end = cursor = start + len(stretch)
        at = max(start, resume)
        while at < end:
            match = pattern.match(text, at)
            if match is None:
                at += 1
                continue
            if match.end() == match.start():
                raise ValueError(f"{pattern.pattern!r} matched the empty string")
            found.append(match)
            at = resume = match.end()
    return found
