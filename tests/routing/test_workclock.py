"""WorkClock gives the SLA clock's working hours and deadlines, only faster."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from routing.sla import add_duration, working_hours_between
from routing.workclock import WorkClock

TZ = ZoneInfo("Asia/Shanghai")
HOURS = ((time(8, 30), time(12, 0)), (time(13, 30), time(17, 30)))


def test_durations_and_deadlines_match_routing_sla_across_the_national_day_holiday() -> None:
    rng = random.Random(20251001)
    clock = WorkClock(date(2025, 9, 1), HOURS, TZ)
    base = datetime(2025, 9, 1, tzinfo=TZ)
    for _ in range(300):
        start = base + timedelta(minutes=rng.randrange(0, 60 * 24 * 70))
        end = start + timedelta(minutes=rng.randrange(0, 60 * 24 * 20))
        assert abs(clock.between(start, end)
                   - working_hours_between(start, end, HOURS, TZ)) < 1e-9, (start, end)
        hours = rng.choice([7.5, 22.5, 37.5, 75.0, rng.uniform(0.1, 40)])
        assert clock.add(start, hours) == add_duration(start, hours, "working", HOURS, TZ), (
            start, hours)


def test_a_limit_ending_at_noon_falls_due_at_noon_and_holidays_do_not_count() -> None:
    clock = WorkClock(date(2025, 9, 29), HOURS, TZ)
    assert clock.add(datetime(2025, 9, 30, 8, 30, tzinfo=TZ), 3.5) == datetime(
        2025, 9, 30, 12, 0, tzinfo=TZ)
    # Tue 09-30 16:00 + 3 working hours: 1.5 h that day, then nothing until Thu 10-09
    assert clock.add(datetime(2025, 9, 30, 16, 0, tzinfo=TZ), 3) == datetime(
        2025, 10, 9, 10, 0, tzinfo=TZ)
    assert clock.between(datetime(2025, 9, 30, 16, 0, tzinfo=TZ),
                         datetime(2025, 10, 9, 10, 0, tzinfo=TZ)) == 3.0
