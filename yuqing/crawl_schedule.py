"""Crawl schedules: "15m" / "1h" intervals or 5-field cron lines, one APScheduler job a source."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta, tzinfo
from typing import Any

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

_INTERVAL = re.compile(r"^\s*(\d+)\s*(s|m|h|d|秒|分钟|分|小时|天)\s*$")
_SECONDS = {"s": 1, "秒": 1, "m": 60, "分": 60, "分钟": 60, "h": 3600, "小时": 3600,
            "d": 86400, "天": 86400}
_MIN_INTERVAL = 30  # seconds; anything faster hammers a site and the scheduler
# crontab counts weekdays from Sunday = 0; APScheduler 3.x from Monday = 0: use names instead
_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _crontab_weekdays(field: str) -> str:
    def convert(part: str) -> str:
        days, slash, step = part.partition("/")
        days = re.sub(r"\d+", lambda m: _WEEKDAYS[int(m.group()) % 7], days)
        return days + slash + step

    return ",".join(convert(p) for p in field.split(","))


def parse_schedule(text: str, tz: tzinfo, start: datetime | None = None) -> BaseTrigger:
    """A trigger for "15m", "1h", "30s", "1d" (or 15分钟, 2小时) or a crontab line.

    ``start``: an interval counts from then (default: from now, APScheduler's own clock).
    """
    m = _INTERVAL.match(text or "")
    if m:
        seconds = int(m.group(1)) * _SECONDS[m.group(2)]
        if seconds < _MIN_INTERVAL:
            raise ValueError(f"抓取间隔 {text!r} 太短，至少 {_MIN_INTERVAL} 秒")
        first = start + timedelta(seconds=seconds) if start else None
        return IntervalTrigger(seconds=seconds, start_date=first, timezone=tz)
    fields = (text or "").split()
    if len(fields) == 5:
        fields[4] = _crontab_weekdays(fields[4])
        try:
            return CronTrigger.from_crontab(" ".join(fields), timezone=tz)
        except ValueError as exc:
            raise ValueError(f"cron 表达式 {text!r} 有误：{exc}") from exc
    raise ValueError(f"无法识别的抓取计划 {text!r}：应为 15m、1h 这样的间隔或 5 段 cron 表达式")


def add_source_jobs(scheduler: Any, sources: list[Any], tz: tzinfo,
                    job: Callable[..., Any], job_args: Callable[[Any], list[Any]]) -> list[str]:
    """One job per enabled source; returns the job ids. Raises ValueError on a bad schedule."""
    ids = []
    for src in sources:
        if not src.enabled:
            continue
        try:
            trigger = parse_schedule(src.schedule, tz)
        except ValueError as exc:
            raise ValueError(f"信息源 {src.key} 的 schedule：{exc}") from exc
        job_id = f"crawl:{src.key}"
        scheduler.add_job(job, trigger, args=job_args(src), id=job_id, name=f"抓取 {src.name}",
                          max_instances=1, coalesce=True, replace_existing=True,
                          misfire_grace_time=300)
        ids.append(job_id)
    return ids


def sync_source_jobs(scheduler: Any, sources: list[Any], tz: tzinfo, job: Callable[..., Any],
                     job_args: Callable[[Any], list[Any]], now: datetime) -> dict[str, list[str]]:
    """Make the scheduler's crawl jobs match ``sources`` as they are now.

    A new or resumed source gets a job (first run one interval after ``now``), a paused or
    removed one loses it, a changed schedule replaces the trigger; an unchanged job keeps its
    next run time. A bad schedule is skipped (reported), never fatal: this runs every tick.
    """
    wanted = {f"crawl:{src.key}": src for src in sources if src.enabled}
    current = {j.id: j for j in scheduler.get_jobs() if j.id.startswith("crawl:")}
    out: dict[str, list[str]] = {"added": [], "removed": [], "rescheduled": [], "bad": []}
    for job_id in sorted(current.keys() - wanted.keys()):
        scheduler.remove_job(job_id)
        out["removed"].append(job_id)
    for job_id, src in wanted.items():
        try:
            trigger = parse_schedule(src.schedule, tz, start=now)
        except ValueError:
            out["bad"].append(job_id)
            continue
        existing = current.get(job_id)
        if existing is not None and str(existing.trigger) == str(trigger):
            continue
        scheduler.add_job(job, trigger, args=job_args(src), id=job_id, name=f"抓取 {src.name}",
                          max_instances=1, coalesce=True, replace_existing=True,
                          misfire_grace_time=300,
                          next_run_time=trigger.get_next_fire_time(None, now))
        out["rescheduled" if existing is not None else "added"].append(job_id)
    return out
