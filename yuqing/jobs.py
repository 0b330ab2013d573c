"""Scheduler jobs for the case workflow: SLA sweeps and notification delivery.

The lead adds them in ``yuqing/scheduler.py`` with ``add_workflow_jobs(scheduler, ctx)`` and
calls ``configure_workflow(ctx)`` once at start (web and scheduler processes alike).
"""

from __future__ import annotations

import logging
from typing import Any

from routing.escalation import sweep
from routing.notify.base import Channel, build_channels
from routing.notify.outbox import Retry, deliver_due
from routing.policy import Policy, configure
from yuqing.context import AppContext
from yuqing.routing_setup import sla_config_from_settings

log = logging.getLogger(__name__)

DELIVERY_INTERVAL_SECONDS = 10  # the console notices ride on this job: keep it short


def workflow_policy(ctx: AppContext) -> Policy:
    return Policy(sla=sla_config_from_settings(ctx.settings))


def configure_workflow(ctx: AppContext) -> Policy:
    """Give the workflow the configured SLA and time zone (once per process)."""
    policy = workflow_policy(ctx)
    configure(policy)
    return policy


def channels_for(ctx: AppContext) -> dict[str, Channel]:
    return build_channels(ctx.settings.channels.channels, ctx.db)


def sla_sweep_job(ctx: AppContext) -> int:
    """Reminders, overdue marking, escalation and repeats for every case that is due."""
    steps = sweep(ctx.db, ctx.now(), policy=workflow_policy(ctx))
    if steps:
        log.info("时限巡检处理 %d 步", steps)
    return steps


def deliver_job(ctx: AppContext) -> int:
    """Send queued notifications on the enabled channels."""
    sent = deliver_due(ctx.db, channels_for(ctx), ctx.now(),
                       retry=Retry.from_settings(ctx.settings.channels.retry))
    if sent:
        log.info("通知发送 %d 条", sent)
    return sent


def add_workflow_jobs(scheduler: Any, ctx: AppContext) -> None:
    cfg = ctx.settings.app.scheduler
    # coalesce + one instance: after downtime a job runs once, not once per missed tick
    common = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 300}
    scheduler.add_job(sla_sweep_job, "interval", seconds=cfg.sweep_interval, args=[ctx],
                      id="sla_sweep", **common)
    scheduler.add_job(deliver_job, "interval", seconds=DELIVERY_INTERVAL_SECONDS, args=[ctx],
                      id="deliver", **common)
