# The image the asset graph's steps run in under Dagster's Docker executor (ZHENGGAI_EXECUTOR=docker,
# ZHENGGAI_DOCKER_IMAGE; docs/scale-out.md): Python 3.11, the locked dependencies of requirements.lock, the lake's
# environment, and this repository's packages. The landing folder, the warehouse's folder and DAGSTER_HOME are not in
# it: the executor mounts them (orchestration/resources.py docker_executor_config).
#
# BASE: a Debian-like image with python3.11, and uv or pip: python:3.11-slim-bookworm from a registry
# (`docker build -t zhenggai .`), or the Debian image bench/docker_demo.py makes where no registry is reachable
# (debootstrap, uv copied in: `make docker-demo`). Built with the host's network (`--network host`) for PyPI.
ARG BASE=python:3.11-slim-bookworm
FROM ${BASE}
ARG UV_VERSION=0.13.9
# uv trusts the image's certificate store (which a TLS-inspecting proxy's CA is added to), not only its own roots
ARG UV_NATIVE_TLS=true
RUN command -v uv >/dev/null || python3.11 -m pip install --no-cache-dir "uv==${UV_VERSION}"
WORKDIR /opt/zhenggai
COPY requirements.lock ./
RUN uv venv --quiet --python python3.11 /opt/zhenggai/.venv \
 && uv pip sync --quiet --compile-bytecode --python /opt/zhenggai/.venv/bin/python requirements.lock
ENV PATH=/opt/zhenggai/.venv/bin:$PATH
# The lake environment (requirements-lake.lock: DuckDB 1.5.5 with the DuckLake, PostgreSQL and httpfs extensions from
# PyPI) at the path the lake's resource defaults to (.venv-lake/bin/python, from the project's folder, which the mirror
# runs in: warehouse.lake.run_with): the mirror_to_lake job's step runs `python -m warehouse.lake` with it.
COPY requirements-lake.lock ./
RUN uv venv --quiet --python python3.11 /opt/zhenggai/.venv-lake \
 && uv pip sync --quiet --compile-bytecode --python /opt/zhenggai/.venv-lake/bin/python requirements-lake.lock
COPY pyproject.toml README.md ./
COPY orchestration orchestration
COPY transforms transforms
COPY warehouse warehouse
COPY expectations expectations
COPY landing landing
RUN uv pip install --quiet --python /opt/zhenggai/.venv/bin/python --no-deps -e . \
 && python -m compileall -q orchestration transforms warehouse expectations landing
