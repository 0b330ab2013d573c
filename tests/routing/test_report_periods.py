"""Report periods and percentiles: fixed dates in, fixed ranges out (no clock is read)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from routing.reports import Period, PeriodError, parse_period, percentile, preset, rate

SH = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 10, 8)  # a Thursday, the last day of the 国庆 holiday


@pytest.mark.parametrize(("name", "start", "end"), [
    ("this_week", date(2026, 10, 5), TODAY),
    ("last_week", date(2026, 9, 28), date(2026, 10, 4)),
    ("this_month", date(2026, 10, 1), TODAY),
    ("last_month", date(2026, 9, 1), date(2026, 9, 30)),
    ("this_quarter", date(2026, 10, 1), TODAY),
    ("this_year", date(2026, 1, 1), TODAY),
    ("yesterday", date(2026, 10, 7), date(2026, 10, 7)),
])
def test_presets_are_ranges_of_local_days(name: str, start: date, end: date) -> None:
    assert (preset(name, TODAY).start, preset(name, TODAY).end) == (start, end)


def test_no_input_means_the_last_full_week_and_explicit_dates_win() -> None:
    assert parse_period(None, None, None, TODAY).preset == "last_week"
    p = parse_period("2026-09-01", "2026-09-15", "this_year", TODAY)
    assert (p.start, p.end, p.preset) == (date(2026, 9, 1), date(2026, 9, 15), "")


@pytest.mark.parametrize(("lo", "hi", "message"), [
    ("2026-09-10", "2026-09-01", "不能早于"), ("9/1", None, "YYYY-MM-DD"),
    ("0001-01-01", None, "超出"), ("2026-01-01", "2099-01-01", "不能超过")])
def test_bad_periods_are_refused_in_chinese(lo: str, hi: str | None, message: str) -> None:
    with pytest.raises(PeriodError, match=message):
        parse_period(lo, hi, None, TODAY)
    with pytest.raises(PeriodError, match="未知的时间段"):
        preset("fortnight", TODAY)


def test_bounds_are_local_midnights_in_utc() -> None:
    lo, hi = Period(date(2026, 10, 1), date(2026, 10, 7)).bounds(SH)
    assert lo == datetime(2026, 9, 30, 16, tzinfo=UTC)
    assert hi == datetime(2026, 10, 7, 16, tzinfo=UTC)
    assert Period(date(2026, 10, 1), date(2026, 10, 1)).contains(
        datetime(2026, 9, 30, 16, tzinfo=UTC), SH)


def test_the_previous_period_has_the_same_length_or_the_same_months() -> None:
    week = preset("last_week", TODAY).previous()
    assert (week.start, week.end) == (date(2026, 9, 21), date(2026, 9, 27))
    month = preset("last_month", TODAY).previous()
    assert (month.start, month.end) == (date(2026, 8, 1), date(2026, 8, 31))


@pytest.mark.parametrize("values", [[5.0], [1.0, 2.0], [3.0, 1.0, 10.0, 7.0], list(range(11))])
@pytest.mark.parametrize("q", [0, 50, 90, 100])
def test_percentile_matches_numpys_linear_default(values: list[float], q: float) -> None:
    assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)))


def test_no_values_give_no_percentile_and_no_rate() -> None:
    assert percentile([], 50) is None
    assert rate(0, 0) is None and rate(17, 20) == 0.85
