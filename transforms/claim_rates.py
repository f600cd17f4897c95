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

import polars as pl

from transforms.claims import cues, status_matches
from transforms.text import matches_where

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
    # One partition of the claims, not a filter of all claims per notice (quadratic in the corpus).
    claims_of = claims.sort("content_sha256", "char_start", maintain_order=True).partition_by(
        "content_sha256", as_dict=True, maintain_order=True
    )
    # A rate starts with a rate word: Polars finds those in every text at once, and the pattern is tried
    # only there (transforms.text.matches_where), not at every character of every notice.
    stated = matches_where(_rate_pattern(), notices.get_column("text").to_list(), _rate_words())
    for (sha, text), matches in zip(notices.select("content_sha256", "text").iter_rows(), stated):
        own = claims_of.get((sha,), claims.clear())
        for match in matches:
            line_start = text.rfind("\n", 0, match.start()) + 1
            before = own.filter((pl.col("char_start") >= line_start) & (pl.col("char_end") <= match.start()) & (pl.col("subject") == "issues"))
            totals = before.filter(pl.col("status").is_null())
            total = completed = computed = agrees = None
            if totals.height:
                total_row = totals.row(-1, named=True)
                total = total_row["claimed_count"]
                after_total = before.filter(pl.col("char_start") > total_row["char_start"])
                done = after_total.filter(pl.col("status").is_in(list(status_matches("completed"))))
                if done.height and total:
                    completed = int(done["claimed_count"].sum())
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
