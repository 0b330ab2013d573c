from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from crawlers.dates import SHANGHAI
from yuqing.crawl_schedule import add_source_jobs, parse_schedule

NOW = datetime(2026, 11, 22, 10, 7, tzinfo=SHANGHAI)  # a Sunday


@pytest.mark.parametrize(("text", "seconds"), [("15m", 900), ("1h", 3600), ("30s", 30),
                                                ("1d", 86400), ("2小时", 7200)])
def test_intervals(text, seconds):
    trigger = parse_schedule(text, SHANGHAI)
    assert trigger.interval == timedelta(seconds=seconds)


def test_cron_lines_use_crontab_weekdays():
    trigger = parse_schedule("30 8 * * 1-5", SHANGHAI)  # crontab: Monday to Friday
    fire = trigger.get_next_fire_time(None, NOW)
    assert fire == datetime(2026, 11, 23, 8, 30, tzinfo=SHANGHAI)  # Monday, not Sunday
    every = parse_schedule("*/10 * * * *", SHANGHAI)
    assert every.get_next_fire_time(None, NOW) == datetime(2026, 11, 22, 10, 10, tzinfo=SHANGHAI)
    sunday = parse_schedule("0 9 * * 0", SHANGHAI)
    assert sunday.get_next_fire_time(None, NOW).weekday() == 6


@pytest.mark.parametrize("text", ["", "often", "5s", "1 2 3", "61 * * * *", "15x"])
def test_bad_schedules_are_refused(text):
    with pytest.raises(ValueError):
        parse_schedule(text, SHANGHAI)


def _src(key, schedule="15m", enabled=True):
    return SimpleNamespace(key=key, name=key, schedule=schedule, enabled=enabled)


def test_one_job_per_enabled_source_that_never_overlaps_itself():
    scheduler = BackgroundScheduler(timezone=SHANGHAI)
    ids = add_source_jobs(scheduler, [_src("a"), _src("b", "0 * * * *"), _src("c", enabled=False)],
                          SHANGHAI, job=print, job_args=lambda s: [s.key])
    assert ids == ["crawl:a", "crawl:b"]
    jobs = {j.id: j for j in scheduler.get_jobs()}
    assert set(jobs) == {"crawl:a", "crawl:b"}
    assert all(j.max_instances == 1 and j.coalesce for j in jobs.values())
    assert jobs["crawl:a"].args == ("a",)


def test_a_bad_schedule_names_its_source():
    with pytest.raises(ValueError, match="信息源 b"):
        add_source_jobs(BackgroundScheduler(), [_src("a"), _src("b", "sometimes")], SHANGHAI,
                        job=print, job_args=lambda s: [])
