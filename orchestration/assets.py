"""The asset graph, by layer: raw (files as landed) → staging (parsed frames) → marts (the warehouse).

Assets only wire: each calls a pure transform or a warehouse function and records run metadata.
"""

import dataclasses
from datetime import datetime, timezone

import dagster as dg
import polars as pl

from landing.file_bytes import with_bytes
from orchestration.resources import GateRunner, NoticeSource, WarehouseTarget
from transforms.ingest import NoticeSelection, complete_quarantine, reject_unreadable
from transforms.lineage import loaded_versions, missing_notices, source_files, update_versions
from transforms.pipeline import without_failures
from transforms.star import reference_tables
from warehouse import parse_cache
from warehouse.build import build_record, is_unchanged
from warehouse.patch import StagedWarehouse, StagingCopy
from warehouse.store import WarehouseReader, create_staging, publish
from warehouse.summary import table_rows
from warehouse.versions import load_versions, previous_versions


# raw_notices (every source's notices) and fetch_log are built per sources.yaml in orchestration/fetch_assets.py.


@dg.multi_asset(
    group_name="staging",
    outs={
        "staged_notices": dg.AssetOut(
            description="The notices to load: the landed files to decode (names and contents, no text) and the "
            "notices kept although their file is gone. Decoding and normalising happen in the parse, batch by batch.",
            kinds={"polars"}, is_required=False,
        ),
        "rejected_notices": dg.AssetOut(
            description="Files that could not be read or are too large to be notices, with the reason.", kinds={"polars"},
            is_required=False,
        ),
    },
)
def staged_notices(
    context: dg.AssetExecutionContext,
    raw_notices: pl.DataFrame,
    fetch_log: pl.DataFrame,
    notice_source: NoticeSource,
    warehouse: WarehouseTarget,
    gate: GateRunner,
):
    """Notices to load: the landed files, plus those of the previous warehouse whose file is gone (unless pruned).

    When the published warehouse was built from the same files, fetch log and code, nothing is staged, and
    every later step (parse, staging file, gate, publication) is skipped: the published file stays as it is.
    Nothing is decoded here: the texts of the corpus are staged by the processes that parse them.
    """
    with WarehouseReader(warehouse.file) as published:
        unchanged = is_unchanged(published, raw_notices, fetch_log, notice_source.prune_missing)
        if unchanged is not None:
            gate.decline_early()
            context.log.info(f"nothing new since the build of {unchanged['built_at']:%Y-%m-%d %H:%M:%S} UTC "
                             f"({unchanged['build_digest']}): the published warehouse is left as it is")
            return
        landed = raw_notices["source_name"]
        gate.start_early()  # something will be loaded: the gate runs in its own process, GX imported by the time it is due
        # only the notices whose file is gone are read back, found by name first: a filter over raw_notice itself
        # decompresses every text it skips (~1.2 s at 10,000 notices, for usually no row)
        published_names = published.read_table("raw_notice", columns=["source_name"])
        names = pl.Series("source_name", [], pl.String) if published_names is None else published_names["source_name"]
        gone_names = names.filter(~names.is_in(landed.implode())).to_list()
        gone = None
        if gone_names:
            gone = published.read_table("raw_notice", where="list_contains(?, source_name)", params=[gone_names])
    landed_files, rejected = reject_unreadable(raw_notices)
    missing = missing_notices(gone, landed)
    kept = missing.clear() if notice_source.prune_missing else missing
    if missing.height:
        verb = "pruned" if notice_source.prune_missing else "kept (refresh with --prune to remove them)"
        context.log.warning(f"{missing.height} notice(s) no longer in the landing folder, {verb}: "
                            + ", ".join(missing["source_name"].to_list()))
    selection = NoticeSelection(landed_files, kept)
    yield dg.Output(
        selection, output_name="staged_notices",
        metadata={"notices": selection.contents(), "files_to_stage": landed_files.height,
                  "missing_kept": kept.join(landed_files, on="content_sha256", how="anti").height,
                  "missing_pruned": missing.height if notice_source.prune_missing else 0},
    )
    yield dg.Output(rejected, output_name="rejected_notices", metadata={"rejected": rejected.height})


@dg.asset(group_name="staging", kinds={"parquet"})
def parsed_notices(
    context: dg.AssetExecutionContext, raw_notices: pl.DataFrame, staged_notices: NoticeSelection, warehouse: WarehouseTarget
) -> parse_cache.ParsedBatches:
    """Each notice decoded, HTML-stripped and normalised, then its metadata, issue hierarchy, measures, claims
    and indicators, as star rows in Parquet batches of the parse cache (warehouse/parse_cache.py), by the
    process that parses the batch.

    Only notices absent from the parse cache (new or changed content, or a changed parser) are staged and parsed.
    """
    parsed = parse_cache.stage_into_cache(warehouse.file, raw_notices, staged_notices.landed, staged_notices.kept)
    context.add_output_metadata(parsed.figures())
    return parsed


@dg.asset(group_name="marts", kinds={"duckdb"})
def warehouse_staging(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseTarget,
    notice_source: NoticeSource,
    raw_notices: pl.DataFrame,
    rejected_notices: pl.DataFrame,
    parsed_notices: parse_cache.ParsedBatches,
    fetch_log: pl.DataFrame,
) -> StagedWarehouse:
    """The complete star schema written to a staging DuckDB file, awaiting the gate: a patched copy of the
    published file when it was built by the same code and few notices changed (warehouse/patch.py), else
    built in full."""
    failures = parsed_notices.failures
    loaded = without_failures(parsed_notices.loaded, failures)
    now = datetime.now(timezone.utc)
    quarantined = pl.concat([rejected_notices, parsed_notices.rejected, failures], how="vertical_relaxed")
    star = parsed_notices.star_rows(loaded)
    # the published file opened once for what this step reads of it, and closed before a full build attaches it; its
    # copy for a patch made in the background while the rest is prepared
    with WarehouseReader(warehouse.file) as published, StagingCopy(published, star) as copy:
        tables = {
            **reference_tables(),
            "quarantine_notice": complete_quarantine(
                quarantined, with_bytes(raw_notices.join(quarantined, on=["source_name", "content_sha256"], how="semi")),
                previous=published.read_table("quarantine_notice"), now=now,
            ),
            "source_file": source_files(raw_notices, loaded, quarantined),
            "fetch_log": fetch_log,
            "refresh_build": build_record(raw_notices, fetch_log, notice_source.prune_missing, now),
        }
        # notice_version's texts are filled in by DuckDB from the staging file and the previous warehouse
        published_versions = previous_versions(published)
        versions = update_versions(published_versions, loaded_versions(loaded, raw_notices), now)
        patched = copy.patch(tables, versions, published_versions)
    staged = patched.staged
    if staged is None:
        staging = create_staging(warehouse.file, tables, star)
        load_versions(staging, versions, previous=warehouse.file)
        staged = StagedWarehouse(staging)
    # what publish checks the file still holds; and its rows, unless the patch counted them on its connection
    staged = dataclasses.replace(staged, built_at=now, rows=staged.rows or table_rows(staged.path))
    context.log.info(f"staging file {'patched' if patched.staged else 'built in full'}: {patched.reason}")
    context.add_output_metadata(
        {f"rows_{name}": count for name, count in staged.rows.items()}
        | {"staging_file": str(staged.path), "notices_quarantined": tables["quarantine_notice"].height,
           "staging_patched": patched.staged is not None, "staging_reason": patched.reason,
           "changed_notices": -1 if staged.changed_notice_keys is None else len(staged.changed_notice_keys),
           "staging_free_block_share": -1.0 if patched.free_block_share is None else round(patched.free_block_share, 4)}
    )
    return staged


@dg.asset(group_name="marts", kinds={"duckdb"})
def published_warehouse(
    context: dg.AssetExecutionContext, warehouse: WarehouseTarget, warehouse_staging: StagedWarehouse
) -> str:
    """The served warehouse file, atomically replaced by the staging file once every blocking check passed."""
    publish(warehouse_staging.path, warehouse.file, built_at=warehouse_staging.built_at)
    rows = warehouse_staging.rows  # the published file is the staging file, renamed (publish checked its build)
    context.add_output_metadata(
        {"path": str(warehouse.file.resolve()), "notices_quarantined": rows.get("quarantine_notice", 0)}
        | {f"rows_{name}": count for name, count in rows.items()}
    )
    return str(warehouse.file)

