"""The flow of a post after collection, assembled in one place.

``build_ingestor`` gives every collector (crawl workers, imports, the demo) the same storing
and indexing, and wakes the analysis workers when a batch commits. Analysis, event clustering
and routing run in the workers (``yuqing/workers.py``: the worker role or thread of
``yuqing run``, ``yuqing analyze-pending``), never in the collectors.
"""

from __future__ import annotations

from sqlalchemy import func, select

from store import Case, Event, Post
from yuqing.context import AppContext
from yuqing.ingest import Ingestor


def build_ingestor(ctx: AppContext) -> Ingestor:
    cfg = ctx.settings.app
    from yuqing.workers import posts_stored

    # posts_stored wakes the analysis workers as soon as a batch is committed
    return Ingestor(ctx.db, ctx.index, timezone=cfg.timezone, batch_size=cfg.ingest.batch_size,
                    max_text_chars=cfg.ingest.max_text_chars, clock=ctx.clock,
                    processors=[posts_stored])


def stats(ctx: AppContext) -> dict[str, object]:
    with ctx.db.session() as session:
        posts = session.scalar(select(func.count(Post.id))) or 0
        events = session.scalar(select(func.count(Event.id))) or 0
        by_state = dict(session.execute(select(Case.state, func.count(Case.id))
                                        .group_by(Case.state)).all())
    return {"posts": posts, "events": events,
            "cases": {"total": sum(by_state.values()), "by_state": by_state}}
