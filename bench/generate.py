"""A deterministic benchmark corpus: N realistic notices recombined from the real seed notices.

Each seed notice is cut, by the issue-hierarchy parser itself (transforms.structure.extract_issues), into
an opening (before its first top-level issue node), its top-level issue blocks (a node with all its
descendants), the text between blocks (section headings such as 二、正在推进整改的问题) and a closing
(next steps, contacts). Notice i of a corpus is then built from a host seed's skeleton, drawn with a
random generator seeded by (seed, i):

- every section of issues is refilled with a shuffled draw of blocks of the same numbering system (from the
  host and from the other seeds), renumbered so the sequence still runs 1, 2, 3… as a real notice does;
- the inspected place name is replaced by a fictional one with the same administrative suffix (镇, 区…);
- every year is shifted by the same offset (dates keep their order), and figures followed by a
  measurement unit of transforms/units.csv are scaled.

Notice i depends only on (seed, i), so the corpus of 100 is the first 100 notices of the corpus of 1,000.
Every notice is distinct (SHA-256); the seeds are only read. Usage:

    python -m bench.generate 1000 [--seed 6] [--out bench/out/corpus-1000]
"""

import argparse
import csv
import hashlib
import random
import re
import shutil
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import cn2an
import polars as pl

from transforms.metadata import extract_metadata
from transforms.structure import extract_issues
from transforms.text import decode_notice, normalize_text

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
OUT = Path(__file__).resolve().parent / "out"
DEFAULT_SEED = 6

# Administrative suffixes of an inspected place (镇 township, 街道 subdistrict, 区 district, 县 county).
_PLACE = re.compile(r"[\u4e00-\u9fff]{2,}?(?:街道|镇|乡|区|县)")
# Syllables of fictional place names (two of them, then the suffix of the replaced name).
_SYLLABLES = "安宝长成大定东丰凤福高广和河华吉嘉江金锦景靖康乐临龙隆梅明南宁平清庆瑞山上盛石顺泰桃天通万文西祥新兴阳永玉云枣泽振中"
_HEADING_NUMBER = re.compile(r"^(?P<open>\(?)(?P<n>[一二三四五六七八九十]+|\d{1,3})")
_ITEM = re.compile(r"(?P<start>^|\n)\((?P<n>\d{1,3})\)")
_YEAR = re.compile(r"(?<!\d)(20[0-3]\d)(?=年)")


@dataclass(frozen=True)
class Block:
    """A top-level issue node of a seed with all its descendants (text starts at its heading)."""

    kind: str  # numbering system of the heading: arabic, cn_paren, …
    text: str
    place: str | None = None  # the inspected place of the seed it comes from


@dataclass(frozen=True)
class Skeleton:
    """A seed notice around its issue blocks: sections[k] is the list of blocks of the k-th run."""

    name: str
    opening: str
    sections: list[list[Block]]
    separators: list[str]  # text after each section (section headings, framing text, the closing)
    numbering_restarts: bool  # each section numbers its issues from 1 again
    place: str | None  # the inspected place as the metadata parser reads it (薛家镇), replaced per notice


def _kind(number: str) -> str:
    digits = number.strip("()")
    paren = number.startswith("(")
    if digits.isdigit():
        return "arabic_paren" if paren else "arabic"
    return "cn_paren" if paren else "cn_comma"


def skeleton(name: str, text: str) -> Skeleton:
    """Cut a normalised notice into opening, runs of top-level issue blocks, and the text between runs."""
    issues = extract_issues(pl.DataFrame({"content_sha256": [name], "text": [text]}))
    if issues.is_empty():
        raise ValueError(f"{name}: the parser finds no issues, nothing to recombine")
    rows = issues.sort("node_ordinal").rows(named=True)
    tops = [i for i, row in enumerate(rows) if row["parent_ordinal"] is None]
    spans = []
    for k, index in enumerate(tops):
        members = rows[index : tops[k + 1] if k + 1 < len(tops) else len(rows)]
        spans.append((rows[index]["char_start"], max(r["char_end"] for r in members), rows[index]["number"]))
    sections, separators, current = [], [], []
    for k, (start, end, number) in enumerate(spans):
        current.append(Block(_kind(number), _restart_items(text[start:end])))
        following = spans[k + 1][0] if k + 1 < len(spans) else len(text)
        between = text[end:following]
        if between.strip() or k + 1 == len(spans):
            sections.append(current)
            separators.append(between)
            current = []
    first_numbers = [_HEADING_NUMBER.match(section[0].text) for section in sections]
    restarts = len(sections) > 1 and all(m and m["n"] in ("1", "一") for m in first_numbers)
    unit = extract_metadata(pl.DataFrame({"content_sha256": [name], "text": [text]}))["inspected_unit"][0]
    found = _PLACE.search(unit) if unit else None
    place = found[0] if found else None
    sections = [[Block(b.kind, b.text, place) for b in section] for section in sections]
    return Skeleton(name, text[: spans[0][0]], sections, separators, restarts, place)


def _restart_items(block: str) -> str:
    """Number the (1)…(n) paragraphs of a block from 1: a seed that numbers them across the whole notice
    ((100) in its tenth issue) would otherwise break the sequence once the block moves elsewhere."""
    counter = iter(range(1, 10_000))
    return _ITEM.sub(lambda m: f"{m['start']}({next(counter)})", block)


@cache
def seed_skeletons() -> tuple[Skeleton, ...]:
    return tuple(
        skeleton(path.name, normalize_text(decode_notice(path.read_bytes())[0]))
        for path in sorted(SEEDS.iterdir())
        if path.suffix in (".txt", ".html")
    )


@cache
def _measure_units() -> tuple[str, ...]:
    with (ROOT / "transforms" / "units.csv").open(encoding="utf-8") as handle:
        units = [row["unit"] for row in csv.DictReader(handle)]
    # Longest first so 万元 wins over 万; 年 is left out because years are shifted, not scaled.
    return tuple(sorted((u for u in units if u and u != "年"), key=len, reverse=True))


@cache
def _figure_pattern() -> re.Pattern[str]:
    units = "|".join(re.escape(u) for u in _measure_units())
    # Not a heading number (line start), not part of a date, not a claimed count of problems (个问题).
    return re.compile(rf"(?<![\d.\n])(?P<n>\d+(?:\.\d+)?)(?P<more>余|多)?(?P<unit>{units})(?!问题|方面)")


def _renumber(block: Block, number: int) -> str:
    match = _HEADING_NUMBER.match(block.text)
    if match is None:
        return block.text
    digits = str(number) if match["n"].isdigit() else cn2an.an2cn(number)
    return block.text[: match.start("n")] + digits + block.text[match.end("n") :]


def _place_name(rng: random.Random, suffix: str) -> str:
    return rng.choice(_SYLLABLES) + rng.choice(_SYLLABLES) + suffix


def _scale(match: re.Match, rng: random.Random) -> str:
    value = match["n"]
    factor = rng.uniform(0.5, 2.0)
    if "." in value:
        new = f"{float(value) * factor:.{len(value.split('.')[1])}f}"
    else:
        new = str(max(1, round(int(value) * factor)))
    return new + (match["more"] or "") + match["unit"]


def notice(index: int, seed: int = DEFAULT_SEED) -> str:
    """The index-th notice of the corpus of `seed` (normalised text)."""
    rng = random.Random(f"{seed}:{index}")
    skeletons = seed_skeletons()
    host = rng.choice(skeletons)
    pools: dict[str, list[Block]] = {}
    for other in skeletons:
        for section in other.sections:
            for block in section:
                pools.setdefault(block.kind, []).append(block)
    parts, number = [host.opening], 0
    for section, separator in zip(host.sections, host.separators):
        pool = pools[section[0].kind]
        count = max(1, round(len(section) * rng.uniform(0.6, 1.4)))
        own = rng.sample(section, len(section))
        drawn = (own + rng.sample(pool, min(len(pool), count)))[:count] if rng.random() < 0.5 else rng.sample(pool, min(len(pool), count))
        if host.numbering_restarts:
            number = 0
        for block in drawn:
            number += 1
            text = _renumber(block, number)
            if block.place and host.place and block.place != host.place:
                text = text.replace(block.place, host.place)  # the new name replaces both below
            parts.append(text)
        parts.append(separator)
    text = "".join(parts)
    if host.place:
        suffix = next(s for s in ("街道", "镇", "乡", "区", "县") if host.place.endswith(s))
        text = text.replace(host.place, _place_name(rng, suffix))
    shift = rng.randint(-3, 3)
    text = _YEAR.sub(lambda m: str(int(m[1]) + shift), text)
    return _figure_pattern().sub(lambda m: _scale(m, rng), text)


def generate(count: int, out: Path, seed: int = DEFAULT_SEED) -> list[Path]:
    """Write `count` distinct notices into `out` (emptied first); return their paths."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    seen: set[str] = set()
    paths = []
    attempt = count
    for index in range(count):
        text = notice(index, seed)
        while hashlib.sha256(text.encode()).hexdigest() in seen:  # extremely rare: draw again
            text, attempt = notice(attempt, seed), attempt + 1
        seen.add(hashlib.sha256(text.encode()).hexdigest())
        path = out / f"bench_{index:05d}.txt"
        path.write_text(text + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def corpus_dir(count: int, seed: int = DEFAULT_SEED) -> Path:
    return OUT / f"corpus-{count}-seed{seed}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    paths = generate(args.count, args.out or corpus_dir(args.count, args.seed), args.seed)
    print(f"{len(paths)} notices in {paths[0].parent if paths else args.out}")


if __name__ == "__main__":
    main()
