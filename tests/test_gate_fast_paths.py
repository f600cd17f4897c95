"""The gate's shortcuts give the results of the plain path: GX keying only the unexpected rows it keeps, and the
quote checks' shared prepare step, run a slice of notices at a time (expectations/gate.py)."""

import dataclasses
from datetime import datetime, timezone

import duckdb
import pandas as pd
import pytest

import expectations.gate as gate_module
from expectations.gate import ExpectationSpec, GateError, SliceStep, SuiteSpec, _Loaded, _StagedReader, load_suites
from tests.test_gate import A, build_warehouse, gate


def _frame() -> pd.DataFrame:
    """200 rows, most expectations failing on dozens of them (more than the PARTIAL_UNEXPECTED kept)."""
    rows = range(200)
    return pd.DataFrame({
        "row_key": [f"k{i:03d}" for i in rows],
        "wrong": [None if i % 7 else f"bad {i}" for i in rows],  # 29 rows not NULL
        "kind": ["a" if i % 3 else "z" for i in rows],  # 67 rows out of the set
        "code": [i // 2 for i in rows],  # every value twice
        "low": [i % 5 for i in rows],
        "high": [3] * 200,  # high < low on 40 rows
        "part": [i % 40 for i in rows],
    })


def _suite() -> SuiteSpec:
    expectations = (
        ExpectationSpec("expect_column_values_to_be_null", {"column": "wrong"}, "error"),
        ExpectationSpec("expect_column_values_to_be_in_set", {"column": "kind", "value_set": ["a", "b"]}, "warning"),
        ExpectationSpec("expect_column_values_to_be_unique", {"column": "code"}, "error"),
        ExpectationSpec("expect_compound_columns_to_be_unique", {"column_list": ["part", "low"]}, "error"),
        ExpectationSpec("expect_column_pair_values_a_to_be_greater_than_b",
                        {"column_A": "high", "column_B": "low", "or_equal": True}, "error"),
        ExpectationSpec("expect_column_values_to_be_between", {"column": "low", "min_value": 0, "max_value": 3},
                        "error", "low between 0 and 3"),
    )
    return SuiteSpec("t", "row_key", {}, expectations)


def _validate(tmp_path, shortcut: bool):
    context, _ = gate_module._fresh_context(tmp_path, ["t"])
    item = _Loaded(_suite(), "SELECT 1", frame=_frame())
    run_time = datetime(2026, 1, 1, tzinfo=timezone.utc)
    with gate_module._quiet_gx():
        if not shortcut:
            return gate_module._validate(context, item, run_time)
        with gate_module._first_unexpected_rows_only():
            return gate_module._validate(context, item, run_time)


def test_gx_keys_only_the_unexpected_rows_it_keeps_with_the_same_result(tmp_path, monkeypatch):
    from great_expectations.expectations.metrics.map_metric_provider import map_condition_auxilliary_methods as methods

    complete = methods.compute_unexpected_pandas_indices
    keyed = []

    def spy(**kwargs):
        keyed.append(len(kwargs["domain_records_df"]))
        return complete(**kwargs)

    plain = _validate(tmp_path / "plain", shortcut=False)
    monkeypatch.setattr(methods, "compute_unexpected_pandas_indices", spy)
    short = _validate(tmp_path / "short", shortcut=True)
    assert methods.compute_unexpected_pandas_indices is spy  # put back as it was found

    (result, payload), (plain_result, plain_payload) = short, plain
    assert payload == plain_payload and result == plain_result
    counts = {e["type"]: e["unexpected_count"] for e in payload["expectations"]}
    assert counts == {
        "expect_column_values_to_be_null": 29, "expect_column_values_to_be_in_set": 67,
        "expect_column_values_to_be_unique": 200, "expect_compound_columns_to_be_unique": 200,
        "expect_column_pair_values_a_to_be_greater_than_b": 40, "expect_column_values_to_be_between": 40,
    }
    first = payload["expectations"][0]
    assert first["unexpected_rows"] == [{"wrong": f"bad {i}", "row_key": f"k{i:03d}"} for i in (0, 7, 14, 21, 28)]
    # GX was handed the first PARTIAL_UNEXPECTED unexpected rows of each failed expectation, not all of them
    assert keyed and max(keyed) == gate_module.PARTIAL_UNEXPECTED


def test_the_quote_checks_share_one_prepare_step_with_the_same_rows(tmp_path):
    database = build_warehouse(tmp_path / "staged.duckdb",
                               f"UPDATE fact_claim SET char_start = 1, char_end = 4 WHERE claim_key = '{A}-c0'")
    specs = {spec.table: spec for spec in load_suites()}
    assert specs["fact_indicator"].prepare == specs["fact_claim"].prepare
    with _StagedReader(database, None, 0.5, None, list(specs.values())) as shared:
        indicators = shared.load_arrow(specs["fact_indicator"])
        assert set(shared._read_early) == {"fact_claim"}  # read on fact_indicator's connection, after its prepare step
        claims = shared.load_arrow(specs["fact_claim"])
        assert shared._read_early == {}
    with _StagedReader(database, None, 0.5) as alone:  # every suite runs its own prepare step
        assert alone.load_arrow(specs["fact_claim"]).table.equals(claims.table)
        assert alone.load_arrow(specs["fact_indicator"]).table.equals(indicators.table)
    assert claims.error is None and claims.table.num_rows == 2
    quote = dict(zip(claims.table["claim_key"].to_pylist(), claims.table["quote_not_at_offsets"].to_pylist()))
    assert quote == {f"{A}-c0": '[1, 4) of the notice text is "计1个"', f"{'b' * 16}-c0": None}


def test_the_quote_checks_cut_the_texts_a_slice_of_notices_at_a_time_with_the_same_rows(tmp_path):
    # every claim quoted at the wrong offsets: each notice's text must be cut, whichever slice holds it
    database = build_warehouse(tmp_path / "staged.duckdb", "UPDATE fact_claim SET char_start = 1, char_end = 4")
    specs = load_suites()
    by_table = {spec.table: spec for spec in specs}
    step = by_table["fact_indicator"].prepare_slices
    assert step is not None and step == by_table["fact_claim"].prepare_slices and step.rows_of == "raw_notice"

    def loaded(rows: int) -> dict:
        sliced = [dataclasses.replace(spec, prepare_slices=dataclasses.replace(step, rows=rows))
                  if spec.prepare_slices else spec for spec in specs]
        with _StagedReader(database, None, 0.5, None, sliced) as reader:
            return {spec.table: reader.load_arrow(spec).table for spec in sliced if spec.prepare_slices}

    with duckdb.connect(str(database), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw_notice").fetchone() == (2,)
    whole, one_by_one = loaded(step.rows), loaded(1)  # one slice; a slice per notice
    assert set(whole) == {"fact_indicator", "fact_claim"}
    assert all(whole[table].equals(one_by_one[table]) for table in whole)
    quote = dict(zip(one_by_one["fact_claim"]["claim_key"].to_pylist(),
                     one_by_one["fact_claim"]["quote_not_at_offsets"].to_pylist()))
    assert quote == {f"{A}-c0": '[1, 4) of the notice text is "计1个"',
                     f"{'b' * 16}-c0": '[1, 4) of the notice text is "定了1"'}


def _slices_seen(con: duckdb.DuckDBPyConnection, rows: int) -> list[tuple[int, int]]:
    """(x, size of its slice) of every row of table t, after _run_in_slices over t in slices of `rows` rows."""
    con.execute("CREATE OR REPLACE TABLE seen (x BIGINT, slice_size BIGINT)")
    gate_module._run_in_slices(con, SliceStep("t", rows, "INSERT INTO seen SELECT x, (SELECT count(*) FROM slice_rows) FROM slice_rows"))
    assert con.execute("SELECT count(*) FROM duckdb_views() WHERE view_name = 'slice_rows'").fetchone() == (0,)
    return con.execute("SELECT x, slice_size FROM seen ORDER BY x").fetchall()


def test_a_slice_step_runs_once_per_slice_of_rows_then_drops_its_view():
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT range AS x FROM range(5)")
    assert _slices_seen(con, 2) == [(0, 2), (1, 2), (2, 2), (3, 2), (4, 1)]
    con.execute("DELETE FROM t")
    assert _slices_seen(con, 2) == []  # no rows: no slice


def test_slices_are_cut_by_row_count_whatever_the_gaps_in_row_ids(tmp_path):
    con = duckdb.connect(str(tmp_path / "gaps.duckdb"))
    con.execute("CREATE TABLE t AS SELECT range AS x FROM range(6)")
    con.execute("DELETE FROM t WHERE x IN (1, 2); INSERT INTO t VALUES (1), (2); CHECKPOINT")
    (last,) = con.execute("SELECT max(rowid) FROM t").fetchone()
    assert last >= 6  # the premise: six rows, row ids beyond 5
    seen = _slices_seen(con, 3)
    assert sorted(x for x, _ in seen) == list(range(6))  # every row once
    assert [size for _, size in seen] == [3] * 6, f"rows in slices of 3 (row ids up to {last})"


def test_delta_mode_runs_the_delta_prepare_step_without_slices(tmp_path):
    database = build_warehouse(tmp_path / "staged.duckdb")
    specs = load_suites()
    sliced = [spec for spec in specs if spec.prepare_slices]
    assert sliced and all(spec.delta is not None and spec.delta.prepare for spec in sliced)
    with _StagedReader(database, None, 0.5, None, specs) as full:
        assert all(full._item(spec).slices == spec.prepare_slices for spec in sliced)
    with _StagedReader(database, database, 0.5, [A], specs) as delta:
        assert all(delta._item(spec).prepare == spec.delta.prepare and delta._item(spec).slices is None
                   for spec in sliced)
        without_delta_prepare = dataclasses.replace(sliced[0], delta=dataclasses.replace(sliced[0].delta, prepare=None))
        assert delta._item(without_delta_prepare).slices == sliced[0].prepare_slices  # its own prepare: sliced


def _refused(tmp_path, suite: str, message: str) -> None:
    """suites.yaml with the one suite `t` whose lines (after its key) are `suite` is refused with `message`."""
    suites = tmp_path / "suites.yaml"
    suites.write_text(f"suites:\n  t:\n    key: k\n{suite}    expectations:\n"
                      "      - {type: expect_column_values_to_not_be_null, kwargs: {column: k}, severity: error}\n")
    with pytest.raises(GateError, match=message):
        load_suites(suites)


@pytest.mark.parametrize("slices", [
    "{rows_of: t, rows: 0, sql: SELECT 1}",
    "{rows_of: t, rows: true, sql: SELECT 1}",
    "{rows_of: t, sql: SELECT 1}",
    "{rows_of: t, rows: 5, sql: SELECT 1, extra: 1}",
])
def test_a_malformed_slice_step_is_refused(tmp_path, slices):
    _refused(tmp_path, f"    prepare: SELECT 1\n    prepare_slices: {slices}\n", "`prepare_slices` must be a mapping")


def test_a_slice_step_needs_a_prepare_step(tmp_path):
    _refused(tmp_path, "    prepare_slices: {rows_of: t, rows: 5, sql: SELECT 1}\n", "continues a `prepare` step")


@pytest.mark.parametrize("column", ["char_end", "quote"])
def test_a_quoting_table_without_its_spans_fails_alone(tmp_path, column):
    result = gate(tmp_path, f"ALTER TABLE fact_claim DROP COLUMN {column}")
    assert not result.passed
    (line,) = result.errors
    assert line.startswith("fact_claim: could not load the table for validation"), line
    indicators = next(s for s in result.suites if s.table == "fact_indicator")
    assert indicators.success and indicators.row_count == 2
    with duckdb.connect(str(tmp_path / "staged.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM fact_claim").fetchone() == (2,)
