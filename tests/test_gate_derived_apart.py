"""A suite with `derived_apart` (suites.yaml) computes each derived column by a statement of its own and joins them to
the table's rows: the same frame as its one query, and the same gate report (expectations/gate.py
SuiteSpec.query_apart)."""

import dataclasses
import shutil

import duckdb
import pytest

import expectations.gate as gate_module
from expectations.gate import _StagedReader, load_suites, run_gate
from tests.test_gate_chunks import suites_by_table
from tests.test_gate_fast_paths import _refused


@pytest.fixture(scope="module")
def faulty_issues(published, tmp_path_factory):
    """The seed warehouse with a fault for each of fact_issue's derived columns, a duplicated key and a NULL key."""
    path = tmp_path_factory.mktemp("apart") / "staged.duckdb"
    shutil.copy(published, path)
    with duckdb.connect(str(path)) as con:
        rows = con.execute("SELECT issue_key, notice_key FROM fact_issue ORDER BY issue_key").fetchall()
        assert len({notice for _, notice in rows}) > 1
        key = [k for k, _ in rows]
        elsewhere = next(k for k, notice in rows if notice != rows[10][1])
        con.execute("UPDATE fact_issue SET parent_issue_key = ? WHERE issue_key = ?", [elsewhere, key[10]])
        con.execute("UPDATE fact_issue SET parent_issue_key = 'nowhere' WHERE issue_key = ?", [key[20]])
        con.execute("UPDATE fact_issue SET measure_count = measure_count + 1 WHERE issue_key = ?", [key[30]])
        con.execute("UPDATE fact_issue SET char_end = 10000000 WHERE issue_key = ?", [key[40]])
        con.execute("UPDATE fact_issue SET notice_key = 'no notice' WHERE issue_key = ?", [key[50]])
        con.execute("UPDATE fact_issue SET topic = 'no topic' WHERE issue_key = ?", [key[60]])
        con.execute("UPDATE fact_issue SET expected_completion = DATE '1900-01-01' WHERE issue_key = ?", [key[65]])
        con.execute("UPDATE fact_issue SET issue_key = ? WHERE issue_key = ?", [key[70], key[71]])
        con.execute("UPDATE fact_issue SET issue_key = NULL WHERE issue_key = ?", [key[80]])
    return path


def _suites(apart: bool):
    return [dataclasses.replace(spec, derived_apart=apart) if spec.table == "fact_issue" else spec for spec in load_suites()]


def _rows(table) -> list[tuple]:
    return sorted((tuple(row.values()) for row in table.to_pylist()), key=repr)


def _apart_and_together(warehouse, table: str):
    """The declared suite of `table` and its frames read from `warehouse` in one query and apart, checked equal."""
    declared = next(spec for spec in load_suites() if spec.table == table)
    assert declared.derived_apart and len(declared.derived) > 1
    together, apart = (dataclasses.replace(declared, derived_apart=flag) for flag in (False, True))
    with _StagedReader(warehouse, None, 0.5, None, load_suites()) as reader:
        one_query = reader.load_arrow(together)
        in_steps = reader.load_arrow(apart)
    assert (one_query.error, in_steps.error) == (None, None) and not one_query.steps
    assert len(in_steps.steps) == len(declared.derived) and "rowid" in in_steps.query
    assert in_steps.table.column_names == one_query.table.column_names
    assert _rows(in_steps.table) == _rows(one_query.table)
    return declared, in_steps


def test_fact_issue_s_derived_columns_apart_are_those_of_its_one_query(faulty_issues):
    declared, in_steps = _apart_and_together(faulty_issues, "fact_issue")
    failing = {name: in_steps.table.num_rows - in_steps.table[name].null_count for name in declared.derived}
    assert all(failing[name] >= 1 for name in (
        "orphan_notice_key", "orphan_parent_issue_key", "parent_in_other_notice", "measure_count_mismatch",
        "beyond_notice_text", "topic_not_in_dim_topic", "expected_completion_not_in_dim_date")), failing
    assert set(failing) == set(declared.derived)


def test_derived_columns_apart_in_chunks_are_those_of_the_one_query(faulty_issues):
    declared = next(spec for spec in load_suites() if spec.table == "fact_issue")
    with _StagedReader(faulty_issues, None, 0.5, None, load_suites()) as reader:
        one_query = reader.load_arrow(dataclasses.replace(declared, derived_apart=False))
        rows = one_query.table.num_rows  # (cut into ~4 chunks, whatever the seeds hold)
        chunks = list(reader.load_chunks(dataclasses.replace(declared, chunk_rows=max(1, rows // 4))))
    assert len(chunks) > 2 and all(chunk.error is None and chunk.steps for chunk in chunks)
    assert sorted((row for chunk in chunks for row in _rows(chunk.table)), key=repr) == _rows(one_query.table)


def test_a_gate_with_derived_columns_apart_reports_what_it_reports_with_one_query(faulty_issues, tmp_path, monkeypatch):
    monkeypatch.setattr(gate_module, "load_suites", lambda: _suites(False))
    together = run_gate(faulty_issues, tmp_path / "together")
    monkeypatch.setattr(gate_module, "load_suites", lambda: _suites(True))
    apart = run_gate(faulty_issues, tmp_path / "apart")

    assert not together.passed and (apart.errors, apart.warnings) == (together.errors, together.warnings)
    assert sum("fact_issue" in line for line in together.errors) >= 7
    reports = [suites_by_table(result) for result in (together, apart)]
    query_together, query_apart = reports[0]["fact_issue"].pop("query"), reports[1]["fact_issue"].pop("query")
    assert "CREATE OR REPLACE TEMP TABLE" in query_apart and "TEMP" not in query_together
    assert reports[1] == reports[0]


def test_delta_mode_computes_the_derived_columns_in_one_query_on_the_restricted_rows(faulty_issues):
    spec = next(spec for spec in load_suites() if spec.table == "fact_issue")
    with duckdb.connect(str(faulty_issues), read_only=True) as con:
        (notice,) = con.execute("SELECT min(notice_key) FROM dim_notice").fetchone()
    with _StagedReader(faulty_issues, faulty_issues, 0.5, [notice], load_suites()) as delta:
        item = delta.load_arrow(spec)
    assert item.error is None and not item.steps and "rowid" not in item.query


@pytest.mark.parametrize("suite", [
    "    derived_apart: yes please\n",
    "    derived_apart: 1\n",
    "    source: SELECT 1 AS k\n    derived_apart: true\n",
    "    derived_apart: true\n    derived: {zhenggai_row_id: t.k}\n",
    "    derived_apart: true\n    derived: {first: t.k, second: first || 'x'}\n",
    "    derived_apart: true\n    derived: {first: t.k, second: FIRST || 'x'}\n",  # DuckDB's names ignore case
])
def test_derived_apart_is_refused_where_its_steps_cannot_compute_the_one_query_s_columns(tmp_path, suite):
    _refused(tmp_path, suite, "`derived_apart` must be true or false|no derived column may be named|cannot read the derived")


def test_a_step_that_fails_is_the_suite_s_load_error(faulty_issues):
    declared = next(spec for spec in load_suites() if spec.table == "fact_issue")
    broken = dataclasses.replace(declared, derived={**declared.derived, "missing": "t.no_such_column"})
    from_source = dataclasses.replace(declared, source="SELECT * FROM fact_issue")  # no rowid to join by
    with _StagedReader(faulty_issues, None, 0.5, None, load_suites()) as reader:
        for spec, message in ((broken, "no_such_column"), (from_source, "rowid")):
            item = reader.load_arrow(spec)
            assert item.table is None and message in item.error and reader._con is None


@pytest.fixture(scope="module")
def faulty_facts(published, tmp_path_factory):
    """The seed warehouse with faults for derived columns of fact_measure and fact_indicator (declared apart too)."""
    path = tmp_path_factory.mktemp("apart_facts") / "staged.duckdb"
    shutil.copy(published, path)
    with duckdb.connect(str(path)) as con:
        measures = [key for (key,) in con.execute("SELECT measure_key FROM fact_measure ORDER BY measure_key").fetchall()]
        indicators = [key for (key,) in con.execute("SELECT indicator_key FROM fact_indicator ORDER BY indicator_key").fetchall()]
        con.execute("UPDATE fact_measure SET issue_key = 'nowhere' WHERE measure_key = ?", [measures[3]])
        con.execute("UPDATE fact_measure SET notice_key = 'no notice' WHERE measure_key = ?", [measures[7]])
        con.execute("UPDATE fact_indicator SET quote = quote || '。' WHERE indicator_key = ?", [indicators[5]])
        con.execute("UPDATE fact_indicator SET measure_key = 'nowhere' WHERE indicator_key = ?", [indicators[9]])
        con.execute("UPDATE fact_indicator SET value = 'nan' WHERE indicator_key = ?", [indicators[11]])
        con.execute("UPDATE fact_indicator SET metric = 'no metric' WHERE indicator_key = ?", [indicators[13]])
    return path


# the derived columns of each table that faulty_facts gives one failing row
FACT_FAULTS = pytest.mark.parametrize("table, faults", [
    ("fact_measure", ("orphan_issue_key", "orphan_notice_key")),
    ("fact_indicator", ("quote_not_at_offsets", "orphan_measure_key", "non_finite_value", "orphan_metric")),
])


@FACT_FAULTS
def test_each_table_s_derived_columns_apart_are_those_of_its_one_query(faulty_facts, table, faults):
    declared, in_steps = _apart_and_together(faulty_facts, table)
    assert set(faults) <= set(declared.derived)
    assert all(in_steps.table.num_rows - in_steps.table[name].null_count == 1 for name in faults)


@FACT_FAULTS
def test_the_steps_keep_only_the_rows_whose_derived_value_is_not_null(faulty_facts, monkeypatch, table, faults):
    # a step's TEMP table holds the failures, not a row per row of the table: what makes the join cheap (the quote
    # check's step reads misquoted_span, which the suite's prepare step writes: the steps run on the reader's connection)
    spec = next(spec for spec in load_suites() if spec.table == table)
    held: dict = {}
    run_steps = gate_module._Loaded.run_steps

    def counting(item, con):
        run_steps(item, con)
        for index, name in enumerate(spec.derived):
            (held[name],) = con.execute(f'SELECT count(*), count("{name}") FROM "derived_{table}_{index}"').fetchall()

    monkeypatch.setattr(gate_module._Loaded, "run_steps", counting)
    with _StagedReader(faulty_facts, None, 0.5, None, load_suites()) as reader:
        loaded = reader.load_arrow(spec)
    assert loaded.error is None and set(held) == set(spec.derived)
    assert all(held[name] == (1, 1) for name in faults), held
    assert all(count == not_null < loaded.table.num_rows for count, not_null in held.values())
