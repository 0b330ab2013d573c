"""Two `yuqing crawl-worker` processes share one crawl queue on the real Redis (127.0.0.1:6379,
a unique key prefix per test) and one database, crawling the fixture site on 127.0.0.1:
every page fetched once, every post stored once, and a worker killed with -9 mid-crawl loses
nothing (the other fetches what it had in flight)."""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from crawlers.distributed import DEFAULT_TTL, QueueKeys, connect, worker_key
from crawlers.worker import queue_lengths
from store import Post, Source, SourceRun
from tests.crawlers.fixture_site import FixtureSite, site_sources
from tests.redis_queue import REDIS_URL
from yuqing.context import AppContext
from yuqing.crawl_queue import crawl_queue_status
from yuqing.crawling import crawl_source
from yuqing.settings import Settings, load_settings

pytestmark = pytest.mark.slow  # real worker processes

ROOT = Path(__file__).resolve().parents[2]
ARTICLES = 48  # three list pages of 20, 20, 8
FAST = {"timeout": 2.0, "retries": 1, "autothrottle": False, "concurrency": 2}


def bench_source(site: FixtureSite) -> dict[str, Any]:
    return {"key": "bench", "name": "压测新闻", "kind": "html", "schedule": "1h",
            "start_urls": [site.url("/bench/list_1.html")],
            "options": {"politeness": FAST, "id_pattern": r"/bench/a/(\d+)\.html",
                        "list": {"links": "a.art::attr(href)", "next": "a.next::attr(href)"},
                        "article": {"title": "h1.title", "body": "div.content",
                                    "time": "span.time"}}}


@pytest.fixture
def site() -> Iterator[FixtureSite]:
    with FixtureSite() as s:
        s.state.bench_articles = ARTICLES
        s.state.bench_delay = 0.25  # slow enough that a worker has pages in flight when killed
        yield s


class Cluster:
    """An instance home, its settings, and crawl-worker processes on it."""

    def __init__(self, home: Path, database_url: str, prefix: str, site: FixtureSite):
        self.home, self.prefix = home, prefix
        home.mkdir(parents=True, exist_ok=True)
        news = site_sources(site, None, FAST)[0]  # jn-news: a 500 page (retried), a slow page
        (home / "sources.yaml").write_text(yaml.safe_dump(
            {"sources": [bench_source(site), news]}, allow_unicode=True), encoding="utf-8")
        self.env = {"PATH": "/usr/bin:/bin", "YUQING_DATABASE_URL": database_url,
                    "YUQING_CRAWL__QUEUE": REDIS_URL, "YUQING_CRAWL__QUEUE_PREFIX": prefix,
                    # the production TTL: a loaded machine can delay a heartbeat by seconds,
                    # and a shorter one made workers take live workers' pages (fetched twice)
                    "YUQING_CRAWL__WORKER_TTL": str(DEFAULT_TTL), "PYTHONPATH": str(ROOT)}
        self.settings: Settings = load_settings(home, environ=self.env)
        self.procs: dict[str, subprocess.Popen[str]] = {}

    def start(self, name: str) -> None:
        log = (self.home / f"{name}.log").open("w", encoding="utf-8")
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-m", "yuqing", "--home", str(self.home), "crawl-worker",
             "--id", name, "--poll", "0.3"], cwd=ROOT, env=self.env, stdout=log,
            stderr=subprocess.STDOUT, text=True)

    def wait_ready(self, *names: str, timeout: float = 120) -> None:
        server = connect(REDIS_URL)
        deadline = time.monotonic() + timeout
        try:
            while not all(server.exists(worker_key(self.prefix, n)) for n in names):
                for n in names:
                    assert self.procs[n].poll() is None, self.log(n)
                assert time.monotonic() < deadline, "crawl workers did not start"
                time.sleep(0.2)
        finally:
            server.close()

    def wait_drained(self, app: AppContext, source: str, posts: int,
                     timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while True:
            lengths = queue_lengths(REDIS_URL, self.prefix, [source])[source]
            if lengths.pending == 0 and lengths.in_flight == 0 and count(app, source) >= posts:
                return
            assert time.monotonic() < deadline, f"{source} not drained: {lengths}"
            time.sleep(0.3)

    def stop(self) -> dict[str, int | None]:
        codes = {}
        for name, proc in self.procs.items():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            try:
                codes[name] = proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                codes[name] = proc.wait()
        return codes

    def log(self, name: str, tail: int = 3000) -> str:
        return (self.home / f"{name}.log").read_text(encoding="utf-8")[-tail:]


@pytest.fixture
def cluster(tmp_path: Path, database_url: str, prefix: str, site: FixtureSite
            ) -> Iterator[Cluster]:
    c = Cluster(tmp_path / "instance", database_url, prefix, site)
    yield c
    c.stop()


def count(app: AppContext, source: str) -> int:
    with app.db.session() as s:
        return s.scalar(select(func.count(Post.id)).join(Source).where(Source.key == source))


def settle(app: AppContext, source: str, quiet: float = 2.0, timeout: float = 60) -> None:
    """Wait until the source's post count has not changed for ``quiet`` seconds."""
    deadline = time.monotonic() + timeout
    last, since = count(app, source), time.monotonic()
    while time.monotonic() - since < quiet and time.monotonic() < deadline:
        time.sleep(0.25)
        now = count(app, source)
        if now != last:
            last, since = now, time.monotonic()


def runs(app: AppContext, source: str) -> list[SourceRun]:
    with app.db.session() as s:
        return list(s.scalars(select(SourceRun).join(Source).where(Source.key == source)
                              .order_by(SourceRun.id)))


def article_hits(site: FixtureSite) -> dict[int, int]:
    return {i: site.hits.get(f"/bench/a/{i}.html", 0) for i in range(ARTICLES)}


def test_two_workers_fetch_every_page_once_and_store_every_post_once(cluster, site):
    cluster.start("w1")
    cluster.start("w2")
    cluster.wait_ready("w1", "w2")
    for key in ("bench", "jn-news"):  # what the scheduler's crawl job does with a queue set
        report = crawl_source(cluster.settings, key)
        assert report.queued.startswith(f"信息源 {key} 已向共享抓取队列推送 1 个起始请求")
    busy = crawl_source(cluster.settings, "bench")  # the round is running: not pushed again
    assert "尚未完成" in busy.queued

    app = AppContext(settings=cluster.settings)
    try:
        cluster.wait_drained(app, "bench", ARTICLES)
        cluster.wait_drained(app, "jn-news", 14)
        # a page taken off the queue is stored a moment later: read once nothing changes
        settle(app, "jn-news")
        status = crawl_queue_status(cluster.settings)
        assert status["ok"] and status["pending"] == 0 and status["in_flight"] == 0
        assert status["sources"]["bench"] == {"pending": 0, "in_flight": 0}
    finally:
        codes = cluster.stop()
    assert codes == {"w1": 0, "w2": 0}, cluster.log("w1") + cluster.log("w2")
    # Counted once the workers have exited: nothing can still be on its way to the store.
    assert article_hits(site) == {i: 1 for i in range(ARTICLES)}, (
        cluster.log("w1") + cluster.log("w2"))
    assert [site.hits[f"/bench/list_{p}.html"] for p in (1, 2, 3)] == [1, 1, 1]
    news_pages = {p: n for p, n in site.hits.items() if p.startswith("/news/")}
    # retried once (RETRY_TIMES 1), then given up: the retry replaced the popped request
    assert news_pages.pop("/news/a/error500.html") == 2
    # The slow page outlasts the download timeout, but on a loaded machine the reactor can
    # see its answer before the timeout's callback: then it is stored, and fetched once less.
    with app.db.session() as s:
        slow_stored = bool(s.scalar(select(func.count(Post.id))
                                    .where(Post.url.like("%/news/a/slow.html"))))
    assert news_pages.pop("/news/a/slow.html") in ((1, 2) if slow_stored else (2,))
    assert set(news_pages.values()) == {1}, news_pages  # nothing else fetched twice
    # robots.txt forbids /private/: it stays unfetched even when robots.txt cannot be read
    # (a robots.txt timed out on a loaded machine once let the crawl store that page)
    assert "/private/secret.html" not in site.hits
    assert count(app, "bench") == ARTICLES
    with app.db.session() as s:
        news_urls = s.scalars(select(Post.url).join(Source).where(Source.key == "jn-news")).all()
    assert len(news_urls) == 14 + slow_stored, sorted(news_urls)
    with app.db.session() as s:
        ids = s.scalars(select(Post.external_id).join(Source)
                        .where(Source.key == "bench")).all()
    assert sorted(ids, key=int) == [str(i) for i in range(ARTICLES)]
    # each worker records its share of the round as a run (after the crawlers closed)
    shares = runs(app, "bench")
    app.close()
    assert 1 <= len(shares) <= 2 and all(r.ok for r in shares)
    assert sum(r.new for r in shares) == ARTICLES
    assert sum(r.pages for r in shares) == ARTICLES + 3


def in_flight_urls(prefix: str, source: str, worker: str) -> list[str]:
    server = connect(REDIS_URL)
    try:
        entries = server.hgetall(QueueKeys(prefix, source).processing)
    finally:
        server.close()
    return [pickle.loads(value.split(b"\n", 1)[1])["url"] for token, value in entries.items()
            if token.decode().rsplit(":", 1)[0] == worker]


def test_a_worker_killed_mid_crawl_loses_nothing(cluster, site):
    cluster.env["YUQING_CRAWL__WORKER_TTL"] = "3"  # the dead one is noticed within seconds
    cluster.start("doomed")
    cluster.start("survivor")
    cluster.wait_ready("doomed", "survivor")
    crawl_source(cluster.settings, "bench")

    deadline = time.monotonic() + 120
    doomed_pages: list[str] = []
    while not any("/bench/a/" in u for u in doomed_pages):  # killed with articles in flight
        assert time.monotonic() < deadline, cluster.log("doomed")
        doomed_pages = in_flight_urls(cluster.prefix, "bench", "doomed")
        time.sleep(0.05)
    os.kill(cluster.procs["doomed"].pid, signal.SIGKILL)
    assert cluster.procs["doomed"].wait(timeout=30) == -signal.SIGKILL
    fetched_at_kill = sum(1 for n in article_hits(site).values() if n)
    assert fetched_at_kill < ARTICLES  # really mid-crawl

    app = AppContext(settings=cluster.settings)
    try:
        cluster.wait_drained(app, "bench", ARTICLES)
        hits = article_hits(site)
        assert all(n >= 1 for n in hits.values())  # every page fetched
        with app.db.session() as s:
            stored = s.scalars(select(Post.url).join(Source).where(Source.key == "bench")).all()
        assert len(stored) == len(set(stored)) == ARTICLES  # stored once each, none lost
        # what the dead worker was fetching came back to the queue and was fetched again
        lost = [u for u in doomed_pages if "/bench/a/" in u]
        assert lost and set(lost) <= set(stored)
        assert all(hits[int(u.rsplit("/", 1)[1].split(".")[0])] >= 1 for u in lost)
        assert "抓取进程已失联，已放回队列" in cluster.log("survivor", tail=10**7)
    finally:
        codes = cluster.stop()
    assert codes["survivor"] == 0, cluster.log("survivor")
    shares = runs(app, "bench")
    app.close()
    assert shares and all(r.ok for r in shares)  # the dead worker's share is never recorded


def test_a_worker_stopped_with_sigterm_finishes_its_pages_and_hands_back_the_rest(cluster,
                                                                                 site):
    cluster.start("leaving")
    cluster.wait_ready("leaving")
    crawl_source(cluster.settings, "bench")
    deadline = time.monotonic() + 120
    while not any("/bench/a/" in u for u in in_flight_urls(cluster.prefix, "bench", "leaving")):
        assert time.monotonic() < deadline, cluster.log("leaving")
        time.sleep(0.05)
    cluster.procs["leaving"].send_signal(signal.SIGTERM)
    assert cluster.procs["leaving"].wait(timeout=60) == 0, cluster.log("leaving")
    assert in_flight_urls(cluster.prefix, "bench", "leaving") == []  # nothing left dangling
    waiting = queue_lengths(REDIS_URL, cluster.prefix, ["bench"])["bench"].pending
    assert waiting > 0  # really stopped mid-crawl, the rest is back in the queue

    cluster.start("next")
    app = AppContext(settings=cluster.settings)
    try:
        cluster.wait_drained(app, "bench", ARTICLES)
        assert article_hits(site) == {i: 1 for i in range(ARTICLES)}  # nothing fetched twice
        assert count(app, "bench") == ARTICLES
    finally:
        cluster.stop()
        app.close()
