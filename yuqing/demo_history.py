"""演示历史数据: the demo's past, so the leader's dashboard and the reports open on real figures.

Only `yuqing demo` calls this. The demo web's ``history`` posts (the previous three weeks) have
been crawled by the real spiders; here they go through the real analysis and routing one day at
a time with the context's clock set back to that day, and every case they open is worked
through the real workflow (``routing.workflow.perform``) at backdated times, following a fixed
playbook: most on time, some signed or answered late, one returned and sent to another unit,
one extended, one supervised, one still open past its deadline. Every action's note says it is
demo history. Nothing is written around the workflow: the audit rows are the workflow's own.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from routing.workflow import Action, Actor, WorkflowError, perform
from store import Case, CaseState, Post, Role, Unit, User
from yuqing.context import AppContext
from yuqing.ingest import index_posts
from yuqing.jobs import configure_workflow

log = logging.getLogger(__name__)
NOTE = "（演示历史数据）"
# what happens to the n-th history case (cycled)
PLAYBOOK = ("on_time", "late_sign", "on_time", "returned", "extended", "late_answer",
            "supervised", "on_time", "late_sign", "overdue_open")
SETTLE = timedelta(hours=1)  # history stops this long before "now": the live demo takes over


def seed_history(ctx: AppContext, monitor: str, leader: str, older_than: timedelta) -> int:
    """Analyse posts published more than ``older_than`` ago day by day with the clock set back,
    then work their cases. Returns how many cases were worked."""
    zone = ZoneInfo(ctx.settings.app.timezone)
    now = ctx.now()
    with ctx.db.session() as s:
        rows = s.execute(select(Post.id, Post.published_at)
                         .where(Post.analyzed_at.is_(None), Post.published_at.is_not(None),
                                Post.published_at < now - older_than)
                         .order_by(Post.published_at, Post.id)).all()
        people = {u.username: u for u in s.scalars(select(User).where(
            User.username.in_([monitor, leader])))}
        actors = {name: Actor(u.id, Role(u.role), u.unit_id, u.display_name or u.username)
                  for name, u in people.items()}
    days: dict[object, list[tuple[int, datetime]]] = defaultdict(list)
    for post_id, published in rows:
        days[published.astimezone(zone).date()].append((post_id, published))
    real_clock, worked = ctx.clock, 0
    policy = configure_workflow(ctx)
    try:
        for _, posts in sorted(days.items()):
            seen = max(p for _, p in posts) + timedelta(minutes=40)  # when the monitors saw it
            ctx.clock = _fixed(seen)
            ids = [i for i, _ in posts]
            ctx.analysis(ctx.db, ids)
            index_posts(ctx.db, ctx.index, ids, now=ctx.now())
            with ctx.db.session() as s:
                cases = list(s.scalars(select(Case.id).where(Case.created_at == seen)
                                       .order_by(Case.id)))
            for case_id in cases:
                play = PLAYBOOK[worked % len(PLAYBOOK)]
                _work(ctx, case_id, play, actors[monitor], actors[leader], seen,
                      now - SETTLE, policy)
                worked += 1
    finally:
        ctx.clock = real_clock
    return worked


def _fixed(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


def _unit_actor(ctx: AppContext, case_id: int) -> Actor | None:
    with ctx.db.session() as s:
        case = s.get(Case, case_id)
        lead = next((a for a in case.assignments if a.role == "lead" and a.active), None) \
            if case else None
        if lead is None:
            return None
        unit = s.get(Unit, lead.unit_id)
        name = (unit.short_name or unit.name) if unit else "承办单位"
        return Actor(None, Role.UNIT, lead.unit_id, f"{name}（演示）")


def _state(ctx: AppContext, case_id: int) -> Case:
    with ctx.db.session() as s:
        case = s.get(Case, case_id)
        assert case is not None
        s.expunge(case)
        return case


def _work(ctx: AppContext, case_id: int, play: str, monitor: Actor, leader: Actor,
          start: datetime, until: datetime, policy: object) -> None:
    """One case through the playbook; steps that would fall after ``until`` are left undone."""
    at = start

    def step(action: Action, actor: Actor, when: datetime, note: str = "",
             **data: object) -> bool:
        nonlocal at
        if when > until:
            return False
        try:
            perform(ctx.db, case_id, action, actor, note=f"{note}{NOTE}", data=dict(data),
                    now=when, policy=policy)  # type: ignore[arg-type]
        except WorkflowError as exc:  # a rule said no: the history just stops there
            log.warning("演示历史：工单 %s 的%s未执行：%s", case_id, action, exc)
            return False
        at = when
        return True

    case = _state(ctx, case_id)
    if case.state == CaseState.NEW:
        lead = (case.routing or {}).get("lead") or "jn-dongshan"
        co = [c for c in (case.routing or {}).get("co") or [] if c != lead]
        if not step(Action.DISPATCH, monitor, at + timedelta(minutes=25), "研判后派发",
                    lead=lead, co=co):
            return
    if play == "returned":
        unit = _unit_actor(ctx, case_id)
        if unit is None or not step(Action.RETURN, unit, at + timedelta(minutes=50),
                                    "经核实不属于本单位职责范围，请重新派发"):
            return
        if not step(Action.DISPATCH, monitor, at + timedelta(hours=1), "改派主管部门",
                    lead=_other_lead(ctx, case_id), co=[]):
            return
    case = _state(ctx, case_id)
    unit = _unit_actor(ctx, case_id)
    if unit is None or case.due_sign_at is None:
        return
    sign_at = (case.due_sign_at + timedelta(hours=3) if play == "late_sign"
               else min(at + timedelta(minutes=40), case.due_sign_at - timedelta(minutes=5)))
    if not step(Action.SIGN, unit, max(sign_at, at + timedelta(minutes=1)), "已签收"):
        return
    if play == "overdue_open":
        return  # signed, never answered: the SLA sweep marks it overdue
    if play == "supervised":
        step(Action.SUPERVISE, leader, at + timedelta(hours=1), "请加快处置并及时回应关切")
    case = _state(ctx, case_id)
    due = case.due_answer_at or (at + timedelta(hours=48))
    respond_at = at + timedelta(hours=6)
    if play == "extended":
        if not step(Action.REQUEST_EXTENSION, unit, at + timedelta(hours=2),
                    "需协调多个部门现场核查", hours=24):
            return
        if not step(Action.APPROVE_EXTENSION, monitor, at + timedelta(hours=3), "同意延期"):
            return
        respond_at = due + timedelta(hours=12)  # after the old deadline, within the new one
    elif play == "late_answer":
        respond_at = due + timedelta(hours=8)
    respond_at = max(respond_at, at + timedelta(minutes=1))
    if not step(Action.RESPOND, unit, respond_at, "", text="已现场核查并处理，情况已通过官方渠道"
                "向社会公开回应。", channel="政务微博", link=""):
        return
    step(Action.CLOSE, monitor, at + timedelta(hours=5), "回应到位，予以办结")


def _other_lead(ctx: AppContext, case_id: int) -> str:
    """After a return, the topic's competent department (or the publicity department) leads."""
    with ctx.db.session() as s:
        case = s.get(Case, case_id)
        returned = {a.unit.code for a in case.assignments} if case else set()
        topic = ctx.settings.taxonomy.topic(case.topic or "") if case else None
    candidates = [topic.departments.get("district") if topic else None, "jn-urban", "jn-civil"]
    return next(c for c in candidates if isinstance(c, str) and c and c not in returned)
