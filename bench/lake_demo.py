"""`make lake-demo`: the published warehouse as a DuckLake (catalog in PostgreSQL, tables as Parquet files on object
storage), on this machine (docs/scale-out.md, "The warehouse as DuckLake").

1. starts a throwaway PostgreSQL server (its own folder, a Unix socket, no TCP port) for the lake's catalog, and an
   S3-compatible object store on loopback for its Parquet files (moto's server, in memory: this machine reaches no
   real one), configured for every process by the AWS_* variables as AWS S3, MinIO or R2 would be;
2. `zhenggai refresh` of the notices, then `python -m warehouse.lake mirror` in the lake environment (DuckDB 1.5.5
   with the DuckLake, PostgreSQL and httpfs extensions from PyPI: requirements-lake.lock): snapshot 1, every table
   and view;
3. one notice changed, `zhenggai refresh` again (the patched path), mirrored this time by Dagster: the job
   `mirror_to_lake` of the one Definitions (`dagster job execute`, the lake configured by ZHENGGAI_LAKE_*): one more
   snapshot, in which only the rows of the changed notice (and the tables without notice_key that differ) are written;
4. checks, row for row (`python -m warehouse.lake check`): the lake's latest snapshot holds the second build; the
   snapshot of step 2 still holds the first build (what a reader of the lake saw until the commit: time travel);
   a mirror with nothing new adds no snapshot.

Exit 0 when every check holds; the table's Parquet files are those the object store lists under the lake's data path.
Needs PostgreSQL's server programs (initdb, pg_ctl: Debian's `postgresql`).
"""

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

from rich.console import Console
from rich.table import Table

from bench.demo_cli import finish, land, run_demo
from bench.run import change_a_notice_in
from bench.scale_out_demo import build_in_process, execute_job
from orchestration.resources import IN_PROCESS
from warehouse.lake import LakeError, run_with

console = Console(highlight=False, width=None if sys.stdout.isatty() else 120)
DATABASE = "zhenggai_lake"
BUCKET = "zhenggai-lake"


def server_program(name: str) -> str:
    """A PostgreSQL server program: on PATH, else in Debian's /usr/lib/postgresql/<version>/bin."""
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if found is None:
        raise SystemExit(f"PostgreSQL's {name} not found: install the server (Debian: apt-get install postgresql)")
    return found


@contextlib.contextmanager
def postgres_server(folder: Path) -> Iterator[str]:
    """A PostgreSQL server of its own in `folder`, listening on a Unix socket only, with the database DATABASE;
    yields the DuckLake catalog string. Run as the `postgres` user when this process is root (the server refuses
    root). Stopped on exit."""
    data, sockets = folder / "data", folder / "sockets"
    sockets.mkdir(parents=True)
    as_user: list[str] = []
    if os.geteuid() == 0:
        # the server's user must reach its folder: the work folder (a private temporary one) gets search rights
        folder.parent.chmod(folder.parent.stat().st_mode | 0o111)
        shutil.chown(folder, "postgres")
        shutil.chown(sockets, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = "5432"  # only names the socket file: no TCP

    def run(*command: str) -> None:
        subprocess.run([*as_user, *command], check=True, stdout=subprocess.DEVNULL)

    run(server_program("initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync")
    run(server_program("pg_ctl"), "-D", str(data), "-l", str(folder / "server.log"), "-w", "start",
        "-o", f"-k {sockets} -p {port} -c listen_addresses='' -c fsync=off")
    try:
        run(server_program("createdb"), "-h", str(sockets), "-p", port, "-U", "postgres", DATABASE)
        yield f"ducklake:postgres:dbname={DATABASE} host={sockets} port={port} user=postgres"
    finally:
        run(server_program("pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")


def lake(python: str, command: str, catalog: str | None, warehouse: Path | None = None, **options) -> tuple[int, dict]:
    """`python -m warehouse.lake` in the lake environment (warehouse.lake.run_with); a failure ends the demo."""
    try:
        return run_with(python, command, catalog, warehouse, **options)
    except LakeError as error:
        raise SystemExit(f"warehouse.lake {command} failed: {error}") from error


def mirror_through_dagster(python: str, catalog: str, data_path: str, warehouse: Path, dagster_home: Path) -> dict:
    """The `mirror_to_lake` job run by Dagster's command line; the mirror's report, which its materialization keeps."""
    execute_job("mirror_to_lake", dagster_home, IN_PROCESS, ZHENGGAI_LAKE_CATALOG=catalog,
                ZHENGGAI_LAKE_DATA_PATH=data_path, ZHENGGAI_LAKE_PYTHON=python, ZHENGGAI_WAREHOUSE=str(warehouse))
    from dagster import AssetKey, DagsterInstance

    with DagsterInstance.from_config(str(dagster_home)) as instance:
        event = instance.get_latest_materialization_event(AssetKey("lake_snapshot"))
    return event.asset_materialization.metadata["report"].value


@contextlib.contextmanager
def object_store(python: str, folder: Path) -> Iterator[str]:
    """An S3-compatible object store on loopback with the bucket BUCKET: moto's server (in memory), run by the lake
    environment's `python`. Yields the lake's data path in the bucket, with the AWS_* variables that
    warehouse.lake.object_storage_secret reads set for the processes this one starts. Stopped, and the variables
    restored, on exit."""
    with socket.socket() as probe:  # a free port, as the server takes no port 0
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    endpoint = f"http://127.0.0.1:{port}"
    with open(folder / "object-store.log", "w", encoding="utf-8") as log:
        server = subprocess.Popen([python, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                                  stdout=log, stderr=subprocess.STDOUT)
        try:
            create_bucket(endpoint, BUCKET, server)
            settings = {"AWS_ACCESS_KEY_ID": "zhenggai-demo", "AWS_SECRET_ACCESS_KEY": "zhenggai-demo",
                        "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL_S3": endpoint}
            with mock.patch.dict(os.environ, settings):  # the whole environment as it was, on exit
                os.environ.pop("AWS_SESSION_TOKEN", None)
                yield f"s3://{BUCKET}/warehouse/"
        finally:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def create_bucket(endpoint: str, bucket: str, server: subprocess.Popen, wait_s: float = 60.0) -> None:
    """PUT the bucket once the server answers (it takes a few seconds to start)."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            urllib.request.urlopen(urllib.request.Request(f"{endpoint}/{bucket}", method="PUT"), timeout=5).close()
            return
        except urllib.error.HTTPError as error:  # the server answered: no use trying again
            raise SystemExit(f"the object store at {endpoint} refused the bucket {bucket}: {error}") from error
        except (urllib.error.URLError, ConnectionError) as error:
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the object store at {endpoint} did not start: {error}") from error
            time.sleep(0.2)


def demonstrate(source: Path, workdir: Path, python: str, generated: int | None) -> int:
    landing, warehouse = workdir / "landing", workdir / "published" / "zhenggai.duckdb"
    land(source, generated, landing)
    first_build = workdir / "first-build.duckdb"
    problems: list[str] = []
    rounds = Table("step", "refresh", "mirrored by", "mirror", "tables written", "rows deleted / inserted", "snapshots",
                   "Parquet files in the bucket")
    with postgres_server(workdir / "postgres") as catalog, object_store(python, workdir) as data_path:
        console.print(f"lake catalog: {catalog}\nlake data: {data_path} at {os.environ['AWS_ENDPOINT_URL_S3']}")
        previous_snapshots = 0
        for step in ("first build", "one notice changed", "nothing new"):
            if step == "one notice changed":
                change_a_notice_in(landing)
            refresh_s = build_in_process(landing, warehouse)
            if step == "first build":
                shutil.copy(warehouse, first_build)
            if step == "one notice changed":
                mirrored = mirror_through_dagster(python, catalog, data_path, warehouse, workdir / "dagster_home")
                how = "Dagster job mirror_to_lake"
            else:
                mirrored = lake(python, "mirror", catalog, warehouse, data_path=data_path)[1]
                how = "python -m warehouse.lake"
            written = [t for t in mirrored["tables"] if t["action"] != "unchanged"]
            deleted, inserted = sum(t["deleted"] for t in written), sum(t["inserted"] for t in written)
            snapshot_ids = [s["snapshot_id"] for s in lake(python, "snapshots", catalog)[1]["snapshots"]]
            files = lake(python, "files", None, data_path=data_path)[1]["files"]
            rounds.add_row(step, f"{refresh_s:.1f} s", how, f"{mirrored['seconds']:.2f} s",
                           f"{len(written)} of {len(mirrored['tables'])}", f"{deleted} / {inserted}",
                           str(len(snapshot_ids)), str(len(files)))
            if not files:  # the data path was not the bucket's
                problems.append(f"{step}: the object store holds no Parquet file under {data_path}")
            if step == "first build":
                first_snapshot = snapshot_ids[-1]
                if {t["action"] for t in mirrored["tables"]} != {"created"}:
                    problems.append("the first mirror did not create every table")
            elif step == "one notice changed":
                patched = {t["table"]: t for t in written if t["action"] == "patched"}
                if len(snapshot_ids) != previous_snapshots + 1:
                    problems.append(f"{step}: {len(snapshot_ids) - previous_snapshots} new snapshots, not 1")
                # every notice has one row in each of these, under a key its new text changed: the old key's row out,
                # the new one's in
                if any(patched.get(name, {}).get("keys") != 2 for name in ("dim_notice", "raw_notice")):
                    problems.append(f"{step}: dim_notice and raw_notice were not patched for the changed notice's two keys")
                if any(t["action"] == "created" for t in written):
                    problems.append(f"{step}: a table was created again instead of patched")
            elif written or len(snapshot_ids) != previous_snapshots:
                problems.append(f"{step}: the mirror wrote {len(written)} table(s) and {len(snapshot_ids) - previous_snapshots} snapshot(s)")
            previous_snapshots = len(snapshot_ids)
            code, checked = lake(python, "check", catalog, warehouse)
            if code:
                problems.append(f"{step}: the lake's latest snapshot differs from the published file: {checked['differences']}")
        code, checked = lake(python, "check", catalog, first_build, version=first_snapshot)
        if code:
            problems.append(f"snapshot {first_snapshot} no longer holds the first build: {checked['differences']}")
        console.print(rounds)
        console.print(f"snapshot {first_snapshot} (the first build) read back with time travel: "
                      f"{'[green]the same rows[/]' if not code else '[red]different[/]'}")
    return finish(console, problems, "lake demonstration failed",
                  "[green]the lake holds each published build[/], a snapshot per build, only the changed notice's rows "
                  "written by the second")


def main(argv: list[str] | None = None) -> int:
    return run_demo(__doc__.splitlines()[0], ".venv-lake", "lake-demo", "zhenggai-lake-", demonstrate, argv)


if __name__ == "__main__":
    sys.exit(main())
