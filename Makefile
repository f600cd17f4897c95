# zhenggai: the two commands a new user needs are `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
UV_VERSION := 0.13.9
STAMP  := $(VENV)/.installed

.PHONY: run test ui bench scale-out-demo lock clean env compiled

env: $(STAMP)

# The environment is rebuilt only when the lock file, the project metadata or this file change. Packages are
# compiled to bytecode at install: where PYTHONDONTWRITEBYTECODE is set (as on our machines) Python would
# otherwise compile Great Expectations and Dagster from source in every refresh (their import: 12.8 s → 5.2 s).
$(STAMP): requirements.lock pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(BIN)/uv pip sync --compile-bytecode --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

# The project's own modules too, before every command: with PYTHONDONTWRITEBYTECODE set Python never writes their
# bytecode, so each process (the refresh, its parse worker, its gate's process) compiled ~10,000 lines from source
# at start-up. compileall only compiles files changed since their bytecode, and Python checks the bytecode against
# its source at import, so an edited file is never run from stale bytecode.
compiled: $(STAMP)
	$(BIN)/python -m compileall -q orchestration transforms warehouse expectations landing bench

run: compiled
	$(BIN)/zhenggai refresh

test: compiled
	$(BIN)/python -m pytest

ui: compiled
	$(BIN)/python -m orchestration.ui

bench: compiled
	BENCH_SIZES="$(BENCH_SIZES)" $(BIN)/python -m bench.run

# The refresh job with a process per step (Dagster's multiprocess executor), compared with `zhenggai refresh`
# (docs/scale-out.md, "Beyond one machine"): 300 generated notices, two batches, a parse step for each.
scale-out-demo: compiled
	$(BIN)/python -m bench.scale_out_demo --generated 300 --parse-step-batches 1

# Re-resolve the pinned dependency set (needs the package registry).
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --extra test -o requirements.lock --python $(BIN)/python --python-version 3.11

clean:
	rm -rf $(VENV) warehouse/*.duckdb warehouse/validation .pytest_cache
