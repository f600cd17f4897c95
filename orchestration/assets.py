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
from warehouse.summary import table_rows


@dg.asset(group_name="raw", kinds={"polars"})
def raw_notices(context: dg.AssetExecutionContext, notice_source: NoticeSource) -> pl.DataFrame:
    """Bytes and SHA-256 of every notice file (.txt, .html) in the landing folder (通报原文)."""
    raw = notice_source.read_all()
    context.add_output_metadata({"files": raw.height, "folder": str(Path(notice_source.directory).resolve())})
    return raw


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
        {name: frame.height for name, frame in parsed.frames().items()}
        | {"parse_failures": parsed.failures.height, "notices_parsed": parsed.notices.height}
    )
    return parsed


@dg.asset(group_name="marts", kinds={"duckdb"})
def warehouse_staging(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseTarget,
    raw_notices: pl.DataFrame,
    rejected_notices: pl.DataFrame,
    parsed_notices: ParsedNotices,
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
    staging = create_staging(warehouse.file, tables)
    context.add_output_metadata(
        {f"rows_{name}": frame.height for name, frame in tables.items()}
        | {"staging_file": str(staging), "notices_quarantined": tables["quarantine_notice"].height}
    )
    return str(staging)


@dg.asset(group_name="marts", kinds={"duckdb"})
def published_warehouse(context: dg.AssetExecutionContext, warehouse: WarehouseTarget, warehouse_staging: str) -> str:
    """The served warehouse file, atomically replaced by the staging file once every blocking check passed."""
    publish(Path(warehouse_staging), warehouse.file)
    rows = table_rows(warehouse.file)
    context.add_output_metadata(
        {"path": str(warehouse.file.resolve()), "notices_quarantined": rows.get("quarantine_notice", 0)}
        | {f"rows_{name}": count for name, count in rows.items()}
    )
    return str(warehouse.file)
