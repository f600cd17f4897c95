"""`make spark-demo`: Spark reads the warehouse's Parquet export, and reads what DuckDB holds (docs/scale-out.md,
"Spark and Trino").

1. `zhenggai refresh` of the notices (default: seeds/) into a warehouse of its own;
2. `zhenggai export --format parquet` of it (warehouse.summary.export_parquet: Hive partitions by publish year);
3. Spark (PySpark in local mode, in the Spark environment: requirements-spark.lock) reads every exported folder and
   summarises it (bench/spark_read.py): rows, rows per publish_year partition, and per column the non-null count
   and a content figure by type (sums, byte lengths, array sizes, first and last dates and times), plus which
   partition folders it reads for `WHERE publish_year = <the latest year>`;
4. the same figures computed by DuckDB on the published file itself (not on the export), compared one by one.

Exit 0 when every figure agrees and Spark read one partition folder for one year. Needs Java 17 or newer (Debian's
openjdk-17-jre-headless) for Spark.
"""

import json
import math
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import duckdb
from rich.console import Console
from rich.table import Table

from bench.demo_cli import finish, land, run_demo
from bench.scale_out_demo import build_in_process
from bench.generate import ROOT
from warehouse.schema import quoted_identifier
from warehouse.summary import PARTITIONED_BY_PUBLISH_YEAR, export_parquet

console = Console(highlight=False, width=None if sys.stdout.isatty() else 120)
PARTITION = "publish_year"


def duckdb_figures(con: duckdb.DuckDBPyConnection, relation: str, kind: str, column: str, data_type: str) -> list:
    """The figures bench/spark_read.py computes for a column of `kind`, computed by DuckDB on the warehouse."""
    c = quoted_identifier(column)
    byte_length = f"octet_length({c})" if data_type == "BLOB" else f"strlen({c})"
    expressions = {
        "integer": [f"count({c})", f"CAST(sum({c}) AS VARCHAR)"],
        "decimal": [f"count({c})", f"CAST(sum({c}) AS VARCHAR)"],
        "float": [f"count({c})", f"sum({c})"],
        "boolean": [f"count({c})", f"sum(CAST({c} AS INTEGER))"],
        "bytes": [f"count({c})", f"sum({byte_length})"],
        "array": [f"count({c})", f"sum(len({c}))"],
        "date": [f"count({c})", f"CAST(min({c}) AS VARCHAR)", f"CAST(max({c}) AS VARCHAR)"],
        "timestamp": [f"count({c})", f"epoch(min({c}))", f"epoch(max({c}))"],
        "other": [f"count({c})"],
    }[kind]
    return list(con.execute(f"SELECT {', '.join(expressions)} FROM {quoted_identifier(relation)}").fetchone())


def same_figure(kind: str, ours, theirs) -> bool:
    if ours is None or theirs is None:
        return ours is None and theirs is None
    if kind in ("float", "timestamp") and isinstance(theirs, (int, float)):
        # sums of floats added in another order, epoch seconds to the microsecond
        return math.isclose(float(ours), float(theirs), rel_tol=1e-9, abs_tol=1e-6)
    if kind in ("integer", "decimal") and isinstance(theirs, str):
        return Decimal(str(ours)) == Decimal(theirs)
    return ours == theirs


def compare(warehouse: Path, spark: dict) -> tuple[Table, list[str]]:
    """Spark's summary of each exported relation against DuckDB's figures on `warehouse`."""
    problems: list[str] = []
    table = Table("relation", "rows", "columns compared", "partitions", "read for one year", "agrees")
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        relations = [row[0] for row in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE NOT internal UNION ALL "
            "SELECT view_name FROM duckdb_views() WHERE NOT internal AND schema_name = 'main' ORDER BY 1").fetchall()]
        missing = sorted(set(relations) - spark["tables"].keys())
        problems += [f"{name}: not read by Spark" for name in missing]
        for name in relations:
            if name not in spark["tables"]:
                continue
            summary, own = spark["tables"][name], []
            columns = dict(con.execute("SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ? "
                                       "AND schema_name = 'main' ORDER BY column_index", [name]).fetchall())
            rows = con.execute(f"SELECT count(*) FROM {quoted_identifier(name)}").fetchone()[0]
            if rows != summary["rows"]:
                own.append(f"{summary['rows']} rows in Spark, {rows} in DuckDB")
            if set(summary["columns"]) != set(columns):
                own.append(f"columns differ: {sorted(set(summary['columns']) ^ set(columns))}")
            for column, read in summary["columns"].items():
                if column not in columns:
                    continue
                expected = duckdb_figures(con, name, read["kind"], column, columns[column])
                if not all(same_figure(read["kind"], e, r) for e, r in zip(expected, read["figures"], strict=True)):
                    own.append(f"{column} ({read['kind']}): Spark {read['figures']}, DuckDB {expected}")
            partitions = "-"
            pruned = "-"
            if name in PARTITIONED_BY_PUBLISH_YEAR:
                counts = {("None" if year is None else str(year)): count for year, count in con.execute(
                    f"SELECT year(n.publish_date), count(*) FROM {quoted_identifier(name)} t "
                    "LEFT JOIN dim_notice n ON n.notice_key = t.notice_key GROUP BY 1").fetchall()}
                if counts != summary.get("partitions"):
                    own.append(f"rows per publish year: Spark {summary.get('partitions')}, DuckDB {counts}")
                partitions = str(len(counts))
                if "pruned" in summary:
                    folders = summary["pruned"]["folders"]
                    pruned = f"{summary['pruned']['year']}: {', '.join(folders)}"
                    if folders != [f"{PARTITION}={summary['pruned']['year']}"]:
                        own.append(f"WHERE publish_year = {summary['pruned']['year']} read {folders}")
            problems += [f"{name}: {problem}" for problem in own]
            table.add_row(name, str(rows), str(len(summary["columns"])), partitions, pruned,
                          "[green]yes[/]" if not own else "[red]no[/]")
    finally:
        con.close()
    return table, problems


def demonstrate(source: Path, workdir: Path, python: str, generated: int | None) -> int:
    landing, warehouse, export = workdir / "landing", workdir / "published" / "zhenggai.duckdb", workdir / "export"
    land(source, generated, landing)
    refresh_s = build_in_process(landing, warehouse)
    exported = export_parquet(warehouse, export)
    files = sum(1 for _ in export.rglob("*.parquet"))
    read_started = time.perf_counter()
    done = subprocess.run([python, str(ROOT / "bench" / "spark_read.py"), str(export)], capture_output=True, text=True)
    if done.returncode != 0:
        console.print(f"[red]Spark could not read the export[/] (exit {done.returncode}):\n{done.stderr[-3000:]}")
        return 1
    spark = json.loads(done.stdout)
    read_s = time.perf_counter() - read_started
    table, problems = compare(warehouse, spark)
    console.print(table)
    console.print(f"refresh {refresh_s:.1f} s; export {len(exported)} relations in {files} Parquet files; "
                  f"Spark {spark['spark']} read and summarised them in {read_s:.1f} s (its start included)")
    return finish(console, problems, "Spark does not read what DuckDB holds",
                  "[green]Spark reads the export as DuckDB holds the warehouse[/]: every relation, row count, column "
                  "figure and publish_year partition; one folder read for one year")


def main(argv: list[str] | None = None) -> int:
    return run_demo(__doc__.splitlines()[0], ".venv-spark", "spark-demo", "zhenggai-spark-", demonstrate, argv)


if __name__ == "__main__":
    sys.exit(main())
