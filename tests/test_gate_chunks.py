"""A suite validated in chunks of rows (suites.yaml `chunk_rows`) gives the result of the suite validated on every row
at once (expectations/gate.py `_StagedReader.load_chunks`, `_SuiteValidation`)."""

import dataclasses
import json
import shutil
from datetime import datetime, timezone

import duckdb
import pandas as pd
import pytest

import expectations.gate as gate_module
from expectations.gate import (
    ExpectationSpec, GateError, SuiteSpec, _Loaded, _StagedReader, key_ranges, load_suites, run_gate,
)
from tests.test_gate import A, B, build_warehouse
from tests.test_gate_fast_paths import _refused


def test_key_ranges_take_every_key_once():
    assert key_ranges([]) == [(None, None)]  # no key: one chunk, every row (NULL keys included)
    assert key_ranges(["a"]) == [(None, None)]
    assert key_ranges(["a", "d", "g"]) == [(None, "d"), ("d", "g"), ("g", None)]
    assert key_ranges(["a", "d", "d", "g"]) == [(None, "d"), ("d", "g"), ("g", None)]  # a value repeated at a cut


def _frame() -> pd.DataFrame:
    """300 rows sorted by key (NULL first), failing each expectation of _suite() on rows spread over every chunk."""
    keys = [f"k{i:03d}" for i in range(299)]
    keys[40] = keys[41] = keys[42] = "k041"  # a key three times, then others twice, far apart
    keys[150] = "k149"
    keys[298] = "k297"
    return pd.DataFrame({
        "row_key": [None] + keys,
        "wrong": [None if i % 13 else f"bad {i}" for i in range(300)],
        "kind": ["a" if i % 31 else "z" for i in range(300)],
        "low": [i % 5 for i in range(300)],
        "high": [3] * 300,
    })


def _suite() -> SuiteSpec:
    key = "row_key"
    expectations = (
        ExpectationSpec("expect_column_values_to_not_be_null", {"column": key}, "error"),
        ExpectationSpec("expect_column_values_to_be_unique", {"column": key}, "error"),
        ExpectationSpec("expect_compound_columns_to_be_unique", {"column_list": [key, "kind"]}, "error"),
        ExpectationSpec("expect_column_values_to_be_null", {"column": "wrong"}, "error"),
        ExpectationSpec("expect_column_values_to_be_in_set", {"column": "kind", "value_set": ["a", "b"]}, "warning"),
        ExpectationSpec("expect_column_pair_values_a_to_be_greater_than_b",
                        {"column_A": "high", "column_B": "low", "or_equal": True}, "error"),
    )
    return SuiteSpec("t", key, {}, expectations, chunk_rows=70)


def _outcome(tmp_path, frames: list[pd.DataFrame]):
    context, _ = gate_module._fresh_context(tmp_path, ["t"])
    validation = gate_module._SuiteValidation(context, _suite(), datetime(2026, 1, 1, tzinfo=timezone.utc))
    with gate_module._quiet_gx(), gate_module._first_unexpected_rows_only(), gate_module._gx_fast_paths():
        for number, frame in enumerate(frames, start=1):
            chunk = None if len(frames) == 1 else (number, len(frames))
            validation.add(_Loaded(_suite(), "SELECT 1", frame=frame.reset_index(drop=True), chunk=chunk))
    return validation.outcome()


def test_a_suite_validated_in_chunks_has_the_result_of_its_whole_frame(tmp_path):
    frame = _frame()
    starts = frame["row_key"].dropna().iloc[::70].tolist()
    keys, every = frame["row_key"], pd.Series(True, index=frame.index)
    chunks = [frame[(every if low is None else keys >= low) & (every if high is None else (keys < high) | keys.isna())]
              for low, high in key_ranges(starts)]
    assert len(chunks) == 5 and sum(map(len, chunks)) == 300

    (whole, whole_json), (chunked, chunked_json) = _outcome(tmp_path / "whole", [frame]), _outcome(tmp_path / "chunks", chunks)

    assert chunked == whole
    assert not whole.success and len(whole.failures) == 6  # every expectation failed, some in every chunk
    assert whole_json.pop("chunks") == 1 and chunked_json.pop("chunks") == 5
    assert chunked_json.pop("query").startswith(whole_json.pop("query"))
    assert chunked_json == whole_json
    duplicates = next(e for e in whole_json["expectations"] if e["type"] == "expect_column_values_to_be_unique")
    assert duplicates["unexpected_count"] == 7  # (k041 ×3, k149 ×2, k297 ×2: one in the first chunk, one in the last)


@pytest.fixture(scope="module")
def faulty(published, tmp_path_factory):
    """The seed warehouse with faults in fact_indicator spread over its key order: a duplicated key, a NULL key,
    values out of their sets at both ends, an orphan issue key in the middle."""
    path = tmp_path_factory.mktemp("chunks") / "staged.duckdb"
    shutil.copy(published, path)
    with duckdb.connect(str(path)) as con:
        keys = [k for (k,) in con.execute("SELECT indicator_key FROM fact_indicator ORDER BY indicator_key").fetchall()]
        assert len(keys) > 600
        con.execute("UPDATE fact_indicator SET indicator_key = ? WHERE indicator_key = ?", [keys[300], keys[301]])
        con.execute("UPDATE fact_indicator SET indicator_key = NULL WHERE indicator_key = ?", [keys[500]])
        con.execute("UPDATE fact_indicator SET qualifier = 'roughly' WHERE indicator_key IN (?, ?, ?)",
                    [keys[0], keys[150], keys[-1]])
        con.execute("UPDATE fact_indicator SET issue_key = 'nowhere' WHERE indicator_key = ?", [keys[420]])
    return path


def suites_by_table(result) -> dict[str, dict]:
    """The suites of a gate's validation.json, by table."""
    return {suite["table"]: suite for suite in json.loads(result.json_path.read_text(encoding="utf-8"))["suites"]}


def _chunked_suites(rows: int):
    return [dataclasses.replace(spec, chunk_rows=rows) if spec.chunk_rows else spec for spec in load_suites()]


# 100: every key sampled, the exact cuts; 300: one key in 2 (788 figures: 3 chunks of 200 samples)
@pytest.mark.parametrize("rows", [100, 300])
def test_a_gate_validating_its_tables_in_chunks_reports_what_it_reports_at_once(faulty, tmp_path, monkeypatch, rows):
    assert any(spec.chunk_rows for spec in load_suites()), "suites.yaml chunks no suite"
    monkeypatch.setattr(gate_module, "load_suites", lambda: _chunked_suites(10**9))
    whole = run_gate(faulty, tmp_path / "whole")
    monkeypatch.setattr(gate_module, "load_suites", lambda: _chunked_suites(rows))
    chunked = run_gate(faulty, tmp_path / "chunked")

    assert not whole.passed and (chunked.errors, chunked.warnings) == (whole.errors, whole.warnings)
    assert any("fact_indicator: indicator_key values are unique" in line for line in whole.errors)
    assert any("'roughly'" in line for line in whole.errors)
    assert chunked.suites == whole.suites
    suites = [suites_by_table(result) for result in (whole, chunked)]
    chunked_tables = {spec.table for spec in load_suites() if spec.chunk_rows}
    assert "fact_indicator" in chunked_tables
    for table in suites[0]:
        whole_chunks, chunked_chunks = suites[0][table].pop("chunks"), suites[1][table].pop("chunks")
        row_count = suites[0][table]["row_count"]
        expected = -(-row_count // rows) if table in chunked_tables and row_count > rows else 1
        assert (whole_chunks, chunked_chunks) == (1, expected), table
        assert table != "fact_indicator" or expected > 2
        if expected > 1:
            query = suites[1][table].pop("query")
            assert query.startswith(suites[0][table].pop("query")) and "chunks" in query
    assert suites[1] == suites[0]
    assert chunked.docs_path.is_file()


def test_chunks_are_for_the_suites_validated_on_every_row_with_more_rows_than_a_chunk(tmp_path):
    database = build_warehouse(tmp_path / "staged.duckdb")
    specs = load_suites()
    declared = next(s for s in specs if s.table == "fact_indicator")
    assert declared.chunk_rows and declared.delta is not None
    spec = dataclasses.replace(declared, chunk_rows=1)
    with _StagedReader(database, None, 0.5, None, specs) as full:
        assert not full.chunked(declared) and not full.chunked(dataclasses.replace(spec, chunk_rows=2))  # 2 rows
        assert full.chunked(spec)
        chunks = list(full.load_chunks(spec))
        assert [(c.chunk, c.error, c.table.num_rows) for c in chunks] == [((1, 2), None, 1), ((2, 2), None, 1)]
        assert [key for c in chunks for key in c.table["indicator_key"].to_pylist()] == [f"{A}-x26", f"{B}-x5"]
    with _StagedReader(database, database, 0.5, [A], specs) as delta:  # the changed notices' rows
        assert not delta.chunked(spec)
        (restricted,) = delta.load_chunks(spec)
        assert restricted.chunk is None and restricted.table.num_rows == 1


@pytest.mark.parametrize("suite, expectation", [
    ("    chunk_rows: 0\n", None),
    ("    chunk_rows: true\n", None),
    ("    chunk_rows: 10\n", "{type: expect_table_row_count_to_be_between, kwargs: {min_value: 1}, severity: error}"),
    ("    chunk_rows: 10\n", "{type: expect_column_values_to_be_unique, kwargs: {column: other}, severity: error}"),
    ("    chunk_rows: 10\n", "{type: expect_column_values_to_be_null, kwargs: {column: k, mostly: 0.9}, severity: error}"),
    ("    chunk_rows: 10\n    derived: {k: t.x}\n", None),
])
def test_chunks_are_refused_where_a_chunk_s_verdict_is_not_the_table_s(tmp_path, suite, expectation):
    if expectation is None:
        _refused(tmp_path, suite, "`chunk_rows` must be a positive number|`chunk_rows` needs a key that is a column of the table")
        return
    suites = tmp_path / "suites.yaml"
    suites.write_text(f"suites:\n  t:\n    key: k\n{suite}    expectations:\n      - {expectation}\n")
    with pytest.raises(GateError, match="declares `chunk_rows` but"):
        load_suites(suites)


def test_the_gate_s_duckdb_memory_is_bounded_when_set(tmp_path, monkeypatch):
    database = build_warehouse(tmp_path / "staged.duckdb")
    monkeypatch.setenv(gate_module.GATE_MEMORY_VARIABLE, "64MB")
    with _StagedReader(database, None, 0.5, None, load_suites()) as reader:
        ((limit,),) = reader._con.execute("SELECT current_setting('memory_limit')").fetchall()
        assert limit.replace(" ", "") in ("61.0MiB", "64.0MB", "61MiB")
    assert run_gate(database, tmp_path / "bounded").passed
    monkeypatch.setenv(gate_module.GATE_MEMORY_VARIABLE, "1KB")  # not even enough to open the file: no verdict
    with pytest.raises(GateError, match="cannot open the staged warehouse .*Out of Memory"):
        run_gate(database, tmp_path / "starved")
