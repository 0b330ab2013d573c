"""Triage: withdraw (撤回) and dismiss, merge (并案) and split, each with audit rows on every
case it touches and the notifications it queues."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select
from wf_support import T0, Decision, get_case

from routing.cases import open_or_update_case
from routing.policy import Policy, answer_deadlines
from routing.workflow import Action, Actor, InvalidTransition, perform, visible_cases
from store import Case, Database, Notification

LATER = T0 + timedelta(minutes=30)


def queued(db: Database, case_id: int) -> list[tuple[str, str]]:
    """(recipient, subject) of every notification queued for the case, in order."""
    with db.session() as s:
        rows = s.scalars(select(Notification).where(Notification.case_id == case_id,
                                                    Notification.channel == "*")
                         .order_by(Notification.id))
        return [(n.recipient, n.subject) for n in rows]


def sees(db: Database, actor: Actor, case_id: int) -> bool:
    with db.session() as s:
        return s.scalar(visible_cases(actor).where(Case.id == case_id)) is not None


def test_withdraw_takes_an_unsigned_case_back_and_tells_its_units(
        db: Database, make_case: Callable[..., int], people: dict[str, Actor], policy: Policy,
        unit_ids: dict[str, int]) -> None:
    case_id = make_case("dispatched")
    before = len(queued(db, case_id))
    row = perform(db, case_id, Action.WITHDRAW, people["monitor"], note="派发有误",
                  now=LATER, policy=policy)
    case = get_case(db, case_id)
    assert (row.rule, row.from_state, row.to_state, row.note) == (
        "WITHDRAW-1", "dispatched", "new", "派发有误")
    assert case.state == "new" and case.due_sign_at is None and case.dispatched_at is None
    assert {a.state for a in case.assignments} == {"withdrawn"}
    assert not any(a.active for a in case.assignments)
    told = queued(db, case_id)[before:]
    assert sorted(r for r, _ in told) == sorted(
        [f"unit:{unit_ids['jn-dongshan']}", f"unit:{unit_ids['jn-edu']}"])
    assert all("撤回" in subject for _, subject in told)
    assert not sees(db, people["lead"], case_id)  # gone from the unit's list


def test_a_withdrawn_case_can_be_dismissed_and_the_units_hear_it(
        db: Database, make_case: Callable[..., int], people: dict[str, Actor], policy: Policy,
        unit_ids: dict[str, int]) -> None:
    case_id = make_case("withdrawn")
    before = len(queued(db, case_id))
    row = perform(db, case_id, Action.DISMISS, people["monitor"], note="核实为重复信息",
                  now=LATER, policy=policy)
    assert (row.rule, row.from_state, row.to_state) == ("DISMISS-1", "new", "dismissed")
    told = queued(db, case_id)[before:]
    assert sorted(r for r, _ in told) == sorted(
        [f"unit:{unit_ids['jn-dongshan']}", f"unit:{unit_ids['jn-edu']}"])
    assert all("不予处置" in subject for _, subject in told)


def test_withdraw_is_refused_once_any_unit_signed(
        db: Database, make_case: Callable[..., int], people: dict[str, Actor],
        policy: Policy) -> None:
    case_id = make_case("dispatched")
    perform(db, case_id, Action.SIGN, people["co"], now=LATER, policy=policy)  # co signs
    with pytest.raises(InvalidTransition, match="已签收"):
        perform(db, case_id, Action.WITHDRAW, people["monitor"], note="x", now=LATER,
                policy=policy)
    assert get_case(db, case_id).state == "dispatched"


def test_an_auto_dispatched_case_can_be_withdrawn(
        db: Database, make_event: Callable[..., int], people: dict[str, Actor],
        policy: Policy) -> None:
    change = open_or_update_case(db, make_event(), Decision(auto_dispatch=True), 3, T0,
                                 policy=policy)
    assert change.dispatched and change.case_id is not None
    perform(db, change.case_id, Action.WITHDRAW, people["monitor"], note="先研判再派发",
            now=LATER, policy=policy)
    assert get_case(db, change.case_id).state == "new"


def _merged_pair(db: Database, make_case: Callable[..., int], people: dict[str, Actor],
                 policy: Policy) -> tuple[int, int]:
    """Case B (dispatched to 秣陵街道) merged into case A (acknowledged by 东山街道)."""
    a = make_case("acknowledged")
    b = make_case("new")
    perform(db, b, Action.DISPATCH, people["monitor"], data={"lead": "jn-moling"},
            now=T0 + timedelta(minutes=10), policy=policy)
    perform(db, b, Action.MERGE, people["monitor"], note="同一事件的转发", data={"into": a},
            now=LATER, policy=policy)
    return a, b


def test_merge_closes_b_as_merged_with_audit_rows_on_both_and_tells_b_units(
        db: Database, make_case: Callable[..., int], people: dict[str, Actor], policy: Policy,
        unit_ids: dict[str, int]) -> None:
    a, b = _merged_pair(db, make_case, people, policy)
    case_a, case_b = get_case(db, a), get_case(db, b)
    assert (case_b.state, case_b.merged_into_id, case_b.closed_at) == ("merged", a, LATER)
    assert not any(x.active for x in case_b.assignments)
    merge_row = case_b.actions[-1]
    assert (merge_row.action, merge_row.rule, merge_row.from_state, merge_row.to_state) == (
        "merge", "MERGE-1", "dispatched", "merged")
    assert merge_row.data["into"] == a
    in_row = case_a.actions[-1]
    assert (in_row.action, in_row.rule, in_row.data["case"]) == ("merge_in", "MERGE-1", b)
    assert case_a.state == "acknowledged"  # A goes on as it was
    b_told = {r: s for r, s in queued(db, b)}
    assert f"并入案件 {a}" in b_told[f"unit:{unit_ids['jn-moling']}"]
    a_told = [r for r, s in queued(db, a) if f"案件 {b} 已并入本案" in s]
    assert f"unit:{unit_ids['jn-dongshan']}" in a_told
    assert not sees(db, people["other"], b)  # 秣陵 no longer holds B


def test_new_posts_of_a_merged_case_event_update_the_case_it_was_merged_into(
        db: Database, make_case: Callable[..., int], people: dict[str, Actor],
        policy: Policy) -> None:
    a, b = _merged_pair(db, make_case, people, policy)
    event_b = get_case(db, b).event_id
    change = open_or_update_case(db, event_b, Decision(), 3, LATER + timedelta(minutes=5),
                                 policy=policy)
    assert change.case_id == a
    raised = open_or_update_case(db, event_b, Decision(), 2, LATER + timedelta(minutes=6),
                                 policy=policy)
    assert raised.case_id == a and get_case(db, a).severity == 2


def test_split_restores_b_with_its_units_and_records_on_both(
        db: Database, make_case: Callable[..., int], people: dict[str, Actor], policy: Policy,
        unit_ids: dict[str, int]) -> None:
    a, b = _merged_pair(db, make_case, people, policy)
    row = perform(db, b, Action.SPLIT, people["monitor"], note="并案有误",
                  now=LATER + timedelta(minutes=1), policy=policy)
    case_a, case_b = get_case(db, a), get_case(db, b)
    assert (row.rule, row.from_state, row.to_state) == ("SPLIT-1", "merged", "dispatched")
    assert case_b.merged_into_id is None and case_b.closed_at is None
    active = {x.unit_id: x.state for x in case_b.assignments if x.active}
    assert active == {unit_ids["jn-moling"]: "pending"}
    assert case_b.due_sign_at is not None  # the sign limit runs again
    out_row = case_a.actions[-1]
    assert (out_row.action, out_row.rule, out_row.data["case"]) == ("split_out", "SPLIT-1", b)
    assert any(r == f"unit:{unit_ids['jn-moling']}" and "拆分恢复" in s
               for r, s in queued(db, b))
    assert sees(db, people["other"], b)


def test_split_is_refused_once_the_target_is_closed(
        db: Database, make_case: Callable[..., int], people: dict[str, Actor],
        policy: Policy) -> None:
    a, b = _merged_pair(db, make_case, people, policy)
    perform(db, a, Action.RESPOND, people["lead"], data={"text": "已处理"}, now=LATER,
            policy=policy)
    perform(db, a, Action.CLOSE, people["monitor"], now=LATER, policy=policy)
    with pytest.raises(InvalidTransition, match="已办结"):
        perform(db, b, Action.SPLIT, people["monitor"], now=LATER, policy=policy)
    assert get_case(db, b).state == "merged"


def test_merge_refuses_finished_targets_and_cases_that_hold_merged_ones(
        db: Database, make_case: Callable[..., int], people: dict[str, Actor],
        policy: Policy) -> None:
    a, b = _merged_pair(db, make_case, people, policy)
    c = make_case("acknowledged")
    with pytest.raises(InvalidTransition, match="已结束"):  # B is merged itself
        perform(db, c, Action.MERGE, people["monitor"], data={"into": b}, now=LATER,
                policy=policy)
    with pytest.raises(InvalidTransition, match="先拆分"):  # A holds B
        perform(db, a, Action.MERGE, people["monitor"], data={"into": c}, now=LATER,
                policy=policy)
    version = get_case(db, c).version
    assert get_case(db, a).state == "acknowledged" and get_case(db, c).version == version


def test_the_response_report_does_not_count_withdrawn_or_merged_units_as_late(
        db: Database, make_case: Callable[..., int], people: dict[str, Actor],
        policy: Policy) -> None:
    from datetime import date

    from routing.reports import Period
    from routing.reports.history import load_histories
    from routing.reports.response import case_facts

    withdrawn = make_case("withdrawn")
    _, merged = _merged_pair(db, make_case, people, policy)
    later = T0 + timedelta(days=3)  # every sign and answer limit long past
    with db.session() as s:
        histories = load_histories(s, Period(date(2026, 11, 23), date(2026, 11, 26)),
                                   policy.tz, [withdrawn, merged])
    late = {"sign_missed", "answer_missed", "close_missed", "overdue_now"}
    for case in histories.cases:
        facts = case_facts(case, policy.sla, later)
        assert not [f for f in facts if f.metric in late], case.id
        assert any(f.metric == "assigned" for f in facts)  # the dispatch still counts


@pytest.mark.parametrize("round_", range(3))
def test_merging_a_into_b_and_b_into_a_at_once_leaves_one_merge(
        db: Database, make_case: Callable[..., int], people: dict[str, Actor], policy: Policy,
        round_: int) -> None:
    import threading

    from routing.workflow import WorkflowError

    a, b = make_case("acknowledged"), make_case("acknowledged")
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def merge(case_id: int, into: int) -> None:
        barrier.wait()
        try:
            outcomes.append(perform(db, case_id, Action.MERGE, people["monitor"],
                                    data={"into": into}, now=LATER, policy=policy))
        except WorkflowError as exc:  # Conflict, or the target is merged already
            outcomes.append(exc)

    threads = [threading.Thread(target=merge, args=(a, b)),
               threading.Thread(target=merge, args=(b, a))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(type(o).__name__ for o in outcomes)[0] == "CaseAction"
    assert sum(isinstance(o, WorkflowError) for o in outcomes) == 1
    states = sorted(get_case(db, x).state for x in (a, b))
    assert states == ["acknowledged", "merged"]


def test_a_more_severe_case_merged_in_raises_the_targets_level_and_limits_in_that_change(
        db: Database, make_case: Callable[..., int], people: dict[str, Actor], policy: Policy,
        unit_ids: dict[str, int]) -> None:
    a = make_case("acknowledged", severity=3)
    before = get_case(db, a)
    b = make_case("new", severity=2)
    perform(db, b, Action.MERGE, people["monitor"], note="同一事件", data={"into": a},
            now=LATER, policy=policy)
    case_a = get_case(db, a)
    assert case_a.severity == 2
    # the II级 limits from A's creation where they are stricter, never a looser one
    tighter = answer_deadlines(2, before.created_at, policy, before.urgent)
    moved = 0
    for field, kind in (("due_first_response_at", "first_response"), ("due_press_at", "press"),
                        ("due_answer_at", "answer")):
        old, new = getattr(before, field), tighter[kind]
        want = new if new is not None and (old is None or new < old) else old
        assert getattr(case_a, field) == want
        moved += want != old
    assert moved  # the test means something: II级 is stricter than III级 somewhere
    assert case_a.version == before.version + 1  # one change, with its one audit row
    in_row = case_a.actions[-1]
    assert in_row.action == "merge_in" and in_row.data["severity"] == {"from": 3, "to": 2}
    assert "级别由 III级 上调为 II级" in in_row.note
    told = [s for r, s in queued(db, a) if r == f"unit:{unit_ids['jn-dongshan']}"]
    assert any(f"案件 {b} 已并入本案" in s and "上调为 II级" in s for s in told)
    # a milder case merged in changes neither the level nor the limits
    c = make_case("new", severity=4)
    perform(db, c, Action.MERGE, people["monitor"], note="同一事件", data={"into": a},
            now=LATER + timedelta(minutes=1), policy=policy)
    after = get_case(db, a)
    assert (after.severity, after.due_first_response_at, after.due_answer_at) == (
        2, case_a.due_first_response_at, case_a.due_answer_at)
    assert "severity" not in after.actions[-1].data
