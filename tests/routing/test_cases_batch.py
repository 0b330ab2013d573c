"""Many events' case changes in one transaction (``open_or_update_cases``): the same cases,
audit rows and notices as one transaction per event, and a bad event costs only itself."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from wf_support import T0, Decision

from routing.cases import open_or_update_case, open_or_update_cases
from routing.policy import Policy
from store import Case, CaseAction, Database, Event, Notification


def _outcome(db: Database, events: list[int]) -> list[tuple[Any, ...]]:
    """What routing left for these events, without row ids: cases, audit rows, notices."""
    out = []
    with db.session() as s:
        for case in s.scalars(select(Case).where(Case.event_id.in_(events))
                              .order_by(Case.event_id)):
            actions = [(a.action, a.rule, a.to_state) for a in s.scalars(
                select(CaseAction).where(CaseAction.case_id == case.id).order_by(CaseAction.id))]
            notes = [(n.recipient, n.subject, n.body.replace(f"/cases/{case.id}", ""))
                     for n in s.scalars(select(Notification).where(
                         Notification.case_id == case.id).order_by(Notification.id))]
            units = sorted((a.unit_id, a.role, a.active) for a in case.assignments)
            out.append((case.state, case.severity, case.version, case.due_sign_at,
                        case.due_answer_at, units, actions, notes))
        pending = s.scalars(select(Event.id).where(Event.id.in_(events),
                                                   Event.routing_pending.is_(True))).all()
    return [*out, ("pending", len(pending))]


def _changes(events: list[int]) -> list[tuple[int, Decision, int | None]]:
    # a place on one: its notices' place names are read for the whole batch at once
    return [(events[0], Decision(place="320115001"), 3), (events[1], Decision(auto_dispatch=True), 2),
            (events[2], Decision(), None), (events[3], Decision(auto_dispatch=True), 4)]


def test_a_batch_routes_as_one_transaction_per_event_would(
        db: Database, make_event: Callable[..., int], policy: Policy,
        caplog: pytest.LogCaptureFixture) -> None:
    alone = [make_event(title=f"东山街道事件{i}") for i in range(4)]
    together = [make_event(title=f"东山街道事件{i}") for i in range(4)]
    with db.session() as s:
        s.query(Event).update({Event.routing_pending: True})
    for event_id, decision, severity in _changes(alone):
        open_or_update_case(db, event_id, decision, severity, T0, policy=policy)
    with caplog.at_level(logging.INFO, logger="routing.cases"):
        done = open_or_update_cases(db, _changes(together), T0, policy=policy)
    # the batch itself did it: no fall-back to one transaction per event
    assert not [r for r in caplog.records if "逐个重试" in r.getMessage()]
    assert [type(done[e]).__name__ for e in together] == ["CaseChange"] * 4
    assert done[together[1]].dispatched and done[together[2]].case_id is None
    assert _outcome(db, together) == _outcome(db, alone)
    assert len(_outcome(db, together)) == 4 and _outcome(db, together)[-1] == ("pending", 0)


def test_a_bad_event_in_a_batch_costs_only_itself(
        db: Database, make_event: Callable[..., int], policy: Policy) -> None:
    good, other = make_event(), make_event(title="东山街道另一事件")
    changes = [(good, Decision(), 3), (999_999, Decision(), 3), (other, Decision(), 2)]
    done = open_or_update_cases(db, changes, T0, policy=policy)
    assert isinstance(done[999_999], Exception)
    assert done[good].created and done[other].created
    with db.session() as s:
        opened = s.scalars(select(Case.event_id).order_by(Case.event_id)).all()
        audited = s.scalars(select(CaseAction.case_id)).all()
    assert opened == [good, other] and len(audited) == 2  # each case with its audit row


def test_a_batch_that_fails_mid_read_loses_no_case_in_the_retry(
        db: Database, make_event: Callable[..., int], policy: Policy,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # the batch fails with a read half-consumed (a cursor still open), as a warning raised
    # while reading a result once did; the per-event retry must still store every case
    import routing.cases as cases_module
    from store import Unit

    def failing_read(session: Any, codes: set[str]) -> None:
        result = session.execute(select(Unit.code))
        result.fetchone()  # rows left unread
        raise RuntimeError("读取中途失败")

    monkeypatch.setattr(cases_module, "preload_places", failing_read)
    events = [make_event(title=f"东山街道事件{i}") for i in range(2)]
    done = open_or_update_cases(db, [(events[0], Decision(), 3),
                                     (events[1], Decision(auto_dispatch=True), 2)],
                                T0, policy=policy)
    assert all(done[e].created for e in events)
    with db.session() as s:
        assert sorted(s.scalars(select(Case.event_id))) == sorted(events)
        assert s.scalars(select(Event.id).where(Event.id.in_(events),
                                                Event.routing_pending.is_(True))).all() == []


def test_a_case_opened_and_dispatched_together_takes_its_version_without_a_claim(
        db: Database, make_event: Callable[..., int], policy: Policy) -> None:
    from routing.workflow import Conflict, claim, opened_here

    event = make_event()
    done = open_or_update_cases(db, [(event, Decision(auto_dispatch=True), 2)], T0,
                                policy=policy)
    with db.session() as s:
        case = s.scalars(select(Case).where(Case.event_id == event)).one()
        # opened (version 1), then dispatched in the same transaction (version 2)
        assert (case.id, case.state, case.version) == (done[event].case_id, "dispatched", 2)
        assert case.updated_at.replace(tzinfo=None) == T0.replace(tzinfo=None)
    # the mark lasts one transaction: a later one on the same session compares and sets
    with db.session() as s:
        case = s.get(Case, done[event].case_id)
        opened_here(s, case)
        s.commit()
        assert case.version == 2  # loaded again in the session's next transaction
        with db.session() as other:
            claim(other, other.get(Case, case.id), T0)  # another worker changes it first
        with pytest.raises(Conflict):
            claim(s, case, T0)
