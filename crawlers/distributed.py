"""A shared crawl queue on Redis: scrapy-redis's scheduler, queue and dupefilter, made reliable.

scrapy-redis pops a request out of Redis and forgets it: a worker killed while the request is
in flight loses it. Here a pop *moves* the request into a per-source processing hash (tagged
with the worker's id) in one Lua script; the request is acknowledged (removed) only once
everything its callback produced is safe: the requests it yielded are in the queue and its
items were handed to the store (the sink pipeline flushes in batches). Each worker keeps a
heartbeat key alive from a thread; the entries of a worker whose heartbeat expired go back
to the queue, so a worker killed with -9 loses nothing (its pages are fetched again).

Keys, for prefix P and source S::

    P:S:requests    sorted set  waiting requests (scrapy_redis.queue.PriorityQueue format)
    P:S:dupefilter  set         request fingerprints of this round (scrapy_redis RFPDupeFilter)
    P:S:processing  hash        token -> "score\\npickled request" popped, not yet done
    P:S:list_pages  counter     list/API pages requested this round (the source's max_pages)
    P:sources       set         sources ever seeded (lengths, workers looking for work)
    P:worker:W      string      worker W's heartbeat (expires after the worker's TTL)
    P:seq           counter     token numbers
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import redis
from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler

log = logging.getLogger(__name__)

TOKEN = "yuqing_queue_token"  # meta of a popped request: its processing entry
PARENT = "yuqing_queue_parent"  # meta of a yielded request: the token of the page it came from
DEFAULT_PREFIX = "yuqing:crawl"
DEFAULT_TTL = 30  # seconds without a heartbeat before a worker counts as dead

_POP = """
local r = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #r == 0 then return false end
redis.call('ZREM', KEYS[1], r[1])
local token = ARGV[1] .. ':' .. redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[2], token, r[2] .. '\\n' .. r[1])
return {token, r[1]}
"""

# The dupefilter's fingerprint and the request go in together: a worker killed between the two
# would leave a fingerprint without its request, and the parent page, fetched again by another
# worker, would then find its child "seen" and drop it for good.
_PUSH_NEW = """
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
return 1
"""

_REQUEUE = """
local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
local i = string.find(v, '\\n', 1, true)
redis.call('ZADD', KEYS[2], tonumber(string.sub(v, 1, i - 1)), string.sub(v, i + 1))
return 1
"""


@dataclass(frozen=True)
class QueueKeys:
    prefix: str
    source: str

    @property
    def requests(self) -> str:
        return f"{self.prefix}:{self.source}:requests"

    @property
    def dupefilter(self) -> str:
        return f"{self.prefix}:{self.source}:dupefilter"

    @property
    def processing(self) -> str:
        return f"{self.prefix}:{self.source}:processing"

    @property
    def list_pages(self) -> str:
        return f"{self.prefix}:{self.source}:list_pages"

    @property
    def sources(self) -> str:
        return f"{self.prefix}:sources"

    @property
    def seq(self) -> str:
        return f"{self.prefix}:seq"


def worker_key(prefix: str, worker: str) -> str:
    return f"{prefix}:worker:{worker}"


def connect(url: str) -> redis.Redis:
    """A client for the queue URL (redis://host:port/db); answers stay bytes (pickles)."""
    return redis.Redis.from_url(url, socket_timeout=30, socket_connect_timeout=10,
                                health_check_interval=30)


class ReliableQueue(PriorityQueue):
    """scrapy-redis's priority queue whose pop keeps the request until it is acknowledged."""

    def __init__(self, server: redis.Redis, spider: Any, keys: QueueKeys, worker: str,
                 serializer: Any = None):
        super().__init__(server, spider, keys.requests, serializer)
        self.keys = keys
        self.worker = worker
        self._pop = server.register_script(_POP)
        self._requeue = server.register_script(_REQUEUE)
        self._push_new = server.register_script(_PUSH_NEW)

    def push(self, request: Request) -> None:
        # our bookkeeping never travels to Redis (a popped request gets a fresh token)
        request.meta.pop(TOKEN, None)
        request.meta.pop(PARENT, None)
        super().push(request)

    def push_new(self, request: Request, fingerprint: str) -> bool:
        """Push unless the round has seen ``fingerprint``, in one step; False when seen."""
        request.meta.pop(TOKEN, None)
        request.meta.pop(PARENT, None)
        return bool(self._push_new(keys=[self.keys.dupefilter, self.keys.requests],
                                   args=[fingerprint, -request.priority,
                                         self._encode_request(request)]))

    def offer(self, request: Request, dupefilter: Any) -> bool:
        """Queue ``request`` as the scheduler would: always when it is ``dont_filter``, else
        only if the round has not seen its fingerprint. False when it was a duplicate."""
        if request.dont_filter:
            self.push(request)
            return True
        return self.push_new(request, dupefilter.request_fingerprint(request))

    def pop(self, timeout: int = 0) -> Request | None:
        found = self._pop(keys=[self.keys.requests, self.keys.processing, self.keys.seq],
                          args=[self.worker])
        if not found:
            return None
        token, data = found
        try:
            request = self._decode_request(data)
        except Exception:  # a request this code cannot read (an older version?): drop it
            log.exception("undecodable request in %s dropped", self.keys.requests)
            self.ack(token)
            return None
        request.meta[TOKEN] = token.decode() if isinstance(token, bytes) else token
        return request

    def ack(self, token: str) -> None:
        self.server.hdel(self.keys.processing, token)

    def in_flight(self) -> int:
        return int(self.server.hlen(self.keys.processing))

    def take_list_page(self, budget: int) -> bool:
        """One more list page of this round, if the source's ``max_pages`` allows: the budget
        is the round's, not each worker's."""
        return int(self.server.incr(self.keys.list_pages)) <= budget

    def requeue(self, tokens: Iterable[str]) -> int:
        moved = 0
        for token in tokens:
            moved += int(self._requeue(keys=[self.keys.processing, self.keys.requests],
                                       args=[token]))
        return moved

    def own_tokens(self) -> list[str]:
        return [t for t in _tokens(self.server, self.keys) if _owner(t) == self.worker]

    def requeue_dead(self, ttl_prefix: str) -> int:
        """Give the in-flight requests of workers without a heartbeat back to the queue."""
        return requeue_dead(self.server, self.keys, ttl_prefix, self._requeue, alive=self.worker)


def _tokens(server: redis.Redis, keys: QueueKeys) -> list[str]:
    return [t.decode() if isinstance(t, bytes) else t for t in server.hkeys(keys.processing)]


def _owner(token: str) -> str:
    return token.rsplit(":", 1)[0]


def requeue_dead(server: redis.Redis, keys: QueueKeys, prefix: str,
                 script: Any = None, alive: str = "") -> int:
    """``alive``: the calling worker, running whatever its heartbeat says (a beat delayed past
    the TTL must not make it take its own pages back while it is fetching them)."""
    script = script or server.register_script(_REQUEUE)
    tokens = _tokens(server, keys)
    owners = {_owner(t) for t in tokens} - {alive}
    dead = {w for w in owners if not server.exists(worker_key(prefix, w))}
    moved = 0
    for token in tokens:
        if _owner(token) in dead:
            moved += int(script(keys=[keys.processing, keys.requests], args=[token]))
    if moved:
        log.warning("信息源 %s：%d 个请求的抓取进程已失联，已放回队列", keys.source, moved)
    return moved


class AckTracker:
    """Counts what each popped request's callback produced; acknowledges the request when all
    of it is settled (yielded requests queued, items flushed to the store or dropped)."""

    def __init__(self, queue: ReliableQueue):
        self.queue = queue
        self.outstanding: dict[str, int] = {}
        self.finished: set[str] = set()
        self.item_token: dict[int, str] = {}
        self.flushers: list[Any] = []  # pipelines' flush(), called when the spider idles

    def produced(self, token: str, output: Any) -> None:
        self.outstanding[token] = self.outstanding.get(token, 0) + 1
        if isinstance(output, Request):
            output.meta[PARENT] = token
        else:
            self.item_token[id(output)] = token

    def callback_done(self, token: str) -> None:
        self.finished.add(token)
        self._maybe_ack(token)

    def settle(self, token: str | None) -> None:
        if token is None or token not in self.outstanding:
            return
        self.outstanding[token] -= 1
        self._maybe_ack(token)

    def settle_item(self, item: Any) -> None:
        self.settle(self.item_token.pop(id(item), None))

    def failed(self, request: Request) -> None:
        """The spiders' errback: a failed request is done (its failure is recorded)."""
        token = request.meta.get(TOKEN)
        if token:
            self.callback_done(token)

    def superseded(self, token: str) -> None:
        """A popped request went back into the queue as a new one (retry, redirect)."""
        self.finished.discard(token)
        self.outstanding.pop(token, None)
        self.queue.ack(token)

    def _maybe_ack(self, token: str) -> None:
        if token in self.finished and self.outstanding.get(token, 0) <= 0:
            self.finished.discard(token)
            self.outstanding.pop(token, None)
            self.queue.ack(token)

    def flush(self) -> None:
        for flush in self.flushers:
            flush()

    def take_list_page(self, budget: int) -> bool:
        return self.queue.take_list_page(budget)


def tracker_of(spider: Any) -> AckTracker | None:
    return getattr(spider, "queue_acks", None)


class AckMiddleware:
    """Spider middleware closest to the engine: sees exactly what reaches the scheduler and
    the pipelines, and tells the tracker when a page's callback is done."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> AckMiddleware:
        return cls(crawler)

    async def process_start(self, start: Any) -> Any:
        # a worker never starts a round (the seeder did, and its requests are in the queue):
        # the spider's start() is not even run, so it costs no store query and no page budget
        return
        yield  # an async generator that yields nothing

    def _token(self, response: Response) -> tuple[AckTracker | None, str | None]:
        tracker = tracker_of(self.crawler.spider)
        request = getattr(response, "request", None)
        token = request.meta.get(TOKEN) if request is not None else None
        return tracker, token

    def process_spider_output(self, response: Response, result: Iterable[Any]) -> Iterator[Any]:
        tracker, token = self._token(response)
        try:
            for output in result:
                if tracker and token and output is not None:
                    tracker.produced(token, output)
                yield output
        finally:  # also when the callback raised: what it yielded before still counts
            if tracker and token:
                tracker.callback_done(token)

    async def process_spider_output_async(self, response: Response, result: Any) -> Any:
        tracker, token = self._token(response)
        try:
            async for output in result:
                if tracker and token and output is not None:
                    tracker.produced(token, output)
                yield output
        finally:
            if tracker and token:
                tracker.callback_done(token)


class ReliableScheduler(Scheduler):
    """scrapy-redis's Scheduler on one source's keys, with acknowledged pops.

    Settings: YUQING_QUEUE_URL, YUQING_QUEUE_PREFIX, YUQING_QUEUE_SOURCE, YUQING_WORKER_ID,
    YUQING_QUEUE_POLL (seconds between looks at an empty queue). The shared queue is never
    flushed by a worker (SCHEDULER_PERSIST): a round ends when nothing waits or is in flight.
    """

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ReliableScheduler:
        settings = crawler.settings
        server = connect(settings["YUQING_QUEUE_URL"])
        server.ping()
        inst = cls(server=server, persist=True, idle_before_close=0)
        inst.stats = crawler.stats
        inst.crawler = crawler
        inst.prefix = settings.get("YUQING_QUEUE_PREFIX", DEFAULT_PREFIX)
        inst.keys = QueueKeys(inst.prefix, settings["YUQING_QUEUE_SOURCE"])
        inst.worker = settings["YUQING_WORKER_ID"]
        # The engine looks for new requests every 5 s when its scheduler seemed empty; a shared
        # queue fills from other processes, so look more often (private knob, harmless if gone).
        crawler.engine._SLOT_HEARTBEAT_INTERVAL = settings.getfloat("YUQING_QUEUE_POLL", 1.0)
        return inst

    def open(self, spider: Any) -> None:
        self.spider = spider
        self.queue = ReliableQueue(self.server, spider, self.keys, self.worker)
        self.df = RFPDupeFilter(self.server, key=self.keys.dupefilter)
        self.tracker = AckTracker(self.queue)
        spider.queue_acks = self.tracker
        self.crawler.signals.connect(self._idle, signal=signals.spider_idle)
        self.server.sadd(self.keys.sources, self.keys.source)

    # enqueue/next as scrapy-redis's, without the stats' spider argument Scrapy 2.13+ deprecates
    def enqueue_request(self, request: Request) -> bool:
        parent = request.meta.pop(PARENT, None)
        token = request.meta.pop(TOKEN, None)
        try:
            if not self.queue.offer(request, self.df):
                self.df.log(request, self.spider)
                return False
            if self.stats:
                self.stats.inc_value("scheduler/enqueued/redis")
            return True
        finally:
            if token:  # a retry or redirect of a popped request replaces it
                self.tracker.superseded(token)
            self.tracker.settle(parent)

    def next_request(self) -> Request | None:
        request = self.queue.pop()
        if request is not None and self.stats:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def _idle(self, spider: Any) -> None:
        # Nothing downloads or parses here now: flush the pipeline (acks its pages) and give
        # back anything of ours still unacknowledged, then stay open while the round lasts.
        self.tracker.flush()
        leftover = self.queue.own_tokens()
        if leftover:
            log.warning("信息源 %s：%d 个请求未确认完成，已放回队列", self.keys.source, len(leftover))
            self.queue.requeue(leftover)
        self.queue.requeue_dead(self.prefix)
        if len(self.queue) or self.queue.in_flight():
            raise DontCloseSpider

    def close(self, reason: str) -> None:
        # after the engine drained downloads and the pipelines closed: unfinished work goes back
        leftover = self.queue.own_tokens()
        if leftover:
            self.queue.requeue(leftover)

    def flush(self) -> None:  # the shared queue belongs to every worker: never cleared here
        return


def distributed_settings(url: str, prefix: str, source: str, worker: str,
                         poll: float = 1.0) -> dict[str, Any]:
    """Scrapy settings that put one source's crawl on the shared queue."""
    return {
        "SCHEDULER": "crawlers.distributed.ReliableScheduler",
        "YUQING_QUEUE_URL": url, "YUQING_QUEUE_PREFIX": prefix,
        "YUQING_QUEUE_SOURCE": source, "YUQING_WORKER_ID": worker, "YUQING_QUEUE_POLL": poll,
    }


# ---- heartbeat ---------------------------------------------------------------------------

class Heartbeat:
    """Keeps ``P:worker:W`` alive from a thread, so a busy reactor never looks dead."""

    def __init__(self, url: str, prefix: str, worker: str, ttl: int = DEFAULT_TTL):
        self.server = connect(url)
        self.key = worker_key(prefix, worker)
        self.ttl = max(2, int(ttl))
        self.lapses = 0  # beats that found the key expired
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, name="queue-heartbeat", daemon=True)

    def start(self) -> Heartbeat:
        self.server.set(self.key, "1", ex=self.ttl)
        self.thread.start()
        return self

    def _run(self) -> None:
        while not self.stop_event.wait(self.ttl / 3):
            self.beat()

    def beat(self) -> bool:
        """Renew the key; False (and a warning) when it had already expired, that is when
        other workers may have taken this worker's in-flight requests back to the queue
        (they are then fetched twice; ingest still stores each post once)."""
        try:
            if self.server.set(self.key, "1", ex=self.ttl, xx=True):
                return True
            self.server.set(self.key, "1", ex=self.ttl)
            self.lapses += 1
            log.warning("抓取队列心跳曾中断超过 %d 秒：本进程的在途请求可能已被其他工作进程放回"
                        "队列并重复抓取（入库仍只存一次）", self.ttl)
        except redis.RedisError as exc:  # Redis away: the next beat tries again
            log.warning("抓取队列心跳失败：%s", exc)
        return False

    def stop(self) -> None:
        self.stop_event.set()
        if self.thread.is_alive():
            self.thread.join(timeout=5)
        with contextlib.suppress(redis.RedisError):
            self.server.delete(self.key)
