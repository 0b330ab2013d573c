"""Conflicting actions: one wins, the other gets a clear error and leaves no trace."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from wf_support import T0, get_case

from routing.policy import Policy
from routing.workflow import (
    Action,
    Actor,
    Conflict,
    WorkflowError,
    allowed_actions,
    needs_attention,
    perform,
    visible_cases,
)
from store import Database

LATER = T0 + timedelta(minutes=30)


def test_a_stale_version_is_refused_with_conflict(db: Database, make_case: Callable[..., int],
                                                  people: dict[str, Actor],
                                                  policy: Policy) -> None:
    case_id = make_case("new")
    seen = get_case(db, case_id).version
    perform(db, case_id, Action.DISPATCH, people["monitor"], data={"lead": "jn-dongshan"},
            expected_version=seen, now=LATER, policy=policy)
    with pytest.raises(Conflict, match="已被他人更新"):
        perform(db, case_id, Action.DISMISS, people["admin"], note="重复", expected_version=seen,
                now=LATER, policy=policy)
    assert get_case(db, case_id).state == "dispatched"


@pytest.mark.parametrize("round_", range(4))
def test_two_concurrent_actions_one_wins(db: Database, make_case: Callable[..., int],
                                         people: dict[str, Actor], policy: Policy,
                                         round_: int) -> None:
    case_id = make_case("new")
    before = len(get_case(db, case_id).actions)
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def act(action: Action, actor: Actor, note: str, data: dict[str, object]) -> None:
        barrier.wait()
        try:
            outcomes.append(perform(db, case_id, action, actor, note=note, data=data,
                                    now=LATER, policy=policy))
        except WorkflowError as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=act, args=(Action.DISPATCH, people["monitor"], "",
                                                  {"lead": "jn-dongshan"})),
               threading.Thread(target=act, args=(Action.DISMISS, people["admin"], "无效信息",
                                                  {}))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    errors = [o for o in outcomes if isinstance(o, WorkflowError)]
    assert len(outcomes) == 2 and len(errors) == 1
    assert "已被他人更新" in str(errors[0]) or "不能" in str(errors[0])
    case = get_case(db, case_id)
    assert len(case.actions) == before + 1
    assert case.state == ("dispatched" if case.actions[-1].action == "dispatch" else "dismissed")


def test_allowed_actions_match_what_perform_accepts(make_case: Callable[..., int],
                                                    db: Database, people: dict[str, Actor],
                                                    policy: Policy) -> None:
    case = get_case(db, make_case("acknowledged"))
    assert allowed_actions(case, people["lead"], now=LATER, policy=policy) == [
        Action.RETURN, Action.REQUEST_EXTENSION, Action.RESPOND]
    assert allowed_actions(case, people["co"], now=LATER, policy=policy) == [
        Action.SIGN, Action.RETURN, Action.RESPOND]
    assert allowed_actions(case, people["monitor"], now=LATER, policy=policy) == [
        Action.REASSIGN, Action.SUPERVISE, Action.MERGE]
    assert allowed_actions(case, people["leader"], now=LATER, policy=policy) == [
        Action.SUPERVISE]
    assert allowed_actions(case, people["other"], now=LATER, policy=policy) == []
    # after the return window the lead may no longer return
    later = allowed_actions(case, people["lead"], now=T0 + timedelta(hours=5), policy=policy)
    assert Action.RETURN not in later


def test_unit_users_see_only_their_cases(db: Database, make_case: Callable[..., int],
                                         people: dict[str, Actor]) -> None:
    mine = make_case("dispatched")
    not_dispatched = make_case("new")
    with db.session() as s:
        def ids(actor: Actor) -> set[int]:
            return {c.id for c in s.scalars(visible_cases(actor))}
        assert ids(people["lead"]) == {mine}
        assert ids(people["other"]) == set()
        assert ids(people["monitor"]) == {mine, not_dispatched}
        no_unit = Actor(user_id=None, role=people["lead"].role, unit_id=None, name="?")
        assert ids(no_unit) == set()


def test_returned_cases_are_in_the_monitors_queue(db: Database, make_case: Callable[..., int]
                                                  ) -> None:
    returned = make_case("returned")
    make_case("acknowledged")
    with db.session() as s:
        assert [c.id for c in s.scalars(needs_attention())] == [returned]
