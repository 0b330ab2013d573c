"""Triage in the console: withdraw, dismiss, merge and split through the pages and the API,
the queue's pending-extension filter, and the extension form's unit and new deadline."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from zoneinfo import ZoneInfo

from conftest import Browser
from sqlalchemy import select

from store import Case, CaseAction, Database


def actions(db: Database, case_id: int) -> list[tuple[str, str]]:
    with db.session() as s:
        return [(a.action, a.rule) for a in s.scalars(
            select(CaseAction).where(CaseAction.case_id == case_id).order_by(CaseAction.id))]


def state(db: Database, case_id: int) -> str:
    with db.session() as s:
        c = s.get(Case, case_id)
        assert c is not None
        return c.state


def test_a_monitor_withdraws_a_dispatched_case_on_its_page_then_dismisses_it_by_api(
        db: Database, login: Callable[[str], Browser], make_case: Callable[..., int]) -> None:
    case_id = make_case(state="dispatched", lead="jn-dongshan")
    monitor = login("monitor")
    page = monitor.get(f"/cases/{case_id}").get_data(as_text=True)
    assert 'data-action="withdraw"' in page
    missing = monitor.post(f"/cases/{case_id}/actions/withdraw", {"note": ""})
    assert missing.status_code == 400 and "理由" in missing.get_data(as_text=True)
    r = monitor.post(f"/cases/{case_id}/actions/withdraw", {"note": "派发单位有误"})
    assert r.status_code == 302 and state(db, case_id) == "new"
    assert login("street").get(f"/cases/{case_id}").status_code == 404  # no longer theirs
    r = monitor.post_json(f"/api/v1/cases/{case_id}/actions/dismiss", {"note": "重复信息"})
    assert r.status_code == 200 and r.get_json()["rule"] == "DISMISS-1"
    assert actions(db, case_id)[-2:] == [("withdraw", "WITHDRAW-1"), ("dismiss", "DISMISS-1")]


def test_a_unit_cannot_withdraw(login: Callable[[str], Browser],
                                make_case: Callable[..., int]) -> None:
    case_id = make_case(state="dispatched", lead="jn-dongshan")
    r = login("street").post_json(f"/api/v1/cases/{case_id}/actions/withdraw", {"note": "x"})
    assert r.status_code == 403 and "无权" in r.get_json()["error"]


def test_merge_by_api_shows_b_under_a_and_split_on_the_page_restores_b(
        db: Database, login: Callable[[str], Browser], make_case: Callable[..., int]) -> None:
    a = make_case("竹山路小区污水外溢", state="acknowledged", lead="jn-dongshan",
                  text="竹山路小区门口污水外溢。")
    b = make_case("转发：竹山路污水外溢老人滑倒", state="dispatched", lead="jn-dongshan",
                  text="转发扩散：老人路过滑倒受伤。")
    monitor = login("monitor")
    bad = monitor.post_json(f"/api/v1/cases/{b}/actions/merge", {"note": "同一事件"})
    assert bad.status_code == 400 and "案件编号" in bad.get_json()["error"]
    itself = monitor.post_json(f"/api/v1/cases/{b}/actions/merge", {"into": b})
    assert itself.status_code == 400
    r = monitor.post_json(f"/api/v1/cases/{b}/actions/merge", {"into": a, "note": "同一事件"})
    assert r.status_code == 200 and r.get_json()["to_state"] == "merged"
    detail = monitor.get(f"/api/v1/cases/{a}").get_json()
    assert [m["id"] for m in detail["merged_cases"]] == [b]
    assert {p["text"] for p in detail["posts"]} >= {"转发扩散：老人路过滑倒受伤。"}
    assert detail["history"][-1]["action"] == "merge_in"
    b_page = monitor.get(f"/cases/{b}").get_data(as_text=True)
    assert 'id="merged-into"' in b_page and f'href="/cases/{a}"' in b_page
    assert 'data-action="split"' in b_page
    r = monitor.post(f"/cases/{b}/actions/split", {"note": "并案有误"})
    assert r.status_code == 302 and state(db, b) == "dispatched"
    assert ("split_out", "SPLIT-1") in actions(db, a)
    assert monitor.get(f"/api/v1/cases/{a}").get_json()["merged_cases"] == []


def test_merge_into_a_closed_case_is_a_clear_409(
        login: Callable[[str], Browser], make_case: Callable[..., int]) -> None:
    a = make_case(state="closed", lead="jn-dongshan")
    b = make_case(state="new")
    r = login("monitor").post_json(f"/api/v1/cases/{b}/actions/merge", {"into": a})
    assert r.status_code == 409 and "已结束" in r.get_json()["error"]


def test_the_queue_filters_pending_extension_requests(
        db: Database, login: Callable[[str], Browser], make_case: Callable[..., int]) -> None:
    asked = make_case("申请延期的工单", state="acknowledged", lead="jn-dongshan",
                      due_answer=timedelta(hours=10))
    other = make_case("没有申请的工单", state="acknowledged", lead="jn-dongshan")
    street = login("street")
    r = street.post(f"/cases/{asked}/actions/request_extension",
                    {"hours": "24", "note": "需要现场核查"})
    assert r.status_code == 302
    monitor = login("monitor")
    listed = monitor.get("/api/v1/cases?extension=true").get_json()
    assert [c["id"] for c in listed["cases"]] == [asked]
    assert listed["cases"][0]["extension_pending"] is True
    page = monitor.get("/queue?extension=true").get_data(as_text=True)
    assert "申请延期的工单" in page and "没有申请的工单" not in page and "待审批延期" in page
    everything = {c["id"] for c in monitor.get("/api/v1/cases").get_json()["cases"]}
    assert {asked, other} <= everything


def test_the_extension_form_names_the_sla_unit_and_approval_shows_the_new_deadline(
        db: Database, login: Callable[[str], Browser], make_case: Callable[..., int]) -> None:
    natural = make_case("三级工单", severity=3, state="acknowledged", lead="jn-dongshan",
                        due_answer=timedelta(hours=10))
    working = make_case("四级工单", severity=4, state="acknowledged", lead="jn-dongshan",
                        due_answer=timedelta(hours=10))
    street = login("street")
    assert "延期时长（小时（自然时间））" in street.get(f"/cases/{natural}").get_data(as_text=True)
    form = street.get(f"/cases/{working}").get_data(as_text=True)
    assert "延期时长（工作小时）" in form and "节假日不计" in form
    street.post(f"/cases/{natural}/actions/request_extension", {"hours": "24", "note": "核查"})
    monitor = login("monitor")
    detail = monitor.get(f"/api/v1/cases/{natural}").get_json()
    request = detail["extension_request"]
    with db.session() as s:
        c = s.get(Case, natural)
        assert c is not None and c.due_answer_at is not None
        due = c.due_answer_at
    assert (request["hours"], request["unit"], request["reason"]) == (24.0, "小时（自然时间）", "核查")
    assert request["new_due"] == (due + timedelta(hours=24)).isoformat()
    page = monitor.get(f"/cases/{natural}").get_data(as_text=True)
    local = (due + timedelta(hours=24)).astimezone(ZoneInfo("Asia/Shanghai"))
    assert "申请延长 <strong>24 小时（自然时间）</strong>" in page
    assert f"批准后答复时限：{local:%Y-%m-%d %H:%M}" in page
    monitor.post(f"/cases/{natural}/actions/approve_extension", {})
    with db.session() as s:
        c = s.get(Case, natural)
        assert c is not None and c.due_answer_at == due + timedelta(hours=24)
