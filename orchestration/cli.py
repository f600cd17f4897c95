"""`zhenggai` command line (DESIGN §4): refresh, fetch, sql, export.

`refresh` executes the same `refresh` job of the one Definitions that the schedule and the sensor start;
it only chooses the folders and prints what happened.
"""

import json
import logging
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from orchestration.resources import DEFAULT_SOURCE, DEFAULT_WAREHOUSE

app = typer.Typer(help="zhenggai: a DuckDB warehouse of rectification notices (巡视/巡察整改进展情况通报).", no_args_is_help=True)
# Piped output (make run, cron, CI logs) has no terminal width; 120 columns keeps the summary readable.
console = Console() if sys.stdout.isatty() else Console(width=120)
err_console = Console(stderr=True) if sys.stderr.isatty() else Console(stderr=True, width=120)

EXIT_GATE_BLOCKED = 2
EXIT_RUN_FAILED = 3
EXIT_LOCKED = 75  # EX_TEMPFAIL: try again later


@dataclass
class RefreshOutcome:
    published: bool
    warehouse: Path
    report_dir: Path
    gate_errors: list[str] = field(default_factory=list)
    gate_warnings: list[str] = field(default_factory=list)
    failure: str | None = None
    locked: bool = False
    sources: list["SourceStatus"] = field(default_factory=list)


@dataclass
class SourceStatus:
    """How one source of sources.yaml fared in a run (from its `source_ok` asset check)."""

    name: str
    ok: bool
    failure: str | None
    problems: list[str]
    counts: dict


def _source_statuses(result) -> list[SourceStatus]:
    from orchestration.fetch_assets import SOURCE_CHECK

    statuses = []
    for evaluation in result.get_asset_check_evaluations():
        if evaluation.check_name != SOURCE_CHECK:
            continue
        metadata = {key: value.value for key, value in evaluation.metadata.items()}
        failure, problems = metadata.pop("failure", "none"), metadata.pop("problems", "none")
        statuses.append(SourceStatus(
            name=evaluation.asset_key.path[-1], ok=evaluation.passed, failure=None if failure == "none" else failure,
            problems=[] if problems == "none" else problems.splitlines(), counts=metadata,
        ))
    return sorted(statuses, key=lambda s: s.name)


def _definitions(sources: Path | None):
    """The one Definitions, for the sources.yaml given on the command line when there is one."""
    if sources is None:
        from orchestration.definitions import defs

        return defs
    from landing.sources import load_sources
    from orchestration.definitions import build_definitions

    return build_definitions(load_sources(sources))


def run_refresh(source: Path, warehouse: Path, log_level: str = "CRITICAL", sources: Path | None = None) -> RefreshOutcome:
    """Execute the `refresh` job in-process on `source` (or the sources of `sources`), publishing `warehouse`.

    Dagster's own step log goes to stderr at `log_level`; the CLI prints its own summary.
    """
    import dagster as dg

    from orchestration.resources import NoticeSource, WarehouseTarget

    target = WarehouseTarget(path=str(warehouse))
    job = _definitions(sources).resolve_job_def("refresh")
    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    with _quiet_dagster_logs():
        result = job.execute_in_process(
            run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
            instance=instance,
            resources={"notice_source": NoticeSource(directory=str(source)), "warehouse": target},
            raise_on_error=False,
        )
    outcome = RefreshOutcome(published=False, warehouse=warehouse, report_dir=target.report_dir, sources=_source_statuses(result))
    for evaluation in result.get_asset_check_evaluations():
        metadata = {key: value.value for key, value in evaluation.metadata.items()}
        for kind, sink in (("errors", outcome.gate_errors), ("warnings", outcome.gate_warnings)):
            text = metadata.get(kind, "none")
            if text != "none":
                sink.extend(text.splitlines())
    outcome.published = result.success and result.is_node_success("published_warehouse")
    if not result.success:
        outcome.failure = _failure_message(result)
        outcome.locked = "RefreshInProgress" in (outcome.failure or "")
    return outcome


def _failure_message(result) -> str:
    messages = []
    for event in result.all_events:
        if event.is_failure and event.event_specific_data is not None:
            error = getattr(event.event_specific_data, "error", None)
            if error is not None:
                messages.append(f"{event.step_key or 'run'}: {error.cls_name}: {error.message.strip()}")
    return "\n".join(dict.fromkeys(messages)) or "the refresh run failed"


class _quiet_dagster_logs:
    """Dagster logs every step at INFO to stderr; the CLI prints its own summary instead."""

    def __enter__(self):
        self._saved = {}
        for name in ("dagster", "great_expectations"):
            logger = logging.getLogger(name)
            self._saved[name] = logger.level
            logger.setLevel(logging.WARNING)

    def __exit__(self, *exc):
        for name, level in self._saved.items():
            logging.getLogger(name).setLevel(level)


SOURCES_OPTION = typer.Option(
    None, "--sources", envvar="ZHENGGAI_SOURCES",
    help="sources.yaml: folders, notice pages and list pages to fetch (see sources.example.yaml). Default: the --source folder.",
)


@app.command()
def refresh(
    source: Path = typer.Option(None, "--source", help=f"Folder of notices (.txt, .html). Default: {DEFAULT_SOURCE}/"),
    warehouse: Path = typer.Option(Path(DEFAULT_WAREHOUSE), "--warehouse", help="DuckDB file to publish."),
    quiet: bool = typer.Option(False, "--quiet", help="Print only errors (for cron)."),
    verbose: bool = typer.Option(False, "--verbose", help="Also print Dagster's step log."),
    sources: Path = SOURCES_OPTION,
) -> None:
    """Fetch / read every notice of the sources, validate, and publish the DuckDB warehouse atomically."""
    if sources is not None and source is not None:
        err_console.print("[red]error:[/] give either --source (one folder) or --sources (sources.yaml), not both")
        raise typer.Exit(EXIT_RUN_FAILED)
    source = source or Path(DEFAULT_SOURCE)
    if sources is None and not source.is_dir():
        err_console.print(f"[red]error:[/] notice folder not found: {source}")
        raise typer.Exit(EXIT_RUN_FAILED)
    _check_sources_file(sources)
    outcome = run_refresh(source, warehouse, log_level="INFO" if verbose else "CRITICAL", sources=sources)
    _report_failed_sources(outcome.sources)
    if outcome.locked:
        err_console.print(f"[yellow]another refresh is running on {warehouse}; nothing was changed.[/]")
        raise typer.Exit(EXIT_LOCKED)
    if outcome.gate_errors:
        err_console.print(f"[red]gate blocked publication[/]: {len(outcome.gate_errors)} failed expectation(s); "
                          f"the published warehouse {warehouse} is unchanged.")
        for line in outcome.gate_errors:
            err_console.print(f"  [red]✗[/] {line}")
        err_console.print(f"validation report: {outcome.report_dir / 'validation.json'}")
        raise typer.Exit(EXIT_GATE_BLOCKED)
    if not outcome.published:
        err_console.print(f"[red]refresh failed[/]; the published warehouse is unchanged.\n{outcome.failure}")
        raise typer.Exit(EXIT_RUN_FAILED)
    if not quiet:
        from warehouse.summary import notice_summary, quarantine_summary

        if sources is not None:
            _print_sources(outcome.sources)

        _print_frame("Notices", notice_summary(warehouse))
        quarantined = quarantine_summary(warehouse)
        if quarantined.height:
            _print_frame("Quarantined (not loaded)", quarantined)
        for line in outcome.gate_warnings:
            console.print(f"  [yellow]warning[/] {line}")
        console.print(f"gate: [green]passed[/] ({len(outcome.gate_warnings)} warning(s))")
        console.print(f"warehouse: {warehouse.resolve()}")
        console.print(f"validation report: {(outcome.report_dir / 'validation.json').resolve()}  "
                      f"Data Docs: {_docs_index(outcome.report_dir)}")


def _check_sources_file(sources: Path | None) -> None:
    if sources is None:
        return
    from landing.sources import SourcesError, load_sources

    try:
        load_sources(sources)
    except SourcesError as error:
        err_console.print(f"[red]error:[/] {error}")
        raise typer.Exit(EXIT_RUN_FAILED) from None


def _report_failed_sources(statuses: list[SourceStatus]) -> None:
    """A failed source never stops the others, so it must be said loudly, even with --quiet."""
    for status in statuses:
        if status.failure:
            err_console.print(f"[red]source {status.name} failed[/] (its earlier notices are kept): {status.failure}")


def _print_sources(statuses: list[SourceStatus]) -> None:
    table = Table(title="Sources")
    for column in ("source", "notices", "requests", "new / changed", "304 / unchanged", "skipped", "failed", "status"):
        table.add_column(column, overflow="fold")
    for s in statuses:
        c = s.counts
        table.add_row(
            s.name, str(c.get("notices_loaded", 0)), str(c.get("requests", 0)),
            f"{c.get('outcome_new', 0)} / {c.get('outcome_changed', 0)}",
            f"{c.get('outcome_not_modified', 0)} / {c.get('outcome_unchanged', 0)}",
            str(c.get("skipped_not_notices", 0)),
            str(c.get("outcome_http_error", 0) + c.get("outcome_network_error", 0) + c.get("outcome_disallowed", 0)),
            "[red]failed[/]" if s.failure else "[yellow]partly[/]" if s.problems else "[green]ok[/]",
        )
    console.print(table)
    for s in statuses:
        for problem in s.problems:
            console.print(f"  [yellow]{s.name}[/] {problem}")


def run_fetch(sources: Path | None, log_level: str = "CRITICAL") -> tuple[bool, list[SourceStatus], str | None]:
    """Execute the `fetch` job (the landing assets only): (run succeeded, per-source status, failure message)."""
    import dagster as dg

    job = _definitions(sources).resolve_job_def("fetch")
    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    with _quiet_dagster_logs():
        result = job.execute_in_process(
            run_config={"loggers": {"console": {"config": {"log_level": log_level}}}}, instance=instance, raise_on_error=False,
        )
    return result.success, _source_statuses(result), None if result.success else _failure_message(result)


@app.command()
def fetch(
    sources: Path = SOURCES_OPTION,
    verbose: bool = typer.Option(False, "--verbose", help="Also print Dagster's step log."),
) -> None:
    """Fetch every web source into the archive (conditional requests, fetch log) without parsing or publishing."""
    _check_sources_file(sources)
    succeeded, statuses, failure = run_fetch(sources, log_level="INFO" if verbose else "CRITICAL")
    if not succeeded:
        err_console.print(f"[red]fetch failed[/]\n{failure}")
        raise typer.Exit(EXIT_RUN_FAILED)
    _report_failed_sources(statuses)
    _print_sources(statuses)
    if sources is None:
        console.print("no web sources configured: give --sources sources.yaml or set ZHENGGAI_SOURCES "
                      "(see sources.example.yaml)")
    if statuses and all(s.failure for s in statuses):
        raise typer.Exit(EXIT_RUN_FAILED)


def _docs_index(report_dir: Path) -> str:
    try:
        return json.loads((report_dir / "validation.json").read_text())["data_docs"]
    except (OSError, KeyError, ValueError):
        return str(report_dir.resolve())


def _print_frame(title: str, frame) -> None:
    table = Table(title=title, show_lines=False)
    for index, name in enumerate(frame.columns):
        table.add_column(name, overflow="fold", no_wrap=index == 0)
    for row in frame.iter_rows():
        table.add_row(*("" if value is None else str(value) for value in row))
    console.print(table)


@app.command()
def sql(
    query: str = typer.Argument(..., help="SQL to run (read-only)."),
    warehouse: Path = typer.Option(Path(DEFAULT_WAREHOUSE), "--warehouse"),
    output_format: str = typer.Option("table", "--format", help="table, csv or json."),
) -> None:
    """Run a read-only query against the published warehouse."""
    from warehouse.summary import ReadOnlyQueryError, run_query

    try:
        frame = run_query(warehouse, query)
    except ReadOnlyQueryError as error:
        err_console.print(f"[red]refused:[/] {error}")
        raise typer.Exit(EXIT_RUN_FAILED) from None
    if output_format == "csv":
        sys.stdout.write(frame.write_csv())
    elif output_format == "json":
        sys.stdout.write(frame.write_json() + "\n")
    else:
        _print_frame("", frame)


@app.command()
def export(
    directory: Path = typer.Argument(..., help="Folder to write (one sub-folder per table)."),
    warehouse: Path = typer.Option(Path(DEFAULT_WAREHOUSE), "--warehouse"),
    output_format: str = typer.Option("parquet", "--format", help="Only parquet for now."),
) -> None:
    """Export every table of the published warehouse as Parquet, one folder per table."""
    from warehouse.summary import export_parquet

    if output_format != "parquet":
        err_console.print(f"[red]error:[/] unsupported format {output_format!r}; use parquet")
        raise typer.Exit(EXIT_RUN_FAILED)
    for table, rows in export_parquet(warehouse, directory).items():
        console.print(f"{table}: {rows} rows → {directory / table}")


if __name__ == "__main__":
    app()
