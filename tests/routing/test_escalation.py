"""SLA sweeps: remind, mark overdue, escalate, repeat; after downtime; with two schedulers."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from wf_support import T0, get_case

from routing.escalation import handle_one, sweep
from routing.policy import Policy
from routing.workflow import Action, Actor, perform
from store import CaseAction, Database, Notification

# make_case("dispatched", severity=3) dispatches at T0+1min: sign within 240 minutes
DISPATCHED_AT = T0 + timedelta(minutes=1)
SIGN_DUE = DISPATCHED_AT + timedelta(minutes=240)
SIGN_REMIND = SIGN_DUE - timedelta(minutes=60)  # a quarter of the limit left


def _steps(db: Database, case_id: int) -> list[tuple[str, str]]:
    with db.session() as s:
        return [(a.action, a.rule) for a in s.scalars(
            select(CaseAction).where(CaseAction.case_id == case_id,
                                     CaseAction.actor_name == "系统",
                                     CaseAction.action != "open").order_by(CaseAction.id))]


def _recipients(db: Database, case_id: int, change: str) -> set[str]:
    with db.session() as s:
        return set(s.scalars(select(Notification.recipient).where(
            Notification.case_id == case_id, Notification.channel == "*",
            Notification.idempotency_key.like(f"case:{case_id}:{change}%"))))


def test_nothing_is_done_before_the_reminder_point(db: Database, make_case: Callable[..., int],
                                                   policy: Policy) -> None:
    case_id = make_case("dispatched")
    assert get_case(db, case_id).next_reminder_at == SIGN_REMIND
    assert not handle_one(db, SIGN_REMIND - timedelta(seconds=1), policy=policy)
    assert _steps(db, case_id) == []


def test_it_reminds_the_units_that_have_not_signed(db: Database, make_case: Callable[..., int],
                                                   policy: Policy,
                                                   unit_ids: dict[str, int]) -> None:
    case_id = make_case("dispatched")
    assert sweep(db, SIGN_REMIND, policy=policy) == 1
    assert _steps(db, case_id) == [("remind", "SLA-REMIND-1")]
    assert _recipients(db, case_id, "remind:sign") == {f"unit:{unit_ids['jn-dongshan']}",
                                                       f"unit:{unit_ids['jn-edu']}"}
    case = get_case(db, case_id)
    assert case.next_reminder_at == SIGN_DUE and not case.overdue
    assert sweep(db, SIGN_REMIND + timedelta(minutes=5), policy=policy) == 0  # once only


def test_it_escalates_after_the_deadline_and_repeats(db: Database,
                                                     make_case: Callable[..., int],
                                                     policy: Policy,
                                                     unit_ids: dict[str, int]) -> None:
    case_id = make_case("dispatched")
    sweep(db, SIGN_REMIND, policy=policy)
    assert sweep(db, SIGN_DUE, policy=policy) == 1
    case = get_case(db, case_id)
    assert case.overdue and case.escalation_level == 1
    lead, co = unit_ids["jn-dongshan"], unit_ids["jn-edu"]
    monitors = f"monitors:{unit_ids['jn-publicity']}"
    assert _recipients(db, case_id, "overdue:sign") == {
        f"unit:{lead}", f"unit:{co}", f"leader:{lead}", f"leader:{co}", monitors}
    # repeats follow the stored schedule: every 60 minutes, climbing to level 3
    assert sweep(db, SIGN_DUE + timedelta(minutes=59), policy=policy) == 0
    assert sweep(db, SIGN_DUE + timedelta(minutes=60), policy=policy) == 1
    assert sweep(db, SIGN_DUE + timedelta(minutes=120), policy=policy) == 1
    case = get_case(db, case_id)
    assert case.escalation_level == 3
    assert f"leader:{unit_ids['jn-publicity']}" in _recipients(db, case_id, "repeat:sign")
    assert _steps(db, case_id) == [("remind", "SLA-REMIND-1"), ("overdue", "SLA-OVERDUE-1"),
                                   ("escalate", "SLA-REPEAT-1"), ("escalate", "SLA-REPEAT-1")]


def test_signing_stops_reminders_until_the_next_deadline_nears(
        db: Database, make_case: Callable[..., int], policy: Policy,
        people: dict[str, Actor]) -> None:
    case_id = make_case("dispatched")
    sweep(db, SIGN_DUE + timedelta(minutes=5), policy=policy)  # overdue on signing
    perform(db, case_id, Action.SIGN, people["lead"], now=SIGN_DUE + timedelta(minutes=10),
            policy=policy)
    case = get_case(db, case_id)
    assert not case.overdue
    answer_due = T0 + timedelta(hours=48)
    assert case.due_answer_at == answer_due
    assert case.next_reminder_at == answer_due - timedelta(hours=12)
    # hours later, nothing: no repeat about the signature any more
    assert sweep(db, SIGN_DUE + timedelta(hours=5), policy=policy) == 0
    assert sweep(db, answer_due - timedelta(hours=12), policy=policy) == 1
    assert _steps(db, case_id)[-1] == ("remind", "SLA-REMIND-1")
    assert _recipients(db, case_id, "remind:answer") == {
        f"unit:{people['lead'].unit_id}"}


def test_a_restart_finds_every_overdue_case_at_the_first_sweep(
        db: Database, make_case: Callable[..., int], policy: Policy) -> None:
    cases = [make_case("dispatched") for _ in range(4)] + [make_case("acknowledged")]
    done = make_case("closed")
    # the scheduler was down for three days: no sweep ran at all
    restart = T0 + timedelta(days=3)
    steps = sweep(db, restart, policy=policy)
    for case_id in cases:
        case = get_case(db, case_id)
        assert case.overdue, case_id
        # one overdue mark per limit that passed, no stale reminders, no replayed repeats
        assert all(step == ("overdue", "SLA-OVERDUE-1") for step in _steps(db, case_id))
        assert case.next_reminder_at == restart + policy.repeat
    assert _steps(db, done) == []
    assert steps == sum(len(_steps(db, c)) for c in cases)
    assert sweep(db, restart, policy=policy) == 0


def test_two_schedulers_escalate_each_case_once(db: Database, make_case: Callable[..., int],
                                                policy: Policy) -> None:
    cases = [make_case("dispatched") for _ in range(6)]
    barrier = threading.Barrier(2)

    def run() -> None:
        barrier.wait()
        sweep(db, SIGN_DUE, policy=policy)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for case_id in cases:
        assert _steps(db, case_id) == [("overdue", "SLA-OVERDUE-1")]
        assert get_case(db, case_id).escalation_level == 1


def test_an_approved_extension_clears_overdue_and_rearms_reminders(
        db: Database, make_case: Callable[..., int], policy: Policy,
        people: dict[str, Actor]) -> None:
    case_id = make_case("acknowledged")
    answer_due = T0 + timedelta(hours=48)
    sweep(db, answer_due, policy=policy)
    assert get_case(db, case_id).overdue
    at = answer_due + timedelta(minutes=5)
    perform(db, case_id, Action.REQUEST_EXTENSION, people["lead"], note="需要联合调查",
            data={"hours": 24}, now=at, policy=policy)
    perform(db, case_id, Action.APPROVE_EXTENSION, people["monitor"], now=at, policy=policy)
    case = get_case(db, case_id)
    assert case.due_answer_at == answer_due + timedelta(hours=24) and not case.overdue
    assert sweep(db, answer_due + timedelta(hours=24), policy=policy) == 1
    assert _steps(db, case_id)[-1] == ("overdue", "SLA-OVERDUE-1")


def test_working_time_limits_skip_the_weekend(db: Database, make_case: Callable[..., int],
                                              policy: Policy, people: dict[str, Actor]) -> None:
    local = ZoneInfo("Asia/Shanghai")
    friday = datetime(2026, 11, 27, 17, 0, tzinfo=local)
    case_id = make_case("new", severity=4, at=friday)
    perform(db, case_id, Action.DISPATCH, people["monitor"], data={"lead": "jn-dongshan"},
            now=friday, policy=policy)
    case = get_case(db, case_id)
    # level IV signs within 7.5 working hours: 30 min on Friday, then Monday's working day
    assert case.due_sign_at == datetime(2026, 11, 30, 17, 0, tzinfo=local)
    # the reminder comes with a quarter of the working time left, not on Sunday night
    assert case.next_reminder_at == datetime(2026, 11, 30, 15, 7, 30, tzinfo=local)
    # the answer (15 working hours from Friday 17:00) falls due on Tuesday afternoon
    assert case.due_answer_at == datetime(2026, 12, 1, 17, 0, tzinfo=local)
    assert sweep(db, datetime(2026, 11, 29, 23, 0, tzinfo=local), policy=policy) == 0
