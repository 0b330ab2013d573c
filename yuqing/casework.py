"""The routing step of the pipeline: events changed by analysis -> decide -> open or update
the event's case (one case per event, 并单). Runs in the leader after the analysis step.

An event stays ``routing_pending`` until ``open_or_update_case`` commits its case change
(with the audit row and the queued notifications) and clears the mark in that same
transaction; an event whose routing failed or was cut short is routed again by the next
analysis run (``AnalysisStep.route_pending``)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from nlp.types import PlaceMatch
from routing.cases import open_or_update_case
from routing.config import RoutingConfig
from routing.policy import Policy
from routing.rules import Decision, Facts, decide
from store import Database, Event, Post
from yuqing.context import AppContext
from yuqing.jobs import workflow_policy
from yuqing.routing_setup import routing_config_from_settings

log = logging.getLogger(__name__)
MAX_POSTS_PER_DECISION = 200  # the newest posts speak for a large event


def event_facts(db: Database, event_id: int) -> tuple[Event | None, Facts]:
    with db.session() as session:
        event = session.get(Event, event_id)
        posts = session.scalars(
            select(Post).where(Post.event_id == event_id, Post.analyzed_at.is_not(None))
            .options(selectinload(Post.places), selectinload(Post.source))
            .order_by(Post.id.desc()).limit(MAX_POSTS_PER_DECISION)).all()
        facts = [post_facts(p) for p in reversed(posts)]
    return event, Facts.combine(facts)


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
        for event_id in event_ids:
            try:
                event, facts = event_facts(db, event_id)
                if event is None:
                    continue
                now = ctx.now()  # the context's clock: the demo replays a history with it
                decision: Decision = decide(facts, cfg, start=now)
                # the SLA of the settings in force now (the admin desk may have changed it)
                open_or_update_case(db, event_id, decision.for_case(), event.severity, now,
                                    policy=policy or workflow_policy(ctx))
            except Exception:  # one bad event must not stop the others; it stays pending
                log.exception("事件 %s 分派失败，下次分析时重试", event_id)

    return route
