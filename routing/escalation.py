"""SLA sweeps: reminders before deadlines, overdue marking, escalation and repeats.

Everything is computed from stored timestamps (``Case.next_reminder_at``, the deadlines and
``Case.sla_marks``), so after downtime the first sweep finds every case that fell due, and a
case overdue for a day is escalated once, not once per missed minute. Each step claims the
case with compare-and-set on its version: of two schedulers only one escalates.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from routing import policy as clock
from routing.messages import when
from routing.workflow import (
    SYSTEM,
    Actor,
    Conflict,
    claim,
    monitors,
    notify,
    record,
    units,
)
from store import Case, CaseState, Database, Role

SWEPT = (CaseState.DISPATCHED, CaseState.ACKNOWLEDGED)
MAX_LEVEL = 3  # 1: unit leader and monitors; 3: also the coordinating department's leader
SWEEPER = Actor(user_id=None, role=Role.ADMIN, unit_id=None, name=SYSTEM)


def _unsigned(case: Case, kind: str) -> list[str]:
    """Who is late: for the sign limit the units that have not signed, else the lead."""
    if kind == "sign":
        return [f"unit:{a.unit_id}" for a in case.assignments
                if a.active and a.role in ("lead", "co") and a.signed_at is None]
    return units(case, "lead")


def _step(session: Session, case: Case, now: datetime, pol: clock.Policy) -> str:
    """Do the earliest due step of this case; returns what was done ("" for nothing)."""
    marks: dict[str, Any] = {k: dict(v) for k, v in (case.sla_marks or {}).items()}
    due_now = sorted((clock.next_point(case, k, s, d, marks, pol), k, d)
                     for k, s, d in clock.active_deadlines(case))
    due_now = [x for x in due_now if x[0] <= now]
    claim(session, case, now)
    if not due_now:
        clock.reschedule(case, pol, now)  # a stale next_reminder_at: just move it on
        return ""
    _, kind, due = due_now[0]
    label = clock.DEADLINE_LABELS[kind]
    mark = marks.setdefault(kind, {})
    late = _unsigned(case, kind)
    if now >= due and not mark.get("overdue"):
        mark.update(overdue=True, repeats=0, last_at=now.isoformat(), due=due.isoformat())
        case.escalation_level = max(case.escalation_level, 1)
        step, rule, change = "overdue", "SLA-OVERDUE-1", f"overdue:{kind}:{due.isoformat()}"
        headline = f"{label}已超时，已升级至单位领导和宣传部门"
        recipients = late + [r.replace("unit:", "leader:") for r in late] + [monitors(case)]
    elif now >= due:
        mark.update(repeats=int(mark.get("repeats", 0)) + 1, last_at=now.isoformat())
        level = min(1 + mark["repeats"], MAX_LEVEL)
        case.escalation_level = max(case.escalation_level, level)
        step, rule = "escalate", "SLA-REPEAT-1"
        change = f"repeat:{kind}:{due.isoformat()}:{mark['repeats']}"
        headline = f"{label}仍未完成（第 {mark['repeats']} 次催办）"
        recipients = late + [r.replace("unit:", "leader:") for r in late] + [monitors(case)]
        if level >= MAX_LEVEL and case.coordinator_unit_id:
            recipients.append(f"leader:{case.coordinator_unit_id}")
    else:
        mark["reminded"] = True
        step, rule, change = "remind", "SLA-REMIND-1", f"remind:{kind}:{due.isoformat()}"
        headline = f"{label}时限临近（{when(due, pol.tz)}），请抓紧办理"
        recipients = late
    case.sla_marks = marks
    clock.reschedule(case, pol, now)
    note = f"{label}时限 {when(due, pol.tz)}"
    row = record(session, case, step, rule, SWEEPER, case.state, now, note=note,
                 data={"deadline": kind, "due": due.isoformat(), "level": case.escalation_level})
    session.flush()
    notify(session, case, change, recipients, headline, now, pol, detail=f"操作记录 #{row.id}")
    return step


def handle_one(db: Database, now: datetime, *, policy: clock.Policy | None = None) -> bool:
    """Handle the case whose next SLA step is most overdue; False when none is due."""
    pol = clock.current(policy)
    with db.session() as session:
        case = session.scalars(
            select(Case).where(Case.state.in_(SWEPT), Case.next_reminder_at <= now)
            .order_by(Case.next_reminder_at, Case.id).limit(1)).first()
        if case is None:
            return False
        try:
            _step(session, case, now, pol)
        except Conflict:
            session.rollback()  # another scheduler or a user got there first
            return True
    return True


def sweep(db: Database, now: datetime, *, policy: clock.Policy | None = None,
          limit: int = 10_000) -> int:
    """Run ``handle_one`` until nothing is due (or ``limit`` steps); returns the steps taken."""
    done = 0
    while done < limit and handle_one(db, now, policy=policy):
        done += 1
    return done
