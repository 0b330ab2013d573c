"""重办 starts a new round: the first round's 首次权威发布 limit no longer counts anywhere."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select
from wf_support import T0, get_case

from routing.escalation import sweep
from routing.policy import Policy, active_deadlines
from routing.sla import remind_at, step_calendar
from routing.workflow import Action, Actor, perform
from store import CaseAction, Database

LATE = T0 + timedelta(days=3)  # long after the first round's first-response limit


def _reopened(db: Database, make_case: Callable[..., int], people: dict[str, Actor],
              policy: Policy, state: str) -> int:
    case_id = make_case(state, severity=2)
    perform(db, case_id, Action.REOPEN, people["monitor"], note="群众反映问题未解决",
            now=LATE, policy=policy)
    return case_id


@pytest.mark.parametrize(("state", "reopen", "kinds"), [
    ("dispatched", False, ["sign", "first_response", "answer"]),
    ("acknowledged", False, ["first_response", "answer"]),
    ("responded", True, ["answer"]),
    ("closed", True, ["answer"]),
])
def test_active_deadlines_drop_the_first_rounds_first_response_after_a_reopen(
        db: Database, make_case: Callable[..., int], people: dict[str, Actor], policy: Policy,
        state: str, reopen: bool, kinds: list[str]) -> None:
    case_id = (_reopened(db, make_case, people, policy, state) if reopen
               else make_case(state, severity=2))
    case = get_case(db, case_id)
    assert [k for k, _, _ in active_deadlines(case)] == kinds
    if reopen:  # the new round's answer limit runs from the reopen, in the future
        assert case.state == "acknowledged" and case.due_first_response_at is None
        assert case.due_answer_at is not None and case.due_answer_at > LATE


def test_a_reopened_case_is_not_overdue_and_the_sweep_does_nothing_on_the_old_limit(
        db: Database, make_case: Callable[..., int], people: dict[str, Actor],
        policy: Policy) -> None:
    case_id = make_case("responded", severity=2)
    old_due = get_case(db, case_id).due_first_response_at
    assert old_due is not None and old_due < LATE
    perform(db, case_id, Action.REOPEN, people["monitor"], note="群众反映问题未解决",
            now=LATE, policy=policy)
    case = get_case(db, case_id)
    assert not case.overdue
    assert case.next_reminder_at is not None and case.next_reminder_at > LATE
    assert sweep(db, LATE + timedelta(minutes=1), policy=policy) == 0
    with db.session() as s:
        steps = list(s.scalars(select(CaseAction.action).where(
            CaseAction.case_id == case_id, CaseAction.actor_name == "系统",
            CaseAction.action.in_(["remind", "overdue"]))))
    assert steps == []


def test_the_new_rounds_reminder_is_measured_from_the_reopen_also_after_an_extension(
        db: Database, make_case: Callable[..., int], people: dict[str, Actor],
        policy: Policy) -> None:
    case_id = _reopened(db, make_case, people, policy, "closed")
    case = get_case(db, case_id)
    assert case.due_answer_at is not None
    calendar = step_calendar(case.severity, "answer", policy.sla)
    # a quarter of the new round left, not a quarter of the time since the case was created
    expected = remind_at(LATE, case.due_answer_at, policy.sla, calendar, policy.remind_fraction)
    assert case.next_reminder_at == expected
    assert expected - LATE > (case.due_answer_at - LATE) / 2
    # an extension moves the limit; the round still starts at the reopen
    perform(db, case_id, Action.REQUEST_EXTENSION, people["lead"], note="需协调第三方检测",
            data={"hours": 24}, now=LATE + timedelta(hours=1), policy=policy)
    perform(db, case_id, Action.APPROVE_EXTENSION, people["monitor"],
            now=LATE + timedelta(hours=2), policy=policy)
    case = get_case(db, case_id)
    assert case.next_reminder_at == remind_at(LATE, case.due_answer_at, policy.sla, calendar,
                                              policy.remind_fraction)
    # the sweep just before that point does nothing; at it, one reminder of the new round
    assert sweep(db, case.next_reminder_at - timedelta(minutes=1), policy=policy) == 0
    assert sweep(db, case.next_reminder_at, policy=policy) == 1
