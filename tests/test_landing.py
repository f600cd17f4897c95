"""The landing package on its own: sources.yaml validation, page classification, links, encodings, retries."""

import asyncio
import time
from pathlib import Path

import dagster as dg
import httpx
import opencc
import pytest

from landing.classify import classify_page, extract_links, next_page_url
from landing.fetch import PoliteFetcher
from landing.sources import LinkRule, Politeness, SourcesError, load_sources, parse_sources
from tests.fetch_site import build_site, notice_html, seed_excerpt
from transforms.text import decode_notice

ROOT = Path(__file__).resolve().parent.parent
FAST = Politeness(delay_seconds=0, timeout_seconds=1, retries=2, backoff_seconds=0.01, max_backoff_seconds=0.05)


# --- sources.yaml ---------------------------------------------------------------------------------------


def test_the_shipped_example_loads_with_all_three_kinds():
    config = load_sources(ROOT / "sources.example.yaml")
    kinds = {s.name: s.kind for s in config.sources}
    assert kinds == {"seeds": "folder", "example_pages": "pages", "example_listing": "listing"}
    seeds, pages, listing = config.sources
    assert seeds.folder == ROOT / "seeds"
    assert config.archive == ROOT / "warehouse" / "archive"
    assert listing.links == LinkRule("css", "ul.list li a")
    assert listing.next_page == LinkRule("template", "index_{n}.html")
    assert listing.max_pages == 3
    assert listing.politeness.delay_seconds == 2  # its own override
    assert pages.politeness.delay_seconds == 1.0 and pages.politeness.retries == 3  # the file's defaults
    assert pages.politeness.user_agent.startswith("zhenggai/")


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"sources": []}, "non-empty list"),
        ({"sources": [{"name": "A b", "folder": "x"}]}, "name must be lower-case"),
        ({"sources": [{"name": "a", "folder": "x", "pages": ["https://e.org/1.html"]}]}, "exactly one of"),
        ({"sources": [{"name": "a"}]}, "exactly one of"),
        ({"sources": [{"name": "a", "pages": ["ftp://e.org/1.html"]}]}, "not an http(s) URL"),
        ({"sources": [{"name": "a", "listing": "https://e.org/"}]}, "needs `links`"),
        ({"sources": [{"name": "a", "listing": "https://e.org/", "links": {"regex": "("}}]}, "invalid regex"),
        ({"sources": [{"name": "a", "listing": "https://e.org/", "links": {"xpath": "//a"}}]}, "unknown rule 'xpath'"),
        ({"sources": [{"name": "a", "listing": "https://e.org/", "links": "a", "next_page": {"template": "p.html"}}]}, "must contain {n}"),
        ({"sources": [{"name": "a", "listing": "https://e.org/", "links": "a", "max_pages": 0}]}, "max_pages"),
        ({"sources": [{"name": "a", "folder": "x"}, {"name": "a", "folder": "y"}]}, "duplicate source name"),
        ({"sources": [{"name": "a", "folder": "x", "links": "a"}]}, "unknown key(s) ['links']"),
        ({"politeness": {"delay": 1}, "sources": [{"name": "a", "folder": "x"}]}, "unknown politeness setting"),
        ({"politeness": {"retries": -1}, "sources": [{"name": "a", "folder": "x"}]}, "must be a number ≥ 0"),
        ({"politeness": {"retries": 1.5}, "sources": [{"name": "a", "folder": "x"}]}, "whole number"),
        ({"politeness": {"max_per_host": 0}, "sources": [{"name": "a", "folder": "x"}]}, "at least 1"),
        ({"source": []}, "unknown top-level key"),
    ],
)
def test_a_mistake_in_sources_yaml_is_a_clear_error(document, message, tmp_path):
    with pytest.raises(SourcesError) as error:
        parse_sources(document, tmp_path / "sources.yaml")
    assert message in str(error.value)
    assert "sources.yaml" in str(error.value)


def test_a_missing_sources_file_is_a_clear_error(tmp_path):
    with pytest.raises(SourcesError, match="cannot read sources file"):
        load_sources(tmp_path / "nope.yaml")


# --- what a page is -------------------------------------------------------------------------------------


def test_a_notice_page_with_menus_and_footer_is_a_notice():
    page = notice_html("关于巡察整改情况的通报", seed_excerpt("000"), "utf-8")
    assert classify_page(page, "text/html").kind == "notice"


def test_pages_that_are_not_notices_are_told_apart_with_a_reason():
    site = build_site()
    soft = classify_page(site.routes["/xcgz/gone.html"].body.decode("utf-8"), "text/html")
    assert soft.kind == "soft_404" and "status 200" in soft.reason
    news = classify_page(site.routes["/xcgz/news.html"].body.decode("utf-8"), "text/html")
    assert news.kind == "not_a_notice" and "整改" in news.reason
    listing = classify_page(site.routes["/xcgz/index.html"].body.decode("utf-8"), "text/html")
    assert listing.kind == "list_page" and "links" in listing.reason
    short = classify_page("巡察整改", "text/plain")
    assert short.kind == "not_a_notice" and "too short" in short.reason


def test_a_long_notice_that_mentions_404_is_still_a_notice():
    lines = seed_excerpt("001") + ["共排查问题404个,已整改到位。"]
    assert classify_page(notice_html("巡视整改进展情况", lines, "utf-8")).kind == "notice"


def test_list_links_by_css_regex_and_the_next_page_by_text_css_regex_or_template():
    page = build_site().routes["/xcgz/index.html"].body.decode("utf-8")
    base = "https://e.gov.cn/xcgz/index.html"
    css = extract_links(page, base, LinkRule("css", "ul.list a"))
    assert css == ["https://e.gov.cn/xcgz/t1.html", "https://e.gov.cn/xcgz/t2.html", "https://e.gov.cn/private/t9.html",
                   "https://e.gov.cn/xcgz/missing.html", "https://e.gov.cn/xcgz/news.html"]
    assert extract_links(page, base, LinkRule("regex", r"/xcgz/t\d+\.html$")) == css[:2]
    assert next_page_url(page, base, base, LinkRule("text", "下一页"), 1) == "https://e.gov.cn/xcgz/index_1.html"
    assert next_page_url(page, base, base, LinkRule("css", ".pager a:last-child"), 1) == "https://e.gov.cn/xcgz/index_1.html"
    assert next_page_url(page, base, base, LinkRule("regex", r"index_\d+"), 1) == "https://e.gov.cn/xcgz/index_1.html"
    assert next_page_url(page, base, base, LinkRule("template", "index_{n}.html"), 2) == "https://e.gov.cn/xcgz/index_2.html"
    last = build_site().routes["/xcgz/index_1.html"].body.decode("utf-8")
    assert next_page_url(last, base, base, LinkRule("text", "下一页"), 2) is None


def test_links_honour_base_href_and_skip_javascript_and_fragments():
    page = '<html><head><base href="https://cdn.e.org/news/"></head><body><ul class="l">' \
           '<li><a href="a.html#top">A</a></li><li><a href="javascript:void(0)">B</a></li><li><a href="a.html">A again</a></li></ul></body></html>'
    assert extract_links(page, "https://e.org/list.html", LinkRule("css", "ul.l a")) == ["https://cdn.e.org/news/a.html"]


# --- encodings ------------------------------------------------------------------------------------------


def test_big5_traditional_pages_are_not_read_as_gb18030():
    traditional = opencc.OpenCC("s2t").convert("\n".join(seed_excerpt("003", 3)))
    data = traditional.encode("big5", errors="ignore")
    data.decode("gb18030")  # the trap: Big5 bytes are valid GB18030 too
    text, encoding = decode_notice(data)
    assert encoding == "big5"
    assert text == data.decode("big5")
    assert "巡視" in text
    simplified = "\n".join(seed_excerpt("003", 3)).encode("gb18030")
    assert decode_notice(simplified) == (simplified.decode("gb18030"), "gb18030")


# --- fetching rules (httpx mock transport: no sockets) -----------------------------------------------


def _fetch(handler, url: str, politeness: Politeness = FAST, **validators):
    calls = []

    def recording(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return handler(request, len([c for c in calls if c.url.path == request.url.path]))

    async def go():
        async with PoliteFetcher(politeness, httpx.MockTransport(recording)) as fetcher:
            allowed, why = await fetcher.allowed(url)
            response = await fetcher.get(url, **validators) if allowed else None
            return allowed, why, response

    allowed, why, response = asyncio.run(go())
    return allowed, why, response, [c for c in calls if c.url.path != "/robots.txt"]


def test_a_4xx_is_not_retried_and_a_5xx_is_retried_until_it_recovers():
    def handler(request, nth):
        if request.url.path == "/robots.txt":
            return httpx.Response(404)
        if request.url.path == "/gone.html":
            return httpx.Response(410)
        return httpx.Response(503) if nth <= 2 else httpx.Response(200, content=b"ok")

    _, _, gone, calls = _fetch(handler, "https://e.org/gone.html")
    assert (gone.status, gone.attempts, gone.error, len(calls)) == (410, 1, "HTTP 410", 1)
    _, _, flaky, calls = _fetch(handler, "https://e.org/flaky.html")
    assert (flaky.status, flaky.attempts, flaky.data, len(calls)) == (200, 3, b"ok", 3)


def test_retries_give_up_after_the_configured_number_and_say_so():
    def handler(request, nth):
        return httpx.Response(404) if request.url.path == "/robots.txt" else httpx.Response(502)

    _, _, response, calls = _fetch(handler, "https://e.org/down.html")
    assert len(calls) == 3 and response.data is None
    assert response.error == "HTTP 502 (gave up after 3 attempts)"


def test_retry_after_of_a_429_is_obeyed_up_to_the_cap():
    def handler(request, nth):
        if request.url.path == "/robots.txt":
            return httpx.Response(404)
        return httpx.Response(429, headers={"Retry-After": "30"}) if nth == 1 else httpx.Response(200, content=b"ok")

    started = time.monotonic()
    _, _, response, calls = _fetch(handler, "https://e.org/busy.html")
    assert response.status == 200 and len(calls) == 2
    assert time.monotonic() - started < 2  # 30 s asked, capped at max_backoff_seconds (0.05 s here)


def test_conditional_headers_are_sent_from_the_previous_validators():
    def handler(request, nth):
        if request.url.path == "/robots.txt":
            return httpx.Response(404)
        assert request.headers["If-None-Match"] == '"v1"'
        assert request.headers["If-Modified-Since"] == "Mon, 08 Jan 2024 02:00:00 GMT"
        return httpx.Response(304, headers={"ETag": '"v1"'})

    _, _, response, _ = _fetch(handler, "https://e.org/n.html", etag='"v1"', last_modified="Mon, 08 Jan 2024 02:00:00 GMT")
    assert response.not_modified and response.conditional and response.etag == '"v1"'


def test_robots_txt_forbidding_everything_or_denying_access_blocks_every_request():
    for robots in (httpx.Response(200, text="User-agent: *\nDisallow: /\n"), httpx.Response(403)):
        allowed, why, _, calls = _fetch(lambda request, nth, r=robots: r if request.url.path == "/robots.txt" else httpx.Response(200),
                                        "https://e.org/n.html")
        assert not allowed and "robots.txt" in why and calls == []


def test_robots_crawl_delay_spaces_requests_to_a_host():
    robots = "User-agent: *\nCrawl-delay: 5\n"  # capped at max_backoff_seconds (0.2 s here)
    seen = []

    def handler(request):
        if request.url.path == "/robots.txt":
            return httpx.Response(200, text=robots)
        seen.append(time.monotonic())
        return httpx.Response(200, content=b"ok")

    async def go():
        async with PoliteFetcher(Politeness(delay_seconds=0, max_per_host=2, timeout_seconds=1, max_backoff_seconds=0.2), httpx.MockTransport(handler)) as fetcher:
            await fetcher.allowed("https://e.org/a.html")
            await asyncio.gather(*(fetcher.get(f"https://e.org/{i}.html") for i in range(3)))

    asyncio.run(go())
    gaps = [b - a for a, b in zip(seen, seen[1:])]
    assert len(seen) == 3 and all(gap >= 0.18 for gap in gaps), gaps


def test_at_most_max_per_host_requests_are_in_flight_to_one_host():
    in_flight, peak = 0, 0

    async def handler(request):
        nonlocal in_flight, peak
        if request.url.path == "/robots.txt":
            return httpx.Response(404)
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.02)
        in_flight -= 1
        return httpx.Response(200, content=b"ok")

    async def go():
        async with PoliteFetcher(Politeness(delay_seconds=0, max_per_host=2, timeout_seconds=1), httpx.MockTransport(handler)) as fetcher:
            return await asyncio.gather(*(fetcher.get(f"https://e.org/{i}.html") for i in range(6)))

    responses = asyncio.run(go())
    assert [r.status for r in responses] == [200] * 6
    assert peak == 2


def test_definitions_have_one_asset_and_one_check_per_source_and_a_fetch_job():
    from orchestration.definitions import build_definitions

    defs = build_definitions(load_sources(ROOT / "sources.example.yaml"))
    groups = {spec.key.to_user_string(): spec.group_name for spec in defs.resolve_all_asset_specs()}
    assert {k: v for k, v in groups.items() if v == "landing"} == {
        "source/seeds": "landing", "source/example_pages": "landing", "source/example_listing": "landing"
    }
    graph = defs.resolve_asset_graph()
    source_checks = {(key.asset_key.to_user_string(), key.name) for key in graph.asset_check_keys if key.name == "source_ok"}
    assert source_checks == {(f"source/{name}", "source_ok") for name in ("seeds", "example_pages", "example_listing")}
    upstream = {key.to_user_string() for key in graph.get(dg.AssetKey("raw_notices")).parent_keys}
    assert upstream == {"source/seeds", "source/example_pages", "source/example_listing"}
    fetch_job = defs.resolve_job_def("fetch")
    assert {node.name for node in fetch_job.graph.node_defs} == {"source__seeds", "source__example_pages", "source__example_listing"}


def test_an_unexpected_error_fails_only_that_source_and_keeps_its_earlier_notices(tmp_path, monkeypatch):
    from landing import land
    from landing.archive import Archive
    from landing.sources import Source

    archive = Archive(tmp_path / "archive")
    page = notice_html("巡察整改情况的通报", seed_excerpt("000"), "utf-8").encode("utf-8")
    source = Source(name="s", kind="pages", urls=("https://e.org/n.html",), politeness=FAST)

    def site(request):
        return httpx.Response(404) if request.url.path == "/robots.txt" else httpx.Response(200, content=page, headers={"Content-Type": "text/html"})

    first = land.land_web(source, archive, httpx.MockTransport(site))
    assert first.failure is None and first.pages["source_name"].to_list() == ["https://e.org/n.html"]

    def broken(*args, **kwargs):
        raise RuntimeError("markup the parser chokes on")

    monkeypatch.setattr(land, "classify_page", broken)
    second = land.land_web(source, archive, httpx.MockTransport(site))
    assert second.failure == "unexpected error while fetching: RuntimeError: markup the parser chokes on"
    assert second.pages.equals(first.pages)  # the notice found before is still handed on
