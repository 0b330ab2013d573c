"""Action buttons and endpoints call routing.workflow.perform; its errors map to HTTP once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from store import Assignment, Case, CaseAction, Database, Unit
from tests.webui.conftest import Browser
from yuqing.context import AppContext


def _state(db: Database, case_id: int) -> str:
    with db.session() as s:
        c = s.get(Case, case_id)
        assert c is not None
        return c.state


def test_monitor_dispatches_unit_signs_and_answers_monitor_closes(
        login: Callable[[str], Browser], make_case: Callable[..., int], db: Database) -> None:
    case_id = make_case()
    monitor, street = login("monitor"), login("street")
    page = monitor.get(f"/cases/{case_id}").get_data(as_text=True)
    assert 'class="action" data-action="dispatch"' in page and "派发" in page
    r = monitor.post(f"/cases/{case_id}/actions/dispatch",
                     {"lead": "jn-dongshan", "co": ["jn-eco"], "expected_version": "1"})
    assert r.status_code == 302, r.get_data(as_text=True)
    assert _state(db, case_id) == "dispatched"
    assert 'class="countdown"' in monitor.get(f"/cases/{case_id}").get_data(as_text=True)
    with db.session() as s:
        lead = s.scalars(select(Unit.code).join(Assignment, Assignment.unit_id == Unit.id)
                         .where(Assignment.case_id == case_id, Assignment.role == "lead")).all()
    assert lead == ["jn-dongshan"]
    assert 'class="action" data-action="sign"' in street.get(f"/cases/{case_id}").get_data(as_text=True)
    assert street.post_json(f"/api/v1/cases/{case_id}/actions/sign", {}).status_code == 200
    r = street.post_json(f"/api/v1/cases/{case_id}/actions/respond",
                         {"text": "已完成清理。", "channel": "政务微博",
                          "link": "https://weibo.example/r/1"})
    assert r.status_code == 200, r.get_json()
    assert _state(db, case_id) == "responded"
    assert monitor.post_json(f"/api/v1/cases/{case_id}/actions/close", {}).status_code == 200
    assert _state(db, case_id) == "closed"
    # a closed case keeps its deadlines on record but counts nothing down
    assert 'class="countdown"' not in monitor.get(f"/cases/{case_id}").get_data(as_text=True)
    history = monitor.get(f"/api/v1/cases/{case_id}").get_json()["history"]
    steps = [h["action"] for h in history]
    assert [a for a in steps if a in ("dispatch", "sign", "respond", "close")] == [
        "dispatch", "sign", "respond", "close"]
    assert all(h["at"] for h in history)


def test_workflow_errors_map_to_http_statuses(login: Callable[[str], Browser],
                                              make_case: Callable[..., int]) -> None:
    case_id = make_case()
    monitor, street = login("monitor"), login("street")
    stale = monitor.post_json(f"/api/v1/cases/{case_id}/actions/dispatch",
                              {"lead": "jn-dongshan", "expected_version": 99})
    assert stale.status_code == 409 and stale.get_json()["error"]
    no_reason = monitor.post_json(f"/api/v1/cases/{case_id}/actions/dismiss", {})
    assert no_reason.status_code == 400 and no_reason.get_json()["error"]
    unknown_unit = monitor.post_json(f"/api/v1/cases/{case_id}/actions/dispatch",
                                     {"lead": "no-such-unit"})
    assert unknown_unit.status_code == 400
    too_early = monitor.post_json(f"/api/v1/cases/{case_id}/actions/close", {})
    assert too_early.status_code in (403, 409)  # not legal while the case is new
    assert monitor.post_json(f"/api/v1/cases/{case_id}/actions/fly", {}).status_code == 404
    monitor.post_json(f"/api/v1/cases/{case_id}/actions/dispatch", {"lead": "jn-dongshan"})
    not_theirs = street.post_json(f"/api/v1/cases/{case_id}/actions/close", {})
    assert not_theirs.status_code == 403
    page = street.post(f"/cases/{case_id}/actions/close")
    assert page.status_code == 403 and "error-message" in page.get_data(as_text=True)


def test_bulk_dismiss_and_dispatch_report_each_case(
        login: Callable[[str], Browser], make_case: Callable[..., int], db: Database) -> None:
    a, b, c = make_case("重复一"), make_case("重复二"), make_case("需要派发")
    monitor = login("monitor")
    r = monitor.post("/queue/bulk", {"action": "dismiss", "ids": [str(a), str(b)],
                                     "note": "与已办结事项重复"})
    assert r.status_code == 302
    assert _state(db, a) == _state(db, b) == "dismissed"
    result = monitor.post_json("/api/v1/cases/bulk", {"action": "dispatch", "ids": [c, a],
                                                      "lead": "jn-dongshan"}).get_json()
    assert result["done"] == [c] and [f["id"] for f in result["failed"]] == [a]
    with db.session() as s:
        notes = s.scalars(select(CaseAction.note).where(CaseAction.case_id == a,
                                                        CaseAction.action == "dismiss")).all()
    assert notes == ["与已办结事项重复"]



def test_bulk_actions_and_corrections_are_dated_by_the_app_clock(
        login: Callable[[str], Browser], make_case: Callable[..., int], db: Database,
        ctx: AppContext) -> None:
    fixed = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # a Monday, 10:00 in Nanjing
    a, b, c = make_case("批量一"), make_case("批量二"), make_case("需要更正")
    monitor = login("monitor")
    ctx.clock = lambda: fixed
    assert monitor.post("/queue/bulk", {"action": "dismiss", "ids": [str(a)],
                                        "note": "与已办结事项重复"}).status_code == 302
    result = monitor.post_json("/api/v1/cases/bulk", {"action": "dispatch", "ids": [b],
                                                      "lead": "jn-dongshan"}).get_json()
    assert result["done"] == [b]
    assert monitor.post_json(f"/api/v1/cases/{c}/corrections",
                             {"severity": 1}).status_code == 200
    with db.session() as s:
        stamps = {(r.case_id, r.action): r.at.replace(tzinfo=UTC) for r in s.scalars(
            select(CaseAction).where(CaseAction.case_id.in_([a, b, c]),
                                     CaseAction.action != "open"))}
        dispatched = s.get(Case, b)
        assert dispatched is not None
        assert dispatched.dispatched_at.replace(tzinfo=UTC) == fixed
    assert stamps and set(stamps.values()) == {fixed}, stamps
    assert {(a, "dismiss"), (b, "dispatch")} <= set(stamps)


FULL_INPUT = {"lead": "jn-dongshan", "note": "理由：按规定处理", "hours": 24,
              "text": "已核实并处理。", "channel": "政务微博"}
ACTIONS = ["dispatch", "sign", "return", "reassign", "request_extension", "approve_extension",
           "deny_extension", "respond", "close", "reopen", "supervise", "dismiss"]


@pytest.mark.parametrize("persona", ["admin", "monitor", "leader", "street", "dept"])
@pytest.mark.parametrize("state", ["new", "dispatched"])
def test_the_buttons_shown_are_exactly_the_actions_the_server_accepts(
        persona: str, state: str, login: Callable[[str], Browser],
        make_case: Callable[..., int]) -> None:
    monitor, actor = login("monitor"), login(persona)
    for action in ACTIONS:
        case_id = make_case(f"{state}-{action}")
        if state == "dispatched":
            assert monitor.post_json(f"/api/v1/cases/{case_id}/actions/dispatch",
                                     {"lead": "jn-dongshan"}).status_code == 200
        detail = actor.get(f"/api/v1/cases/{case_id}")
        if detail.status_code == 404:  # not this unit's case: no button, and no action
            assert actor.post_json(f"/api/v1/cases/{case_id}/actions/{action}",
                                   FULL_INPUT).status_code == 404
            continue
        allowed = {a["action"] for a in detail.get_json()["allowed_actions"]}
        page = actor.get(f"/cases/{case_id}").get_data(as_text=True)
        assert (f'class="action" data-action="{action}"' in page) == (action in allowed)
        r = actor.post_json(f"/api/v1/cases/{case_id}/actions/{action}", FULL_INPUT)
        if action in allowed:
            assert r.status_code == 200, (persona, state, action, r.get_json())
        else:
            assert r.status_code in (403, 409), (persona, state, action, r.get_json())


def test_a_reopened_case_counts_down_to_its_new_answer_limit_not_the_old_first_response(
        login: Callable[[str], Browser], make_case: Callable[..., int], db: Database) -> None:
    case_id = make_case(severity=2)
    monitor, street = login("monitor"), login("street")
    assert monitor.post_json(f"/api/v1/cases/{case_id}/actions/dispatch",
                             {"lead": "jn-dongshan"}).status_code == 200
    assert street.post_json(f"/api/v1/cases/{case_id}/actions/sign", {}).status_code == 200
    assert street.post_json(f"/api/v1/cases/{case_id}/actions/respond",
                            {"text": "已完成清理。", "channel": "政务微博", "link": ""}
                            ).status_code == 200
    with db.session() as s:  # the first round's first-response limit is long past
        c = s.get(Case, case_id)
        assert c is not None and c.due_first_response_at is not None
        c.due_first_response_at = c.created_at - timedelta(hours=1)
    r = monitor.post_json(f"/api/v1/cases/{case_id}/actions/reopen", {"note": "群众反映未解决"})
    assert r.status_code == 200, r.get_json()
    detail = monitor.get(f"/api/v1/cases/{case_id}").get_json()
    assert detail["state"] == "acknowledged" and not detail["overdue"]
    assert detail["due_first_response_at"] is None
    assert detail["next_due_at"] == detail["due_answer_at"] is not None
