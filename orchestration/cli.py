"""`zhenggai` command line (DESIGN §4): refresh, fetch, sql, export, report.

`refresh` executes the same `refresh` job of the one Definitions that the schedule and the sensor start;
it only chooses the folders and prints what happened.
"""

import atexit
import gc
import json
import logging
import os
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from orchestration.defaults import DEFAULT_SOURCE, DEFAULT_WAREHOUSE

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
    parsed: int | None = None  # notices parsed by this run
    reused: int | None = None  # notices whose parse came from the parse cache
    # Nothing new: the published file was built from the same inputs and code and was left as it is.
    unchanged: bool = False
    sources: list["SourceStatus"] = field(default_factory=list)

    @property
    def state(self) -> str:
        """locked (another refresh held the lock), blocked (by the gate), failed, unchanged (nothing new) or
        published: what `refresh` exits with and `watch` reports."""
        if self.locked:
            return "locked"
        if self.gate_errors:
            return "blocked"
        if not self.published and not self.unchanged:
            return "failed"
        return "unchanged" if self.unchanged else "published"


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
    """The one Definitions, for the sources.yaml given on the command line when there is one, as they are built for
    a run in one process (the command runs in its own process whatever ZHENGGAI_EXECUTOR says)."""
    from orchestration.resources import IN_PROCESS, executor_setting

    if sources is None and executor_setting() == IN_PROCESS:
        from orchestration.definitions import defs

        return defs
    from landing.sources import load_sources
    from orchestration.definitions import build_definitions

    return build_definitions(load_sources(sources) if sources is not None else None, executor=IN_PROCESS)


def run_refresh(
    source: Path,
    warehouse: Path,
    log_level: str = "CRITICAL",
    prune_missing: bool = False,
    max_drop_share: float | None = None,
    on_event=None,
    sources: Path | None = None,
    docs_in_background: bool = False,
) -> RefreshOutcome:
    """Execute the `refresh` job in-process on `source` (or the sources of `sources`), publishing `warehouse`.

    Dagster's own step log goes to stderr at `log_level`; the CLI prints its own summary. `on_event`, if
    given, receives every event of the run as it is stored (DagsterInstance.watch_event_logs).
    `docs_in_background`: the run ends without waiting for its gate's Data Docs (GateRunner), for a process that
    lives on after it (`watch`).
    """
    import uuid

    from expectations.gate import DEFAULT_MAX_DROP_SHARE
    from orchestration.in_memory import execute_releasing_outputs, releasing_mem_io_manager
    from landing.file_index import index_path
    from orchestration.resources import IN_PROCESS, NoticeSource, WarehouseTarget, gate_from_env

    target = WarehouseTarget(
        path=str(warehouse), max_drop_share=DEFAULT_MAX_DROP_SHARE if max_drop_share is None else max_drop_share
    )
    job = _definitions(sources).resolve_job_def("refresh")
    instance = _instance()
    run_id = str(uuid.uuid4())
    if on_event is not None:
        instance.watch_event_logs(run_id, None, on_event)
    try:
        with _quiet_dagster_logs():
            result = execute_releasing_outputs(
                job,
                run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
                instance=instance,
                resources={
                    "notice_source": NoticeSource(
                        directory=str(source), prune_missing=prune_missing, landing_index=str(index_path(warehouse))
                    ),
                    "warehouse": target,
                    # this run is in process whatever ZHENGGAI_EXECUTOR says, so its gate may run early
                    "gate": gate_from_env(IN_PROCESS, docs_in_background=docs_in_background),
                    # Outputs handed from step to step in memory: the default IO manager pickles every frame to
                    # disk and reads it back for each consumer (at 10,000 notices ~10 s and a copy of the
                    # corpus's bytes in memory while serialising). One run, one process; each output is dropped
                    # after its last reader (the corpus's bytes before the staging file and the gate).
                    "io_manager": releasing_mem_io_manager,
                },
                run_id=run_id,
            )
    finally:
        if on_event is not None:
            instance.end_watch_event_logs(run_id, on_event)
    outcome = RefreshOutcome(published=False, warehouse=warehouse, report_dir=target.report_dir, sources=_source_statuses(result))
    for evaluation in result.get_asset_check_evaluations():
        metadata = {key: value.value for key, value in evaluation.metadata.items()}
        for kind, sink in (("errors", outcome.gate_errors), ("warnings", outcome.gate_warnings)):
            text = metadata.get(kind, "none")
            if text != "none":
                sink.extend(text.splitlines())
    for materialization in result.asset_materializations_for_node("parsed_notices"):
        metadata = {key: value.value for key, value in materialization.metadata.items()}
        outcome.parsed, outcome.reused = metadata.get("parsed"), metadata.get("reused_from_cache")
    outcome.published = result.success and result.is_node_success("published_warehouse")
    outcome.unchanged = result.success and not result.asset_materializations_for_node("staged_notices")
    if not result.success:
        outcome.failure = _failure_message(result)
        outcome.locked = "RefreshInProgress" in (outcome.failure or "")
    return outcome


_spare_instance = None  # the next run's throwaway instance, made ahead by prepare_instance


def prepare_instance() -> None:
    """Make the next run's throwaway Dagster instance now, in a process that waits between runs (`watch`): setting
    one up (in-memory SQLite storages, their schemas stamped by alembic) took ~40-60 ms of every run."""
    global _spare_instance
    if _spare_instance is None and not os.environ.get("DAGSTER_HOME"):
        import dagster as dg

        _spare_instance = dg.DagsterInstance.ephemeral()


def _instance():
    """The persistent Dagster instance when DAGSTER_HOME is set (runs show in `make ui`), else a throwaway one (the
    one prepare_instance made, if any: each run has its own)."""
    global _spare_instance
    import dagster as dg

    if os.environ.get("DAGSTER_HOME"):
        return dg.DagsterInstance.get()
    spare, _spare_instance = _spare_instance, None
    return spare or dg.DagsterInstance.ephemeral()


def _failure_message(result) -> str:
    messages = []
    for event in result.all_events:
        if event.is_failure and event.event_specific_data is not None:
            error = getattr(event.event_specific_data, "error", None)
            while error is not None and error.cause is not None:  # the root cause says what went wrong
                error = error.cause
            if error is not None:
                messages.append(f"{event.step_key or 'run'}: {error.cls_name}: {error.message.strip()}")
    return "\n".join(dict.fromkeys(messages)) or "the refresh run failed"


def _not_skipped_gate_notice(record: logging.LogRecord) -> bool:
    """The execution plan warns that the gate "emitted no result" whenever the staging step is skipped,
    which is exactly what a refresh with nothing new does; the CLI says so itself. Other warnings pass."""
    return "emitted no result" not in record.getMessage()


class _quiet_dagster_logs:
    """Dagster logs every step at INFO to stderr; the CLI prints its own summary instead."""

    LOGGERS = ("dagster", "great_expectations")
    PLAN = logging.getLogger("dagster._core.execution.plan.active")

    def __enter__(self):
        self._saved = {}
        for name in self.LOGGERS:
            logger = logging.getLogger(name)
            self._saved[name] = logger.level
            logger.setLevel(logging.WARNING)
        self.PLAN.addFilter(_not_skipped_gate_notice)

    def __exit__(self, *exc):
        self.PLAN.removeFilter(_not_skipped_gate_notice)
        for name, level in self._saved.items():
            logging.getLogger(name).setLevel(level)


SOURCES_OPTION = typer.Option(
    None, "--sources", envvar="ZHENGGAI_SOURCES",
    help="sources.yaml: folders, notice pages and list pages to fetch (see sources.example.yaml). Default: the --source folder.",
)


PRUNE_OPTION = typer.Option(
    False, "--prune", help="Remove the facts of notices whose file is no longer in SOURCE (kept by default)."
)
MAX_DROP_OPTION = typer.Option(
    None, "--max-drop", min=0.0, max=1.0,
    help="Block publication if more than this share of the published notices or issues would disappear "
    "(default 0.5, or ZHENGGAI_MAX_DROP).",
)


@app.command()
def refresh(
    source: Path = typer.Option(None, "--source", help=f"Folder of notices (.txt, .html). Default: {DEFAULT_SOURCE}/"),
    warehouse: Path = typer.Option(Path(DEFAULT_WAREHOUSE), "--warehouse", help="DuckDB file to publish."),
    quiet: bool = typer.Option(False, "--quiet", help="Print only errors (for cron)."),
    verbose: bool = typer.Option(False, "--verbose", help="Also print Dagster's step log."),
    prune: bool = PRUNE_OPTION,
    max_drop: float = MAX_DROP_OPTION,
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
    problem = _unwritable(warehouse.parent)
    if problem:
        err_console.print(f"[red]refresh failed[/]: cannot write the warehouse folder: {problem}; "
                          "the published warehouse is unchanged.")
        raise typer.Exit(EXIT_RUN_FAILED)
    max_drop = _max_drop_or_setting(max_drop)
    from orchestration import early_gate

    # the gate's process, importing GX on the core this process's start-up leaves idle. Not warmed up (watch's is,
    # between changes): here the warm-up would still be running when a patch's gate is due, on the core the patch's
    # DuckDB threads use. Measured at 10,000 notices, one edited, 8 runs each in turns: the verdict ~1.1 s either way,
    # the staging step 0.85-0.92 s instead of 1.07-1.16 s, the refresh 4.37-4.97 s (median 4.55) instead of 4.58-4.96
    # s (median 4.8). A first build's parse workers need that core anyway.
    early_gate.prestart()
    try:
        _freeze_imports()
        outcome = _refresh_with_progress(
            source, warehouse, "INFO" if verbose else "CRITICAL", quiet,
            prune_missing=prune, max_drop_share=max_drop, sources=sources,
        )
    finally:
        early_gate.discard()  # the run did not start, or ended before deciding
    _report_failed_sources(outcome.sources)
    if outcome.state == "locked":
        err_console.print(f"[yellow]another refresh is running on {warehouse}; nothing was changed.[/]")
        raise typer.Exit(EXIT_LOCKED)
    if outcome.state == "blocked":
        err_console.print(f"[red]gate blocked publication[/]: {len(outcome.gate_errors)} failed expectation(s); "
                          f"the published warehouse {warehouse} is unchanged.")
        for line in outcome.gate_errors:
            err_console.print(f"  [red]✗[/] {line}")
        err_console.print(f"validation report: {outcome.report_dir / 'validation.json'}")
        raise typer.Exit(EXIT_GATE_BLOCKED)
    if outcome.state == "failed":
        err_console.print(f"[red]refresh failed[/]; the published warehouse is unchanged.\n{outcome.failure}")
        raise typer.Exit(EXIT_RUN_FAILED)
    if not quiet:
        from warehouse.summary import missing_sources, notice_summary, quarantine_summary

        if sources is not None:
            _print_sources(outcome.sources)

        _print_frame("Notices", notice_summary(warehouse))
        quarantined = quarantine_summary(warehouse)
        if quarantined.height:
            _print_frame("Quarantined (not loaded)", quarantined)
        missing = missing_sources(warehouse)
        if missing:
            console.print(f"[yellow]{len(missing)} notice(s) whose file is gone from {source} are kept[/] "
                          f"(refresh with --prune to remove them): {', '.join(missing)}")
        for line in outcome.gate_warnings:
            console.print(f"  [yellow]warning[/] {line}")
        if outcome.unchanged:
            from warehouse.build import published_build

            build = published_build(warehouse)
            since = f" as the build of {build['built_at']:%Y-%m-%d %H:%M} UTC ({build['build_digest']})" if build else ""
            console.print(f"[green]nothing new[/]: same files and code{since}; nothing parsed, gated or published")
        else:
            console.print(f"parsed {outcome.parsed} notice(s), {outcome.reused} unchanged reused from the parse cache")
            console.print(f"gate: [green]passed[/] ({len(outcome.gate_warnings)} warning(s))")
        console.print(f"warehouse: {warehouse.resolve()}")
        console.print(f"validation report: {(outcome.report_dir / 'validation.json').resolve()}  "
                      f"Data Docs: {_docs_index(outcome.report_dir)}")


@app.command()
def watch(
    source: Path = typer.Option(Path(DEFAULT_SOURCE), "--source", help="Folder of notices to watch (.txt, .html)."),
    warehouse: Path = typer.Option(Path(DEFAULT_WAREHOUSE), "--warehouse", help="DuckDB file to publish."),
    interval: float = typer.Option(2.0, "--interval", min=0.05, help="Seconds between two looks at the folder."),
    prune: bool = PRUNE_OPTION,
    max_drop: float = MAX_DROP_OPTION,
    refreshes: int = typer.Option(None, "--refreshes", min=1, help="Stop after this many refreshes (default: run until Ctrl-C)."),
    jsonl: bool = typer.Option(False, "--jsonl", help="One JSON object per refresh on stdout instead of a line of text."),
) -> None:
    """Refresh the warehouse now and then whenever a notice in SOURCE is added, changed or removed, from one
    long-lived process (orchestration/watch.py): the same job, gate and publication as `refresh`, without its
    start-up on every change."""
    from orchestration.watch import watch as watch_folder

    if not source.is_dir():
        err_console.print(f"[red]error:[/] notice folder not found: {source}")
        raise typer.Exit(EXIT_RUN_FAILED)
    problem = _unwritable(warehouse.parent)
    if problem:
        err_console.print(f"[red]error:[/] cannot write the warehouse folder: {problem}")
        raise typer.Exit(EXIT_RUN_FAILED)
    max_drop = _max_drop_or_setting(max_drop)
    from orchestration import early_gate

    def refreshed(watched) -> None:
        _print_watched(watched.outcome, watched.seconds, jsonl)
        prepare_instance()  # while the watcher waits for the next change

    early_gate.prestart(warm_up=True)
    try:
        _freeze_imports()
        if not jsonl:
            console.print(f"watching {source.resolve()} every {interval:g} s, publishing {warehouse.resolve()} (Ctrl-C stops)")
        watch_folder(
            source, warehouse,
            # the Data Docs of a refresh are written while the watcher waits for the next change
            run=lambda: run_refresh(source, warehouse, prune_missing=prune, max_drop_share=max_drop, docs_in_background=True),
            on_refresh=refreshed,
            interval_s=interval, refreshes=refreshes,
        )
    except KeyboardInterrupt:
        pass
    finally:
        early_gate.discard()


def _print_watched(outcome: RefreshOutcome, seconds: float, jsonl: bool) -> None:
    from datetime import datetime

    state = outcome.state
    at = datetime.now().astimezone()
    if jsonl:
        record = {"at": at.isoformat(timespec="seconds"), "state": state, "seconds": round(seconds, 3),
                  "parsed": outcome.parsed, "reused": outcome.reused, "warnings": len(outcome.gate_warnings),
                  "errors": outcome.gate_errors, "failure": outcome.failure}
        print(json.dumps(record, ensure_ascii=False), flush=True)
        return
    detail = {
        "published": f"[green]published[/]: parsed {outcome.parsed}, reused {outcome.reused}; "
                     f"gate passed ({len(outcome.gate_warnings)} warning(s))",
        "unchanged": "nothing new",
        "blocked": f"[red]gate blocked publication[/]: {len(outcome.gate_errors)} failed expectation(s), see "
                   f"{outcome.report_dir / 'validation.json'}",
        "locked": "[yellow]another refresh is running[/]; trying again at the next look",
        "failed": f"[red]refresh failed[/]; the published warehouse is unchanged: {outcome.failure}",
    }[state]
    console.print(f"{at:%H:%M:%S} {detail} ({seconds:.2f} s)")


def _max_drop_or_setting(max_drop: float | None) -> float | None:
    """--max-drop, else ZHENGGAI_MAX_DROP, else None (the gate's default)."""
    if max_drop is None and os.environ.get("ZHENGGAI_MAX_DROP"):
        return float(os.environ["ZHENGGAI_MAX_DROP"])
    return max_drop


def _freeze_imports() -> None:
    """Import what a refresh runs on, then move the objects made so far out of the cyclic garbage collector's
    reach (gc.freeze): they live as long as the process. Dagster and the libraries make ~150,000 tracked objects,
    which every full collection during the run walks and the interpreter's exit walks several times (measured,
    patched refresh at 10,000 notices: collections ~0.3 -> 0.05 s, exit after the run ~0.8 -> ~0.3 s)."""
    import orchestration.definitions  # noqa: F401 - the run imports it (and Dagster, Polars, DuckDB) anyway

    gc.freeze()


def _unwritable(folder: Path) -> str | None:
    """Why a refresh could not write in `folder` (created if missing), or None."""
    if folder.exists() and not folder.is_dir():
        return f"Not a directory: {folder}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        return f"{error.strerror or error}: {folder}"
    if not folder.is_dir():
        return f"Not a directory: {folder}"
    if not os.access(folder, os.W_OK):
        return f"Permission denied: {folder}"
    return None


def _refresh_with_progress(source: Path, warehouse: Path, log_level: str, quiet: bool, **options) -> RefreshOutcome:
    """run_refresh, with a live progress display on stderr when it is a terminal and --quiet is not given."""
    from orchestration.progress import RefreshProgress, wants_progress

    if not wants_progress(err_console, quiet) or log_level != "CRITICAL":  # --verbose prints the step log instead
        return run_refresh(source, warehouse, log_level=log_level, **options)
    steps = len(_definitions(options.get("sources")).resolve_job_def("refresh").graph.nodes)
    with RefreshProgress(err_console, steps=steps) as progress:
        return run_refresh(source, warehouse, log_level=log_level, on_event=progress.handle, **options)


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
    instance = _instance()
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
        report = json.loads((report_dir / "validation.json").read_text())
    except (OSError, ValueError):
        return str(report_dir.resolve())
    if report.get("data_docs_error"):  # built after the verdict (expectations.gate.run_gate's on_verdict), and failed
        return f"[yellow]not built[/] ({report['data_docs_error']})"
    return report.get("data_docs") or str(report_dir.resolve())


def _print_frame(title: str, frame) -> None:
    table = Table(title=title, show_lines=False)
    for index, name in enumerate(frame.columns):
        table.add_column(name, overflow="fold", no_wrap=index == 0)
    for row in frame.iter_rows():
        table.add_row(*("" if value is None else str(value) for value in row))
    console.print(table)


@app.command()
def sql(
    query: str | None = typer.Argument(None, help="SQL to run (read-only). Omit it for an interactive prompt."),
    warehouse: Path = typer.Option(Path(DEFAULT_WAREHOUSE), "--warehouse"),
    output_format: str = typer.Option("table", "--format", help="table, csv, json or parquet."),
    output: Path | None = typer.Option(None, "--output", help="Write the result to this file (csv, json, parquet)."),
    query_file: Path | None = typer.Option(None, "--file", "-f", exists=True, dir_okay=False,
                                           help="Run the query in this .sql file."),
) -> None:
    """Run a read-only query against the published warehouse, or open a prompt when no query is given."""
    import duckdb

    from orchestration.sql_prompt import FORMATS, OutputError, interactive, write_result
    from warehouse.summary import ReadOnlyQueryError, run_query

    if output_format not in FORMATS:
        err_console.print(f"[red]error:[/] unknown format {output_format!r}: use one of {', '.join(FORMATS)}")
        raise typer.Exit(EXIT_RUN_FAILED)
    if not warehouse.exists():
        err_console.print(f"[red]error:[/] no warehouse at {warehouse}: run `zhenggai refresh` first")
        raise typer.Exit(EXIT_RUN_FAILED)
    if query_file is not None:
        if query is not None:
            err_console.print("[red]error:[/] give a query or --file, not both")
            raise typer.Exit(EXIT_RUN_FAILED)
        query = query_file.read_text(encoding="utf-8")
    show_table = lambda frame: _print_frame("", frame)  # noqa: E731
    if query is None:
        if output is not None or output_format == "parquet":
            err_console.print("[red]error:[/] the prompt prints each result: --output and parquet need a query")
            raise typer.Exit(EXIT_RUN_FAILED)
        interactive(warehouse, output_format, show_table, lambda message: err_console.print(f"[red]error:[/] {message}"))
        return
    try:
        frame = run_query(warehouse, query)
    except ReadOnlyQueryError as error:
        err_console.print(f"[red]refused:[/] {error}")
        raise typer.Exit(EXIT_RUN_FAILED) from None
    except duckdb.Error as error:
        err_console.print(f"[red]query failed:[/] {error}")
        raise typer.Exit(1) from None
    try:
        write_result(frame, output_format, output, show_table)
    except OutputError as error:
        err_console.print(f"[red]error:[/] {error}")
        raise typer.Exit(EXIT_RUN_FAILED) from None


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
    from warehouse.summary import ReadOnlyQueryError

    try:
        exported = export_parquet(warehouse, directory)
    except ReadOnlyQueryError as error:
        err_console.print(f"[red]error:[/] {error}")
        raise typer.Exit(EXIT_RUN_FAILED) from None
    for table, rows in exported.items():
        console.print(f"{table}: {rows} rows → {directory / table}")


@app.command()
def report(
    warehouse: Path = typer.Option(Path(DEFAULT_WAREHOUSE), "--warehouse"),
    output: Path | None = typer.Option(None, "--output", help="HTML file to write (default: report.html beside the warehouse)."),
) -> None:
    """Write a self-contained HTML report: per notice, completion by status, topics, figures, claim gaps."""
    from warehouse.report import write_report
    from warehouse.summary import ReadOnlyQueryError

    target = output or warehouse.with_name("report.html")
    try:
        written = write_report(warehouse, target)
    except ReadOnlyQueryError as error:
        err_console.print(f"[red]error:[/] {error}")
        raise typer.Exit(EXIT_RUN_FAILED) from None
    console.print(f"report: {written.resolve()}")


def main() -> None:
    """The `zhenggai` command: `app`, then the process ends without the interpreter's own teardown.

    Once the command has returned, its non-daemon threads joined and the exit handlers run (multiprocessing ends
    its child processes, logging flushes), nothing is left to do but free every object of Dagster, Polars, DuckDB
    and the rest one by one: ~0.11 s of every `zhenggai refresh` (measured after a one-notice refresh at 10,000
    notices), for memory the system takes back anyway. Files are closed by then: every connection and file the
    commands open is closed in a `with` or `finally`."""
    try:
        app()
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    if code is not None and not isinstance(code, int):  # sys.exit("message"), as the interpreter shows it
        print(code, file=sys.stderr)
        code = 1
    main_thread = threading.main_thread()
    for thread in threading.enumerate():
        if thread is not main_thread and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()  # what the interpreter's own exit calls first
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except OSError:  # a reader gone (`zhenggai sql … | head -1`): what it did not read is not wanted
            pass
    os._exit(code or 0)


if __name__ == "__main__":
    main()
