"""The fast paths of staging and of the parse outside the figure reader give exactly what the plain
definitions give: each is checked against the code it replaced, on the seeds and on generated text rich in
the characters that matter.
"""

from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from transforms import text as text_module
from transforms.text import _t2s, _t2s_changing_keys, _t2s_may_change, simplified_for_matching, to_simplified


# ------------------------------------------------------------------------------------------ reference definitions


def _without_shortcut(function, text: str):
    """`function(text)` with the t2s shortcut off: every text converted, as before the shortcut existed."""
    with mock.patch.object(text_module, "_t2s_may_change", lambda *args: True):
        return function(text)


def reference_to_simplified(text: str) -> tuple[str, bool]:
    return _without_shortcut(to_simplified, text)


def reference_simplified_for_matching(text: str) -> str:
    return _without_shortcut(simplified_for_matching, text)


# ------------------------------------------------------------------------------------------ OpenCC shortcut


def test_the_t2s_shortcut_reads_opencc_dictionaries():
    keys = _t2s_changing_keys()
    assert keys is not None  # the dictionaries were read: the shortcut is on
    assert ("視", 0) in keys["視"]  # a character t2s changes alone
    assert ("回覆", 1) in keys["覆"]  # a phrase changed although 覆 alone is not (答覆 → 答复, 覆盖 stays)
    assert not _t2s_may_change("巡视整改覆盖全面")
    assert _t2s_may_change("巡視整改") and _t2s_may_change("已回覆群众")


def test_without_opencc_dictionaries_every_text_is_converted(monkeypatch):
    monkeypatch.setattr(text_module, "_t2s_dictionary_texts", lambda: None)
    assert text_module._t2s_changing_keys.__wrapped__() is None
    monkeypatch.setattr(text_module, "_t2s_anchor_table", lambda: None)
    assert _t2s_may_change("巡视整改") and simplified_for_matching("巡視") == "巡视"


_CHANGING = sorted({key for keys in (_t2s_changing_keys() or {}).values() for key, _ in keys})
# Simplified characters, some of them anchors of phrases only (覆 of 回覆, 坏 of 毛坏), some t2s changes
# alone although simplified text uses them (乾 → 干, but 乾隆 stays).
_SIMPLIFIED = list("巡视整改问题覆盖回答重复显著么坏乾隆干部著作一二三。,\n 1%")
_MIXED = st.lists(st.one_of(st.sampled_from(_CHANGING), st.sampled_from(_SIMPLIFIED)), max_size=30).map("".join)


@settings(max_examples=500, deadline=None)
@given(_MIXED)
def test_a_text_the_shortcut_skips_is_one_t2s_leaves_unchanged(text):
    assert _t2s_may_change(text) or _t2s().convert(text) == text
    assert simplified_for_matching(text) == reference_simplified_for_matching(text)
    assert to_simplified(text) == reference_to_simplified(text)


def test_the_shortcut_on_the_seeds_and_their_traditional_versions(seed_texts):
    import opencc

    traditional = opencc.OpenCC("s2t")
    for text in seed_texts.values():
        assert not _t2s_may_change(text)  # the seeds are in simplified characters: never converted
        for version in (text, traditional.convert(text)):
            assert simplified_for_matching(version) == reference_simplified_for_matching(version)
            assert to_simplified(version) == reference_to_simplified(version)


# ------------------------------------------------------------------------------------------ topics

from transforms import topics  # noqa: E402

_TOPIC_PIECES = [keyword for _, keyword in topics.topic_rules()][::7] + ["问题", "整改", "。", "生态", "资金"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_TOPIC_PIECES), max_size=12).map("".join))
def test_the_title_topic_from_the_keywords_found_at_once_is_the_rule_by_rule_one(text):
    import polars as pl

    (present,) = pl.select(topics.keywords_in(pl.lit(text))).to_series().to_list()
    assert topics.topic_of_title(text, present) == topics.topic_of_title(text)


# ------------------------------------------------------------------------------------------ worker pool

import polars as pl  # noqa: E402
import pytest  # noqa: E402

from transforms import pipeline  # noqa: E402


def test_the_workers_take_batches_from_the_last_and_leave_the_first_to_this_process():
    remaining = pipeline._RemainingBatches(3)
    assert [remaining.take_last(), remaining.take_last()] == [2, 1]
    assert remaining.take_last() is None  # the last batch left is this process's until it has started
    assert remaining.take_first() == 0 and remaining.take_first() is None and remaining.take_last() is None
    remaining = pipeline._RemainingBatches(3)
    assert remaining.take_first() == 0 and remaining.take_last() == 2 and remaining.take_last() == 1
    remaining.stop()
    assert remaining.take_first() is None and remaining.take_last() is None


def batch_label(batch: pl.DataFrame) -> str:
    """Work for the pool test (module-level: spawned workers import it)."""
    label = batch["label"][0]
    if label == "bad":
        raise ValueError("bad batch")
    return label


def test_the_pool_gives_every_batch_in_order_and_raises_the_error_of_a_batch():
    batches = [pl.DataFrame({"label": [f"b{index}"]}) for index in range(5)]
    assert pipeline.map_batches(batch_label, batches, workers=2) == [f"b{index}" for index in range(5)]
    with pytest.raises(ValueError, match="bad batch"):
        pipeline.map_batches(batch_label, batches[:2] + [pl.DataFrame({"label": ["bad"]})], workers=2)


# ------------------------------------------------------------------------------------------ normalising text

import unicodedata  # noqa: E402

from transforms.text import _BLANK_LINES, _CIRCLED, _CIRCLED_SPLIT, _RUNS_OF_SPACE, _SPACE_NEXT_TO_CJK, _TYPOS  # noqa: E402
from transforms.text import _drop_spaces_next_to_cjk, normalize_text  # noqa: E402


def reference_normalize_text(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(
        piece if _CIRCLED.fullmatch(piece) else unicodedata.normalize("NFKC", piece) for piece in _CIRCLED_SPLIT.split(text)
    )
    for typo, intended in _TYPOS.items():
        text = text.replace(typo, intended)
    text = _SPACE_NEXT_TO_CJK.sub("", text)
    text = _RUNS_OF_SPACE.sub(" ", text)
    text = "\n".join(line.strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n", text).strip()


_NOISY = st.lists(
    st.sampled_from([" ", "  ", "\u3000", "\u2009", "\u00a0", "\ufeff", "\t", "a", "字", "\n", "\r\n", "1", "1", "“", "》", "①", "⑳", "笫", ",", "%"]),
    max_size=20,
).map("".join)


@settings(max_examples=600, deadline=None)
@given(_NOISY)
def test_normalising_in_one_pass_is_the_step_by_step_definition(text):
    assert _drop_spaces_next_to_cjk(text, collapse=True) == _RUNS_OF_SPACE.sub(" ", _SPACE_NEXT_TO_CJK.sub("", text))
    assert normalize_text(text) == reference_normalize_text(text)


def test_normalising_the_seeds_is_the_step_by_step_definition():
    from tests.conftest import SEEDS
    from transforms.text import decode_notice

    for path in sorted(SEEDS.glob("*.txt")):
        raw = decode_notice(path.read_bytes())[0]
        assert normalize_text(raw) == reference_normalize_text(raw)


# ------------------------------------------------------------------------------------------ claim rates

def test_rates_found_in_the_column_are_the_matches_of_every_text(seed_texts):
    from transforms.claim_rates import _rate_pattern, _rate_words
    from transforms.text import matches_in_column

    texts = [*seed_texts.values(), "", "整改完成率98.71%,总体完成率 100 %;销号率为 9%", "无比率"]
    found = matches_in_column(_rate_pattern(), pl.Series(texts, dtype=pl.String), _rate_words())
    assert [[m.span() for m in matches] for matches in found] == [[m.span() for m in _rate_pattern().finditer(t)] for t in texts]
    assert [m.group(0) for m in found[-2]] == ["整改完成率98.71%", "总体完成率 100 %", "销号率为 9%"]
