"""`make docker-demo`: the refresh job with each step in a Docker container of its own (Dagster's Docker executor,
ZHENGGAI_EXECUTOR=docker), against `zhenggai refresh` (docs/scale-out.md, "Beyond one machine").

1. needs a Docker engine this user can reach (`docker info`; Debian: `apt-get install docker.io`, then `dockerd`);
2. the image of the repository's Dockerfile, built on BASE: `python:3.11-slim-bookworm` where a registry is
   reachable (--base), else (the default, `debian`) a Debian bookworm made here with debootstrap from Debian's
   package archive, with python3.11, uv and this machine's certificate store, imported as `zhenggai-base:bookworm`
   (kept: made once per machine); built with the host's network, for PyPI;
3. bench/scale_out_demo.py's demonstration with the Docker executor: a first build and a refresh after one changed
   notice, each step in a container that mounts the landing folder, the warehouse's folder and DAGSTER_HOME at their
   paths here, compared table by table with `zhenggai refresh`'s warehouse; it fails unless every step ran in a
   container of its own;
4. the `mirror_to_lake` job with the Docker executor: that warehouse mirrored into a DuckLake in the work folder (its
   catalog a file, its Parquet files in a folder, both mounted) by a step in a container, with the image's own lake
   environment (requirements-lake.lock), then checked row for row in a container of its own.
The steps' stopped containers are removed at the end.

    python -m bench.docker_demo [--source DIR | --generated N] [--workdir DIR] [--parse-step-batches N]
        [--base IMAGE] [--image TAG]
"""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import scale_out_demo
from bench.generate import ROOT
from orchestration.resources import DOCKER, EXECUTOR_SETTING

DEBIAN_BASE = "zhenggai-base:bookworm"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
# Certificates the image's uv trusts: this machine's store, so that a TLS-inspecting proxy's CA is trusted in it too
CERTIFICATES = Path("/etc/ssl/certs/ca-certificates.crt")
# A run of the demo's job takes ~30 s here; one that hangs (a container that never ends) is stopped after this
RUN_TIMEOUT_S = 900


def docker(*arguments: str, **options) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *arguments], check=True, **options)


def engine_reachable() -> str | None:
    """None when a Docker engine answers, else why not."""
    if shutil.which("docker") is None:
        return "no docker command (Debian: apt-get install docker.io)"
    done = subprocess.run(["docker", "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True)
    return None if done.returncode == 0 else f"no Docker engine answers: {done.stderr.strip()[:300]}"


def image_exists(image: str) -> bool:
    return subprocess.run(["docker", "image", "inspect", image], capture_output=True).returncode == 0


def debian_base(image: str = DEBIAN_BASE) -> str:
    """A Debian bookworm image with python3.11, uv and this machine's certificates, made with debootstrap (as root)
    from Debian's package archive when `image` does not exist yet: the base where no image registry is reachable."""
    if image_exists(image):
        return image
    if shutil.which("debootstrap") is None:
        raise SystemExit("debootstrap not found (Debian: apt-get install debootstrap), or give --base an image")
    uv = Path(sys.executable).with_name("uv")
    with tempfile.TemporaryDirectory(prefix="zhenggai-rootfs-") as folder:
        rootfs = Path(folder) / "rootfs"
        print(f"making {image} with debootstrap …", flush=True)
        subprocess.run(["debootstrap", "--variant=minbase", "--include=python3.11,ca-certificates", "bookworm",
                        str(rootfs), DEBIAN_MIRROR], check=True, stdout=subprocess.DEVNULL)
        shutil.copy(uv, rootfs / "usr" / "local" / "bin" / "uv")
        if CERTIFICATES.is_file():
            shutil.copy(CERTIFICATES, rootfs / CERTIFICATES.relative_to("/"))
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        with tar.stdout:
            docker("import", "-", image, stdin=tar.stdout, stdout=subprocess.DEVNULL)
        if tar.wait() != 0:
            raise SystemExit(f"packing {rootfs} failed")
    return image


def build_image(tag: str, base: str) -> None:
    """The repository's Dockerfile built on `base` as `tag` (Docker's layer cache keeps a rebuild short)."""
    print(f"building {tag} on {base} …", flush=True)
    docker("build", "--quiet", "--network", "host", "--build-arg", f"BASE={base}", "-t", tag, str(ROOT),
           stdout=subprocess.DEVNULL)


def remove_step_containers(image: str) -> None:
    """Every container of `image`, stopped or not: the steps' (the Docker executor leaves them, for their logs, and
    an interrupted run leaves some running). Called on the way out, so it reports a failure rather than raising."""
    found = subprocess.run(["docker", "ps", "-aq", "--filter", f"ancestor={image}"], capture_output=True, text=True)
    ids = found.stdout.split()
    removed = subprocess.run(["docker", "rm", "-f", *ids], capture_output=True, text=True) if ids else found
    if found.returncode or removed.returncode:
        print(f"the steps' containers of {image} were not all removed: {(found.stderr + removed.stderr).strip()}",
              file=sys.stderr)


def mirror_in_a_container(workdir: Path, image: str) -> list[str]:
    """The `mirror_to_lake` job with a container per step: the warehouse that the demonstration in `workdir` built with
    a container per step mirrored into a DuckLake in `workdir` (its catalog a file, its Parquet files in a folder:
    mounted by the executor, warehouse.lake.lake_folders) by the image's own lake environment, then checked row for
    row by that environment in a container of its own. What went wrong, if anything."""
    lake = workdir / "lake"
    shutil.rmtree(lake, ignore_errors=True)
    (lake / "data").mkdir(parents=True)
    warehouse = scale_out_demo.per_step_warehouse(workdir)
    catalog, data_path = f"ducklake:{lake / 'catalog.ducklake'}", f"{lake / 'data'}/"
    dagster_home = workdir / "dagster_home_lake"
    shutil.rmtree(dagster_home, ignore_errors=True)
    seconds = scale_out_demo.execute_job("mirror_to_lake", dagster_home, DOCKER, image, RUN_TIMEOUT_S,
                                         ZHENGGAI_SOURCE=str(workdir / "landing"), ZHENGGAI_WAREHOUSE=str(warehouse),
                                         ZHENGGAI_LAKE_CATALOG=catalog,
                                         ZHENGGAI_LAKE_DATA_PATH=data_path)
    status, where, _ = scale_out_demo.step_processes(dagster_home)
    files = sorted(str(path.relative_to(lake)) for path in (lake / "data").rglob("*.parquet"))
    print(f"mirror_to_lake job with {EXECUTOR_SETTING}=docker: run {status} in {seconds:.1f} s, steps: "
          f"{', '.join(f'{step} in {place}' for step, place in where.items())}; {len(files)} Parquet files in {lake}")
    problems = []
    if status != "SUCCESS":
        problems.append(f"the mirror_to_lake run ended {status}")
    if not scale_out_demo.in_containers(where):
        problems.append("the lake's step did not run in a container")
    if not files:
        problems.append("the lake has no Parquet files")
    # the image's lake environment reads the lake back and compares it with the published file
    check = subprocess.run(["docker", "run", "--rm", "--user", f"{os.getuid()}:{os.getgid()}", "-v", f"{lake}:{lake}",
                            "-v", f"{warehouse.parent}:{warehouse.parent}", image, "/opt/zhenggai/.venv-lake/bin/python", "-m", "warehouse.lake", "check",
                            "--catalog", catalog, "--warehouse", str(warehouse)], capture_output=True, text=True)
    print(f"check in a container: {(check.stdout or check.stderr).strip()[-2000:]}")
    if check.returncode != 0:
        problems.append(f"the lake differs from the warehouse (check exit code {check.returncode})")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = scale_out_demo.argument_parser(__doc__.splitlines()[0])
    parser.add_argument("--base", default="debian", help="the image to build on: `debian` (made here with debootstrap, "
                        "the default) or an image with python3.11, e.g. python:3.11-slim-bookworm")
    parser.add_argument("--image", default="zhenggai:demo", help="the tag of the image built")
    options = parser.parse_args(argv)
    unreachable = engine_reachable()
    if unreachable:
        raise SystemExit(f"the Docker demonstration needs a Docker engine: {unreachable}")
    build_image(options.image, debian_base() if options.base == "debian" else options.base)
    with tempfile.TemporaryDirectory(prefix="zhenggai-docker-") as temporary:
        options.workdir = (options.workdir or Path(temporary)).resolve()
        try:
            code = scale_out_demo.run_in_workdir(options, executor=DOCKER, image=options.image, timeout_s=RUN_TIMEOUT_S)
            if code != 0:
                return code
            problems = mirror_in_a_container(options.workdir, options.image)
        finally:
            remove_step_containers(options.image)
    if problems:
        print(f"the lake's mirror in a container failed: {'; '.join(problems)}", file=sys.stderr)
        return 1
    print("the published warehouse mirrored into a DuckLake by a step in a container, and found equal to it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
