"""`make scale-out-demo`: the asset graph with a process per step, as Dagster's k8s and Docker executors run it.

docs/scale-out.md moves the same `refresh` job to `k8s_job_executor` / `docker_executor`: each step in a pod or
container of its own, its outputs handed to the next steps through an IO manager on shared storage. This runs the
step that matters in between (bench/docker_demo.py runs it with the Docker executor): the job of the one
Definitions, by `dagster job execute`, with ZHENGGAI_EXECUTOR=multiprocess (Dagster's multiprocess executor: a
process per step, outputs pickled by Dagster's default IO manager under DAGSTER_HOME and read back by the steps
that use them). It then builds the same notices with `zhenggai refresh` (one process, outputs in memory) and
compares the two warehouses table by table (warehouse/compare.py; times compared by their order). Twice: a first
build, then a refresh after one notice changed, which patches a copy of the published file and gates it in delta
mode. Both builds read a copy of the notices, with this process's ZHENGGAI_ settings left out.

It shows that no step relies on another's memory: what a step needs travels as its inputs (frames, paths to the
parse cache and the staging file) or is on disk. It fails (exit 1) when a run fails, when a step that hands work on
did not run or two steps shared a process, when the gate's mode differs, or when a table differs.

    python -m bench.scale_out_demo [--source DIR | --generated N] [--workdir DIR] [--parse-step-batches N]
        (default: seeds/, and a temporary folder removed at the end; a --workdir is kept for inspection;
        --generated: N notices of the bench's generator instead of a folder; --parse-step-batches:
        ZHENGGAI_PARSE_STEP_BATCHES of the run with a process per step, the parse's batches of 250 notices per
        step, orchestration/parse_fanout.py)

`make scale-out-demo` (and CI) runs it on 300 generated notices with a step per batch: two batches, so two parse
steps, which the multiprocess executor runs side by side.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bench.generate import ROOT, generate
from bench.run import change_a_notice_in
from expectations.gate import JSON_NAME
from orchestration import parse_fanout
from orchestration.resources import DOCKER, DOCKER_IMAGE_SETTING, EXECUTOR_SETTING, MULTIPROCESS, WarehouseTarget
from warehouse.compare import compare_warehouses

console = Console(width=120)


def _parse_step(op) -> str:
    return f"{parse_fanout.parsed_notices.node_def.name}.{op.name}"


PARSE_CHUNK_STEP = _parse_step(parse_fanout.parse_chunk)
# The steps that hand the notices, the parse (fanned out: orchestration/parse_fanout.py), the staging file and the
# verdict from process to process.
HANDED_ON = ("staged_notices", _parse_step(parse_fanout.plan_parse), f"{PARSE_CHUNK_STEP}[{parse_fanout.chunk_key(0)}]",
             _parse_step(parse_fanout.finish_parse), "warehouse_staging", "warehouse_gate", "published_warehouse")


def environment(**settings: str) -> dict[str, str]:
    """This process's environment without its ZHENGGAI_ settings and DAGSTER_HOME, plus `settings`: both builds
    read the same configuration."""
    kept = {key: value for key, value in os.environ.items() if not key.startswith("ZHENGGAI_") and key != "DAGSTER_HOME"}
    return kept | settings


def build_in_process(source: Path, warehouse: Path) -> float:
    """`zhenggai refresh` of `source` into `warehouse`; its wall time."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "orchestration.cli", "refresh", "--source", str(source),
                    "--warehouse", str(warehouse), "--quiet"], check=True, cwd=ROOT, env=environment())
    return time.perf_counter() - started


def build_step_per_process(source: Path, warehouse: Path, dagster_home: Path, step_batches: int | None = None,
                           executor: str = MULTIPROCESS, image: str | None = None, timeout_s: float | None = None) -> float:
    """`dagster job execute` of the refresh job with a process per step (and `step_batches` batches per parse step),
    by `executor` (`multiprocess`, or `docker`: a container of `image` per step), stopped after `timeout_s`; its wall
    time."""
    settings = {"ZHENGGAI_SOURCE": str(source), "ZHENGGAI_WAREHOUSE": str(warehouse),
                **({parse_fanout.STEP_BATCHES_SETTING: str(step_batches)} if step_batches is not None else {})}
    return execute_job("refresh", dagster_home, executor, image, timeout_s, **settings)


def execute_job(job: str, dagster_home: Path, executor: str = MULTIPROCESS, image: str | None = None,
                timeout_s: float | None = None, **settings: str) -> float:
    """`dagster job execute` of `job` of the definitions, with DAGSTER_HOME `dagster_home`, the step executor `executor`
    (and `image` for `docker`) and `settings` (ZHENGGAI_ settings), stopped after `timeout_s`; its wall time."""
    dagster_home.mkdir(parents=True, exist_ok=True)
    (dagster_home / "dagster.yaml").touch()  # Dagster's defaults, said without its warning
    settings = environment(**{EXECUTOR_SETTING: executor, "DAGSTER_HOME": str(dagster_home)}, **settings,
                           **({DOCKER_IMAGE_SETTING: image} if image is not None else {}))
    command = [str(Path(sys.executable).with_name("dagster")), "job", "execute",
               "-m", "orchestration.definitions", "-j", job]
    started = time.perf_counter()
    try:
        done = subprocess.run(command, env=settings, cwd=ROOT, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired as timeout:
        raise SystemExit(f"the {job} job with {EXECUTOR_SETTING}={executor} took more than {timeout_s} s") from timeout
    if done.returncode != 0:
        console.print(done.stdout[-4000:], done.stderr[-4000:], markup=False)
        raise SystemExit(f"the {job} job with {EXECUTOR_SETTING}={executor} failed (exit code {done.returncode})")
    return time.perf_counter() - started


CONTAINER_ID = "Docker container id"  # dagster-docker's metadata on the event of a step's container starting


def step_processes(dagster_home: Path) -> tuple[str, dict[str, str], dict[str, tuple[float, float]]]:
    """(status of the last run in `dagster_home`, where each of its steps ran: `pid N`, or `container ID` under the
    Docker executor (whose steps are each process 1 of its container), when each started and ended)."""
    from dagster import DagsterInstance

    with DagsterInstance.from_config(str(dagster_home)) as instance:
        run = instance.get_runs(limit=1)[0]
        where: dict[str, str] = {}
        times: dict[str, list[float]] = {}
        for record in instance.all_logs(run.run_id):
            event = record.dagster_event
            if event is not None and event.event_type_value == "STEP_WORKER_STARTING":
                container = event.engine_event_data.metadata.get(CONTAINER_ID)
                if container is not None:
                    where[record.step_key] = f"container {container.value[:12]}"
            if event is None or event.event_type_value not in ("STEP_START", "STEP_SUCCESS", "STEP_FAILURE"):
                continue
            if event.event_type_value == "STEP_START":
                where.setdefault(record.step_key, f"pid {event.pid}")
            times.setdefault(record.step_key, []).append(record.timestamp)
        return run.status.value, where, {step: (min(ts), max(ts)) for step, ts in times.items()}


def in_containers(where: dict[str, str]) -> bool:
    """Whether every step of `where` (step_processes) ran in a container."""
    return bool(where) and all(place.startswith("container ") for place in where.values())


def most_at_once(spans: list[tuple[float, float]]) -> int:
    """The largest number of (start, end) spans that overlap at one time."""
    edges = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans])  # an end before a start
    running = most = 0
    for _, change in edges:
        running += change
        most = max(most, running)
    return most


def gate_mode(warehouse: Path) -> str:
    """`full` or `delta` (a patched copy of the published file was gated): the gate's report beside `warehouse`."""
    report = WarehouseTarget(path=str(warehouse)).report_dir / JSON_NAME
    return json.loads(report.read_text(encoding="utf-8"))["mode"]


def argument_parser(description: str) -> argparse.ArgumentParser:
    """The demonstration's command line (this module's docstring), shared with bench/docker_demo.py."""
    parser = argparse.ArgumentParser(description=description)
    notices = parser.add_mutually_exclusive_group()
    notices.add_argument("--source", type=Path, default=ROOT / "seeds")
    notices.add_argument("--generated", type=int, default=None)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--parse-step-batches", type=int, default=None)
    return parser


def main(argv: list[str] | None = None) -> int:
    return run_in_workdir(argument_parser(__doc__.splitlines()[0]).parse_args(argv))


def run_in_workdir(options: argparse.Namespace, **more) -> int:
    """`demonstrate(source, workdir, step_batches, generated, **more)` in the --workdir, else in a temporary folder."""
    if options.workdir is not None:
        return demonstrate(options.source, options.workdir.resolve(), options.parse_step_batches, options.generated, **more)
    with tempfile.TemporaryDirectory(prefix="zhenggai-scale-out-") as workdir:
        return demonstrate(options.source, Path(workdir).resolve(), options.parse_step_batches, options.generated, **more)


def per_step_warehouse(workdir: Path) -> Path:
    """The warehouse that the demonstration in `workdir` builds with a process (or container) per step."""
    return workdir / "step_per_process" / "warehouse.duckdb"


def demonstrate(source: Path, workdir: Path, step_batches: int | None = None, generated: int | None = None,
                executor: str = MULTIPROCESS, image: str | None = None, timeout_s: float | None = None) -> int:
    """A first build, then a refresh after one notice changed (the patched path), both ways; 0 when they agree.
    `generated`: that many notices of the bench's generator instead of `source`; `executor`, `image`, `timeout_s`:
    the run with a step per process (build_step_per_process)."""
    for leftover in ("landing", "in_process", "step_per_process", "dagster_home"):
        shutil.rmtree(workdir / leftover, ignore_errors=True)
    landing = workdir / "landing"
    if generated is not None:
        source = landing
        generate(generated, landing)
    else:
        shutil.copytree(source, landing)
    in_process = workdir / "in_process" / "warehouse.duckdb"
    per_step = per_step_warehouse(workdir)
    dagster_home = workdir / "dagster_home"
    files = sum(1 for p in landing.iterdir() if p.is_file())
    origin = "generated by bench/generate.py" if generated is not None else f"a copy of {source.resolve()}"
    console.print(f"notices: {origin} ({files} files) in {workdir}")
    problems = []
    for round_ in ("first build", "one notice changed"):
        if round_ == "one notice changed":
            change_a_notice_in(landing)
        per_step_s = build_step_per_process(landing, per_step, dagster_home, step_batches, executor, image, timeout_s)
        in_process_s = build_in_process(landing, in_process)
        problems += [f"{round_}: {problem}" for problem in report(round_, dagster_home, in_process, per_step,
                                                                     per_step_s, in_process_s, executor)]
    if problems:
        console.print(f"[red]scale-out demonstration failed[/]: {'; '.join(problems)}")
        return 1
    console.print(f"[green]same warehouse[/] after a first build and after a patched refresh, with a "
                  f"{'container' if executor == DOCKER else 'process'} per step and with one process")
    return 0


def report(round_: str, dagster_home: Path, in_process: Path, per_step: Path, per_step_s: float,
           in_process_s: float, executor: str = MULTIPROCESS) -> list[str]:
    """Print one round's steps and tables; return what went wrong."""
    status, where, spans = step_processes(dagster_home)
    modes = gate_mode(per_step), gate_mode(in_process)
    console.print(f"[bold]{round_}[/]: refresh job with {EXECUTOR_SETTING}={executor}: run {status} in "
                  f"{per_step_s:.1f} s, gate {modes[0]} (zhenggai refresh, one process: {in_process_s:.1f} s, gate "
                  f"{modes[1]})")
    steps = Table()
    steps.add_column("step")
    steps.add_column("ran in", justify="right")
    for step, place in where.items():
        steps.add_row(escape(step), place)  # a mapped step's key ends in [its mapping key], not markup
    console.print(steps)
    chunks = [span for step, span in spans.items() if step.startswith(PARSE_CHUNK_STEP)]
    console.print(f"parse: {len(chunks)} step(s) of {PARSE_CHUNK_STEP}, at most {most_at_once(chunks)} at once")
    storage = dagster_home / "storage"
    stored = sorted("/".join(p.relative_to(storage).parts) for p in storage.rglob("*")
                    if p.is_file() and "compute_logs" not in p.parts)
    console.print(f"outputs handed between processes by the IO manager ({storage}): {escape(', '.join(stored))}")

    comparisons = compare_warehouses(in_process, per_step, times_by_order=True)
    console.print("the warehouse built with a process per step against zhenggai refresh's (times compared by their order):")
    tables = Table()
    for column in ("table", "rows (one process)", "rows (process per step)", "same rows"):
        tables.add_column(column, justify="left" if column == "table" else "right")
    for c in comparisons:
        tables.add_row(c.table, *(str(n) for n in c.rows), "yes" if c.same else "[red]NO[/]")
    console.print(tables)

    problems = []
    if status != "SUCCESS":
        problems.append(f"the run ended {status}")
    missing = [step for step in HANDED_ON if step not in where]
    if missing:
        problems.append(f"steps that did not run: {', '.join(missing)}")
    if len(set(where.values())) != len(where):
        problems.append("some steps shared a process")
    if executor == DOCKER and not in_containers(where):
        problems.append("some steps did not run in a container")
    if modes[0] != modes[1]:
        problems.append(f"the gate ran in {modes[0]} mode with a process per step, {modes[1]} in one process")
    differing = [c.table for c in comparisons if not c.same]
    if differing:
        problems.append(f"tables differ: {', '.join(differing)}")
    return problems


if __name__ == "__main__":
    sys.exit(main())
