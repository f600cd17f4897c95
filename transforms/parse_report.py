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
from collections import defaultdict
from functools import cache

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


@cache
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


def _rows_by_notice(frame: pl.DataFrame, *columns: str) -> dict[str, list[tuple]]:
    """`columns` of every row of `frame`, grouped by content_sha256, rows in their original order.

    One pass over each frame: filtering the whole frame once per notice would be quadratic in the corpus.
    """
    grouped: dict[str, list[tuple]] = defaultdict(list)
    for sha, *values in frame.select("content_sha256", *columns).iter_rows():
        grouped[sha].append(tuple(values))
    return grouped


def _kinds(labels) -> list[str]:
    """Numbering systems of `labels` in order of first appearance."""
    return [k for k in dict.fromkeys(label_kind(label) for label in labels) if k]


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
    issues_of = _rows_by_notice(issues, "level", "number", "status", "status_source")
    measures_of = _rows_by_notice(measures, "label")
    claims_of = _rows_by_notice(claims, "subject", "status", "claimed_count", "parsed_count")
    indicator_counts = dict(indicators.group_by("content_sha256").len().iter_rows())
    rows = []
    for sha in notices["content_sha256"].to_list():
        nodes, own_measures, own_claims = issues_of.get(sha, []), measures_of.get(sha, []), claims_of.get(sha, [])
        indicator_count = indicator_counts.get(sha, 0)
        by_level = {level: [node for node in nodes if node[0] == level] for level in _LEVELS}
        counts = {level: len(by_level[level]) for level in _LEVELS}
        # Nesting as found: the numbering system of each level, top down.
        nesting = [f"{level}:{'/'.join(kinds)}" for level in _LEVELS if (kinds := _kinds(n[1] for n in by_level[level]))]
        measure_kinds = _kinds(label for (label,) in own_measures)
        problem_level = "sub_issue" if counts["sub_issue"] else "issue" if counts["issue"] else None
        problems = by_level[problem_level] if problem_level else []
        with_status = [node for node in problems if node[2] is not None]
        sources = sorted({node[3] for node in with_status if node[3] is not None})
        checked = [claim for claim in own_claims if claim[3] is not None]
        reconciled_count = sum(1 for claim in checked if claim[2] is not None and claim[3] == claim[2])
        totals = [claim[2] for claim in own_claims if claim[0] == "issues" and claim[1] is None]
        stated_totals = [total for total in totals if total is not None]
        total_claimed = int(max(stated_totals)) if stated_totals else None
        total_reconciled = any(total == len(problems) for total in stated_totals) if totals else None
        level, reason = _confidence(len(problems), total_claimed, total_reconciled, bool(problems) and len(with_status) == len(problems))

        present = {
            "hierarchy": bool(problems),
            "statuses": bool(with_status),
            "measures": bool(own_measures),
            "claims": bool(own_claims),
            "indicators": indicator_count > 0,
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
                "measure_count": len(own_measures),
                "indicator_count": indicator_count,
                "claim_count": len(own_claims),
                "problem_level": problem_level,
                "problems_with_status": len(with_status),
                "status_sources": ",".join(sources) or None,
                "claims_checked": len(checked),
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
