"""Working time for many durations at once: the rules of ``routing.sla`` as a running total.

``routing.sla.working_hours_between`` and ``add_duration`` walk day by day, which is right for
one case and too slow for a report over tens of thousands of records (each reply a month late
walks thirty days). ``WorkClock`` counts the working hours from a fixed first day to any
moment once per day, so a duration is two look-ups and a deadline a binary search. Same
working hours, same ``chinesecalendar`` working days, same results (tests compare them).
"""

from __future__ import annotations

from bisect import bisect_left
from datetime import date, datetime, time, timedelta

from routing.sla import (
    DEFAULT_WORKING_HOURS,
    HoursSpec,
    Zone,
    intervals_of,
    is_working_day,
    zone_of,
)

_MAX_DAYS = 3660 * 3  # as routing.sla: longer spans are configuration or data errors


def _seconds(t: time) -> float:
    return t.hour * 3600 + t.minute * 60 + t.second + t.microsecond / 1e6


class WorkClock:
    # everything in seconds: whole working days and times of day stay exact in floats
    def __init__(self, first: date, working_hours: HoursSpec = DEFAULT_WORKING_HOURS,
                 tz: Zone = "Asia/Shanghai"):
        self.zone = zone_of(tz)
        self.spans = [(_seconds(a), _seconds(b)) for a, b in intervals_of(working_hours) if a < b]
        self.day_seconds = sum(b - a for a, b in self.spans)
        self.first = first
        self._working: list[bool] = []
        self._before = [0.0]  # working seconds before day i (from ``first``)

    @property
    def day_hours(self) -> float:
        return self.day_seconds / 3600

    def _grow(self, index: int) -> None:
        if index > _MAX_DAYS:
            raise ValueError("超出可计算范围的工作时间")
        while len(self._working) <= index:
            works = is_working_day(self.first + timedelta(days=len(self._working)))
            self._working.append(works)
            self._before.append(self._before[-1] + (self.day_seconds if works else 0.0))

    def _index(self, moment: datetime) -> tuple[int, datetime]:
        local = moment.astimezone(self.zone)
        index = (local.date() - self.first).days
        if index < 0:
            raise ValueError(f"{moment} is before the clock's first day {self.first}")
        self._grow(index)
        return index, local

    def _total(self, moment: datetime) -> float:
        """Working seconds from ``first`` 00:00 to ``moment``."""
        index, local = self._index(moment)
        done = self._before[index]
        if self._working[index]:
            now = _seconds(local.time())
            done += sum(min(now, b) - a for a, b in self.spans if now > a)
        return done

    def between(self, start: datetime, end: datetime) -> float:
        """As ``routing.sla.working_hours_between``: hours, 0 when end is not after start."""
        return (self._total(end) - self._total(start)) / 3600 if end > start else 0.0

    def add(self, start: datetime, hours: float) -> datetime:
        """As ``routing.sla.add_duration(start, hours, "working")`` for hours > 0: the first
        moment by which ``hours`` of working time have passed."""
        if hours <= 0 or self.day_seconds <= 0:
            raise ValueError("hours and the working day must be positive")
        index, _ = self._index(start)
        target = self._total(start) + hours * 3600
        while self._before[-1] < target:  # enough days to hold the target
            self._grow(len(self._working) + 31)
        day = bisect_left(self._before, target, lo=index + 1) - 1
        left = target - self._before[day]
        for a, b in self.spans:
            if left <= b - a:
                midnight = datetime.combine(self.first + timedelta(days=day), time(0), self.zone)
                return midnight + timedelta(seconds=a + left)
            left -= b - a
        raise AssertionError("unreachable: the day holds the target")
