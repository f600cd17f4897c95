"""The landing side of the asset graph: one asset per configured source, feeding raw_notices and fetch_log.

    source/<name> (one per source of sources.yaml) ──► raw_notices ──► staged_notices ──► …
                                                  └──► fetch_log ──────────────────► warehouse_staging

A source asset never raises for a site that is down: it hands on the notices it already had (from the
archive) and reports the failure through its own asset check `source_ok` (non-blocking), so one failing site
does not stop the others and the UI shows which source failed and why. Assets only wire: fetching is
landing.land, reading a folder is the notice_source resource.
"""

import os
from pathlib import Path

import dagster as dg
import polars as pl

from landing.archive import Archive, log_frame
from landing.land import RAW_SCHEMA, LandedSource, land_web
from landing.sources import Source, SourcesConfig, default_config, load_sources
from orchestration.resources import NoticeSource

LANDING_GROUP = "landing"
SOURCE_CHECK = "source_ok"


def source_key(name: str) -> dg.AssetKey:
    return dg.AssetKey(["source", name])


def sources_from_env() -> SourcesConfig:
    """sources.yaml named by ZHENGGAI_SOURCES, else the landing folder alone (ZHENGGAI_SOURCE, default seeds/)."""
    path = os.environ.get("ZHENGGAI_SOURCES")
    return load_sources(path) if path else default_config()


def build_landing_assets(config: SourcesConfig) -> list:
    """The per-source assets, raw_notices over all of them, and fetch_log."""
    return [*(_source_asset(config, source) for source in config.sources), _raw_notices_asset(config), _fetch_log_asset(config)]


def _describe(source: Source) -> str:
    if source.kind == "folder":
        return f"Notice files of the folder {source.folder or '(the notice_source landing folder)'}."
    if source.kind == "pages":
        return f"{len(source.urls)} notice page(s) fetched from the web, archived raw."
    more = f", following the next-page rule up to {source.max_pages} list pages" if source.next_page else ""
    return f"Notices linked from the list page {source.urls[0]}{more}, fetched politely and archived raw."


def _source_asset(config: SourcesConfig, source: Source) -> dg.AssetsDefinition:
    key = source_key(source.name)

    @dg.asset(
        key=key,
        group_name=LANDING_GROUP,
        description=_describe(source),
        kinds={"folder"} if source.kind == "folder" else {"http"},
        check_specs=[dg.AssetCheckSpec(SOURCE_CHECK, asset=key, description="The source could be read (its site answered).")],
    )
    def _land(context: dg.AssetExecutionContext, notice_source: NoticeSource):
        if source.kind == "folder":
            directory = source.folder or Path(notice_source.directory)
            index = Path(notice_source.landing_index) if notice_source.landing_index else None
            files = NoticeSource(directory=str(directory)).read_all(index=index)
            landed = LandedSource(source.name, source.kind, files, log_frame([]))
            where = str(Path(directory).resolve())
        else:
            landed = land_web(source, Archive(config.archive))
            where = source.urls[0] if source.kind == "listing" else f"{len(source.urls)} page(s)"
        counts = landed.counts()
        if landed.failure:
            context.log.error(f"source {source.name} failed: {landed.failure}")
        for problem in landed.problems:
            context.log.warning(f"source {source.name}: {problem}")
        yield dg.Output(landed, metadata={"kind": source.kind, "where": where, **counts,
                                          "failure": landed.failure or "none"})
        yield dg.AssetCheckResult(
            check_name=SOURCE_CHECK,
            passed=landed.failure is None and not landed.problems,
            severity=dg.AssetCheckSeverity.ERROR if landed.failure else dg.AssetCheckSeverity.WARN,
            metadata={"failure": landed.failure or "none", "problems": "\n".join(landed.problems) or "none",
                      "kind": source.kind, **counts},
        )

    return _land


def _inputs(config: SourcesConfig) -> dict[str, dg.AssetIn]:
    return {f"source_{s.name}": dg.AssetIn(key=source_key(s.name)) for s in config.sources}


def _raw_notices_asset(config: SourcesConfig) -> dg.AssetsDefinition:
    @dg.asset(name="raw_notices", group_name="raw", kinds={"polars"}, ins=_inputs(config))
    def raw_notices(context: dg.AssetExecutionContext, **sources: LandedSource) -> pl.DataFrame:
        """SHA-256 and bytes of every notice of every source (通报原文): files of the landing folders and fetched pages.
        A file whose hash the landing index vouches for has its path instead of its bytes (landing/file_bytes.py)."""
        landed = list(sources.values())
        raw = combine_pages(landed)
        context.add_output_metadata(
            {"files": raw.height, **{f"from_{s.name}": s.pages.height for s in landed},
             "failed_sources": ", ".join(s.name for s in landed if s.failure) or "none"}
        )
        return raw

    return raw_notices


def combine_pages(landed: list[LandedSource]) -> pl.DataFrame:
    """All sources' notices in one RAW frame. A file name found in two folder sources is prefixed with its source."""
    frames = [s.pages.with_columns(pl.lit(s.name).alias("_source")) for s in landed]
    if not frames:
        return pl.DataFrame(schema=RAW_SCHEMA)
    raw = pl.concat(frames)
    clash = pl.col("source_name").is_duplicated()
    return raw.with_columns(
        pl.when(clash).then(pl.col("_source") + "/" + pl.col("source_name")).otherwise(pl.col("source_name")).alias("source_name")
    ).select(list(RAW_SCHEMA))


def _fetch_log_asset(config: SourcesConfig) -> dg.AssetsDefinition:
    @dg.asset(name="fetch_log", group_name="raw", kinds={"polars"}, ins=_inputs(config))
    def fetch_log(context: dg.AssetExecutionContext, **sources: LandedSource) -> pl.DataFrame:
        """Every request ever made to a web source (and every page robots.txt kept us from), from the archive's log."""
        log = Archive(config.archive).read_log() if config.web_sources else log_frame([])
        context.add_output_metadata({"rows": log.height, "archive": str(Path(config.archive).resolve()),
                                     "this_run": sum(s.log.height for s in sources.values())})
        return log

    return fetch_log
