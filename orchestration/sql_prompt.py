"""What `zhenggai sql` does with a query's result, and its interactive prompt.

Every statement runs through warehouse.summary.run_query: a read-only connection with file access disabled,
so a write is refused by DuckDB itself, not by guessing at the SQL text here.
"""

import json
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO

import duckdb
import polars as pl

from warehouse.summary import ReadOnlyQueryError, run_query

FORMATS = ("table", "csv", "json", "parquet")
# A rich table of thousands of rows is slow to draw and unreadable; csv/json/parquet print everything.
TABLE_ROW_LIMIT = 1000
PROMPT, CONTINUATION = "zhenggai> ", "     ...> "
QUIT_COMMANDS = {".quit", ".exit", "\\q"}
HELP = """Enter SQL ending with ';' (it may span lines). The warehouse is read-only.
  .tables   list tables and views with their descriptions
  .help     this text
  .quit     leave (or end of input: Ctrl-D; Ctrl-C also leaves)"""


class OutputError(ValueError):
    """The requested output cannot be written (e.g. Parquet bytes to a terminal)."""


def write_result(frame: pl.DataFrame, output_format: str, output: Path | None,
                 show_table: Callable[[pl.DataFrame], None], stdout: IO[str] | None = None) -> None:
    """Write `frame` as a rich table, CSV, JSON (an array of row objects) or Parquet.

    With `output`, the result goes to that file. Parquet is binary: without `output` it goes to stdout only
    when stdout is not a terminal (`zhenggai sql --format parquet "…" > out.parquet`).
    """
    stdout = stdout or sys.stdout
    if output_format not in FORMATS:
        raise OutputError(f"unknown format {output_format!r}: use one of {', '.join(FORMATS)}")
    if output_format == "parquet":
        if output is not None:
            frame.write_parquet(output)
        elif stdout.isatty():
            raise OutputError("Parquet is binary: give --output FILE.parquet or redirect stdout to a file")
        else:
            stdout.flush()
            frame.write_parquet(stdout.buffer)
            stdout.buffer.flush()
        return
    if output_format == "table":
        if output is not None:
            raise OutputError("--output needs --format csv, json or parquet")
        shown = frame.head(TABLE_ROW_LIMIT)
        show_table(shown)
        if frame.height > shown.height:
            stdout.write(f"… {frame.height - shown.height} more rows: use --format csv or json for all of them\n")
        return
    text = _flat(frame).write_csv() if output_format == "csv" else frame.write_json() + "\n"
    if output is not None:
        output.write_text(text, encoding="utf-8")
    else:
        stdout.write(text)


def _flat(frame: pl.DataFrame) -> pl.DataFrame:
    """CSV has no lists or structs: such cells are written as JSON text (["rate","funds"])."""
    nested = [name for name, dtype in frame.schema.items() if dtype.is_nested()]
    return frame.with_columns(
        pl.col(name).map_elements(
            lambda value: json.dumps(value.to_list() if isinstance(value, pl.Series) else value,
                                     ensure_ascii=False, default=str),
            return_dtype=pl.String,
        )
        for name in nested
    )


def statements(lines: Iterable[str]) -> Iterator[str]:
    """Group input lines into statements: a statement ends with a line ending in ';'.

    Dot commands (.quit, .tables, .help) are yielded on their own when they start a statement. Text left
    without a final ';' at the end of input is yielded too, so a piped file need not end with one.
    """
    buffer: list[str] = []
    for line in lines:
        stripped = line.strip()
        if not buffer and (stripped.startswith(".") or stripped in QUIT_COMMANDS):
            yield stripped
            continue
        if not buffer and (not stripped or stripped.startswith("--")):
            continue
        buffer.append(line.rstrip("\n"))
        if stripped.endswith(";"):
            yield "\n".join(buffer)
            buffer = []
    if buffer and "\n".join(buffer).strip():
        yield "\n".join(buffer)


def _typed_lines(prompt_for: Callable[[], str]) -> Iterator[str]:
    """Lines typed at a terminal, with line editing and history from readline where Python has it."""
    try:
        import readline  # noqa: F401 - importing it gives input() editing and history
    except ImportError:
        pass
    while True:
        try:
            yield input(prompt_for())
        except (EOFError, KeyboardInterrupt):  # Ctrl-D or Ctrl-C leaves quietly, without a traceback
            print()
            return


LIST_RELATIONS = """
SELECT table_name AS name, 'table' AS kind, comment FROM duckdb_tables() WHERE NOT internal
UNION ALL
SELECT view_name, 'view', comment FROM duckdb_views() WHERE NOT internal AND schema_name = 'main'
ORDER BY kind, name"""


def interactive(warehouse: Path, output_format: str, show_table: Callable[[pl.DataFrame], None],
                report_error: Callable[[str], None], stdin: IO[str] | None = None) -> int:
    """Read statements until end of input or .quit; run each and print its result. Returns statements run.

    Prompts are shown only when stdin is a terminal, so `zhenggai sql < queries.sql` prints only results.
    A failing statement prints its error and the prompt goes on.
    """
    stdin = stdin or sys.stdin
    if stdin.isatty():
        pending: list[str] = []

        def prompt_for() -> str:
            return CONTINUATION if pending else PROMPT

        def tracked(raw: Iterable[str]) -> Iterator[str]:
            for line in raw:
                stripped = line.strip()
                if stripped.endswith(";") or (not pending and stripped.startswith(".")):
                    pending.clear()
                elif stripped:
                    pending.append(line)
                yield line

        print(f"zhenggai sql on {warehouse} (read-only). .help for help, .quit or Ctrl-D to leave.")
        lines: Iterable[str] = tracked(_typed_lines(prompt_for))
    else:
        lines = stdin
    ran = 0
    for statement in statements(lines):
        if statement in QUIT_COMMANDS:
            break
        if statement == ".help":
            print(HELP)
            continue
        query = LIST_RELATIONS if statement == ".tables" else statement
        if query.startswith("."):
            report_error(f"unknown command {statement!r}: .help lists the commands")
            continue
        try:
            write_result(run_query(warehouse, query), output_format, None, show_table)
            ran += 1
        except (ReadOnlyQueryError, OutputError, duckdb.Error) as error:
            report_error(str(error))
    return ran
