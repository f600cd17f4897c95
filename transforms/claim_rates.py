"""Completion rates a notice states (总体完成率98.71%), checked against the counts it claims.

A summary notice ("巡察反馈的697个问题,完成整改688个,基本完成整改4个,未完成5个,总体完成率98.71%") states
counts (transforms.claims) and a rate. The rate is recomputed from the claims on the same line before it:
the completed problems (status completed or completed_long_term) over the last total of problems
(subject issues, no status). It agrees when the two differ by less than one unit of the last decimal the
notice wrote (98.71 ↔ 688/697 = 98.7088…), which accepts both rounding and truncation. With no total or
no completed count before it on that line, the computed rate and the check are NULL; nothing is forced.
Rate words live in claims_cues.yaml (rate_words).
"""

import re
from functools import cache
from typing import NamedTuple

import polars as pl

from transforms.claims import cues, status_matches
from transforms.text import matches_in_column

RATE_SCHEMA = {
    "content_sha256": pl.String,
    "stated_percent": pl.Float64,
    "computed_percent": pl.Float64,
    "total_count": pl.Int64,
    "completed_count": pl.Int64,
    "agrees": pl.Boolean,
    "quote": pl.String,
    "char_start": pl.Int64,
    "char_end": pl.Int64,
}


@cache
def _rate_words() -> str:
    """The rate words, longest first, as a regex alternation."""
    return "|".join(map(re.escape, sorted(cues()["rate_words"], key=len, reverse=True)))


@cache
def _rate_pattern() -> re.Pattern[str]:
    return re.compile(rf"(?:{_rate_words()})(?:为|达到|达)?\s*(?P<value>\d{{1,3}}(?:\.(?P<decimals>\d+))?)\s*[%%]")


def extract_rates(notices: pl.DataFrame, claims: pl.DataFrame) -> pl.DataFrame:
    """One row per stated rate of every notice (columns: RATE_SCHEMA)."""
    rows = []
    claims_of = _claims_by_notice(claims)
    completed_statuses = set(status_matches("completed"))
    # A rate starts with a rate word: Polars finds those in every text at once, and the pattern is tried
    # only there (transforms.text.matches_in_column), not at every character of every notice; only the
    # texts that state a rate are read in Python (as the string of their matches).
    stated = matches_in_column(_rate_pattern(), notices.get_column("text"), _rate_words())
    for sha, matches in zip(notices.get_column("content_sha256").to_list(), stated):
        own = claims_of.get(sha, [])
        for match in matches:
            line_start = match.string.rfind("\n", 0, match.start()) + 1
            before = [c for c in own if c.char_start >= line_start and c.char_end <= match.start() and c.subject == "issues"]
            totals = [c for c in before if c.status is None]
            total = completed = computed = agrees = None
            if totals:
                total_claim = totals[-1]
                total = total_claim.claimed_count
                done = [c for c in before if c.char_start > total_claim.char_start and c.status in completed_statuses]
                if done and total:
                    completed = sum(c.claimed_count for c in done if c.claimed_count is not None)
                    computed = 100 * completed / total
                    decimals = len(match.group("decimals") or "")
                    agrees = abs(float(match.group("value")) - computed) < 10 ** -decimals
            rows.append(
                {
                    "content_sha256": sha,
                    "stated_percent": float(match.group("value")),
                    "computed_percent": computed,
                    "total_count": total,
                    "completed_count": completed,
                    "agrees": agrees,
                    "quote": match.group(0),
                    "char_start": match.start(),
                    "char_end": match.end(),
                }
            )
    return pl.DataFrame(rows, schema=RATE_SCHEMA)


class _Claim(NamedTuple):
    subject: str | None
    status: str | None
    claimed_count: int | None
    char_start: int
    char_end: int


def _claims_by_notice(claims: pl.DataFrame) -> dict[str, list[_Claim]]:
    """The claims of each notice in reading order (char_start, ties in frame order): one pass over the
    claims, then plain Python per rate (a filter of the frame per rate cost more than the rest together)."""
    grouped: dict[str, list[_Claim]] = {}
    ordered = claims.sort("content_sha256", "char_start", maintain_order=True)
    for sha, *fields in ordered.select("content_sha256", *_Claim._fields).iter_rows():
        grouped.setdefault(sha, []).append(_Claim(*fields))
    return grouped
