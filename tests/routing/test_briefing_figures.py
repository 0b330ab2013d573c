"""Briefing figures (日报/周报/专报) on a fixed two-week history counted by hand."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest
from briefing_history import NOW, History, seed

from routing.policy import Policy
from routing.reports import Period
from routing.reports.briefing import SUMMARY_MAX, BriefingNotFound, period_briefing
from routing.reports.response import build_response_report
from routing.reports.special import event_briefing
from store import Database

TZ = ZoneInfo("Asia/Shanghai")
TOPICS = {"environment": "生态环境", "education": "教育", "traffic": "交通"}
WEEK = Period(date(2026, 11, 16), date(2026, 11, 22))


@pytest.fixture
def history(db: Database, policy: Policy) -> History:
    return seed(db, policy)


def weekly(db: Database, response: dict | None = None) -> dict:
    with db.session() as s:
        return period_briefing(s, WEEK, kind="weekly", tz=TZ, now=NOW, topics=TOPICS,
                               home_code="320115", response=response)


def test_weekly_volume_and_change_against_the_previous_week(db: Database,
                                                            history: History) -> None:
    fig = weekly(db)
    vol = fig["volume"]
    assert (vol["posts"], vol["previous_posts"]) == (12, 4)
    assert vol["change"] == pytest.approx(2.0)
    assert fig["previous"]["from"] == "2026-11-09"
    assert [c[0] for c in vol["curve"]] == [f"11-{d}" for d in range(16, 23)]
    assert [c[1] for c in vol["curve"]] == [0, 2, 2, 2, 2, 2, 2]
    assert {r["kind"]: r["posts"] for r in vol["by_source_kind"]} == {
        "news": 3, "social": 8, "board": 1}


def test_weekly_topics_sentiment_and_places(db: Database, history: History) -> None:
    fig = weekly(db)
    assert [(t["name"], t["posts"], t["previous"]) for t in fig["topics"]] == [
        ("生态环境", 6, 0), ("教育", 4, 1), ("交通", 2, 3)]
    assert fig["topics"][1]["change"] == pytest.approx(3.0)
    assert [c["posts"] for c in fig["sentiment"]["counts"]] == [8, 3, 1]
    assert fig["sentiment"]["negative_share"] == pytest.approx(8 / 12)
    assert [(p["name"], p["posts"]) for p in fig["places"]] == [("东山街道", 6), ("秣陵街道", 3)]


def test_top_events_carry_severity_place_lead_unit_and_state(db: Database,
                                                              history: History) -> None:
    events = weekly(db)["events"]
    assert [e["id"] for e in events] == [history.e1, history.e2]  # II before III
    e1, e2 = events
    assert (e1["severity_label"], e1["places"], e1["lead_units"], e1["state"], e1["posts"]) == (
        "II级（重大）", ["东山街道"], ["东山街道"], "已办结", 6)
    assert (e2["lead_units"], e2["co_units"], e2["state"], e2["overdue"], e2["posts"]) == (
        ["秣陵街道"], ["区教育局"], "待签收", True, 3)


def test_summary_fits_200_characters_and_ends_with_the_risk_judgement(
        db: Database, history: History) -> None:
    fig = weekly(db)
    assert len(fig["summary"]) <= SUMMARY_MAX
    assert fig["summary"].startswith("本周共监测到相关信息12条，环比上升200.0%（上期4条）")
    # the II 重大 event was closed, the III one is overdue: 中等, and it says why
    assert fig["risk"]["label"] == "中等"
    assert fig["summary"].endswith(fig["risk"]["text"])
    assert "出现1起重大及以上舆情（已办结）" in fig["risk"]["text"]


def test_an_open_major_event_makes_the_risk_high(db: Database, history: History,
                                                 policy: Policy) -> None:
    from routing.workflow import Action, Actor, perform
    from store import Role

    monitor = Actor(user_id=None, role=Role.MONITOR, unit_id=None, name="值班员")
    perform(db, history.case1, Action.REOPEN, monitor, note="居民反映仍有外溢", now=NOW,
            policy=policy)
    fig = weekly(db)
    assert fig["risk"]["label"] == "较高"
    assert "重大及以上舆情尚未办结（东山街道某小区污水外溢多日无人处" in fig["risk"]["text"]
    assert any("仍在处置中" in line for line in fig["outlook"])


def test_response_performance_comes_from_the_response_report(db: Database, history: History,
                                                              policy: Policy) -> None:
    with db.session() as s:
        report = build_response_report(s, WEEK, sla=policy.sla, now=NOW)
    fig = weekly(db, report)
    resp = fig["response"]
    assert resp["total"] == report["total"]
    assert resp["threshold"] == pytest.approx(0.85)
    # 东山街道 signed late (0 % on time): flagged; the report lists flagged units first
    flagged = {(u["unit"], u["role"]) for u in resp["flagged"]}
    assert ("jn-dongshan", "lead") in flagged
    assert resp["total"]["sign_on_time_rate"] == pytest.approx(0.0)
    assert f"按时回应率{resp['total']['answer_on_time_rate'] * 100:.1f}%" in fig["summary"] \
        or len(fig["summary"]) > SUMMARY_MAX - 40  # dropped only when the summary was full


def test_outlook_and_overdue_cases_from_live_cases(db: Database, history: History) -> None:
    fig = weekly(db)
    assert [c["id"] for c in fig["overdue_cases"]] == [history.case2]
    assert any("超时未办结" in line for line in fig["outlook"])
    assert any("生态环境" in line for line in fig["outlook"])  # 0 -> 6 posts


def test_notable_replies_hold_case_responses_and_board_replies(db: Database,
                                                               history: History) -> None:
    replies = weekly(db)["replies"]
    assert [(r["kind"], r["unit"]) for r in replies] == [("案件回应", "东山街道"),
                                                         ("留言答复", "江宁区教育局")]
    assert replies[0]["channel"] == "政务微博"
    assert replies[1]["hours"] == pytest.approx(30.0)


def test_daily_curve_is_hourly_and_previous_is_the_day_before(db: Database,
                                                              history: History) -> None:
    day = Period(date(2026, 11, 22), date(2026, 11, 22))
    with db.session() as s:
        fig = period_briefing(s, day, kind="daily", tz=TZ, now=NOW, topics=TOPICS)
    assert fig["volume"]["posts"] == 2 and fig["volume"]["previous_posts"] == 2
    assert len(fig["volume"]["curve"]) == 24
    assert fig["volume"]["curve"][20] == ["20时", 1]
    assert fig["previous"]["from"] == "2026-11-21"


def test_special_report_spread_timeline_and_deadlines(db: Database, history: History) -> None:
    with db.session() as s:
        fig = event_briefing(s, history.e1, tz=TZ, now=NOW, topics=TOPICS)
    assert fig["first_post"]["source"] == "江宁新闻网"
    assert fig["first_post"]["at"] == "2026-11-17 09:00"
    assert fig["spread"]["unit"] == "day" and len(fig["spread"]["curve"]) == 6
    assert [(r["name"], r["posts"]) for r in fig["spread"]["sources"]] == [("微博", 5),
                                                                        ("江宁新闻网", 1)]
    assert fig["timeline"][0]["text"].startswith("江宁新闻网首发")
    assert [h["action"] for h in fig["history"]] == ["生成案件", "派发", "签收", "回应", "办结"]
    status = {d["label"]: d["status"] for d in fig["deadlines"]}
    assert status["签收"] == "超时完成"
    assert status["首次权威发布"] == "按时"
    assert status["回应"] == "按时"
    assert status["新闻发布会"] == "已超时"  # no 发布会 was held within 24 h


def test_special_report_of_an_unknown_event_is_refused(db: Database) -> None:
    with db.session() as s, pytest.raises(BriefingNotFound):
        event_briefing(s, 999, tz=TZ, now=NOW, topics=TOPICS)
