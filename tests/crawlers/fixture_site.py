"""A small news / social / 留言板 web site served on 127.0.0.1 for crawl tests, bench and demo.

Threaded, with a large listen backlog: Python's default backlog of 5 stalls Scrapy at about
25 pages/s (PERF-NOTES). The site's content lives in ``FixtureSite.state`` so a test can add
posts or answer a message between two crawls.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.crawlers import fixture_pages as pages

SLOW_SECONDS = 3.0  # longer than the timeout the tests give the slow page
HUGE_BYTES = 5 * 1024 * 1024


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # listen backlog
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # a crawler that gave up (timeout, size cap) resets the socket: expected, stay quiet
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@dataclass
class Article:
    id: int
    title: str
    body: list[str]
    time: str  # as the site prints it: 2019年5月21日 10:00, 昨天 12:30 ...
    author: str = "江宁新闻网"


@dataclass
class Message:
    id: int
    subject: str
    body: str
    time: str
    place: str
    reply: str = ""
    reply_time: str = ""
    reply_unit: str = ""


@dataclass
class SiteState:
    articles: list[Article] = field(default_factory=list)  # newest first
    posts: list[dict[str, Any]] = field(default_factory=list)  # Weibo-like, newest first
    messages: list[Message] = field(default_factory=list)  # newest first
    per_page: int = 4
    bench_articles: int = 0
    bench_delay: float = 0.0  # seconds each bench article takes (crawl workers killed mid-page)
    robots: str = "ok"  # "missing" (404), "error500", or "drop": its connection is cut


def default_state() -> SiteState:
    times = ["今天 08:30", "昨天 12:30", "3分钟前", "2019年5月21日 10:00", "05-21 10:00",
             "2019-05-20T09:15:00+08:00", "刚刚", "2019/05/19 18:00", "前天 07:05", "2小时前"]
    streets = ["秣陵街道", "汤山街道", "淳化街道", "禄口街道", "江宁街道", "谷里街道", "湖熟街道",
               "横溪街道", "东山街道", "麒麟街道"]
    articles = [Article(id=100 - i, title=f"{streets[i]}居民反映道路积水问题 第{i}号",
                        body=[f"记者从{streets[i]}获悉，近日连续降雨导致部分路段积水。",
                              f"相关部门已组织人员排水，预计{i + 1}天内完成整改。"],
                        time=times[i]) for i in range(10)]
    posts = [{"mid": str(5000 - i), "text": f"江宁{streets[i % 10]}这边又停水了 #{i}",
              "created_at": "Tue May 21 10:00:00 +0800 2019" if i % 3 == 0 else f"{i + 1}分钟前",
              "user": {"screen_name": f"网友{i}", "followers_count": "1.2万" if i == 0 else 10 * i},
              "reposts_count": i, "comments_count": 2 * i, "attitudes_count": 3 * i,
              "region": "江苏 南京"} for i in range(10)]
    messages = [Message(id=900 - i, subject=f"关于{streets[i]}噪音扰民的投诉 {i}",
                        body=f"{streets[i]}某工地夜间施工，噪音严重影响休息，请有关部门处理。",
                        time=f"2026-11-{20 - i:02d} 09:{i:02d}", place=f"南京市江宁区{streets[i]}")
                for i in range(6)]
    messages[3].reply, messages[3].reply_time, messages[3].reply_unit = (
        "已责成施工单位停止夜间施工。", "2026-11-18 16:00", "江宁区住房和城乡建设局")
    return SiteState(articles=articles, posts=posts, messages=messages)


class FixtureSite:
    """``with FixtureSite() as site: site.url("/rss.xml")``."""

    def __init__(self, state: SiteState | None = None):
        self.state = state or default_state()
        self.lock = threading.Lock()
        self.hits: dict[str, int] = {}
        handler = type("Handler", (_Handler,), {"site": self})
        self.server = _Server(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def __enter__(self) -> FixtureSite:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    # ---- changes between crawls ----------------------------------------------------------

    def answer(self, message_id: int, text: str, when: str, unit: str) -> None:
        with self.lock:
            for msg in self.state.messages:
                if msg.id == message_id:
                    msg.reply, msg.reply_time, msg.reply_unit = text, when, unit

    def add_article(self, article: Article) -> None:
        with self.lock:
            self.state.articles.insert(0, article)


class _Handler(BaseHTTPRequestHandler):
    site: FixtureSite
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms stall

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        return

    def send(self, body: bytes | str, content_type: str = "text/html; charset=utf-8",
             status: int = 200) -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        path = parts.path
        with self.site.lock:
            self.site.hits[path] = self.site.hits.get(path, 0) + 1
        try:
            route = pages.route(self.site, path, query)
        except Exception as exc:  # a broken fixture must show up as a 500, not a hang
            self.send(f"fixture error {exc!r}", "text/plain", 500)
            return
        if route is None:
            self.send("<h1>404</h1>", status=404)
            return
        if route.delay:
            time.sleep(route.delay)
        if route.drop:
            self.close_connection = True
            return
        self.send(route.body, route.content_type, route.status)


def site_sources(site: FixtureSite, inbox: Path | None = None,
                 politeness: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """sources.yaml entries for this site, one per kind (the demo reuses them)."""
    polite = dict(politeness or {})
    return [
        {"key": "jn-news", "name": "江宁新闻网", "kind": "html", "default_place": "320115",
         "start_urls": [site.url("/news/list_1.html")], "schedule": "15m",
         "options": {"politeness": polite, "id_pattern": r"/a/(\d+)\.html",
                     "list": {"links": "ul.list a.art::attr(href)", "next": "a.next::attr(href)"},
                     "article": {"title": "h1.title", "body": "div.content", "time": ".info .time",
                                 "author": ".info .author::text"}}},
        {"key": "jn-board", "name": "江宁区领导留言板", "kind": "board", "schedule": "*/10 * * * *",
         "start_urls": [site.url("/board/list?page=1")],
         "options": {"politeness": polite, "id_pattern": r"/msg/(\d+)\.html",
                     "list": {"links": "li a.msg::attr(href)", "next": "a.next::attr(href)"},
                     "message": {"title": "h2.subject", "body": ".msg-body", "time": ".msg-time",
                                 "place": ".msg-place"},
                     "reply": {"text": ".reply-body", "time": ".reply-time", "unit": ".reply-unit"}}},
        {"key": "jn-rss", "name": "江宁新闻 RSS", "kind": "feed", "schedule": "30m",
         "default_place": "320115", "start_urls": [site.url("/rss.xml")],
         "options": {"politeness": polite}},
        {"key": "weibo-jn", "name": "微博搜索 江宁", "kind": "json_api", "authority": "user",
         "schedule": "10m", "start_urls": [site.url("/api/weibo")],
         "options": {"politeness": polite, "items": "data.statuses",
                     "fields": {"id": "mid", "text": "text", "author": "user.screen_name",
                                "followers": "user.followers_count", "time": "created_at",
                                "reposts": "reposts_count", "comments": "comments_count",
                                "likes": "attitudes_count", "place": "region",
                                "url_template": site.url("/weibo/{id}")},
                     "paging": {"type": "cursor", "param": "cursor",
                                "cursor_path": "data.next_cursor"}}},
        {"key": "broken-feed", "name": "坏的订阅", "kind": "feed", "schedule": "1h",
         "start_urls": [site.url("/news/a/error500.html")], "options": {"politeness": polite}},
    ] + ([{"key": "hotline", "name": "12345 导出", "kind": "import", "path": str(inbox),
           "schedule": "1h", "source_kind": "hotline"}] if inbox else [])


def serve_forever(port: int = 8700) -> None:  # pragma: no cover - manual use
    site = FixtureSite()
    site.server.server_close()
    site.server = _Server(("127.0.0.1", port), site.server.RequestHandlerClass)
    print(f"fixture site on {site.base}")
    site.server.serve_forever()

