"""Dagster resources: where notices land, where the warehouse is published, where the gate runs; and the executor.

All are configured from the environment (ZHENGGAI_SOURCE, ZHENGGAI_WAREHOUSE, ZHENGGAI_GATE_PROCESS,
ZHENGGAI_EXECUTOR, ZHENGGAI_LAKE_*) so that `dagster dev`, the schedule, the sensor and `zhenggai refresh` all run the same
definitions on the same folders.
"""

import hashlib
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl
from pydantic import PrivateAttr

from expectations.gate import DEFAULT_MAX_DROP_SHARE
from landing.file_bytes import list_folder
from landing.file_index import index_path
from orchestration import early_gate
from orchestration.defaults import DEFAULT_LAKE_PYTHON, DEFAULT_SOURCE, DEFAULT_WAREHOUSE
from warehouse.lake import OBJECT_STORAGE_VARIABLES, lake_folders
from warehouse.store import refresh_lock

NOTICE_SUFFIXES = (".txt", ".html", ".htm")


class NoticeSource(dg.ConfigurableResource):
    """The landing folder of raw notices (.txt and .html files)."""

    directory: str = DEFAULT_SOURCE
    # A notice whose file disappeared keeps its facts unless this is set (CLI --prune, ZHENGGAI_PRUNE_MISSING=1).
    prune_missing: bool = False
    # The landing index (landing/file_index.py) beside the warehouse: hashes of files whose stat is unchanged are
    # reused. A path here, not the warehouse resource, which would take the refresh lock in a fetch-only run.
    landing_index: str | None = None

    def names(self) -> list[str]:
        """The notice files' names, sorted."""
        root = Path(self.directory)
        if not root.is_dir():
            raise FileNotFoundError(f"notice source folder does not exist: {root.resolve()}")
        with os.scandir(root) as entries:
            return sorted(e.name for e in entries if e.name.lower().endswith(NOTICE_SUFFIXES) and not e.name.startswith("."))

    def fingerprint(self) -> str:
        """Changes whenever a notice file is added, removed or modified (cheap: names, sizes, mtimes; stat'ed by
        name, as the listing does, without a Path per file at every look of `watch` and the sensor)."""
        digest = hashlib.sha256()
        folder = os.fspath(Path(self.directory))
        for name in self.names():
            try:
                stat = os.stat(os.path.join(folder, name))
                digest.update(f"{name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
            except OSError as error:
                digest.update(f"{name}\0{error}\n".encode())
        return digest.hexdigest()

    def read_all(self, index: Path | None = None) -> pl.DataFrame:
        """Every notice file's SHA-256, and its bytes or where to read them (landing.file_bytes.list_folder; with
        `index`, the landing index beside the warehouse)."""
        return list_folder(self.names(), Path(self.directory), index)


class WarehouseTarget(dg.ConfigurableResource):
    """The published DuckDB file. Under the default executor a run holds its refresh lock from start to end; with a
    process per step (ZHENGGAI_EXECUTOR=multiprocess) each step that uses this resource holds it while it runs
    (executor_from_env); the parse's chunk steps do not use it (orchestration/parse_fanout.py)."""

    path: str = DEFAULT_WAREHOUSE
    # The gate blocks a load that would drop more than this share of the published notices or issues.
    max_drop_share: float = DEFAULT_MAX_DROP_SHARE

    @property
    def file(self) -> Path:
        return Path(self.path)

    @property
    def report_dir(self) -> Path:
        """Validation results (JSON and GX Data Docs) live beside the warehouse file."""
        return self.file.parent / "validation"

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator["WarehouseTarget"]:
        with refresh_lock(self.file):
            yield self


class GateRunner(dg.ConfigurableResource):
    """Where the gate runs: in the run's process, or in a process of its own started before the gate is due, which
    imports Great Expectations (~1.5-4 s of CPU) while the run reads, parses and stages (expectations/gate_process.py).

    `early`: True starts that process with the run; False never; None (the default) when `start_early` is called,
    which staged_notices does whenever the run will load something (not when nothing is new). `zhenggai refresh`
    starts that process before the run, on the core its own start-up leaves idle (orchestration/early_gate.py):
    `start_early` adopts it, `decline_early` ends it. ZHENGGAI_GATE_PROCESS=1 / 0 forces it on or off.

    For a full build too: GX's import then leaves the gate's critical path, and the gate's Python (pandas, GX) no
    longer shares a GIL with the run. At 10,000 notices, 3 interleaved pairs of full refreshes: 61.0 / 62.2 / 62.9 s
    with the gate in the run's process, 58.9 / 60.9 / 61.1 s in its own; the peak (the process tree's) rose from
    1.41-1.44 GB to 1.56-1.67 GB, as the gate's frames no longer reuse memory the run freed; 1.91-1.97 GiB in the
    bench, whose freshly written files keep their bytes in the run's process (docs/scale-out.md)."""

    early: bool | None = None
    # The run ends without waiting for the Data Docs of its early gate (early_gate.finish_in_background): for a
    # long-lived process (`zhenggai watch`) that goes on after the run; a command that prints where they are waits.
    docs_in_background: bool = False
    _early_gate: Any = PrivateAttr(default=None)

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator["GateRunner"]:
        if self.early:
            self.start_early()
        try:
            yield self
        finally:
            early_gate.discard()
            if self._early_gate is not None:
                gate, self._early_gate = self._early_gate, None
                if self.docs_in_background:
                    early_gate.finish_in_background(gate)
                else:
                    early_gate.finish(gate, context.log.error)

    def start_early(self) -> None:
        """Start the gate's process now (unless it runs already or early gates are switched off), or adopt the one
        the command line started before the run (orchestration/early_gate.py)."""
        if self.early is False or self._early_gate is not None:
            early_gate.discard()
            return
        self._early_gate = early_gate.take() or early_gate.EarlyGate()

    def decline_early(self) -> None:
        """The load will not patch: end the process the command line started for the gate, if any (the gate runs
        in the run's process, or not at all)."""
        early_gate.discard()

    @property
    def runs_early(self) -> bool:
        """Whether the gate will run in its own early process."""
        return self._early_gate is not None

    def run_gate(self, *args, **kwargs):
        """expectations.gate.run_gate(*args, **kwargs), in the early process when there is one."""
        early_gate.wait_for_docs()  # an earlier run's, still being written where this gate writes
        if self._early_gate is not None:
            return self._early_gate.run_gate(*args, **kwargs)
        from expectations.gate import run_gate

        return run_gate(*args, **kwargs)


def gate_from_env(executor: str | None = None, docs_in_background: bool = False) -> GateRunner:
    """The gate's resource for runs with `executor` (default: ZHENGGAI_EXECUTOR's). The early gate's process
    belongs to the step process that starts it (staged_notices): under an executor with a process per step, the
    gate runs in another one, so it is not started there unless ZHENGGAI_GATE_PROCESS forces it (then every step
    process that has the gate resource starts one, and only the gate's step uses its own)."""
    early = early_gate.gate_process_setting()
    if early is None and (executor or executor_setting()) != IN_PROCESS:
        early = False
    return GateRunner(early=early, docs_in_background=docs_in_background)


EXECUTOR_SETTING = "ZHENGGAI_EXECUTOR"
IN_PROCESS, MULTIPROCESS, DOCKER = "in_process", "multiprocess", "docker"
EXECUTORS = (IN_PROCESS, MULTIPROCESS, DOCKER)
# ZHENGGAI_EXECUTOR=docker: the image every step runs in (the repository's Dockerfile), and more folders the containers
# share with this host, beside those derived from the settings (docker_executor_config)
DOCKER_IMAGE_SETTING, DOCKER_MOUNTS_SETTING = "ZHENGGAI_DOCKER_IMAGE", "ZHENGGAI_DOCKER_MOUNTS"
# the user the steps' containers run as: `uid:gid`, or IMAGE_USER (docker_executor_config)
DOCKER_USER_SETTING, IMAGE_USER = "ZHENGGAI_DOCKER_USER", "image"
LAKE_PYTHON_SETTING = "ZHENGGAI_LAKE_PYTHON"  # the lake environment's interpreter (LakeTarget.python)


def executor_setting() -> str:
    """ZHENGGAI_EXECUTOR: `in_process` (unset: the default), `multiprocess` or `docker`."""
    setting = os.environ.get(EXECUTOR_SETTING, "").strip().lower() or IN_PROCESS
    if setting not in EXECUTORS:
        raise ValueError(f"{EXECUTOR_SETTING} must be one of {', '.join(EXECUTORS)}, not {setting!r}")
    return setting


def executor_from_env(setting: str | None = None) -> dg.ExecutorDefinition:
    """How a run of the definitions executes its steps, for `setting` (default: ZHENGGAI_EXECUTOR's; `zhenggai refresh`
    always runs in its own process).

    `in_process` (default): one process per run, which holds the refresh lock for the whole run; a process per step
    would cost each step the import of the definitions.
    `multiprocess`: each step in a process of its own, its outputs written by the IO manager (Dagster's default:
    pickled files under DAGSTER_HOME's storage) and read back by the steps that use them, each step that uses the
    warehouse holding the refresh lock while it runs, and the parse fanned out over steps that do not, so that they
    run side by side (orchestration/parse_fanout.py; the lock is exclusive and does not wait). It is how the asset
    graph runs on Dagster's k8s or Docker executors (a pod or container per step, outputs on object storage), on
    one machine: `make scale-out-demo` (docs/scale-out.md).
    `docker`: the same with each step in a container of its own (dagster-docker's `docker_executor`, configured by
    `docker_executor_config`): `make docker-demo`.
    The two with a step per process are meant for one run at a time: two runs (the schedule and the sensor of
    `make ui`) could then interleave their steps and stage over each other's staging file beside the warehouse,
    which the run-long lock of the default rules out (a run whose file was staged over refuses to publish:
    warehouse.store.publish); a cluster keeps refresh runs apart with a run-queue limit instead."""
    setting = setting or executor_setting()
    if setting == DOCKER:
        from dagster_docker import docker_executor

        # configured when a run's config is resolved, not when the definitions load: `zhenggai refresh` and every
        # step's container load them too, and need no image or mounts
        configured = docker_executor.configured(lambda _: docker_executor_config(os.environ), name=DOCKER,
                                                config_schema={})
        create_executor = configured.executor_creation_fn

        def create_in_written_folders(init_context):
            """The run's executor, once the folders the steps write to exist (only when a run starts, not whenever its
            config is checked): Docker creates a missing one as root, where a step running as another user could not
            write (its first step could not take the refresh lock)."""
            for folder in written_folders(os.environ):
                Path(folder).mkdir(parents=True, exist_ok=True)
            return create_executor(init_context)

        return dg.ExecutorDefinition(name=DOCKER, config_schema=configured.config_schema,
                                     requirements=configured.get_requirements, description=configured.description,
                                     executor_creation_fn=create_in_written_folders)
    return dg.multiprocess_executor if setting == MULTIPROCESS else dg.in_process_executor


def written_folders(environ: Mapping[str, str]) -> list[str]:
    """The folders the steps of a run write to, as the settings of `environ` name them: the warehouse's, DAGSTER_HOME and
    the lake's on this machine (not the landing folder nor ZHENGGAI_DOCKER_MOUNTS: inputs, which may be files)."""
    return [str(Path(environ.get("ZHENGGAI_WAREHOUSE", DEFAULT_WAREHOUSE)).parent),
            *([environ["DAGSTER_HOME"]] if environ.get("DAGSTER_HOME") else []),
            *lake_folders(environ.get("ZHENGGAI_LAKE_CATALOG"), environ.get("ZHENGGAI_LAKE_DATA_PATH"))]


def docker_executor_config(environ: Mapping[str, str]) -> dict:
    """dagster-docker's executor configuration for ZHENGGAI_EXECUTOR=docker: the image ZHENGGAI_DOCKER_IMAGE (built from
    the repository's Dockerfile), this process's ZHENGGAI_ settings and DAGSTER_HOME passed to every container (the
    steps configure their resources from them, as here), and the folders the steps share mounted at the same path in
    every container: the landing folder (ZHENGGAI_SOURCE), the warehouse's folder (ZHENGGAI_WAREHOUSE's: the file, the
    parse cache, the staging file, the reports, the refresh lock), DAGSTER_HOME (the run's events and the outputs the
    IO manager hands from step to step), the lake's catalog file and data folder when they are on this machine
    (ZHENGGAI_LAKE_CATALOG, ZHENGGAI_LAKE_DATA_PATH: warehouse.lake.lake_folders) and those of ZHENGGAI_DOCKER_MOUNTS
    (separated by os.pathsep: a sources.yaml's folders, say). On several machines these are the volumes every step's
    container mounts, or object storage. ZHENGGAI_LAKE_PYTHON is not passed: it names this machine's lake environment,
    and the image has its own at the path the lake's resource defaults to.

    The containers run as ZHENGGAI_DOCKER_USER (`uid:gid`, or `image` for the image's own user, root), by default as
    this process's user and group, so that the files they write on the mounts are that user's. Where Docker maps the
    container's users (rootless Docker, userns-remap), the image's root already is this user: set it to `image`."""
    image = environ.get(DOCKER_IMAGE_SETTING, "").strip()
    if not image:
        raise ValueError(f"{EXECUTOR_SETTING}=docker needs {DOCKER_IMAGE_SETTING}: the image of the repository's Dockerfile")
    home = environ.get("DAGSTER_HOME")
    if not home:
        raise ValueError(f"{EXECUTOR_SETTING}=docker needs DAGSTER_HOME: the containers report to the run's instance")
    folders = [environ.get("ZHENGGAI_SOURCE", DEFAULT_SOURCE), *written_folders(environ),
               *environ.get(DOCKER_MOUNTS_SETTING, "").split(os.pathsep)]
    folders = list(dict.fromkeys(os.path.normpath(folder.strip()) for folder in folders if folder.strip()))
    relative = [folder for folder in folders if not os.path.isabs(folder)]
    if relative:
        raise ValueError(f"{EXECUTOR_SETTING}=docker needs absolute paths (ZHENGGAI_SOURCE, ZHENGGAI_WAREHOUSE, DAGSTER_HOME, "
                         f"the lake's ZHENGGAI_LAKE_CATALOG and ZHENGGAI_LAKE_DATA_PATH, {DOCKER_MOUNTS_SETTING}): the "
                         f"containers see the folders at the same paths, not {relative}")
    mounts = {folder: {"bind": folder, "mode": "rw"} for folder in folders}
    # and those of the lake's object storage (warehouse.lake.object_storage_secret)
    passed = sorted(name for name in environ
                    if (name.startswith("ZHENGGAI_") and name != LAKE_PYTHON_SETTING) or name == "DAGSTER_HOME"
                    or name in OBJECT_STORAGE_VARIABLES)
    user = environ.get(DOCKER_USER_SETTING, "").strip() or f"{os.getuid()}:{os.getgid()}"
    return {"image": image, "env_vars": passed,
            "container_kwargs": {"volumes": mounts, **({} if user == IMAGE_USER else {"user": user})}}


def source_from_env() -> NoticeSource:
    return NoticeSource(
        directory=os.environ.get("ZHENGGAI_SOURCE", DEFAULT_SOURCE),
        prune_missing=os.environ.get("ZHENGGAI_PRUNE_MISSING", "") in ("1", "true", "yes"),
        landing_index=str(index_path(Path(os.environ.get("ZHENGGAI_WAREHOUSE", DEFAULT_WAREHOUSE)))),
    )


class LakeTarget(dg.ConfigurableResource):
    """The lake each published build is mirrored into (warehouse/lake.py, the `lake` group): a DuckLake
    ('ducklake:postgres:dbname=zhenggai host=…', Parquet files under `data_path`) or a DuckDB file; `catalog` None:
    no lake. `python`: the lake environment's interpreter (`make lake-demo` builds .venv-lake). `warehouse`: the
    published file, read without the refresh lock (a refresh may publish meanwhile: the mirror reads the file it
    opened)."""

    catalog: str | None = None
    data_path: str | None = None
    python: str = DEFAULT_LAKE_PYTHON
    warehouse: str = DEFAULT_WAREHOUSE


def lake_from_env() -> LakeTarget:
    """ZHENGGAI_LAKE_CATALOG, ZHENGGAI_LAKE_DATA_PATH, ZHENGGAI_LAKE_PYTHON and ZHENGGAI_WAREHOUSE."""
    return LakeTarget(
        catalog=os.environ.get("ZHENGGAI_LAKE_CATALOG") or None,
        data_path=os.environ.get("ZHENGGAI_LAKE_DATA_PATH") or None,
        python=os.environ.get(LAKE_PYTHON_SETTING, DEFAULT_LAKE_PYTHON),
        warehouse=warehouse_from_env().path,
    )


def warehouse_from_env() -> WarehouseTarget:
    return WarehouseTarget(
        path=os.environ.get("ZHENGGAI_WAREHOUSE", DEFAULT_WAREHOUSE),
        max_drop_share=float(os.environ.get("ZHENGGAI_MAX_DROP", DEFAULT_MAX_DROP_SHARE)),
    )
