"""A fixed case history for the response report, built through the real workflow.

Times are Nanjing local. The period is 2026-09-28 (Mon) .. 2026-10-11 (Sun); 国庆 2026-10-01..07
are holidays and Sat 2026-10-10 is a make-up working day (chinesecalendar). Working hours are
08:30–12:00 and 13:30–17:30 (config/sla.yaml); level IV counts working time, I–III natural.

- A (IV, 东山 lead, 教育局 co): opened 09-30 16:00, dispatched 16:30; sign limit 7.5 working h
  → 10-08 16:30 (1 h on 09-30, the holiday, 3.5 + 3 h on 10-08). Lead signs 10-08 09:30 (on
  time), co 10-08 17:00 (late). Answer limit 15 working h → 10-09 16:00; extension of 24 h
  approved → 10-13 17:30. Lead answers 10-10 16:00 (late without the extension), closed 17:00.
- B (III, 秣陵 lead): opened 09-28 10:00, dispatched 10:10, 秣陵 returns 11:00, dispatched to
  东山 11:30, signed 12:30, answered 09-29 09:00, closed 10:00.
- C (III, 秣陵 lead): opened 09-29 09:00, dispatched 09:05; not signed by 13:05; reassigned to
  东山 15:00, signed 15:30, answered 09-30 10:00; reopened 14:00 (new limit 10-02 14:00),
  answered again 10-02 16:00 (late), closed 10-03 10:00 (late).
- D (III, 东山 lead, 教育局 co): opened 10-09 09:00, dispatched 09:10, lead signs 10:10, co
  never signs (limit 13:10); supervised 10-10 09:00; answer limit 10-11 09:00 passes: still
  open past its deadline at NOW.
- E (II, topic health, 东山 lead): opened 10-05 08:00, dispatched 08:05, signed 08:35, answered
  12:00 at a 新闻发布会 (press limit 10-06 08:00), closed 10-06 09:00.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from routing.cases import open_or_update_case
from routing.policy import Policy
from routing.reports import Period
from routing.workflow import Action, Actor, perform
from store import Case, Database, Event, Role, Unit
from tests.routing.wf_support import Decision

NANJING = ZoneInfo("Asia/Shanghai")
PERIOD = Period(date(2026, 9, 28), date(2026, 10, 11))
NOW_LOCAL = datetime(2026, 10, 12, 12, 0, tzinfo=NANJING)
NOW = NOW_LOCAL.astimezone(UTC)


def local(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=NANJING).astimezone(UTC)


def actors(db: Database) -> dict[str, Actor]:
    with db.session() as s:
        ids = {u.code: u.id for u in s.scalars(select(Unit))}
    return {
        "monitor": Actor(None, Role.MONITOR, ids["jn-publicity"], "值班员小王"),
        "leader": Actor(None, Role.LEADER, None, "王部长"),
        "lead": Actor(None, Role.UNIT, ids["jn-dongshan"], "东山街道"),
        "co": Actor(None, Role.UNIT, ids["jn-edu"], "区教育局"),
        "other": Actor(None, Role.UNIT, ids["jn-moling"], "秣陵街道"),
    }


def build_history(db: Database, policy: Policy) -> dict[str, int]:
    """Cases A–E as described above, opened and handled through the real workflow;
    returns their ids."""
    people = actors(db)

    def make_case(state: str, severity: int, at: datetime) -> int:
        assert state == "new"
        with db.session() as s:
            event = Event(title=f"东山街道某小学收费问题（{at:%m-%d}）", topic="education",
                          severity=severity, post_count=1, source_count=1,
                          places=["320115001"], first_seen_at=at, last_seen_at=at)
            s.add(event)
            s.flush()
            event_id = event.id
        change = open_or_update_case(db, event_id, Decision(), severity, at, policy=policy)
        assert change.case_id is not None
        return change.case_id

    def do(case_id: int, who: str, action: Action, at: datetime, note: str = "",
           **data: object) -> None:
        perform(db, case_id, action, people[who], note=note, data=data, now=at, policy=policy)

    def dispatch(case_id: int, at: datetime, lead: str, co: list[str] | None = None,
                 action: Action = Action.DISPATCH) -> None:
        do(case_id, "monitor", action, at, lead=lead, co=co or [])

    answer = {"text": "已核实并公开答复", "channel": "政务微博", "link": ""}
    a = make_case("new", severity=4, at=local(9, 30, 16))
    dispatch(a, local(9, 30, 16, 30), "jn-dongshan", ["jn-edu"])
    do(a, "lead", Action.SIGN, local(10, 8, 9, 30))
    do(a, "co", Action.SIGN, local(10, 8, 17))
    do(a, "lead", Action.REQUEST_EXTENSION, local(10, 9, 10), "需会同教育局核实", hours=24)
    do(a, "monitor", Action.APPROVE_EXTENSION, local(10, 9, 11))
    do(a, "lead", Action.RESPOND, local(10, 10, 16), **answer)
    do(a, "monitor", Action.CLOSE, local(10, 10, 17))

    b = make_case("new", severity=3, at=local(9, 28, 10))
    dispatch(b, local(9, 28, 10, 10), "jn-moling")
    do(b, "other", Action.RETURN, local(9, 28, 11), "不属于本街道辖区")
    dispatch(b, local(9, 28, 11, 30), "jn-dongshan")
    do(b, "lead", Action.SIGN, local(9, 28, 12, 30))
    do(b, "lead", Action.RESPOND, local(9, 29, 9), **answer)
    do(b, "monitor", Action.CLOSE, local(9, 29, 10))

    c = make_case("new", severity=3, at=local(9, 29, 9))
    dispatch(c, local(9, 29, 9, 5), "jn-moling")
    dispatch(c, local(9, 29, 15), "jn-dongshan", action=Action.REASSIGN)
    do(c, "lead", Action.SIGN, local(9, 29, 15, 30))
    do(c, "lead", Action.RESPOND, local(9, 30, 10), **answer)
    do(c, "monitor", Action.REOPEN, local(9, 30, 14), "答复未说明退费安排")
    do(c, "lead", Action.RESPOND, local(10, 2, 16), **answer)
    do(c, "monitor", Action.CLOSE, local(10, 3, 10))

    d = make_case("new", severity=3, at=local(10, 9, 9))
    dispatch(d, local(10, 9, 9, 10), "jn-dongshan", ["jn-edu"])
    do(d, "lead", Action.SIGN, local(10, 9, 10, 10))
    do(d, "leader", Action.SUPERVISE, local(10, 10, 9))

    e = make_case("new", severity=2, at=local(10, 5, 8))
    with db.session() as s:  # a second topic for the per-topic table
        case = s.get(Case, e)
        assert case is not None
        case.topic = "health"
    dispatch(e, local(10, 5, 8, 5), "jn-dongshan")
    do(e, "lead", Action.SIGN, local(10, 5, 8, 35))
    do(e, "lead", Action.RESPOND, local(10, 5, 12), text="召开新闻发布会通报处置情况",
       channel="新闻发布会", link="")
    do(e, "monitor", Action.CLOSE, local(10, 6, 9))
    return {"A": a, "B": b, "C": c, "D": d, "E": e}
