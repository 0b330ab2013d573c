"""What a unit must do next on a case: the groups of "my cases" and the deadline that applies.

Pure functions over a case and the unit's own assignment (the page, the API and any phone
client share them). The group comes from the unit's own assignment state and the case state,
never from the case alone: a co-unit that already reported sits under 已回应待办结 even while
the lead is late, and a reopened case (重办) is owed a new response even though the unit's
assignment still carries the first cycle's response time, so it never hides under 已回应.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from store import Assignment, Case, CaseState


class Group(StrEnum):
    OVERDUE = "overdue"  # 已超时: a deadline of the unit's next step has passed
    DUE_SOON = "due_soon"  # 即将到期: its last quarter (the 临期提醒 point) has begun
    TO_SIGN = "to_sign"  # 待签收
    TO_RESPOND = "to_respond"  # 待回应 (reopened cases included)
    ANSWERED = "answered"  # 已回应待办结: the unit's part is done, the case is not closed
    CLOSED = "closed"  # 已办结
    INFORMED = "informed"  # 通报: no duty to sign or answer


# Most urgent first: a phone shows the top of the list.
GROUP_LABELS: dict[Group, str] = {
    Group.OVERDUE: "已超时", Group.DUE_SOON: "即将到期", Group.TO_SIGN: "待签收",
    Group.TO_RESPOND: "待回应", Group.ANSWERED: "已回应待办结", Group.CLOSED: "已办结",
    Group.INFORMED: "通报知悉"}
DEADLINE_LABELS = {"sign": "签收时限", "first_response": "首次回应时限", "answer": "答复时限"}
STEP_LABELS = {"sign": "需签收", "respond": "需回应", "": ""}
DEFAULT_SOON_FRACTION = 0.25  # the SLA policy's remind_at_fraction_left

# States in which the case is with the units; in the others (待研判, 已退回) no limit runs.
WORKING = (CaseState.DISPATCHED, CaseState.ACKNOWLEDGED, CaseState.RESPONDED)


@dataclass(frozen=True)
class UnitTask:
    group: Group
    step: str  # "sign", "respond" or "" (nothing owed)
    due_kind: str  # "sign", "first_response", "answer" or ""
    due_at: datetime | None
    reopened: bool  # the case was sent back (重办) at least once and the unit owes a step

    @property
    def label(self) -> str:
        return GROUP_LABELS[self.group]

    @property
    def step_label(self) -> str:
        return STEP_LABELS[self.step]

    @property
    def due_label(self) -> str:
        return DEADLINE_LABELS.get(self.due_kind, "")


def responded_in_cycle(case: Case, mine: Assignment, reopened_at: datetime | None) -> bool:
    """Whether the unit's response answers the current cycle (since the last reopen)."""
    if mine.role == "lead":
        # the lead's response is the case's: RESPOND-1 moves it to 已回应, a reopen moves it back
        return case.state in (CaseState.RESPONDED, CaseState.CLOSED)
    if mine.responded_at is None:
        return False
    return reopened_at is None or mine.responded_at >= reopened_at


def unit_task(case: Case, mine: Assignment, *, now: datetime,
              reopened_at: datetime | None = None,
              soon_fraction: float = DEFAULT_SOON_FRACTION) -> UnitTask:
    """The group, the owed step and the deadline that still applies to this unit.

    ``reopened_at`` is the time of the case's last 重办 (None when never reopened). The sign
    limit stops counting once the unit has signed; the first-response limit belongs to the
    lead's first cycle (a reopen restarts only the answer limit).
    """
    state = CaseState(case.state)
    reopened = reopened_at is not None  # shown as 重办 on the unit's card
    if state in (CaseState.CLOSED, CaseState.DISMISSED):
        return UnitTask(Group.CLOSED, "", "", None, False)
    if mine.role == "informed":
        return UnitTask(Group.INFORMED, "", "", None, False)
    if mine.signed_at is None:
        step = "sign"
    elif responded_in_cycle(case, mine, reopened_at):
        return UnitTask(Group.ANSWERED, "", "", None, False)
    else:
        step = "respond"
    limits: list[tuple[str, datetime, datetime | None]] = []  # (kind, due, window start)
    if state in WORKING:
        cycle_start = reopened_at or case.created_at
        if step == "sign" and case.due_sign_at:
            limits.append(("sign", case.due_sign_at,
                           mine.assigned_at or case.dispatched_at or case.created_at))
        if mine.role == "lead" and reopened_at is None and case.due_first_response_at:
            limits.append(("first_response", case.due_first_response_at, case.created_at))
        if case.due_answer_at:
            limits.append(("answer", case.due_answer_at, cycle_start))
    waiting = Group.TO_SIGN if step == "sign" else Group.TO_RESPOND
    if not limits:
        return UnitTask(waiting, step, "", None, reopened)
    kind, due, start = min(limits, key=lambda item: item[1])
    if due <= now:
        group = Group.OVERDUE
    elif start is not None and due - now <= (due - start) * soon_fraction:
        group = Group.DUE_SOON
    else:
        group = waiting
    return UnitTask(group, step, kind, due, reopened)
