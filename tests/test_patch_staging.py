"""The staging file of a small change patched from the published file (warehouse/patch.py) holds the same rows
as a full build of the same inputs, table by table, in every kind of change a refresh meets."""

import json
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import polars as pl
import pytest

import orchestration.assets
from orchestration.cli import run_refresh
from tests.conftest import SEEDS
from transforms.notice_delta import is_small_change, notice_delta, version_delta
from warehouse import marts, patch
from warehouse.compare import compare_warehouses
from warehouse.store import StarRows
from warehouse.versions import VERSION_COLUMNS

WAREHOUSE = "zhenggai.duckdb"
START = datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc)


def _seed(prefix: str) -> Path:
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    return path


class _Clock:
    """orchestration.assets' datetime with a fixed now, so that two builds of the same inputs stamp the same
    valid_from, valid_to, quarantined_at and built_at."""

    def __init__(self, now: datetime):
        self.value = now

    def now(self, tz=None):
        return self.value


def _refresh(source: Path, state: Path, monkeypatch, now: datetime, prune: bool = False, patching: bool = True) -> dict:
    """A refresh of `source` into the warehouse of folder `state` at `now`; the staging asset's metadata."""
    monkeypatch.setattr(orchestration.assets, "datetime", _Clock(now))
    monkeypatch.setenv(patch.PATCH_SWITCH, "1" if patching else "0")
    metadata: dict = {}

    def on_event(entry, _cursor=None):
        event = entry.dagster_event
        if event is not None and event.event_type_value == "ASSET_MATERIALIZATION":
            materialization = event.step_materialization_data.materialization
            if materialization.asset_key.to_user_string() == "warehouse_staging":
                metadata.update({key: value.value for key, value in materialization.metadata.items()})
        if event is not None and event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            metadata.setdefault("gate_process", set()).add(evaluation.metadata["gate_process"].value)

    # max_drop_share=1: the changes here drop a large share of three notices, which the gate would rightly stop
    outcome = run_refresh(source, state / WAREHOUSE, prune_missing=prune, max_drop_share=1.0, on_event=on_event)
    assert outcome.published, (outcome.failure, outcome.gate_errors)
    return metadata


def assert_same_warehouse(patched: Path, full: Path) -> None:
    """Every table of both files has the same rows (as multisets: warehouse/compare.py)."""
    comparisons = compare_warehouses(patched, full)
    assert comparisons, "no table compared"
    for c in comparisons:
        assert c.same, f"{c.table}: rows {c.rows}, {c.only_in_first} only in the patched file, " \
                       f"{c.only_in_second} only in the full build, same columns: {c.same_columns}"


def _copy_state(state: Path, to: Path) -> None:
    shutil.copytree(state, to, ignore=shutil.ignore_patterns("validation"))


@pytest.fixture(scope="module")
def first_build(tmp_path_factory) -> tuple[Path, Path]:
    """(landing folder, state folder) of a warehouse published in full from three seeds."""
    root = tmp_path_factory.mktemp("patch")
    source, state = root / "source", root / "state"
    source.mkdir()
    for prefix in ("000", "002", "004"):
        shutil.copy(_seed(prefix), source)
    with pytest.MonkeyPatch.context() as monkeypatch:
        metadata = _refresh(source, state, monkeypatch, START)
    assert metadata["staging_patched"] is False and "no published warehouse" in metadata["staging_reason"]
    return source, state


def _edit(source: Path, name: str, extra: str) -> None:
    path = source / name
    path.write_bytes(path.read_bytes() + f"\n{extra}\n".encode())


def _rename(source: Path, old: str, new: str) -> None:
    (source / old).rename(source / new)


# Each step is applied to the landing folder of the previous one, so later steps start from a warehouse that was
# itself patched (and whose notice_version holds closed versions). Kinds of change share a step to keep the test
# short (each step is two refreshes); every step's patch is compared with a full build of the same inputs.
# (what changes, how, prune, notices added, removed, renamed)
STEPS = [
    ("an edited notice; a new notice; a deleted file kept", lambda source: (
        _edit(source, _seed("000").name, "(本通报于次日补充说明。)"),
        (source / "010_new.txt").write_bytes(_seed("001").read_bytes() + "\n附件:无\n".encode()),
        (source / _seed("004").name).unlink(),
    ), False, 2, 1, 0),
    # the renamed notice is loaded under the first of its two names, the duplicate's
    ("a renamed file and an exact duplicate of it under an earlier name; a file now quarantined; the deleted "
     "file pruned", lambda source: (
        _rename(source, _seed("002").name, "102_renamed.txt"),
        shutil.copy(source / "102_renamed.txt", source / "0001_duplicate.txt"),
        (source / "010_new.txt").write_bytes(b"\x00\x01\x02 binary \xff\xfe" * 40),
    ), True, 0, 2, 1),
]


def test_patched_staging_equals_a_full_build_for_every_kind_of_change(first_build, tmp_path, monkeypatch):
    source, state = first_build
    source_now, state_now = tmp_path / "source", tmp_path / "state"
    shutil.copytree(source, source_now)
    _copy_state(state, state_now)
    for step, (change, apply, prune, added, removed, renamed) in enumerate(STEPS, start=1):
        apply(source_now)
        now = START + timedelta(days=step)
        full_state = tmp_path / f"full-{step}"
        _copy_state(state_now, full_state)
        patched = _refresh(source_now, state_now, monkeypatch, now, prune=prune)
        full = _refresh(source_now, full_state, monkeypatch, now, prune=prune, patching=False)
        assert patched["staging_patched"] is True, (change, patched["staging_reason"])
        assert f"{added} notice(s) added, {removed} removed, {renamed} renamed" in patched["staging_reason"], change
        # what the gate validates again: the notices added, removed or renamed (none of these changes alters a
        # shared-dimension row another notice refers to)
        assert patched["changed_notices"] == added + removed + renamed
        assert full["staging_patched"] is False and "switched off" in full["staging_reason"]
        assert full["changed_notices"] == -1
        # both gates in the gate's own process, GX imported ahead (orchestration GateRunner)
        assert (patched["gate_process"], full["gate_process"]) == ({"early"}, {"early"})
        assert_same_warehouse(state_now / WAREHOUSE, full_state / WAREHOUSE)
        # the gate validated the patched file in delta mode, on those notices; the full build in full
        gated = json.loads(((state_now / WAREHOUSE).parent / "validation" / "validation.json").read_text(encoding="utf-8"))
        assert gated["mode"] == "delta" and gated["passed"]
        assert len(gated["changed_notice_keys"]) == added + removed + renamed
        full_gated = json.loads(((full_state / WAREHOUSE).parent / "validation" / "validation.json").read_text(encoding="utf-8"))
        assert full_gated["mode"] == "full" and full_gated["changed_notice_keys"] is None
        # the published file opens read-only, in the storage format DuckDB 1.4 clients read
        con = duckdb.connect(str(state_now / WAREHOUSE), read_only=True)
        try:
            tags = con.execute("SELECT tags FROM duckdb_databases() WHERE database_name = current_database()").fetchone()[0]
            assert tags["storage_version"] == patch.expected_storage_version() == "v1.4.0+"
            assert con.execute("SELECT count(*) FROM dim_notice").fetchone()[0] > 0
        finally:
            con.close()
        shutil.rmtree(full_state)
    # the history the patches wrote: the edited file's old version closed, the pruned file's closed too
    con = duckdb.connect(str(state_now / WAREHOUSE), read_only=True)
    try:
        closed = con.execute("SELECT source_name FROM notice_version WHERE valid_to IS NOT NULL ORDER BY ALL").fetchall()
        states = dict(con.execute("SELECT source_name, state FROM source_file").fetchall())
    finally:
        con.close()
    assert (_seed("000").name,) in closed and (_seed("004").name,) in closed
    assert states["010_new.txt"] == "quarantined" and _seed("004").name not in states
    assert (states["0001_duplicate.txt"], states["102_renamed.txt"]) == ("loaded", "duplicate")


def test_when_not_to_patch(first_build, tmp_path, monkeypatch):
    _, state = first_build
    assert patch.cannot_patch(tmp_path / "none.duckdb") == "no published warehouse"
    assert patch.cannot_patch(state / WAREHOUSE) is None
    monkeypatch.setattr("warehouse.build.code_digest", lambda: "0000000000000000")  # other code
    assert "other code" in patch.cannot_patch(state / WAREHOUSE)
    monkeypatch.undo()
    assert patch.cannot_patch(state / WAREHOUSE) is None
    monkeypatch.setattr(patch, "MAX_FREE_BLOCK_SHARE", -1.0)
    monkeypatch.setattr(patch, "MIN_FREE_BYTES_TO_COMPACT", -1)
    assert "free" in patch.cannot_patch(state / WAREHOUSE)
    monkeypatch.setenv(patch.PATCH_SWITCH, "0")
    assert "switched off" in patch.cannot_patch(state / WAREHOUSE)


def test_a_copy_not_patched_is_removed_and_none_is_made_when_patching_is_off(first_build, monkeypatch):
    """StagingCopy copies the published file before it knows whether it can patch it."""
    _, state = first_build
    published = state / WAREHOUSE
    staging = published.with_name(published.name + ".staging")
    star = StarRows([], pl.DataFrame({"notice_key": [], "source_name": []}, schema={"notice_key": pl.String, "source_name": pl.String}))
    monkeypatch.setattr("warehouse.build.code_digest", lambda: "0000000000000000")  # other code: built in full
    with patch.StagingCopy(published, star) as copy:
        assert "other code" in copy.reason
    assert not staging.exists()

    def failing(_published):
        raise RuntimeError("a check that fails")

    monkeypatch.setattr(patch, "cannot_patch", failing)
    with pytest.raises(RuntimeError, match="a check that fails"):
        patch.StagingCopy(published, star)
    assert not staging.exists()  # the copy begun is waited for and removed

    monkeypatch.undo()
    monkeypatch.setenv(patch.PATCH_SWITCH, "0")
    copies = []
    monkeypatch.setattr(patch.shutil, "copyfile", lambda *args: copies.append(args))
    with patch.StagingCopy(published, star):
        pass
    assert copies == []


def test_every_mart_is_patched_per_notice_or_rebuilt():
    every = marts.marts()
    assert set(every) == set(marts.NOTICE_MARTS) | set(marts.MART_REASONS)
    assert not set(marts.NOTICE_MARTS) & set(marts.MART_REASONS)
    assert all(mart.statements[0].lstrip().startswith(("CREATE", "-")) for mart in every.values())
    # a full build makes these a slice of notices at a time: only a per-notice mart stored in no order may be
    assert set(marts.SLICED_MARTS) <= set(marts.NOTICE_MARTS)
    assert not any("ORDER BY" in every[name].query.upper() for name in marts.SLICED_MARTS)


def test_a_per_notice_mart_may_not_read_a_mart_rebuilt_after_the_per_notice_marts(monkeypatch):
    """A patch writes the per-notice marts before it rebuilds the marts scripted after the first of them."""
    assert marts.rebuilt_after_notice_marts(list(marts.marts())) == ["mart_unit_progress", "mart_unit_headline"]

    def script(read_by_mart_notice):
        return ("CREATE TABLE mart_headline_metric AS SELECT 1 AS x;\n"
                "CREATE TABLE mart_issue AS SELECT 1 AS x;\n"
                "CREATE TABLE mart_unit_progress AS SELECT 1 AS x;\n"
                f"CREATE TABLE mart_notice AS SELECT * FROM {read_by_mart_notice};\n")

    try:
        monkeypatch.setattr(marts, "mart_statements", lambda: script("mart_headline_metric"))  # rebuilt before
        marts.marts.cache_clear()
        assert list(marts.marts()) == ["mart_headline_metric", "mart_issue", "mart_unit_progress", "mart_notice"]
        monkeypatch.setattr(marts, "mart_statements", lambda: script("mart_unit_progress"))  # rebuilt after
        marts.marts.cache_clear()
        with pytest.raises(ValueError, match=r"per-notice mart mart_notice reads \['mart_unit_progress'\]"):
            marts.marts()
    finally:
        monkeypatch.undo()
        marts.marts.cache_clear()


def test_notice_delta():
    published = pl.DataFrame({"notice_key": ["a", "b", "c"], "source_name": ["a.txt", "b.txt", "c.txt"]})
    loaded = pl.DataFrame({"notice_key": ["b", "c", "d"], "source_name": ["b.txt", "c2.txt", "d.txt"]})
    delta = notice_delta(published, loaded)
    assert delta.added.to_list() == ["d"] and delta.removed.to_list() == ["a"]
    assert delta.renamed.rows() == [("c", "c2.txt")]
    assert delta.changed == 3 and delta.rewritten_keys() == ["c", "d"]
    assert is_small_change(delta.changed, 3, delta.loaded, max_share=0.1, always_below=3)
    assert not is_small_change(delta.changed, 3, delta.loaded, max_share=0.1, always_below=2)
    assert is_small_change(delta.changed, 30, delta.loaded, max_share=0.1, always_below=0)


def test_version_delta_keeps_identical_rows_and_matches_nulls():
    stamp = datetime(2026, 1, 1, tzinfo=timezone.utc)
    schema = {"source_name": pl.String, "content_sha256": pl.String, "notice_key": pl.String,
              "valid_from": pl.Datetime("us", "UTC"), "valid_to": pl.Datetime("us", "UTC")}
    published = pl.DataFrame([("a", "1", "1", stamp, None), ("b", "2", "2", stamp, None)], schema=schema, orient="row")
    later = stamp + timedelta(days=1)
    versions = pl.DataFrame([("a", "1", "1", stamp, None), ("b", "2", "2", stamp, later), ("b", "3", "3", later, None)],
                            schema=schema, orient="row")
    insert, delete = version_delta(published, versions.select(VERSION_COLUMNS))
    assert sorted(insert.rows()) == [("b", "2", "2", stamp, later), ("b", "3", "3", later, None)]
    assert delete.rows() == [("b", "2", "2", stamp, None)]
