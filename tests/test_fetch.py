"""Fetching notices from configured web sources (issue 9), against a fixture site on 127.0.0.1.

No internet: tests/fetch_site.py serves list pages, notices (UTF-8, GB18030 with a meta tag that lies),
a page that times out once, a 500 that recovers, a 404, a soft 404, a news item, and a robots.txt that
forbids /private/. Timeouts and backoff are configured short so the whole module runs in seconds plus
three refreshes.
"""

import hashlib
import socket
from pathlib import Path

import polars as pl
import pytest
import yaml
from typer.testing import CliRunner

from orchestration.cli import app
from tests.conftest import query
from tests.fetch_site import RunningSite, build_site, seed_excerpt

runner = CliRunner()
ROOT = Path(__file__).resolve().parent.parent
FAST = {"delay_seconds": 0, "timeout_seconds": 1.0, "retries": 2, "backoff_seconds": 0.01, "max_per_host": 2}
NOTICE_PATHS = ["/xcgz/t1.html", "/xcgz/t2.html", "/xcgz/t3.html", "/xcgz/t4.html"]
FACT_TABLES = ["fact_issue", "fact_measure", "fact_indicator", "fact_claim", "dim_inspection", "dim_organization"]


def closed_port() -> int:
    """A port on 127.0.0.1 with nothing listening (connections are refused at once)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def write_sources(folder: Path, base: str, local: Path) -> Path:
    config = {
        "archive": "archive",
        "politeness": FAST,
        "sources": [
            {"name": "city", "listing": f"{base}/xcgz/index.html", "links": {"css": "ul.list a"},
             "next_page": {"text": "下一页"}, "max_pages": 5},
            {"name": "county", "pages": [f"http://127.0.0.1:{closed_port()}/xcgz/t20240105_1.html"]},
            {"name": "local", "folder": str(local)},
            {"name": "down", "pages": [f"{base}/down/t1.html"]},
        ],
    }
    path = folder / "sources.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def crawl(tmp_path_factory):
    """Two refreshes of the same sources (the site unchanged in between), with the requests of each run."""
    root = tmp_path_factory.mktemp("fetch")
    local = root / "local"
    local.mkdir()
    (local / "local_notice.txt").write_text("\n".join(seed_excerpt("001")), encoding="utf-8")
    site = build_site()
    running = RunningSite(site)
    try:
        sources = write_sources(root, running.base, local)
        warehouse = root / "wh" / "zhenggai.duckdb"
        first = runner.invoke(app, ["refresh", "--sources", str(sources), "--warehouse", str(warehouse)])
        first_requests = list(site.requests)
        first_log = query(warehouse, "SELECT * FROM fetch_log")
        first_facts = {t: query(warehouse, f"SELECT * FROM {t}") for t in FACT_TABLES + ["raw_notice", "dim_notice"]}
        second = runner.invoke(app, ["refresh", "--sources", str(sources), "--warehouse", str(warehouse)])
        second_requests = site.requests[len(first_requests):]
        yield {"root": root, "site": site, "base": running.base, "sources": sources, "warehouse": warehouse,
               "first": first, "second": second, "first_requests": first_requests, "second_requests": second_requests,
               "first_log": first_log, "first_facts": first_facts, "local": local}
    finally:
        running.stop()


def test_refresh_publishes_although_one_source_fails_and_says_which(crawl):
    first = crawl["first"]
    assert first.exit_code == 0, first.output
    assert "source county failed" in first.output
    assert "robots.txt" in first.output and "ConnectError" in first.output
    names = query(crawl["warehouse"], "SELECT source_name FROM dim_notice ORDER BY 1")["source_name"].to_list()
    assert names == sorted([crawl["base"] + p for p in NOTICE_PATHS] + ["local_notice.txt"])
    # Its robots.txt could not be read (connection refused, after 1 + 2 retries): the site counts as disallowed.
    county = crawl["first_log"].filter(pl.col("source") == "county")
    assert county.select("outcome", "attempts", "http_status").rows() == [("disallowed", 0, None)]
    assert "unreachable" in county["reason"][0] and "gave up after 3 attempts" in county["reason"][0]
    # A site whose pages keep answering 503: retried, given up, reported; nothing of it loaded.
    assert "source down failed" in first.output
    down = crawl["first_log"].filter(pl.col("source") == "down")
    assert down.select("outcome", "attempts", "http_status", "reason").rows() == [
        ("http_error", 3, 503, "HTTP 503 (gave up after 3 attempts)")
    ]
    assert crawl["site"].count("/down/t1.html") == 6  # 3 attempts in each of the two runs


def test_each_page_is_fetched_once_retries_only_what_failed_and_never_the_forbidden_path(crawl):
    site, requests = crawl["site"], crawl["first_requests"]
    counts = {}
    for r in requests:
        counts[r.path] = counts.get(r.path, 0) + 1
    assert counts == {
        "/robots.txt": 2,  # once per source run: the city and the down source share this host
        "/xcgz/index.html": 1,
        "/xcgz/index_1.html": 1,  # the second list page, reached by 下一页
        "/xcgz/t1.html": 1,  # linked from both list pages, fetched once
        "/xcgz/t2.html": 1,
        "/xcgz/t3.html": 2,  # timed out once, then succeeded
        "/xcgz/t4.html": 2,  # 500 once, then succeeded
        "/xcgz/missing.html": 1,  # 404: not retried
        "/xcgz/news.html": 1,
        "/xcgz/gone.html": 1,
        "/down/t1.html": 3,  # 503 every time: 1 attempt + 2 retries
    }
    assert not any(r.path.startswith("/private/") for r in site.requests)
    assert all(r.user_agent.startswith("zhenggai/") for r in requests)  # the descriptive default User-Agent


def test_fetch_log_keeps_every_outcome_and_the_reason_for_each_skipped_page(crawl):
    log = crawl["first_log"].filter(pl.col("source") == "city")
    base = crawl["base"]
    by_path = {row["url"].removeprefix(base): row for row in log.iter_rows(named=True)}
    summary = {path: (row["role"], row["outcome"], row["http_status"], row["attempts"], row["page_kind"]) for path, row in by_path.items()}
    assert summary == {
        "/xcgz/index.html": ("listing", "new", 200, 1, "listing"),
        "/xcgz/index_1.html": ("listing", "new", 200, 1, "listing"),
        "/xcgz/t1.html": ("page", "new", 200, 1, "notice"),
        "/xcgz/t2.html": ("page", "new", 200, 1, "notice"),
        "/xcgz/t3.html": ("page", "new", 200, 2, "notice"),
        "/xcgz/t4.html": ("page", "new", 200, 2, "notice"),
        "/private/t9.html": ("page", "disallowed", None, 0, None),
        "/xcgz/missing.html": ("page", "http_error", 404, 1, None),
        "/xcgz/news.html": ("page", "new", 200, 1, "not_a_notice"),
        "/xcgz/gone.html": ("page", "new", 200, 1, "soft_404"),
    }
    assert "robots.txt" in by_path["/private/t9.html"]["reason"]
    assert by_path["/xcgz/missing.html"]["reason"] == "HTTP 404"
    assert "整改" in by_path["/xcgz/news.html"]["reason"]
    assert "status 200" in by_path["/xcgz/gone.html"]["reason"]
    assert by_path["/xcgz/t1.html"]["etag"] == '"t1-v1"'
    assert by_path["/xcgz/t2.html"]["last_modified"] == "Mon, 08 Jan 2024 02:00:00 GMT"
    # Skipped pages are recorded, never loaded or quarantined.
    loaded = set(crawl["first_facts"]["raw_notice"]["source_name"])
    assert not {base + p for p in ("/xcgz/news.html", "/xcgz/gone.html", "/xcgz/missing.html")} & loaded
    assert query(crawl["warehouse"], "SELECT count(*) AS n FROM quarantine_notice")["n"][0] == 0


def test_pages_are_archived_as_received_with_the_encoding_detected_from_the_bytes(crawl):
    site, log = crawl["site"], crawl["first_log"]
    archive = crawl["root"] / "archive"
    with_content = log.filter(pl.col("content_sha256").is_not_null())
    assert with_content.height == 8  # 2 list pages, 4 notices, the news item and the soft 404
    for row in with_content.iter_rows(named=True):
        stored = (archive / "pages" / row["content_sha256"][:2] / row["content_sha256"]).read_bytes()
        assert hashlib.sha256(stored).hexdigest() == row["content_sha256"]
        assert stored == site.routes[row["url"].removeprefix(crawl["base"])].body
        assert row["bytes"] == len(stored)
    encodings = {row["url"].removeprefix(crawl["base"]): row["encoding"] for row in with_content.iter_rows(named=True)}
    assert encodings["/xcgz/t1.html"] == "utf-8"
    assert encodings["/xcgz/t2.html"] == "gb18030"  # its meta tag and Content-Type say utf-8
    raw = crawl["first_facts"]["raw_notice"]
    t2 = raw.filter(pl.col("source_name") == crawl["base"] + "/xcgz/t2.html").row(0, named=True)
    assert t2["encoding"] == "gb18030"
    assert seed_excerpt("002")[0][:40] in t2["raw_text"]


def test_second_run_sends_conditional_requests_and_loads_nothing_new(crawl):
    second = crawl["second"]
    assert second.exit_code == 0, second.output
    requests = {r.path: r for r in crawl["second_requests"]}
    validated = ["/xcgz/index.html", "/xcgz/index_1.html", "/xcgz/t1.html", "/xcgz/t2.html", "/xcgz/t4.html"]
    for path in validated:
        assert requests[path].conditional, path
        assert requests[path].status == 304, path
    assert requests["/xcgz/t1.html"].if_none_match == '"t1-v1"'
    assert requests["/xcgz/t2.html"].if_modified_since == "Mon, 08 Jan 2024 02:00:00 GMT"
    assert "/private/t9.html" not in requests
    assert sum(1 for r in crawl["second_requests"] if r.path == "/xcgz/t1.html") == 1
    warehouse = crawl["warehouse"]
    run_2 = query(warehouse, "SELECT * FROM fetch_log WHERE source = 'city'").filter(
        pl.col("fetched_at") > crawl["first_log"]["fetched_at"].max()
    )
    assert run_2.height == 10
    assert set(run_2["outcome"]) == {"not_modified", "unchanged", "disallowed", "http_error"}
    assert not set(run_2["outcome"]) & {"new", "changed"}
    # The full history is kept: both runs' rows are in the warehouse (city 10, county 1 and down 1 per run).
    assert query(warehouse, "SELECT count(*) AS n FROM fetch_log")["n"][0] == crawl["first_log"].height + run_2.height + 2
    for table, before in crawl["first_facts"].items():
        assert query(warehouse, f"SELECT * FROM {table}").equals(before), table


def test_facts_from_fetched_pages_equal_facts_from_the_same_pages_in_a_folder(crawl, tmp_path):
    folder = tmp_path / "landing"
    folder.mkdir()
    for index, path in enumerate(NOTICE_PATHS):
        (folder / f"notice_{index}.html").write_bytes(crawl["site"].routes[path].body)
    (folder / "local_notice.txt").write_bytes((crawl["local"] / "local_notice.txt").read_bytes())
    warehouse = tmp_path / "folder.duckdb"
    result = runner.invoke(app, ["refresh", "--source", str(folder), "--warehouse", str(warehouse), "--quiet"])
    assert result.exit_code == 0, result.output
    fetched = crawl["first_facts"]
    for table in FACT_TABLES:
        from_folder = query(warehouse, f"SELECT * FROM {table}")
        assert from_folder.height > 0 or table == "fact_indicator"
        assert from_folder.sort(from_folder.columns[0]).equals(fetched[table].sort(fetched[table].columns[0])), table
    columns = "notice_key, content_sha256, title, publisher, publish_date, report_stage, inspection_key, organization_key"
    assert query(warehouse, f"SELECT {columns} FROM dim_notice ORDER BY 1").equals(
        fetched["dim_notice"].select([c.strip() for c in columns.split(",")]).sort("notice_key")
    )


def test_fetch_command_fetches_without_publishing(crawl, tmp_path):
    config = yaml.safe_load(crawl["sources"].read_text(encoding="utf-8"))
    config["archive"] = str(tmp_path / "archive")
    config["sources"] = [config["sources"][0]]
    sources = tmp_path / "sources.yaml"
    sources.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    result = runner.invoke(app, ["fetch", "--sources", str(sources)])
    assert result.exit_code == 0, result.output
    assert "city" in result.output
    log = (tmp_path / "archive" / "fetch_log.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(log) == 10
    assert not list(tmp_path.glob("**/*.duckdb"))


def test_refresh_refuses_a_broken_sources_file_before_fetching(tmp_path):
    bad = tmp_path / "sources.yaml"
    bad.write_text("sources:\n  - name: x\n    listing: https://example.org/list.html\n", encoding="utf-8")
    result = runner.invoke(app, ["refresh", "--sources", str(bad), "--warehouse", str(tmp_path / "w.duckdb")])
    assert result.exit_code == 3
    assert "needs `links`" in result.output
    assert not (tmp_path / "w.duckdb").exists()
