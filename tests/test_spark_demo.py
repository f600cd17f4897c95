"""bench/spark_demo.py's comparison of Spark's summary of the export with DuckDB's figures on the warehouse (Spark
itself runs in `make spark-demo`, which CI runs)."""

import copy

import duckdb

from bench.spark_demo import compare


def _spark_summary():
    """What bench/spark_read.py reports for the table below, written out by hand."""
    return {"spark": "test", "tables": {"contact": {
        "rows": 3,
        "schema": {},
        "columns": {
            "notice_key": {"kind": "bytes", "figures": [3, 8]},  # "a", "b", "巡察" (6 bytes)
            "figure": {"kind": "integer", "figures": [2, "5"]},
            "share": {"kind": "float", "figures": [3, 1.75]},
            "seen": {"kind": "date", "figures": [2, "2023-01-05", "2024-02-01"]},
            "phones": {"kind": "array", "figures": [2, 2]},
        },
    }}}


def _warehouse(tmp_path):
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE contact (notice_key VARCHAR, figure INTEGER, share DOUBLE, seen DATE, phones VARCHAR[])")
        con.execute("INSERT INTO contact VALUES ('a', 2, 0.5, DATE '2024-02-01', ['1', '2']), "
                    "('b', 3, 0.25, NULL, []), ('巡察', NULL, 1.0, DATE '2023-01-05', NULL)")
    return path


def test_a_summary_that_matches_the_warehouse_passes(tmp_path):
    _, problems = compare(_warehouse(tmp_path), _spark_summary())
    assert problems == []


def test_each_figure_that_differs_is_named(tmp_path):
    summary = copy.deepcopy(_spark_summary())
    columns = summary["tables"]["contact"]["columns"]
    columns["notice_key"]["figures"] = [3, 4]  # characters counted where bytes were expected
    columns["phones"]["figures"] = [1, 2]  # the empty list read as NULL
    summary["tables"]["contact"]["rows"] = 4
    _, problems = compare(_warehouse(tmp_path), summary)
    assert len(problems) == 3
    assert any("notice_key (bytes)" in p for p in problems) and any("phones (array)" in p for p in problems)
    assert any("4 rows in Spark, 3 in DuckDB" in p for p in problems)


def test_a_relation_spark_did_not_read_is_a_problem(tmp_path):
    summary = _spark_summary()
    summary["tables"].clear()
    _, problems = compare(_warehouse(tmp_path), summary)
    assert problems == ["contact: not read by Spark"]
