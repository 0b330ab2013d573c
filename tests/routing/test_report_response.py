"""The response-time report over a fixed history (report_history.py), checked against figures
computed by hand. Hours are from the local times in report_history's docstring."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from routing.policy import Policy
from routing.reports import Period
from routing.reports.history import load_histories
from routing.reports.response import build_response_report, drill_down
from store import Database
from tests.routing.report_history import NOW, PERIOD, build_history


@pytest.fixture
def history(db: Database, policy: Policy) -> dict[str, int]:
    return build_history(db, policy)


def report(db: Database, policy: Policy, period: Period = PERIOD, **kw: object) -> dict:
    with db.session() as s:
        return build_response_report(s, period, sla=policy.sla, now=NOW, **kw)  # type: ignore[arg-type]


def row(rep: dict, unit: str, role: str) -> dict:
    return next(r for r in rep["units"] if r["unit"] == unit and r["role"] == role)


def test_lead_unit_figures_match_hand_computation(db, policy, history):
    ds = row(report(db, policy), "jn-dongshan", "lead")
    # assigned: A 09-30, B 09-28 (after 秣陵's return), C 09-29 (reassigned to it), D, E
    assert ds["assigned"] == 5
    # sign hours: A 185 (09-30 16:30 → 10-08 09:30), B 1, C 0.5, D 1, E 0.5; all on time
    assert (ds["signed"], ds["signed_on_time"], ds["sign_missed"]) == (5, 5, 0)
    assert ds["sign_on_time_rate"] == 1.0
    # sorted [0.5, 0.5, 1, 1, 185]: median = 1; p90 at (5−1)·0.9 = 3.6 → 1 + 0.6·184 = 111.4
    assert ds["sign_hours_median"] == pytest.approx(1.0)
    assert ds["sign_hours_p90"] == pytest.approx(111.4)
    # working time only for level IV (A): 09-30 16:30–17:30 = 1 h, holiday, 10-08 08:30–09:30 = 1 h
    assert ds["sign_work_hours_median"] == pytest.approx(2.0)
    # answers (from the duty's start): A 239.5 (09-30 16:30 → 10-10 16:00, on time only
    # thanks to the extension), B 21.5, C 19 and after the reopen 50 (late), E 3h55 = 3.9167;
    # D missed its 10-11 09:00 limit → 4 on time of 5 + 1 = 6
    assert (ds["answered"], ds["answered_on_time"], ds["answer_missed"]) == (5, 4, 1)
    assert ds["answer_on_time_rate"] == pytest.approx(4 / 6)
    # sorted [3.9167, 19, 21.5, 50, 239.5]: median 21.5; p90 = 50 + 0.6·189.5 = 163.7
    assert ds["response_hours_median"] == pytest.approx(21.5)
    assert ds["response_hours_p90"] == pytest.approx(163.7)
    # A in working hours: 1 (09-30) + 7.5 (10-08) + 7.5 (10-09) + 6 (Sat 10-10 is a working day)
    assert ds["response_work_hours_median"] == pytest.approx(22.0)
    # closes (from opening or reopen): A 241, B 24, C 68 (late), E 25; D missed → 3 / 5
    assert (ds["closed"], ds["closed_on_time"], ds["close_missed"]) == (4, 3, 1)
    assert ds["close_on_time_rate"] == pytest.approx(0.6)
    # sorted [24, 25, 68, 241]: median (25 + 68) / 2 = 46.5; p90 at 2.7 → 68 + 0.7·173 = 189.1
    assert ds["close_hours_median"] == pytest.approx(46.5)
    assert ds["close_hours_p90"] == pytest.approx(189.1)
    # A closed 10-10 17:00: 1.5 + 7.5 + 7.5 + 7 working hours
    assert ds["close_work_hours_p90"] == pytest.approx(23.5)
    assert (ds["extended"], ds["extension_hours"]) == (1, 24.0)
    assert (ds["reopened"], ds["reopen_rate"]) == (1, pytest.approx(1 / 5))  # 1 of 5 answers
    assert (ds["supervised"], ds["overdue_now"]) == (1, 1)  # D
    assert (ds["press_due"], ds["press_met"]) == (1, 1)  # E's 新闻发布会 before 10-06 08:00
    assert (ds["returned"], ds["return_rate"], ds["reassigned"]) == (0, 0.0, 0)


def test_returning_and_reassigned_unit(db, policy, history):
    ml = row(report(db, policy), "jn-moling", "lead")
    # B returned 50 min after dispatch (before its 14:10 limit: not a missed signature);
    # C taken away at 15:00 after its 13:05 sign limit passed unsigned
    assert (ml["assigned"], ml["signed"], ml["sign_missed"]) == (2, 0, 1)
    assert ml["sign_on_time_rate"] == 0.0
    assert (ml["returned"], ml["return_rate"], ml["reassigned"]) == (1, 0.5, 1)
    assert ml["answer_on_time_rate"] is None  # nothing answered, nothing due: no rate, not 0 %


def test_co_unit_is_reported_separately(db, policy, history):
    rep = report(db, policy)
    edu = row(rep, "jn-edu", "co")
    # A signed 10-08 17:00 after the 16:30 limit: 192.5 natural h, 1 + 7 working h;
    # D never signed (limit 10-09 13:10) and is overdue now
    assert (edu["assigned"], edu["signed"], edu["signed_on_time"], edu["sign_missed"]) \
        == (2, 1, 0, 1)
    assert edu["sign_hours_median"] == pytest.approx(192.5)
    assert edu["sign_work_hours_median"] == pytest.approx(8.0)
    assert edu["overdue_now"] == 1
    assert not [r for r in rep["units"] if r["unit"] == "jn-edu" and r["role"] == "lead"]


def test_total_topics_and_places_use_the_lead_figures(db, policy, history):
    rep = report(db, policy)
    total = rep["total"]
    # lead rows summed: 东山 5 + 秣陵 2 assignments; 5 on time of 5 signed + 1 missed
    assert (total["assigned"], total["sign_on_time_rate"]) == (7, pytest.approx(5 / 6))
    assert total["return_rate"] == pytest.approx(1 / 7)
    assert total["overdue_now"] == 1  # D, counted once although both its units are late
    topics = {t["topic"]: t for t in rep["topics"]}
    assert set(topics) == {"education", "health"}
    # education closes: A 241, B 24, C 68 → median 68
    assert topics["education"]["close_hours_median"] == pytest.approx(68.0)
    assert topics["health"]["press_met"] == 1
    assert [p["place"] for p in rep["places"]] == ["320115001"]
    assert rep["places"][0]["name"] == "东山街道"


def test_units_below_threshold_are_flagged_and_listed_first(db, policy, history):
    rep = report(db, policy)
    assert rep["flagged"] == ["jn-dongshan", "jn-edu", "jn-moling"]  # 0.6 < 85 % for 东山
    lenient = report(db, policy, threshold=0.5)
    # 东山's lowest rate is 0.6: above 50 %, listed after the flagged ones
    assert lenient["flagged"] == ["jn-edu", "jn-moling"]
    assert [r["unit"] for r in lenient["units"]][-1] == "jn-dongshan"
    assert [r["flagged"] for r in lenient["units"]] == [True, True, False]


def test_a_case_counts_in_the_period_of_the_event_it_measures(db, policy, history):
    # 10-05..10-11: A was assigned on 09-30 (outside) but signed on 10-08 (inside)
    rep = report(db, policy, Period(date(2026, 10, 5), date(2026, 10, 11)))
    ds = row(rep, "jn-dongshan", "lead")
    assert ds["assigned"] == 2  # D 10-09, E 10-05
    assert ds["signed"] == 3  # A 10-08, D 10-09, E 10-05
    assert ds["closed"] == 2  # A 10-10, E 10-06 (C closed 10-03 is outside)


def test_unit_scope_limits_every_table(db, policy, history):
    rep = report(db, policy, unit_codes=["jn-moling"])
    assert {r["unit"] for r in rep["units"]} == {"jn-moling"}
    assert rep["total"]["assigned"] == 2
    assert sum(p["assigned"] for p in rep["places"]) == 2


def test_drill_down_lists_the_cases_behind_a_number(db, policy, history):
    tz = ZoneInfo(policy.sla.tz)
    with db.session() as s:
        hist = load_histories(s, PERIOD, tz)
    late = drill_down(hist, PERIOD, "answer_on_time_rate", sla=policy.sla, now=NOW,
                      unit="jn-dongshan", role="lead")
    # the rate's denominator: A, B, C (twice: before and after the reopen), E answered; D missed
    assert sorted(f.case_id for f in late) == sorted(
        [history[k] for k in ("A", "B", "C", "C", "D", "E")])
    missed = drill_down(hist, PERIOD, "sign_missed", sla=policy.sla, now=NOW)
    assert [f.case_id for f in missed] == [history["C"]]  # total = lead facts only
