"""Where notices land and where the warehouse is published when nothing else is configured.

Kept apart from orchestration.resources so that the CLI can name them without importing Dagster: parse
workers are spawned processes that import the CLI's module again (multiprocessing re-imports __main__).
"""

DEFAULT_SOURCE = "seeds"
DEFAULT_WAREHOUSE = "warehouse/zhenggai.duckdb"
# The lake environment's interpreter (Makefile: .venv-lake, DuckDB with the DuckLake extension; warehouse/lake.py)
DEFAULT_LAKE_PYTHON = ".venv-lake/bin/python"
