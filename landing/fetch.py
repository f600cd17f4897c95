"""Polite HTTP fetching: robots.txt, a per-host limit and delay, timeouts, retries with backoff, conditional GETs.

One `PoliteFetcher` serves one source run. Rules (defaults in landing.sources.Politeness):
- every request carries the configured descriptive User-Agent;
- robots.txt of each origin is read once per run (urllib.robotparser) and a disallowed URL is never
  requested; an unreachable robots.txt (5xx, network error) disallows the origin, as RFC 9309 asks, while a
  missing one (404 and other 4xx) allows everything; its Crawl-delay is honoured when longer than ours;
- at most `max_per_host` requests in flight per host, and `delay_seconds` between request starts;
- a 5xx, a 429, a timeout or a network error is retried `retries` times after an exponential backoff
  (`backoff_seconds` doubled each time, capped; a Retry-After in seconds is obeyed up to the cap);
  any other 4xx is final at once;
- `If-None-Match` / `If-Modified-Since` are sent when the previous fetch recorded an ETag / Last-Modified.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

import httpx

from landing.sources import Politeness

RETRIED_STATUSES = frozenset({429}) | frozenset(range(500, 600))


@dataclass(frozen=True)
class Response:
    """What one (possibly retried) GET gave: a final status and body, or the reason there is none."""

    url: str
    status: int | None
    data: bytes | None
    etag: str | None
    last_modified: str | None
    content_type: str | None
    attempts: int
    conditional: bool
    error: str | None = None  # set when there is no usable answer (network failure, retries exhausted, 4xx)

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class _TooLarge(Exception):
    pass


class _HostGate:
    """At most N requests in flight to one host, and a minimum interval between their starts."""

    def __init__(self, limit: int, delay: float):
        self._slots = asyncio.Semaphore(limit)
        self._lock = asyncio.Lock()
        self._next_start = 0.0
        self.delay = delay

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        async with self._slots:
            async with self._lock:
                loop = asyncio.get_running_loop()
                wait = self._next_start - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                self._next_start = loop.time() + self.delay
            yield


class PoliteFetcher:
    def __init__(self, politeness: Politeness, transport: httpx.AsyncBaseTransport | None = None):
        self.politeness = politeness
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._gates: dict[str, _HostGate] = {}
        self._robots: dict[str, tuple[RobotFileParser | None, str | None]] = {}
        self._robots_lock = asyncio.Lock()

    async def __aenter__(self) -> "PoliteFetcher":
        p = self.politeness
        self._client = httpx.AsyncClient(
            headers={"User-Agent": p.user_agent, "Accept": "text/html,application/xhtml+xml,text/plain;q=0.9,*/*;q=0.5"},
            timeout=httpx.Timeout(p.timeout_seconds),
            follow_redirects=True,
            transport=self._transport,
            limits=httpx.Limits(max_connections=max(4, p.max_per_host * 4), max_keepalive_connections=4),
        )
        return self

    async def __aexit__(self, *exc) -> None:
        if self._client is not None:
            await self._client.aclose()

    def _gate(self, url: str) -> _HostGate:
        host = urlsplit(url).netloc.lower()
        if host not in self._gates:
            self._gates[host] = _HostGate(self.politeness.max_per_host, self.politeness.delay_seconds)
        return self._gates[host]

    async def allowed(self, url: str) -> tuple[bool, str | None]:
        """(may we fetch `url`, why not). robots.txt is read once per origin."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        async with self._robots_lock:
            if origin not in self._robots:
                self._robots[origin] = await self._read_robots(origin)
        parser, problem = self._robots[origin]
        if parser is None:
            return False, problem
        if not parser.can_fetch(self.politeness.user_agent, url):
            return False, f"disallowed by {origin}/robots.txt"
        return True, None

    async def _read_robots(self, origin: str) -> tuple[RobotFileParser | None, str | None]:
        response = await self.get(f"{origin}/robots.txt")
        parser = RobotFileParser(f"{origin}/robots.txt")
        if response.status is None or response.status >= 500 or response.status == 429:
            return None, f"robots.txt of {origin} unreachable ({response.error}); the whole site is treated as disallowed"
        if response.status in (401, 403):
            parser.disallow_all = True
        elif response.status >= 400:
            parser.allow_all = True
        else:
            parser.parse((response.data or b"").decode("utf-8", errors="replace").splitlines())
        crawl_delay = parser.crawl_delay(self.politeness.user_agent)
        if crawl_delay:
            gate = self._gate(origin)
            gate.delay = max(gate.delay, min(float(crawl_delay), self.politeness.max_backoff_seconds))
        return parser, None

    async def get(self, url: str, etag: str | None = None, last_modified: str | None = None) -> Response:
        """GET `url` with retries; conditional when a validator of the previous fetch is given."""
        assert self._client is not None, "use PoliteFetcher as an async context manager"
        p = self.politeness
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        attempt, error, status = 0, None, None
        while True:
            attempt += 1
            retry_after = None
            async with self._gate(url).slot():
                try:
                    status, data, response_headers = await self._once(url, headers)
                except httpx.TimeoutException as exc:
                    status, error = None, f"timed out ({type(exc).__name__}) after {p.timeout_seconds:g} s"
                except httpx.TransportError as exc:
                    status, error = None, f"network error: {type(exc).__name__}: {exc}"
                except httpx.HTTPError as exc:  # an invalid URL and the like: trying again will not help
                    return Response(url, None, None, None, None, None, attempt, bool(headers), f"{type(exc).__name__}: {exc}")
                except _TooLarge:
                    return Response(url, None, None, None, None, None, attempt, bool(headers),
                                    f"response larger than {p.max_bytes} bytes")
            if status is not None and status not in RETRIED_STATUSES:
                final_error = f"HTTP {status}" if status >= 400 else None
                return Response(
                    url, status, data, response_headers.get("etag"), response_headers.get("last-modified"),
                    response_headers.get("content-type"), attempt, bool(headers), final_error,
                )
            if status is not None:
                error = f"HTTP {status}"
                retry_after = _retry_after_seconds(response_headers.get("retry-after"))
            if attempt > p.retries:
                return Response(url, status, None, None, None, None, attempt, bool(headers),
                                f"{error} (gave up after {attempt} attempt{'s' if attempt > 1 else ''})")
            wait = p.backoff_seconds * 2 ** (attempt - 1)
            if retry_after is not None:
                wait = max(wait, retry_after)
            await asyncio.sleep(min(wait, p.max_backoff_seconds))

    async def _once(self, url: str, headers: dict[str, str]) -> tuple[int, bytes, httpx.Headers]:
        async with self._client.stream("GET", url, headers=headers) as response:
            chunks, size = [], 0
            # aiter_bytes undoes Content-Encoding (gzip, br: transport packaging) and nothing else, so these are
            # the page's bytes as the server published them, in their own character encoding.
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > self.politeness.max_bytes:
                    raise _TooLarge()
                chunks.append(chunk)
            data = b"".join(chunks)
            return response.status_code, data, response.headers


def _retry_after_seconds(value: str | None) -> float | None:
    if value and value.strip().isdigit():
        return float(value.strip())
    return None
