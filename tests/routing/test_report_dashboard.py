"""Dashboard figures (routing.reports.dashboard) on fixed rows; no database, no clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from routing.reports import Period
from routing.reports.dashboard import (
    EventActivity,
    buckets,
    distribution,
    heat,
    hot_events,
    open_cases,
    street_of,
    volume,
    word_weights,
)

TZ = ZoneInfo("Asia/Shanghai")
WEEK = Period(date(2026, 11, 9), date(2026, 11, 15), "last_week")
NOW = datetime(2026, 11, 18, 4, 0, tzinfo=UTC)


def local(day: int, hour: int) -> datetime:
    return datetime(2026, 11, day, hour, 0, tzinfo=TZ)


def test_volume_counts_each_post_on_its_local_day_per_key_and_ignores_other_days() -> None:
    rows = [(local(9, 0), "news"), (local(9, 23), "social"), (local(15, 23), "news"),
            # 2026-11-09 00:30 local is 11-08 16:30 UTC: still the 9th on the page
            (datetime(2026, 11, 8, 16, 30, tzinfo=UTC), "news"),
            (local(16, 0), "news"), (local(8, 23), "social")]  # outside the week
    got = volume(rows, WEEK, TZ, order=["social", "news"])
    assert got["buckets"][0] == "2026-11-09" and got["buckets"][-1] == "2026-11-15"
    assert got["series"] == [{"key": "social", "data": [1, 0, 0, 0, 0, 0, 0]},
                             {"key": "news", "data": [2, 0, 0, 0, 0, 0, 1]}]


def test_a_long_period_is_counted_per_month() -> None:
    year = Period(date(2026, 1, 1), date(2026, 12, 31))
    assert buckets(year)[:2] == ["2026-01", "2026-02"] and len(buckets(year)) == 12
    got = volume([(local(3, 12), "")], year, TZ)
    assert got["series"][0]["data"][10] == 1 and sum(got["series"][0]["data"]) == 1


def test_heat_adds_one_hundredth_of_the_interactions_to_the_posts() -> None:
    assert heat(EventActivity(1, posts=3, interactions=250)) == 5.5
    assert heat(None) == 0.0


def test_hot_events_rank_by_heat_and_compare_with_the_previous_period() -> None:
    current = {1: EventActivity(1, 3, 200), 2: EventActivity(2, 1, 0), 3: EventActivity(3, 2, 0),
               4: EventActivity(4, 1, 0)}
    previous = {1: EventActivity(1, 1, 0), 2: EventActivity(2, 2, 0), 4: EventActivity(4, 1, 0)}
    got = hot_events(current, previous, limit=3)
    assert [(h["event_id"], h["heat"], h["previous_heat"], h["trend"]) for h in got] == [
        (1, 5.0, 1.0, "up"), (3, 2.0, 0.0, "new"), (2, 1.0, 2.0, "down")]
    assert hot_events({4: current[4]}, previous)[0]["trend"] == "flat"


def test_word_weights_count_posts_not_repetitions_and_skip_single_characters() -> None:
    got = word_weights([["停水", "停水", "小区"], ["停水", "水"], ["物业", "小区"]])
    assert got == [("停水", 2), ("小区", 2), ("物业", 1)]
    assert word_weights([["江宁区", "停水"], ["江宁", "停水"]], exclude={"江宁区", "江宁"}) == [
        ("停水", 2)]


def test_open_cases_by_state_count_overdue_by_flag_or_by_the_deadline_of_their_state() -> None:
    past, future = NOW - timedelta(hours=1), NOW + timedelta(hours=1)
    rows = [("dispatched", False, past, future),  # sign deadline passed
            ("dispatched", False, future, past),  # only the answer deadline passed: not yet
            ("acknowledged", False, None, past),
            ("acknowledged", True, None, future),  # flagged by the sweep
            ("responded", False, None, past),  # answered: no longer late
            ("closed", True, None, past), ("dismissed", False, None, None)]
    got = open_cases(rows, NOW)
    assert got["open"] == 5 and got["overdue"] == 3
    assert got["by_state"]["dispatched"] == {"open": 2, "overdue": 1}
    assert got["by_state"]["acknowledged"] == {"open": 2, "overdue": 2}
    assert got["by_state"]["responded"] == {"open": 1, "overdue": 0}


def test_distribution_and_street_roll_up() -> None:
    assert distribution(["a", "b", "a", None]) == [("a", 2), ("", 1), ("b", 1)]
    assert street_of("320115001002", "320115") == "320115001"
    assert street_of("320115", "320115") is None and street_of("320114001", "320115") is None
