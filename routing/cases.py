"""One case per event (并单): open it when an event crosses the alert threshold, update it
when new posts arrive, re-notify when the severity rises, and collect the rest into digests.

The routing decision comes from ``routing.decide``: pass ``decision.for_case()`` (a
``routing.rules.CaseDecision``); any object with the attributes of ``DecisionLike`` will do.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from routing import policy as clock
from routing.messages import preload_places, render
from routing.notify.outbox import refresh_pending
from routing.unit_lookup import preload_units, unit_by_code
from routing.workflow import (
    SYSTEM,
    Action,
    Actor,
    Conflict,
    claim,
    monitors,
    notices_later,
    notify,
    opened_here,
    perform_in,
    record,
    units,
)
from store import Case, CaseState, Database, Event, Role

log = logging.getLogger(__name__)
SEVERITY_NAMES = {1: "I级", 2: "II级", 3: "III级", 4: "IV级"}


def is_higher(severity: int | None, than: int | None) -> bool:
    """A known level above ``than`` (I is the highest; an unrated case is below any)."""
    return severity in (1, 2, 3, 4) and (than is None or severity < than)


def raise_note(old: int | None, new: int) -> str:
    return f"级别由 {SEVERITY_NAMES.get(old or 0, '未定级')} 上调为 {SEVERITY_NAMES[new]}"


class DecisionLike(Protocol):
    """What the case needs from a routing decision (``routing.decide``'s result).

    lead: unit code of the lead (主办) unit, or None when nobody could be chosen;
    co: unit codes of co-units (协办); coordinator: the publicity unit that coordinates (its
    monitors get the alerts); informed: units told for information (通报, e.g. outside the
    home jurisdiction); auto_dispatch: dispatch without waiting for a monitor; urgent: an
    urgent category (policy misreading, health, disaster, livelihood); rule: the rule id that
    decided; explanation: why, in Chinese (text or lines); deadlines: mapping (or object)
    with datetimes or None for ``first_response``, ``press`` and ``answer``. Optional: place
    (jurisdiction code), outside (bool).
    """

    lead: str | None
    co: Sequence[str]
    coordinator: str | None
    informed: Sequence[str]
    auto_dispatch: bool
    urgent: bool
    rule: str
    explanation: Any
    deadlines: Any


@dataclass(frozen=True)
class CaseChange:
    case_id: int | None  # None: below the alert threshold, no case
    created: bool = False
    raised: bool = False  # severity went up (and the units were told again)
    dispatched: bool = False


def _deadline(decision: Any, name: str) -> datetime | None:
    deadlines = getattr(decision, "deadlines", None)
    if deadlines is None:
        return None
    if isinstance(deadlines, Mapping):
        value = deadlines.get(name)
    else:
        value = getattr(deadlines, name, None)
    return value if isinstance(value, datetime) else None


def _decision_record(decision: Any) -> dict[str, Any]:
    explanation = getattr(decision, "explanation", "")
    if not isinstance(explanation, str):
        explanation = "\n".join(str(x) for x in explanation)
    return {"lead": getattr(decision, "lead", None), "co": list(getattr(decision, "co", [])),
            "coordinator": getattr(decision, "coordinator", None),
            "informed": list(getattr(decision, "informed", [])),
            "auto_dispatch": bool(getattr(decision, "auto_dispatch", False)),
            "urgent": bool(getattr(decision, "urgent", False)),
            "rule": str(getattr(decision, "rule", "")), "explanation": explanation}


def _place(event: Event, decision: Any) -> str | None:
    place = getattr(decision, "place", None)
    if isinstance(place, str) and place:
        return place
    for p in event.places or []:
        code = p.get("code") if isinstance(p, dict) else p
        if isinstance(code, str) and code:
            return code
    return None


def open_or_update_case(db: Database, event_id: int, decision: DecisionLike,
                        severity: int | None, now: datetime, *,
                        policy: clock.Policy | None = None) -> CaseChange:
    """Open the event's case, or update the one it has; one transaction with its audit row
    and notifications, which also clears the event's ``routing_pending`` mark. Safe when two
    ingest workers race on the same event."""
    pol = clock.current(policy)
    for _ in range(5):
        try:
            with db.session() as session:
                event = session.get(Event, event_id)
                if event is None:
                    raise ValueError(f"事件 {event_id} 不存在")
                case = session.scalar(select(Case).where(Case.event_id == event_id))
                return _change(session, event, case, decision, severity, now, pol)
        except (IntegrityError, Conflict):
            continue  # the other worker opened or changed it first: read it again
    raise Conflict("案件更新冲突，请稍后重试")


def open_or_update_cases(db: Database, changes: Sequence[tuple[int, DecisionLike, int | None]],
                         now: datetime, *, policy: clock.Policy | None = None
                         ) -> dict[int, CaseChange | Exception]:
    """``open_or_update_case`` for many events (event id, decision, severity) in one
    transaction: each case change still commits together with its audit row, notifications
    and the cleared ``routing_pending`` mark, and the events, their cases and the units are
    read with a few set-wise queries instead of a dozen per event. If anything fails (a
    race with another worker, a bad event) the batch is rolled back and every event is done
    in its own transaction, as ``open_or_update_case`` does; an event that fails there too
    maps to its exception."""
    pol = clock.current(policy)
    ids = [event_id for event_id, _, _ in changes]
    out: dict[int, CaseChange | Exception] = {}
    if not ids:
        return out
    try:
        with db.session() as session, notices_later(session):
            preload_units(session)
            events = {e.id: e for e in session.scalars(select(Event).where(Event.id.in_(ids)))}
            # every event of the batch is routed in this transaction: its routing_pending mark
            # is cleared by one statement, not by one UPDATE in each case's flush
            pending = sorted(e.id for e in events.values() if e.routing_pending)
            if pending:
                session.execute(update(Event).where(Event.id.in_(pending))
                                .values(routing_pending=False)
                                .execution_options(synchronize_session=False))
                for event_id in pending:
                    set_committed_value(events[event_id], "routing_pending", False)
            cases = {c.event_id: c for c in session.scalars(
                select(Case).where(Case.event_id.in_(ids))
                .options(selectinload(Case.assignments)))}
            # the places the new cases' notices name: one read, not one per case
            preload_places(session, {code for (event_id, decision, _) in changes
                                     if event_id in events
                                     and (code := _place(events[event_id], decision))})
            targets = [c.merged_into_id for c in cases.values() if c.merged_into_id is not None]
            if targets:  # 并案: load the cases merged into with their assignments too
                session.scalars(select(Case).where(Case.id.in_(targets))
                                .options(selectinload(Case.assignments))).all()
            fresh: dict[int, Case] = {}
            for event_id, decision, severity in changes:
                event = events.get(event_id)
                if event is None:
                    raise ValueError(f"事件 {event_id} 不存在")
                if event_id not in cases and severity in (1, 2, 3, 4):
                    fresh[event_id] = _new_case(session, event, decision, severity, now, pol)
            if fresh:
                # the batch's new cases inserted together: one INSERT gives every id (IntegrityError
                # here when another worker opened one of them first)
                session.flush()
            for event_id, decision, severity in changes:
                out[event_id] = _change(session, events[event_id], cases.get(event_id),
                                        decision, severity, now, pol, fresh.get(event_id))
        return out
    except Exception:  # every event is tried again on its own below
        log.info("批量分派 %d 个事件未成功，逐个重试", len(ids), exc_info=True)
    out.clear()
    for event_id, decision, severity in changes:
        try:
            out[event_id] = open_or_update_case(db, event_id, decision, severity, now,
                                                policy=pol)
        except Exception as exc:  # the caller logs it; the event stays pending
            out[event_id] = exc
    return out


def _change(session: Session, event: Event, case: Case | None, decision: DecisionLike,
            severity: int | None, now: datetime, pol: clock.Policy,
            fresh: Case | None = None) -> CaseChange:
    """The case change of one event inside the caller's transaction (``fresh``: its new case,
    already inserted by the caller)."""
    # the event is routed: cleared in the case change's own transaction, so a
    # crash leaves either both or neither (see yuqing/analysis.py)
    event.routing_pending = False
    if case is not None and case.merged_into_id is not None:
        # 并案: the event's news belongs to the case it was merged into
        case = session.get(Case, case.merged_into_id) or case
    if case is None:
        if severity not in (1, 2, 3, 4):
            return CaseChange(None)  # below IV is not an alert
        return _open(session, event, decision, severity, now, pol, fresh)
    return _update(session, case, event, decision, severity, now, pol)


def _new_case(session: Session, event: Event, decision: Any, severity: int, now: datetime,
              pol: clock.Policy) -> Case:
    """The event's new case, added to the session (not flushed)."""
    info = _decision_record(decision)
    coordinator = (unit_by_code(session, info["coordinator"]) if info["coordinator"] else None)
    computed = clock.answer_deadlines(severity, now, pol, info["urgent"])
    case = Case(event_id=event.id, title=(event.title or event.summary or f"事件 {event.id}")[:500],
                state=CaseState.NEW, severity=severity, topic=event.topic,
                place_code=_place(event, decision), urgent=info["urgent"],
                outside=bool(getattr(decision, "outside", False)),
                coordinator_unit_id=coordinator.id if coordinator else None, routing=info,
                due_first_response_at=_deadline(decision, "first_response")
                or computed["first_response"],
                due_press_at=_deadline(decision, "press") or computed["press"],
                due_answer_at=_deadline(decision, "answer") or computed["answer"],
                version=1, created_at=now, updated_at=now, sla_marks={}, extension_request={},
                # a new case has no assignments: known now, so notices rendered below do not
                # load the empty collection back from the database
                assignments=[])
    session.add(case)
    return case


def _open(session: Session, event: Event, decision: Any, severity: int, now: datetime,
          pol: clock.Policy, case: Case | None = None) -> CaseChange:
    info = _decision_record(decision)
    if case is None:
        case = _new_case(session, event, decision, severity, now, pol)
        session.flush()  # IntegrityError here when another worker opened it first
    opened_here(session, case)
    system = Actor(user_id=None, role=Role.ADMIN, unit_id=None, name=SYSTEM)
    record(session, case, "open", "OPEN-1", system, None, now, note=info["explanation"],
           data={"rule": info["rule"]})
    notify(session, case, "open", [monitors(case)], "新舆情预警，请研判", now, pol,
           detail=f"研判建议：{info['explanation']}" if info["explanation"] else "")
    dispatched = False
    if info["auto_dispatch"] and info["lead"]:
        auto = Actor(user_id=None, role=Role.ADMIN, unit_id=None, name=f"{SYSTEM}（自动派发）")
        perform_in(session, case, Action.DISPATCH, auto, note=f"按规则 {info['rule']} 自动派发",
                   data={"lead": info["lead"], "co": info["co"]}, now=now, policy=pol)
        dispatched = True
    return CaseChange(case.id, created=True, dispatched=dispatched)


def _update(session: Session, case: Case, event: Event, decision: Any, severity: int | None,
            now: datetime, pol: clock.Policy) -> CaseChange:
    live = case.state in (CaseState.DISPATCHED, CaseState.ACKNOWLEDGED, CaseState.RESPONDED)
    recipients = [monitors(case)] + (units(case, "lead") if live else [])
    raised = is_higher(severity, case.severity)
    if not raised:
        # A plain update changes no case field, so it takes no version: a monitor's action
        # on a busy event must not fail with a conflict for every new post.
        minutes = pol.digest_minutes * 60
        bucket = int(now.timestamp() // minutes)
        send_at = datetime.fromtimestamp((bucket + 1) * minutes, tz=now.tzinfo) \
            if now.tzinfo else now + timedelta(seconds=minutes)
        headline = f"事件有新进展：累计 {event.post_count} 条信息、{event.source_count} 个来源"
        if not notify(session, case, f"digest:{bucket}", recipients, headline, now, pol,
                      not_before=send_at, counted=True):
            subject, body, payload = render(session, case, headline, pol.tz)
            refresh_pending(session, case_id=case.id, change=f"digest:{bucket}",
                            recipients=recipients, subject=subject, body=body, payload=payload)
        return CaseChange(case.id)
    claim(session, case, now)
    old = case.severity
    case.urgent = case.urgent or bool(getattr(decision, "urgent", False))
    clock.raise_severity(case, severity, now, pol)
    note = raise_note(old, severity)
    system = Actor(user_id=None, role=Role.ADMIN, unit_id=None, name=SYSTEM)
    record(session, case, "severity", "UPDATE-1", system, case.state, now, note=note,
           data={"from": old, "to": severity})
    recipients += units(case, "co") if live else []
    notify(session, case, f"severity:{severity}", recipients, "舆情级别上调，请加快处置", now, pol,
           detail=note)
    return CaseChange(case.id, raised=True)
