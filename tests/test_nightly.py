"""Nightly refresh: incremental, idempotent, versioned, never silently dropping a notice (issue 4).

One scenario, refreshed night after night on a copy of the seeds, asserting what the warehouse holds after
each night.
"""

import shutil
from pathlib import Path

import duckdb
import pytest

from orchestration.cli import run_refresh
from tests.conftest import SEEDS
from warehouse.compare import compare_warehouses

TABLES = ["dim_notice", "dim_inspection", "dim_organization", "fact_issue", "fact_measure", "fact_indicator",
          "fact_claim", "raw_notice", "dim_date", "quarantine_notice", "notice_version", "source_file"]


def rows(warehouse: Path, sql: str, params=None) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def differing_rows(a: Path, b: Path, table: str) -> int:
    (found,) = [c for c in compare_warehouses(a, b) if c.table == table]
    assert found.same_columns and None not in found.rows, found
    return found.only_in_first + found.only_in_second


def refresh(source: Path, warehouse: Path, **options):
    outcome = run_refresh(source, warehouse, **options)
    return outcome


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    """Night 1: the five seeds, loaded from scratch."""
    root = tmp_path_factory.mktemp("nightly")
    source = root / "landing"
    shutil.copytree(SEEDS, source)
    warehouse = root / "zhenggai.duckdb"
    first = refresh(source, warehouse)
    assert first.published, (first.failure, first.gate_errors)
    assert (first.parsed, first.reused) == (5, 0)
    shutil.copy(warehouse, root / "night1.duckdb")
    return root, source, warehouse


def test_a_refresh_with_nothing_new_does_nothing_and_leaves_the_file_as_it_was(night):
    root, source, warehouse = night
    before = warehouse.read_bytes()
    modified = warehouse.stat().st_mtime_ns
    again = refresh(source, warehouse)
    assert again.unchanged and not again.published and not again.failure
    assert again.parsed is None and not again.gate_errors  # nothing staged, parsed or gated
    assert warehouse.read_bytes() == before and warehouse.stat().st_mtime_ns == modified


def test_a_rebuild_of_the_same_files_reuses_every_parse_and_publishes_the_same_rows(night, monkeypatch):
    """New code (here: a different code digest) rebuilds; the parse cache still holds every notice."""
    root, source, warehouse = night
    monkeypatch.setattr("warehouse.build.code_digest", lambda: "another-version")
    again = refresh(source, warehouse)
    assert again.published and not again.unchanged and (again.parsed, again.reused) == (0, 5)
    for table in TABLES:
        assert differing_rows(warehouse, root / "night1.duckdb", table) == 0, table
    assert rows(warehouse, "SELECT code_digest FROM refresh_build") == [("another-version",)]


def test_edits_duplicates_and_deletions(night):
    root, source, warehouse = night
    (edited,) = source.glob("000_*.txt")
    old_key = rows(warehouse, "SELECT notice_key FROM raw_notice WHERE source_name = ?", [edited.name])[0][0]
    addendum = "\n补充说明:本通报于次日更正。\n"
    edited.write_bytes(edited.read_bytes() + addendum.encode())
    (copied,) = source.glob("002_*.txt")
    shutil.copy(copied, source / "薛家镇 通报 副本.txt")
    (deleted,) = source.glob("004_*.txt")
    deleted_key = rows(warehouse, "SELECT notice_key FROM raw_notice WHERE source_name = ?", [deleted.name])[0][0]
    deleted.unlink()

    outcome = refresh(source, warehouse)
    assert outcome.published, (outcome.failure, outcome.gate_errors)
    assert (outcome.parsed, outcome.reused) == (1, 4)  # only the edited notice is parsed again

    new_key = rows(warehouse, "SELECT notice_key FROM raw_notice WHERE source_name = ?", [edited.name])[0][0]
    assert new_key != old_key
    # the edited notice's facts replace the old version's ...
    assert rows(warehouse, "SELECT count(*) FROM fact_issue WHERE notice_key = ?", [old_key]) == [(0,)]
    assert rows(warehouse, "SELECT count(*) FROM fact_issue WHERE notice_key = ?", [new_key]) == [(25,)]
    # ... and the old raw text stays in the history, closed when the new one opened
    history = rows(
        warehouse,
        "SELECT v.notice_key, v.valid_to IS NULL, coalesce(v.raw_text, r.raw_text) LIKE '%次日更正%' "
        "FROM notice_version AS v LEFT JOIN raw_notice AS r USING (content_sha256) WHERE v.source_name = ? ORDER BY v.valid_from",
        [edited.name],
    )
    assert history == [(old_key, False, False), (new_key, True, True)]
    # (the new version's text read from raw_notice, the old one's from notice_version)
    assert rows(warehouse, "SELECT previous_notice_key, notice_key, length_change FROM notice_change") == [
        (old_key, new_key, len(addendum))
    ]
    # the duplicate is loaded once; the deleted file's notice is kept and reported
    states = dict(rows(warehouse, "SELECT source_name, state FROM source_file"))
    assert states["薛家镇 通报 副本.txt"] == "duplicate" and states[copied.name] == "loaded"
    assert states[deleted.name] == "missing"
    assert rows(warehouse, "SELECT count(*) FROM dim_notice") == [(5,)]
    assert rows(warehouse, "SELECT count(*) FROM fact_issue WHERE notice_key = ?", [deleted_key]) == [(68,)]

    pruned = refresh(source, warehouse, prune_missing=True)
    assert pruned.published and (pruned.parsed, pruned.reused) == (0, 4)
    assert rows(warehouse, "SELECT count(*) FROM dim_notice") == [(4,)]
    assert rows(warehouse, "SELECT count(*) FROM fact_issue WHERE notice_key = ?", [deleted_key]) == [(0,)]
    assert rows(warehouse, "SELECT valid_to IS NOT NULL FROM notice_version WHERE source_name = ?", [deleted.name]) == [(True,)]
    assert deleted.name not in dict(rows(warehouse, "SELECT source_name, state FROM source_file"))


def test_a_refresh_that_would_drop_most_notices_is_blocked(night):
    root, source, warehouse = night
    emptied = root / "almost-empty"
    emptied.mkdir()
    shutil.copy(next(SEEDS.glob("002_*.txt")), emptied)
    before = warehouse.read_bytes()
    blocked = refresh(emptied, warehouse, prune_missing=True)
    assert not blocked.published
    assert any(line.startswith("refresh_volume: notices and issues do not drop") and "dim_notice" in line
               for line in blocked.gate_errors), blocked.gate_errors
    assert warehouse.read_bytes() == before
    # the same load with a looser threshold is a deliberate choice, and goes through
    allowed = refresh(emptied, warehouse, prune_missing=True, max_drop_share=0.95)
    assert allowed.published and rows(warehouse, "SELECT count(*) FROM dim_notice") == [(1,)]
