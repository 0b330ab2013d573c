"""Case history as plain data: the one read of the database the response report makes.

``load_histories`` reads cases, their audit rows (CaseAction) and deadlines into frozen
dataclasses; everything after that (``routing.reports.response``) is pure computation, so the
page, the API, the CLI and the exports all compute from the same rows the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from routing.reports.periods import Period
from store import Case, CaseAction, CaseState, Jurisdiction, Unit

LIVE_STATES = (CaseState.DISPATCHED, CaseState.ACKNOWLEDGED, CaseState.RESPONDED,
               CaseState.RETURNED)


@dataclass(frozen=True, slots=True)
class Step:
    """One audit row: what happened, when, by which unit, with which data."""

    at: datetime
    action: str
    rule: str = ""
    unit: str | None = None  # code of the actor's unit (sign / return / respond / request)
    to_state: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CaseHistory:
    id: int
    title: str
    state: str
    severity: int | None
    created_at: datetime
    steps: tuple[Step, ...]
    urgent: bool = False
    topic: str | None = None
    place: str | None = None
    # the deadlines stored now (the truth for the current dispatch and answer cycle)
    due_sign_at: datetime | None = None
    due_first_response_at: datetime | None = None
    due_press_at: datetime | None = None
    due_answer_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class UnitInfo:
    code: str
    name: str
    jurisdiction: str = ""


@dataclass(frozen=True, slots=True)
class Histories:
    cases: tuple[CaseHistory, ...]
    units: dict[str, UnitInfo]  # code -> info
    places: dict[str, str]  # jurisdiction code -> name


def load_histories(session: Session, period: Period, tz: tzinfo,
                   case_ids: list[int] | None = None) -> Histories:
    """Cases that can have a figure in ``period``: opened before its end and either acted
    on since its start or still live (overdue now, deadlines missed in the period)."""
    lo, hi = period.bounds(tz)
    query = select(Case).where(Case.created_at < hi, or_(
        Case.state.in_([str(s) for s in LIVE_STATES]),
        exists().where(CaseAction.case_id == Case.id, CaseAction.at >= lo)))
    if case_ids is not None:
        query = query.where(Case.id.in_(case_ids))
    cases = list(session.scalars(query.order_by(Case.id)))
    units = list(session.scalars(select(Unit)))
    code_of = {u.id: u.code for u in units}
    steps: dict[int, list[Step]] = {c.id: [] for c in cases}
    ids = list(steps)
    for chunk in range(0, len(ids), 500):  # IN lists stay small on every database
        rows = session.scalars(select(CaseAction)
                               .where(CaseAction.case_id.in_(ids[chunk:chunk + 500]))
                               .order_by(CaseAction.case_id, CaseAction.at, CaseAction.id))
        for r in rows:
            steps[r.case_id].append(Step(
                at=r.at, action=r.action, rule=r.rule or "",
                unit=code_of.get(r.actor_unit_id) if r.actor_unit_id else None,
                to_state=r.to_state, data=dict(r.data or {})))
    return Histories(
        cases=tuple(CaseHistory(
            id=c.id, title=c.title, state=str(c.state), severity=c.severity,
            created_at=c.created_at, steps=tuple(steps[c.id]), urgent=bool(c.urgent),
            topic=c.topic, place=c.place_code, due_sign_at=c.due_sign_at,
            due_first_response_at=c.due_first_response_at, due_press_at=c.due_press_at,
            due_answer_at=c.due_answer_at) for c in cases),
        units={u.code: UnitInfo(u.code, u.short_name or u.name, u.jurisdiction_code)
               for u in units},
        places=dict(session.execute(select(Jurisdiction.code, Jurisdiction.name)).all()))
