"""The SLA clock against the shipped sla.yaml and the chinesecalendar data for 2026.

国庆 2026 in the package: Oct 1–7 are holidays, Saturday Oct 10 is an adjusted workday (调休),
Sunday Oct 11 is a rest day; Sept 25–27 are the 中秋 holidays.
"""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from routing.sla import (
    ExtensionRefused,
    SlaConfig,
    SlaError,
    add_duration,
    deadlines,
    elapsed_hours,
    extend,
    is_working_day,
    remind_at,
)
from yuqing.routing_setup import sla_config_from_settings
from yuqing.settings import Settings

SH = ZoneInfo("Asia/Shanghai")


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


@pytest.fixture
def sla(settings: Settings) -> SlaConfig:
    return sla_config_from_settings(settings)


def test_the_package_knows_the_2026_national_day_holidays_and_adjusted_workday():
    assert not is_working_day(at(2026, 10, 1).date())
    assert not is_working_day(at(2026, 10, 7).date())
    assert is_working_day(at(2026, 10, 10).date())  # Saturday, 调休
    assert not is_working_day(at(2026, 10, 11).date())


def test_working_hours_skip_the_national_day_holidays(sla: SlaConfig):
    # 1.5 h left on Sept 30, then nothing until Thursday Oct 8 (Oct 1–7 are holidays)
    due = add_duration(at(2026, 9, 30, 16, 0), 7.5, "working", sla.working_hours)
    assert due == at(2026, 10, 8, 16, 0)


def test_working_hours_count_the_adjusted_saturday(sla: SlaConfig):
    # Friday Oct 9 16:00 + one working day lands on Saturday Oct 10, a 调休 workday
    due = add_duration(at(2026, 10, 9, 16, 0), 7.5, "working", sla.working_hours)
    assert due == at(2026, 10, 10, 16, 0)
    # from that Saturday, the next working day is Monday Oct 12 (Sunday Oct 11 rests)
    due = add_duration(at(2026, 10, 10, 17, 0), 1, "working", sla.working_hours)
    assert due == at(2026, 10, 12, 9, 0)


def test_a_case_created_on_a_holiday_night_starts_counting_next_working_morning(sla: SlaConfig):
    due = add_duration(at(2026, 10, 3, 22, 15), 2, "working", sla.working_hours)
    assert due == at(2026, 10, 8, 10, 30)


def test_a_limit_ending_at_noon_is_due_at_noon_not_after_lunch(sla: SlaConfig):
    assert add_duration(at(2026, 10, 8, 8, 30), 3.5, "working", sla.working_hours) == \
        at(2026, 10, 8, 12, 0)
    # started during lunch: the clock waits for 13:30
    assert add_duration(at(2026, 10, 8, 12, 40), 1, "working", sla.working_hours) == \
        at(2026, 10, 8, 14, 30)


def test_natural_hours_run_through_nights_and_holidays(sla: SlaConfig):
    assert add_duration(at(2026, 10, 1, 22, 0), 5, "natural") == at(2026, 10, 2, 3, 0)


def test_naive_and_utc_starts_are_read_in_the_configured_zone(sla: SlaConfig):
    naive = add_duration(datetime(2026, 9, 30, 16, 0), 7.5, "working", sla.working_hours)
    utc = add_duration(datetime(2026, 9, 30, 8, 0, tzinfo=ZoneInfo("UTC")), 7.5, "working",
                       sla.working_hours)
    assert naive == utc == at(2026, 10, 8, 16, 0)
    assert naive.utcoffset().total_seconds() == 8 * 3600


def test_severity_one_gets_5h_24h_48h_in_natural_hours_over_a_holiday(sla: SlaConfig):
    start = at(2026, 10, 1, 20, 0)
    due = deadlines(1, start, sla)
    assert due == {"sign": at(2026, 10, 1, 20, 30), "first_response": at(2026, 10, 2, 1, 0),
                   "press_conference": at(2026, 10, 2, 20, 0), "answer": at(2026, 10, 3, 20, 0)}


def test_severity_two_has_a_press_conference_and_three_has_none(sla: SlaConfig):
    start = at(2026, 11, 2, 9, 0)
    assert deadlines(2, start, sla)["press_conference"] == at(2026, 11, 3, 9, 0)
    three = deadlines(3, start, sla)
    assert three["press_conference"] is None and three["first_response"] is None
    assert three["sign"] == at(2026, 11, 2, 13, 0)
    assert three["answer"] == at(2026, 11, 4, 9, 0)


def test_severity_four_runs_in_working_days_across_the_holiday(sla: SlaConfig):
    due = deadlines(4, at(2026, 9, 30, 16, 0), sla)
    assert due["sign"] == at(2026, 10, 8, 16, 0)  # one working day
    # two working days: 1.5 h on Sept 30, 7.5 h on Oct 8, 6 h on Oct 9
    assert due["answer"] == at(2026, 10, 9, 16, 0)
    assert due["sign"] < due["answer"]


def test_a_separate_sign_calendar_applies_to_signing_only(sla: SlaConfig):
    cfg = SlaConfig.from_mapping({"levels": {3: {"calendar": "natural", "sign_calendar": "working",
                                                 "sign_minutes": 60, "answer_hours": 48}}})
    due = deadlines(3, at(2026, 9, 30, 17, 0), cfg)
    assert due["sign"] == at(2026, 10, 8, 9, 0)
    assert due["answer"] == at(2026, 10, 2, 17, 0)


def test_urgent_topics_tighten_limits_and_add_a_first_response(sla: SlaConfig):
    start = at(2026, 11, 2, 9, 0)
    plain, fast = deadlines(3, start, sla), deadlines(3, start, sla, urgent=True)
    assert fast["sign"] == at(2026, 11, 2, 10, 0) < plain["sign"]
    assert fast["first_response"] == at(2026, 11, 3, 9, 0) and plain["first_response"] is None
    assert fast["answer"] == plain["answer"]  # the 48 h answer limit still holds
    # a level already faster than the urgent limits keeps its own
    assert deadlines(1, start, sla, urgent=True) == deadlines(1, start, sla)


def test_no_alert_no_deadlines(sla: SlaConfig):
    assert deadlines(None, at(2026, 11, 2, 9, 0), sla) == dict.fromkeys(
        ["sign", "first_response", "press_conference", "answer"])


def test_an_extension_moves_the_deadline_in_the_steps_calendar(sla: SlaConfig):
    answer = at(2026, 9, 30, 10, 0)
    assert extend(answer, 24, sla, severity=3) == at(2026, 10, 1, 10, 0)
    # a working-time step (IV's sign) moves in working time, skipping the holidays
    sign = at(2026, 9, 30, 17, 0)
    assert extend(sign, 1, sla, severity=4, step="sign") == at(2026, 10, 8, 9, 0)


def test_extensions_beyond_the_configured_bounds_are_refused(sla: SlaConfig):
    due = at(2026, 11, 2, 9, 0)
    with pytest.raises(ExtensionRefused, match="72"):
        extend(due, 100, sla, severity=3)
    with pytest.raises(ExtensionRefused, match="最多延期 2 次"):
        extend(due, 24, sla, severity=3, extensions_so_far=2)
    with pytest.raises(ExtensionRefused, match="正数"):
        extend(due, 0, sla, severity=3)


def test_reminders_fall_in_working_time_for_working_limits(sla: SlaConfig):
    start, due = at(2026, 9, 30, 16, 0), at(2026, 10, 8, 16, 0)
    assert elapsed_hours(start, due, "working", sla.working_hours) == pytest.approx(7.5)
    # 25 % left of 7.5 working hours: 5.625 h after start: 1.5 h on Sept 30, 3.5 h on the
    # morning of Oct 8, then 0.625 h after lunch
    assert remind_at(start, due, sla, "working") == at(2026, 10, 8, 14, 7, 30)
    assert remind_at(at(2026, 11, 2, 0, 0), at(2026, 11, 3, 0, 0), sla) == at(2026, 11, 2, 18, 0)


def test_years_unknown_to_the_package_fall_back_to_weekdays(caplog: pytest.LogCaptureFixture):
    far = datetime(2099, 1, 2, 17, 0, tzinfo=SH)  # a Friday
    assert add_duration(far, 1, "working") == datetime(2099, 1, 5, 9, 0, tzinfo=SH)
    assert "2099" in caplog.text


def test_bad_limits_are_refused_with_a_reason():
    with pytest.raises(SlaError, match="负数"):
        add_duration(at(2026, 11, 2), -1)
    with pytest.raises(SlaError, match="工作时间为空"):
        add_duration(at(2026, 11, 2), 1, "working", ((time(9), time(9)),))


def test_plain_mapping_config_is_accepted_without_settings():
    cfg = SlaConfig.from_mapping({"working_hours": {"morning": ["09:00", "12:00"],
                                                    "afternoon": ["14:00", "18:00"]},
                                  "levels": {"4": {"calendar": "working", "answer_hours": 7}}})
    assert deadlines(4, at(2026, 10, 9, 15, 0), cfg)["answer"] == at(2026, 10, 10, 15, 0)


def test_settings_objects_are_accepted_as_they_are(settings: Settings):
    # the workflow holds settings.sla and settings.tz: no conversion needed at the call
    due = add_duration(at(2026, 9, 30, 16, 0), 7.5, "working", settings.sla.working_hours,
                       settings.tz)
    assert due == at(2026, 10, 8, 16, 0)
    cfg = SlaConfig.from_mapping(settings.sla.model_dump(), tz=settings.tz)
    assert cfg.tz == "Asia/Shanghai" and deadlines(4, at(2026, 9, 30, 16, 0), cfg)["sign"] == due
    assert add_duration(at(2026, 9, 30, 16, 0), 1, "working", None) == at(2026, 9, 30, 17, 0)
