"""The routing step of the pipeline: events changed by analysis -> decide -> open or update
the event's case (one case per event, 并单). Runs in the leader after the analysis step.

An event stays ``routing_pending`` until its case change commits (with the audit row and
the queued notifications) and clears the mark in that same transaction (``open_or_update_cases``:
up to CASES_PER_TRANSACTION events per transaction, each with its own audit rows); an event whose routing failed or was cut short is routed again by the next
analysis run (``AnalysisStep.route_pending``)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import func, select

from nlp.types import PlaceMatch
from routing.cases import open_or_update_cases
from routing.config import RoutingConfig
from routing.policy import Policy
from routing.rules import CaseDecision, Decision, Facts, decide
from store import Database, Event, Post, PostPlace, Source
from yuqing.context import AppContext
from yuqing.jobs import workflow_policy
from yuqing.routing_setup import routing_config_from_settings

log = logging.getLogger(__name__)
MAX_POSTS_PER_DECISION = 200  # the newest posts speak for a large event
FACTS_CHUNK = 200  # events whose facts are read together
# case changes committed together: few enough that SQLite's write lock is short
CASES_PER_TRANSACTION = 50


def event_facts(db: Database, event_id: int) -> tuple[Event | None, Facts]:
    found = events_facts(db, [event_id]).get(event_id)
    return found if found is not None else (None, Facts.combine([]))


def events_facts(db: Database, event_ids: list[int]) -> dict[int, tuple[Event, Facts]]:
    """``event_facts`` for many events with four queries in all, not three per event; the
    columns routing reads, not whole posts (their analysis JSON is large)."""
    out: dict[int, tuple[Event, Facts]] = {}
    if not event_ids:
        return out
    with db.session() as session:
        events = session.scalars(select(Event).where(Event.id.in_(event_ids))).all()
        newest = (select(Post.id, func.row_number().over(partition_by=Post.event_id,
                                                         order_by=Post.id.desc()).label("rn"))
                  .where(Post.event_id.in_(event_ids), Post.analyzed_at.is_not(None))
                  .subquery())
        posts = session.execute(
            select(Post.id, Post.event_id, Post.text_norm, Post.text, Post.topic,
                   Post.severity, Post.source_id)
            .join(newest, newest.c.id == Post.id)
            .where(newest.c.rn <= MAX_POSTS_PER_DECISION)
            .order_by(Post.id)).all()
        places: dict[int, list[PlaceMatch]] = {}
        for start in range(0, len(posts), 500):  # bound the IN list
            for pl in session.execute(
                    select(PostPlace.post_id, PostPlace.name, PostPlace.code, PostPlace.level,
                           PostPlace.confidence)
                    .where(PostPlace.post_id.in_([p.id for p in posts[start:start + 500]]))
                    .order_by(PostPlace.id)):
                places.setdefault(pl.post_id, []).append(PlaceMatch(
                    name=pl.name, code=pl.code, level=pl.level, confidence=pl.confidence,
                    text=""))
        sources = {s.id: (s.key, s.default_place) for s in session.execute(
            select(Source.id, Source.key, Source.default_place)
            .where(Source.id.in_({p.source_id for p in posts})))}
        by_event: dict[int, list[Facts]] = {}
        for p in posts:
            key, default_place = sources[p.source_id]
            by_event.setdefault(p.event_id, []).append(Facts(
                text=p.text_norm or p.text, topic=p.topic, severity=p.severity,
                places=places.get(p.id, []), source=key, default_place=default_place))
        for event in events:
            out[event.id] = (event, Facts.combine(by_event.get(event.id, [])))
    return out


def post_facts(p: Post) -> Facts:
    """What routing needs of one stored, analysed post (places and source loaded)."""
    return Facts(text=p.text_norm or p.text, topic=p.topic, severity=p.severity,
                 places=[PlaceMatch(name=pl.name, code=pl.code, level=pl.level,
                                    confidence=pl.confidence, text="") for pl in p.places],
                 source=p.source.key, default_place=p.source.default_place)


def case_router(ctx: AppContext, policy: Policy | None = None
                ) -> Callable[[Database, list[int]], None]:
    built: dict[str, object] = {}

    def config() -> RoutingConfig:
        # read per batch: a unit edited or retired at the admin desk routes the next decision
        settings = ctx.fresh_settings()
        if built.get("settings") is not settings:
            built.update(settings=settings, cfg=routing_config_from_settings(settings))
        return built["cfg"]  # type: ignore[return-value]

    def route(db: Database, event_ids: list[int]) -> None:
        cfg = config()
        for start in range(0, len(event_ids), FACTS_CHUNK):
            chunk = event_ids[start:start + FACTS_CHUNK]
            try:
                facts_of = events_facts(db, chunk)
            except Exception:  # they stay pending: the next analysis run routes them
                log.exception("读取 %d 个事件的信息失败，下次分析时重试", len(chunk))
                continue
            now = ctx.now()  # the context's clock: the demo replays a history with it
            changes: list[tuple[int, CaseDecision, int | None]] = []
            for event_id in chunk:
                if event_id not in facts_of:
                    continue
                event, facts = facts_of[event_id]
                try:
                    decision: Decision = decide(facts, cfg, start=now)
                except Exception:  # one bad event must not stop the others; it stays pending
                    log.exception("事件 %s 分派失败，下次分析时重试", event_id)
                    continue
                changes.append((event_id, decision.for_case(), event.severity))
            # the SLA of the settings in force now (the admin desk may have changed it)
            pol = policy or workflow_policy(ctx)
            for at in range(0, len(changes), CASES_PER_TRANSACTION):
                done = open_or_update_cases(db, changes[at:at + CASES_PER_TRANSACTION], now,
                                            policy=pol)
                for event_id, result in done.items():
                    if isinstance(result, Exception):  # it stays pending
                        log.error("事件 %s 分派失败，下次分析时重试", event_id,
                                  exc_info=result)

    return route
