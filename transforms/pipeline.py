"""Run every parsing transform over staged notices, isolating a notice whose parse fails.

The transforms are written over whole frames (fast, vectorised). If a batch raises, the batch is re-run one
notice at a time so that only the notices that really fail are quarantined, with the exception as the reason;
the others are parsed as usual.
"""

import traceback
from dataclasses import dataclass

import polars as pl

from transforms.claims import extract_claims
from transforms.indicators import extract_indicators
from transforms.ingest import QUARANTINE_SCHEMA
from transforms.metadata import extract_metadata
from transforms.star import assign_measures, indicator_spans
from transforms.structure import extract_issues, extract_measures


@dataclass(frozen=True)
class ParsedNotices:
    """Everything parsed from a set of staged notices (the frames of docs/architecture.md)."""

    notices: pl.DataFrame
    metadata: pl.DataFrame
    issues: pl.DataFrame
    measures: pl.DataFrame
    claims: pl.DataFrame
    indicators: pl.DataFrame
    failures: pl.DataFrame  # quarantine rows for notices whose parse raised

    def frames(self) -> dict[str, pl.DataFrame]:
        return {
            "metadata": self.metadata,
            "issues": self.issues,
            "measures": self.measures,
            "claims": self.claims,
            "indicators": self.indicators,
        }


def parse_batch(notices: pl.DataFrame) -> ParsedNotices:
    """Parse a batch of staged notices; raises if any transform raises."""
    metadata = extract_metadata(notices)
    issues = extract_issues(notices)
    measures = extract_measures(issues)
    claims = extract_claims(notices, issues, measures)
    indicators = assign_measures(extract_indicators(indicator_spans(notices, issues)), measures)
    return ParsedNotices(notices, metadata, issues, measures, claims, indicators, _no_failures())


def parse_notices(notices: pl.DataFrame) -> ParsedNotices:
    """Parse all notices; a notice whose parse raises is moved to `failures` instead of stopping the rest."""
    try:
        return parse_batch(notices)
    except Exception:  # noqa: BLE001 - isolate the failing notice below
        if notices.height <= 1:
            raise
    parsed, failures = [], []
    for index in range(notices.height):
        one = notices.slice(index, 1)
        try:
            parsed.append(parse_batch(one))
        except Exception as error:  # noqa: BLE001 - a parser bug must not stop the other notices
            row = one.row(0, named=True)
            reason = f"parse failed: {type(error).__name__}: {error} | {traceback.format_exc(limit=-1).strip().splitlines()[-2].strip()}"
            failures.append(
                {
                    "source_name": row["source_name"],
                    "content_sha256": row["content_sha256"],
                    "reason": reason,
                    "raw_text": row["raw_text"],
                    "raw_bytes": None,
                }
            )
    merged = {
        name: pl.concat([p.frames()[name] for p in parsed], how="vertical_relaxed") if parsed else None
        for name in ("metadata", "issues", "measures", "claims", "indicators")
    }
    ok = notices.filter(~pl.col("content_sha256").is_in([f["content_sha256"] for f in failures]))
    if not parsed:
        empty = parse_batch(notices.clear())
        merged = empty.frames()
    return ParsedNotices(ok, **merged, failures=pl.DataFrame(failures, schema=QUARANTINE_SCHEMA))


def _no_failures() -> pl.DataFrame:
    return pl.DataFrame(schema=QUARANTINE_SCHEMA)
