# zhenggai: the two commands a new user needs are `make run` and `make test`.
# The interpreter: the distribution's python3.11 when there is one, else the first python3.11 (or python3) on PATH
# that can make a virtual environment. Debian's is built with profile-guided and link-time optimisation, which a
# plain source build (pyenv's default) is not: the same code parsed 1,000 notices in 5.1-5.2 s instead of 5.6 s, and
# refreshed 10,000 in ~2.5 s less (docs/scale-out.md). `make PYTHON=...` picks another; the environment is rebuilt
# whenever the interpreter changes.
ifeq ($(origin PYTHON), undefined)
PYTHON := $(shell for p in /usr/bin/python3.11 python3.11 python3; do \
	command -v $$p >/dev/null && $$p -c 'import ensurepip, venv' 2>/dev/null && { command -v $$p; break; }; done)
endif
VENV   := .venv
BIN    := $(VENV)/bin
INTERPRETER := $(VENV)/.interpreter
UV_VERSION := 0.13.9
STAMP  := $(VENV)/.installed

.PHONY: run test ui bench bench-compare scale-out-demo docker-demo lake-demo spark-demo lock clean env compiled figure-reader

env: $(STAMP)

# The environment is rebuilt only when the lock file, the project metadata or this file change. Packages are
# compiled to bytecode at install: where PYTHONDONTWRITEBYTECODE is set (as on our machines) Python would
# otherwise compile Great Expectations and Dagster from source in every refresh (their import: 12.8 s → 5.2 s).
$(STAMP): requirements.lock pyproject.toml Makefile
	@test -n "$(PYTHON)" || { echo "no python3.11 (or python3) with venv found: install one, or make PYTHON=/path/to/python3.11"; exit 1; }
	real=$$(readlink -f "$$(command -v $(PYTHON))"); \
	if [ "$$(cat $(INTERPRETER) 2>/dev/null)" != "$$real" ]; then rm -rf $(VENV) && $(PYTHON) -m venv $(VENV) && echo "$$real" > $(INTERPRETER); fi
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(BIN)/uv pip sync --compile-bytecode --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

# The project's own modules too, before every command: with PYTHONDONTWRITEBYTECODE set Python never writes their
# bytecode, so each process (the refresh, its parse worker, its gate's process) compiled ~10,000 lines from source
# at start-up. compileall only compiles files changed since their bytecode, and Python checks the bytecode against
# its source at import, so an edited file is never run from stale bytecode.
compiled: $(STAMP) figure-reader
	$(BIN)/python -m compileall -q orchestration transforms warehouse expectations landing bench

# The figure reader compiled (transforms/figure_reader, Rust with PyO3): about half the parse's CPU in Python. Built
# offline where cargo and Debian's Rust crates are (apt-get install librust-pyo3-dev librust-regex-dev: the crates'
# sources in $(CRATES)); elsewhere the parse uses the Python reader, which gives the same rows (tests/test_figure_reader.py).
CRATES := /usr/share/cargo/registry
READER := transforms/_figure_reader.so
READER_SOURCES := transforms/figure_reader/Cargo.toml transforms/figure_reader/Cargo.lock $(wildcard transforms/figure_reader/src/*.rs)
figure-reader: $(STAMP)
	@if command -v cargo >/dev/null && ls -d $(CRATES)/pyo3-0.17* $(CRATES)/regex-1.* >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory $(READER); \
	elif [ -f $(READER) ] && $(MAKE) --no-print-directory -q $(READER); then \
		echo "figure reader: no cargo or Rust crates here; the one built from the current sources is kept"; \
	else \
		rm -f $(READER); \
		echo "figure reader not compiled (no cargo, or no Rust crates in $(CRATES)): the parse uses the Python reader"; \
	fi

$(READER): $(READER_SOURCES) $(STAMP)
	cd transforms/figure_reader && PYO3_PYTHON=$(abspath $(BIN))/python cargo build --release --offline --quiet \
		--config 'source.crates-io.replace-with="debian"' --config 'source.debian.directory="$(CRATES)"'
	cp transforms/figure_reader/target/release/lib_figure_reader.so $(READER)

run: compiled
	$(BIN)/zhenggai refresh

test: compiled
	$(BIN)/python -m pytest

ui: compiled
	$(BIN)/python -m orchestration.ui

bench: compiled
	BENCH_SIZES="$(BENCH_SIZES)" $(BIN)/python -m bench.run

# Two runs of bench/out/results.csv side by side (default: the last two; BENCH_RUNS="63b3598 -1" names them).
bench-compare: compiled
	$(BIN)/python -m bench.compare $(BENCH_RUNS)

# The refresh job with a process per step (Dagster's multiprocess executor), compared with `zhenggai refresh`
# (docs/scale-out.md, "Beyond one machine"): 300 generated notices, two batches, a parse step for each.
scale-out-demo: compiled
	$(BIN)/python -m bench.scale_out_demo --generated 300 --parse-step-batches 1

# The same with a Docker container per step (Dagster's Docker executor, the image of the Dockerfile): needs a Docker
# engine (Debian: docker.io, dockerd running) and, where no image registry is reachable, debootstrap for its Debian
# base (bench/docker_demo.py).
docker-demo: compiled
	$(BIN)/python -m bench.docker_demo --generated 300 --parse-step-batches 1

# The other environments, .venv-<name> from requirements-<name>.lock (uv from the project's environment):
# lake: DuckDB 1.5.5 with the DuckLake, PostgreSQL and httpfs extensions, for `python -m warehouse.lake` (the project's
# DuckDB 2.0.1 has no DuckLake extension that installs offline); spark: PySpark, which needs Java 17 or newer.
LAKE_VENV := .venv-lake
SPARK_VENV := .venv-spark
.venv-%/.installed: requirements-%.lock $(STAMP)
	rm -rf .venv-$* && $(BIN)/uv venv --quiet --python $(BIN)/python .venv-$*
	$(BIN)/uv pip sync --quiet --python .venv-$*/bin/python $<
	touch $@

# The published warehouse mirrored into a DuckLake (catalog in a throwaway PostgreSQL server, Parquet files in a
# bucket of an S3-compatible server on loopback), a snapshot per build (docs/scale-out.md): needs PostgreSQL's server
# programs (Debian: postgresql).
lake-demo: compiled $(LAKE_VENV)/.installed
	$(BIN)/python -m bench.lake_demo --python $(LAKE_VENV)/bin/python

# Spark reads the warehouse's Parquet export (Hive partitions by publish year) and finds what DuckDB holds, figure by
# figure (docs/scale-out.md, "Spark and Trino").
spark-demo: compiled $(SPARK_VENV)/.installed
	$(BIN)/python -m bench.spark_demo --python $(SPARK_VENV)/bin/python

# Re-resolve the pinned dependency sets (needs the package registry).
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --extra test -o requirements.lock --python $(BIN)/python --python-version 3.11
	$(BIN)/uv pip compile requirements-lake.in -o requirements-lake.lock --python-version 3.11
	$(BIN)/uv pip compile requirements-spark.in -o requirements-spark.lock --python-version 3.11

clean:
	rm -rf $(VENV) $(LAKE_VENV) $(SPARK_VENV) warehouse/*.duckdb warehouse/validation .pytest_cache transforms/figure_reader/target $(READER)
