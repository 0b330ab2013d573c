"""Seeding the shared crawl queue, its lengths, and the long-running crawl worker.

A round of a source starts when its start requests are pushed (``seed``); any number of
workers (``run_worker``, one Twisted reactor each for the life of the process) pop, fetch and
parse them, and push what the pages link to. A worker opens one crawler per source that has
work and closes it when the round is drained (nothing waiting, nothing in flight anywhere).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from crawlers.dates import SHANGHAI
from crawlers.distributed import (
    DEFAULT_PREFIX,
    DEFAULT_TTL,
    Heartbeat,
    QueueKeys,
    ReliableQueue,
    connect,
    distributed_settings,
    requeue_dead,
)
from crawlers.runtime import CrawlHooks, CrawlResult
from crawlers.settings import DEFAULTS, scrapy_settings
from crawlers.sources import SourceSpec
from crawlers.spiders import spider_for

log = logging.getLogger(__name__)

WEB_KINDS = ("feed", "html", "json_api", "board")


@dataclass
class QueueLength:
    pending: int  # waiting in the queue
    in_flight: int  # popped by a worker, not yet done

    def to_dict(self) -> dict[str, int]:
        return {"pending": self.pending, "in_flight": self.in_flight}


def queue_lengths(url: str, prefix: str = DEFAULT_PREFIX,
                  sources: Iterable[str] | None = None) -> dict[str, QueueLength]:
    """Pending and in-flight requests per source (every seeded source when none are named)."""
    server = connect(url)
    try:
        keys = list(sources) if sources is not None else sorted(
            k.decode() if isinstance(k, bytes) else k
            for k in server.smembers(QueueKeys(prefix, "").sources))
        pipe = server.pipeline(transaction=False)
        for key in keys:
            q = QueueKeys(prefix, key)
            pipe.zcard(q.requests)
            pipe.hlen(q.processing)
        counts = pipe.execute()
    finally:
        server.close()
    return {key: QueueLength(int(counts[2 * i]), int(counts[2 * i + 1]))
            for i, key in enumerate(keys)}


@dataclass
class SeedResult:
    source: str
    pushed: int = 0
    busy: bool = False  # the previous round still has work: nothing pushed
    pending: int = 0
    in_flight: int = 0


def seed(url: str, spec: SourceSpec, hooks: CrawlHooks, prefix: str = DEFAULT_PREFIX,
         force: bool = False) -> SeedResult:
    """Start a round: push the source's start requests (its spider's ``start()``).

    A round still running (requests waiting or in flight) is left alone unless ``force``:
    the shared queue's equivalent of one crawl at a time per source. A new round forgets the
    last round's fingerprints, so list pages (and open board messages) are fetched again.
    """
    if spec.kind not in WEB_KINDS:
        raise ValueError(f"信息源 {spec.key} 的类型 {spec.kind} 不是网页抓取类，不能进入共享队列")
    keys = QueueKeys(prefix, spec.key)
    server = connect(url)
    try:
        pending, in_flight = int(server.zcard(keys.requests)), int(server.hlen(keys.processing))
        if (pending or in_flight) and not force:
            return SeedResult(spec.key, busy=True, pending=pending, in_flight=in_flight)
        result = CrawlResult(source=spec.key, started_at=datetime.now(SHANGHAI))
        spider = spider_for(spec.kind)(spec=spec, hooks=hooks, result=result)
        requests = asyncio.run(_collect(spider.start()))
        from scrapy_redis.dupefilter import RFPDupeFilter

        server.delete(keys.dupefilter)
        server.set(keys.list_pages, spider.list_pages)  # the seeded pages count in the budget
        dupefilter = RFPDupeFilter(server, key=keys.dupefilter)
        queue = ReliableQueue(server, spider, keys, worker="seed")
        pushed = sum(queue.offer(request, dupefilter) for request in requests)
        server.sadd(keys.sources, spec.key)
        return SeedResult(spec.key, pushed=pushed, pending=pending + pushed, in_flight=in_flight)
    finally:
        server.close()


async def _collect(start: Any) -> list[Any]:
    from scrapy import Request

    out = []
    async for output in start:
        if isinstance(output, Request):
            out.append(output)
        else:  # our spiders start with requests only; an item here would have no home
            log.warning("start() yielded a non-request, ignored: %r", type(output))
    return out


def new_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def worker_settings(spec: SourceSpec, url: str, prefix: str, worker: str, poll: float = 1.0,
                    overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The source's own Scrapy settings, on the shared queue, with the acknowledging
    middleware closest to the engine (it must see exactly what reaches the scheduler)."""
    settings = scrapy_settings(spec, overrides)
    settings.update(distributed_settings(url, prefix, spec.key, worker, poll))
    # Take from the shared queue only what can be downloaded now: with Scrapy's 16 a worker
    # fetching 2 at a time from one site would hold a list page's articles while the other
    # workers idle, and all of them would be fetched again if it died.
    hosts = {urlsplit(u).hostname for u in spec.start_urls} or {None}
    settings["CONCURRENT_REQUESTS"] = min(settings["CONCURRENT_REQUESTS"],
                                          settings["CONCURRENT_REQUESTS_PER_DOMAIN"] * len(hosts))
    settings["SPIDER_MIDDLEWARES"] = {**settings["SPIDER_MIDDLEWARES"],
                                      "crawlers.distributed.AckMiddleware": 1}
    settings["LOG_INSTALL_ROOT_HANDLER"] = False
    return settings


# ---- the worker --------------------------------------------------------------------------

@dataclass
class WorkerPlan:
    """What the worker may crawl right now (read again on every poll)."""

    specs: dict[str, SourceSpec]
    hooks: Callable[[str], CrawlHooks]  # hooks for one source's crawl
    finished: Callable[[str, CrawlResult], None]  # one source's share of a round ended


def run_worker(plan: Callable[[], WorkerPlan], url: str, prefix: str = DEFAULT_PREFIX,
               worker: str = "", poll: float = 1.0, ttl: int = DEFAULT_TTL,
               overrides: dict[str, Any] | None = None) -> None:
    """Run until SIGTERM/SIGINT: every ``poll`` seconds open a crawler for each source with
    work waiting; a crawler ends when its source's round is drained."""
    from scrapy.crawler import Crawler, CrawlerProcess
    from scrapy.settings import Settings
    from scrapy.utils.reactor import install_reactor
    from twisted.internet import task

    worker = worker or new_worker_id()
    base = Settings(dict(DEFAULTS))
    install_reactor(base["TWISTED_REACTOR"], base["ASYNCIO_EVENT_LOOP"])
    process = CrawlerProcess(settings={key: DEFAULTS[key] for key in (
        "LOG_LEVEL", "TELNETCONSOLE_ENABLED", "REMOTE_CONTROL_ENABLED")} | {
        "LOG_INSTALL_ROOT_HANDLER": False})
    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        # Scrapy sets its own loggers to DEBUG (every scraped item, full text): a long-running
        # worker logs at the crawl settings' level unless the caller asked for debug output
        logging.getLogger("scrapy").setLevel(DEFAULTS["LOG_LEVEL"])
    server = connect(url)
    heartbeat = Heartbeat(url, prefix, worker, ttl).start()
    running: set[str] = set()
    log.info("抓取工作进程 %s 已启动，队列 %s（前缀 %s）", worker, url, prefix)

    def start_crawl(current: WorkerPlan, key: str) -> None:
        spec = current.specs[key]
        settings = worker_settings(spec, url, prefix, worker, poll, overrides)
        result = CrawlResult(source=key, started_at=datetime.now(SHANGHAI))
        hooks = current.hooks(key)
        # above the process's own (project) priority: the runner merges its settings into
        # every crawler it is given, and the source's politeness must win
        crawler = Crawler(spider_for(spec.kind), Settings(settings, priority="cmdline"))
        running.add(key)

        def done(outcome: Any) -> None:
            running.discard(key)
            result.finished_at = datetime.now(SHANGHAI)
            if outcome is not None and hasattr(outcome, "getErrorMessage"):
                result.record_error("", f"抓取进程出错：{outcome.getErrorMessage()}"[:1000])
            try:
                current.finished(key, result)
            except Exception:  # recording a share must not stop the worker
                log.exception("信息源 %s 抓取结果记录失败", key)

        process.crawl(crawler, spec=spec, hooks=hooks, result=result).addBoth(done)

    last_sweep = [0.0]

    def tick() -> None:
        try:
            current = plan()
            # looking for dead workers' requests costs a hash read per source: every few beats
            sweep = time.monotonic() - last_sweep[0] >= min(ttl / 3, 5.0)
            if sweep:
                last_sweep[0] = time.monotonic()
            for key in sorted(server.smembers(QueueKeys(prefix, "").sources)):
                key = key.decode() if isinstance(key, bytes) else key
                keys = QueueKeys(prefix, key)
                if sweep:
                    requeue_dead(server, keys, prefix, alive=worker)
                if key in running or key not in current.specs:
                    continue
                if current.specs[key].kind in WEB_KINDS and server.zcard(keys.requests):
                    start_crawl(current, key)
        except Exception:  # Redis or the settings away for a moment: try again next poll
            log.exception("抓取工作进程轮询出错")

    loop = task.LoopingCall(tick)
    loop.start(poll, now=True)
    try:
        process.start(stop_after_crawl=False)
    finally:
        if loop.running:
            loop.stop()
        heartbeat.stop()
        server.close()
        log.info("抓取工作进程 %s 已退出", worker)
