"""The asset graph, by layer: raw (files as landed) → staging (parsed frames) → marts (the warehouse).

Assets only wire: each calls a pure transform or a warehouse function and records run metadata.
"""

from datetime import datetime, timezone
from pathlib import Path

import dagster as dg
import polars as pl

from orchestration.resources import NoticeSource, WarehouseTarget
from transforms.ingest import complete_quarantine, stage_notices
from transforms.pipeline import ParsedNotices, parse_notices
from transforms.star import build_star
from warehouse.store import create_staging, publish, read_table


# raw_notices (every source's notices) and fetch_log are built per sources.yaml in orchestration/fetch_assets.py.


@dg.multi_asset(
    group_name="staging",
    outs={
        "staged_notices": dg.AssetOut(
            description="Decoded, HTML-stripped, normalised notices, one per distinct content.", kinds={"polars"}
        ),
        "rejected_notices": dg.AssetOut(
            description="Files that could not be decoded or are not notices, with the reason.", kinds={"polars"}
        ),
    },
)
def staged_notices(context: dg.AssetExecutionContext, raw_notices: pl.DataFrame):
    notices, rejected = stage_notices(raw_notices)
    context.add_output_metadata({"notices": notices.height}, output_name="staged_notices")
    context.add_output_metadata({"rejected": rejected.height}, output_name="rejected_notices")
    return notices, rejected


@dg.asset(group_name="staging", kinds={"polars"})
def parsed_notices(context: dg.AssetExecutionContext, staged_notices: pl.DataFrame) -> ParsedNotices:
    """Metadata, issue hierarchy, measures, claims and indicators of every staged notice."""
    parsed = parse_notices(staged_notices)
    context.add_output_metadata(
        {name: frame.height for name, frame in parsed.frames().items()} | {"parse_failures": parsed.failures.height}
    )
    return parsed


@dg.asset(group_name="marts", kinds={"duckdb"})
def warehouse_staging(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseTarget,
    raw_notices: pl.DataFrame,
    rejected_notices: pl.DataFrame,
    parsed_notices: ParsedNotices,
    fetch_log: pl.DataFrame,
) -> str:
    """The complete star schema written to a staging DuckDB file, awaiting the gate."""
    p = parsed_notices
    tables = build_star(p.notices, p.metadata, p.issues, p.measures, p.claims, p.indicators)
    tables["quarantine_notice"] = complete_quarantine(
        pl.concat([rejected_notices, p.failures], how="vertical_relaxed"),
        raw_notices,
        previous=read_table(warehouse.file, "quarantine_notice"),
        now=datetime.now(timezone.utc),
    )
    tables["fetch_log"] = fetch_log
    staging = create_staging(warehouse.file, tables)
    context.add_output_metadata({f"rows_{name}": frame.height for name, frame in tables.items()} | {"staging_file": str(staging)})
    return str(staging)


@dg.asset(group_name="marts", kinds={"duckdb"})
def published_warehouse(context: dg.AssetExecutionContext, warehouse: WarehouseTarget, warehouse_staging: str) -> str:
    """The served warehouse file, atomically replaced by the staging file once every blocking check passed."""
    publish(Path(warehouse_staging), warehouse.file)
    context.add_output_metadata({"path": str(warehouse.file.resolve())})
    return str(warehouse.file)
