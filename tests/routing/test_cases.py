"""One case per event: opening, 并单 updates, digests, severity raises, auto-dispatch."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from wf_support import T0, Decision, get_case

from nlp.types import PlaceMatch
from routing.cases import open_or_update_case
from routing.policy import Policy
from routing.rules import Facts, decide
from routing.workflow import Action, Actor, NotPermitted, perform
from store import Case, Database, Event, Notification
from yuqing.routing_setup import routing_config_from_settings, sla_config_from_settings
from yuqing.settings import Settings


def _queued(db: Database, case_id: int) -> list[Notification]:
    with db.session() as s:
        return list(s.scalars(select(Notification).where(Notification.case_id == case_id,
                                                         Notification.channel == "*")
                              .order_by(Notification.id)))


def test_an_alert_opens_one_case_and_tells_the_monitors(
        db: Database, make_event: Callable[..., int], policy: Policy,
        unit_ids: dict[str, int]) -> None:
    event_id = make_event()
    change = open_or_update_case(db, event_id, Decision(), 3, T0, policy=policy)
    assert change.created and change.case_id is not None and not change.dispatched
    case = get_case(db, change.case_id)
    assert (case.state, case.severity, case.place_code) == ("new", 3, "320115001")
    assert case.coordinator_unit_id == unit_ids["jn-publicity"]
    assert case.due_answer_at == T0 + timedelta(hours=48)
    assert case.routing["lead"] == "jn-dongshan" and "东山街道" in case.routing["explanation"]
    assert [(a.action, a.rule) for a in case.actions] == [("open", "OPEN-1")]
    [note] = _queued(db, case.id)
    assert note.recipient == f"monitors:{unit_ids['jn-publicity']}"
    assert "新舆情预警" in note.subject and "III级 较大（黄）" in note.subject


def test_below_level_four_is_not_an_alert(db: Database, make_event: Callable[..., int],
                                          policy: Policy) -> None:
    change = open_or_update_case(db, make_event(), Decision(), None, T0, policy=policy)
    assert change.case_id is None
    with db.session() as s:
        assert s.scalar(select(func.count(Case.id))) == 0


def test_decision_deadlines_are_used_when_given(db: Database, make_event: Callable[..., int],
                                                policy: Policy) -> None:
    due = T0 + timedelta(hours=30)
    change = open_or_update_case(db, make_event(), Decision(deadlines={"answer": due}), 3, T0,
                                 policy=policy)
    assert change.case_id is not None
    assert get_case(db, change.case_id).due_answer_at == due


def test_auto_dispatch_sends_the_case_to_the_units(db: Database, make_event: Callable[..., int],
                                                   policy: Policy,
                                                   unit_ids: dict[str, int]) -> None:
    change = open_or_update_case(db, make_event(), Decision(auto_dispatch=True), 4, T0,
                                 policy=policy)
    assert change.dispatched and change.case_id is not None
    case = get_case(db, change.case_id)
    assert case.state == "dispatched"
    assert [(a.action, a.rule) for a in case.actions] == [("open", "OPEN-1"),
                                                          ("dispatch", "DISPATCH-1")]
    assert "自动派发" in case.actions[1].actor_name
    recipients = {n.recipient for n in _queued(db, case.id)}
    assert {f"unit:{unit_ids['jn-dongshan']}", f"unit:{unit_ids['jn-edu']}"} <= recipients


def test_two_hundred_posts_make_one_alert_and_a_few_updates(
        db: Database, make_event: Callable[..., int], policy: Policy) -> None:
    event_id = make_event()
    first = open_or_update_case(db, event_id, Decision(), 3, T0, policy=policy)
    assert first.case_id is not None
    version = get_case(db, first.case_id).version
    for i in range(1, 200):  # one post every 36 seconds for two hours
        with db.session() as s:
            s.execute(update(Event).where(Event.id == event_id).values(post_count=i + 1))
        change = open_or_update_case(db, event_id, Decision(), 3,
                                     T0 + timedelta(seconds=36 * i), policy=policy)
        assert change.case_id == first.case_id and not change.created
    queued = _queued(db, first.case_id)
    digests = [n for n in queued if ":digest:" in n.idempotency_key]
    assert len(queued) - len(digests) == 1  # the alert
    assert 1 <= len(digests) <= 5  # a few updates, one per 30-minute window
    # the latest window's digest carries the latest count; it waits for the window to close
    assert "累计 200 条" in digests[-1].body
    assert all(d.next_attempt_at > d.created_at for d in digests)
    # plain updates take no version: a monitor's form stays valid
    assert get_case(db, first.case_id).version == version
    with db.session() as s:
        assert s.scalar(select(func.count(Case.id))) == 1


def test_a_raised_severity_tightens_limits_and_notifies_again(
        db: Database, make_case: Callable[..., int], policy: Policy,
        people: dict[str, Actor], unit_ids: dict[str, int]) -> None:
    case_id = make_case("dispatched", severity=3)
    before = get_case(db, case_id)
    assert before.due_first_response_at is None
    change = open_or_update_case(db, before.event_id, Decision(urgent=True), 1,
                                 T0 + timedelta(minutes=10), policy=policy)
    assert change.raised
    case = get_case(db, case_id)
    assert case.severity == 1 and case.urgent
    assert case.due_first_response_at == T0 + timedelta(hours=5)
    assert case.due_sign_at is not None and before.due_sign_at is not None
    assert case.due_sign_at < before.due_sign_at  # level I signs within 30 minutes
    assert (case.actions[-1].action, case.actions[-1].rule) == ("severity", "UPDATE-1")
    raised = [n for n in _queued(db, case_id) if ":severity:1:" in n.idempotency_key]
    assert {n.recipient for n in raised} >= {f"unit:{unit_ids['jn-dongshan']}",
                                             f"monitors:{unit_ids['jn-publicity']}"}
    assert "I级 特别重大（红）" in raised[0].subject
    # the same level again changes nothing and queues nothing new
    again = open_or_update_case(db, before.event_id, Decision(), 1, T0 + timedelta(minutes=11),
                                policy=policy)
    assert not again.raised
    assert len([n for n in _queued(db, case_id) if ":severity:" in n.idempotency_key]) == len(
        raised)


def test_a_closed_case_is_updated_not_reopened(db: Database, make_case: Callable[..., int],
                                               policy: Policy) -> None:
    case_id = make_case("closed")
    event_id = get_case(db, case_id).event_id
    open_or_update_case(db, event_id, Decision(), 3, T0 + timedelta(hours=1), policy=policy)
    case = get_case(db, case_id)
    assert case.state == "closed"
    with db.session() as s:
        assert s.scalar(select(func.count(Case.id))) == 1


def test_two_workers_racing_on_one_event_make_one_case(
        db: Database, make_event: Callable[..., int], policy: Policy) -> None:
    event_id = make_event()
    barrier = threading.Barrier(4)
    results: list[object] = []

    def work() -> None:
        barrier.wait()
        results.append(open_or_update_case(db, event_id, Decision(), 3, T0, policy=policy))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4
    with db.session() as s:
        assert s.scalar(select(func.count(Case.id))) == 1
        case_id = s.scalar(select(Case.id))
    assert sum(1 for r in results if getattr(r, "created", False)) == 1
    assert len([n for n in _queued(db, case_id) if ":open:" in n.idempotency_key]) == 1


def test_a_case_can_still_be_acted_on_while_posts_arrive(
        db: Database, make_case: Callable[..., int], policy: Policy,
        people: dict[str, Actor]) -> None:
    case_id = make_case("new")
    case = get_case(db, case_id)
    open_or_update_case(db, case.event_id, Decision(), 3, T0 + timedelta(minutes=1),
                        policy=policy)
    perform(db, case_id, Action.DISPATCH, people["monitor"], data={"lead": "jn-dongshan"},
            expected_version=case.version, now=T0 + timedelta(minutes=2), policy=policy)
    assert get_case(db, case_id).state == "dispatched"


def test_informed_units_are_told_without_a_duty_to_sign(
        db: Database, make_event: Callable[..., int], policy: Policy,
        unit_ids: dict[str, int], people: dict[str, Actor]) -> None:
    decision = Decision(auto_dispatch=True, informed=["nj-publicity"])
    change = open_or_update_case(db, make_event(), decision, 3, T0, policy=policy)
    assert change.case_id is not None
    informed = f"unit:{unit_ids['nj-publicity']}"
    [note] = [n for n in _queued(db, change.case_id) if n.recipient == informed]
    assert "无需签收" in note.subject
    outsider = Actor(user_id=None, role=people["lead"].role, unit_id=unit_ids["nj-publicity"],
                     name="市委宣传部")
    with pytest.raises(NotPermitted):
        perform(db, change.case_id, Action.SIGN, outsider, now=T0, policy=policy)


def test_a_real_routing_decision_opens_and_dispatches_the_case(
        db: Database, make_event: Callable[..., int], settings: Settings,
        unit_ids: dict[str, int], people: dict[str, Actor]) -> None:
    cfg = routing_config_from_settings(settings)
    facts = Facts(text="东山街道某小学收费不规范，家长反映强烈", topic="education", severity=3,
                  places=[PlaceMatch(name="东山街道", code="320115001", level="township",
                                     confidence=0.9, text="东山街道")])
    decision = decide(facts, cfg, start=T0)
    policy = Policy(sla=sla_config_from_settings(settings))
    change = open_or_update_case(db, make_event(), decision.for_case(), 3, T0, policy=policy)
    assert change.case_id is not None
    case = get_case(db, change.case_id)
    assert case.routing["lead"] == "jn-dongshan" and case.routing["rule"] == decision.rule
    assert case.due_answer_at == decision.deadlines["answer"]
    if not change.dispatched:
        perform(db, case.id, Action.DISPATCH, people["monitor"],
                data={"lead": case.routing["lead"], "co": case.routing["co"]}, now=T0,
                policy=policy)
    case = get_case(db, change.case_id)
    lead = [a.unit_id for a in case.assignments if a.active and a.role == "lead"]
    assert case.state == "dispatched" and lead == [unit_ids["jn-dongshan"]]


def test_an_outside_matter_opens_a_case_for_the_coordinator_with_no_lead(
        db: Database, make_event: Callable[..., int], settings: Settings,
        unit_ids: dict[str, int]) -> None:
    """R4 (属地外): the coordinator's monitors get the case and are told whom to pass it on to;
    no home unit is assigned and nothing is dispatched, even at a level that auto-dispatches."""
    cfg = routing_config_from_settings(settings)
    facts = Facts(text="杭州市临平区一小区燃气爆炸，3人受伤", topic="work_safety", severity=3,
                  places=[PlaceMatch(name="浙江省杭州市临平区", code="330113",
                                     level="district", confidence=0.95, text="杭州市临平区")])
    decision = decide(facts, cfg, start=T0)
    assert decision.rule == "R4-属地外通报" and decision.lead is None
    policy = Policy(sla=sla_config_from_settings(settings))
    change = open_or_update_case(db, make_event("杭州市临平区一小区燃气爆炸"),
                                 decision.for_case(), 3, T0, policy=policy)
    assert change.created and not change.dispatched and change.case_id is not None
    case = get_case(db, change.case_id)
    assert case.outside and case.state == "new" and case.assignments == []
    assert case.coordinator_unit_id == unit_ids["jn-publicity"]
    assert case.routing["rule"] == "R4-属地外通报" and case.routing["lead"] is None
    assert "区委宣传部" in case.routing["explanation"]
    [note] = _queued(db, case.id)
    assert note.recipient == f"monitors:{unit_ids['jn-publicity']}"
    assert "由其向南京市委宣传部通报" in note.body
