"""The SLA clock: deadlines per severity in natural or working time.

Working time is the configured morning and afternoon on working days. Which days work is
decided by the ``chinesecalendar`` package (public holidays and the adjusted workdays 调休
published by the State Council), never by a hand-kept list. For a year the package does not
know yet it falls back to Monday–Friday and logs a warning once per year.
"""

from __future__ import annotations

import logging
from bisect import bisect_left
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


_US = timedelta(microseconds=1)


def _us(t: time) -> int:
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000 + t.microsecond


class WorkingTime:
    """Working time under one set of working hours in one zone, kept as running totals.

    Walking day by day is right for one case and too slow for a report over tens of thousands
    of records, so the working microseconds before each day of a year are counted once per
    year (and per process: ``working_time`` shares one instance per hours and zone). A
    duration is then a few look-ups and a deadline a binary search; integers keep results
    exact to the microsecond. Times are read on the local wall clock of ``zone``, like the
    working hours themselves. A year is only counted when a computation reaches it, so the
    unknown-year warning names the same years as a day-by-day walk would.
    """

    def __init__(self, working_hours: Sequence[tuple[time, time]], zone: tzinfo):
        self.zone = zone
        # an empty or reversed span holds no working time
        self.spans = tuple((_us(a), _us(b)) for a, b in working_hours if a < b)
        self.day_us = sum(b - a for a, b in self.spans)
        self._year = lru_cache(maxsize=256)(self._count_year)

    @property
    def day_hours(self) -> float:
        return self.day_us / 3_600_000_000

    def _count_year(self, year: int) -> tuple[tuple[bool, ...], tuple[int, ...]]:
        """Per day of ``year``: does it work, and the working µs before it (one more entry:
        the year's total)."""
        first = date(year, 1, 1)
        working = tuple(is_working_day(first + timedelta(i))
                        for i in range((date(year + 1, 1, 1) - first).days))
        before = [0]
        for works in working:
            before.append(before[-1] + (self.day_us if works else 0))
        return working, tuple(before)

    def _local(self, moment: datetime) -> datetime:
        return moment.replace(tzinfo=self.zone) if moment.tzinfo is None \
            else moment.astimezone(self.zone)

    def _done(self, local: datetime) -> int:
        """Working µs from 1 January 00:00 of ``local``'s year to ``local``."""
        working, before = self._year(local.year)
        index = local.timetuple().tm_yday - 1
        done = before[index]
        if working[index]:
            now = _us(local.time())
            done += sum(min(now, b) - a for a, b in self.spans if now > a)
        return done

    def between(self, start: datetime, end: datetime) -> float:
        """Working hours from ``start`` to ``end`` (0 when end is not after start); a naive
        moment is read as local time in the zone."""
        lo, hi = self._local(start), self._local(end)
        if hi <= lo:
            return 0.0
        total = self._done(hi) - self._done(lo) + sum(
            self._year(year)[1][-1] for year in range(lo.year, hi.year))
        return timedelta(microseconds=total).total_seconds() / 3600

    def add(self, start: datetime, hours: float) -> datetime:
        """The first moment by which ``hours`` of working time have passed since ``start``;
        for 0 hours the first working moment at or after ``start`` (never a span's end)."""
        if hours < 0:
            raise SlaError(f"时限不能为负数：{hours}")
        if self.day_us <= 0:
            raise SlaError("工作时间为空，无法按工作时间计时")
        begin = self._local(start)
        left = timedelta(hours=hours) // _US
        year, index = begin.year, begin.timetuple().tm_yday - 1  # day of the year, from 0
        if left == 0:
            now = _us(begin.time())
            for _ in range(_MAX_DAYS):
                working, _before = self._year(year)
                if working[index]:
                    for a, b in self.spans:
                        if b > now:
                            return begin if now >= a else self._at(year, index, a)
                now, index = -1, index + 1  # later days start at midnight
                if index == len(working):
                    year, index = year + 1, 0
            raise SlaError(f"{hours} 个工作小时超出可计算范围")
        target = self._done(begin) + left  # from 1 January of the year at hand
        limit = begin.date() + timedelta(_MAX_DAYS)  # a limit needing more is refused
        while year <= limit.year:
            before = self._year(year)[1]
            if before[-1] >= target:
                day = bisect_left(before, target, lo=index + 1) - 1
                if date(year, 1, 1) + timedelta(day) >= limit:
                    break
                left = target - before[day]
                for a, b in self.spans:
                    if left <= b - a:
                        return self._at(year, day, a + left)
                    left -= b - a
            target -= before[-1]
            year, index = year + 1, 0
        raise SlaError(f"{hours} 个工作小时超出可计算范围")

    def _at(self, year: int, day: int, us: int) -> datetime:
        midnight = datetime.combine(date(year, 1, 1) + timedelta(day), time(0), self.zone)
        return midnight + timedelta(microseconds=us)


@lru_cache(maxsize=32)
def _shared(working_hours: tuple[tuple[time, time], ...], zone: tzinfo) -> WorkingTime:
    return WorkingTime(working_hours, zone)


def working_time(working_hours: HoursSpec = DEFAULT_WORKING_HOURS,
                 tz: Zone = "Asia/Shanghai") -> WorkingTime:
    """The shared working-time table for these hours and zone (deadlines, reminders, reports)."""
    return _shared(intervals_of(working_hours), zone_of(tz))


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
    if calendar == "natural":
        # arithmetic in UTC, so a zone with daylight saving would still count real hours
        begin = localize(start, tz)
        return (begin.astimezone(UTC) + timedelta(hours=hours)).astimezone(zone_of(tz))
    if calendar != "working":
        raise SlaError(f"未知的计时方式 {calendar!r}（应为 natural 或 working）")
    return working_time(working_hours, tz).add(start, hours)


def working_hours_between(start: datetime, end: datetime,
                          working_hours: HoursSpec = DEFAULT_WORKING_HOURS,
                          tz: Zone = "Asia/Shanghai") -> float:
    """Working hours elapsed from ``start`` to ``end`` (0 when end is not after start)."""
    return working_time(working_hours, tz).between(start, end)


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
