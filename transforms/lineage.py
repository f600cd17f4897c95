"""Which notice versions a refresh loads, and the history of every source file (来源文件与版本).

A refresh sees the files in the landing folder now; the previous warehouse remembers what was loaded
before. Three rules keep a nightly refresh from losing anything:

- a file republished with edits (same name, new content) replaces the old version's facts, and the old
  version stays in `notice_version` with the interval during which it was current;
- a file that disappeared from the landing folder keeps its facts (re-staged from the previous
  warehouse's text) and is reported as missing; only an explicit prune removes them;
- exact duplicates under different names are loaded once and listed as duplicates in `source_file`.
"""

from datetime import datetime

import polars as pl

from transforms.ingest import NOTICE_SCHEMA
from transforms.star import notice_key

VERSION_SCHEMA = {
    "source_name": pl.String,
    "content_sha256": pl.String,
    "notice_key": pl.String,
    "raw_text": pl.String,
    "valid_from": pl.Datetime("us", "UTC"),
    "valid_to": pl.Datetime("us", "UTC"),
}
SOURCE_FILE_SCHEMA = {
    "source_name": pl.String,
    "content_sha256": pl.String,
    "notice_key": pl.String,
    "state": pl.String,
    "detail": pl.String,
}


def missing_notices(previous_raw_notice: pl.DataFrame | None, landed_names: pl.Series) -> pl.DataFrame:
    """Notices of the previous warehouse whose source file is no longer in the landing folder.

    Returned in the staged-notice schema (decoded and normalised text as stored), so they can be parsed
    again like any other notice.
    """
    if previous_raw_notice is None or previous_raw_notice.is_empty():
        return pl.DataFrame(schema=NOTICE_SCHEMA)
    return (
        previous_raw_notice.filter(~pl.col("source_name").is_in(landed_names.implode()))
        .select(list(NOTICE_SCHEMA))
        .cast(NOTICE_SCHEMA)
        .sort("source_name")
    )


def notices_to_load(staged: pl.DataFrame, missing: pl.DataFrame, prune_missing: bool) -> pl.DataFrame:
    """The staged notices plus, unless pruning, the missing ones (each content once; landed files first).

    Adds `source_present` (False for a notice kept although its file is gone).
    """
    landed = staged.with_columns(pl.lit(True).alias("source_present"))
    kept = missing.clear() if prune_missing else missing
    kept = kept.filter(~pl.col("content_sha256").is_in(staged["content_sha256"].implode()))
    return pl.concat([landed, kept.with_columns(pl.lit(False).alias("source_present"))], how="vertical")


def loaded_versions(loaded: pl.DataFrame, landed: pl.DataFrame) -> pl.DataFrame:
    """Every (file, content, raw_text) whose facts are published: the loaded notices and their exact duplicates.

    Without a raw_text column in `loaded`, the same rows without raw_text (warehouse/versions.py fills it in
    from the loaded notices)."""
    columns = [column for column in ("content_sha256", "raw_text") if column in loaded.columns]
    duplicates = landed.select("source_name", "content_sha256").join(loaded.select(columns), on="content_sha256")
    return pl.concat([loaded.select("source_name", *columns), duplicates]).unique(
        ["source_name", "content_sha256"], keep="first", maintain_order=True
    )


def update_versions(
    previous: pl.DataFrame | None, loaded: pl.DataFrame, now: datetime
) -> pl.DataFrame:
    """The version history (notice_version) after this refresh.

    `loaded` holds one row per (source_name, content_sha256, raw_text) whose facts this refresh publishes
    (files kept although missing included). A version still loaded keeps its valid_from; a new one starts
    now; a previously current version that is no longer loaded (edited or pruned) is closed now. Closed
    versions are kept forever.

    Without a raw_text column in `loaded`, the history without raw_text (`previous` may then lack it too):
    warehouse/versions.py fills it in, so that the texts of every version need not be held here.
    """
    schema = VERSION_SCHEMA if "raw_text" in loaded.columns else {k: v for k, v in VERSION_SCHEMA.items() if k != "raw_text"}
    prior = pl.DataFrame(schema=schema) if previous is None else previous.select(list(schema)).cast(schema)
    open_prior = prior.filter(pl.col("valid_to").is_null())
    closed_prior = prior.filter(pl.col("valid_to").is_not_null())
    identity = ["source_name", "content_sha256"]
    current = (
        loaded.select("source_name", "content_sha256", *(["raw_text"] if "raw_text" in schema else []))
        .unique(identity, keep="first", maintain_order=True)
        .join(open_prior.select(*identity, "valid_from"), on=identity, how="left")
        .with_columns(
            notice_key().alias("notice_key"),
            pl.col("valid_from").fill_null(pl.lit(now).cast(pl.Datetime("us", "UTC"))),
            pl.lit(None, dtype=pl.Datetime("us", "UTC")).alias("valid_to"),
        )
    )
    ended = open_prior.join(current.select(identity), on=identity, how="anti").with_columns(
        pl.lit(now).cast(pl.Datetime("us", "UTC")).alias("valid_to")
    )
    return (
        pl.concat([closed_prior, ended, current.select(list(schema))], how="vertical")
        .sort("source_name", "valid_from", "content_sha256")
    )


def source_files(
    landed: pl.DataFrame, loaded: pl.DataFrame, quarantined: pl.DataFrame
) -> pl.DataFrame:
    """One row per source file (landed now, or kept although missing) and what became of it.

    state: 'loaded' (its facts are in the warehouse under notice_key), 'duplicate' (same content as a
    loaded file; detail names it), 'quarantined' (see quarantine_notice), 'missing' (the file is gone from
    the landing folder; its facts are kept until a prune).
    """
    loaded_names = loaded.select(
        "source_name", "content_sha256", pl.col("source_name").alias("loaded_as"), "source_present"
    )
    by_content = loaded_names.select("content_sha256", "loaded_as")
    files = (
        landed.select("source_name", "content_sha256")
        .join(quarantined.select("source_name", "content_sha256", pl.lit(True).alias("is_quarantined")).unique(), on=["source_name", "content_sha256"], how="left")
        .join(by_content, on="content_sha256", how="left")
        .with_columns(
            pl.when(pl.col("is_quarantined"))
            .then(pl.lit("quarantined"))
            .when(pl.col("loaded_as") == pl.col("source_name"))
            .then(pl.lit("loaded"))
            .when(pl.col("loaded_as").is_not_null())
            .then(pl.lit("duplicate"))
            .otherwise(pl.lit("quarantined"))
            .alias("state"),
        )
        .with_columns(
            pl.when(pl.col("state") == "duplicate")
            .then(pl.format("same content as {}", pl.col("loaded_as")))
            .when(pl.col("state") == "quarantined")
            .then(pl.lit("see quarantine_notice"))
            .alias("detail")
        )
    )
    missing = loaded_names.filter(~pl.col("source_present")).select(
        "source_name",
        "content_sha256",
        pl.lit("missing").alias("state"),
        pl.lit("file no longer in the landing folder; facts kept until a refresh with --prune").alias("detail"),
    )
    return (
        pl.concat([files.select("source_name", "content_sha256", "state", "detail"), missing], how="vertical")
        .with_columns(
            pl.when(pl.col("state").is_in(["loaded", "duplicate", "missing"]))
            .then(notice_key())
            .alias("notice_key")
        )
        .select(list(SOURCE_FILE_SCHEMA))
        .cast(SOURCE_FILE_SCHEMA)
        .sort("source_name", "content_sha256")
    )
