"""Fixtures for the workflow tests: personas, an event, and cases in each state."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from wf_support import T0, Decision

from routing.cases import open_or_update_case
from routing.policy import Policy
from routing.workflow import Action, Actor, perform
from store import Database, Event, Role, Unit
from yuqing.settings import Settings


@pytest.fixture
def policy(settings: Settings) -> Policy:
    return Policy.from_settings(settings)


@pytest.fixture
def unit_ids(db: Database) -> dict[str, int]:
    with db.session() as s:
        return {u.code: u.id for u in s.scalars(select(Unit))}


@pytest.fixture
def people(unit_ids: dict[str, int]) -> dict[str, Actor]:
    return {
        "monitor": Actor(user_id=None, role=Role.MONITOR, unit_id=unit_ids["jn-publicity"],
                         name="值班员小王"),
        "admin": Actor(user_id=None, role=Role.ADMIN, unit_id=None, name="管理员"),
        "leader": Actor(user_id=None, role=Role.LEADER, unit_id=None, name="王部长"),
        "lead": Actor(user_id=None, role=Role.UNIT, unit_id=unit_ids["jn-dongshan"],
                      name="东山街道"),
        "co": Actor(user_id=None, role=Role.UNIT, unit_id=unit_ids["jn-edu"], name="区教育局"),
        "other": Actor(user_id=None, role=Role.UNIT, unit_id=unit_ids["jn-moling"],
                       name="秣陵街道"),
    }


@pytest.fixture
def make_event(db: Database) -> Callable[..., int]:
    def make(title: str = "东山街道某小学收取不合理费用引家长不满", posts: int = 1) -> int:
        with db.session() as s:
            event = Event(title=title, topic="education", severity=3, post_count=posts,
                          source_count=1, places=["320115001"], first_seen_at=T0,
                          last_seen_at=T0)
            s.add(event)
            s.flush()
            return event.id
    return make


@pytest.fixture
def make_case(db: Database, make_event: Callable[..., int], people: dict[str, Actor],
              policy: Policy) -> Callable[..., int]:
    """A case brought into ``state`` through the real workflow."""

    def make(state: str = "new", severity: int = 3, at: datetime = T0) -> int:
        if state == "merged":  # an acknowledged case merged (并案) into another one
            case_id, target = make("acknowledged", severity, at), make("acknowledged", severity, at)
            perform(db, case_id, Action.MERGE, people["monitor"], note="同一事件",
                    data={"into": target}, now=at + timedelta(minutes=5), policy=policy)
            return case_id
        change = open_or_update_case(db, make_event(), Decision(), severity, at, policy=policy)
        case_id = change.case_id
        assert case_id is not None
        steps = {
            "dispatched": [("monitor", Action.DISPATCH, "", {"lead": "jn-dongshan",
                                                            "co": ["jn-edu"]})],
            "returned": [("lead", Action.RETURN, "不属于本街道辖区", {})],
            "acknowledged": [("lead", Action.SIGN, "", {})],
            "responded": [("lead", Action.RESPOND, "", {"text": "已约谈学校，退还费用",
                                                         "channel": "官方微博", "link": ""})],
            "closed": [("monitor", Action.CLOSE, "", {})],
            "dismissed": [("monitor", Action.DISMISS, "重复信息，已核实不实", {})],
            "withdrawn": [("monitor", Action.WITHDRAW, "派发有误，重新研判", {})],
            "extension": [("lead", Action.REQUEST_EXTENSION, "需要联系教育主管部门核实",
                           {"hours": 24})],
        }
        path = {"new": [], "dispatched": ["dispatched"], "returned": ["dispatched", "returned"],
                "acknowledged": ["dispatched", "acknowledged"],
                "responded": ["dispatched", "acknowledged", "responded"],
                "closed": ["dispatched", "acknowledged", "responded", "closed"],
                "dismissed": ["dismissed"], "withdrawn": ["dispatched", "withdrawn"],
                "extension": ["dispatched", "acknowledged", "extension"]}[state]
        for i, name in enumerate(path):
            for who, action, note, data in steps[name]:
                perform(db, case_id, action, people[who], note=note, data=data,
                        now=at + timedelta(minutes=i + 1), policy=policy)
        return case_id

    return make
