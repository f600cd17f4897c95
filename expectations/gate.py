"""The publication gate: Great Expectations Core 1.x suites run on the STAGED warehouse before it is published.

`run_gate(database, report_dir)` validates one table at a time: it opens the staged DuckDB file read-only,
loads the table's frame (its checked columns plus the SQL-derived columns of expectations/suites.yaml, which
carry the cross-table checks), closes the connection, and validates the frame with that table's
ExpectationSuite through a ValidationDefinition of a file Data Context rooted in `report_dir` (one context
per run). A background thread reads the next frames from DuckDB while GX validates the previous ones, within
a small memory allowance (`AHEAD_BYTES`); a suite with a `prepare` step over every row (one of the largest working
memories) is loaded alone; suites with the same `prepare` step (and `prepare_slices`) share one run of it. It then
builds the GX Data Docs there and writes `report_dir/validation.json`, a plain-JSON summary of every expectation
(or, given `on_verdict`, writes the summary, hands the verdict over, then builds the docs).
expectations/gate_process.py runs the same gate in a process started early, so that importing GX overlaps the rest
of a refresh.

Severity (suites.yaml): an `error` failure blocks publication (`GateResult.passed` is False); a `warning`
failure is only reported. The gate never turns a problem into a pass: a table that cannot be loaded or an
expectation GX cannot evaluate is an error-severity failure with the reason, and a gate that cannot run at
all (staged file missing, suites.yaml malformed, GX failing outside a suite) raises `GateError`.

Every run regenerates `report_dir/gx/` (the GX project: suites, results, Data Docs) and validation.json.

Delta mode (`changed_notice_keys`): when the staged file is the previous published (already gated) file with
only some notices' rows replaced, the suites that declare `delta:` in suites.yaml validate only the rows that
can have changed (see `SuiteSpec.delta_query`); the others validate every row. validation.json says which
(`scope` of each suite); row counts are then counts of the rows validated.
"""

import contextlib
import functools
import gc
import json
import logging
import os
import re
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import unquote, urlparse

import duckdb
import yaml

from expectations.deferred_modules import UNUSED_BY_THE_GATE, deferred
from warehouse.schema import quoted_identifier, slice_starts

SUITES_FILE = Path(__file__).with_name("suites.yaml")
# libyaml's safe loader when PyYAML was built with it (the pure-Python one takes ~0.8 s over suites.yaml, read on
# every refresh to name the asset checks)
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MACROS_FILE = Path(__file__).with_name("macros.sql")
GX_DIR = "gx"  # the GX file project inside report_dir, rebuilt on every run
JSON_NAME = "validation.json"
SEVERITIES = ("error", "warning")
_GX_SEVERITY = {"error": "critical", "warning": "warning"}
_SEVERITY_NOTE = {
    "error": "Gate severity: error (a failure blocks publication).",
    "warning": "Gate severity: warning (reported, does not block publication).",
}
PARTIAL_UNEXPECTED = 5  # unexpected values kept per failed expectation (JSON, Data Docs)
MESSAGE_EXAMPLES = 3  # of which shown in the one-line message
_DATASOURCE = "staged_warehouse"
_ASSET = "table"  # one dataframe asset; each table is a batch definition of it, named after the table
_COLUMN_KWARGS = ("column", "column_A", "column_B")
# Expectations whose verdict on a subset of rows is the verdict on every row, given that the rows left out passed
# before: per-row checks, and uniqueness (the gate adds the rows a changed row could collide with). A suite with any
# other expectation (table row counts, aggregates, `mostly`) cannot be restricted (delta mode).
_UNIQUENESS = ("expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique")
_PER_ROW = (
    "expect_column_values_to_not_be_null", "expect_column_values_to_be_null", "expect_column_values_to_be_in_set",
    "expect_column_values_to_not_be_in_set", "expect_column_values_to_be_between",
    "expect_column_value_lengths_to_be_between", "expect_column_values_to_match_regex",
    "expect_column_pair_values_a_to_be_greater_than_b",
)
CHANGED_NOTICE = "changed_notice"  # TEMP table of the changed notice keys on each connection (delta mode)
SCOPE_ALL, SCOPE_CHANGED = "all rows", "changed notices"
# Delta mode: a suite validated whole whose frame is the one validated when the previous file was published (its query
# gives the same rows on both files), not validated again (_StagedReader.unchanged)
SCOPE_UNCHANGED = "unchanged since the published file"


class GateError(RuntimeError):
    """The gate could not run: nothing it has not validated may be published."""


# --------------------------------------------------------------------------------------------------------
# suites.yaml


@dataclass(frozen=True)
class ExpectationSpec:
    """One expectation of suites.yaml."""

    type: str
    kwargs: Mapping[str, Any]
    severity: str
    description: str | None = None

    def columns(self) -> list[str]:
        named = [self.kwargs[name] for name in _COLUMN_KWARGS if name in self.kwargs]
        return named + list(self.kwargs.get("column_list", []))

    def describe(self) -> str:
        """One human-readable line saying what is expected."""
        if self.description:
            return self.description
        k = self.kwargs
        column = k.get("column")
        match self.type:
            case "expect_column_values_to_not_be_null":
                return f"{column} is not NULL"
            case "expect_column_values_to_be_null":
                return f"{column} is NULL"
            case "expect_column_values_to_be_unique":
                return f"{column} values are unique"
            case "expect_compound_columns_to_be_unique":
                return f"({', '.join(k['column_list'])}) values are unique"
            case "expect_column_values_to_be_in_set":
                return f"{column} is one of: {', '.join(str(v) for v in k['value_set'])}"
            case "expect_column_values_to_be_between":
                return f"{column} {_bounds(k.get('min_value'), k.get('max_value'))}"
            case "expect_column_value_lengths_to_be_between":
                if k.get("min_value") == 1 and k.get("max_value") is None:
                    return f"{column} is not empty"
                return f"length of {column} {_bounds(k.get('min_value'), k.get('max_value'))}"
            case "expect_column_pair_values_a_to_be_greater_than_b":
                return f"{k['column_B']} {'≤' if k.get('or_equal') else '<'} {k['column_A']}"
        arguments = ", ".join(f"{name}={value!r}" for name, value in k.items())
        return f"{self.type}({arguments})"


def _bounds(low: Any, high: Any) -> str:
    if low is not None and high is not None:
        return f"between {low} and {high}"
    return f"≥ {low}" if low is not None else f"≤ {high}"


# The rowid column of a derived column's TEMP table (SuiteSpec.query_apart): no derived column of such a suite may take it.
_DERIVED_ROW_COLUMN = "zhenggai_row_id"


def _collapsed(text: str) -> str:
    """`text` on one line, each run of whitespace (line breaks included) one space: SQL for the report, GX's messages."""
    return " ".join(text.split())


@dataclass(frozen=True)
class SuiteSpec:
    """The suite of one table: its expectations and the SQL-derived columns they check."""

    table: str
    key: str
    derived: Mapping[str, str]
    expectations: tuple[ExpectationSpec, ...]
    source: str | None = None  # a SELECT validated instead of the table (checks across tables or runs)
    prepare: str | None = None  # SQL run first on the suite's connection (TEMP objects the query reads)
    delta: "DeltaSpec | None" = None  # how the suite is restricted in delta mode (None: every row is validated)
    prepare_slices: "SliceStep | None" = None  # SQL run after `prepare`, once per slice of a table's rows
    chunk_rows: int | None = None  # validated in chunks of about this many rows, cut by ranges of `key` (_StagedReader.load_chunks)
    derived_apart: bool = False  # on every row, each derived column computed by a statement of its own (query_apart)

    def table_columns(self) -> list[str]:
        """The table's own columns the suite reads, key first."""
        wanted = [self.key] + [c for e in self.expectations for c in e.columns()]
        return [c for c in dict.fromkeys(wanted) if c not in self.derived]

    def query(self) -> str:
        """The SQL whose result the suite validates (its rows are then ordered by `key`, NULLs first)."""
        return self._select([f'({_collapsed(expr)}) AS "{name}"' for name, expr in self.derived.items()])

    def _select(self, derived: list[str], joins: str = "") -> str:
        items = [f't."{c}"' for c in self.table_columns()] + derived
        return "SELECT " + ",\n       ".join(items) + f"\nFROM {self._relation()} AS t" + joins

    def query_apart(self) -> tuple[tuple[str, ...], str]:
        """`query()` as steps and a query: each derived column computed over the table's rows by a statement of its
        own, into a TEMP table of (_DERIVED_ROW_COLUMN, value) of the rows where the value is not NULL, and the query
        left-joining them to the table's rows by rowid (a row missing from a step's table has NULL there, as in
        `query()`).

        The same rows and values as `query()`. DuckDB plans each correlated check of a derived column as a join that
        holds the rows it is computed for; in one query, all of them are held at once, with every column of the
        table (fact_issue at 40,000 notices: ~2.2 GB for its query, ~0.9 GB in steps). A step keeps a check's
        failures only, so the join reads a few rows (a TEMP table of a value per row made fact_measure's load at
        40,000 notices 0.75 -> 1.25 s). Only for a table (a `source` has no rowid: its steps fail to load, as
        load_suites says)."""
        steps, derived, joins = [], [], []
        for index, (name, expr) in enumerate(self.derived.items()):
            temp = quoted_identifier(f"derived_{self.table}_{index}")
            steps.append(f'CREATE OR REPLACE TEMP TABLE {temp} AS SELECT * FROM (SELECT t.rowid AS {_DERIVED_ROW_COLUMN}, '
                         f'({_collapsed(expr)}) AS "{name}" FROM {self._relation()} AS t) WHERE "{name}" IS NOT NULL')
            derived.append(f'{temp}."{name}"')
            joins.append(f"\nLEFT JOIN {temp} ON {temp}.{_DERIVED_ROW_COLUMN} = t.rowid")
        return tuple(steps), self._select(derived, "".join(joins))

    def _relation(self) -> str:
        return f'({_collapsed(self.source)})' if self.source else f'"{self.table}"'

    def delta_query(self) -> str:
        """`query()` restricted to the rows that can fail when only the notices of the TEMP table changed_notice
        changed since the previous (gated) file: the rows of those notices, every row sharing a value of a
        uniqueness-checked column with one of them (a new row colliding with an old one), and the rows the suite's
        `delta.recheck` conditions select (an unchanged row whose cross-table check reads what changed).

        The derived columns are then computed on those rows only."""
        if self.delta is None:
            raise ValueError(f"suite {self.table} declares no delta restriction")
        changed = f"(SELECT notice_key FROM {CHANGED_NOTICE})"
        conditions = [f"t.notice_key IN {changed}"]
        for spec in self.expectations:
            if spec.type == "expect_column_values_to_be_unique":  # NULLs are skipped: only values can collide
                column = spec.kwargs["column"]
                conditions.append(
                    f't."{column}" IN (SELECT c."{column}" FROM {self._relation()} AS c WHERE c.notice_key IN {changed})'
                )
            elif spec.type == "expect_compound_columns_to_be_unique":  # pandas counts NULL parts as equal
                same = " AND ".join(f'c."{column}" IS NOT DISTINCT FROM t."{column}"' for column in spec.kwargs["column_list"])
                conditions.append(
                    f"EXISTS (SELECT 1 FROM {self._relation()} AS c WHERE c.notice_key IN {changed} AND {same})"
                )
        conditions += [f'({_collapsed(condition)})' for condition in self.delta.recheck]
        return self.query() + "\nWHERE " + "\n   OR ".join(conditions)


SLICE_VIEW = "slice_rows"  # the TEMP view of the rows of one slice (SliceStep)


@dataclass(frozen=True)
class SliceStep:
    """suites.yaml `prepare_slices:` SQL run after `prepare` once per slice of `rows` rows of the table `rows_of`, in
    their stored order, the slice being the TEMP view SLICE_VIEW: an intermediate over every row built in pieces, the
    working memory of computing it that of one slice (what it adds to a TEMP table still grows with the rows)."""

    rows_of: str
    rows: int
    sql: str

    def describe(self) -> str:
        return f"-- then, for each slice of {self.rows} rows of {self.rows_of} (TEMP VIEW {SLICE_VIEW}):\n{self.sql}"


@dataclass(frozen=True)
class DeltaSpec:
    """suites.yaml `delta:` of a suite: it may be validated on the rows of the changed notices only (delta mode)."""

    recheck: tuple[str, ...] = ()  # SQL conditions on `t`: rows of unchanged notices validated again
    prepare: str | None = None  # replaces `prepare` in delta mode (may read the TEMP table changed_notice)


def load_suites(path: Path = SUITES_FILE) -> list[SuiteSpec]:
    """Parse and check suites.yaml; a malformed file raises GateError naming the problem."""
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except (OSError, yaml.YAMLError) as exc:
        raise GateError(f"cannot read the gate's suites {path}: {exc}") from exc
    suites = document.get("suites") if isinstance(document, dict) else None
    if not isinstance(suites, dict) or not suites:
        raise GateError(f"{path}: expected a non-empty `suites:` mapping of table name to suite")
    specs = []
    for table, body in suites.items():
        where = f"{path.name}: suite {table}"
        if not isinstance(body, dict) or set(body) - {"key", "derived", "expectations", "source", "prepare",
                                                      "prepare_slices", "delta", "chunk_rows", "derived_apart"}:
            raise GateError(f"{where}: expected a mapping with key, expectations, and optionally derived, source, "
                            "prepare, prepare_slices, delta, chunk_rows and derived_apart")
        key, derived, entries = body.get("key"), body.get("derived") or {}, body.get("expectations")
        if not isinstance(key, str) or not isinstance(derived, dict) or not isinstance(entries, list) or not entries:
            raise GateError(f"{where}: needs a `key` column name, a list of `expectations`, and `derived` as a mapping")
        expectations = []
        for index, entry in enumerate(entries, start=1):
            here = f"{where}, expectation {index}"
            if not isinstance(entry, dict) or set(entry) - {"type", "kwargs", "severity", "description"}:
                raise GateError(f"{here}: expected a mapping of type, kwargs, severity, description")
            if not str(entry.get("type", "")).startswith("expect_") or not isinstance(entry.get("kwargs", {}), dict):
                raise GateError(f"{here}: `type` must name a GX expectation (expect_...) and `kwargs` be a mapping")
            if entry.get("severity") not in SEVERITIES:
                raise GateError(f"{here}: severity must be one of {', '.join(SEVERITIES)}, not {entry.get('severity')!r}")
            expectations.append(
                ExpectationSpec(entry["type"], dict(entry.get("kwargs", {})), entry["severity"], entry.get("description"))
            )
        source = body.get("source")
        if source is not None and not (isinstance(source, str) and source.lstrip().upper().startswith(("SELECT", "WITH"))):
            raise GateError(f"{where}: `source` must be a SELECT statement")
        prepare = body.get("prepare")
        if prepare is not None and not isinstance(prepare, str):
            raise GateError(f"{where}: `prepare` must be SQL text")
        slices = _slice_step(body["prepare_slices"], where) if "prepare_slices" in body else None
        if slices is not None and prepare is None:
            raise GateError(f"{where}: `prepare_slices` continues a `prepare` step, and the suite has none")
        delta = _delta_spec(body["delta"], expectations, where) if "delta" in body else None
        chunk_rows = _chunk_rows(body["chunk_rows"], key, derived, expectations, where) if "chunk_rows" in body else None
        derived_apart = body.get("derived_apart", False)
        if not isinstance(derived_apart, bool) or (derived_apart and source is not None):
            raise GateError(f"{where}: `derived_apart` must be true or false, and true only for a suite without a "
                            "`source` (its steps join by the table's rowid)")
        derived = {str(k): str(v) for k, v in derived.items()}
        if derived_apart:
            _check_apart(derived, where)
        specs.append(SuiteSpec(table, key, derived, tuple(expectations), source, prepare, delta, slices, chunk_rows,
                               derived_apart))
    return specs


def _check_apart(derived: Mapping[str, str], where: str) -> None:
    """Derived columns computed apart each see the table's row only: none may read another by its name (one SELECT
    allows it), nor take the name of the steps' rowid column."""
    for name, expr in derived.items():
        if name == _DERIVED_ROW_COLUMN:
            raise GateError(f"{where}: with `derived_apart`, no derived column may be named {_DERIVED_ROW_COLUMN}")
        # (DuckDB's names are case-insensitive)
        others = [other for other in derived if other != name and re.search(rf"\b{re.escape(other)}\b", expr, re.IGNORECASE)]
        if others:
            raise GateError(f"{where}: with `derived_apart`, derived column {name} cannot read the derived "
                            f"column(s) {', '.join(others)}: each is computed by a statement of its own")


def _slice_step(body: Any, where: str) -> SliceStep:
    if (not isinstance(body, dict) or set(body) != {"rows_of", "rows", "sql"} or not isinstance(body["rows_of"], str)
            or type(body["rows"]) is not int or body["rows"] < 1 or not isinstance(body["sql"], str)):
        raise GateError(f"{where}: `prepare_slices` must be a mapping of rows_of (a table), rows (a positive number of "
                        "rows per slice) and sql (SQL text)")
    return SliceStep(body["rows_of"], body["rows"], body["sql"])


def _delta_spec(body: Any, expectations: list[ExpectationSpec], where: str) -> DeltaSpec:
    if body is None:
        body = {}
    if not isinstance(body, dict) or set(body) - {"recheck", "prepare"}:
        raise GateError(f"{where}: `delta` must be a mapping with optionally recheck (SQL conditions) and prepare")
    recheck = body.get("recheck") or []
    recheck = [recheck] if isinstance(recheck, str) else recheck
    if not isinstance(recheck, list) or not all(isinstance(c, str) and c.strip() for c in recheck):
        raise GateError(f"{where}: `delta.recheck` must be an SQL condition or a list of them")
    prepare = body.get("prepare")
    if prepare is not None and not isinstance(prepare, str):
        raise GateError(f"{where}: `delta.prepare` must be SQL text")
    for spec in expectations:
        if not _per_row_or_uniqueness(spec):
            raise GateError(
                f"{where}: declares `delta` but {spec.type} {dict(spec.kwargs)} is not a per-row or uniqueness check: "
                "its verdict on the changed rows is not its verdict on the table"
            )
    return DeltaSpec(tuple(recheck), prepare)


def _chunk_rows(body: Any, key: str, derived: Mapping[str, str], expectations: list[ExpectationSpec],
                where: str) -> int:
    if type(body) is not int or body < 1:
        raise GateError(f"{where}: `chunk_rows` must be a positive number of rows")
    # The cuts are placed by the table's own rows and key column (load_chunks): a `source` may add columns to them (a
    # source with other rows would only make the chunks uneven), but the key must be the table's column.
    if key in derived:
        raise GateError(f"{where}: `chunk_rows` needs a key that is a column of the table {key!r}, not a derived one")
    for spec in expectations:
        if not _per_row_or_uniqueness(spec) or (spec.type in _UNIQUENESS and key not in spec.columns()):
            raise GateError(
                f"{where}: declares `chunk_rows` but {spec.type} {dict(spec.kwargs)} is not a per-row check, nor a "
                f"uniqueness check over columns that include the key {key}: its verdict on each chunk of rows is not "
                "its verdict on the table (rows with equal values and different keys may be in different chunks)"
            )
    return body


def _per_row_or_uniqueness(spec: ExpectationSpec) -> bool:
    """Whether `spec` is a per-row check or a uniqueness check, without `mostly` (a share of the whole table): checks
    whose verdict on a set of rows is decided by those rows (uniqueness: with every row that may repeat their values)."""
    return spec.type in _PER_ROW + _UNIQUENESS and spec.kwargs.get("mostly") in (None, 1, 1.0)


def suite_names() -> list[str]:
    """Tables with a suite, in suites.yaml order (one Dagster asset check each). Does not import GX."""
    return [spec.table for spec in load_suites()]


# --------------------------------------------------------------------------------------------------------
# results


class Failure(NamedTuple):
    """A failed expectation: one human-readable line (naming the table) and its severity."""

    line: str
    severity: str


@dataclass
class SuiteResult:
    table: str
    success: bool  # every expectation of the suite passed (warnings included)
    evaluated: int  # expectations GX evaluated
    row_count: int | None  # rows validated (None when the table could not be loaded)
    failures: list[Failure] = field(default_factory=list)
    scope: str = SCOPE_ALL  # which rows were validated: SCOPE_ALL, or SCOPE_CHANGED / SCOPE_UNCHANGED (delta mode)

    @property
    def errors(self) -> list[str]:
        return [f.line for f in self.failures if f.severity == "error"]

    @property
    def warnings(self) -> list[str]:
        return [f.line for f in self.failures if f.severity == "warning"]


@dataclass
class GateResult:
    passed: bool  # no error-severity failure: the staged file may be published
    suites: list[SuiteResult]
    errors: list[str]  # the error-severity failure lines of every suite
    warnings: list[str]  # the warning-severity failure lines
    json_path: Path  # report_dir / "validation.json"
    docs_path: Path  # the Data Docs index.html
    duration_seconds: float = 0.0


# --------------------------------------------------------------------------------------------------------
# the gate


@dataclass
class _Loaded:
    spec: SuiteSpec
    query: str
    frame: Any = None  # pandas.DataFrame
    error: str | None = None
    scope: str = SCOPE_ALL
    prepare: str | None = None  # the prepare step run (the suite's, or its delta one)
    slices: SliceStep | None = None  # run after `prepare` (the suite's prepare_slices; none in delta mode)
    nbytes: int = 0  # size of the frame's rows as Arrow data (what the prefetcher counts)
    table: Any = None  # pyarrow.Table, before it becomes `frame`
    chunk: tuple[int, int] | None = None  # (n, of): the n-th of the chunks a suite's rows are validated in (None: at once)
    steps: tuple[str, ...] = ()  # run before `query`, after the prepare step (SuiteSpec.query_apart)

    def run_steps(self, con: duckdb.DuckDBPyConnection) -> None:
        for step in self.steps:
            con.execute(step)

    @property
    def sql(self) -> str:
        """The steps and the query, as the report shows them."""
        return ";\n".join([*self.steps, self.query])

    @property
    def ends_suite(self) -> bool:
        """Whether no more rows of its suite come after these: not chunked, the last chunk, or a chunk that could not
        be read (the suite's rows end there)."""
        return self.chunk is None or self.chunk[0] == self.chunk[1] or self.error is not None


DEFAULT_MAX_DROP_SHARE = 0.5
# DuckDB's memory on each of the gate's connections (its default: 80 % of the machine's), when this variable is set
# ("1.5GB"): beyond it, queries spill to the gate's scratch folder, and a query that cannot fails its suite's load. The
# gate's largest queries grow with the corpus (before the 2026-11-29 changes of docs/scale-out.md, the quote check's text
# cutting and writing fact_indicator's rows: the gate's process peaked at 2.5 GB at 40,000 notices, in that load; within
# 1GB that gate took 58 s instead of 27-31 s and 1.7 GB, within 1.5GB 36 s and 2.2 GB; it now peaks at 1.57 GB there).
GATE_MEMORY_VARIABLE = "ZHENGGAI_GATE_MEMORY"


def run_gate(
    database: Path | str,
    report_dir: Path | str,
    previous: Path | str | None = None,
    max_drop_share: float = DEFAULT_MAX_DROP_SHARE,
    changed_notice_keys: Sequence[str] | None = None,
    on_verdict: Callable[[GateResult], None] | None = None,
) -> GateResult:
    """Validate the staged DuckDB file `database`; write validation.json and Data Docs under `report_dir`.

    `previous` is the published warehouse the staged file would replace (absent on a first load): suites
    read it as the catalog `previous` to compare volumes, and `getvariable('max_drop_share')` is the
    share of rows a table may lose from one refresh to the next.

    `changed_notice_keys` None validates every row. A sequence switches to delta mode: the caller states that
    the staged file is `previous` (a file that passed this gate, with these suites) in which only the rows of
    these notices were deleted (removed or replaced notices: their old keys) or inserted (added or replaced
    notices: their new keys), and the tables without notice_key and the marts rebuilt. Suites with a `delta:`
    declaration then validate only the rows that can have changed (`SuiteSpec.delta_query`), the others every
    row, except those whose every input is as it was in `previous` (`_StagedReader.unchanged`: they would be given
    the frame they passed with then, and are reported with scope SCOPE_UNCHANGED, no expectation evaluated); the
    verdict (errors) is that of a full run. Warnings of per-row checks on unchanged rows, and of unchanged suites,
    are not reported again (they were when those rows were published).

    `on_verdict` None: the Data Docs are built before validation.json is written, and a failure to build them
    fails the gate (GateError). Given, it receives the result as soon as validation.json is written, and the docs
    are built after it returns: the gate's own process hands the verdict to the refresh, which publishes (or not)
    while the docs are rendered (~0.25 s of every refresh's critical path). A failure to build them then raises
    GateError after the verdict, and validation.json records it (`data_docs_error`).
    """
    started = time.perf_counter()
    database, report_dir = Path(database), Path(report_dir)
    if not 0 <= max_drop_share <= 1:
        raise GateError(f"max_drop_share must be between 0 and 1, not {max_drop_share}")
    if changed_notice_keys is not None:
        if isinstance(changed_notice_keys, str) or not all(isinstance(k, str) for k in changed_notice_keys):
            raise GateError("changed_notice_keys must be a sequence of notice keys (strings)")
        changed_notice_keys = sorted(set(changed_notice_keys))
        if previous is None or not Path(previous).is_file():
            raise GateError(f"delta mode validates changes against the previous published warehouse: not found: {previous}")
    specs = load_suites()
    report_dir.mkdir(parents=True, exist_ok=True)
    json_path = report_dir / JSON_NAME
    json_path.unlink(missing_ok=True)  # never leave a previous run's verdict behind
    previous = Path(previous) if previous is not None and Path(previous).is_file() else None
    run_time = datetime.now(timezone.utc)
    # What this process freed first. When the gate runs in the refresh's process (ZHENGGAI_GATE_PROCESS=0), the
    # staging file's build left ~130 MiB of freed pages that the gate's frames did not reuse (peak RSS of that process
    # at 10,000 notices: 1,633-1,639 MiB over two runs without this, 1,488-1,515 MiB over three with it; the call
    # takes ~2 ms). In the gate's own process, EarlyGate.run_gate does the same for the waiting refresh.
    release_freed_memory()
    with _StagedReader(database, previous, max_drop_share, changed_notice_keys, specs) as reader, _quiet_gx(), \
            _quick_gil_handover(), _Prefetcher(reader, specs) as loads:
        try:
            # GX's context is built (and GX imported, unless the process did it first) while the prefetcher's thread
            # loads the first frames (DuckDB releases the GIL while it runs a query)
            context, gx_version = _fresh_context(report_dir, [spec.table for spec in specs])
            suites_json = []
            with _first_unexpected_rows_only(), _gx_fast_paths():
                validation = None  # of a chunked suite, between its chunks
                for item in loads:
                    validation = validation or _SuiteValidation(context, item.spec, run_time)
                    assert validation.spec is item.spec, "a chunked suite's chunks come one after the other"
                    validation.add(item)
                    release_freed_memory()
                    loads.done(item)
                    if item.ends_suite:
                        suites_json.append(validation.outcome())
                        validation = None
        except GateError:
            raise
        except Exception as exc:  # GX itself failed: a failure, never a pass
            raise GateError(f"Great Expectations failed while running the gate: {type(exc).__name__}: {exc}") from exc
    docs_path = _build_docs(context) if on_verdict is None else _docs_index(context)
    suites = [result for result, _ in suites_json]
    errors = [line for s in suites for line in s.errors]
    warnings_ = [line for s in suites for line in s.warnings]
    result = GateResult(
        passed=not errors,
        suites=suites,
        errors=errors,
        warnings=warnings_,
        json_path=json_path,
        docs_path=docs_path,
        duration_seconds=round(time.perf_counter() - started, 3),
    )
    document = {
        "database": str(database.resolve()),
        "run_time": run_time.isoformat(),
        "great_expectations_version": gx_version,
        "passed": result.passed,
        "errors": errors,
        "warnings": warnings_,
        "data_docs": str(docs_path),
        "duration_seconds": result.duration_seconds,
        "mode": "full" if changed_notice_keys is None else "delta",
        "changed_notice_keys": changed_notice_keys,
        "suites": [payload for _, payload in suites_json],
    }
    _write_json(json_path, document)
    if on_verdict is not None:
        on_verdict(result)
        try:
            _build_docs(context)
        except GateError as exc:
            _write_json(json_path, document | {"data_docs": None, "data_docs_error": str(exc)})
            raise
    return result


def _write_json(path: Path, document: dict) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(_plain(document), ensure_ascii=False, indent=2, allow_nan=False), encoding="utf-8")
    os.replace(temporary, path)


class _StagedReader:
    """Loads each suite's frame from the staged file read-only, with DuckDB's memory released before the frame is
    validated, so that one table's working memory is not held beside the next frame.

    A connection is reused for the next suite only after a small load (REUSE_MAX_ROWS, REUSE_MEMORY_LIMIT): small
    tables share one connection (its setup, ATTACH of `previous` and the macros, costs 30-60 ms a suite), a large
    table or a suite with a `prepare` step (TEMP objects) closes it, as every suite did before.

    Opening the file and attaching `previous` are tried once on entry: a gate that cannot read its input
    raises GateError before anything is validated.

    Suites whose `prepare` step is the same SQL, continued by the same `prepare_slices` (`specs`, in suite order: the
    quote checks of fact_indicator and fact_claim, which cut the notice texts at both tables' spans in one pass) share
    one run of it: when the first of
    them is loaded, the rows of the later ones are read on the same connection right after that step, and kept (as
    Arrow) until their turn.
    """

    def __init__(self, database: Path, previous: Path | None, max_drop_share: float,
                 changed_notice_keys: Sequence[str] | None = None, specs: Sequence[SuiteSpec] = ()):
        self.database, self.previous, self.max_drop_share = database, previous, max_drop_share
        self.changed_notice_keys = changed_notice_keys
        self.specs = list(specs)
        self._con: duckdb.DuckDBPyConnection | None = None
        self._read_early: dict[str, _Loaded] = {}  # table → rows read after the prepare step it shares, not yet loaded
        self._rows: dict[str, int] = {}  # table → rows (read when a suite may be chunked)

    def __enter__(self) -> "_StagedReader":
        if not self.database.is_file():
            raise GateError(f"staged warehouse not found: {self.database}")
        self._scratch = tempfile.TemporaryDirectory(prefix="zhenggai-gate-")
        try:
            try:
                self._macros = MACROS_FILE.read_text(encoding="utf-8")
            except OSError as exc:
                raise GateError(f"cannot read the gate's macros {MACROS_FILE}: {exc}") from exc
            self._compared = self.previous or _empty_warehouse(Path(self._scratch.name))
            self._con = self._connect()
            try:  # (the row count DuckDB keeps with each table, read once: both threads ask whether a suite is chunked)
                if self.changed_notice_keys is None and any(spec.chunk_rows for spec in self.specs):
                    self._rows = dict(self._con.execute(
                        "SELECT table_name, estimated_size FROM duckdb_tables() WHERE database_name = current_database() "
                        "AND schema_name = 'main'").fetchall())
            except duckdb.Error as exc:
                raise GateError(f"cannot list the tables of the staged warehouse {self.database}: {exc}") from exc
        except BaseException:
            self._release()
            self._scratch.cleanup()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self._release()
        self._scratch.cleanup()

    def _release(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None

    def _connect(self) -> duckdb.DuckDBPyConnection:
        try:
            limit = os.environ.get(GATE_MEMORY_VARIABLE)
            config = {"memory_limit": limit, "temp_directory": str(Path(self._scratch.name) / "spill")} if limit else {}
            con = duckdb.connect(str(self.database), read_only=True, config=config)
        except duckdb.Error as exc:
            setting = f" ({GATE_MEMORY_VARIABLE}={limit})" if limit else ""
            raise GateError(f"cannot open the staged warehouse {self.database} read-only{setting}: {exc}") from exc
        try:
            try:
                con.execute("ATTACH ? AS previous (READ_ONLY)", [str(self._compared)])
            except duckdb.Error as exc:
                raise GateError(f"cannot attach the previous warehouse {self.previous} for comparison: {exc}") from exc
            try:
                con.execute("SET VARIABLE max_drop_share = ?", [self.max_drop_share])
                con.execute(self._macros)
            except duckdb.Error as exc:
                raise GateError(f"{MACROS_FILE.name}: {exc}") from exc
            if self.changed_notice_keys is not None:
                con.execute(f"CREATE TEMP TABLE {CHANGED_NOTICE} (notice_key VARCHAR PRIMARY KEY)")
                if self.changed_notice_keys:  # (none: only the `recheck` rows of the restricted suites)
                    # one statement (executemany runs one per key: 0.17 s for the 1,000 keys of a large patch)
                    con.execute(f"INSERT INTO {CHANGED_NOTICE} SELECT unnest(?::VARCHAR[])", [list(self.changed_notice_keys)])
        except BaseException:
            con.close()
            raise
        return con

    def load(self, spec: SuiteSpec) -> _Loaded:
        """The suite's rows ordered by its key (NULLs first, so examples in messages are stable), as pandas."""
        return _to_pandas(self.load_arrow(spec))

    def load_arrow(self, spec: SuiteSpec) -> _Loaded:
        """The suite's rows as an Arrow table (`item.table`), as DuckDB returns them: the part of `load` that runs
        without the GIL, done by the prefetcher's thread.

        Sorted afterwards in Arrow (`_to_pandas`) rather than by an ORDER BY: DuckDB would sort every column of a
        million-row frame, which costs more time and memory than computing the checks.
        """

        if spec.table in self._read_early:
            return self._read_early.pop(spec.table)
        item = self._item(spec)
        con = self._con or self._connect()
        self._con = None
        keep = False
        try:
            self._prepare(spec, item, con)
            item.run_steps(con)
            table = con.sql(item.query).to_arrow_table()
            unchanged = self.unchanged(spec, table, con)
            keep = (not item.prepare and not item.steps and table.num_rows <= REUSE_MAX_ROWS
                    and _memory_in_use(con) <= REUSE_MEMORY_LIMIT)
        except duckdb.Error as exc:
            item.error = _first_line(exc)
            return item
        finally:
            if keep:
                self._con = con
            else:
                con.close()
        if unchanged:  # not validated again: its frame is dropped
            item.scope = SCOPE_UNCHANGED
            return item
        item.table, item.nbytes = table, table.nbytes
        return item

    def _prepare(self, spec: SuiteSpec, item: _Loaded, con: duckdb.DuckDBPyConnection) -> None:
        """Run the prepare step of `item` (and its slices) on `con`, then read the rows of the later suites sharing it."""
        if item.prepare:  # on its own, so that its working memory is not added to the query's
            con.execute(item.prepare)
            if item.slices is not None:
                _run_in_slices(con, item.slices)
            # before this suite's own rows, not after: read after them, the later suites' (small) tables raised
            # the peak RSS at 10,000 notices by ~140 MB while fact_indicator was validated (allocator retention)
            self._read_sharing(spec, item, con)

    def chunked(self, spec: SuiteSpec) -> bool:
        """Whether `spec` is validated in chunks of rows: it declares `chunk_rows`, its table has more rows than that,
        and the gate validates every row (not in delta mode, where a suite is restricted to the changed notices'
        rows or, unless it is `unchanged`, validated in one piece: the four chunked suites all declare `delta`)."""
        return (self.changed_notice_keys is None and spec.chunk_rows is not None
                and self._rows.get(spec.table, 0) > spec.chunk_rows and spec.table not in self._read_early)

    def load_chunks(self, spec: SuiteSpec) -> Iterator[_Loaded]:
        """The rows of `spec` as `load_arrow` reads them: at once, or, for a chunked suite, one chunk after the other,
        each read when the previous one has been validated (the next is asked for).

        Chunks are ranges of the key's values (`chunk_starts`, `key_ranges`; rows with NULL keys in the first): every
        row of the suite's query is in exactly one chunk, the rows with equal keys in the same one, and the chunks in
        turn hold the rows in the key order of the whole frame (rows with equal keys, NULL ones included, may come in
        another order among themselves than in one piece). The query runs once, its rows written by DuckDB to Parquet
        files in the gate's scratch folder, a folder per chunk; the connection is closed before the first chunk is
        validated, so that DuckDB's memory (the prepare step's TEMP tables, and what its allocator keeps: ~1 GB at
        20,000 notices) is not held beside the frames. Each chunk is then read from its own files, which are deleted
        once the chunks are done with (or abandoned)."""
        if not self.chunked(spec):
            yield self.load_arrow(spec)
            return
        item = self._item(spec)
        con = self._con or self._connect()
        self._con = None
        folder, ranges = None, []
        try:
            folder = Path(tempfile.mkdtemp(prefix=f"{spec.table}-", dir=self._scratch.name))
            self._prepare(spec, item, con)
            item.run_steps(con)
            ranges = key_ranges(chunk_starts(con, quoted_identifier(spec.table), quoted_identifier(spec.key),
                                             self._rows[spec.table], spec.chunk_rows))
            if len(ranges) == 1:  # (the sample put every row in one chunk: read at once)
                item.table = con.sql(item.query).to_arrow_table()
                item.nbytes = item.table.nbytes
            else:
                cuts = [high for _, high in ranges[:-1]]
                target = str(folder / "chunks").replace("'", "''")
                con.execute(f"SET partitioned_write_flush_threshold = {_CHUNK_WRITE_FLUSH_ROWS}")
                con.execute(
                    f"COPY (SELECT *, 1 + len(list_filter(?, lambda cut: cut <= chunk.{quoted_identifier(spec.key)})) "
                    f"AS {_CHUNK_COLUMN} FROM (\n{item.query}\n) AS chunk) "
                    f"TO '{target}' (FORMAT parquet, PARTITION_BY ({_CHUNK_COLUMN}))", [cuts])
        except (duckdb.Error, OSError) as exc:
            item.error = _first_line(exc)
            ranges = []
        finally:
            con.close()
        try:
            if len(ranges) <= 1:
                yield item
            else:
                yield from _chunks_written(item, folder / "chunks", len(ranges))
        finally:
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)

    def unchanged(self, spec: SuiteSpec, table, con: duckdb.DuckDBPyConnection) -> bool:
        """Delta mode: whether `table`, the frame of `spec` (validated whole) read from the staged file, is the frame
        the same query reads from `previous`: the one the suite passed with when `previous` was gated (with these
        suites: delta mode's premise), so that its results would be those again. Only for a query that reads the
        staged file alone (not `previous`, whose own previous file is gone; no prepare step, no table macro). At
        10,000 notices, one edited, eight of the thirteen whole-table suites (dimensions, reference tables, fetch log,
        quarantine, mart_unit_headline): their GX cost, ~0.15-0.2 s, for a second query each."""
        if self.changed_notice_keys is None or self.previous is None or self.restricts(spec) or spec.prepare:
            return False
        query = spec.query()
        if re.search(r"\bprevious\s*\.", query) or any(
                re.search(rf"\b{macro}\s*\(", query) for macro in _table_macros(self._macros)):
            return False
        staged = con.execute("SELECT current_database()").fetchone()[0]
        try:
            con.execute("USE previous")
            before = con.sql(query).to_arrow_table()
        except duckdb.Error:  # not readable the same way there: validated
            return False
        finally:
            con.execute(f"USE {quoted_identifier(staged)}")
        return _same_rows(table, before)

    def restricts(self, spec: SuiteSpec) -> bool:
        """Whether `spec` validates only the rows that can have changed (delta mode, and the suite declares `delta`)."""
        return self.changed_notice_keys is not None and spec.delta is not None

    def prepare_of(self, spec: SuiteSpec) -> str | None:
        """The prepare step loading `spec` runs: its `delta.prepare` when restricted and it has one."""
        return spec.delta.prepare or spec.prepare if self.restricts(spec) else spec.prepare

    def _item(self, spec: SuiteSpec) -> _Loaded:
        restricted, prepare = self.restricts(spec), self.prepare_of(spec)
        if restricted:  # the derived columns computed on the few rows that can fail, in one query
            steps, query = (), spec.delta_query()
        elif spec.derived_apart:
            steps, query = spec.query_apart()
        else:
            steps, query = (), spec.query()
        return _Loaded(spec, query, scope=SCOPE_CHANGED if restricted else SCOPE_ALL, prepare=prepare,
                       slices=spec.prepare_slices if prepare == spec.prepare else None, steps=steps)

    def _read_sharing(self, spec: SuiteSpec, prepared: _Loaded, con: duckdb.DuckDBPyConnection) -> None:
        """Read now, on `con` where the prepare step of `prepared` has just run, the rows of the later suites with the
        same prepare step."""
        names = [s.table for s in self.specs]
        for later in self.specs[names.index(spec.table) + 1:] if spec.table in names else []:
            item = self._item(later)
            if (item.prepare, item.slices) != (prepared.prepare, prepared.slices) or later.table in self._read_early:
                continue
            try:
                item.run_steps(con)
                table = con.sql(item.query).to_arrow_table()
            except duckdb.Error as exc:
                item.error = _first_line(exc)
            else:
                item.table, item.nbytes = table, table.nbytes
            self._read_early[later.table] = item


def _run_in_slices(con: duckdb.DuckDBPyConnection, step: SliceStep) -> None:
    """`step.sql` once per slice of `step.rows` rows of `step.rows_of`, the slice as the TEMP view SLICE_VIEW.

    Slices are row-id ranges (DuckDB then reads only the slice's row groups), cut at every `rows`-th row id in order:
    a file whose rows were deleted and inserted again has gaps in its row ids, which do not make extra slices."""
    table = quoted_identifier(step.rows_of)
    starts = slice_starts(con, table, "rowid", step.rows)
    for start, end in zip(starts, starts[1:] + [None]):
        before_end = "" if end is None else f" AND rowid < {end}"
        con.execute(f"CREATE OR REPLACE TEMP VIEW {SLICE_VIEW} AS SELECT * FROM {table} WHERE rowid >= {start}{before_end}")
        con.execute(step.sql)
    con.execute(f"DROP VIEW IF EXISTS {SLICE_VIEW}")


# Keys sampled per chunk to place its cuts (a chunk then holds its share of the rows give or take ~10 %)
SAMPLES_PER_CHUNK = 100


def chunk_starts(con: duckdb.DuckDBPyConnection, table: str, key: str, rows: int, chunk_rows: int) -> list[Any]:
    """Values of the column `key` (SQL) that start the chunks of `table` (SQL, `rows` rows) in the key's order, NULLs
    left out: as many chunks as it takes to hold at most about `chunk_rows` rows each, cut into equal parts of a
    sample of the keys (one row in `rows` / (chunks × SAMPLES_PER_CHUNK), by row id).

    A sample because the exact cuts (every `chunk_rows`-th value: warehouse.schema.slice_starts) sort every key: at
    20,000 notices that window over fact_indicator's 3.1 M keys raised the gate's peak memory by ~400 MB, more than
    chunks saved. The cuts only balance the chunks; which rows each chunk holds is decided by the ranges
    (`key_ranges`)."""
    chunks = max(1, -(-rows // chunk_rows))
    step = max(1, rows // (chunks * SAMPLES_PER_CHUNK))  # (1: every key, the exact cuts)
    sample = [value for (value,) in con.execute(
        f"SELECT {key} FROM {table} WHERE rowid % {step} = 0 AND {key} IS NOT NULL ORDER BY {key}").fetchall()]
    return [sample[len(sample) * part // chunks] for part in range(chunks)] if sample else []


def key_ranges(starts: Sequence[Any]) -> list[tuple[Any, Any]]:
    """The ranges [low, high) of key values that chunks are cut by, from the values that start each chunk (in order,
    NULLs left out): the first range has no low bound and takes the NULL keys too, the last has no high bound, so
    that every row is in one range whatever its key."""
    starts = list(dict.fromkeys(starts))[1:]  # (a value repeated at a cut starts one chunk)
    bounds = [None, *starts, None]
    return list(zip(bounds, bounds[1:]))


# Rows each thread buffers per chunk before writing them (DuckDB's default: 524,288): with the default, writing
# fact_indicator's rows at 20,000 notices in 4 chunks took the gate's process to 2.03-2.06 GB, with this 1.35-1.48 GB
# (writing them to one file: 1.41 GB; reading them into Arrow at once: 1.64 GB), in as much time (2.0-2.4 s)
_CHUNK_WRITE_FLUSH_ROWS = 10_000
# the chunk number of each row, in the files a chunked suite's rows are written to (not "_…": Arrow skips such folders)
_CHUNK_COLUMN = "zhenggai_chunk"


def _chunks_written(item: _Loaded, folder: Path, count: int) -> Iterator[_Loaded]:
    """The `count` chunks of `item`'s rows, each read from its folder of Parquet files under `folder` (DuckDB's
    PARTITION_BY layout; a chunk without rows has none). A chunk that cannot be read ends the chunks (its `error`)."""
    import pyarrow.dataset as ds

    try:
        written = ds.dataset(folder, format="parquet", partitioning="hive")
    except Exception as exc:  # noqa: BLE001 - reported as the suite's load error
        item.error = _first_line(exc)
        yield item
        return
    for number in range(1, count + 1):
        chunk = replace(item, chunk=(number, count))
        try:
            chunk.table = written.to_table(filter=ds.field(_CHUNK_COLUMN) == number).drop_columns([_CHUNK_COLUMN])
        except Exception as exc:  # noqa: BLE001 - reported as the suite's load error
            chunk.error = _first_line(exc)
            yield chunk
            return
        chunk.nbytes = chunk.table.nbytes
        yield chunk


def _first_line(exc: BaseException) -> str:
    """What a load error is reported as: the exception's type and the first line of its message."""
    return f"{type(exc).__name__}: {exc}".splitlines()[0]


def _same_rows(a, b) -> bool:
    """Whether two Arrow tables hold the same rows, in any order (a NaN never equals itself: such frames differ)."""
    import pyarrow.compute as pc

    if a.schema != b.schema or a.num_rows != b.num_rows:
        return False
    if not a.num_rows:
        return True
    keys = [(name, "ascending") for name in a.column_names]
    try:
        return a.take(pc.sort_indices(a, sort_keys=keys)).equals(b.take(pc.sort_indices(b, sort_keys=keys)))
    except Exception:  # noqa: BLE001 - a column Arrow cannot sort: not known to be the same
        return False


@functools.cache
def _table_macros(macros: str) -> tuple[str, ...]:
    """Names of the table macros of macros.sql (their FROM is not seen in a query that calls them)."""
    return tuple(re.findall(r"MACRO\s+(\w+)\s*\([^)]*\)\s+AS\s+TABLE\b", macros, flags=re.IGNORECASE))


def _to_pandas(item: _Loaded) -> _Loaded:
    """`item.table` sorted by the suite's key and as its pandas frame (`item.frame`), by the thread that validates it.

    Sorted so that the examples of unexpected rows are the same whatever order DuckDB returned the rows in; the order
    also lets GX's uniqueness check on the key compare neighbours instead of hashing every value
    (expectations/gx_fast_paths.py `unique_values_by_neighbours`). (Left unsorted, GX's own hashing of the keys
    took ~1 s longer on fact_indicator at 10,000 notices, more than the sort saved.)

    Not by the prefetcher's thread: Arrow's allocator (mimalloc) keeps memory freed by another thread in the
    allocating thread's heap until that thread allocates again, so sorting there raised the gate's peak RSS at
    10,000 notices by ~100 MB (fact_measure's sorted copy held while fact_indicator was loaded)."""
    import pyarrow.compute as pc

    table, item.table = item.table, None
    if table is not None:
        try:
            order = pc.sort_indices(table, sort_keys=[(item.spec.key, "ascending", "at_start")])
            table = table.take(order).cast(_widened(table.schema))
            item.frame = table.to_pandas(self_destruct=True)
        except Exception as exc:  # noqa: BLE001 - a table that cannot be read into a frame is not validated
            item.error = _first_line(exc)
    return item


# The prefetcher starts loading the next suite's frame while the frames already loaded (waiting or being validated)
# hold at most AHEAD_BYTES of Arrow data. A suite with a `prepare` step (the quote checks: cutting the notice texts,
# one of DuckDB's largest working memories) is loaded by the validating thread itself when no other frame is held; its
# `delta.prepare`, over the changed notices' rows, is loaded ahead like any other suite (_prepares_every_row).
# Over every row too, since the gate runs in a process of its own (orchestration/resources.py GateRunner): at 10,000
# notices the full gate alone took 7.0-7.6 s with each frame loaded when reached, 6.5-6.9 s read ahead (3 interleaved
# pairs), with the same peak RSS (1.14-1.32 GB); in full refreshes, 61.3-62.1 s and 60.9-61.5 s, peaks 1.58-1.65 GB
# both ways. (When the gate shared the run's process, a loading thread had raised its peak by ~100-140 MB, memory
# freed by one thread's allocator arenas not being reused by the other's, for no measurable gain.)
AHEAD_BYTES = 64 * 2**20


class _Prefetcher:
    """Loads the suites' frames in order in one background thread, ahead of their validation.

    DuckDB and Arrow release the GIL while they run, so the staged file is read while GX (pure Python, holding the
    GIL) is imported and validates the previous frames: the two overlap on two cores. Loads stay sequential (the
    reader's connection is used by one thread at a time); iterating yields the frames in suite order, and
    `done(item)` after each validation drops its frame and releases its share of AHEAD_BYTES. A load that raises
    (GateError from the reader) is raised by the iteration."""

    def __init__(self, reader: "_StagedReader", specs: Sequence[SuiteSpec]):
        import threading

        self.reader, self.specs = reader, list(specs)
        self._ready: list[_Loaded | SuiteSpec | BaseException] = []  # a SuiteSpec: loaded by the iterating thread
        self._held = 0  # bytes counted for the frames handed over and not yet done
        self._held_frames = 0
        self._counted: dict[int, int] = {}  # id of each item handed over → what it counts in _held
        self._stop = False
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="zhenggai-gate-loader", daemon=True)

    def __enter__(self) -> "_Prefetcher":
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        self._thread.join()  # before the reader closes its connection
        self._ready.clear()

    def _run(self) -> None:
        for spec in self.specs:
            alone = _prepares_every_row(spec, self.reader) or self.reader.chunked(spec)
            with self._cond:
                self._cond.wait_for(lambda: self._stop or self._held_frames == 0 or (not alone and self._held <= AHEAD_BYTES))
                if self._stop:
                    return
                if alone:  # loaded by the validating thread; nothing else is loaded until it is done
                    self._hand_over(spec, AHEAD_BYTES + 1)
                    continue
            try:
                item: _Loaded | BaseException = self.reader.load_arrow(spec)
            except BaseException as exc:  # noqa: BLE001 - raised in the validating thread
                item = exc
            with self._cond:
                self._hand_over(item, item.nbytes if isinstance(item, _Loaded) else 0)
                if not isinstance(item, _Loaded):
                    return

    def _hand_over(self, item, counted: int) -> None:
        self._ready.append(item)
        self._held += counted
        self._held_frames += 1
        self._counted[id(item)] = counted
        self._cond.notify_all()

    def __iter__(self) -> Iterator[_Loaded]:
        for _ in self.specs:
            with self._cond:
                self._cond.wait_for(lambda: bool(self._ready))
                item = self._ready.pop(0)
            if isinstance(item, SuiteSpec):
                # its rows at once, or chunk after chunk: each chunk is one more frame held until done(), and the
                # suite's own count holds the loading thread until its last chunk is done
                counted = self._counted.pop(id(item))
                for chunk in self.reader.load_chunks(item):
                    with self._cond:
                        self._held_frames += 1
                        self._counted[id(chunk)] = 0
                    yield _to_pandas(chunk)
                    if chunk.ends_suite:  # (a chunk not read or not converted ends it early)
                        break
                with self._cond:
                    self._held -= counted
                    self._held_frames -= 1
                    self._cond.notify_all()
                continue
            if not isinstance(item, _Loaded):
                raise item
            yield _to_pandas(item)

    def done(self, item: _Loaded) -> None:
        """`item` is validated: its frame is dropped and it no longer counts as held."""
        with self._cond:
            self._held -= self._counted.pop(id(item))
            self._held_frames -= 1
            item.frame = None
            self._cond.notify_all()


def _prepares_every_row(spec: SuiteSpec, reader: "_StagedReader") -> bool:
    """Whether loading `spec` runs its `prepare` step over every row (one of DuckDB's largest working memories: loaded alone,
    by the validating thread). A `delta.prepare` reads the changed notices' rows only: loaded ahead like the others
    (at 10,000 notices, one changed, the validating thread waited ~0.8 s for the delta loads of fact_indicator and
    fact_claim, their queries scanning the whole table)."""
    return bool(spec.prepare) and reader.prepare_of(spec) == spec.prepare


# A connection is kept for the next suite (see _StagedReader) only after a load of at most REUSE_MAX_ROWS rows that
# leaves DuckDB holding at most REUSE_MEMORY_LIMIT bytes: at 10,000 notices, keeping it after the large tables too
# raised the gate's peak RSS by ~100 MB (1.39 → 1.49-1.53 GB), memory DuckDB's allocator keeps until it is closed.
REUSE_MAX_ROWS = 50_000
REUSE_MEMORY_LIMIT = 64 * 2**20


def _memory_in_use(con: duckdb.DuckDBPyConnection) -> int:
    ((used,),) = con.execute("SELECT coalesce(sum(memory_usage_bytes), 0) FROM duckdb_memory()").fetchall()
    return int(used)


def _widened(schema):
    """`schema` with every integer narrower than 64 bits as int64: GX compares int64 and float64 columns in one
    vectorised operation, other integer widths (INTEGER columns: ordinal, http_status...) value by value."""
    import pyarrow as pa

    return pa.schema(
        [field.with_type(pa.int64()) if pa.types.is_integer(field.type) and field.type.bit_width < 64 else field
         for field in schema]
    )


def _empty_warehouse(folder: Path) -> Path:
    """A warehouse with the published schema and no rows: what a first load is compared with.

    The DDL comes from warehouse.schema, not warehouse.store (which imports Polars and the transforms, ~0.7 s the
    gate does not need). One transaction: DuckDB writes the file once instead of once per statement (1 s → 0.2 s).
    """
    from warehouse.schema import ddl_statements

    path = folder / "empty.duckdb"
    con = duckdb.connect(str(path))
    try:
        con.execute(f"BEGIN TRANSACTION;\n{ddl_statements()}\n;COMMIT;")
    finally:
        con.close()
    return path


def warm_up(stop: Callable[[], bool] = lambda: False) -> int:
    """Validate every suite once over a warehouse without rows, in a throwaway report folder, stopping as soon as
    `stop()` says so (checked before each suite); returns how many suites were validated.

    No Data Docs are built: a gate builds its docs after its verdict, and a first build in a process that had built
    the warm-up's was no faster (0.32-0.33 s after the verdict at 10,000 notices, one edited, either way), whereas the
    refresh's request, which cannot interrupt a build, arrived during it in most runs (0.3-0.4 s of its time).

    The first gate run in a process pays for what GX and DuckDB do once per process (GX's metric providers and
    expectation classes set up on first use, the first context and connection, pandas' first operations): at 10,000
    notices, one edited, the delta gate's verdict came 1.04-1.06 s after its request in a process that had only
    imported GX, 0.84-0.88 s after this. The gate's own process does it while it waits for its request
    (expectations/gate_process.py), when the refresh expects to patch."""
    done = 0
    with tempfile.TemporaryDirectory(prefix="zhenggai-gate-warm-up-") as folder:
        folder = Path(folder)
        database = _empty_warehouse(folder)
        specs = load_suites()
        run_time = datetime.now(timezone.utc)
        with _StagedReader(database, database, DEFAULT_MAX_DROP_SHARE, None, specs) as reader, _quiet_gx():
            context, _ = _fresh_context(folder / "report", [spec.table for spec in specs])
            with _first_unexpected_rows_only(), _gx_fast_paths():
                for spec in specs:
                    if stop():
                        return done
                    _validate(context, reader.load(spec), run_time)
                    done += 1
    return done


def import_great_expectations():
    """`great_expectations`, imported with Python's cyclic garbage collector paused (its earlier state restored),
    and without the modules it imports only for expectations the suites do not use (scipy.stats, altair:
    expectations/deferred_modules.py), which are imported if and when something uses them.

    The import makes ~260,000 objects that live as long as the process and almost no garbage (~3,000 objects over
    ~690 collections); each collection of the oldest generation walks everything made so far. Paused, a process
    importing the gate and GX took 6.48 s instead of 7.28 s (medians of 5 interleaved runs on a busy 2-core VM). The
    import is on the critical path of a full build's gate, and of an incremental refresh whenever it outlasts the
    patch."""
    deferred(*UNUSED_BY_THE_GATE)  # (a no-op once GX, and so they, are imported)
    enabled = gc.isenabled()
    gc.disable()
    try:
        import great_expectations
    finally:
        if enabled:
            gc.enable()
    return great_expectations


# The longest a thread holds the GIL while another waits for it, while the gate runs (Python's default: 5 ms).
GIL_SWITCH_INTERVAL_S = 0.0002


@contextlib.contextmanager
def _quick_gil_handover() -> Iterator[None]:
    """The GIL handed over within GIL_SWITCH_INTERVAL_S while the gate's two threads run (_Prefetcher): GX validating
    in Python, the loader in DuckDB. The loader needs the GIL back after each DuckDB call (a dozen per suite), and by
    default waits up to 5 ms for GX's thread to yield it; the validating thread then waited for frames that were all
    but loaded. At 10,000 notices, one edited, the delta gate's verdict came 0.98-1.15 s after its request with the
    default, 0.98-1.03 s with 0.2 ms (4 runs each, in turns; in the gate's own process); GX's validating took ~6 %
    longer with the extra switches, less than the waits they saved. Again (the gate in a test's process, staged and
    previous files of a real watch change, 10 interleaved runs each): medians 1.11 s with the default, 1.02-1.05 s
    with 0.1 and 0.2 ms, no gain with 0.5 ms; the full gate the same (5.49 s both). Set here, in the gate itself, so
    that a gate run in the refresh's process (ZHENGGAI_GATE_PROCESS=0) has it too; restored after."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    try:
        yield
    finally:
        sys.setswitchinterval(interval)


@contextlib.contextmanager
def _quiet_gx() -> Iterator[None]:
    """No GX log records or Python warnings on the console: every problem is reported in the result."""
    logger = logging.getLogger("great_expectations")
    level = logger.level
    logger.setLevel(logging.CRITICAL + 1)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def release_freed_memory() -> None:
    """Hand the memory freed by the suite just validated back to the system before the next one is loaded.

    Arrow's allocator and glibc's malloc keep freed pages for reuse, and the next suite's frames did not always
    land on them: at 10,000 notices the full gate's peak RSS (alone, in a process of its own) was 1.57-1.72 GB,
    mean 1.66, over seven runs with them kept, and 1.42-1.62 GB, mean 1.53, over ten with them released after
    each suite, for the same CPU time."""
    import ctypes

    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None).malloc_trim(0)  # glibc's; another C library has no such call
        except (OSError, AttributeError):
            pass


@contextlib.contextmanager
def _first_unexpected_rows_only() -> Iterator[None]:
    """GX builds the row keys of EVERY unexpected row (`unexpected_index_list`, one pandas `.at` lookup per row and
    column: ~0.1 ms a row, ~2.5 s at 10,000 notices for fact_claim's ~21,000 disagreements) and then keeps the first
    `partial_unexpected_count` of them unless the result format is COMPLETE. Here it is given only those first rows:
    the list is built row by row in the frame's order, so what is kept is the same (tests/test_gate_fast_paths.py
    compares the two). Not when GX returns the whole list (COMPLETE) or packs every row into one entry
    (exclude_unexpected_values)."""
    from great_expectations.expectations.metrics.map_metric_provider import map_condition_auxilliary_methods as methods

    complete = methods.compute_unexpected_pandas_indices

    def first_rows_only(*args, **kwargs):
        result_format = kwargs.get("result_format") or {}
        count = result_format.get("partial_unexpected_count")
        if (not args and "domain_records_df" in kwargs and result_format.get("result_format") != "COMPLETE"
                and not result_format.get("exclude_unexpected_values", False) and isinstance(count, int) and count >= 1):
            kwargs["domain_records_df"] = kwargs["domain_records_df"].head(count)
        return complete(*args, **kwargs)

    methods.compute_unexpected_pandas_indices = first_rows_only
    try:
        yield
    finally:
        methods.compute_unexpected_pandas_indices = complete


def _gx_fast_paths():
    """The shortcuts of expectations/gx_fast_paths.py (GX's own results, computed with less bookkeeping)."""
    from expectations import gx_fast_paths

    return gx_fast_paths.applied()


def _fresh_context(report_dir: Path, tables: list[str]):
    """A new file Data Context with one pandas data source: one asset whose batch definitions are the tables.

    Declared at once (every change to a data source rewrites the project's YAML). Every suite's batch is
    then the same asset, so GX's batch cache holds only the frame being validated, not every frame of the run.
    """
    gx = import_great_expectations()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    project = report_dir / GX_DIR
    if project.exists():
        shutil.rmtree(project)
    context = gx.get_context(mode="file", project_root_dir=str(report_dir))
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    context.variables.save()
    # The gate substitutes no config variables, and GX reads and parses this template file again on every access
    # to a context variable (some 300 times a run): without it, GX takes the variables as none.
    (project / "uncommitted" / "config_variables.yml").unlink(missing_ok=True)
    asset = {"name": _ASSET, "type": "dataframe", "batch_definitions": [{"name": table} for table in tables]}
    context.data_sources.add_pandas(_DATASOURCE, assets=[asset])
    return context, gx.__version__


def _build_expectation(spec: ExpectationSpec, table: str):
    from great_expectations.expectations.registry import get_expectation_impl

    try:
        implementation = get_expectation_impl(spec.type)
        return implementation(
            **spec.kwargs,
            severity=_GX_SEVERITY[spec.severity],
            description=spec.description,
            meta={"severity": spec.severity, "gate_description": spec.describe()},
            notes=_SEVERITY_NOTE[spec.severity],
        )
    except Exception as exc:
        raise GateError(f"{SUITES_FILE.name}: {table}: invalid expectation {spec.type} {dict(spec.kwargs)}: {exc}") from exc


def _validate(context, item: _Loaded, run_time: datetime) -> tuple[SuiteResult, dict]:
    """The outcome of a suite validated on one frame (its rows at once)."""
    validation = _SuiteValidation(context, item.spec, run_time)
    validation.add(item)
    return validation.outcome()


class _SuiteValidation:
    """One suite validated by GX on its rows at once, or on each chunk of them in turn (`add`, in key order), then
    its outcome (`outcome`) as one result: a chunked suite's counts are summed over its chunks and its examples are
    the first unexpected rows of the first chunks, which are the whole frame's first (the chunks hold its rows in key
    order; `_merged`). Each chunk is a validation run of its own in the Data Docs ("chunk n of N")."""

    def __init__(self, context, spec: SuiteSpec, run_time: datetime):
        self.context, self.spec, self.run_time = context, spec, run_time
        self.first: _Loaded | None = None
        self.chunks = 0  # frames validated
        self.rows = 0  # rows read
        self.load_error: str | None = None
        self.gx_error: str | None = None  # GX raised while validating a frame
        self._definition = None
        self._suite = None
        # per expectation, in suite order: [success, problem, result], merged over the chunks; None: not evaluated
        self._found: list[list | None] | None = None

    @property
    def label(self) -> str:
        # in delta mode a restricted suite's counts are of the rows validated: its lines say so
        scope = self.first.scope if self.first is not None else SCOPE_ALL
        return self.spec.table if scope == SCOPE_ALL else f"{self.spec.table} ({scope})"

    def add(self, item: _Loaded) -> None:
        import great_expectations as gx
        from great_expectations.core.run_identifier import RunIdentifier

        spec = self.spec
        self.first = self.first or item
        if item.scope == SCOPE_UNCHANGED:  # (its only item, without rows)
            return
        if item.error is not None:
            self.load_error = item.error
            return
        self.rows += len(item.frame)
        if self.gx_error is not None:  # (its rows are counted, not validated: the suite has failed)
            return
        if self._definition is None:
            expectations = [_build_expectation(e, spec.table) for e in spec.expectations]
            self._suite = self.context.suites.add(gx.ExpectationSuite(name=spec.table, expectations=expectations))
            batch = self.context.data_sources.get(_DATASOURCE).get_asset(_ASSET).get_batch_definition(spec.table)
            self._definition = self.context.validation_definitions.add(
                gx.ValidationDefinition(name=spec.table, data=batch, suite=self._suite))
        run_name = _RUN_NAME if item.chunk is None else f"{_RUN_NAME} chunk {item.chunk[0]} of {item.chunk[1]}"
        self.chunks += 1
        try:
            outcome = self._definition.run(
                batch_parameters={"dataframe": item.frame},
                result_format={**_RESULT_FORMAT, "unexpected_index_column_names": [spec.key]},
                run_id=RunIdentifier(run_name=run_name, run_time=self.run_time),
            )
        except Exception as exc:  # noqa: BLE001 - reported as an error-severity failure of this suite
            self.gx_error = _collapsed(f"{type(exc).__name__}: {exc}")
            return
        if len(self._suite.expectations) != len(spec.expectations):
            raise GateError(f"{SUITES_FILE.name}: {spec.table}: duplicated expectations "
                            f"(GX kept {len(self._suite.expectations)} of {len(spec.expectations)})")
        by_id = {r.expectation_config.id: r for r in outcome.results}
        found = []
        for expectation in self._suite.expectations:
            validation = by_id.get(expectation.id)
            if validation is None:
                found.append(None)
                continue
            problem = _exception_message(validation.exception_info)
            found.append([bool(validation.success), None if problem is None else _collapsed(problem),
                          dict(validation.result or {})])
        self._found = found if self._found is None else [_merged(a, b) for a, b in zip(self._found, found)]

    def outcome(self) -> tuple[SuiteResult, dict]:
        spec, item, label = self.spec, self.first, self.label
        unchanged = item.scope == SCOPE_UNCHANGED
        payload: dict[str, Any] = {
            "table": spec.table,
            "suite": spec.table,
            "success": False,
            "row_count": None if self.load_error is not None or unchanged else self.rows,
            "evaluated": 0,
            "failed": 0,
            "scope": item.scope,
            "prepare": item.prepare if item.slices is None else f"{item.prepare};\n{item.slices.describe()}",
            "query": item.sql if item.chunk is None else (
                f"{item.sql}\n-- validated in {item.chunk[1]} chunks of about {spec.chunk_rows} rows, by ranges of "
                f"{spec.key}"),
            "chunks": self.chunks,
            "load_error": self.load_error,
            "expectations": [],
        }
        if unchanged:
            payload["expectations"] = [_expectation_json(e, None, None, None) for e in spec.expectations]
            payload["success"] = True
            return SuiteResult(spec.table, True, 0, None, [], item.scope), payload
        if self.load_error is not None:
            line = f"{label}: could not load the table for validation ({self.load_error})"
            payload["expectations"] = [_expectation_json(e, None, None, None) for e in spec.expectations]
            payload["failed"] = len(spec.expectations)
            return SuiteResult(spec.table, False, 0, None, [Failure(line, "error")], item.scope), payload
        if self.gx_error is not None:
            line = f"{label}: Great Expectations could not validate the suite ({self.gx_error})"
            payload["load_error"] = line
            payload["expectations"] = [_expectation_json(e, None, None, None) for e in spec.expectations]
            payload["failed"] = len(spec.expectations)
            return SuiteResult(spec.table, False, 0, self.rows, [Failure(line, "error")], item.scope), payload
        failures = []
        for expectation_spec, found in zip(spec.expectations, self._found):
            if found is None:
                line = f"{label}: {expectation_spec.describe()} (not evaluated by Great Expectations)"
                failures.append(Failure(line, "error"))
                payload["expectations"].append(_expectation_json(expectation_spec, False, {}, line))
                continue
            success, problem, result = found
            line = None
            if problem is not None:
                line = f"{label}: {expectation_spec.describe()} (GX could not evaluate it: {problem})"
                failures.append(Failure(line, "error"))  # a broken check is never a mere warning
            elif not success:
                line = f"{label}: {expectation_spec.describe()} — {_detail(expectation_spec, result, spec.key)}"
                failures.append(Failure(line, expectation_spec.severity))
            payload["expectations"].append(_expectation_json(expectation_spec, success and problem is None, result, line, problem))
        evaluated = sum(found is not None for found in self._found)
        payload.update(success=not failures, evaluated=evaluated, failed=len(failures))
        return SuiteResult(spec.table, not failures, evaluated, self.rows, failures, item.scope), payload


_RUN_NAME = "zhenggai-gate"
_RESULT_FORMAT = {
    "result_format": "SUMMARY",
    "partial_unexpected_count": PARTIAL_UNEXPECTED,
    # not in SUMMARY results unless asked for, but GX builds it for every column-map expectation (the unexpected rows'
    # index) unless told not to; no measurable gain when every row passes
    "return_unexpected_index_query": False,
}


def _merged(a: list | None, b: list | None) -> list | None:
    """One expectation's [success, problem, result] over two consecutive chunks of rows, as GX gives it for both at
    once: the chunks' counts added and their first examples kept, formatted by GX's own map-result function (which
    computes the shares and counts the examples' values)."""
    from great_expectations.expectations.expectation import _format_map_output
    from great_expectations.expectations.expectation_configuration import parse_result_format

    if a is None or b is None:
        return None
    (success_a, problem_a, first), (success_b, problem_b, second) = a, b
    success, problem = success_a and success_b, problem_a or problem_b
    if problem is not None or "unexpected_count" not in first:  # nothing GX evaluated to add up
        return [success, problem, dict(first)]

    def added(key: str) -> int:
        return (first.get(key) or 0) + (second.get(key) or 0)

    def examples(key: str) -> list | None:
        if key not in first and key not in second:
            return None
        return (list(first.get(key) or []) + list(second.get(key) or []))[:PARTIAL_UNEXPECTED]

    elements = added("element_count")
    formatted = _format_map_output(
        parse_result_format(dict(_RESULT_FORMAT)), success, element_count=elements,
        nonnull_count=elements - added("missing_count") if "missing_count" in first else None,
        unexpected_count=added("unexpected_count"), unexpected_list=examples("partial_unexpected_list") or [],
        unexpected_index_list=examples("partial_unexpected_index_list"),
        unexpected_index_column_names=first.get("unexpected_index_column_names"))
    return [success, problem, formatted["result"]]


def _build_docs(context) -> Path:
    try:
        with _quiet_gx():
            context.build_data_docs()
    except Exception as exc:  # GX failed: the gate's report is incomplete
        raise GateError(f"Great Expectations could not build the Data Docs: {type(exc).__name__}: {exc}") from exc
    index = _docs_index(context)
    if not index.is_file():
        raise GateError("Great Expectations did not build the Data Docs index.html")
    return index


def _docs_index(context) -> Path:
    """Where the Data Docs' index.html is (built or not yet)."""
    for site in context.get_docs_sites_urls(only_if_exists=False):
        url = site.get("site_url") or ""
        if url.startswith("file://"):
            return Path(unquote(urlparse(url).path))
    raise GateError("the GX project has no local Data Docs site")


def _exception_message(info: Any) -> str | None:
    """GX's exception info is either flat or keyed by metric: the messages of what raised, if anything."""
    if not info:
        return None
    if isinstance(info, dict) and "raised_exception" in info:
        return (info.get("exception_message") or "exception raised") if info["raised_exception"] else None
    messages = [
        (value.get("exception_message") or "exception raised")
        for value in (info.values() if isinstance(info, dict) else [])
        if isinstance(value, dict) and value.get("raised_exception")
    ]
    return "; ".join(dict.fromkeys(messages)) or None


def _expectation_json(
    spec: ExpectationSpec, success: bool | None, result: dict | None, line: str | None, exception: str | None = None
) -> dict:
    result = result or {}
    return {
        "type": spec.type,
        "kwargs": dict(spec.kwargs),
        "severity": spec.severity,
        "description": spec.describe(),
        "success": success,  # None: not evaluated
        "element_count": result.get("element_count"),
        "unexpected_count": result.get("unexpected_count"),
        "unexpected_percent": result.get("unexpected_percent"),
        "missing_count": result.get("missing_count"),
        "observed_value": result.get("observed_value"),
        "unexpected_values": list(result.get("partial_unexpected_list") or [])[:PARTIAL_UNEXPECTED],
        "unexpected_rows": list(result.get("partial_unexpected_index_list") or [])[:PARTIAL_UNEXPECTED],
        "exception": exception,
        "message": line,
    }


def _detail(spec: ExpectationSpec, result: dict, key: str) -> str:
    """What was found, for the failure line: counts and a few unexpected values with their row keys."""
    if "unexpected_count" in result:
        count, total = result["unexpected_count"], result.get("element_count")
        head = f"{count} of {total} rows" if total is not None else f"{count} rows"
        if spec.type in ("expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"):
            # counts are exact only when the partial list holds every unexpected row
            counts = list(result.get("partial_unexpected_counts") or [])
            exact = sum(entry["count"] for entry in counts[:MESSAGE_EXAMPLES]) >= count
            examples = [_show(entry["value"]) + (f" ×{entry['count']}" if exact else "") for entry in counts]
            if exact:
                return f"{head}: {', '.join(examples[:MESSAGE_EXAMPLES])}"
        else:
            values = list(result.get("partial_unexpected_list") or [])
            rows = list(result.get("partial_unexpected_index_list") or [])
            examples = [_example(spec, value, row, key) for value, row in zip(values, rows + [None] * len(values))]
        shown = examples[:MESSAGE_EXAMPLES]
        more = ", …" if count and count > len(shown) else ""
        return f"{head}: {', '.join(shown)}{more}" if shown else head
    if "observed_value" in result:
        return f"observed {_show(result['observed_value'])}"
    return "failed"


def _example(spec: ExpectationSpec, value: Any, row: Any, key: str) -> str:
    if spec.type == "expect_column_pair_values_a_to_be_greater_than_b" and isinstance(value, (tuple, list)):
        shown = f"{spec.kwargs['column_A']} {_show(value[0])}, {spec.kwargs['column_B']} {_show(value[1])}"
    elif _is_missing(value):
        shown = "NULL"
    else:
        shown = _show(value)
    if isinstance(row, dict) and key in row and key not in spec.columns():
        shown += f" [{key} {_show(row[key])}]"
    return shown


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        import pandas as pd

        return bool(pd.isna(value)) if not isinstance(value, (str, bytes, list, tuple, dict)) else False
    except (TypeError, ValueError):
        return False


def _show(value: Any, limit: int = 80) -> str:
    if isinstance(value, (list, tuple)):
        return "(" + ", ".join(_show(v, limit // 2) for v in value) + ")"
    if _is_missing(value):
        return "NULL"
    value = _plain(value)
    text = _one_line(f"'{value}'" if isinstance(value, str) else str(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _one_line(text: str) -> str:
    return text.replace("\r", "\\r").replace("\n", "\\n")


def _plain(value: Any) -> Any:
    """A JSON-safe copy: numpy scalars unwrapped, NaN/inf and dates as text, pandas NA/NaT as None."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and type(value).__module__ == "numpy":
        value = value.item()
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else str(value)
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, datetime):
        if value != value:  # NaT
            return None
        if (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if _is_missing(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return str(value)
