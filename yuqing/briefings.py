"""Wiring of the briefings: their setup from settings, ``handle_one`` (make one briefing, keep
its files, queue its delivery), and the scheduler jobs that call it every morning / Monday.

Delivery goes through the outbox like every notification: one row per recipient with an
idempotency key per briefing, so a job that runs twice (restart, two processes) sends once.
The email channel attaches the files named in the payload; WeCom/DingTalk get the link.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from routing.notify.outbox import enqueue
from routing.reports.periods import Period
from routing.reports.response import build_response_report
from store import Unit
from webui.briefing import (
    KINDS,
    BriefingSetup,
    ResponseReport,
    build_document,
    default_period,
    file_stem,
    save_files,
)
from yuqing.context import AppContext
from yuqing.routing_setup import sla_config_from_settings

log = logging.getLogger(__name__)


def briefings_folder(ctx: AppContext) -> Path:
    return ctx.settings.home / "briefings"


def response_report_for(ctx: AppContext) -> ResponseReport:
    """The response report (考核) of a period, as the briefings call it."""
    sla = sla_config_from_settings(ctx.settings)
    topics = {t.key: t.name for t in ctx.settings.taxonomy.topics}

    def report(session: Any, period: Period, now: datetime,
               unit_codes: list[str] | None = None) -> Any:
        return build_response_report(session, period, sla=sla, now=now, topic_names=topics,
                                     unit_codes=unit_codes)

    return report


def briefing_setup(ctx: AppContext) -> BriefingSetup:
    s = ctx.settings
    coordinator = s.units.get(s.routing.coordinator)
    return BriefingSetup(tz=s.tz, topics={t.key: t.name for t in s.taxonomy.topics},
                         home_name=s.jurisdictions.home.name,
                         home_code=s.jurisdictions.home.code,
                         issuer=coordinator.name if coordinator else "舆情监测与回应协同平台",
                         response=response_report_for(ctx), folder=briefings_folder(ctx))


def public_url(ctx: AppContext) -> str:
    cfg = ctx.settings.app
    return (cfg.briefing.public_url or f"http://{cfg.web.host}:{cfg.web.port}").rstrip("/")


@dataclass(frozen=True)
class Produced:
    kind: str
    stem: str
    files: list[Path]
    queued: int  # notifications newly queued (0 when this briefing was already sent)


def handle_one(ctx: AppContext, kind: str, *, period: Period | None = None,
               event_id: int | None = None, formats: list[str] | None = None,
               deliver: bool = True) -> Produced:
    """Make one briefing now (``ctx.now()``), keep its files, queue its delivery."""
    now = ctx.now()
    setup = briefing_setup(ctx)
    if kind != "event" and period is None:
        period = default_period(kind, now.astimezone(setup.tz).date())
    formats = formats or list(ctx.settings.app.briefing.formats)
    with ctx.db.session() as session:
        doc = build_document(session, setup, kind, now=now, period=period, event_id=event_id)
    stem = file_stem(kind, period, event_id, now)
    files = save_files(briefings_folder(ctx), stem, doc, formats)
    queued = _queue(ctx, kind, stem, doc.title, doc.subtitle, files, now) if deliver else 0
    log.info("已生成%s %s（%s），待发送 %d 条", KINDS[kind], stem,
             "、".join(p.suffix[1:] for p in files), queued)
    return Produced(kind, stem, files, queued)


def _queue(ctx: AppContext, kind: str, stem: str, title: str, subtitle: str,
           files: list[Path], now: datetime) -> int:
    codes = ctx.settings.app.briefing.recipients or [ctx.settings.routing.coordinator]
    base = public_url(ctx)
    links = [f"{base}/briefings/files/{p.name}" for p in files]
    body = "\n".join([f"{title}（{subtitle}）已生成。", *[f"下载：{u}" for u in links],
                      f"全部简报：{base}/briefings"])
    payload = {"link": f"/briefings/files/{files[0].name}" if files else "/briefings",
               "briefing": stem,
               "attachments": [{"path": str(p), "name": f"{title}_{subtitle}{p.suffix}"}
                               for p in files if p.suffix in (".docx", ".pdf")]}
    with ctx.db.session() as session:
        ids = list(session.scalars(select(Unit.id).where(Unit.code.in_(codes))))
        recipients = [f"{kind_}:{uid}" for uid in ids for kind_ in ("monitors", "leader")]
        return enqueue(session, case_id=None, change=f"briefing:{stem}", recipients=recipients,
                       subject=f"【{KINDS[kind]}】{title} {subtitle}", body=body,
                       payload=payload, now=now)


def briefing_job(ctx: AppContext, kind: str) -> bool:
    """The scheduler's job: this morning's 日报 or this Monday's 周报. True when made."""
    try:
        handle_one(ctx, kind)
    except Exception:  # a failed briefing must not stop the scheduler; the log says why
        log.exception("%s生成失败", KINDS[kind])
        return False
    return True


def add_briefing_jobs(scheduler: Any, ctx: AppContext) -> None:
    cfg = ctx.settings.app.briefing
    common = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600}
    if cfg.daily_at is not None:
        scheduler.add_job(briefing_job, "cron", hour=cfg.daily_at.hour,
                          minute=cfg.daily_at.minute, args=[ctx, "daily"], id="briefing_daily",
                          **common)
    if cfg.weekly_at is not None:
        scheduler.add_job(briefing_job, "cron", day_of_week="mon", hour=cfg.weekly_at.hour,
                          minute=cfg.weekly_at.minute, args=[ctx, "weekly"],
                          id="briefing_weekly", **common)
