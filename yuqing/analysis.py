"""The analysis step of the pipeline: stored posts -> nlp.Analysis -> post fields and events.

It runs in the one leader process (`yuqing run`, the demo): crawl workers and imports only
store posts, and this step picks up every post whose ``analyzed_at`` is empty, so a crash
at any point is finished by the next run. The transaction that stores a batch's analysis
also marks the events it changed ``routing_pending``; routing clears the mark in the same
transaction as the case change, and every run routes the marked events first, so a crash
between the analysis and the routing delays an alert but never loses it. The event index
lives in memory, rebuilt at start from the posts of the clustering window; it gives a new
event a provisional id, and the transaction that stores the batch inserts the batch's new
events together and the index takes their database ids once it commits.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import re
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, distinct, func, insert, select, update
from sqlalchemy.orm import Session, selectinload

from nlp.analyzer import Analyzer, to_audit_dict
from nlp.types import Analysis, PlaceMatch, PostInput
from store import Database, Event, Post, PostPlace, Source
from yuqing.context import AppContext
from yuqing.ingest import index_posts

log = logging.getLogger(__name__)

WINDOW_HOURS = 72.0
PROVISIONAL = "~"  # prefix of the event index's ids for events not stored yet


def post_input(post: Post) -> PostInput:
    src: Source = post.source
    return PostInput(
        id=str(post.id), text=post.text, title=post.title, source=src.key,
        source_kind=post.source_kind or src.source_kind, author=post.author,
        published_at=post.published_at or post.collected_at, url=post.url,
        reposts=post.reposts, comments=post.comments, likes=post.likes,
        followers=post.author_followers, authority=src.authority,
        default_place=src.default_place)


class AnalysisStep:
    """Callable as an ingest PostProcessor; ``pending()`` is the catch-up job."""

    def __init__(self, ctx: AppContext, on_events: Callable[[Database, list[int]], None]
                 | None = None):
        self.ctx = ctx
        self.on_events = on_events  # routing: called with the events that changed
        self._lock = threading.Lock()  # one batch at a time: the event index is not shared
        self._analyzer: Analyzer | None = None
        self._events = None
        self._rules: tuple[object, object] | None = None  # taxonomy and severity built with
        self._provisional = itertools.count(1)

    # -- lazily built, once per process ----------------------------------------------------
    def _new_event_id(self) -> str:
        # provisional: the batch's new events are inserted together when it is stored, and
        # renamed to their database ids then (not one INSERT and commit per new event)
        return f"{PROVISIONAL}{next(self._provisional)}"

    def analyzer(self) -> Analyzer:
        from yuqing.commands.nlp import build_analyzer, place_finder_for

        settings = self.ctx.fresh_settings()
        rules = (settings.taxonomy, settings.severity)
        if self._analyzer is None:
            from nlp.events import EventIndex

            finder = place_finder_for(settings)
            for note in finder.gazetteer.home_discrepancies():
                log.warning("辖区代码与全国区划不一致：%s", note)
            self._events = EventIndex(window_hours=WINDOW_HOURS, id_factory=self._new_event_id)
            self._analyzer = build_analyzer(settings, place_finder=finder,
                                            event_assigner=self._events)
            self._rules = rules
            self._replay()
        elif rules != self._rules:
            # keywords or severity weights edited at the admin desk: the next posts are
            # analysed with them; the event index (and the posts already analysed) stay
            log.info("领域关键词或预警权重已修改，分析器按新配置重建")
            self._analyzer = build_analyzer(settings, place_finder=self._analyzer.place_finder,
                                            event_assigner=self._events)
            self._rules = rules
        return self._analyzer

    def _replay(self) -> None:
        """Rebuild the in-memory event index from the posts of the window."""
        assert self._events is not None and self._analyzer is not None
        since = self.ctx.now() - timedelta(hours=WINDOW_HOURS)
        tokenizer = self._analyzer.tokenizer
        with self.ctx.db.session() as session:
            rows = session.scalars(
                select(Post).where(Post.event_id.is_not(None), Post.analyzed_at.is_not(None),
                                   Post.collected_at >= since)
                .options(selectinload(Post.places), selectinload(Post.source))
                .order_by(Post.id)).all()
            for post in rows:
                text = post.text_norm or post.text
                places = [PlaceMatch(name=p.name, code=p.code, level=p.level,
                                     confidence=p.confidence, text="") for p in post.places]
                self._events.add_known(str(post.id), str(post.event_id), text,
                                       tokenizer.words_of(text), places,
                                       post.published_at or post.collected_at,
                                       source=post.source.key, url=post.url, title=post.title)
        if rows:
            log.info("事件索引已从 %d 条信息重建", len(rows))

    # -- the step ----------------------------------------------------------------------------
    def __call__(self, db: Database, post_ids: list[int]) -> None:
        with self._lock:
            analyzer = self.analyzer()
            with db.session() as session:
                posts = session.scalars(select(Post).where(Post.id.in_(post_ids))
                                        .options(selectinload(Post.source))
                                        .order_by(Post.published_at, Post.id)).all()
                inputs = [post_input(p) for p in posts]
            if not inputs:
                return
            analyses = analyzer.analyze_batch(inputs)
            events = self._store(db, analyses)
        if events and self.on_events:
            self.on_events(db, sorted(events))

    def route_pending(self, limit: int = 500) -> int:
        """Route the events an earlier run analysed but did not finish routing (a crash, a
        failed decision). Returns how many were handed to routing."""
        if self.on_events is None:
            return 0
        with self.ctx.db.session() as session:
            ids = list(session.scalars(select(Event.id).where(Event.routing_pending.is_(True))
                                       .order_by(Event.id).limit(limit)))
        if ids:
            log.info("补做 %d 个事件的分派", len(ids))
            self.on_events(self.ctx.db, ids)
        return len(ids)

    def _store(self, db: Database, analyses: list[Analysis]) -> set[int]:
        """One transaction for the batch: post fields, places and the events they changed,
        written with a few set-wise statements (not a load, a delete and a flush per post)."""
        now = self.ctx.now()
        touched: set[int] = set()
        renamed: dict[str, str] = {}
        with db.session() as session:
            wanted = [int(a.post_id) for a in analyses]
            existing = set(session.scalars(select(Post.id).where(Post.id.in_(wanted))))
            fresh = sorted({a.event.id for a in analyses if a.event is not None
                            and a.event.id.startswith(PROVISIONAL)
                            and int(a.post_id) in existing}, key=lambda e: int(e[1:]))
            if fresh:
                # the batch's new events in one statement; their rows are filled in below
                ids = session.scalars(
                    insert(Event).returning(Event.id, sort_by_parameter_order=True),
                    [{"first_seen_at": now, "last_seen_at": now} for _ in fresh]).all()
                renamed = {old: str(new) for old, new in zip(fresh, ids, strict=True)}
                analyses = [_renamed(a, renamed) for a in analyses]
            rows: list[dict[str, Any]] = []
            places: list[dict[str, Any]] = []
            for a in analyses:
                post_id = int(a.post_id)
                if post_id not in existing:
                    continue  # deleted meanwhile
                row = {"id": post_id, "text_norm": a.normalized_text,
                       "topic": a.topic.label, "topic_prob": a.topic.prob,
                       "sentiment": a.sentiment.label, "sentiment_score": a.sentiment.score,
                       "severity": a.severity.level, "severity_score": a.severity.score,
                       "keywords": list(a.keywords), "analysis": to_audit_dict(a),
                       # the index refreshes topic, severity and places
                       "analyzed_at": now, "updated_at": now}
                if a.event is not None:
                    row["event_id"] = int(a.event.id)
                    touched.add(row["event_id"])
                rows.append(row)
                places.extend({"post_id": post_id, "code": p.code, "name": p.name,
                               "level": p.level, "confidence": p.confidence}
                              for p in a.places)
            if not rows:
                return touched
            ids = [r["id"] for r in rows]
            # executemany by primary key, grouped by the keys each row sets
            for keys in {tuple(r) for r in rows}:
                session.execute(update(Post), [r for r in rows if tuple(r) == keys])
            session.execute(delete(PostPlace).where(PostPlace.post_id.in_(ids)))
            if places:
                session.execute(insert(PostPlace), places)
            self._refresh_events(session, sorted(touched),
                                 {int(new): old for old, new in renamed.items()})
        # committed: the index learns the new events' ids
        for old, new in renamed.items():
            self._events.rename(old, new)
        return touched

    def _refresh_events(self, session: Session, event_ids: list[int],
                        provisional: dict[int, str]) -> None:
        """Event rows from the index's summaries and the stored posts' aggregates
        (``provisional``: the index's id of each event inserted by this transaction)."""
        assert self._events is not None
        if not event_ids:
            return
        events = {e.id: e for e in session.scalars(select(Event).where(Event.id.in_(event_ids)))}
        counts = {row.event_id: row for row in session.execute(
            select(Post.event_id, func.count().label("posts"),
                   func.count(distinct(Post.source_id)).label("sources"),
                   func.min(Post.severity).label("severity"))  # I (1) is the gravest
            .where(Post.event_id.in_(event_ids)).group_by(Post.event_id))}
        topics: dict[int, list[tuple[int, str]]] = {}
        for event_id, topic, n in session.execute(
                select(Post.event_id, Post.topic, func.count())
                .where(Post.event_id.in_(event_ids), Post.topic.is_not(None), Post.topic != "")
                .group_by(Post.event_id, Post.topic)):
            topics.setdefault(event_id, []).append((n, topic))
        summaries = {}
        for event_id in event_ids:
            try:
                summaries[event_id] = self._events.summary(
                    provisional.get(event_id, str(event_id)))
            except KeyError:  # not held by the index any more: its row stays as it is
                log.warning("事件 %s 不在事件索引中，跳过汇总", event_id)
        firsts = {p.id: p for p in session.execute(
            select(Post.id, Post.source_id, Post.title)
            .where(Post.id.in_([int(s.first_post_id) for s in summaries.values()])))}
        for event_id, summary in summaries.items():
            event = events.get(event_id)
            if event is None:
                continue
            agg = counts.get(event_id)
            event.routing_pending = True  # committed with the analysis; routing clears it
            event.post_count = agg.posts if agg else 0
            event.source_count = agg.sources if agg else 0
            event.severity = agg.severity if agg else None
            ranked = topics.get(event_id)
            # the most frequent topic; a tie goes to the first name, not to hash order
            event.topic = min(ranked, key=lambda nt: (-nt[0], nt[1]))[1] if ranked else None
            event.first_post_id = int(summary.first_post_id)
            first = firsts.get(event.first_post_id)
            event.first_source_id = first.source_id if first else None
            event.first_seen_at, event.last_seen_at = summary.first_at, summary.last_at
            event.keywords = list(summary.keywords)
            event.places = list(summary.places)
            event.trend = {hour: n for hour, n in summary.hourly}
            event.summary = summary.summary
            if not event.title and first is not None:
                event.title = (first.title or summary.summary)[:200]

    def pending(self, limit: int = 500) -> int:
        """Analyze posts never analyzed (or changed since). Returns how many.

        Events left routing-pending by an earlier run are routed first, so a restart
        finishes them even when no new post arrives."""
        self.route_pending()
        with self.ctx.db.session() as session:
            ids = list(session.scalars(select(Post.id).where(Post.analyzed_at.is_(None))
                                       .order_by(Post.id).limit(limit)))
        if ids:
            self(self.ctx.db, ids)
            index_posts(self.ctx.db, self.ctx.index, ids, now=self.ctx.now())
        return len(ids)


def _renamed(analysis: Analysis, ids: dict[str, str]) -> Analysis:
    """The analysis with its event's provisional id replaced by the stored one."""
    event = analysis.event
    if event is None or event.id not in ids:
        return analysis
    new = ids[event.id]
    token = re.compile(re.escape(event.id) + r"(?!\d)")
    reasons = [token.sub(new, r) for r in event.reasons]
    return dataclasses.replace(analysis, event=dataclasses.replace(event, id=new,
                                                                   reasons=reasons))
