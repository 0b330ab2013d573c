"""/my per unit: cases grouped by what the unit must do next, worked through the real workflow
at fixed times, read with a fixed app clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from routing.workflow import Action, Actor, perform
from store import Case, Database, Event, Post, Role, Source, Unit
from tests.webui.conftest import Browser
from yuqing.context import AppContext

NOW = datetime(2026, 3, 4, 2, 0, tzinfo=UTC)  # a Wednesday, 10:00 in Nanjing
H = timedelta(hours=1)
MONITOR = Actor(user_id=None, role=Role.MONITOR, unit_id=None, name="测试监测员")


def unit_actor(db: Database, code: str) -> Actor:
    with db.session() as s:
        unit = s.scalar(select(Unit).where(Unit.code == code))
        assert unit is not None
        return Actor(user_id=None, role=Role.UNIT, unit_id=unit.id, name=unit.name)


@pytest.fixture
def history(ctx: AppContext, db: Database) -> Callable[..., int]:
    """Open a level-III case at ``opened`` and run (action, actor code, at, data) steps on it."""
    ctx.clock = lambda: NOW

    def build(title: str, opened: datetime, *steps: tuple[Any, ...], severity: int = 3) -> int:
        with db.session() as s:
            event = Event(title=title, topic="environment", severity=severity,
                          first_seen_at=opened, last_seen_at=opened, post_count=1)
            s.add(event)
            s.flush()
            c = Case(event_id=event.id, title=title, state="new", severity=severity,
                     topic="environment", place_code="320115001", created_at=opened,
                     updated_at=opened)
            s.add(c)
            source = s.scalar(select(Source).where(Source.key == "test:board"))
            if source is None:
                source = Source(key="test:board", name="江宁区网络问政", kind="board",
                                source_kind="board")
                s.add(source)
                s.flush()
            s.add(Post(source_id=source.id, external_id=f"m-{event.id}",
                       url=f"https://board.example/{event.id}", content_hash=f"m-{event.id}",
                       title=title, text=f"网友反映：{title}，希望相关部门尽快处理。",
                       author="热心市民", published_at=opened, event_id=event.id,
                       topic="environment", severity=severity))
            s.flush()
            case_id = c.id
        for action, who, at, *data in steps:
            actor = MONITOR if who == "monitor" else unit_actor(db, who)
            perform(db, case_id, Action(action), actor, now=at,
                    note="测试理由" if action in ("reopen", "return") else "",
                    data=data[0] if data else None)
        return case_id

    return build


def dispatch(at: datetime, lead: str = "jn-dongshan", co: tuple[str, ...] = ()) -> tuple[Any, ...]:
    return ("dispatch", "monitor", at, {"lead": lead, "co": list(co)})


def respond(who: str, at: datetime) -> tuple[Any, ...]:
    return ("respond", who, at, {"text": "已处置，现场已清理。", "channel": "政务微博"})


def groups_of(b: Browser) -> dict[str, list[int]]:
    body = b.get("/api/v1/my-cases").get_json()
    return {g["key"]: [c["id"] for c in g["cases"]] for g in body["groups"]}


@pytest.fixture
def worked(history: Callable[..., int]) -> dict[str, int]:
    st, edu = "jn-dongshan", "jn-edu"
    return {
        "to_sign": history("待签收的事项", NOW - H, dispatch(NOW - H)),
        "sign_late": history("签收已超时的事项", NOW - 6 * H, dispatch(NOW - 6 * H)),
        "soon": history("答复快到期的事项", NOW - 45 * H, dispatch(NOW - 45 * H),
                        ("sign", st, NOW - 44 * H)),
        "to_respond": history("待回应的事项", NOW - 3 * H, dispatch(NOW - 3 * H),
                              ("sign", st, NOW - H)),
        "reopened": history("被发回重办的事项", NOW - 30 * H, dispatch(NOW - 30 * H),
                            ("sign", st, NOW - 29 * H), respond(st, NOW - 20 * H),
                            ("reopen", "monitor", NOW - 2 * H)),
        "answered": history("已回应待办结的事项", NOW - 10 * H, dispatch(NOW - 10 * H),
                            ("sign", st, NOW - 9 * H), respond(st, NOW - 5 * H)),
        "closed": history("已办结的事项", NOW - 72 * H, dispatch(NOW - 72 * H),
                          ("sign", st, NOW - 71 * H), respond(st, NOW - 60 * H),
                          ("close", "monitor", NOW - 24 * H)),
        "old_closed": history("四十天前办结的事项", NOW - 41 * 24 * H,
                              dispatch(NOW - 41 * 24 * H), ("sign", st, NOW - 41 * 24 * H),
                              respond(st, NOW - 41 * 24 * H),
                              ("close", "monitor", NOW - 40 * 24 * H)),
        # street is a co-unit that already reported; the lead (education) is late
        "co_done": history("协办已报送的事项", NOW - 50 * H,
                           dispatch(NOW - 50 * H, lead=edu, co=(st,)),
                           ("sign", edu, NOW - 49 * H), ("sign", st, NOW - 49 * H),
                           respond(st, NOW - 40 * H)),
        "others": history("别的单位的事项", NOW - H, dispatch(NOW - H, lead=edu)),
    }


def test_my_groups_each_case_by_what_the_unit_must_do_next(
        login: Callable[[str], Browser], worked: dict[str, int]) -> None:
    street = login("street")
    got = groups_of(street)
    w = worked
    assert list(got) == ["overdue", "due_soon", "to_sign", "to_respond", "answered", "closed"]
    assert got == {"overdue": [w["sign_late"]], "due_soon": [w["soon"]],
                   "to_sign": [w["to_sign"]],
                   "to_respond": [w["to_respond"], w["reopened"]],  # nearest deadline first
                   "answered": got["answered"], "closed": [w["closed"]]}
    assert set(got["answered"]) == {w["answered"], w["co_done"]}
    page = street.get("/my").get_data(as_text=True)
    reopened = page.index("被发回重办的事项")
    assert page.index('id="group-to_respond"') < reopened < page.index('id="group-answered"')
    assert "别的单位的事项" not in page and "四十天前办结的事项" not in page
    assert 'data-now="2026-03-04T02:00:00+00:00"' in page  # countdowns run on the app clock


def test_each_unit_sees_its_own_step_on_a_shared_case(
        login: Callable[[str], Browser], worked: dict[str, int]) -> None:
    dept = groups_of(login("dept"))
    assert dept["overdue"] == [worked["co_done"]]  # the lead has not answered in 48 h
    assert dept["to_sign"] == [worked["others"]]
    assert worked["co_done"] in groups_of(login("street"))["answered"]
    cards = {c["id"]: c["mine"] for g in login("dept").get("/api/v1/my-cases").get_json()["groups"]
             for c in g["cases"]}
    mine = cards[worked["co_done"]]
    assert (mine["role"], mine["step"], mine["due_kind"]) == ("lead", "respond", "answer")


def test_a_reopened_case_shows_its_new_answer_limit_and_the_stopped_sign_limit(
        login: Callable[[str], Browser], worked: dict[str, int]) -> None:
    street = login("street")
    detail = street.get(f"/api/v1/cases/{worked['reopened']}").get_json()
    mine = detail["mine"]
    assert (mine["group"], mine["step"], mine["reopened"]) == ("to_respond", "respond", True)
    assert mine["due_at"] == (NOW - 2 * H + 48 * H).isoformat()
    rows = {d["kind"]: d for d in detail["deadlines"]}
    assert rows["sign"]["running"] is False and rows["sign"]["note"] == "已签收，停止计时"
    assert rows["answer"]["running"] is True and rows["answer"]["next"] is True
    page = street.get(f"/cases/{worked['reopened']}").get_data(as_text=True)
    assert "已签收，停止计时" in page and 'id="action-bar"' in page and "重办" in page


def test_signing_from_my_cases_moves_the_card_and_stops_its_sign_countdown(
        login: Callable[[str], Browser], worked: dict[str, int]) -> None:
    street = login("street")
    case_id = worked["to_sign"]
    version = street.get(f"/api/v1/cases/{case_id}").get_json()["version"]
    r = street.post(f"/cases/{case_id}/actions/sign",
                    {"expected_version": version, "back": "my"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/my")
    got = groups_of(street)
    assert case_id in got["to_respond"] and case_id not in got["to_sign"]
    card = next(c for g in street.get("/api/v1/my-cases").get_json()["groups"]
                for c in g["cases"] if c["id"] == case_id)
    assert card["mine"]["due_kind"] == "answer" and card["mine"]["signed_at"]
    page = street.get(f"/cases/{case_id}").get_data(as_text=True)
    sign_row = page[page.index('data-kind="sign"'):page.index('data-kind="answer"')]
    assert "countdown" not in sign_row and "已签收，停止计时" in sign_row


def test_a_monitor_sees_the_sign_limit_stop_once_the_lead_signed(
        login: Callable[[str], Browser], worked: dict[str, int]) -> None:
    monitor = login("monitor")
    waiting = {d["kind"]: d for d in
               monitor.get(f"/api/v1/cases/{worked['to_sign']}").get_json()["deadlines"]}
    signed = {d["kind"]: d for d in
              monitor.get(f"/api/v1/cases/{worked['to_respond']}").get_json()["deadlines"]}
    assert waiting["sign"]["running"] is True
    assert signed["sign"]["running"] is False and signed["answer"]["running"] is True
    assert monitor.get("/api/v1/cases/1").get_json()["mine"] is None
