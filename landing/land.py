"""Landing one web source: fetch what is new since the last run, archive it, and say which pages are notices.

`land_web(source, archive)` walks a listing source's list pages (following the next-page rule up to
`max_pages`) or takes a pages source's URLs, then fetches every notice page, politely and conditionally
(landing.fetch). Every request, and every page not requested (robots.txt), becomes one fetch-log row
(landing.archive.FETCH_LOG_SCHEMA) with its outcome:

    new           first content seen for this URL          changed       different content than last time
    unchanged     200 with the same bytes as last time      not_modified  304: the archived bytes are reused
    disallowed    robots.txt forbids it (never requested)   http_error    a 4xx, or a 5xx after every retry
    network_error timeouts / refused connections after every retry

and, when there is content, its page_kind (landing.classify): notice, listing, soft_404, list_page or
not_a_notice, with the reason for the last three. Only notices are handed on to parsing.

The pages handed on are the latest notice version of every URL this source ever yielded (for a pages
source, of its configured URLs), read back from the archive: a notice that dropped off the first list
pages, or a site that is down tonight, does not make published notices disappear. A source *fails* when
its first list page cannot be read, or when not one of its pages could be; the previous notices are still
handed on, and the failure is reported with its reason.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import polars as pl

from landing.archive import Archive, ArchiveError, log_frame
from landing.classify import LISTING, NOTICE, classify_page, extract_links, next_page_url
from landing.sources import Source
from transforms.text import UndecodableNotice, decode_notice

# The HTTP client (landing.fetch, httpx: ~0.15 s to import) is imported by the first web fetch: every refresh
# imports this module, and one that reads folders only has no use for it.
if TYPE_CHECKING:
    import httpx

    from landing.fetch import PoliteFetcher, Response

# One row per landed file. `data` is null when the listing left the bytes in the file at `path`:
# landing.file_bytes.with_bytes reads them when a step needs them, and checks that the file still has the
# size, modification and change times (ns) it was listed with. `size` in bytes.
RAW_SCHEMA = {
    "source_name": pl.String, "content_sha256": pl.String, "data": pl.Binary, "read_error": pl.String,
    "path": pl.String, "size": pl.Int64, "mtime_ns": pl.Int64, "ctime_ns": pl.Int64,
}
CONTENT_OUTCOMES = ("new", "changed", "unchanged", "not_modified")


@dataclass
class LandedSource:
    """What one source contributes to a refresh."""

    name: str
    kind: str
    pages: pl.DataFrame  # RAW_SCHEMA rows: the notices to load
    log: pl.DataFrame  # this run's fetch-log rows (empty for a folder)
    failure: str | None = None  # why the source as a whole failed
    problems: list[str] = field(default_factory=list)  # pages that could not be fetched, with the reason

    def counts(self) -> dict[str, int]:
        outcomes = Counter(self.log["outcome"].to_list()) if self.log.height else Counter()
        kinds = Counter(k for k in self.log["page_kind"].to_list() if k) if self.log.height else Counter()
        return {
            "notices_loaded": self.pages.height,
            "requests": int(self.log.filter(pl.col("outcome") != "disallowed").height) if self.log.height else 0,
            **{f"outcome_{name}": outcomes.get(name, 0) for name in (*CONTENT_OUTCOMES, "disallowed", "http_error", "network_error")},
            "skipped_not_notices": sum(v for k, v in kinds.items() if k not in (NOTICE, LISTING)),
        }


def land_web(source: Source, archive: Archive, transport: httpx.AsyncBaseTransport | None = None) -> LandedSource:
    """Fetch `source` into `archive` (appending to its fetch log) and return its notices.

    Whatever a site does to us (even markup that trips a library) fails this source only: its previous
    notices are handed on and the error is the failure reason.
    """
    try:
        return asyncio.run(_land_web(source, archive, transport))
    except Exception as error:  # noqa: BLE001 - reported as the source's failure, never swallowed silently
        history = archive.read_log().filter(pl.col("source") == source.name)
        wanted = set(source.urls) if source.kind == "pages" else None
        return LandedSource(source.name, source.kind, _notice_pages(history, archive, wanted), log_frame([]),
                            failure=f"unexpected error while fetching: {type(error).__name__}: {error}")


async def _land_web(source: Source, archive: Archive, transport) -> LandedSource:
    from landing.fetch import PoliteFetcher

    history = archive.read_log().filter(pl.col("source") == source.name)
    previous = _previous_content(history, archive)
    rows: list[dict] = []
    failure = None

    async with PoliteFetcher(source.politeness, transport) as fetcher:

        async def fetch(url: str, role: str) -> tuple[dict, str | None]:
            row, decoded = await _fetch_one(fetcher, archive, source.name, url, role, previous.get(url))
            rows.append(row)
            return row, decoded

        if source.kind == "listing":
            first = source.urls[0]
            page_url, listing_urls, notice_urls = first, [], []
            while page_url and len(listing_urls) < source.max_pages and page_url not in listing_urls:
                listing_urls.append(page_url)
                row, decoded = await fetch(page_url, "listing")
                if decoded is None:
                    if page_url == first:
                        failure = f"list page {page_url}: {row['reason']}"
                    break
                notice_urls += extract_links(decoded, page_url, source.links)
                page_url = next_page_url(decoded, page_url, first, source.next_page, len(listing_urls)) if source.next_page else None
            notice_urls = [u for u in dict.fromkeys(notice_urls) if u not in listing_urls]
        else:
            notice_urls = list(source.urls)

        page_rows = [row for row, _ in await asyncio.gather(*(fetch(url, "page") for url in notice_urls))]

    problems = [f"{r['url']}: {r['reason']}" for r in page_rows if r["outcome"] in ("disallowed", "http_error", "network_error")]
    if failure is None and page_rows and len(problems) == len(page_rows):
        failure = f"none of its {len(page_rows)} page(s) could be fetched; first: {problems[0]}"
    archive.append_log(rows)
    log = log_frame(rows)
    wanted = set(source.urls) if source.kind == "pages" else None
    return LandedSource(source.name, source.kind, _notice_pages(pl.concat([history, log]), archive, wanted), log, failure, problems)


def _previous_content(history: pl.DataFrame, archive: Archive) -> dict[str, dict]:
    """Per URL, the latest fetch that had content still in the archive (its validators make the next GET conditional)."""
    if history.is_empty():
        return {}
    latest = (
        history.filter(pl.col("outcome").is_in(CONTENT_OUTCOMES) & pl.col("content_sha256").is_not_null())
        .sort("fetched_at", maintain_order=True)
        .unique("url", keep="last")
    )
    return {row["url"]: row for row in latest.iter_rows(named=True) if archive.has(row["content_sha256"])}


async def _fetch_one(fetcher: PoliteFetcher, archive: Archive, source: str, url: str, role: str, previous: dict | None):
    """One fetch-log row for `url` and its decoded content (None when there is none)."""
    row = {"source": source, "url": url, "role": role, "fetched_at": _now(), "http_status": None, "attempts": 0,
           "conditional": False, "bytes": None, "content_sha256": None, "etag": None, "last_modified": None,
           "content_type": None, "encoding": None, "outcome": None, "page_kind": None, "reason": None}
    allowed, why = await fetcher.allowed(url)
    if not allowed:
        return row | {"outcome": "disallowed", "reason": why}, None
    response: Response = await fetcher.get(url, previous and previous["etag"], previous and previous["last_modified"])
    row |= {"fetched_at": _now(), "http_status": response.status, "attempts": response.attempts, "conditional": response.conditional}
    if response.not_modified and previous:
        data = archive.load(previous["content_sha256"])
        row |= {"outcome": "not_modified", "etag": response.etag or previous["etag"],
                "last_modified": response.last_modified or previous["last_modified"],
                "content_type": response.content_type or previous["content_type"]}
    elif response.error or response.data is None or response.status == 304:
        outcome = "http_error" if response.status is not None else "network_error"
        return row | {"outcome": outcome, "reason": response.error or f"HTTP {response.status} without a previous copy"}, None
    else:
        data = response.data
        row |= {"etag": response.etag, "last_modified": response.last_modified, "content_type": response.content_type}
    try:
        decoded, encoding = decode_notice(data)
    except (UndecodableNotice, UnicodeDecodeError) as error:
        decoded, encoding = None, None
        row |= {"page_kind": "not_a_notice", "reason": f"cannot decode: {error}"}
    sha = archive.store(data, url=url, content_type=row["content_type"], encoding=encoding, fetched_at=row["fetched_at"])
    if row["outcome"] is None:
        before = previous["content_sha256"] if previous else None
        row["outcome"] = "new" if before is None else "unchanged" if before == sha else "changed"
    row |= {"bytes": len(data), "content_sha256": sha, "encoding": encoding}
    if decoded is None:
        return row, None
    if role == "listing":
        row["page_kind"] = LISTING
    else:
        kind = classify_page(decoded, row["content_type"])
        row |= {"page_kind": kind.kind, "reason": kind.reason}
    return row, decoded


def _notice_pages(log: pl.DataFrame, archive: Archive, wanted: set[str] | None) -> pl.DataFrame:
    """RAW_SCHEMA rows: the latest notice version of every page URL in `log`, bytes from the archive."""
    notices = (
        log.filter((pl.col("role") == "page") & (pl.col("page_kind") == NOTICE) & pl.col("content_sha256").is_not_null())
        .sort("fetched_at", maintain_order=True)
        .unique("url", keep="last", maintain_order=True)
        .sort("url")
    )
    rows = []
    for url, sha in notices.select("url", "content_sha256").iter_rows():
        if wanted is not None and url not in wanted:
            continue
        try:
            data = archive.load(sha)
            rows.append({"source_name": url, "content_sha256": sha, "data": data, "read_error": None, "size": len(data)})
        except ArchiveError as error:
            rows.append({"source_name": url, "content_sha256": sha, "data": b"", "read_error": str(error)})
    return pl.DataFrame(rows, schema=RAW_SCHEMA)


def _now() -> datetime:
    return datetime.now(timezone.utc)
