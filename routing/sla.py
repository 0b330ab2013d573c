"""The SLA clock: deadlines per severity in natural or working time.

Working time is the configured morning and afternoon on working days. Which days work is
decided by the ``chinesecalendar`` package (public holidays and the adjusted workdays 调休
published by the State Council), never by a hand-kept list. For a year the package does not
know yet it falls back to Monday–Friday and logs a warning once per year.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import Any, Literal
from zoneinfo import ZoneInfo

import chinese_calendar

log = logging.getLogger(__name__)

Calendar = Literal["natural", "working"]
# the steps of a case that carry a deadline, in the order they fall due
STEPS = ("sign", "first_response", "press_conference", "answer")
STEP_LABELS = {"sign": "签收", "first_response": "首次权威发布", "press_conference": "新闻发布会",
               "answer": "回应办结"}
DEFAULT_WORKING_HOURS: tuple[tuple[time, time], ...] = ((time(8, 30), time(12, 0)),
                                                        (time(13, 30), time(17, 30)))
_MAX_DAYS = 3660  # a limit that needs ten years of working days is a configuration error


class SlaError(ValueError):
    """A limit that cannot be computed (bad hours, no working time); message in Chinese."""


class ExtensionRefused(SlaError):
    """An extension beyond what sla.yaml allows; message in Chinese, safe to show."""


@dataclass(frozen=True, slots=True)
class LevelLimits:
    calendar: Calendar = "natural"
    sign_calendar: Calendar | None = None
    sign_minutes: float | None = None
    first_response_hours: float | None = None
    press_conference_hours: float | None = None
    answer_hours: float | None = None

    def hours(self, step: str) -> float | None:
        if step == "sign":
            return None if self.sign_minutes is None else self.sign_minutes / 60
        return getattr(self, f"{step}_hours")

    def calendar_of(self, step: str) -> Calendar:
        return (self.sign_calendar or self.calendar) if step == "sign" else self.calendar

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> LevelLimits:
        known = {k: data[k] for k in cls.__slots__ if k in data}  # type: ignore[attr-defined]
        return cls(**known)


@dataclass(frozen=True, slots=True)
class SlaConfig:
    levels: dict[int, LevelLimits]
    working_hours: tuple[tuple[time, time], ...] = DEFAULT_WORKING_HOURS
    urgent: LevelLimits | None = None
    tz: str = "Asia/Shanghai"
    max_extensions: int = 2
    max_extension_hours: float = 72
    extra: dict[str, Any] = field(default_factory=dict)  # return window, reminders ...

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], tz: Zone = "Asia/Shanghai") -> SlaConfig:
        """From plain data shaped like config/sla.yaml (e.g. ``settings.sla.model_dump()``)."""
        if not isinstance(tz, str):
            tz = str(tz)  # ZoneInfo prints its key, datetime.UTC prints "UTC"
        wh = data.get("working_hours") or {}
        intervals = tuple((_time(a), _time(b)) for a, b in
                          (wh.get("morning", DEFAULT_WORKING_HOURS[0]),
                           wh.get("afternoon", DEFAULT_WORKING_HOURS[1])))
        urgent = data.get("urgent")
        return cls(levels={int(k): LevelLimits.from_mapping(v)
                           for k, v in (data.get("levels") or {}).items()},
                   working_hours=intervals,
                   urgent=LevelLimits.from_mapping(urgent) if urgent else None,
                   tz=tz,
                   max_extensions=int(data.get("max_extensions", 2)),
                   max_extension_hours=float(data.get("max_extension_hours", 72)),
                   extra={k: v for k, v in data.items()
                          if k not in ("levels", "working_hours", "urgent", "max_extensions",
                                       "max_extension_hours")})


def _time(value: time | str) -> time:
    return value if isinstance(value, time) else time.fromisoformat(value)


@lru_cache(maxsize=64)
def _warn_unknown_year(year: int) -> None:
    log.warning("chinesecalendar 没有 %s 年的节假日数据，按周一至周五计算工作日；请升级该软件包", year)


def is_working_day(day: date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:  # a year the package has not been updated for
        _warn_unknown_year(day.year)
        return day.weekday() < 5


Zone = str | tzinfo
# working hours as (start, end) pairs, or any object with .morning and .afternoon pairs
# (the settings model), or None for the defaults
HoursSpec = Sequence[tuple[time, time]] | Any


def zone_of(tz: Zone) -> tzinfo:
    return ZoneInfo(tz) if isinstance(tz, str) else tz


def intervals_of(working_hours: HoursSpec) -> tuple[tuple[time, time], ...]:
    if working_hours is None:
        return DEFAULT_WORKING_HOURS
    if hasattr(working_hours, "morning"):
        pairs = (working_hours.morning, working_hours.afternoon)
    else:
        pairs = tuple(working_hours)
    return tuple((_time(a), _time(b)) for a, b in pairs)


def localize(moment: datetime, tz: Zone = "Asia/Shanghai") -> datetime:
    """An aware datetime in ``tz``; a naive one is read as local time in ``tz``."""
    zone = zone_of(tz)
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment.astimezone(zone)


def _segments(day: date, working_hours: Sequence[tuple[time, time]], zone: tzinfo
              ) -> list[tuple[datetime, datetime]]:
    if not is_working_day(day):
        return []
    return [(datetime.combine(day, a, zone), datetime.combine(day, b, zone))
            for a, b in working_hours]


def add_duration(start: datetime, hours: float, calendar: Calendar = "natural",
                 working_hours: HoursSpec = DEFAULT_WORKING_HOURS,
                 tz: Zone = "Asia/Shanghai") -> datetime:
    """The moment ``hours`` of the given calendar after ``start`` (aware, in ``tz``).

    In working time the clock only runs inside the working hours of working days: a case
    created on a holiday evening starts counting at 08:30 on the next working day, and a limit
    that ends exactly at noon falls due at 12:00, not after lunch.
    """
    if hours < 0:
        raise SlaError(f"时限不能为负数：{hours}")
    begin = localize(start, tz)
    zone = zone_of(tz)
    if calendar == "natural":
        # arithmetic in UTC, so a zone with daylight saving would still count real hours
        return (begin.astimezone(UTC) + timedelta(hours=hours)).astimezone(zone)
    if calendar != "working":
        raise SlaError(f"未知的计时方式 {calendar!r}（应为 natural 或 working）")
    working_hours = intervals_of(working_hours)
    if not any(a < b for a, b in working_hours):
        raise SlaError("工作时间为空，无法按工作时间计时")
    left = timedelta(hours=hours)
    day = begin.date()
    for _ in range(_MAX_DAYS):
        for seg_start, seg_end in _segments(day, working_hours, zone):
            lo = max(seg_start, begin)
            if lo >= seg_end:
                continue
            if left <= seg_end - lo:
                return lo + left
            left -= seg_end - lo
        day += timedelta(days=1)
    raise SlaError(f"{hours} 个工作小时超出可计算范围")


def working_hours_between(start: datetime, end: datetime,
                          working_hours: HoursSpec = DEFAULT_WORKING_HOURS,
                          tz: Zone = "Asia/Shanghai") -> float:
    """Working hours elapsed from ``start`` to ``end`` (0 when end is not after start)."""
    zone = zone_of(tz)
    working_hours = intervals_of(working_hours)
    lo_all, hi_all = localize(start, tz), localize(end, tz)
    total = timedelta()
    day = lo_all.date()
    while day <= hi_all.date():
        for seg_start, seg_end in _segments(day, working_hours, zone):
            lo, hi = max(seg_start, lo_all), min(seg_end, hi_all)
            if hi > lo:
                total += hi - lo
        day += timedelta(days=1)
    return total.total_seconds() / 3600


def elapsed_hours(start: datetime, end: datetime, calendar: Calendar = "natural",
                  working_hours: HoursSpec = DEFAULT_WORKING_HOURS,
                  tz: Zone = "Asia/Shanghai") -> float:
    if calendar == "working":
        return working_hours_between(start, end, working_hours, tz)
    return max(0.0, (localize(end, tz) - localize(start, tz)).total_seconds() / 3600)


def deadlines(severity: int | None, start: datetime, sla: SlaConfig, urgent: bool = False,
              steps: Sequence[str] = STEPS) -> dict[str, datetime | None]:
    """Each step's deadline for a case of this severity created (or dispatched) at ``start``.

    ``None`` where the step does not apply at this level (or the post is not an alert). For an
    urgent case the urgent limits apply wherever they fall earlier, and add the steps the level
    lacks (an urgent III case gets a first-response deadline).
    """
    out: dict[str, datetime | None] = dict.fromkeys(steps)
    limits = sla.levels.get(severity) if severity is not None else None
    if limits is None:
        return out
    for step in steps:
        due = _due(limits, step, start, sla)
        if urgent and sla.urgent is not None:
            fast = _due(sla.urgent, step, start, sla)
            if fast is not None and (due is None or fast < due):
                due = fast
        out[step] = due
    return out


def _due(limits: LevelLimits, step: str, start: datetime, sla: SlaConfig) -> datetime | None:
    hours = limits.hours(step)
    if hours is None:
        return None
    return add_duration(start, hours, limits.calendar_of(step), sla.working_hours, sla.tz)


def step_calendar(severity: int, step: str, sla: SlaConfig) -> Calendar:
    limits = sla.levels.get(severity)
    return limits.calendar_of(step) if limits else "natural"


def remind_at(start: datetime, due: datetime, sla: SlaConfig, calendar: Calendar = "natural",
              fraction_left: float | None = None) -> datetime:
    """When the first reminder goes out: when ``fraction_left`` of the limit remains.

    Measured in the limit's own calendar, so a working-time limit is not reminded at night.
    """
    fraction = fraction_left if fraction_left is not None else float(
        sla.extra.get("remind_at_fraction_left", 0.25))
    total = elapsed_hours(start, due, calendar, sla.working_hours, sla.tz)
    return add_duration(start, total * (1 - fraction), calendar, sla.working_hours, sla.tz)


def extend(deadline: datetime, hours: float, sla: SlaConfig, severity: int | None = None,
           step: str = "answer", extensions_so_far: int = 0) -> datetime:
    """The deadline moved by an approved extension (延期), in the step's calendar.

    Raises ``ExtensionRefused`` when the case has used its extensions or asks too much;
    recording the extension with the case is the workflow's job.
    """
    if not hours or hours <= 0:
        raise ExtensionRefused("延期时长应为正数（小时）")
    if hours > sla.max_extension_hours:
        raise ExtensionRefused(f"单次延期不得超过 {sla.max_extension_hours:g} 小时"
                               f"（申请 {hours:g} 小时）")
    if extensions_so_far >= sla.max_extensions:
        raise ExtensionRefused(f"每个案件最多延期 {sla.max_extensions} 次，已用完")
    calendar = step_calendar(severity, step, sla) if severity is not None else "natural"
    return add_duration(deadline, hours, calendar, sla.working_hours, sla.tz)
