"""Report periods and the small statistics every report shares.

A period is a range of local calendar days, both ends included; its bounds in UTC are
``[start 00:00 local, day after end 00:00 local)``. "Today" is always passed in, never read
from the clock, so a report over a fixed history gives the same figures on any day.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

PRESETS: dict[str, str] = {
    "this_week": "本周", "last_week": "上周", "this_month": "本月", "last_month": "上月",
    "this_quarter": "本季度", "this_year": "本年", "yesterday": "昨日", "today": "今日",
}
DEFAULT_PRESET = "last_week"
MAX_DAYS = 3660  # a longer period is a typing error, not a report


class PeriodError(ValueError):
    """A period that cannot be used; the message is Chinese and safe to show."""


@dataclass(frozen=True, slots=True)
class Period:
    start: date  # first day, included
    end: date  # last day, included
    preset: str = ""  # the preset it came from, if any

    @property
    def label(self) -> str:
        name = PRESETS.get(self.preset, "")
        span = (f"{self.start:%Y-%m-%d}" if self.start == self.end
                else f"{self.start:%Y-%m-%d} 至 {self.end:%Y-%m-%d}")
        return f"{name}（{span}）" if name else span

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def bounds(self, tz: tzinfo) -> tuple[datetime, datetime]:
        """UTC instants [from, to) covering the local days of the period."""
        lo = datetime.combine(self.start, time(0), tz).astimezone(UTC)
        hi = datetime.combine(self.end + timedelta(days=1), time(0), tz).astimezone(UTC)
        return lo, hi

    def contains(self, moment: datetime | None, tz: tzinfo) -> bool:
        if moment is None:
            return False
        lo, hi = self.bounds(tz)
        return lo <= moment < hi

    def previous(self) -> Period:
        """The period just before, for 环比: as many whole months for a month-aligned
        period (上月 before 本月), else as many days."""
        if _whole_months(self):
            months = _months_between(self.start, self.end)
            return Period(_add_months(self.start, -months), self.start - timedelta(days=1))
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    def as_dict(self) -> dict[str, str]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat(),
                "preset": self.preset, "label": self.label}


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _whole_months(p: Period) -> bool:
    return p.start.day == 1 and (p.end + timedelta(days=1)).day == 1


def _months_between(start: date, end: date) -> int:
    nxt = end + timedelta(days=1)
    return (nxt.year - start.year) * 12 + nxt.month - start.month


def preset(name: str, today: date) -> Period:
    """One of PRESETS relative to ``today`` (a local date)."""
    monday = today - timedelta(days=today.weekday())
    if name == "today":
        return Period(today, today, name)
    if name == "yesterday":
        day = today - timedelta(days=1)
        return Period(day, day, name)
    if name == "this_week":
        return Period(monday, today, name)
    if name == "last_week":
        return Period(monday - timedelta(days=7), monday - timedelta(days=1), name)
    if name == "this_month":
        return Period(today.replace(day=1), today, name)
    if name == "last_month":
        end = today.replace(day=1) - timedelta(days=1)
        return Period(end.replace(day=1), end, name)
    if name == "this_quarter":
        first = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
        return Period(first, today, name)
    if name == "this_year":
        return Period(date(today.year, 1, 1), today, name)
    raise PeriodError(f"未知的时间段「{name}」，可选：{'、'.join(PRESETS.values())}")


def parse_period(start: str | date | None, end: str | date | None, preset_name: str | None,
                 today: date) -> Period:
    """From user input: explicit from/to win over a preset; neither gives the last full week."""
    if start or end:
        lo, hi = _day(start, "开始日期"), _day(end, "结束日期")
        if lo is None:
            lo = hi
        if hi is None:
            hi = today if lo is not None and lo <= today else lo
        assert lo is not None and hi is not None
        if hi < lo:
            raise PeriodError("结束日期不能早于开始日期")
        if (hi - lo).days + 1 > MAX_DAYS:
            raise PeriodError(f"时间段不能超过 {MAX_DAYS} 天")
        return Period(lo, hi)
    return preset(preset_name or DEFAULT_PRESET, today)


def _day(value: str | date | None, what: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        day = date.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise PeriodError(f"{what}格式应为 YYYY-MM-DD") from exc
    if not 2000 <= day.year <= 2100:
        raise PeriodError(f"{what}超出可统计范围（2000–2100 年）")
    return day


def percentile(values: Iterable[float], q: float) -> float | None:
    """The q-th percentile (0–100) by linear interpolation between closest ranks — numpy's
    default ("linear"): position (n − 1)·q/100 in the sorted values. None for no values."""
    data = sorted(values)
    if not data:
        return None
    if not 0 <= q <= 100:
        raise ValueError("q must be within 0..100")
    pos = (len(data) - 1) * q / 100
    lo = math.floor(pos)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def median(values: Iterable[float]) -> float | None:
    return percentile(values, 50)


def rate(part: int, whole: int) -> float | None:
    """part / whole, or None when there is nothing to divide (shown as "—", never as 0 %)."""
    return None if whole == 0 else part / whole
