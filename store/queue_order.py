"""The alert queue's sort keys, stored on each case so the queue is an index walk.

The queue shows open cases gravest first (no level last), then by the deadline that matters
now (signing while dispatched, the first response or answer while new, acknowledged or
returned; none otherwise, last), newest case first on ties. Computing that per request made
every page sort every open case; the keys are kept instead, on every flush of a case.
Core ``update(Case)`` statements that change state, severity or a deadline must set them too
(``queue_values``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from store.models import NO_DUE, Assignment, Case, CaseAction, CaseState

QUEUE_STATES = (CaseState.NEW, CaseState.DISPATCHED, CaseState.ACKNOWLEDGED,
                CaseState.RESPONDED, CaseState.RETURNED)
NO_LEVEL = 9


def next_due(state: str | None, due_sign_at: datetime | None,
             due_first_response_at: datetime | None, due_answer_at: datetime | None
             ) -> datetime | None:
    if state == CaseState.DISPATCHED:
        return due_sign_at or due_answer_at
    if state in (CaseState.NEW, CaseState.ACKNOWLEDGED, CaseState.RETURNED):
        return due_first_response_at or due_answer_at
    return None


def queue_values(state: str | None, severity: int | None, due_sign_at: datetime | None,
                 due_first_response_at: datetime | None, due_answer_at: datetime | None
                 ) -> dict[str, Any]:
    due = next_due(state, due_sign_at, due_first_response_at, due_answer_at)
    return {"queue_open": state in QUEUE_STATES,
            "queue_severity": severity if severity is not None else NO_LEVEL,
            "queue_due_at": due or NO_DUE}


def _keep(case: Case) -> None:
    values = queue_values(case.state or CaseState.NEW, case.severity, case.due_sign_at,
                          case.due_first_response_at, case.due_answer_at)
    for name, value in values.items():
        if getattr(case, name, None) != value:
            setattr(case, name, value)


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    for obj in (*session.new, *session.dirty):
        if isinstance(obj, Case):
            _keep(obj)


# A process-wide count of committed transactions that flushed a case, an assignment or an
# audit row: readers that cache something derived from cases (the queue's totals) compare it,
# so a change made in this process is seen at once even when it wrote no audit row.
_commits = 0


def case_commits() -> int:
    return _commits


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context: Any) -> None:
    if any(isinstance(obj, (Case, Assignment, CaseAction))
           for obj in (*session.new, *session.dirty, *session.deleted)):
        session.info["yuqing.cases_flushed"] = True


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    global _commits
    if session.info.pop("yuqing.cases_flushed", False):
        _commits += 1


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop("yuqing.cases_flushed", None)
