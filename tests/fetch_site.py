"""A small fixture website on 127.0.0.1 for the fetch tests: list pages, notices, and the ways sites misbehave.

The notices are excerpts of the seed notices (their opening lines, read at test time, never edited) wrapped
in HTML. Every request is recorded (path and the headers that matter) so tests can assert exactly what was
fetched, how often, and whether it was conditional.
"""

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.conftest import seed_path

EXCERPT_LINES = 8


def seed_excerpt(prefix: str, lines: int = EXCERPT_LINES) -> list[str]:
    text = seed_path(prefix).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip()][:lines]


def notice_html(title: str, lines: list[str], declared_charset: str) -> str:
    """A notice page as a CMS publishes it: navigation links, a title, the text in paragraphs, a footer."""
    paragraphs = "\n".join(f"<p>{line}</p>" for line in lines)
    return f"""<!DOCTYPE html>
<html><head><meta http-equiv="Content-Type" content="text/html; charset={declared_charset}">
<title>{title}</title><script>var tracker = "巡视 整改";</script></head>
<body><div class="nav"><a href="/">首页</a> <a href="/xcgz/index.html">巡视巡察</a></div>
<h1>{title}</h1>
<div class="content">
{paragraphs}
</div>
<div class="footer">主办单位:纪委监委 <a href="/about.html">关于我们</a></div>
</body></html>"""


def list_html(items: list[tuple[str, str]], next_href: str | None) -> str:
    links = "\n".join(f'<li><a href="{href}">{text}</a><span>2024-01-0{i + 1}</span></li>' for i, (href, text) in enumerate(items))
    pager = f'<a href="{next_href}">下一页</a>' if next_href else "<span>下一页</span>"
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>巡视巡察</title></head>
<body><div class="nav"><a href="/">首页</a> <a href="/about.html">关于我们</a></div>
<ul class="list">
{links}
</ul>
<div class="pager"><a href="index.html">首页</a> {pager}</div>
</body></html>"""


@dataclass
class Route:
    body: bytes
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    etag: str | None = None
    last_modified: str | None = None
    fail_first: int = 0  # the first N requests answer 500
    slow_first: int = 0  # the first N requests stall longer than the client's timeout
    served: int = 0


@dataclass
class Request:
    path: str
    if_none_match: str | None
    if_modified_since: str | None
    user_agent: str | None
    status: int | None = None

    @property
    def conditional(self) -> bool:
        return bool(self.if_none_match or self.if_modified_since)


@dataclass
class FixtureSite:
    routes: dict[str, Route]
    stall_seconds: float = 2.5
    requests: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, path: str) -> int:
        return sum(1 for r in self.requests if r.path == path)

    def of(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]


def build_site() -> FixtureSite:
    """The site of the tests: /xcgz/ list pages and notices, /private/ forbidden by robots.txt."""
    t1 = notice_html("薛家镇关于巡察整改情况的通报", seed_excerpt("000"), "utf-8").encode("utf-8")
    # GB18030 bytes whose meta tag claims UTF-8 (a CMS template copied between sites).
    t2 = notice_html("城北镇党委关于巡察整改阶段性进展情况的通报", seed_excerpt("002"), "utf-8").encode("gb18030")
    t3 = notice_html("梁溪区关于巡视整改进展情况的通报", seed_excerpt("003"), "gb2312").encode("gb18030")
    t4 = notice_html("苏仙区委关于巡视整改进展情况的通报", seed_excerpt("004"), "utf-8").encode("utf-8")
    news = notice_html("区委第一巡察组进驻某街道开展常规巡察", [
        "根据区委巡察工作统一部署,区委第一巡察组于近日进驻某街道党工委开展常规巡察,并召开巡察工作动员会。",
        "巡察组组长作动员讲话,对巡察工作作了具体安排。巡察期间设立意见箱,受理反映的问题。",
    ], "utf-8").encode("utf-8")
    soft_404 = """<html><head><title>404 页面不存在</title></head><body><div class="nav"><a href="/">首页</a></div>
<p>对不起,您访问的页面不存在或已被删除。</p><p>5秒后返回首页</p></body></html>""".encode("utf-8")
    page_1 = list_html([("t1.html", "薛家镇巡察整改情况"), ("t2.html", "城北镇巡察整改进展"), ("/private/t9.html", "内部稿"),
                        ("missing.html", "已撤稿件"), ("news.html", "巡察进驻")], "index_1.html").encode("utf-8")
    page_2 = list_html([("t3.html", "梁溪区巡视整改进展"), ("t4.html", "苏仙区巡视整改进展"), ("t1.html", "薛家镇巡察整改情况(重复链接)"),
                        ("gone.html", "已下线")], None).encode("utf-8")
    robots = b"User-agent: *\nDisallow: /private/\n"
    routes = {
        "/robots.txt": Route(robots, content_type="text/plain"),
        "/xcgz/index.html": Route(page_1, etag='"list-1"'),
        "/xcgz/index_1.html": Route(page_2, etag='"list-2"'),
        "/xcgz/t1.html": Route(t1, etag='"t1-v1"'),
        "/xcgz/t2.html": Route(t2, content_type="text/html; charset=utf-8", last_modified="Mon, 08 Jan 2024 02:00:00 GMT"),
        "/xcgz/t3.html": Route(t3, content_type="text/html", slow_first=1),
        "/xcgz/t4.html": Route(t4, etag='"t4-v1"', fail_first=1),
        "/xcgz/news.html": Route(news),
        "/xcgz/gone.html": Route(soft_404),
        "/private/t9.html": Route(t1),
        "/down/t1.html": Route(b"<html><body>Service Unavailable</body></html>", status=503),  # a site that stays down
    }
    return FixtureSite(routes)


def _handler(site: FixtureSite):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # keep pytest output clean
            pass

        def do_GET(self):
            path = self.path.split("?")[0]
            request = Request(path, self.headers.get("If-None-Match"), self.headers.get("If-Modified-Since"), self.headers.get("User-Agent"))
            with site.lock:
                site.requests.append(request)
                route = site.routes.get(path)
                served = route.served if route else 0
                if route:
                    route.served += 1
            if route is None:
                return self._send(request, 404, b"<html><body>Not Found</body></html>", "text/html")
            if served < route.slow_first:
                time.sleep(site.stall_seconds)  # the client has given up by now
                return self._send(request, 200, route.body, route.content_type, route)
            if served < route.slow_first + route.fail_first:
                return self._send(request, 500, b"<html><body>Internal Server Error</body></html>", "text/html")
            if (route.etag and request.if_none_match == route.etag) or (
                route.last_modified and request.if_modified_since == route.last_modified
            ):
                return self._send(request, 304, b"", None, route)
            return self._send(request, route.status, route.body, route.content_type, route)

        def _send(self, request: Request, status: int, body: bytes, content_type: str | None, route: Route | None = None):
            request.status = status
            try:
                self.send_response(status)
                if content_type:
                    self.send_header("Content-Type", content_type)
                if route and route.etag:
                    self.send_header("ETag", route.etag)
                if route and route.last_modified:
                    self.send_header("Last-Modified", route.last_modified)
                self.send_header("Content-Length", str(len(body)) if status != 304 else "0")
                self.end_headers()
                if status != 304:
                    self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client timed out and left

    return Handler


class RunningSite:
    """The fixture site served on an ephemeral port of 127.0.0.1 until `stop()`."""

    def __init__(self, site: FixtureSite):
        self.site = site
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(site))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
