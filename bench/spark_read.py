"""Read a `zhenggai export --format parquet` folder with Spark and summarise every table (run by the Spark
environment's interpreter: bench/spark_demo.py compares the summary with the same figures computed by DuckDB on the
published warehouse).

For each folder: Spark's schema, its row count, its row count per publish_year partition (partitioned tables), and
per column the count of non-null values and one content figure by the column's Spark type: the sum (numbers,
booleans), the sum of UTF-8 byte lengths (strings, binary), the sum of sizes (arrays), the first and last value
(dates as text, timestamps as epoch seconds). And which files Spark reads for `WHERE publish_year = <a year>`
(partition pruning). Prints one JSON document. Imports only PySpark and the standard library.
"""

import json
import sys
from pathlib import Path

from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

PARTITION = "publish_year"


def column_figures(name: str, data_type: T.DataType) -> tuple[str, list]:
    """(kind, Spark aggregate expressions) of one column: its non-null count first."""
    column = F.col(f"`{name}`")
    count = F.count(column)
    if isinstance(data_type, (T.ByteType, T.ShortType, T.IntegerType, T.LongType, T.DecimalType)):
        return "integer" if not isinstance(data_type, T.DecimalType) or data_type.scale == 0 else "decimal", \
            [count, F.sum(column).cast("string")]
    if isinstance(data_type, (T.FloatType, T.DoubleType)):
        return "float", [count, F.sum(column)]
    if isinstance(data_type, T.BooleanType):
        return "boolean", [count, F.sum(column.cast("int"))]
    if isinstance(data_type, (T.StringType, T.BinaryType)):
        return "bytes", [count, F.sum(F.octet_length(column))]
    if isinstance(data_type, T.ArrayType):
        return "array", [count, F.sum(F.size(column))]
    if isinstance(data_type, T.DateType):
        return "date", [count, F.min(column).cast("string"), F.max(column).cast("string")]
    if isinstance(data_type, (T.TimestampType, T.TimestampNTZType)):
        return "timestamp", [count, F.min(column.cast("double")), F.max(column.cast("double"))]
    return "other", [count]


def summarise(spark: SparkSession, folder: Path) -> dict:
    frame = spark.read.parquet(str(folder))
    # a partition column exists only in the folder names (a table may also have a column of that name of its own)
    partitioned = any(child.is_dir() and child.name.startswith(f"{PARTITION}=") for child in folder.iterdir())
    fields = [field for field in frame.schema.fields if not (partitioned and field.name == PARTITION)]
    kinds, expressions = [], [F.count(F.lit(1))]
    for field in fields:
        kind, figures = column_figures(field.name, field.dataType)
        kinds.append((field.name, kind, len(figures)))
        expressions += figures
    values = list(frame.agg(*expressions).first())
    summary = {"rows": values.pop(0), "schema": {f.name: f.dataType.simpleString() for f in frame.schema.fields},
               "columns": {}}
    for name, kind, width in kinds:
        summary["columns"][name] = {"kind": kind, "figures": [_plain(v) for v in values[:width]]}
        del values[:width]
    if partitioned:
        summary["partitions"] = {str(row[0]): row[1] for row in frame.groupBy(PARTITION).count().collect()}
        years = sorted(int(year) for year in summary["partitions"] if year != "None")
        if years:
            read = frame.where(F.col(PARTITION) == years[-1]).select(F.input_file_name().alias("file")).distinct().collect()
            summary["pruned"] = {"year": years[-1], "folders": sorted({Path(row.file).parent.name for row in read})}
    return summary


def _plain(value):
    return value if value is None or isinstance(value, (int, float, str)) else str(value)


def main() -> int:
    export = Path(sys.argv[1])
    spark = (SparkSession.builder.master("local[2]").appName("zhenggai-export")
             .config("spark.ui.enabled", "false").config("spark.sql.session.timeZone", "UTC").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    try:
        document = {"spark": spark.version,
                    "tables": {folder.name: summarise(spark, folder) for folder in sorted(export.iterdir()) if folder.is_dir()}}
    finally:
        spark.stop()
    print(json.dumps(document, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
