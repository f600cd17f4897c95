"""The gate's shortcuts give the results of the plain path: GX keying only the unexpected rows it keeps, and the
quote checks' shared prepare step (expectations/gate.py)."""

from datetime import datetime, timezone

import duckdb
import pandas as pd

import expectations.gate as gate_module
from expectations.gate import ExpectationSpec, SuiteSpec, _Loaded, _StagedReader, load_suites
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


def test_a_quoting_table_without_its_spans_fails_alone(tmp_path):
    result = gate(tmp_path, "ALTER TABLE fact_claim DROP COLUMN char_end")
    assert not result.passed
    (line,) = result.errors
    assert line.startswith("fact_claim: could not load the table for validation"), line
    indicators = next(s for s in result.suites if s.table == "fact_indicator")
    assert indicators.success and indicators.row_count == 2
    with duckdb.connect(str(tmp_path / "staged.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM fact_claim").fetchone() == (2,)
