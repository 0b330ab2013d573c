"""The workflow as a table: one row per rule allowed, and refusals with the reason's type."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from wf_support import T0, get_case

from routing.policy import Policy
from routing.workflow import (
    RULES,
    Action,
    Actor,
    BadRequest,
    InvalidTransition,
    NotFound,
    NotPermitted,
    WorkflowError,
    perform,
)
from store import Database, Notification

LATER = T0 + timedelta(minutes=30)  # inside the 2-hour return window
OTHER = "<another case>"  # replaced by the id of a fresh acknowledged case

ALLOWED: list[tuple[str, str, str, Action, str, dict[str, Any], str]] = [
    # rule, start state, who, action, note, data, state after
    ("DISPATCH-1", "new", "monitor", Action.DISPATCH, "", {"lead": "jn-dongshan"}, "dispatched"),
    ("DISPATCH-2", "returned", "monitor", Action.DISPATCH, "", {"lead": "jn-moling"},
     "dispatched"),
    ("SIGN-1", "dispatched", "lead", Action.SIGN, "", {}, "acknowledged"),
    ("SIGN-2", "dispatched", "co", Action.SIGN, "", {}, "dispatched"),
    ("RETURN-1", "dispatched", "lead", Action.RETURN, "不在本街道辖区", {}, "returned"),
    ("RETURN-2", "dispatched", "co", Action.RETURN, "与教育无关", {}, "dispatched"),
    ("REASSIGN-1", "acknowledged", "monitor", Action.REASSIGN, "", {"lead": "jn-moling"},
     "dispatched"),
    ("EXTEND-1", "acknowledged", "lead", Action.REQUEST_EXTENSION, "需核实", {"hours": 24},
     "acknowledged"),
    ("EXTEND-2", "extension", "monitor", Action.APPROVE_EXTENSION, "", {}, "acknowledged"),
    ("EXTEND-3", "extension", "monitor", Action.DENY_EXTENSION, "时限内可完成", {},
     "acknowledged"),
    ("RESPOND-1", "acknowledged", "lead", Action.RESPOND, "",
     {"text": "已退还费用", "channel": "官方微博", "link": "https://example.org/1"}, "responded"),
    ("RESPOND-2", "acknowledged", "co", Action.RESPOND, "", {"text": "已督促学校整改"},
     "acknowledged"),
    ("CLOSE-1", "responded", "monitor", Action.CLOSE, "", {}, "closed"),
    ("REOPEN-1", "responded", "monitor", Action.REOPEN, "回应未说明退费范围", {}, "acknowledged"),
    ("REOPEN-2", "closed", "monitor", Action.REOPEN, "群众再次反映", {}, "acknowledged"),
    ("REOPEN-3", "dismissed", "monitor", Action.REOPEN, "核实后属实", {}, "new"),
    ("SUPERVISE-1", "acknowledged", "leader", Action.SUPERVISE, "请今天内回应", {}, "acknowledged"),
    ("DISMISS-1", "new", "monitor", Action.DISMISS, "广告信息", {}, "dismissed"),
    ("WITHDRAW-1", "dispatched", "monitor", Action.WITHDRAW, "派发有误，重新研判", {}, "new"),
    ("MERGE-1", "acknowledged", "monitor", Action.MERGE, "同一事件", {"into": OTHER}, "merged"),
    ("SPLIT-1", "merged", "monitor", Action.SPLIT, "并案有误", {}, "acknowledged"),
]

REFUSED: list[tuple[str, str, str, Action, str, dict[str, Any], type[WorkflowError]]] = [
    ("unit cannot dispatch", "new", "lead", Action.DISPATCH, "", {"lead": "jn-dongshan"},
     NotPermitted),
    ("leader cannot dispatch", "new", "leader", Action.DISPATCH, "", {"lead": "jn-dongshan"},
     NotPermitted),
    ("monitor cannot sign", "dispatched", "monitor", Action.SIGN, "", {}, NotPermitted),
    ("unassigned unit cannot sign", "dispatched", "other", Action.SIGN, "", {}, NotPermitted),
    ("late signature never reopens", "closed", "lead", Action.SIGN, "", {}, InvalidTransition),
    ("signing twice", "acknowledged", "lead", Action.SIGN, "", {}, InvalidTransition),
    ("respond before signing", "dispatched", "lead", Action.RESPOND, "", {"text": "x"},
     InvalidTransition),
    ("close before response", "acknowledged", "monitor", Action.CLOSE, "", {}, InvalidTransition),
    ("dispatch a dismissed case", "dismissed", "monitor", Action.DISPATCH, "",
     {"lead": "jn-dongshan"}, InvalidTransition),
    ("co-unit cannot ask for extension", "acknowledged", "co", Action.REQUEST_EXTENSION, "x",
     {"hours": 5}, NotPermitted),
    ("approve without a request", "acknowledged", "monitor", Action.APPROVE_EXTENSION, "", {},
     InvalidTransition),
    ("return needs a reason", "dispatched", "lead", Action.RETURN, "  ", {}, BadRequest),
    ("dismiss needs a reason", "new", "monitor", Action.DISMISS, "", {}, BadRequest),
    ("reopen needs a reason", "closed", "monitor", Action.REOPEN, "", {}, BadRequest),
    ("unknown unit", "new", "monitor", Action.DISPATCH, "", {"lead": "no-such-unit"},
     BadRequest),
    ("lead missing", "new", "monitor", Action.DISPATCH, "", {}, BadRequest),
    ("extension too long", "acknowledged", "lead", Action.REQUEST_EXTENSION, "x",
     {"hours": 1000}, BadRequest),
    ("response text required", "acknowledged", "lead", Action.RESPOND, "", {"text": " "},
     BadRequest),
    ("unit cannot withdraw", "dispatched", "lead", Action.WITHDRAW, "x", {}, NotPermitted),
    ("withdraw needs a reason", "dispatched", "monitor", Action.WITHDRAW, " ", {}, BadRequest),
    ("withdraw after signing", "acknowledged", "monitor", Action.WITHDRAW, "x", {},
     InvalidTransition),
    ("merge needs a target", "acknowledged", "monitor", Action.MERGE, "", {}, BadRequest),
    ("merge into a missing case", "acknowledged", "monitor", Action.MERGE, "",
     {"into": 987654}, NotFound),
    ("merge a closed case", "closed", "monitor", Action.MERGE, "", {"into": 1}, InvalidTransition),
    ("leader cannot merge", "acknowledged", "leader", Action.MERGE, "", {"into": 1},
     NotPermitted),
    ("split an unmerged case", "acknowledged", "monitor", Action.SPLIT, "", {},
     InvalidTransition),
]


def test_every_rule_has_an_allowed_row() -> None:
    assert sorted(r[0] for r in ALLOWED) == sorted(r.id for r in RULES)


@pytest.mark.parametrize("rule,state,who,action,note,data,after", ALLOWED,
                         ids=[r[0] for r in ALLOWED])
def test_allowed_transition_changes_state_and_records_its_rule(
        db: Database, make_case: Callable[..., int], people: dict[str, Actor], policy: Policy,
        rule: str, state: str, who: str, action: Action, note: str, data: dict[str, Any],
        after: str) -> None:
    case_id = make_case(state)
    data = {k: make_case("acknowledged") if v == OTHER else v for k, v in data.items()}
    before = get_case(db, case_id)
    row = perform(db, case_id, action, people[who], note=note, data=data, now=LATER,
                  policy=policy)
    case = get_case(db, case_id)
    assert row.rule == rule
    assert (row.from_state, row.to_state, case.state) == (before.state, after, after)
    assert case.version == before.version + 1
    assert case.actions[-1].id == row.id and case.actions[-1].note == note.strip()


@pytest.mark.parametrize("name,state,who,action,note,data,error", REFUSED,
                         ids=[r[0] for r in REFUSED])
def test_refused_transition_changes_nothing(
        db: Database, make_case: Callable[..., int], people: dict[str, Actor], policy: Policy,
        name: str, state: str, who: str, action: Action, note: str, data: dict[str, Any],
        error: type[WorkflowError]) -> None:
    case_id = make_case(state)
    before = get_case(db, case_id)
    with db.session() as s:
        queued = s.scalar(select(func.count(Notification.id)))
    with pytest.raises(error) as info:
        perform(db, case_id, action, people[who], note=note, data=data, now=LATER,
                policy=policy)
    assert str(info.value)  # a Chinese message the console can show
    after = get_case(db, case_id)
    assert (after.state, after.version, len(after.actions)) == (
        before.state, before.version, len(before.actions))
    with db.session() as s:
        assert s.scalar(select(func.count(Notification.id))) == queued


def test_return_is_refused_after_the_window(db: Database, make_case: Callable[..., int],
                                            people: dict[str, Actor], policy: Policy) -> None:
    case_id = make_case("dispatched")
    with pytest.raises(InvalidTransition, match="退回时限"):
        perform(db, case_id, Action.RETURN, people["lead"], note="不归我们管",
                now=T0 + timedelta(hours=3), policy=policy)


def test_extensions_are_bounded(db: Database, make_case: Callable[..., int],
                                people: dict[str, Actor], policy: Policy) -> None:
    case_id = make_case("acknowledged")
    due = get_case(db, case_id).due_answer_at
    assert due is not None
    for _ in range(policy.max_extensions):
        perform(db, case_id, Action.REQUEST_EXTENSION, people["lead"], note="需要现场核查",
                data={"hours": 12}, now=LATER, policy=policy)
        perform(db, case_id, Action.APPROVE_EXTENSION, people["monitor"], now=LATER,
                policy=policy)
    case = get_case(db, case_id)
    assert case.extensions == policy.max_extensions
    assert case.due_answer_at == due + timedelta(hours=12 * policy.max_extensions)
    with pytest.raises(InvalidTransition, match="上限"):
        perform(db, case_id, Action.REQUEST_EXTENSION, people["lead"], note="再延一次",
                data={"hours": 12}, now=LATER, policy=policy)


def test_dispatch_sets_assignments_and_sign_deadline(
        db: Database, make_case: Callable[..., int], people: dict[str, Actor], policy: Policy,
        unit_ids: dict[str, int]) -> None:
    case_id = make_case("new", severity=2)
    perform(db, case_id, Action.DISPATCH, people["monitor"],
            data={"lead": "jn-dongshan", "co": ["jn-edu", "jn-market"]}, now=LATER,
            policy=policy)
    case = get_case(db, case_id)
    roles = {a.unit_id: a.role for a in case.assignments if a.active}
    assert roles == {unit_ids["jn-dongshan"]: "lead", unit_ids["jn-edu"]: "co",
                     unit_ids["jn-market"]: "co"}
    assert case.due_sign_at == LATER + timedelta(minutes=60)  # level II: sign within 60 min
    assert case.dispatched_at == LATER and case.next_reminder_at is not None


def test_reassign_moves_the_case_to_the_new_lead(
        db: Database, make_case: Callable[..., int], people: dict[str, Actor],
        policy: Policy, unit_ids: dict[str, int]) -> None:
    case_id = make_case("returned")
    perform(db, case_id, Action.REASSIGN, people["monitor"], data={"lead": "jn-moling"},
            now=LATER, policy=policy)
    case = get_case(db, case_id)
    active = {a.unit_id: a.role for a in case.assignments if a.active}
    assert active == {unit_ids["jn-moling"]: "lead"}
    # the old lead can no longer act, the new one can
    with pytest.raises(NotPermitted):
        perform(db, case_id, Action.SIGN, people["lead"], now=LATER, policy=policy)
    perform(db, case_id, Action.SIGN, people["other"], now=LATER, policy=policy)
    assert get_case(db, case_id).state == "acknowledged"


def test_actions_queue_notifications_in_the_same_transaction(
        db: Database, make_case: Callable[..., int], people: dict[str, Actor],
        policy: Policy, unit_ids: dict[str, int]) -> None:
    case_id = make_case("dispatched")
    row = perform(db, case_id, Action.RETURN, people["lead"], note="不在本街道辖区", now=LATER,
                  policy=policy)
    with db.session() as s:
        queued = s.scalars(select(Notification).where(
            Notification.idempotency_key.like(f"case:{case_id}:action:{row.id}:%"))).all()
    assert [n.recipient for n in queued] == [f"monitors:{unit_ids['jn-publicity']}"]
    note = queued[0]
    assert "退回" in note.subject and "不在本街道辖区" in note.body
    assert f"/cases/{case_id}" in note.body and "III级 较大（黄）" in note.body
    assert "东山街道" in note.body  # the place


def test_unknown_cases_and_unstorable_data_are_refused_clearly(
        db: Database, make_case: Callable[..., int], people: dict[str, Actor],
        policy: Policy) -> None:
    with pytest.raises(NotFound, match="案件不存在"):
        perform(db, 999_999, Action.SIGN, people["lead"], now=LATER, policy=policy)
    case_id = make_case("acknowledged")
    with pytest.raises(BadRequest, match="格式不正确"):
        perform(db, case_id, Action.RESPOND, people["lead"],
                data={"text": "已处理", "link": object()}, now=LATER, policy=policy)
    with pytest.raises(BadRequest, match="未知的操作"):
        perform(db, case_id, "approve_everything", people["monitor"],  # type: ignore[arg-type]
                now=LATER, policy=policy)
