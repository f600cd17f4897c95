"""The gate's delta mode (run_gate's changed_notice_keys) and its fixed-cost paths, on the warehouse of seeds/.

A delta run validates a staged file that is the previous published (gated) file with only some notices' rows
replaced: the restricted suites load the rows of those notices, the rows they could collide with, and the
unchanged rows whose cross-table checks read what changed; its verdict is that of a full run.
"""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

import expectations.gate as gate_module
from expectations.gate import SCOPE_ALL, SCOPE_CHANGED, SCOPE_UNCHANGED, GateError, load_suites, run_gate
from warehouse.schema import ddl_statements, mart_statements

MART_TABLES = re.findall(r"CREATE TABLE (\w+)", mart_statements())


def notice_tables(con) -> list[str]:
    """The loaded tables with a notice_key column (the marts are rebuilt, not patched)."""
    rows = con.execute(
        "SELECT DISTINCT c.table_name FROM duckdb_columns() c JOIN duckdb_tables() t USING (database_name, table_name) "
        "WHERE c.database_name = current_database() AND c.column_name = 'notice_key'"
    ).fetchall()
    return sorted(name for (name,) in rows if name not in MART_TABLES)


def patch(previous: Path, path: Path, replaced: list[str], removed: list[str] = (), *changes: str) -> Path:
    """`previous` patched as an incremental refresh does: the rows of `replaced` notices deleted and inserted again,
    those of `removed` notices deleted, then `changes` (SQL), then the marts rebuilt."""
    shutil.copy(previous, path)
    con = duckdb.connect(str(path))
    try:
        for table in notice_tables(con):
            for key in replaced:
                con.execute(f"CREATE TEMP TABLE kept AS SELECT * FROM {table} WHERE notice_key = ?", [key])
                con.execute(f"DELETE FROM {table} WHERE notice_key = ?", [key])
                con.execute(f"INSERT INTO {table} SELECT * FROM kept")
                con.execute("DROP TABLE kept")
            for key in removed:
                con.execute(f"DELETE FROM {table} WHERE notice_key = ?", [key])
        for change in changes:
            con.execute(change)
        for table in MART_TABLES:
            con.execute(f"DROP TABLE {table}")
        con.execute(mart_statements())
    finally:
        con.close()
    return path


def one(database: Path, sql: str, params=None):
    con = duckdb.connect(str(database), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()[0][0]
    finally:
        con.close()


@pytest.fixture(scope="module")
def seed(published, tmp_path_factory):
    """A copy of the seed warehouse (the previous published file), its notices (fewest issues first), and its full
    gate run (as a first load)."""
    root = tmp_path_factory.mktemp("delta")
    previous = root / "published.duckdb"  # (a file named previous.duckdb would clash with the catalog `previous`)
    shutil.copy(published, previous)
    con = duckdb.connect(str(previous), read_only=True)
    keys = [k for (k,) in con.execute(
        "SELECT d.notice_key FROM dim_notice d LEFT JOIN fact_issue i USING (notice_key) "
        "GROUP BY d.notice_key ORDER BY count(i.issue_key), d.notice_key").fetchall()]
    con.close()
    full = run_gate(previous, root / "full")  # as a first load: compared with the gate's empty warehouse
    assert full.passed and len(keys) == 5
    return previous, keys, full


def delta(staged: Path, previous: Path, report: Path, keys: list[str]):
    return run_gate(staged, report, previous=previous, changed_notice_keys=keys)


def test_delta_on_a_valid_patch_passes_and_loads_only_the_changed_rows(seed, tmp_path):
    previous, (changed, *_), full = seed
    staged = patch(previous, tmp_path / "staged.duckdb", [changed])
    result = delta(staged, previous, tmp_path / "validation", [changed])
    assert result.passed and result.errors == []
    rows = {s.table: s.row_count for s in full.suites}
    restricted = {spec.table for spec in load_suites() if spec.delta is not None}
    assert {"fact_issue", "fact_measure", "fact_indicator", "fact_claim", "raw_notice", "dim_notice"} <= restricted
    # the patch rewrote the notice's rows as they were: every suite validated whole that reads only tables of the
    # staged file finds them as they were published, and is not validated again; those comparing with `previous` are
    unchanged = {spec.table for spec in load_suites()
                 if spec.delta is None and not spec.prepare and "previous." not in spec.query()}
    assert {"dim_inspection", "dim_organization", "fetch_log", "mart_unit_headline"} <= unchanged
    for suite in result.suites:
        expected = SCOPE_CHANGED if suite.table in restricted else SCOPE_UNCHANGED if suite.table in unchanged else SCOPE_ALL
        assert suite.scope == expected, suite.table
        if suite.scope == SCOPE_UNCHANGED:
            assert suite.success and suite.evaluated == 0 and suite.row_count is None
        elif suite.table not in restricted:
            assert suite.row_count == rows[suite.table], suite.table
    by_table = {s.table: s for s in result.suites}
    for table in ("fact_issue", "fact_measure", "raw_notice", "dim_notice", "fact_indicator"):
        own = one(staged, f"SELECT count(*) FROM {table} WHERE notice_key = ?", [changed])
        assert by_table[table].row_count == own < rows[table], table
    loaded = sum(s.row_count for s in result.suites if s.table in restricted)
    assert loaded < sum(rows[table] for table in restricted) / 2
    report = json.loads(result.json_path.read_text(encoding="utf-8"))
    assert report["mode"] == "delta" and report["changed_notice_keys"] == [changed]
    assert {s["table"]: s["scope"] for s in report["suites"]}["fact_issue"] == "changed notices"
    assert result.docs_path.is_file()
    # warnings count the rows validated: those of unchanged notices are not reported again
    (warning,) = [line for line in result.warnings if "claimed_count agrees" in line]
    (full_warning,) = [line for line in full.warnings if "claimed_count agrees" in line]
    assert warning.startswith("fact_claim (changed notices): ") and full_warning.startswith("fact_claim: ")
    count = one(staged, "SELECT count(*) FROM fact_claim WHERE notice_key = ?", [changed])
    assert f" of {count} rows" in warning and f" of {rows['fact_claim']} rows" in full_warning


def test_delta_validates_the_rows_of_every_changed_notice(seed, tmp_path):
    previous, (first, second, *_), _ = seed
    staged = patch(previous, tmp_path / "staged.duckdb", [first, second])
    result = delta(staged, previous, tmp_path / "validation", [second, first])
    assert result.passed and result.errors == []
    by_table = {s.table: s for s in result.suites}
    for table in ("fact_issue", "fact_measure", "raw_notice", "dim_notice", "fact_indicator"):
        both = one(staged, f"SELECT count(*) FROM {table} WHERE notice_key IN (?, ?)", [first, second])
        alone = one(staged, f"SELECT count(*) FROM {table} WHERE notice_key = ?", [second])
        assert by_table[table].scope == SCOPE_CHANGED and by_table[table].row_count == both > alone, table


def test_a_bad_value_or_a_key_collision_in_a_changed_notice_fails(seed, tmp_path):
    previous, (changed, _, other, *_), _ = seed
    taken = one(previous, "SELECT min(measure_key) FROM fact_measure WHERE notice_key = ?", [other])
    staged = patch(previous, tmp_path / "staged.duckdb", [changed], [],
                   f"UPDATE fact_issue SET status = 'bogus' WHERE issue_key = "
                   f"(SELECT max(issue_key) FROM fact_issue WHERE notice_key = '{changed}')",
                   # a new row taking the key of an unchanged notice's row
                   f"UPDATE fact_measure SET measure_key = '{taken}' WHERE measure_key = "
                   f"(SELECT min(measure_key) FROM fact_measure WHERE notice_key = '{changed}')")
    result = delta(staged, previous, tmp_path / "validation", [changed])
    assert not result.passed
    (status,) = [line for line in result.errors if "status is one of" in line]
    assert status.startswith("fact_issue (changed notices): status is one of") and "'bogus'" in status and "1 of " in status
    (unique,) = [line for line in result.errors if "measure_key values are unique" in line]
    assert unique.startswith("fact_measure (changed notices): ") and f"'{taken}' ×2" in unique
    measures = next(s for s in result.suites if s.table == "fact_measure")
    own = one(staged, "SELECT count(*) FROM fact_measure WHERE notice_key = ?", [changed])
    assert measures.row_count == own + 1  # the unchanged row it collides with is loaded too


def test_a_quote_not_at_its_offsets_in_a_changed_notice_is_reported(seed, tmp_path):
    # the delta prepare step cuts the changed notices' texts and keeps the spans whose text is not their quote
    previous, (changed, *_), _ = seed
    staged = patch(previous, tmp_path / "staged.duckdb", [changed], [],
                   f"UPDATE fact_indicator SET quote = quote || '。' WHERE indicator_key = "
                   f"(SELECT min(indicator_key) FROM fact_indicator WHERE notice_key = '{changed}')")
    result = delta(staged, previous, tmp_path / "validation", [changed])
    assert result.passed  # a warning
    (line,) = [line for line in result.warnings if "quote is the notice text" in line]
    assert line.startswith("fact_indicator (changed notices): quote is the notice text at [char_start, char_end)")
    assert "1 of " in line


def test_the_quoting_tables_share_one_delta_prepare_step(seed, tmp_path):
    # both quote checks read one cut of the changed notices' texts (suites.yaml quoted_text_delta): fact_claim's rows
    # are read on the connection where fact_indicator's step ran, and each table's misquote is reported as its own
    specs = {spec.table: spec for spec in load_suites()}
    assert specs["fact_indicator"].delta.prepare == specs["fact_claim"].delta.prepare
    previous, (changed, *_), _ = seed
    key = f"(SELECT min({{0}}_key) FROM fact_{{0}} WHERE notice_key = '{changed}')"
    staged = patch(previous, tmp_path / "staged.duckdb", [changed], [],
                   f"UPDATE fact_indicator SET quote = quote || '。' WHERE indicator_key = {key.format('indicator')}",
                   f"UPDATE fact_claim SET quote = quote || '。' WHERE claim_key = {key.format('claim')}")
    with gate_module._StagedReader(staged, previous, 0.5, [changed], load_suites()) as reader:
        indicators = reader.load_arrow(specs["fact_indicator"])
        assert "fact_claim" in reader._read_early  # read after the shared step, not cut again
        claims = reader.load_arrow(specs["fact_claim"])
    for loaded in (indicators, claims):
        assert loaded.error is None and loaded.table["quote_not_at_offsets"].null_count == loaded.table.num_rows - 1
    result = delta(staged, previous, tmp_path / "validation", [changed])
    quoted = sorted(line.split(":")[0] for line in result.warnings if "quote is the notice text" in line)
    assert quoted == ["fact_claim (changed notices)", "fact_indicator (changed notices)"]


def test_a_bad_value_in_an_unchanged_row_is_left_to_the_full_gate(seed, tmp_path):
    """The assumption of delta mode: rows of unchanged notices passed when they were published, and are not loaded."""
    previous, (changed, _, other, *_), _ = seed
    staged = patch(previous, tmp_path / "staged.duckdb", [changed], [],
                   f"UPDATE fact_issue SET status = 'bogus' WHERE issue_key = "
                   f"(SELECT max(issue_key) FROM fact_issue WHERE notice_key = '{other}')")
    assert delta(staged, previous, tmp_path / "delta", [changed]).passed
    full = run_gate(staged, tmp_path / "full", previous=previous)
    assert not full.passed and any(line.startswith("fact_issue: status is one of") for line in full.errors)


def test_unchanged_rows_whose_references_changed_fail(seed, tmp_path):
    """An unchanged indicator naming a removed notice's issue, and an unchanged notice whose inspection is gone
    from the rebuilt dimension: caught by the full gate, so by the delta gate too."""
    previous, (removed, _, other, *_), _ = seed
    # the previous file, valid: an indicator of `other` names an issue of `removed` (no rule forbids it)
    before = patch(previous, tmp_path / "before.duckdb", [], [],
                   f"UPDATE fact_indicator SET issue_key = (SELECT min(issue_key) FROM fact_issue WHERE notice_key = '{removed}') "
                   f"WHERE indicator_key = (SELECT min(indicator_key) FROM fact_indicator WHERE notice_key = '{other}')")
    assert run_gate(before, tmp_path / "before", previous=previous).passed
    staged = patch(before, tmp_path / "staged.duckdb", [], [removed],
                   f"DELETE FROM dim_inspection WHERE inspection_key = (SELECT inspection_key FROM dim_notice WHERE notice_key = '{other}')")
    full = run_gate(staged, tmp_path / "full", previous=before)
    assert any(line.startswith("fact_indicator: issue_key resolves") for line in full.errors), full.errors
    assert any(line.startswith("dim_notice: inspection_key resolves") for line in full.errors), full.errors
    result = delta(staged, before, tmp_path / "delta", [removed])
    assert not result.passed
    (orphan,) = [line for line in result.errors if line.startswith("fact_indicator")]
    assert orphan.startswith("fact_indicator (changed notices): issue_key resolves to fact_issue.issue_key") and "1 of 1 rows" in orphan
    assert any(line.startswith("dim_notice (changed notices): inspection_key resolves to dim_inspection") for line in result.errors)
    assert {line.split(" (changed notices)")[0] for line in result.errors} == {line.split(":")[0] for line in full.errors}


def test_a_whole_table_suite_is_validated_again_when_a_table_it_reads_changed(seed, tmp_path):
    """dim_inspection's checks read dim_date: a calendar row gone makes it fail although its own rows are as
    published, and a bad value in it is caught; the suites whose tables did not change are not validated again."""
    previous, (changed, *_), _ = seed
    day = one(previous, "SELECT min(feedback_date) FROM dim_inspection")
    staged = patch(previous, tmp_path / "staged.duckdb", [changed], [], f"DELETE FROM dim_date WHERE date_key = DATE '{day}'")
    result = delta(staged, previous, tmp_path / "calendar", [changed])
    scopes = {s.table: s.scope for s in result.suites}
    assert scopes["dim_inspection"] == scopes["dim_date"] == SCOPE_ALL
    assert scopes["dim_organization"] == scopes["fetch_log"] == SCOPE_UNCHANGED
    assert any(line.startswith("dim_inspection: inspection dates are covered by dim_date") for line in result.errors), result.errors
    report = json.loads(result.json_path.read_text(encoding="utf-8"))
    organizations = next(s for s in report["suites"] if s["table"] == "dim_organization")
    assert organizations["scope"] == SCOPE_UNCHANGED and organizations["success"] is True
    assert organizations["evaluated"] == 0 and {e["success"] for e in organizations["expectations"]} == {None}
    bad = patch(previous, tmp_path / "bad.duckdb", [changed], [], "UPDATE dim_inspection SET inspection_kind = 'bogus' "
                "WHERE inspection_key = (SELECT min(inspection_key) FROM dim_inspection)")
    caught = delta(bad, previous, tmp_path / "bad", [changed])
    assert any(line.startswith("dim_inspection: inspection_kind") and "'bogus'" in line for line in caught.errors), caught.errors


def test_delta_mode_needs_the_previous_warehouse_and_keys(seed, tmp_path):
    previous, (changed, *_), _ = seed
    with pytest.raises(GateError, match="previous published warehouse"):
        run_gate(previous, tmp_path / "validation", changed_notice_keys=[changed])
    with pytest.raises(GateError, match="sequence of notice keys"):
        run_gate(previous, tmp_path / "validation", previous=previous, changed_notice_keys=changed)


def test_delta_is_refused_on_a_suite_with_a_whole_table_check(tmp_path):
    suites = tmp_path / "suites.yaml"
    suites.write_text("suites:\n  t:\n    key: k\n    delta: {}\n    expectations:\n"
                      "      - {type: expect_table_row_count_to_be_between, kwargs: {min_value: 1}, severity: error}\n")
    with pytest.raises(GateError, match="not a per-row or uniqueness check"):
        load_suites(suites)
    assert all(spec.delta is None for spec in load_suites() if spec.table in ("refresh_build", "refresh_volume", "source_file"))


def test_the_fixed_cost_paths_give_the_same_report(seed, tmp_path, monkeypatch):
    """One connection for the small tables and an empty warehouse built from warehouse/sql without importing
    warehouse.store: the same validation.json as a connection per suite and store's DDL (times and paths aside)."""
    previous, _, full = seed
    fast = json.loads(full.json_path.read_text(encoding="utf-8"))

    def store_empty_warehouse(folder: Path) -> Path:
        path = folder / "empty.duckdb"
        con = duckdb.connect(str(path))
        con.execute(ddl_statements())
        con.close()
        return path

    monkeypatch.setattr(gate_module, "REUSE_MEMORY_LIMIT", -1)
    monkeypatch.setattr(gate_module, "_empty_warehouse", store_empty_warehouse)
    slow = json.loads(run_gate(previous, tmp_path / "slow").json_path.read_text(encoding="utf-8"))
    for report in (fast, slow):
        for name in ("database", "run_time", "duration_seconds", "data_docs"):
            report.pop(name)
    assert fast == slow and fast["mode"] == "full"
    # ... and the gate builds it without importing warehouse.store (Polars and the transforms)
    probe = ("import pathlib, sys, tempfile; from expectations import gate; "
             "gate._empty_warehouse(pathlib.Path(tempfile.mkdtemp())); print('warehouse.store' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip() == "False"


def test_the_empty_warehouse_has_the_published_schema(tmp_path):
    ours = gate_module._empty_warehouse(tmp_path)
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{ours}' AS ours (READ_ONLY)")
        con.execute(f"ATTACH '{tmp_path / 'store.duckdb'}' AS store")
        con.execute("USE store")
        con.execute(ddl_statements())
        columns = "SELECT table_name, column_name, data_type, comment FROM duckdb_columns() WHERE database_name = ?"
        assert sorted(con.execute(columns, ["ours"]).fetchall()) == sorted(con.execute(columns, ["store"]).fetchall())
        assert len(con.execute(columns, ["ours"]).fetchall()) > 100
    finally:
        con.close()
