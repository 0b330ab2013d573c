"""routing.sla's working time (a running total per day) against the plain day-by-day walk.

The reference below is the walk routing.sla used before the table: simple enough to check by
eye, too slow for reports. Random moments around 国庆 2025 and 春节 2026 (holidays and the 调休
Saturdays of chinesecalendar) under two sets of working hours and two zones must agree to the
microsecond, deadlines included.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

import pytest

from routing.sla import (
    SlaError,
    add_duration,
    elapsed_hours,
    is_working_day,
    working_hours_between,
    working_time,
)

SH = ZoneInfo("Asia/Shanghai")
HOURS = ((time(8, 30), time(12, 0)), (time(13, 30), time(17, 30)))
OTHER_HOURS = ((time(9, 0), time(12, 0)), (time(14, 0), time(18, 0)))
Hours = Sequence[tuple[time, time]]


def _local(moment: datetime, zone: tzinfo) -> datetime:
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment.astimezone(zone)


def _segments(day: date, hours: Hours, zone: tzinfo) -> list[tuple[datetime, datetime]]:
    if not is_working_day(day):
        return []
    return [(datetime.combine(day, a, zone), datetime.combine(day, b, zone)) for a, b in hours]


def reference_between(start: datetime, end: datetime, hours: Hours, zone: tzinfo) -> float:
    lo_all, hi_all = _local(start, zone), _local(end, zone)
    total, day = timedelta(), lo_all.date()
    while day <= hi_all.date():
        for seg_start, seg_end in _segments(day, hours, zone):
            lo, hi = max(seg_start, lo_all), min(seg_end, hi_all)
            if hi > lo:
                total += hi - lo
        day += timedelta(days=1)
    return total.total_seconds() / 3600


def reference_add(start: datetime, hours: float, working: Hours, zone: tzinfo) -> datetime:
    begin, left, day = _local(start, zone), timedelta(hours=hours), _local(start, zone).date()
    for _ in range(3660):
        for seg_start, seg_end in _segments(day, working, zone):
            lo = max(seg_start, begin)
            if lo >= seg_end:
                continue
            if left <= seg_end - lo:
                return lo + left
            left -= seg_end - lo
        day += timedelta(days=1)
    raise AssertionError("no deadline within ten years")


@pytest.mark.parametrize("hours", [HOURS, OTHER_HOURS], ids=["default-hours", "9-to-6"])
@pytest.mark.parametrize("zone", [SH, UTC], ids=["shanghai", "utc"])
def test_durations_and_deadlines_equal_the_day_by_day_walk(hours: Hours, zone: tzinfo) -> None:
    rng = random.Random(20251001)
    base = datetime(2025, 9, 1, tzinfo=SH)  # 国庆 2025 and 春节 2026 are inside the range
    for _ in range(200):
        start = base + timedelta(minutes=rng.randrange(0, 60 * 24 * 200),
                                 microseconds=rng.choice([0, 0, rng.randrange(10**6)]))
        if rng.random() < 0.2:
            start = start.astimezone(zone).replace(tzinfo=None)  # naive: local time in zone
        end = start + timedelta(minutes=rng.randrange(-60, 60 * 24 * 40))
        assert working_hours_between(start, end, hours, zone) == reference_between(
            start, end, hours, zone), (start, end)
        limit = rng.choice([0, 3.5, 7.5, 22.5, 37.5, 75.0, 1 / 3, rng.uniform(0.01, 200)])
        assert add_duration(start, limit, "working", hours, zone) == reference_add(
            start, limit, hours, zone), (start, limit)


def test_exact_edges_noon_lunch_and_zero_hours_fall_where_the_walk_puts_them() -> None:
    edges = [datetime(2025, 9, 30, h, m, tzinfo=SH) for h, m in
             ((0, 0), (8, 30), (12, 0), (12, 40), (13, 30), (17, 30), (23, 59))]
    edges += [datetime(2025, 10, 1, 10, 0, tzinfo=SH),  # a holiday
              datetime(2025, 9, 28, 17, 30, tzinfo=SH)]  # Sunday, a 调休 workday
    for start in edges:
        for limit in (0, 3.5, 4, 7.5, 0.5):
            assert add_duration(start, limit, "working", HOURS, SH) == reference_add(
                start, limit, HOURS, SH), (start, limit)
        for end in edges:
            assert working_hours_between(start, end, HOURS, SH) == reference_between(
                start, end, HOURS, SH)
    # Tue 09-30 16:00 + 3 working hours: 1.5 h that day, then nothing until Thu 10-09
    assert add_duration(datetime(2025, 9, 30, 16, 0, tzinfo=SH), 3, "working") == datetime(
        2025, 10, 9, 10, 0, tzinfo=SH)
    assert elapsed_hours(datetime(2025, 9, 30, 16, 0, tzinfo=SH),
                         datetime(2025, 10, 9, 10, 0, tzinfo=SH), "working") == 3.0


def test_one_instance_per_hours_and_zone_counts_across_years_in_either_order() -> None:
    clock = working_time(HOURS, "Asia/Shanghai")
    assert clock is working_time(HOURS, SH) and clock.day_hours == 7.5
    later = datetime(2026, 2, 10, 9, 0, tzinfo=SH)
    earlier = datetime(2024, 12, 31, 17, 0, tzinfo=SH)
    assert clock.between(later, later + timedelta(hours=1)) == 1.0
    assert clock.between(earlier, later) == reference_between(earlier, later, HOURS, SH)
    assert clock.add(earlier, 400) == reference_add(earlier, 400, HOURS, SH)
    assert clock.add(datetime(2025, 12, 31, 18, 0, tzinfo=SH), 0) == datetime(
        2026, 1, 4, 8, 30, tzinfo=SH)  # 元旦 holidays, then the 调休 Sunday


def test_a_limit_beyond_ten_years_of_working_time_is_refused() -> None:
    with pytest.raises(SlaError, match="超出可计算范围"):
        add_duration(datetime(2024, 1, 5, tzinfo=SH), 7.5 * 3660, "working")
