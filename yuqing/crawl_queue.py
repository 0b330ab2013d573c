"""Wiring for the shared crawl queue (``crawl.queue`` in settings.yaml).

Without a queue every crawl runs in a child process of the caller (``yuqing.crawling``). With
one, a crawl of a web source only pushes its start requests (``enqueue_source``); the
``yuqing crawl-worker`` processes fetch, parse and ingest into the database, each recording
its share of a round as a run of the source. Import folders always run where they are.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from crawlers.runtime import CrawlHooks, CrawlResult
from crawlers.sources import SourceSpec

if TYPE_CHECKING:
    from yuqing.context import AppContext
    from yuqing.settings import Settings

log = logging.getLogger(__name__)

WORKER_BATCH = 50  # items per store transaction in a worker: a killed worker redoes fewer pages


class QueueUnavailable(RuntimeError):
    pass


def queue_configured(settings: Settings) -> bool:
    return bool(settings.app.crawl.queue)


@dataclass
class QueuedCrawl:
    source: str
    pushed: int
    busy: bool
    pending: int
    in_flight: int

    def summary(self) -> str:
        if self.busy:
            return (f"信息源 {self.source} 上一轮抓取尚未完成（队列中 {self.pending} 个请求，"
                    f"抓取中 {self.in_flight} 个），本次未推送")
        return f"信息源 {self.source} 已向共享抓取队列推送 {self.pushed} 个起始请求，由抓取工作进程完成"


def _seed_hooks(app: AppContext) -> CrawlHooks:
    """The start of a crawl reads the store (board messages waiting for a reply); it stores
    nothing: the workers do."""
    from yuqing.crawling import known_posts, open_board_messages

    def no_sink(items: list[Any]) -> None:
        raise RuntimeError("seeding stores nothing")

    return CrawlHooks(sink=no_sink,
                      known=lambda source, ids, urls: known_posts(app.db, source, ids, urls),
                      open_messages=lambda source: open_board_messages(app.db, source))


def enqueue_source(settings: Settings, spec: SourceSpec, force: bool = False) -> QueuedCrawl:
    """Push one web source's start requests; a round still running is left alone."""
    import redis

    from crawlers.worker import seed
    from yuqing.context import AppContext

    cfg = settings.app.crawl
    app = AppContext(settings=settings)
    try:
        done = seed(cfg.queue, spec, _seed_hooks(app), cfg.queue_prefix, force=force)
    except redis.RedisError as exc:
        raise QueueUnavailable(f"共享抓取队列 {cfg.queue} 无法连接：{exc}") from exc
    finally:
        app.close()
    return QueuedCrawl(done.source, done.pushed, done.busy, done.pending, done.in_flight)


def crawl_queue_status(settings: Settings) -> dict[str, Any]:
    """For /healthz and the admin source page: the queue's state and, per configured source,
    requests waiting (``pending``) and being fetched (``in_flight``).

    ``{"configured": False}`` without a queue; ``ok`` False with ``error`` when Redis is away.
    """
    cfg = settings.app.crawl
    if not cfg.queue:
        return {"configured": False, "ok": True, "sources": {}}
    import redis

    from crawlers.worker import queue_lengths

    keys = [s.key for s in settings.sources.sources if s.kind != "import"]
    try:
        lengths = queue_lengths(cfg.queue, cfg.queue_prefix, keys)
    except redis.RedisError as exc:
        return {"configured": True, "ok": False, "error": f"共享抓取队列无法连接：{exc}",
                "sources": {}}
    return {"configured": True, "ok": True,
            "pending": sum(v.pending for v in lengths.values()),
            "in_flight": sum(v.in_flight for v in lengths.values()),
            "sources": {k: v.to_dict() for k, v in lengths.items()}}


# ---- the worker process ------------------------------------------------------------------

def record_share(app: AppContext, key: str, result: CrawlResult) -> None:
    """One worker's share of a round, recorded as a run of the source (a worker that got
    nothing of the round records nothing)."""
    from yuqing.bootstrap import sync_reference_data
    from yuqing.crawling import UnknownSource, record_run

    if not (result.pages or result.items or result.error_count):
        return
    try:
        _, flagged = record_run(app.db, key, result)
    except UnknownSource:  # added in the console since the rows were synced
        sync_reference_data(app.db, app.settings)
        _, flagged = record_run(app.db, key, result)
    state = "成功" if result.ok else "失败"
    (log.info if result.ok else log.warning)(
        "信息源 %s 本进程抓取%s：页面 %d，新增 %d，更新 %d，重复 %d，错误 %d%s", key, state,
        result.pages, result.new, result.updated, result.duplicate, result.error_count,
        "，已标记待检查" if flagged else "")


def worker_plan_factory(app: AppContext, only: tuple[str, ...] = ()) -> Any:
    """The plan the worker reads on every poll: the enabled web sources as they are now."""
    from crawlers.worker import WEB_KINDS, WorkerPlan
    from yuqing.crawling import known_posts, open_board_messages, source_spec
    from yuqing.pipeline import build_ingestor

    ingestor: list[Any] = []

    def hooks(key: str) -> CrawlHooks:
        from yuqing.crawling import _sink_for

        if not ingestor:  # built once per worker: models and the search index load once
            ingestor.append(build_ingestor(app))
        return CrawlHooks(
            sink=_sink_for(ingestor[0]),
            known=lambda source, ids, urls: known_posts(app.db, source, ids, urls),
            open_messages=lambda source: open_board_messages(app.db, source),
            batch_size=min(WORKER_BATCH, app.settings.app.ingest.batch_size))

    def plan() -> Any:
        settings = app.fresh_settings()
        specs = {}
        for src in settings.sources.sources:
            if not src.enabled or src.kind not in WEB_KINDS or (only and src.key not in only):
                continue
            try:
                specs[src.key] = source_spec(src)
            except Exception as exc:  # a bad source must not stop the others
                log.error("信息源 %s 配置有误，跳过：%s", src.key, exc)
        return WorkerPlan(specs=specs, hooks=hooks,
                          finished=lambda key, result: record_share(app, key, result))

    return plan


def run_crawl_worker(app: AppContext, only: tuple[str, ...] = (), poll: float = 1.0,
                     worker_id: str = "") -> None:
    """``yuqing crawl-worker``: runs until SIGTERM/SIGINT."""
    from crawlers.worker import run_worker
    from store.migrate import is_current
    from yuqing.bootstrap import init_database

    cfg = app.settings.app.crawl
    if not cfg.queue:
        raise QueueUnavailable("未配置共享抓取队列（settings.yaml 的 crawl.queue）")
    if not is_current(app.db):  # a fresh database; the seeding side syncs the source rows
        init_database(app.db, app.settings)
    run_worker(worker_plan_factory(app, only), cfg.queue, cfg.queue_prefix, worker=worker_id,
               poll=poll, ttl=cfg.worker_ttl)
