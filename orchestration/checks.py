"""Asset checks on the staged warehouse: one blocking check per table, backed by the GX suites.

The gate (expectations.gate) runs once per refresh over the staging file; its per-table results become one
Dagster check result per table. An error-severity failure blocks `published_warehouse`, so a bad load never
replaces the served file; warning-severity failures are reported and published.
"""

import dagster as dg

from expectations.gate import suite_names
from orchestration.resources import GateRunner, WarehouseTarget
from warehouse.patch import StagedWarehouse


STAGED = dg.AssetKey("warehouse_staging")


def _check_name(table: str) -> str:
    return f"gx_{table}"


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(
            _check_name(table),
            asset=STAGED,
            blocking=True,
            description=f"Great Expectations suite for {table} on the staged warehouse (expectations/suites.yaml).",
        )
        for table in suite_names()
    ],
)
def warehouse_gate(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseTarget, gate: GateRunner, warehouse_staging: StagedWarehouse
):
    # a patched staging file: only the rows of the notices the patch wrote or deleted (and what they reach) are
    # validated again, the rest was gated when it was published
    where = "early" if gate.runs_early else "run"
    result = gate.run_gate(
        str(warehouse_staging.path), warehouse.report_dir, previous=warehouse.file,
        max_drop_share=warehouse.max_drop_share, changed_notice_keys=warehouse_staging.changed_notice_keys,
    )
    context.log.info(f"GX validation results: {result.json_path}; Data Docs: {result.docs_path}")
    for suite in result.suites:
        errors = [line for line, severity in suite.failures if severity == "error"]
        warnings = [line for line, severity in suite.failures if severity == "warning"]
        yield dg.AssetCheckResult(
            asset_key=STAGED,
            check_name=_check_name(suite.table),
            passed=not errors and not warnings,
            severity=dg.AssetCheckSeverity.ERROR if errors else dg.AssetCheckSeverity.WARN,
            metadata={
                "errors": "\n".join(errors) or "none",
                "warnings": "\n".join(warnings) or "none",
                "expectations": suite.evaluated,
                # delta mode: the rows validated (every row, the changed notices', or none: unchanged since published)
                "scope": suite.scope,
                "validation_json": str(result.json_path),
                "data_docs": str(result.docs_path),
                # "early": in the gate's own process started before it was due (GateRunner), "run": in the run's
                "gate_process": where,
            },
        )
