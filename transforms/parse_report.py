"""What the parser understood of each notice (parse_report): one row per loaded notice, so that an analyst can
filter out notices whose structure was not understood instead of trusting numbers silently.

A notice whose hierarchy is not recognised still loads with its metadata, claims and indicators; its report
says so (no issue nodes, confidence 'low'). Nothing here invents structure: every figure counts rows of the
parsed frames.

Confidence, the documented rule (first that applies):
- low     no issue or sub_issue node was found (the structure was not understood), or the notice claims a
          total number of problems and fewer than half of them were found as nodes (truncated page,
          unknown layout);
- high    problem nodes were found and something independent corroborates them: a claimed total of
          problems equals the parsed count, or every problem at the finest level has a status;
- medium  problem nodes were found but nothing corroborates them (no claim to check and statuses missing),
          or a claimed total disagrees with the parsed count by less than half.
"""

import re

import polars as pl

REPORT_SCHEMA = {
    "content_sha256": pl.String,
    "numbering": pl.String,
    "measure_numbering": pl.String,
    "category_count": pl.Int32,
    "issue_count": pl.Int32,
    "sub_issue_count": pl.Int32,
    "measure_count": pl.Int32,
    "indicator_count": pl.Int32,
    "claim_count": pl.Int32,
    "problem_level": pl.String,
    "problems_with_status": pl.Int32,
    "status_sources": pl.String,
    "claims_checked": pl.Int32,
    "claims_reconciled": pl.Int32,
    "issue_total_claimed": pl.Int64,
    "issue_total_reconciled": pl.Boolean,
    "found": pl.List(pl.String),
    "missing": pl.List(pl.String),
    "confidence": pl.String,
    "confidence_reason": pl.String,
}

# The numbering system of a label as fact_issue.number / fact_measure.label write it.
_LABEL_KINDS = (
    ("cn_comma", re.compile(r"^[一二三四五六七八九十百]+$")),
    ("cn_paren", re.compile(r"^\([一二三四五六七八九十百]+\)$")),
    ("arabic", re.compile(r"^\d+$")),
    ("arabic_paren", re.compile(r"^\(\d+\)$")),
    ("circled", re.compile(r"^[①-⑳]$")),
    ("cn_ordinal", re.compile(r"^第[一二三四五六七八九十百]+$")),
    ("inline", re.compile(r"^(?:[一二三四五六七八九十]+是|一方面|另一方面)$")),
)
_LEVELS = ("category", "issue", "sub_issue")
# Metadata a notice usually states; listed in found / missing.
_METADATA_ITEMS = ("title", "publisher", "publish_date", "inspected_unit", "inspecting_body", "feedback_date")


def label_kind(label: str | None) -> str | None:
    """The numbering system of a label ('(1)' → 'arabic_paren'), 'other' when unknown, None for no label."""
    if not label:
        return None
    for kind, pattern in _LABEL_KINDS:
        if pattern.match(label):
            return kind
    return "other"


def _confidence(problem_count: int, total_claimed: int | None, reconciled: bool | None, all_statused: bool) -> tuple[str, str]:
    if problem_count == 0:
        return "low", "no problem nodes found: the structure was not understood"
    if total_claimed and problem_count * 2 < total_claimed:
        return "low", f"{problem_count} problem nodes found of {total_claimed} claimed"
    if reconciled:
        return "high", f"claimed total of {total_claimed} problems equals the parsed count"
    if all_statused:
        return "high", "every problem at the finest level has a status"
    if total_claimed:
        return "medium", f"{problem_count} problem nodes found, {total_claimed} claimed"
    return "medium", "problem nodes found but no claimed total or complete statuses corroborate them"


def parse_report(
    notices: pl.DataFrame,
    metadata: pl.DataFrame,
    issues: pl.DataFrame,
    measures: pl.DataFrame,
    claims: pl.DataFrame,
    indicators: pl.DataFrame,
) -> pl.DataFrame:
    """One row per notice of `notices` (columns: REPORT_SCHEMA) from the frames the parser produced."""
    meta_by_sha = {row["content_sha256"]: row for row in metadata.iter_rows(named=True)}
    rows = []
    for sha in notices["content_sha256"].to_list():
        nodes = issues.filter(pl.col("content_sha256") == sha)
        own_measures = measures.filter(pl.col("content_sha256") == sha)
        own_claims = claims.filter(pl.col("content_sha256") == sha)
        counts = {level: nodes.filter(pl.col("level") == level).height for level in _LEVELS}
        # Nesting as found: the numbering system of each level, top down.
        nesting = []
        for level in _LEVELS:
            kinds = [k for k in dict.fromkeys(label_kind(n) for n in nodes.filter(pl.col("level") == level)["number"].to_list()) if k]
            if kinds:
                nesting.append(f"{level}:{'/'.join(kinds)}")
        measure_kinds = [k for k in dict.fromkeys(label_kind(lab) for lab in own_measures["label"].to_list()) if k]
        problem_level = "sub_issue" if counts["sub_issue"] else "issue" if counts["issue"] else None
        problems = nodes.filter(pl.col("level") == problem_level) if problem_level else nodes.clear()
        with_status = problems.filter(pl.col("status").is_not_null())
        sources = sorted(set(with_status["status_source"].drop_nulls().to_list()))
        checked = own_claims.filter(pl.col("parsed_count").is_not_null())
        reconciled_count = checked.filter(pl.col("parsed_count") == pl.col("claimed_count")).height
        totals = own_claims.filter((pl.col("subject") == "issues") & pl.col("status").is_null())
        total_claimed = int(totals["claimed_count"].max()) if totals.height else None
        total_reconciled = None
        if totals.height:
            total_reconciled = bool((totals["claimed_count"] == problems.height).any())
        level, reason = _confidence(problems.height, total_claimed, total_reconciled, problems.height > 0 and with_status.height == problems.height)

        present = {
            "hierarchy": problems.height > 0,
            "statuses": with_status.height > 0,
            "measures": own_measures.height > 0,
            "claims": own_claims.height > 0,
            "indicators": indicators.filter(pl.col("content_sha256") == sha).height > 0,
        }
        meta = meta_by_sha.get(sha, {})
        present |= {item: meta.get(item) is not None for item in _METADATA_ITEMS}
        rows.append(
            {
                "content_sha256": sha,
                "numbering": " > ".join(nesting) or None,
                "measure_numbering": "/".join(measure_kinds) or None,
                "category_count": counts["category"],
                "issue_count": counts["issue"],
                "sub_issue_count": counts["sub_issue"],
                "measure_count": own_measures.height,
                "indicator_count": indicators.filter(pl.col("content_sha256") == sha).height,
                "claim_count": own_claims.height,
                "problem_level": problem_level,
                "problems_with_status": with_status.height,
                "status_sources": ",".join(sources) or None,
                "claims_checked": checked.height,
                "claims_reconciled": reconciled_count,
                "issue_total_claimed": total_claimed,
                "issue_total_reconciled": total_reconciled,
                "found": [name for name, ok in present.items() if ok],
                "missing": [name for name, ok in present.items() if not ok],
                "confidence": level,
                "confidence_reason": reason,
            }
        )
    return pl.DataFrame(rows, schema=REPORT_SCHEMA)
