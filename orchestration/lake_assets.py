"""The `lake` group: each published build mirrored into a lake (DuckLake on PostgreSQL and object storage, or a
DuckDB file), one snapshot per build (warehouse/lake.py, docs/scale-out.md).

Not part of the `refresh` job: the mirror reads the published file and never holds the refresh lock, so a slow or
unreachable lake never delays or fails a publication. The `mirror_to_lake` job runs it; the sensor starts that job
after each materialization of published_warehouse. The definitions have all three only when a lake is configured
(ZHENGGAI_LAKE_CATALOG: orchestration/definitions.py), so that "materialize all" never runs a mirror to nowhere.
A mirror that fails (the lake unreachable, or a DuckLake commit conflicting with another writer) is tried again;
the next publication's mirror writes whatever an abandoned one did not.
"""

from pathlib import Path

import dagster as dg

from orchestration.resources import LakeTarget
from warehouse.lake import LakeError, mirror_with

LAKE_GROUP = "lake"


@dg.asset(group_name=LAKE_GROUP, deps=[dg.AssetKey("published_warehouse")], kinds={"duckdb"},
          retry_policy=dg.RetryPolicy(max_retries=2, delay=30))
def lake_snapshot(context: dg.AssetExecutionContext, lake: LakeTarget) -> dg.MaterializeResult:
    """The published warehouse's tables and views in the lake, written in one transaction (a DuckLake snapshot):
    only the rows of notices that differ, tables without notice_key replaced when they differ."""
    if not lake.catalog:
        raise dg.Failure("no lake configured: set ZHENGGAI_LAKE_CATALOG (a 'ducklake:…' catalog or a DuckDB file)",
                         allow_retries=False)
    try:
        report = mirror_with(lake.python, Path(lake.warehouse), lake.catalog, lake.data_path)
    except LakeError as error:
        raise dg.Failure(f"mirror into the lake failed, the lake is unchanged: {error}", allow_retries=error.retryable) from error
    written = [table for table in report["tables"] if table["action"] != "unchanged"]
    return dg.MaterializeResult(metadata={
        "tables_written": len(written),
        "tables": len(report["tables"]),
        "rows_deleted": sum(table["deleted"] for table in written),
        "rows_inserted": sum(table["inserted"] for table in written),
        "views_created": len(report["views"]),
        "seconds": report["seconds"],
        "report": dg.MetadataValue.json(report),  # every table's action and rows, as `python -m warehouse.lake` prints it
    })


mirror_to_lake = dg.define_asset_job(
    "mirror_to_lake", selection=dg.AssetSelection.groups(LAKE_GROUP),
    description="Mirror the published warehouse into the lake (ZHENGGAI_LAKE_CATALOG): one snapshot per build.",
)


@dg.asset_sensor(asset_key=dg.AssetKey("published_warehouse"), job=mirror_to_lake,
                 default_status=dg.DefaultSensorStatus.RUNNING)
def lake_after_publish(context: dg.SensorEvaluationContext, asset_event: dg.EventLogEntry):
    """Mirror each newly published build into the lake."""
    return dg.RunRequest(run_key=f"published-{asset_event.storage_id}")
