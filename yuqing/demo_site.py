"""The demo web for `yuqing demo`: a news site (RSS + articles), a Weibo-like JSON API and a
留言板, all on 127.0.0.1, holding the fictional 江宁区 posts of samples/demo_posts.yaml.

New posts are released while the demo runs (``DemoWorld.release_next``), so crawls keep finding
something and the console's queue is seen to move. Every page is escaped: the demo web is a
crawl target, not a place for markup from its own data.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import format_datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import yaml

CHANNELS = ("news", "weibo", "board")
PAGE_SIZE = 10
# `yuqing demo` crawls right after each new post itself; the scheduler's own crawl jobs for
# these sources are kept out of its way so two crawls of one source never overlap.
DEMO_SCHEDULE = "24h"
ZONE = ZoneInfo("Asia/Shanghai")


@dataclass
class DemoPost:
    id: int
    channel: str
    text: str
    published_at: datetime
    title: str = ""
    author: str = ""
    followers: int = 0
    reposts: int = 0
    comments: int = 0
    likes: int = 0


@dataclass
class DemoWorld:
    """The posts the demo web shows; ``later`` entries are released one at a time."""

    posts: list[DemoPost] = field(default_factory=list)
    later: list[dict[str, Any]] = field(default_factory=list)
    released: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def load(cls, now: datetime | None = None) -> DemoWorld:
        now = now or datetime.now(ZONE)
        data = yaml.safe_load(resources.files("yuqing").joinpath("samples/demo_posts.yaml")
                              .read_text(encoding="utf-8"))
        world = cls(later=list(data["later"]))
        for entry in data.get("history", []):  # 演示历史数据: the previous weeks
            day = (now - timedelta(days=int(entry["days_ago"]))).astimezone(ZONE)
            world._add(entry, day.replace(hour=int(entry.get("hour", 10)), minute=0, second=0,
                                          microsecond=0))
        for entry in data["initial"]:
            world._add(entry, now - timedelta(minutes=int(entry.get("ago", 30))))
        return world

    def _add(self, entry: dict[str, Any], at: datetime) -> DemoPost:
        post = DemoPost(id=len(self.posts) + 1, channel=entry["channel"], text=entry["text"],
                        title=entry.get("title", ""), author=entry.get("author", ""),
                        followers=int(entry.get("followers", 0)),
                        reposts=int(entry.get("reposts", 0)),
                        comments=int(entry.get("comments", 0)),
                        likes=int(entry.get("likes", 0)), published_at=at)
        self.posts.append(post)
        return post

    def release_next(self, now: datetime | None = None) -> DemoPost:
        """Publish the next later post; after the last one, earlier stories get follow-ups."""
        now = now or datetime.now(ZONE)
        with self.lock:
            entry = dict(self.later[self.released % len(self.later)])
            rounds = self.released // len(self.later)
            if rounds:  # a follow-up on the same story keeps the event growing
                entry["text"] = f"（第{rounds + 1}天跟进）{entry['text']}"
                if entry.get("title"):
                    entry["title"] = f"{entry['title']}（续{rounds}）"
            self.released += 1
            return self._add(entry, now)

    def of(self, channel: str) -> list[DemoPost]:
        with self.lock:
            return sorted((p for p in self.posts if p.channel == channel),
                          key=lambda p: (p.published_at, p.id), reverse=True)

    def get(self, channel: str, post_id: int) -> DemoPost | None:
        with self.lock:
            return next((p for p in self.posts if p.id == post_id and p.channel == channel),
                        None)


def _page(items: list[DemoPost], query: dict[str, list[str]]) -> tuple[list[DemoPost], int, bool]:
    try:
        page = max(1, int(query.get("page", ["1"])[0]))
    except ValueError:
        page = 1
    start = (page - 1) * PAGE_SIZE
    return items[start:start + PAGE_SIZE], page, start + PAGE_SIZE < len(items)


def _html(title: str, body: str) -> str:
    return (f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
            f"<title>{escape(title)}</title></head><body>{body}</body></html>")


class _Handler(BaseHTTPRequestHandler):
    world: DemoWorld  # set on the subclass made by DemoSite
    server_version = "yuqing-demo/1"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the demo's console output is for the user, not for access logs

    def _send(self, status: int, body: str, content_type: str) -> None:
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        path = parts.path.rstrip("/") or "/"
        base = f"http://{self.headers.get('Host', '127.0.0.1')}"
        routes = {
            "/": lambda: self._send(200, self._index(), "text/html"),
            "/robots.txt": lambda: self._send(200, "User-agent: *\nAllow: /\n", "text/plain"),
            "/news/rss.xml": lambda: self._send(200, self._rss(base), "application/rss+xml"),
            "/weibo/api/statuses": lambda: self._send(200, self._statuses(base, query),
                                                      "application/json"),
            "/board/list": lambda: self._send(200, self._board_list(query), "text/html"),
        }
        if path in routes:
            routes[path]()
            return
        for prefix, channel, render in (("/news/", "news", self._article),
                                        ("/board/msg/", "board", self._message)):
            if path.startswith(prefix) and path[len(prefix):].removesuffix(".html").isdigit():
                post = self.world.get(channel, int(path[len(prefix):].removesuffix(".html")))
                if post is not None:
                    self._send(200, render(post), "text/html")
                    return
        self._send(404, _html("未找到", "<p>页面不存在</p>"), "text/html")

    def _index(self) -> str:
        return _html("江宁演示站点", '<h1>江宁演示站点</h1><ul>'
                     '<li><a href="/news/rss.xml">金陵新闻 RSS</a></li>'
                     '<li><a href="/weibo/api/statuses">微博接口</a></li>'
                     '<li><a href="/board/list">江宁区领导留言板</a></li></ul>')

    def _rss(self, base: str) -> str:
        items = "".join(
            f"<item><title>{escape(p.title)}</title><link>{base}/news/{p.id}.html</link>"
            f"<guid>{base}/news/{p.id}.html</guid><author>{escape(p.author)}</author>"
            f"<pubDate>{format_datetime(p.published_at)}</pubDate>"
            f"<description>{escape(p.text)}</description></item>"
            for p in self.world.of("news")[:50])
        return ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                f"<title>金陵新闻</title><link>{base}/</link><description>江宁本地新闻"
                f"</description>{items}</channel></rss>")

    def _article(self, post: DemoPost) -> str:
        return _html(post.title, (
            f'<article><h1 class="title">{escape(post.title)}</h1>'
            f'<p class="meta"><span class="author">{escape(post.author)}</span> '
            f'<time class="time">{post.published_at:%Y-%m-%d %H:%M}</time></p>'
            f'<div class="content"><p>{escape(post.text)}</p></div></article>'))

    def _statuses(self, base: str, query: dict[str, list[str]]) -> str:
        items, page, more = _page(self.world.of("weibo"), query)
        return json.dumps({"ok": 1, "data": {"page": page, "has_more": more, "list": [
            {"id": str(p.id), "text": p.text, "created_at": p.published_at.isoformat(),
             "url": f"{base}/weibo/{p.id}",
             "user": {"screen_name": p.author, "followers_count": p.followers},
             "reposts_count": p.reposts, "comments_count": p.comments,
             "attitudes_count": p.likes} for p in items]}}, ensure_ascii=False)

    def _board_list(self, query: dict[str, list[str]]) -> str:
        items, page, more = _page(self.world.of("board"), query)
        rows = "".join(f'<li><a href="/board/msg/{p.id}">{escape(p.title)}</a> '
                       f'<span class="time">{p.published_at:%Y-%m-%d}</span></li>'
                       for p in items)
        nxt = f'<a class="next" href="/board/list?page={page + 1}">下一页</a>' if more else ""
        return _html("江宁区领导留言板", f'<h1>江宁区领导留言板</h1><ul class="msgs">{rows}</ul>{nxt}')

    def _message(self, post: DemoPost) -> str:
        return _html(post.title, (
            f'<div class="msg"><h1 class="title">{escape(post.title)}</h1>'
            f'<p>留言人：<span class="author">{escape(post.author)}</span> '
            f'留言时间：<span class="time">{post.published_at:%Y-%m-%d %H:%M}</span></p>'
            f'<div class="content">{escape(post.text)}</div></div>'))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # crawlers open many connections at once (see PERF-NOTES)


class DemoSite:
    """The demo web on 127.0.0.1; ``start()`` serves it in a thread."""

    def __init__(self, world: DemoWorld | None = None, port: int = 0):
        self.world = world or DemoWorld.load()
        handler = type("DemoHandler", (_Handler,), {"world": self.world})
        self.server = _Server(("127.0.0.1", port), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, name="demo-site",
                                       daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> DemoSite:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def demo_sources(base: str) -> list[dict[str, Any]]:
    """The three demo sources in sources.yaml form, pointed at the running demo web."""
    polite = {"obey_robots": True, "download_delay": 0.0, "concurrency": 8}
    return [
        {"key": "demo-news", "name": "金陵新闻（演示）", "kind": "feed",
         "start_urls": [f"{base}/news/rss.xml"], "schedule": DEMO_SCHEDULE, "authority": "local",
         "default_place": "320115", "options": {"politeness": polite}},
        {"key": "demo-weibo", "name": "微博（演示）", "kind": "json_api", "source_kind": "social",
         "start_urls": [f"{base}/weibo/api/statuses?page=1"], "schedule": DEMO_SCHEDULE,
         "authority": "user", "default_place": "320115",
         "options": {"politeness": polite, "items": "data.list", "text_is_html": False,
                     "fields": {"id": "id", "text": "text", "time": "created_at",
                                "author": "user.screen_name",
                                "followers": "user.followers_count",
                                "reposts": "reposts_count", "comments": "comments_count",
                                "likes": "attitudes_count", "url": "url"},
                     "paging": {"type": "page", "param": "page", "start": 1}}},
        {"key": "demo-board", "name": "江宁区领导留言板（演示）", "kind": "board",
         "start_urls": [f"{base}/board/list"], "schedule": DEMO_SCHEDULE, "authority": "local",
         "default_place": "320115",
         "options": {"politeness": polite, "id_pattern": r"/board/msg/(\d+)",
                     "list": {"links": "ul.msgs a::attr(href)", "next": "a.next::attr(href)"},
                     "message": {"title": "h1.title", "body": "div.content",
                                 "time": "span.time", "author": "span.author"}}},
    ]
