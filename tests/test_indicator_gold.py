"""Indicator extraction measured against a hand-checked gold table of the five seeds.

tests/fixtures/indicator_gold.csv holds mentions read by hand from the seed texts: the notice file, a
`context` (an excerpt of the notice with the mention marked as [quote]; the excerpt occurs once in the
notice), and the expected value, upper end of a range, unit, base value, base unit, qualifier, direction,
metric and period. Every figure inside a context is in the table, so an extracted figure inside a context
that matches no gold row is a false positive. tests/fixtures/indicator_negatives.csv holds strings of the
seeds that must not yield any indicator (dates, phones, document numbers, ordinals, names with digits).

The extractor runs the way a refresh runs it (`transforms.pipeline.parse_batch`: issue nodes and the text
outside them). Scores, per field, over the gold rows:
- detection: precision = matched / (matched + false positives in contexts and negatives);
  recall = matched / gold rows. An extracted mention matches a gold row when their spans overlap.
- a field: precision = correct / matched mentions where the extractor gives the field a value;
  recall = correct / gold rows that give the field a value (a missed mention counts against recall).
  For `metric` the value 'other' counts as "no value". `value`, `unit`, `value_base` and `base_unit`
  always have a value, so their precision is accuracy over the matched mentions.
The thresholds below are the floor the extractor must keep; README "Indicator accuracy" reports the
measured figures (run this file with `-s` to print them).
"""

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest

from transforms.pipeline import parse_batch
from transforms.text import normalize_text

from tests.conftest import SEEDS, notice_frame, seed_text

FIXTURES = Path(__file__).resolve().parent / "fixtures"
FIELDS = ("value", "value_high", "unit", "value_base", "base_unit", "qualifier", "direction", "metric", "period")

# Floors for (precision, recall); measured figures are in README.
THRESHOLDS = {
    "detection": (0.95, 0.95),
    "value": (0.98, 0.95),
    "value_high": (0.98, 0.95),
    "unit": (0.98, 0.95),
    "value_base": (0.98, 0.95),
    "base_unit": (0.98, 0.95),
    "qualifier": (0.90, 0.85),
    "direction": (0.90, 0.85),
    "metric": (0.80, 0.70),
    "period": (0.80, 0.70),
}


@dataclass(frozen=True)
class Gold:
    notice: str
    start: int
    end: int
    context: tuple[int, int]
    row: dict[str, str]


def _read(name: str) -> list[dict[str, str]]:
    with (FIXTURES / name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _locate(text: str, row: dict[str, str]) -> Gold:
    marked = normalize_text(row["context"])
    before, rest = marked.split("[", 1)
    quote, after = rest.split("]", 1)
    assert quote == row["quote"], row
    plain = before + quote + after
    assert text.count(plain) == 1, f"context must occur once in {row['notice']}: {plain}"
    at = text.index(plain)
    start = at + len(before)
    return Gold(row["notice"], start, start + len(quote), (at, at + len(plain)), row)


@pytest.fixture(scope="module")
def seeds() -> dict[str, str]:
    return {path.name: seed_text(path.name[:3]) for path in sorted(SEEDS.glob("*.txt"))}


@pytest.fixture(scope="module")
def gold(seeds) -> list[Gold]:
    return [_locate(seeds[row["notice"]], row) for row in _read("indicator_gold.csv")]


@pytest.fixture(scope="module")
def extracted(seeds) -> dict[str, list[dict]]:
    """The indicators of each seed, as a refresh extracts them, by notice file name."""
    names = list(seeds)
    notices = notice_frame(*(seeds[name] for name in names))
    by_sha = dict(zip(notices["content_sha256"], names, strict=True))
    parsed = parse_batch(notices.with_columns(pl.col("text").alias("raw_text")))
    out: dict[str, list[dict]] = {name: [] for name in names}
    for row in parsed.indicators.sort("char_start").iter_rows(named=True):
        out[by_sha[row["content_sha256"]]].append(row)
    return out


def _same(field: str, expected: str, got) -> bool:
    if field in ("value", "value_high", "value_base"):
        return math.isclose(float(expected), got, rel_tol=1e-12, abs_tol=1e-12)
    return expected == got


def _expected(field: str, row: dict[str, str]) -> str | None:
    if field == "value_high":
        return row["value_high"] or row["value"]  # a single figure is its own upper end
    value = row[field]
    if field == "metric" and value == "other":
        return None
    return value or None


def _got(field: str, mention: dict):
    value = mention[field]
    if field == "metric" and value == "other":
        return None
    return value


def score(gold: list[Gold], extracted: dict[str, list[dict]], negatives: list[tuple[str, int, int]]):
    """(scores by field as (precision, recall, correct, predicted, expected), false positives, misses)."""
    matched: list[tuple[Gold, dict]] = []
    used: set[tuple[str, int]] = set()
    misses = []
    for g in gold:
        candidates = [
            m for m in extracted[g.notice]
            if m["char_start"] < g.end and g.start < m["char_end"] and (g.notice, m["char_start"]) not in used
        ]
        if not candidates:
            misses.append(g)
            continue
        best = max(candidates, key=lambda m: min(m["char_end"], g.end) - max(m["char_start"], g.start))
        used.add((g.notice, best["char_start"]))
        matched.append((g, best))
    regions = [(g.notice, *g.context) for g in gold] + negatives
    false_positives = [
        (notice, m["quote"])
        for notice, mentions in extracted.items()
        for m in mentions
        if (notice, m["char_start"]) not in used
        and any(n == notice and m["char_start"] < end and start < m["char_end"] for n, start, end in regions)
    ]
    scores = {
        "detection": (
            len(matched) / (len(matched) + len(false_positives)),
            len(matched) / len(gold),
            len(matched),
            len(matched) + len(false_positives),
            len(gold),
        )
    }
    for field in FIELDS:
        expected = sum(1 for g in gold if _expected(field, g.row) is not None)
        predicted = sum(1 for _, m in matched if _got(field, m) is not None)
        correct = sum(
            1
            for g, m in matched
            if _expected(field, g.row) is not None
            and _got(field, m) is not None
            and _same(field, _expected(field, g.row), _got(field, m))
        )
        precision = correct / predicted if predicted else 1.0
        recall = correct / expected if expected else 1.0
        scores[field] = (precision, recall, correct, predicted, expected)
    return scores, false_positives, misses


@pytest.fixture(scope="module")
def negatives(seeds) -> list[tuple[str, int, int]]:
    found = []
    for row in _read("indicator_negatives.csv"):
        text, needle = seeds[row["notice"]], normalize_text(row["text"])
        assert needle in text, f"negative not in {row['notice']}: {needle}"
        at = text.find(needle)
        while at >= 0:
            found.append((row["notice"], at, at + len(needle)))
            at = text.find(needle, at + 1)
    return found


def test_gold_table_is_large_and_well_formed(gold):
    assert len(gold) >= 150
    assert len({g.notice for g in gold}) == 5  # every seed is represented
    for g in gold:
        row = g.row
        float(row["value"]), float(row["value_base"])
        assert row["qualifier"] in ("", "at_least", "approx") and row["direction"] in ("", "increase", "decrease")
        assert row["metric"] and row["unit"] and row["base_unit"]
    spans = {(g.notice, g.start) for g in gold}
    assert len(spans) == len(gold)  # no mention is listed twice


def test_negative_table_is_large(negatives):
    assert len(_read("indicator_negatives.csv")) >= 40
    assert len(negatives) >= 40


def test_no_negative_is_extracted(extracted, negatives):
    hits = [
        (notice, m["quote"])
        for notice, start, end in negatives
        for m in extracted[notice]
        if m["char_start"] < end and start < m["char_end"]
    ]
    assert hits == []


def test_precision_and_recall_per_field(gold, extracted, negatives):
    scores, false_positives, misses = score(gold, extracted, negatives)
    print()
    print(f"{'field':<12} precision  recall   (correct / predicted / expected)")
    for field, (precision, recall, correct, predicted, expected) in scores.items():
        print(f"{field:<12} {precision:9.3f} {recall:7.3f}   ({correct} / {predicted} / {expected})")
    print("false positives:", false_positives)
    print("missed:", [(g.notice[:3], g.row["quote"], g.row["context"]) for g in misses])
    for field in ("qualifier", "direction", "metric", "period"):  # the errors behind the figures
        for g in gold:
            m = next((m for m in extracted[g.notice] if m["char_start"] < g.end and g.start < m["char_end"]), None)
            if m is not None and _expected(field, g.row) != _got(field, m):
                print(f"  {field}: {g.row['context']} expected {_expected(field, g.row)} got {_got(field, m)}")
    failing = {
        field: scores[field][:2]
        for field, (low_p, low_r) in THRESHOLDS.items()
        if scores[field][0] < low_p or scores[field][1] < low_r
    }
    assert failing == {}


def test_scoring_counts_errors():
    """The scorer itself: a wrong value, a miss and a false positive each lower the right figure."""
    row = {"notice": "n", "quote": "3人", "value": "3", "value_high": "", "unit": "人", "value_base": "3",
           "base_unit": "count", "qualifier": "", "direction": "", "metric": "people_disciplined", "period": ""}
    gold = [Gold("n", 10, 12, (0, 20), row), Gold("n", 30, 32, (25, 40), {**row, "value": "5", "value_base": "5"})]
    mention = {"char_start": 10, "char_end": 12, "quote": "3人", "value": 3.0, "value_high": 3.0, "unit": "人",
               "value_base": 3.0, "base_unit": "count", "qualifier": None, "direction": None,
               "metric": "other", "period": None}
    stray = {**mention, "char_start": 14, "char_end": 16, "quote": "4人"}
    scores, false_positives, misses = score(gold, {"n": [mention, stray]}, [])
    assert scores["detection"][:2] == (0.5, 0.5)
    assert scores["value"][:2] == (1.0, 0.5)
    assert scores["metric"][:2] == (1.0, 0.0)  # 'other' is no value: nothing predicted, two expected
    assert false_positives == [("n", "4人")] and [g.start for g in misses] == [30]

