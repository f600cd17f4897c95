"""Rectification status (整改状态) vocabulary: raw phrases → the status codes of DESIGN §3.

The phrases live in `status_phrases.csv` next to this module so that a reader can extend them without
touching code. Matching prefers the longest phrase, so 已完成整改并长期坚持 wins over 已完成整改.
"""

import csv
import re
from functools import cache
from pathlib import Path

STATUS_CODES = (
    "completed",
    "completed_long_term",
    "basically_completed",
    "in_progress",
    "long_term",
    "not_feasible",
)

_PHRASES_CSV = Path(__file__).with_name("status_phrases.csv")


@cache
def status_phrases() -> tuple[tuple[str, str], ...]:
    """(phrase, status code) pairs, longest phrase first."""
    with _PHRASES_CSV.open(encoding="utf-8") as handle:
        rows = [(row["phrase"], row["status"]) for row in csv.DictReader(handle)]
    unknown = {code for _, code in rows} - set(STATUS_CODES)
    if unknown:
        raise ValueError(f"{_PHRASES_CSV.name}: unknown status codes {sorted(unknown)}")
    return tuple(sorted(rows, key=lambda row: len(row[0]), reverse=True))


@cache
def _status_pattern() -> re.Pattern[str]:
    return re.compile("|".join(re.escape(phrase) for phrase, _ in status_phrases()))


@cache
def _codes() -> dict[str, str]:
    return dict(status_phrases())


def find_status(text: str) -> tuple[str, str] | None:
    """The first status phrase in `text` as (status code, phrase as written), or None."""
    match = _status_pattern().search(text)
    if match is None:
        return None
    return _codes()[match.group(0)], match.group(0)


def status_code(phrase: str) -> str | None:
    """The status code of a phrase such as '已完成整改并长期坚持', or None if it states no status."""
    found = find_status(phrase)
    return found[0] if found else None
