"""The one Definitions of zhenggai: `dagster dev`, the schedule, the sensor and `zhenggai refresh` all use it."""

import dagster as dg

from orchestration import assets
from orchestration.checks import warehouse_gate
from orchestration.resources import NoticeSource, source_from_env, warehouse_from_env

refresh_job = dg.define_asset_job(
    "refresh",
    selection=dg.AssetSelection.all(),
    description="Read every notice in the landing folder, parse, stage, gate and publish the warehouse.",
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


defs = dg.Definitions(
    assets=dg.load_assets_from_modules([assets]),
    asset_checks=[warehouse_gate],
    jobs=[refresh_job],
    schedules=[nightly_refresh],
    sensors=[new_notice_sensor],
    resources={"notice_source": source_from_env(), "warehouse": warehouse_from_env()},
    # One process per run: the refresh lock is held by the run, and step processes would cost 5-7 s each.
    executor=dg.in_process_executor,
)
