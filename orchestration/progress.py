"""The progress display of `zhenggai refresh`, driven by the Dagster events of the run.

It shows what the run has really done, no estimate: the job's steps as they finish, the notices parsed
(parsing is one vectorised batch, so the count arrives when the batch is done) and the tables loaded into
the staging file, both read from the assets' output metadata. Nothing here touches the transforms.
"""

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

# What each step of the refresh job is doing, for the display (unknown steps show their key).
STEP_LABELS = {
    "raw_notices": "reading notice files",
    "staged_notices": "selecting the notices to load",
    "parsed_notices": "decoding, normalising and parsing notices",
    "warehouse_staging": "loading tables into the staging file",
    "warehouse_gate": "validating (Great Expectations gate)",
    "published_warehouse": "publishing the warehouse",
}


def wants_progress(console: Console, quiet: bool) -> bool:
    """A live display only on a terminal and never with --quiet (cron, CI logs)."""
    return console.is_terminal and not quiet


class RefreshProgress:
    """A rich Progress fed by `handle(event_log_entry, cursor)`, the callback of DagsterInstance.watch_event_logs."""

    def __init__(self, console: Console, steps: int):
        self.progress = Progress(
            SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), console=console, transient=False,
        )
        self.steps = self.progress.add_task("starting", total=steps)
        self.notices = self.progress.add_task("notices parsed", total=None, start=False)
        self.tables = self.progress.add_task("tables loaded", total=None, start=False)
        self.finished_steps: set[str] = set()
        self.notices_parsed: int | None = None
        self.tables_loaded: int | None = None

    def __enter__(self) -> "RefreshProgress":
        self.progress.start()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.stop()

    def handle(self, entry, _cursor=None) -> None:
        event = entry.dagster_event
        if event is None:
            return
        kind, step = event.event_type_value, entry.step_key
        if kind == "STEP_START" and step:
            self.progress.update(self.steps, description=STEP_LABELS.get(step, step))
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE", "STEP_SKIPPED") and step and step not in self.finished_steps:
            self.finished_steps.add(step)
            self.progress.advance(self.steps)
            if kind == "STEP_FAILURE":
                self.progress.update(self.steps, description=f"[red]failed: {STEP_LABELS.get(step, step)}")
        elif kind == "ASSET_MATERIALIZATION":
            materialization = event.step_materialization_data.materialization
            self._materialized(materialization.asset_key.to_user_string(),
                               {key: value.value for key, value in materialization.metadata.items()})

    def _materialized(self, asset: str, metadata: dict) -> None:
        if asset == "staged_notices" and "notices" in metadata:
            self.progress.start_task(self.notices)
            self.progress.update(self.notices, total=metadata["notices"], completed=0)
        elif asset == "parsed_notices" and "notices_parsed" in metadata:
            self.notices_parsed = metadata["notices_parsed"]
            self.progress.start_task(self.notices)
            # the notices to load are known once staged, in the parse: the selection counted contents, some of
            # which may turn out not to be notices
            total = self.notices_parsed + metadata.get("parse_failures", 0)
            self.progress.update(self.notices, completed=self.notices_parsed, total=total)
        elif asset == "warehouse_staging":
            # rows_<table> of every table of the staging file; the marts (mart_*) are built there, not loaded
            self.tables_loaded = sum(1 for key in metadata if key.startswith("rows_") and not key.startswith("rows_mart_"))
            self.progress.start_task(self.tables)
            self.progress.update(self.tables, total=self.tables_loaded, completed=self.tables_loaded)
        elif asset == "published_warehouse":
            self.progress.update(self.steps, description="[green]published")
