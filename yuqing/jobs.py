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


_policies: dict[int, tuple[object, Policy]] = {}  # per context: (settings, policy built)


def workflow_policy(ctx: AppContext) -> Policy:
    """The policy of the settings in force: rebuilt when the admin desk changed them."""
    settings = ctx.fresh_settings()
    built = _policies.get(id(ctx))
    if built is None or built[0] is not settings:
        built = (settings, Policy(sla=sla_config_from_settings(settings)))
        _policies[id(ctx)] = built
    return built[1]


def configure_workflow(ctx: AppContext) -> Policy:
    """Give the workflow the configured SLA and time zone (at start, web and scheduler).

    The process's policy follows the settings: a console edit of sla.yaml applies to the
    next deadline computed, without a restart (cases keep the deadlines they have).
    """
    configure(lambda: workflow_policy(ctx))
    return workflow_policy(ctx)


def channels_for(ctx: AppContext) -> dict[str, Channel]:
    # built per delivery run from the settings in force: a channel switched on at the
    # admin desk sends from the next run
    return build_channels(ctx.fresh_settings().channels.channels, ctx.db)


def sla_sweep_job(ctx: AppContext) -> int:
    """Reminders, overdue marking, escalation and repeats for every case that is due."""
    steps = sweep(ctx.db, ctx.now(), policy=workflow_policy(ctx))
    if steps:
        log.info("时限巡检处理 %d 步", steps)
    return steps


def deliver_job(ctx: AppContext) -> int:
    """Send queued notifications on the enabled channels."""
    sent = deliver_due(ctx.db, channels_for(ctx), ctx.now(),
                       retry=Retry.from_settings(ctx.fresh_settings().channels.retry))
    if sent:
        log.info("通知发送 %d 条", sent)
    return sent


def add_workflow_jobs(scheduler: Any, ctx: AppContext) -> None:
    cfg = ctx.settings.app.scheduler
    # coalesce + one instance: after downtime a job runs once, not once per missed tick
    common = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 300}
    scheduler.add_job(sla_sweep_job, "interval", seconds=cfg.sweep_interval, args=[ctx],
                      id="sla_sweep", **common)
    # the retry sweep: a routed case's notifications are sent by the worker right away
    scheduler.add_job(deliver_job, "interval", seconds=cfg.deliver_interval, args=[ctx],
                      id="deliver", **common)
