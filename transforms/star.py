"""Assemble the published star schema (DESIGN §4) from the frames the other transforms produce.

Keys are derived from content only, so the same notice gives the same keys on every refresh:
- notice_key       first 16 hex digits of the SHA-256 of the file's bytes
- issue_key        notice_key-i<node_ordinal>
- measure_key      issue_key-m<measure_ordinal>
- indicator_key    notice_key-x<char_start of the quote>
- claim_key        notice_key-c<rank of the claim in reading order>
- inspection_key / organization_key: 16 hex digits of a SHA-1 over their defining fields
"""

import hashlib
from datetime import date

import polars as pl

from transforms.indicators import metric_catalogue
from transforms.claim_rates import extract_rates
from transforms.organization import organizations
from transforms.parse_report import parse_report
from transforms.topics import assign_topics, topic_table

NOTICE_KEY_LENGTH = 16


def notice_key(column: str = "content_sha256") -> pl.Expr:
    """The notice key of a content SHA-256: its first NOTICE_KEY_LENGTH hex digits (stable across refreshes)."""
    return pl.col(column).str.slice(0, NOTICE_KEY_LENGTH)


def _issue_key(ordinal: str) -> pl.Expr:
    return pl.concat_str(notice_key(), pl.lit("-i"), pl.col(ordinal).cast(pl.String))


def digest_key(*parts: str | None) -> str:
    """A stable 16-hex-digit key over `parts` (NULL parts are written as an empty field)."""
    joined = "\x1f".join("" if part is None else str(part) for part in parts)
    return hashlib.sha1(joined.encode("utf-8")).hexdigest()[:16]


def _digest_key_expr(columns: list[str]) -> pl.Expr:
    return pl.struct(columns).map_elements(
        lambda row: digest_key(*(row[c] for c in columns)), return_dtype=pl.String
    )


_INSPECTION_FIELDS = [
    "inspection_kind",
    "inspecting_level",
    "inspecting_body",
    "inspection_start",
    "inspection_start_precision",
    "inspection_end",
    "inspection_end_precision",
    "feedback_date",
    "feedback_date_precision",
]


def indicator_spans(notices: pl.DataFrame, issues: pl.DataFrame, texts: list[str] | None = None) -> pl.DataFrame:
    """The text of every issue node (heading included) as a span for indicator extraction, plus the
    text outside every node (the opening, the organisation of the work, the claimed totals, the closing)
    as spans with a NULL node_ordinal: their figures have no issue.

    Node spans never overlap, so a figure is found once; the heading is included because problem
    statements carry figures too. `texts`: the `text` column of `notices` as a list, when the caller has it.
    """
    nodes = (
        issues.join(notices.select("content_sha256", "text"), on="content_sha256", suffix="_notice")
        .select(
            "content_sha256",
            pl.col("node_ordinal").cast(pl.Int32),
            pl.lit(None, dtype=pl.Int32).alias("measure_ordinal"),
            pl.col("text_notice").str.slice(pl.col("char_start"), pl.col("char_end") - pl.col("char_start")).alias("text"),
            pl.col("char_start").cast(pl.Int64),
        )
    )
    return pl.concat([nodes, _outside_nodes(notices, issues, texts)])


def _outside_nodes(notices: pl.DataFrame, issues: pl.DataFrame, texts: list[str] | None = None) -> pl.DataFrame:
    """The stretches of each notice text that no issue node covers, as spans without a node."""
    bounds: dict[str, list[tuple[int, int]]] = {}
    for sha, start, end in issues.select("content_sha256", "char_start", "char_end").iter_rows():
        bounds.setdefault(sha, []).append((start, end))
    rows = []
    texts = notices.get_column("text").to_list() if texts is None else texts
    for sha, text in zip(notices.get_column("content_sha256").to_list(), texts):
        at = 0
        for start, end in sorted(bounds.get(sha, [])) + [(len(text), len(text))]:
            if start > at:
                rows.append({"content_sha256": sha, "text": text[at:start], "char_start": at})
            at = max(at, end)
    return pl.DataFrame(
        rows, schema={"content_sha256": pl.String, "text": pl.String, "char_start": pl.Int64}
    ).select(
        "content_sha256",
        pl.lit(None, dtype=pl.Int32).alias("node_ordinal"),
        pl.lit(None, dtype=pl.Int32).alias("measure_ordinal"),
        "text",
        "char_start",
    )


def assign_measures(indicators: pl.DataFrame, measures: pl.DataFrame) -> pl.DataFrame:
    """Set measure_ordinal of each indicator whose quote lies inside a measure of its node."""
    bounds = measures.select(
        "content_sha256",
        "node_ordinal",
        pl.col("measure_ordinal").alias("found_measure"),
        pl.col("char_start").cast(pl.Int64).alias("measure_start"),
        pl.col("char_end").cast(pl.Int64).alias("measure_end"),
    ).sort("measure_start")
    located = indicators.sort("char_start").join_asof(
        bounds,
        left_on="char_start",
        right_on="measure_start",
        by=["content_sha256", "node_ordinal"],
        strategy="backward",
        check_sortedness=False,  # both sides are sorted on the asof key above
    )
    inside = pl.col("char_end") <= pl.col("measure_end")
    return located.with_columns(
        pl.when(inside).then(pl.col("found_measure")).otherwise(pl.col("measure_ordinal")).cast(pl.Int32).alias("measure_ordinal")
    ).drop("found_measure", "measure_start", "measure_end")


# Tables whose rows each belong to one notice, with the order their rows are published in. A set of notices
# gives the same rows whether it is built alone or with others, so batches can be built apart and concatenated.
NOTICE_TABLES: dict[str, tuple[str, ...]] = {
    "raw_notice": ("notice_key",),
    "dim_notice": ("notice_key",),
    "fact_issue": ("notice_key", "node_ordinal"),
    "fact_measure": ("issue_key", "ordinal"),
    "fact_indicator": ("notice_key", "char_start"),
    "fact_claim": ("notice_key", "char_start", "subject", "status"),
    "parse_report": ("notice_key",),
    "fact_claim_rate": ("notice_key", "char_start"),
}
# Dimensions that several notices may share (same inspected unit, same inspection): each batch gives the rows of
# its own notices, and combining batches keeps one row per key.
SHARED_DIMENSIONS: dict[str, str] = {"dim_organization": "organization_key", "dim_inspection": "inspection_key"}


def build_star(
    notices: pl.DataFrame,
    metadata: pl.DataFrame,
    issues: pl.DataFrame,
    measures: pl.DataFrame,
    claims: pl.DataFrame,
    indicators: pl.DataFrame,
) -> dict[str, pl.DataFrame]:
    """Every published table (except quarantine_notice and the lineage tables) as a frame with the DDL's columns."""
    tables = notice_tables(notices, metadata, issues, measures, claims, indicators)
    return combine_star([tables], date_span(tables))


def notice_tables(
    notices: pl.DataFrame,
    metadata: pl.DataFrame,
    issues: pl.DataFrame,
    measures: pl.DataFrame,
    claims: pl.DataFrame,
    indicators: pl.DataFrame,
) -> dict[str, pl.DataFrame]:
    """The rows these notices give to NOTICE_TABLES and SHARED_DIMENSIONS (the latter not yet deduplicated)."""
    notice_meta = notices.join(metadata, on="content_sha256", how="left")

    orgs = organizations(metadata).with_columns(
        pl.when(pl.col("name").is_not_null()).then(_digest_key_expr(["name"])).alias("organization_key")
    )
    inspections = metadata.select("content_sha256", "inspected_unit", *_INSPECTION_FIELDS).with_columns(
        _digest_key_expr(["inspected_unit", *_INSPECTION_FIELDS]).alias("inspection_key")
    )

    dim_notice = (
        notice_meta.join(orgs.select("content_sha256", "organization_key"), on="content_sha256", how="left")
        .join(inspections.select("content_sha256", "inspection_key"), on="content_sha256", how="left")
        .select(
            notice_key().alias("notice_key"),
            "source_name",
            "content_sha256",
            "title",
            "publisher",
            "publish_date",
            "report_stage",
            "inspection_key",
            "organization_key",
            "contact_phones",
            "contact_emails",
            "contact_address",
            pl.col("text").str.len_chars().cast(pl.Int32).alias("char_count"),
        )
    )

    measure_counts = measures.group_by("content_sha256", "node_ordinal").agg(pl.len().alias("measure_count"))
    fact_issue = (
        assign_topics(issues).join(measure_counts, on=["content_sha256", "node_ordinal"], how="left")
        .select(
            _issue_key("node_ordinal").alias("issue_key"),
            notice_key().alias("notice_key"),
            pl.when(pl.col("parent_ordinal").is_not_null()).then(_issue_key("parent_ordinal")).alias("parent_issue_key"),
            "level",
            "number",
            "title",
            "status",
            "status_phrase",
            "status_source",
            "expected_completion",
            "topic",
            "topic_rule",
            pl.col("measure_count").fill_null(0).cast(pl.Int32),
            pl.col("node_ordinal").cast(pl.Int32),
            "text",
            pl.col("char_start").cast(pl.Int64),
            pl.col("char_end").cast(pl.Int64),
        )
    )

    fact_measure = measures.select(
        pl.concat_str(_issue_key("node_ordinal"), pl.lit("-m"), pl.col("measure_ordinal").cast(pl.String)).alias("measure_key"),
        _issue_key("node_ordinal").alias("issue_key"),
        notice_key().alias("notice_key"),
        pl.col("measure_ordinal").cast(pl.Int32).alias("ordinal"),
        "label",
        "phase",
        "text",
        pl.col("char_start").cast(pl.Int64),
        pl.col("char_end").cast(pl.Int64),
    )

    fact_indicator = indicators.select(
        pl.concat_str(notice_key(), pl.lit("-x"), pl.col("char_start").cast(pl.String)).alias("indicator_key"),
        notice_key().alias("notice_key"),
        _issue_key("node_ordinal").alias("issue_key"),
        pl.when(pl.col("measure_ordinal").is_not_null())
        .then(pl.concat_str(_issue_key("node_ordinal"), pl.lit("-m"), pl.col("measure_ordinal").cast(pl.String)))
        .alias("measure_key"),
        "value",
        "unit",
        "value_base",
        "base_unit",
        "qualifier",
        "direction",
        "metric",
        "quote",
        pl.col("char_start").cast(pl.Int64),
        pl.col("char_end").cast(pl.Int64),
        "value_low", "value_high", "dimension", "metric_rule", "period", "period_start", "period_end",
    )

    fact_claim = (
        claims.sort("content_sha256", "char_start", "subject", "status", nulls_last=False)
        .with_columns(pl.int_range(pl.len()).over("content_sha256").alias("claim_rank"))
        .select(
            pl.concat_str(notice_key(), pl.lit("-c"), pl.col("claim_rank").cast(pl.String)).alias("claim_key"),
            notice_key().alias("notice_key"),
            "subject",
            "status",
            pl.col("claimed_count").cast(pl.Int64),
            pl.col("parsed_count").cast(pl.Int64),
            (pl.col("claimed_count") == pl.col("parsed_count")).alias("reconciled"),
            "quote",
            pl.col("char_start").cast(pl.Int64),
            pl.col("char_end").cast(pl.Int64),
        )
    )

    raw_notice = notices.select(
        notice_key().alias("notice_key"), "source_name", "content_sha256", "encoding", "raw_text", "text"
    )

    tables = {
        "raw_notice": raw_notice,
        "dim_organization": orgs.filter(pl.col("organization_key").is_not_null()).select(
            "organization_key", "name", "org_type", "province", "city", "county", "township", "adcode"
        ),
        "dim_inspection": inspections.select("inspection_key", *_INSPECTION_FIELDS),
        "dim_notice": dim_notice,
        "fact_issue": fact_issue,
        "fact_measure": fact_measure,
        "fact_indicator": fact_indicator,
        "fact_claim": fact_claim,
        "parse_report": parse_report(notices, metadata, issues, measures, claims, indicators)
        .with_columns(notice_key().alias("notice_key"))
        .drop("content_sha256"),
        "fact_claim_rate": extract_rates(notices, claims).select(
            pl.concat_str(notice_key(), pl.lit("-r"), pl.col("char_start").cast(pl.String)).alias("rate_key"),
            notice_key().alias("notice_key"),
            pl.exclude("content_sha256"),
        ),
    }
    return {name: in_published_order(name, frame) for name, frame in tables.items()}


def in_published_order(table: str, frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with the rows of a NOTICE_TABLES / SHARED_DIMENSIONS table in the order they are published.

    A shared dimension keeps one row per key: of rows with the same key (built from the same defining fields),
    the first in the order of all columns, so the choice does not depend on how notices were batched.
    """
    if table in SHARED_DIMENSIONS:
        return frame.sort(frame.columns, nulls_last=False).unique(SHARED_DIMENSIONS[table], keep="first", maintain_order=True)
    return frame.sort(list(NOTICE_TABLES[table]), nulls_last=False, maintain_order=True)


def combine_star(parts: list[dict[str, pl.DataFrame]], dates: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """The published tables from the `notice_tables` of several batches, plus the reference dimensions and a
    calendar covering `dates` (the `date_span` of every batch)."""
    tables = {
        name: in_published_order(name, pl.concat([part[name] for part in parts], how="vertical_relaxed"))
        for name in parts[0]
    }
    tables |= reference_tables()
    tables["dim_date"] = dim_date({"span": dates})
    return tables


def reference_tables() -> dict[str, pl.DataFrame]:
    """The dimensions that come from reference data, not from notices: metrics and topics."""
    return {"dim_metric": metric_catalogue(), "dim_topic": topic_table()}


def date_span(tables: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """The first and last date of every DATE column of `tables` (one row; NULL when there is none)."""
    dates = [
        frame.get_column(name)
        for frame in tables.values()
        for name, dtype in frame.schema.items()
        if dtype == pl.Date
    ]
    present = pl.concat(dates).drop_nulls() if dates else pl.Series([], dtype=pl.Date)
    return pl.DataFrame({"first": [present.min()], "last": [present.max()]}, schema={"first": pl.Date, "last": pl.Date})


def dim_date(tables: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Calendar of whole years covering every DATE column of `tables` (empty when there are none)."""
    span = date_span(tables).row(0, named=True)
    first, last = span["first"], span["last"]
    if first is None:
        days = pl.Series("date_key", [], dtype=pl.Date)
    else:
        days = pl.date_range(date(first.year, 1, 1), date(last.year, 12, 31), eager=True).alias("date_key")
    return pl.DataFrame(days).select(
        "date_key",
        pl.col("date_key").dt.year().cast(pl.Int32).alias("year"),
        pl.col("date_key").dt.quarter().cast(pl.Int32).alias("quarter"),
        pl.col("date_key").dt.month().cast(pl.Int32).alias("month"),
        pl.col("date_key").dt.day().cast(pl.Int32).alias("day"),
        pl.col("date_key").dt.week().cast(pl.Int32).alias("iso_week"),
        pl.col("date_key").dt.weekday().cast(pl.Int32).alias("day_of_week"),
        pl.col("date_key").dt.strftime("%Y-%m").alias("year_month"),
    )
