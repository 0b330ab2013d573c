"""The "my cases" groups as a table: case state × the unit's own assignment state × the clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from routing.unit_tasks import Group, unit_task
from store import Assignment, Case

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # the case opens and is dispatched
H = timedelta(hours=1)
REOPEN = T0 + 50 * H
OV, S, R, A, C = "overdue", "due_soon", "to_sign", "to_respond", "answered"
CL, INF = "closed", "informed"


def case_at(state: str, *, first_response: bool = True, reopened: bool = False) -> Case:
    return Case(state=state, created_at=T0, dispatched_at=T0, due_sign_at=T0 + 4 * H,
                due_first_response_at=T0 + 5 * H if first_response else None,
                # a reopen restarts the answer limit from the reopen
                due_answer_at=(REOPEN if reopened else T0) + 48 * H)


def mine(role: str, unit_state: str) -> Assignment:
    """unit_state: pending, signed, responded (in the first cycle), responded_again (after
    the reopen)."""
    signed = None if unit_state == "pending" else T0 + H
    responded = {"responded": T0 + 2 * H, "responded_again": REOPEN + H}.get(unit_state)
    return Assignment(role=role, assigned_at=T0, signed_at=signed, responded_at=responded)


# (case state, role, unit state, reopened, hours after T0, group, step, deadline kind)
TABLE = [
    # 待研判 / 已退回: the case is with the monitors, no limit runs for the unit
    ("new", "lead", "pending", False, 1, R, "sign", ""),
    ("returned", "co", "pending", False, 1, R, "sign", ""),
    ("returned", "co", "signed", False, 1, A, "respond", ""),
    ("returned", "co", "responded", False, 1, C, "", ""),
    # 待签收
    ("dispatched", "lead", "pending", False, 1, R, "sign", "sign"),
    ("dispatched", "co", "pending", False, 1, R, "sign", "sign"),
    ("dispatched", "co", "signed", False, 1, A, "respond", "answer"),
    ("dispatched", "informed", "pending", False, 1, INF, "", ""),
    # 处置中
    ("acknowledged", "lead", "signed", False, 1, A, "respond", "first_response"),
    ("acknowledged", "co", "pending", False, 1, R, "sign", "sign"),
    ("acknowledged", "co", "signed", False, 1, A, "respond", "answer"),
    ("acknowledged", "co", "responded", False, 1, C, "", ""),
    # 重办: the lead's and the co-unit's first-cycle responses no longer count
    ("acknowledged", "lead", "responded", True, 51, A, "respond", "answer"),
    ("acknowledged", "co", "responded", True, 51, A, "respond", "answer"),
    ("acknowledged", "co", "responded_again", True, 52, C, "", ""),
    ("acknowledged", "lead", "responded", True, 98, OV, "respond", "answer"),  # not answered
    ("acknowledged", "lead", "responded", True, 90, S, "respond", "answer"),
    # 已回应: the lead is done; a co-unit that has not reported still owes its part
    ("responded", "lead", "responded", False, 2.5, C, "", ""),
    ("responded", "co", "pending", False, 2.5, R, "sign", "sign"),
    ("responded", "co", "signed", False, 2.5, A, "respond", "answer"),
    ("responded", "co", "responded", False, 2.5, C, "", ""),
    ("responded", "co", "signed", False, 49, OV, "respond", "answer"),
    ("responded", "lead", "responded", False, 49, C, "", ""),
    # 已办结 / 不予处置 for every role and unit state
    *[(state, role, unit, False, 60, CL, "", "")
      for state in ("closed", "dismissed") for role in ("lead", "co", "informed")
      for unit in ("pending", "signed", "responded")],
    # the clock: sign limit T0+4h (window 4h, last quarter from T0+3h)
    ("dispatched", "lead", "pending", False, 2.9, R, "sign", "sign"),
    ("dispatched", "lead", "pending", False, 3, S, "sign", "sign"),
    ("dispatched", "lead", "pending", False, 4, OV, "sign", "sign"),
    ("dispatched", "co", "pending", False, 30, OV, "sign", "sign"),
    # signed: the sign limit stops; the first-response limit T0+5h is next
    ("acknowledged", "lead", "signed", False, 4.5, S, "respond", "first_response"),
    ("acknowledged", "lead", "signed", False, 5, OV, "respond", "first_response"),
    ("acknowledged", "co", "signed", False, 4.5, A, "respond", "answer"),
    # a co-unit that reported is not late because the lead is
    ("acknowledged", "co", "responded", False, 49, C, "", ""),
]


@pytest.mark.parametrize(("state", "role", "unit", "reopened", "hours", "group", "step", "due"),
                         TABLE, ids=[f"{r[0]}-{r[1]}-{r[2]}-{'reopened-' if r[3] else ''}{r[4]}h"
                                     for r in TABLE])
def test_unit_task_table(state: str, role: str, unit: str, reopened: bool, hours: float,
                         group: str, step: str, due: str) -> None:
    task = unit_task(case_at(state, reopened=reopened), mine(role, unit),
                     now=T0 + hours * H, reopened_at=REOPEN if reopened else None)
    assert (task.group, task.step, task.due_kind) == (Group(group), step, due)
    assert task.reopened == (reopened and bool(step))


def test_the_sign_limit_stops_counting_once_signed_even_when_signed_late() -> None:
    late = Assignment(role="lead", assigned_at=T0, signed_at=T0 + 6 * H)
    task = unit_task(case_at("acknowledged", first_response=False), late, now=T0 + 7 * H)
    assert (task.group, task.due_kind, task.due_at) == (Group.TO_RESPOND, "answer", T0 + 48 * H)


def test_a_reopened_case_never_sits_under_answered_whatever_the_clock() -> None:
    for hours in (50.5, 60, 90, 97, 98, 200):
        for role in ("lead", "co"):
            task = unit_task(case_at("acknowledged", reopened=True), mine(role, "responded"),
                             now=T0 + hours * H, reopened_at=REOPEN)
            assert task.group != Group.ANSWERED and task.step == "respond", (role, hours)
