"""More fast paths of the parse (issue 6, second pass), each checked against the plain definition it replaces.

A regex that asserts the first character of its match before trying its alternatives finds the same matches
as the plain pattern; these tests generate text rich in the characters that matter and compare.
"""

import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

from transforms import periods

_PERIOD_PIECES = [
    "2021年", "2021年度", "1920", "20", "21", "19", "年", "度", "1", "6", "0", "12", "-", "—", "~", "至", "到", "月",
    "月份", "日", "30", "31", "截至", "截止", "截止到", "以来", "上半年", "下半年", "前三季度", "第一季度", "三季度",
    "四季度", "上旬", "中旬", "下旬", "底", "末", "初", "今年以来", "全年", "较", "同期", "个", "。", "\n", ",", "a",
]
_period_texts = st.lists(st.sampled_from(_PERIOD_PIECES), max_size=30).map("".join)

# The plain definition: a non-empty match of _PERIOD, found by asserting that one of its parts matches.
_PLAIN_PERIOD_NON_EMPTY = re.compile(
    "(?=" + "|".join(re.sub(r"\(\?P<\w+>", "(?:", part.removesuffix("?")) for part in periods._PERIOD_PARTS) + ")"
    + periods._PERIOD.pattern
)


@settings(max_examples=500, deadline=None)
@given(_period_texts)
def test_period_scan_with_first_characters_is_the_plain_scan(text):
    fast = [(m.span(), m.groupdict()) for m in periods._PERIOD_NON_EMPTY.finditer(text)]
    plain = [(m.span(), m.groupdict()) for m in _PLAIN_PERIOD_NON_EMPTY.finditer(text)]
    assert fast == plain


# What can follow the first character of a part: a year (1|9|23年), a month (0月, 月), 截(至/止), 以(来), a tail.
_CONTINUATIONS = ["923年", "0月", "月", "至", "止", "止到", "来", "半年", "三季度", "季度", "旬", ""]


def test_period_first_characters_cover_every_part():
    # Every character that can start one of the parts (each part alone, as the plain lookahead tries them).
    first = re.compile(f"[{periods._PERIOD_FIRST_CHARACTERS}]")
    for part in periods._PERIOD_PARTS:
        alone = re.compile(part.removesuffix("?"))
        for ch in map(chr, range(0x20, 0xA000)):
            if any(alone.match(ch + rest) for rest in _CONTINUATIONS) and not first.match(ch):
                raise AssertionError(f"{ch!r} starts a match of {part} but is not a first character")


def test_period_scan_on_the_seeds(seed_texts):
    for text in seed_texts.values():
        fast = [m.span() for m in periods._PERIOD_NON_EMPTY.finditer(text)]
        assert fast == [m.span() for m in _PLAIN_PERIOD_NON_EMPTY.finditer(text)]


# ------------------------------------------------------------------------------------------ claims: forward anchors


def _plain_forward_anchor():
    """The forward anchor of transforms.claims without the look-ahead on a number and its unit."""
    from transforms import claims

    fast = claims._patterns()["forward"].pattern
    lookahead = fast[fast.index("(?=(?:") : fast.index("(?:(?P<prefix>")]
    assert lookahead.endswith("])") and "(?P<" not in lookahead
    return re.compile(fast.replace(lookahead, "", 1)), claims._patterns()["forward"]


_CLAIM_PIECES = [
    "共", "共计", "总计", "合计", "累计", "15", "3", "十", "两", "一二", "个", "项", "条", "件", "个方面", "大方面", "方面",
    "大类", "类", "个领域", "领域", "的", " ", "问题", "问题线索", "线索", "整改措施", "信访件", "反馈", "已完成整改", ",", "。",
]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_CLAIM_PIECES), max_size=20).map("".join))
def test_claim_forward_anchor_with_number_lookahead_is_the_plain_pattern(text):
    plain, fast = _plain_forward_anchor()
    assert [(m.span(), m.groupdict()) for m in fast.finditer(text)] == [(m.span(), m.groupdict()) for m in plain.finditer(text)]


def test_claim_forward_anchor_on_the_seeds(seed_texts):
    from transforms.text import simplified_for_matching

    plain, fast = _plain_forward_anchor()
    for text in seed_texts.values():
        text = simplified_for_matching(text)
        found = [m.span() for m in fast.finditer(text)]
        assert found and found == [m.span() for m in plain.finditer(text)]


# ------------------------------------------------------------------------------------------ indicators: candidate groups

_FIGURE_PIECES = [
    "约", "大约", "近", "超过", "超", "逾", "3", "12", "1,234", "83.3", "0.5", "两", "三", "十三", "一千", "十三万", "百分之",
    "-", "~", "至", "到", " ", "余", "多", "万", "亿", "千", "个", "人", "人次", "元", "万元", "%", "个百分点", "以上", "左右",
    "/", "19", "25", "年", "名", "。", "字",
]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_FIGURE_PIECES), max_size=25).map("".join))
def test_candidate_groups_read_by_polars_are_pythons_fullmatch_groups(text):
    import polars as pl

    from transforms import indicators

    spans = pl.DataFrame({"text": [text, "", text[::-1]]})
    texts = spans["text"].to_list()
    for pattern, _ in indicators._readers():
        whole = re.compile(pattern)
        found = indicators._scan(spans, texts, pattern)
        for index, candidates in found.items():
            for local, match, groups in candidates:
                assert texts[index][local : local + len(match)] == match
                assert groups == whole.fullmatch(match).groups()


# ------------------------------------------------------------------------------------------ matches_where

_ODD_CHARACTERS = ["\x1c", "\u3000", "\u2009", "²", "①", "_", "a", "٣", "\n", "線索"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.lists(st.sampled_from(_CLAIM_PIECES + _ODD_CHARACTERS), max_size=25).map("".join), min_size=1, max_size=4))
@example(["共计15\x1c个问题", "反馈3个²问题", "2个方面\u3000的15个问题线索", ""])
def test_claim_forward_anchors_are_pythons_finditer(texts):
    from transforms import claims

    fast = claims.forward_anchors(texts)
    plain = [list(claims._patterns()["forward"].finditer(text)) for text in texts]
    assert [[(m.span(), m.groupdict()) for m in found] for found in fast] == [
        [(m.span(), m.groupdict()) for m in found] for found in plain
    ]


def test_claim_forward_anchors_on_the_seeds(seed_texts):
    from transforms import claims
    from transforms.text import simplified_for_matching

    texts = [simplified_for_matching(text) for text in seed_texts.values()]
    fast = claims.forward_anchors(texts)
    assert sum(map(len, fast)) > 5
    assert [[m.span() for m in found] for found in fast] == [
        [m.span() for m in claims._patterns()["forward"].finditer(text)] for text in texts
    ]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "ab", "aab", "c", "x", "ba"]), max_size=20).map("".join))
def test_matches_where_is_finditer_with_look_arounds_and_overlapping_stretches(text):
    from transforms.text import matches_where

    # `pattern` needs look-arounds Rust lacks; `relaxed` drops them (and so matches in more places).
    pattern = re.compile(r"(?<!c)a+b(?!x)")
    (found,) = matches_where(pattern, [text], r"a+b")
    assert [m.span() for m in found] == [m.span() for m in pattern.finditer(text)]


# ------------------------------------------------------------------------------------------ structure: inline enumerators

_ENUMERATOR_PIECES = ["一是", "二是", "十一是", "三", "是", "一方面", "另一方面", "方面", "。", ";", ";", "!", "?", "\n", ":",
                      ",", ",", "加强", "整改", " ", "a"]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_ENUMERATOR_PIECES), max_size=20).map("".join))
def test_enumerators_tried_at_places_are_finditer(block):
    from transforms import structure

    fast = structure._enumerators(block)
    assert [(m.span(), m.group("label")) for m in fast] == [
        (m.span(), m.group("label")) for m in structure._enumerator_pattern().finditer(block)
    ]


# ------------------------------------------------------------------------------------------ structure: text status


def reference_text_status(own):
    """text_status as first written: the figure test before the status phrase."""
    from transforms import structure
    from transforms.status import find_status

    spec = structure.cues()["text_status"]
    found = None
    for sentence in structure._SENTENCE_SPLIT.split(own):
        sentence = sentence.strip(" ,,::")
        if not sentence or structure._counted_figure().search(sentence):
            continue
        status = find_status(sentence)
        if status is None:
            continue
        start = sentence.index(status[1])
        before, after = sentence[:start], sentence[start + len(status[1]):]
        opens = not before or any(before.startswith(cue) for cue in spec["subjects"])
        if opens and len(before) <= spec["max_before"] and len(after) <= spec["max_after"]:
            found = (status[0], status[1], "text")
    return found


_STATUS_PIECES = ["目前", "该问题", "已完成整改", "已整改到位", "正在整改", "长期坚持", "5个", "12处", "三户", "并", "。", ";",
                  "\n", ",", "加强", "问题"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_STATUS_PIECES), max_size=15).map("".join))
def test_text_status_looking_for_the_phrase_first_is_the_reference(own):
    from transforms.structure import text_status

    assert text_status(own) == reference_text_status(own)
