"""APScheduler jobs run inside `yuqing run`. Each job is a thin loop over a handle_one()."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler

from yuqing.briefings import add_briefing_jobs
from yuqing.context import AppContext
from yuqing.crawling import SYNC_INTERVAL, sync_sources
from yuqing.ingest import reindex_pending
from yuqing.jobs import add_workflow_jobs, configure_workflow
from yuqing.schemes import add_scheme_jobs

log = logging.getLogger(__name__)


def reindex_job(ctx: AppContext) -> int:
    """Index posts stored but not yet (or no longer) in the search index."""
    done = reindex_pending(ctx.db, ctx.index, now=ctx.now())
    if done:
        log.info("检索索引补建 %d 条", done)
    return done


def analysis_job(ctx: AppContext) -> int:
    """Analyze stored posts not yet analyzed (crawled by workers, imported, or left by a crash).

    The same worker as ``yuqing run --role worker``: on PostgreSQL it takes its turn with
    the running workers (yuqing/workers.py), so `yuqing analyze-pending` is safe beside them.
    """
    from yuqing.workers import worker_for

    total = worker_for(ctx).drain()
    if total:
        log.info("已分析 %d 条信息", total)
    return total


def build_scheduler(ctx: AppContext, *, analysis: bool = True) -> BackgroundScheduler:
    """The leader's jobs; ``analysis=False`` when workers analyse (``yuqing run`` roles)."""
    cfg = ctx.settings.app.scheduler
    configure_workflow(ctx)
    scheduler = BackgroundScheduler(timezone=ctx.settings.app.timezone)
    # coalesce + one instance: after downtime a job runs once, not once per missed tick
    common = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 300}
    scheduler.add_job(reindex_job, "interval", seconds=cfg.reindex_interval, args=[ctx],
                      id="reindex", **common)
    if analysis:  # the demo: one process, no worker thread
        scheduler.add_job(analysis_job, "interval", seconds=cfg.analysis_interval, args=[ctx],
                          id="analysis", next_run_time=datetime.now(UTC), **common)
    sync_sources(scheduler, ctx)
    # sources added, paused, resumed or rescheduled in the console take effect on this tick
    scheduler.add_job(sync_sources, "interval", seconds=SYNC_INTERVAL, args=[scheduler, ctx],
                      id="sources-sync", **common)
    add_workflow_jobs(scheduler, ctx)
    add_briefing_jobs(scheduler, ctx)
    add_scheme_jobs(scheduler, ctx)
    return scheduler
