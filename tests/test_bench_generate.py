"""The benchmark corpus generator: deterministic, distinct notices that the parser reads as notices."""

import hashlib


from bench.generate import generate, notice, seed_skeletons
from tests.conftest import SEEDS, raw_frame
from transforms.ingest import stage_notices
from transforms.structure import extract_issues


def test_generated_corpus_is_deterministic_distinct_and_parses(tmp_path):
    seeds_before = {p.name: p.read_bytes() for p in SEEDS.iterdir()}
    first = generate(8, tmp_path / "a", seed=11)
    again = generate(8, tmp_path / "b", seed=11)
    other = generate(8, tmp_path / "c", seed=12)

    assert len(first) == 8 and len(list((tmp_path / "a").iterdir())) == 8
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in again]
    assert [p.read_bytes() for p in first] != [p.read_bytes() for p in other]
    digests = {hashlib.sha256(p.read_bytes()).hexdigest() for p in first}
    assert len(digests) == 8

    staged, rejected = stage_notices(raw_frame({p.name: p.read_bytes() for p in first}))
    assert rejected.is_empty() and staged.height == 8
    per_notice = extract_issues(staged).group_by("content_sha256").len()
    assert per_notice.height == 8 and per_notice["len"].min() > 0
    # the seeds are only read
    assert {p.name: p.read_bytes() for p in SEEDS.iterdir()} == seeds_before


def test_a_notice_depends_only_on_seed_and_index_and_varies_the_seed_text():
    assert notice(3, seed=5) == notice(3, seed=5)
    seed_texts = {s.opening for s in seed_skeletons()}
    # the opening names a fictional place instead of the seed's inspected unit
    hosts = [s for s in seed_skeletons() if s.place]
    assert hosts
    generated = [notice(i, seed=5) for i in range(10)]
    assert not any(text.startswith(opening) for text in generated for opening in seed_texts)
    assert all(not any(h.place in text for h in hosts) for text in generated)
