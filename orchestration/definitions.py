"""The one Definitions of zhenggai: `dagster dev`, the schedule, the sensor and `zhenggai refresh` all use it."""

import dagster as dg

from landing.sources import SourcesConfig
from orchestration import assets, parse_fanout
from orchestration.checks import warehouse_gate
from orchestration.fetch_assets import LANDING_GROUP, build_landing_assets, sources_from_env
from orchestration.lake_assets import LAKE_GROUP, lake_after_publish, lake_snapshot, mirror_to_lake
from orchestration.resources import (
    EXECUTORS, IN_PROCESS, LakeTarget, NoticeSource, executor_from_env, executor_setting, gate_from_env,
    lake_from_env, source_from_env, warehouse_from_env,
)

refresh_job = dg.define_asset_job(
    "refresh",
    # the lake's mirror is a job of its own (orchestration/lake_assets.py): a lake never delays a publication
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups(LAKE_GROUP),
    description="Read every notice in the landing folder, parse, stage, gate and publish the warehouse.",
)

fetch_job = dg.define_asset_job(
    "fetch",
    selection=dg.AssetSelection.groups(LANDING_GROUP),
    description="Fetch every configured source into the archive (conditional requests, fetch log); no parsing, no publishing.",
)

nightly_refresh = dg.ScheduleDefinition(
    name="nightly_refresh",
    job=refresh_job,
    cron_schedule="0 2 * * *",
    execution_timezone="Asia/Shanghai",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Refresh the warehouse every night at 02:00 China time.",
)


@dg.sensor(job=refresh_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def new_notice_sensor(context: dg.SensorEvaluationContext, notice_source: NoticeSource):
    """Start a refresh when a notice file is added, changed or removed in the landing folder."""
    fingerprint = notice_source.fingerprint()
    if fingerprint == context.cursor:
        return dg.SkipReason("no new or changed notice")
    context.update_cursor(fingerprint)
    return dg.RunRequest(run_key=fingerprint)


def build_definitions(sources: SourcesConfig | None = None, executor: str | None = None,
                      lake: LakeTarget | None = None) -> dg.Definitions:
    """The Definitions for a sources configuration (default: sources.yaml of ZHENGGAI_SOURCES, else the landing folder),
    an executor setting (default: ZHENGGAI_EXECUTOR's, orchestration.resources.executor_setting) and a lake (default:
    ZHENGGAI_LAKE_*'s; the lake's asset, job and sensor only when it names a catalog: orchestration/lake_assets.py).

    In one process the parse is one step with a pool of its own (orchestration/assets.py); with a process per step
    it is a step per chunk of batches (orchestration/parse_fanout.py), so that an executor with a pod per step
    spreads it over machines. The asset, its inputs and what it hands on are the same."""
    executor = executor or executor_setting()
    if executor not in EXECUTORS:
        raise ValueError(f"executor must be one of {', '.join(EXECUTORS)}, not {executor!r}")
    if executor != IN_PROCESS:
        parse_fanout.parse_step_batches()  # a bad ZHENGGAI_PARSE_STEP_BATCHES fails here, not in the middle of a run
    parse = assets.parsed_notices if executor == IN_PROCESS else parse_fanout.parsed_notices
    others = [asset for asset in dg.load_assets_from_modules([assets]) if not asset.keys & parse.keys]
    lake = lake or lake_from_env()
    mirrored = bool(lake.catalog)
    return dg.Definitions(
        assets=[*others, parse, *build_landing_assets(sources or sources_from_env()), *([lake_snapshot] if mirrored else [])],
        asset_checks=[warehouse_gate],
        jobs=[refresh_job, fetch_job, *([mirror_to_lake] if mirrored else [])],
        schedules=[nightly_refresh],
        sensors=[new_notice_sensor, *([lake_after_publish] if mirrored else [])],
        resources={"notice_source": source_from_env(), "warehouse": warehouse_from_env(), "gate": gate_from_env(executor)}
        | ({"lake": lake} if mirrored else {}),
        # One process per run unless ZHENGGAI_EXECUTOR says otherwise: the refresh lock is held by the run, and
        # step processes would cost 5-7 s each.
        executor=executor_from_env(executor),
    )


defs = build_definitions()
