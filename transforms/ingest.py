"""From the bytes of landed files to staged notices, or to quarantine with a reason.

Input (`raw`): one row per file — source_name, content_sha256, data (Binary), read_error (String, set
when the file could not even be read), and optionally size (bytes) and path (landing.land.RAW_SCHEMA: a file
whose bytes the listing left out has `data` null and its `path`; its bytes must be read in before staging).
Nothing is dropped: every input row comes out either as a staged notice or as a quarantine row.
"""

import re
from dataclasses import dataclass

import polars as pl

from transforms.privacy import mask_private_persons
from transforms.text import UndecodableNotice, decode_notice, html_to_text, looks_like_html, normalize_text, to_simplified

NOTICE_SCHEMA = {
    "source_name": pl.String,
    "content_sha256": pl.String,
    "encoding": pl.String,
    "raw_text": pl.String,
    "text": pl.String,
}
QUARANTINE_SCHEMA = {
    "source_name": pl.String,
    "content_sha256": pl.String,
    "reason": pl.String,
    "raw_text": pl.String,
    "raw_bytes": pl.Binary,
}

# A rectification notice always names the inspection it answers; text without 巡视/巡察 is something else
# (a list page, an error page, an unrelated article).
_INSPECTION_CUE = re.compile(r"巡[视察]")
_MIN_CHARS = 50
# The longest real notices are a few hundred kilobytes; a file far larger is an archive, a dump or an error,
# and parsing it would hold up the whole refresh.
MAX_NOTICE_BYTES = 20_000_000
# Staged rows are gathered into frames this many at a time.
_FRAME_ROWS = 500
# A file with one of these suffixes is read as an HTML page whatever its content looks like.
HTML_SUFFIXES = (".html", ".htm")


class NotANotice(ValueError):
    """Readable text that is not a rectification notice."""


def decode_source(source_name: str, data: bytes) -> tuple[str, str, str]:
    """(decoded file content as published, its visible text, encoding).

    The decoded content is kept as is (HTML included) so that nothing is lost; the visible text of an
    HTML page is what gets parsed.
    """
    decoded, encoding = decode_notice(data)
    is_html = source_name.lower().endswith(HTML_SUFFIXES) or looks_like_html(decoded)
    return decoded, html_to_text(decoded) if is_html else decoded, encoding


def check_is_notice(text: str) -> None:
    if len(text) < _MIN_CHARS:
        raise NotANotice(f"too short to be a notice ({len(text)} characters)")
    if not _INSPECTION_CUE.search(text):
        raise NotANotice("not a rectification notice: no mention of 巡视 or 巡察")


def stage_notices(raw: pl.DataFrame, max_bytes: int = MAX_NOTICE_BYTES) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split landed files into (staged notices, quarantine). Exact duplicate contents are staged once.

    A notice in traditional characters is parsed in simplified characters (`text`), and names of private
    individuals are masked in `text` (transforms.privacy); `raw_text` keeps the notice as published.
    """
    staged, quarantined, parts = [], [], []
    for row in raw.iter_rows(named=True):
        if len(staged) == _FRAME_ROWS:  # a frame per chunk: the texts are not held twice, as dicts and as a frame
            parts.append(pl.DataFrame(staged, schema=NOTICE_SCHEMA))
            staged = []
        name, sha, data, size = row["source_name"], row["content_sha256"], row["data"] or b"", row.get("size")
        size = len(data) if size is None else size
        if row.get("read_error"):
            quarantined.append(_quarantine_row(name, sha, f"unreadable file: {row['read_error']}", None, data))
            continue
        if size > max_bytes:
            reason = f"file too large to be a notice ({size:,} bytes; the limit is {max_bytes:,})"
            quarantined.append(_quarantine_row(name, sha, reason, None, data))
            continue
        if row["data"] is None and row.get("path") is not None:
            raise ValueError(f"{name}: the bytes of this file were not read in (landing.file_bytes.with_bytes)")
        try:
            raw_text, visible_text, encoding = decode_source(name, data)
        except (UndecodableNotice, UnicodeDecodeError) as error:
            quarantined.append(_quarantine_row(name, sha, f"cannot decode: {error}", None, data))
            continue
        text = mask_private_persons(to_simplified(normalize_text(visible_text))[0])
        try:
            check_is_notice(text)
        except NotANotice as error:
            quarantined.append(_quarantine_row(name, sha, str(error), raw_text, data))
            continue
        staged.append(
            {"source_name": name, "content_sha256": sha, "encoding": encoding, "raw_text": raw_text, "text": text}
        )
    notices = pl.concat([*parts, pl.DataFrame(staged, schema=NOTICE_SCHEMA)]).sort("source_name").unique("content_sha256", keep="first", maintain_order=True)
    return notices, pl.DataFrame(quarantined, schema=QUARANTINE_SCHEMA)


def is_readable(max_bytes: int = MAX_NOTICE_BYTES) -> pl.Expr:
    """True for a landed file that staging would try to decode: read without error and not too large."""
    return pl.col("read_error").is_null() & (file_size() <= max_bytes)


def file_size() -> pl.Expr:
    """A landed file's size in bytes: its `size` (landing.land.RAW_SCHEMA), else the size of its bytes."""
    return pl.coalesce(pl.col("size"), pl.col("data").bin.size(), pl.lit(0))


def reject_unreadable(raw: pl.DataFrame, max_bytes: int = MAX_NOTICE_BYTES) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(the files staging would decode, without their bytes; the quarantine rows of the others).

    Rejecting a file that could not be read or is too large needs no decoding, so it is done where the
    files are listed; the quarantine rows are the ones `stage_notices` gives them.
    """
    fit = is_readable(max_bytes)
    return raw.filter(fit).select("source_name", "content_sha256"), stage_notices(raw.filter(~fit), max_bytes)[1]


def _is_html_name(names: pl.Expr) -> pl.Expr:
    return pl.any_horizontal(names.str.to_lowercase().str.ends_with(suffix) for suffix in HTML_SUFFIXES)


# Staging depends only on a file's bytes and on whether its name says HTML: (content, _html) names one result.
_STAGING_KIND = _is_html_name(pl.col("source_name")).alias("_html")
_STAGING_KEY = ["content_sha256", "_html"]


def _quarantine_row(name: str, sha: str, reason: str, raw_text: str | None, data: bytes) -> dict:
    return {"source_name": name, "content_sha256": sha, "reason": reason, "raw_text": raw_text, "raw_bytes": data}


def complete_quarantine(
    rows: pl.DataFrame, raw: pl.DataFrame, previous: pl.DataFrame | None, now
) -> pl.DataFrame:
    """Quarantine rows with the file's exact bytes and a stable quarantined_at.

    `quarantined_at` is the time this (source_name, content) was first quarantined, carried over from the
    previous warehouse, so a refresh with nothing new publishes identical rows.
    """
    with_bytes = rows.drop("raw_bytes").join(
        raw.select("source_name", "content_sha256", pl.col("data").alias("raw_bytes")),
        on=["source_name", "content_sha256"],
        how="left",
    )
    first_seen = (
        previous.select("source_name", "content_sha256", "quarantined_at")
        if previous is not None
        else pl.DataFrame(schema={"source_name": pl.String, "content_sha256": pl.String, "quarantined_at": pl.Datetime("us", "UTC")})
    )
    return (
        with_bytes.join(first_seen, on=["source_name", "content_sha256"], how="left")
        .with_columns(
            pl.col("raw_bytes").fill_null(b""),
            pl.col("quarantined_at").cast(pl.Datetime("us", "UTC")).fill_null(pl.lit(now).cast(pl.Datetime("us", "UTC"))),
        )
        .select("source_name", "content_sha256", "reason", "raw_text", "raw_bytes", "quarantined_at")
        .sort("source_name", "content_sha256")
    )


@dataclass(frozen=True)
class NoticeSelection:
    """What a refresh loads, before anything is decoded: `landed`, source_name and content_sha256 of the landed
    files staging should decode (reject_unreadable); `kept`, the staged notices (NOTICE_SCHEMA) of files gone
    from the landing folder whose facts are kept (transforms.lineage)."""

    landed: pl.DataFrame
    kept: pl.DataFrame

    def contents(self) -> int:
        """Distinct contents: at most the number of notices loaded (some files may not stage)."""
        return pl.concat([self.landed["content_sha256"], self.kept["content_sha256"]]).n_unique()


# The notices a refresh loads, as the parent process knows them: no text, only where each content is loaded from.
LOADED_SCHEMA = {"source_name": pl.String, "content_sha256": pl.String, "source_present": pl.Boolean}
# A row of a staging batch: a landed file to stage (source_present; its bytes are joined in when the batch is
# sent), or a notice kept although its file is gone (not source_present; staged text from the warehouse).
# `parse`: its content is to be parsed (no reused batch of the parse cache holds it).
WORK_SCHEMA = {**LOADED_SCHEMA, "parse": pl.Boolean, "batch": pl.Int64, **{c: pl.String for c in ("encoding", "raw_text", "text")}}


def plan_staging(
    landed: pl.DataFrame, kept: pl.DataFrame, known: pl.DataFrame, cached: pl.DataFrame, batch_contents: int
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Which files must be staged (decoded, normalised) and parsed, batch by batch, and which notices are
    settled without reading a byte: (settled notices, LOADED_SCHEMA; rows to stage, WORK_SCHEMA).

    `landed`: source_name, content_sha256 of the readable landed files; `kept`: staged notices (NOTICE_SCHEMA)
    kept although their file is gone; `known`: source_name, content_sha256 of notices staged earlier by this
    same code (the parse cache's); `cached`: content_sha256 whose star rows reused batches hold.

    The result is the one of staging every file (`stage_notices`, then `transforms.lineage.notices_to_load`):
    staging depends only on a file's bytes and on whether its name says HTML, so a (content, HTML) pair staged
    before is a notice again, and each pair is staged once, under its first name. A content is settled when
    every one of its pairs was staged before and its rows are cached: it is loaded under its first name.
    Every other content goes to a batch (`batch_contents` contents to parse per batch, in content order) with
    each of its pairs, and the kept notice of the same content, so that the process staging the batch
    can tell which name the content is loaded under (the first name that stages; the kept notice only when
    none does) and parse it.
    """
    firsts = (
        landed.select("source_name", "content_sha256", _STAGING_KIND)
        .sort("source_name")
        .unique(_STAGING_KEY, keep="first", maintain_order=True)
        .join(
            known.select("content_sha256", _STAGING_KIND, pl.lit(True).alias("_known")).unique(_STAGING_KEY),
            on=_STAGING_KEY, how="left",
        )
    )
    is_cached = pl.col("content_sha256").is_in(cached["content_sha256"].implode())
    contents = firsts.group_by("content_sha256").agg(
        pl.col("source_name").min(), pl.col("_known").fill_null(False).all().alias("_all_known")
    )
    settled_landed = contents.filter(pl.col("_all_known") & is_cached)
    kept = kept.join(settled_landed, on="content_sha256", how="anti")
    settled_kept = kept.filter(is_cached & ~pl.col("content_sha256").is_in(contents["content_sha256"].implode()))
    settled = pl.concat([
        settled_landed.select("source_name", "content_sha256", pl.lit(True).alias("source_present")),
        settled_kept.select("source_name", "content_sha256", pl.lit(False).alias("source_present")),
    ]).cast(LOADED_SCHEMA)
    work = (
        pl.concat([
            firsts.join(settled_landed, on="content_sha256", how="anti").select(
                "source_name", "content_sha256", pl.lit(True).alias("source_present")
            ),
            kept.join(settled_kept, on="content_sha256", how="anti").select(
                "source_name", "content_sha256", pl.lit(False).alias("source_present"), "encoding", "raw_text", "text"
            ),
        ], how="diagonal")
        .with_columns((~is_cached).alias("parse"))
        .sort("content_sha256", "source_name")
    )
    # a batch holds `batch_contents` contents to parse, in content order, as the parse of staged notices cut
    # them, and the contents only staged (rows cached) that fall between them
    to_parse = work.select("content_sha256", pl.col("parse").cast(pl.Int64)).unique("content_sha256", maintain_order=True)
    batches = to_parse.select("content_sha256", ((pl.col("parse").cum_sum() - pl.col("parse")) // batch_contents).alias("batch"))
    work = work.join(batches, on="content_sha256", maintain_order="left").select(list(WORK_SCHEMA)).cast(WORK_SCHEMA)
    return settled, work


def expand_rejections(rejected: pl.DataFrame, landed: pl.DataFrame) -> pl.DataFrame:
    """Quarantine rows of every landed file whose (content, HTML name) was rejected under its first name
    (`plan_staging` stages each pair once), as `stage_notices` gives one row per file."""
    return (
        rejected.with_columns(_STAGING_KIND)
        .drop("source_name")
        .join(landed.select("source_name", "content_sha256", _STAGING_KIND), on=_STAGING_KEY)
        .select(list(QUARANTINE_SCHEMA))
        .cast(QUARANTINE_SCHEMA)
    )
