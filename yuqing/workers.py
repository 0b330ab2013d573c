"""The analysis worker: stored posts -> analysis and events -> routing -> notifications.

Any number of workers (``yuqing run --role worker``, or the worker thread of ``--role all``)
share one PostgreSQL. How they split the work:

- **Analysis and event assignment: one worker at a time.** Assigning a post to an event
  depends on every post assigned before it (a follow-up joins the event of the post it
  follows), so two workers clustering at once could open two events, then two cases, for one
  incident. A batch (select the unanalysed posts, analyse, assign, store) therefore runs
  under the PostgreSQL advisory lock ``ANALYSIS``; the holder is the owner of event
  assignment for that batch. Each worker keeps its own in-memory ``EventIndex`` and, right
  after taking the lock, catches it up from the posts the other workers analysed since its
  last batch (``analyzed_at`` since its mark, less a margin for clock skew; posts the index
  knows are skipped, so the catch-up is idempotent). Posts are thereby claimed by the lock:
  selected and stored while it is held, never by two workers.
- **Routing: in parallel, one worker per event.** The events a batch changed are routed
  after the analysis lock is released (routing is half of the pipeline's time), each under
  its own advisory lock, so another worker's next batch proceeds meanwhile and no event is
  routed by two workers at once. Events are routed in chunks: the chunk's locks are taken in
  ascending event order, then their facts read and their case changes committed together. The ``routing_pending`` sweep (crash recovery) skips events
  another worker holds.
- **Notifications: right after routing**, claimed row by row with ``FOR UPDATE SKIP LOCKED``
  in ``routing.notify.outbox`` (the leader's retry sweep uses the same claim).

A worker killed at any point leaves its posts unanalysed or its events ``routing_pending``;
its connection closes, the server frees its locks, and the next batch of any worker
finishes the work. On SQLite there is one process and no advisory lock.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import selectinload

from nlp.types import PlaceMatch
from store import Database, Event, Post
from yuqing.context import AppContext
from yuqing.ingest import index_posts
from yuqing.locks import ANALYSIS, LockConnection, is_postgres, process_name, route_key

log = logging.getLogger(__name__)

CHANNEL = "yuqing_posts"  # LISTEN/NOTIFY channel: posts were stored
CATCH_UP_SLACK = timedelta(minutes=5)  # tolerated clock skew between worker machines
PENDING_SWEEP_SECONDS = 30.0  # routing_pending left by a crash: looked for this often
BATCH = 500
ROUTE_CHUNK = 200  # events routed together (their locks held together on PostgreSQL)

# set by every ingest in this process (role all: the web's API, the demo): wakes the worker
POSTS_ARRIVED = threading.Event()


class DeferredRouter:
    """The analysis step's ``on_events``: routes at once, or collects the event ids while a
    worker defers routing until its analysis lock is released."""

    def __init__(self, route: Callable[[Database, list[int]], None]):
        self.route = route
        self._local = threading.local()

    def __call__(self, db: Database, event_ids: list[int]) -> None:
        bucket = getattr(self._local, "bucket", None)
        if bucket is not None:
            bucket.update(event_ids)
            return
        self.route(db, event_ids)

    @contextmanager
    def deferring(self) -> Iterator[set[int]]:
        self._local.bucket = set()
        try:
            yield self._local.bucket
        finally:
            self._local.bucket = None


def posts_stored(db: Database, post_ids: list[int]) -> None:
    """An ingest processor: tell the workers new posts wait (this process and, on PostgreSQL,
    every listening worker); the workers' poll is the fallback."""
    POSTS_ARRIVED.set()
    if is_postgres(db) and post_ids:
        with db.engine.begin() as conn:
            conn.execute(text("SELECT pg_notify(:c, :n)"), {"c": CHANNEL, "n": str(len(post_ids))})


class Worker:
    def __init__(self, ctx: AppContext, role: str = "worker", *, deliver: bool = True):
        self.ctx = ctx
        self.deliver = deliver  # send the routed cases' notifications at once
        self.step = ctx.analysis
        self.router: DeferredRouter = self.step.on_events
        self.locks = LockConnection(ctx.db, process_name(role)) if is_postgres(ctx.db) else None
        self._mutex = threading.Lock()  # one batch at a time in this process
        self.mark: datetime | None = None  # newest analyzed_at seen after our last batch
        self.analysed = self.routed = self.sent = 0
        self.last_batch_at: datetime | None = None
        self._next_sweep = 0.0

    # -- analysis (one worker at a time) ----------------------------------------------------
    def analyse_batch(self, limit: int = BATCH) -> int:
        """Analyse one batch of unanalysed posts, then route their events. Returns how many."""
        with self._mutex, self.router.deferring() as events:
            ids = self._locked_batch(limit)
        if ids:
            # the search index refreshes topic and places; outside the lock (slow, idempotent)
            index_posts(self.ctx.db, self.ctx.index, ids, now=self.ctx.now())
            self.analysed += len(ids)
            self.last_batch_at = self.ctx.now()
            log.info("已分析 %d 条信息（%s）", len(ids), self.locks.name if self.locks else "本进程")
        self.route(sorted(events))
        return len(ids)

    def _locked_batch(self, limit: int) -> list[int]:
        db = self.ctx.db
        if self.locks is not None:
            try:
                self.locks.lock(ANALYSIS)
            except Exception:
                self.locks.close()
                raise
        try:
            if self.locks is not None:
                self._catch_up()
            with db.session() as session:
                ids = list(session.scalars(select(Post.id).where(Post.analyzed_at.is_(None))
                                           .order_by(Post.id).limit(limit)))
            if ids:
                try:
                    self.step(db, ids)
                except Exception:
                    if self.locks is not None:
                        # the index may hold assignments that never reached the database,
                        # which another worker will now make differently: rebuild it
                        self.step._analyzer = self.step._events = None
                        self.mark = None
                    raise
            if self.locks is not None:
                with db.session() as session:
                    self.mark = session.scalar(select(func.max(Post.analyzed_at)))
            return ids
        finally:
            if self.locks is not None:
                try:
                    self.locks.unlock(ANALYSIS)
                except Exception:  # the connection died: the server freed the lock with it
                    self.locks.close()

    def _catch_up(self) -> int:
        """Add to the event index the posts other workers assigned since our last batch."""
        from yuqing.analysis import WINDOW_HOURS

        analyzer = self.step.analyzer()  # built (and replayed from the database) once
        index = self.step._events  # the step's EventIndex (set by analyzer())
        query = select(Post.id).where(
            Post.event_id.is_not(None), Post.analyzed_at.is_not(None),
            Post.collected_at >= self.ctx.now() - timedelta(hours=WINDOW_HOURS))
        if self.mark is not None:
            query = query.where(Post.analyzed_at >= self.mark - CATCH_UP_SLACK)
        db = self.ctx.db
        with db.session() as session:
            unknown = [i for i in session.scalars(query) if index.event_of(str(i)) is None]
        for start in range(0, len(unknown), BATCH):
            with db.session() as session:
                posts = session.scalars(
                    select(Post).where(Post.id.in_(unknown[start:start + BATCH]))
                    .options(selectinload(Post.places), selectinload(Post.source))
                    .order_by(Post.id)).all()
                for post in posts:
                    text_ = post.text_norm or post.text
                    places = [PlaceMatch(name=p.name, code=p.code, level=p.level,
                                         confidence=p.confidence, text="") for p in post.places]
                    index.add_known(str(post.id), str(post.event_id), text_,
                                    analyzer.tokenizer.words_of(text_), places,
                                    post.published_at or post.collected_at,
                                    source=post.source.key, url=post.url, title=post.title)
        if unknown:
            log.info("事件索引补入其他进程分析的 %d 条信息", len(unknown))
        return len(unknown)

    # -- routing (parallel, one worker per event) -------------------------------------------
    def route(self, event_ids: list[int], *, skip_held: bool = False) -> int:
        """Route these events, each under its lock; ``skip_held``: leave the events another
        worker is routing right now to it. Returns how many were routed here.

        Events are routed in chunks (one read of their facts, one transaction for their case
        changes); a chunk's locks are taken in ascending event order, as every worker takes
        them, so two workers never wait for each other in a circle."""
        done = 0
        ids = sorted(set(event_ids))
        for start in range(0, len(ids), ROUTE_CHUNK):
            held: list[int] = []
            try:
                for event_id in ids[start:start + ROUTE_CHUNK]:
                    if self.locks is not None:
                        key = route_key(event_id)
                        if skip_held:
                            if not self.locks.try_lock(key):
                                continue
                        else:
                            self.locks.lock(key)
                    held.append(event_id)
                if held:
                    self._route_held(held)
                    done += len(held)
            finally:
                if self.locks is not None:
                    for event_id in held:
                        self.locks.unlock(route_key(event_id))
        self.routed += done
        if done and self.deliver:
            self.send()
        return done

    def _route_held(self, event_ids: list[int], tries: int = 3) -> None:
        """Route events whose locks are held. Another worker's batch may add posts to one
        while this routing reads older facts; its commit clears ``routing_pending`` either
        way, so an event that changed meanwhile is routed again here rather than left to
        that worker alone (which may die before routing it)."""
        for _ in range(tries):
            before = self._event_states(event_ids)
            self.router.route(self.ctx.db, event_ids)
            if self.locks is None:
                return
            after = self._event_states(event_ids)
            event_ids = [e for e in event_ids if after.get(e) != before.get(e)]
            if not event_ids:
                return

    def _event_states(self, event_ids: list[int]) -> dict[int, tuple[Any, ...]]:
        with self.ctx.db.session() as session:
            return {row[0]: tuple(row[1:]) for row in session.execute(
                select(Event.id, Event.post_count, Event.severity, Event.last_seen_at)
                .where(Event.id.in_(event_ids)))}

    def route_pending(self, limit: int = BATCH) -> int:
        """Events an earlier run analysed but did not finish routing (a crash)."""
        with self.ctx.db.session() as session:
            ids = list(session.scalars(select(Event.id).where(Event.routing_pending.is_(True))
                                       .order_by(Event.id).limit(limit)))
        done = self.route(ids, skip_held=True) if ids else 0
        if done:
            log.info("补做 %d 个事件的分派", done)
        return done

    def send(self) -> int:
        from yuqing.jobs import deliver_job

        try:
            sent = deliver_job(self.ctx)
        except Exception:  # the leader's retry sweep sends them later
            log.exception("通知即时发送失败，等待定时重试")
            return 0
        self.sent += sent
        return sent

    # -- loops --------------------------------------------------------------------------------
    def drain(self) -> int:
        """Route what a crash left, then analyse until nothing waits (analyze-pending)."""
        self.route_pending()
        total = 0
        while done := self.analyse_batch():
            total += done
        return total

    def warm_up(self) -> None:
        """Load the models and the event index before the first post arrives (~15 s)."""
        self.step.analyzer()

    def run(self, stop: threading.Event, interval: float) -> None:
        listener = None
        if is_postgres(self.ctx.db):
            listener = threading.Thread(target=listen, args=(self.ctx.db, stop), daemon=True,
                                        name="posts-listener")
            listener.start()
        try:
            self.warm_up()
        except Exception:
            log.exception("分析模型加载失败")
        while not stop.is_set():
            POSTS_ARRIVED.clear()  # cleared before looking: a wake during the batch is kept
            try:
                if time.monotonic() >= self._next_sweep:
                    self._next_sweep = time.monotonic() + PENDING_SWEEP_SECONDS
                    self.route_pending()
                while not stop.is_set() and self.analyse_batch():
                    pass
            except Exception:  # an outage or a bad batch: log, wait, try again
                log.exception("分析任务出错，稍后重试")
                if self.locks is not None:
                    self.locks.close()
                stop.wait(interval)
            POSTS_ARRIVED.wait(interval)
        if self.locks is not None:
            self.locks.close()

    def status(self) -> dict[str, Any]:
        return {"analysed": self.analysed, "routed": self.routed, "sent": self.sent,
                "last_batch_at": self.last_batch_at.isoformat() if self.last_batch_at else None}


class Sender:
    """Sends the outbox in a background thread when woken: a web process after a console
    action (dispatch, sign-for …) queued notifications, instead of waiting for the leader's
    retry sweep. Claims make it safe beside the workers and the sweep."""

    def __init__(self, ctx: AppContext):
        self.ctx = ctx
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="outbox-sender", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        from yuqing.jobs import deliver_job

        while True:
            self._wake.wait()
            self._wake.clear()  # wakes during the pass give one more pass
            try:
                deliver_job(self.ctx)
            except Exception:  # the retry sweep sends them later
                log.exception("通知即时发送失败，等待定时重试")


def listen(db: Database, stop: threading.Event) -> None:
    """Wake the worker when an ingest anywhere commits (PostgreSQL LISTEN/NOTIFY)."""
    while not stop.is_set():
        raw: Any = None
        try:
            raw = db.engine.raw_connection()
            conn = raw.driver_connection
            conn.autocommit = True
            conn.execute(f"LISTEN {CHANNEL}")
            while not stop.is_set():
                for _ in conn.notifies(timeout=2.0, stop_after=1):
                    POSTS_ARRIVED.set()
        except Exception:
            log.warning("新信息通知监听中断，稍后重连（期间按间隔轮询）", exc_info=True)
            stop.wait(5)
        finally:
            if raw is not None:
                try:
                    raw.invalidate()
                except Exception:
                    log.debug("closing the listener", exc_info=True)


def worker_for(ctx: AppContext, role: str = "worker", *, deliver: bool = False) -> Worker:
    """The one worker of this context (its analysis step holds the event index)."""
    worker = ctx.__dict__.get("_worker")
    if worker is None:
        worker = ctx.__dict__["_worker"] = Worker(ctx, role, deliver=deliver)
    return worker
