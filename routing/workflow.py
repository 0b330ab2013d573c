"""The case workflow: one table of named rules, one transition function, one ``perform``.

Every action goes through ``transition`` (which rule applies, or why not) and ``perform`` (one
transaction: compare-and-set on ``Case.version``, the state change, assignments, deadlines,
the CaseAction audit row with its rule id, and the queued notifications). The API is fixed by
WORKFLOW_API.md; the web console codes against it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, exists, false, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from routing import policy as clock
from routing.messages import render
from routing.notify.outbox import enqueue, queue_rows, queue_rows_insert
from routing.unit_lookup import UNITS_KEY
from store import (
    Assignment,
    AssignmentRole,
    Case,
    CaseAction,
    CaseState,
    Database,
    Role,
    Unit,
    utcnow,
)


class Action(StrEnum):
    DISPATCH = "dispatch"
    SIGN = "sign"
    RETURN = "return"
    REASSIGN = "reassign"
    REQUEST_EXTENSION = "request_extension"
    APPROVE_EXTENSION = "approve_extension"
    DENY_EXTENSION = "deny_extension"
    RESPOND = "respond"
    CLOSE = "close"
    REOPEN = "reopen"
    SUPERVISE = "supervise"
    DISMISS = "dismiss"
    WITHDRAW = "withdraw"
    MERGE = "merge"
    SPLIT = "split"


ACTION_LABELS: dict[Action, str] = {
    Action.DISPATCH: "派发", Action.SIGN: "签收", Action.RETURN: "退回",
    Action.REASSIGN: "转办", Action.REQUEST_EXTENSION: "申请延期",
    Action.APPROVE_EXTENSION: "批准延期", Action.DENY_EXTENSION: "驳回延期",
    Action.RESPOND: "回应", Action.CLOSE: "办结", Action.REOPEN: "重办",
    Action.SUPERVISE: "督办", Action.DISMISS: "不予处置", Action.WITHDRAW: "撤回",
    Action.MERGE: "并案", Action.SPLIT: "拆分"}
STATE_LABELS: dict[CaseState, str] = {
    CaseState.NEW: "待研判", CaseState.DISPATCHED: "待签收", CaseState.ACKNOWLEDGED: "处置中",
    CaseState.RESPONDED: "已回应", CaseState.CLOSED: "已办结", CaseState.DISMISSED: "不予处置",
    CaseState.RETURNED: "已退回", CaseState.MERGED: "已并案"}
# history entries written by the system rather than by an Action
HISTORY_LABELS: dict[str, str] = {
    **{str(a): label for a, label in ACTION_LABELS.items()},
    "open": "生成案件", "update": "事件更新", "severity": "级别上调", "remind": "临期提醒",
    "overdue": "超时", "escalate": "超时升级", "merge_in": "并入案件", "split_out": "拆出案件"}

SYSTEM = "系统"


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    role: Role
    unit_id: int | None
    name: str


class WorkflowError(Exception):
    """Message in Chinese, safe to show."""


class InvalidTransition(WorkflowError):
    pass


class NotPermitted(WorkflowError):
    pass


class Conflict(WorkflowError):
    pass


class BadRequest(WorkflowError):
    pass


class NotFound(WorkflowError):
    pass


SYSTEM_ACTOR = Actor(user_id=None, role=Role.ADMIN, unit_id=None, name=SYSTEM)

S = CaseState
MONITORS = frozenset({Role.MONITOR, Role.ADMIN})


@dataclass(frozen=True)
class Rule:
    id: str
    action: Action
    states: frozenset[CaseState]
    roles: frozenset[Role]
    to: CaseState | None  # None: unchanged (SPLIT: restored from the merge's audit row)
    unit: str = ""  # "lead" / "co": the actor's unit must hold that assignment
    reason_required: bool = False


def _r(rule_id: str, action: Action, states: set[CaseState], roles: frozenset[Role] | set[Role],
       to: CaseState | None, unit: str = "", reason: bool = False) -> Rule:
    return Rule(rule_id, action, frozenset(states), frozenset(roles), to, unit, reason)


RULES: tuple[Rule, ...] = (
    _r("DISPATCH-1", Action.DISPATCH, {S.NEW}, MONITORS, S.DISPATCHED),
    _r("DISPATCH-2", Action.DISPATCH, {S.RETURNED}, MONITORS, S.DISPATCHED),
    _r("SIGN-1", Action.SIGN, {S.DISPATCHED}, {Role.UNIT}, S.ACKNOWLEDGED, "lead"),
    _r("SIGN-2", Action.SIGN, {S.DISPATCHED, S.ACKNOWLEDGED, S.RESPONDED}, {Role.UNIT}, None,
       "co"),
    _r("RETURN-1", Action.RETURN, {S.DISPATCHED, S.ACKNOWLEDGED}, {Role.UNIT}, S.RETURNED,
       "lead", reason=True),
    _r("RETURN-2", Action.RETURN, {S.DISPATCHED, S.ACKNOWLEDGED}, {Role.UNIT}, None, "co",
       reason=True),
    _r("REASSIGN-1", Action.REASSIGN, {S.DISPATCHED, S.ACKNOWLEDGED, S.RETURNED}, MONITORS,
       S.DISPATCHED),
    _r("EXTEND-1", Action.REQUEST_EXTENSION, {S.ACKNOWLEDGED}, {Role.UNIT}, None, "lead",
       reason=True),
    _r("EXTEND-2", Action.APPROVE_EXTENSION, {S.ACKNOWLEDGED}, MONITORS, None),
    _r("EXTEND-3", Action.DENY_EXTENSION, {S.ACKNOWLEDGED}, MONITORS, None, reason=True),
    _r("RESPOND-1", Action.RESPOND, {S.ACKNOWLEDGED}, {Role.UNIT}, S.RESPONDED, "lead"),
    _r("RESPOND-2", Action.RESPOND, {S.ACKNOWLEDGED, S.RESPONDED}, {Role.UNIT}, None, "co"),
    _r("CLOSE-1", Action.CLOSE, {S.RESPONDED}, MONITORS, S.CLOSED),
    _r("REOPEN-1", Action.REOPEN, {S.RESPONDED}, MONITORS, S.ACKNOWLEDGED, reason=True),
    _r("REOPEN-2", Action.REOPEN, {S.CLOSED}, MONITORS, S.ACKNOWLEDGED, reason=True),
    _r("REOPEN-3", Action.REOPEN, {S.DISMISSED}, MONITORS, S.NEW, reason=True),
    _r("SUPERVISE-1", Action.SUPERVISE, {S.DISPATCHED, S.ACKNOWLEDGED, S.RESPONDED, S.RETURNED},
       MONITORS | {Role.LEADER}, None),
    _r("DISMISS-1", Action.DISMISS, {S.NEW, S.RETURNED}, MONITORS, S.DISMISSED, reason=True),
    # triage (routing/triage.py): withdraw an unsigned dispatch, merge (并案) and split back
    _r("WITHDRAW-1", Action.WITHDRAW, {S.DISPATCHED}, MONITORS, S.NEW, reason=True),
    _r("MERGE-1", Action.MERGE, {S.NEW, S.DISPATCHED, S.ACKNOWLEDGED, S.RESPONDED, S.RETURNED},
       MONITORS, S.MERGED),
    _r("SPLIT-1", Action.SPLIT, {S.MERGED}, MONITORS, None),
)


def _relation(case: Case, actor: Actor) -> str:
    """The actor's unit's active assignment on the case: "lead", "co", or ""."""
    if actor.unit_id is None:
        return ""
    for a in case.assignments:
        if a.unit_id == actor.unit_id and a.active and a.role in ("lead", "co"):
            return str(a.role)
    return ""


def transition(case: Case, action: Action, actor: Actor, *, now: datetime,
               policy: clock.Policy, note: str = "", data: dict[str, Any] | None = None,
               check_input: bool = True) -> Rule:
    """The rule that allows ``actor`` to do ``action`` on ``case`` now, or an error saying why."""
    label = ACTION_LABELS[action]
    candidates = [r for r in RULES if r.action == action]
    if not any(Role(actor.role) in r.roles for r in candidates):
        raise NotPermitted(f"您的角色无权{label}")
    state = CaseState(case.state)
    relation = _relation(case, actor) if actor.role == Role.UNIT else ""
    mine = [r for r in candidates
            if Role(actor.role) in r.roles and (not r.unit or r.unit == relation)]
    if not mine:
        if not relation:
            raise NotPermitted("本单位不是该案件的承办单位")
        raise NotPermitted(f"{'主办' if relation == 'lead' else '协办'}单位不能{label}")
    rule = next((r for r in mine if state in r.states), None)
    if rule is None:
        if state == CaseState.CLOSED and action == Action.SIGN:
            raise InvalidTransition("案件已办结，签收无效，也不会重新打开案件")
        raise InvalidTransition(f"案件当前为「{STATE_LABELS[state]}」，不能{label}")
    _guard(rule, case, actor, now, policy)
    if check_input:
        _check_input(rule, case, note, data or {}, policy)
    return rule


def _guard(rule: Rule, case: Case, actor: Actor, now: datetime, policy: clock.Policy) -> None:
    if rule.action == Action.SIGN:
        mine = next(a for a in case.assignments if a.unit_id == actor.unit_id)
        if mine.signed_at is not None:
            raise InvalidTransition("本单位已签收")
    if rule.id == "RETURN-1":
        start = case.dispatched_at or case.created_at
        if now > start + policy.return_window:
            hours = policy.return_window.total_seconds() / 3600
            raise InvalidTransition(f"已超过退回时限（派发后 {hours:g} 小时内），请申请转办或延期")
    if rule.id == "EXTEND-1":
        if case.extension_request:
            raise InvalidTransition("已有待审批的延期申请")
        if case.extensions >= policy.max_extensions:
            raise InvalidTransition(f"延期次数已达上限（{policy.max_extensions} 次）")
    if rule.id == "WITHDRAW-1" and any(a.active and a.signed_at for a in case.assignments):
        raise InvalidTransition("承办单位已签收，不能撤回，请改用转办")
    if rule.action in (Action.APPROVE_EXTENSION, Action.DENY_EXTENSION) \
            and not case.extension_request:
        raise InvalidTransition("没有待审批的延期申请")


def _check_input(rule: Rule, case: Case, note: str, data: dict[str, Any],
                 policy: clock.Policy) -> None:
    if rule.reason_required and not note.strip():
        raise BadRequest(f"{ACTION_LABELS[rule.action]}必须填写理由")
    if rule.action in (Action.DISPATCH, Action.REASSIGN):
        lead = data.get("lead")
        if not isinstance(lead, str) or not lead:
            raise BadRequest("请选择主办单位")
        co = data.get("co", [])
        if not isinstance(co, list) or not all(isinstance(c, str) for c in co):
            raise BadRequest("协办单位格式不正确")
        if lead in co:
            raise BadRequest("主办单位不能同时作为协办单位")
    if rule.action == Action.REQUEST_EXTENSION:
        hours = data.get("hours")
        if isinstance(hours, bool) or not isinstance(hours, int | float) \
                or not 0 < hours <= policy.max_extension_hours:
            raise BadRequest(f"延期时长应在 0 到 {policy.max_extension_hours:g} 小时之间")
    if rule.action == Action.RESPOND and not str(data.get("text", "")).strip():
        raise BadRequest("请填写回应内容")
    if rule.action == Action.MERGE:
        into = data.get("into")
        if isinstance(into, bool) or not isinstance(into, int) or not 0 < into < 2**63:
            raise BadRequest("请填写要并入的案件编号")
        if into == case.id:
            raise BadRequest("不能把案件并入它自己")


def allowed_actions(case: Case, actor: Actor, *, now: datetime | None = None,
                    policy: clock.Policy | None = None) -> list[Action]:
    """What this actor may do now (for buttons); perform() re-checks everything."""
    when = now or utcnow()
    out = []
    for action in Action:
        try:
            transition(case, action, actor, now=when, policy=clock.current(policy),
                       check_input=False)
        except WorkflowError:
            continue
        out.append(action)
    return out


def visible_cases(actor: Actor) -> Select[tuple[Case]]:
    """Authorization in the query: unit users see only cases their unit is assigned to now.

    A unit whose assignment ended (reassigned away, removed, or returned by itself) no longer
    sees the case at all: it must never read what happens after it left, and the case's
    history stays with the monitors (README, "Who sees which case").
    """
    query = select(Case)
    if actor.role == Role.UNIT:
        if actor.unit_id is None:
            return query.where(false())
        query = query.where(exists().where(Assignment.case_id == Case.id,
                                           Assignment.unit_id == actor.unit_id,
                                           Assignment.active.is_(True)))
    return query


def needs_attention() -> Select[tuple[Case]]:
    """Returned or overdue cases: the monitors' own queue, so nothing ends as 都管都不管."""
    live = [S.DISPATCHED, S.ACKNOWLEDGED, S.RESPONDED]
    return (select(Case)
            .where(or_(Case.state == S.RETURNED,
                       (Case.overdue.is_(True)) & Case.state.in_(live)))
            .order_by(Case.severity, Case.updated_at))


# ---- performing an action ------------------------------------------------------------------

_OPENED_KEY = "routing.opened_cases"


def opened_here(session: Session, case: Case) -> None:
    """Note that ``case`` was inserted by this session's current transaction."""
    tx = session.get_transaction()
    held = session.info.get(_OPENED_KEY)
    if held is None or held[0] is not tx:
        held = session.info[_OPENED_KEY] = (tx, set())
    held[1].add(case.id)


def claim(session: Session, case: Case, now: datetime) -> None:
    """Compare-and-set on the version: the first write of every case change.

    Of two concurrent changes the second finds the version moved and gets Conflict; on
    PostgreSQL it waits for the first to commit, on SQLite the write lock serializes them.
    """
    if case in session.new:
        session.flush()  # the row must exist to be claimed
    held = session.info.get(_OPENED_KEY)
    if held is not None and held[0] is session.get_transaction() and case.id in held[1]:
        # inserted by this very transaction: no other writer can see the row, so the new
        # version goes with the next flush instead of a compare-and-set of its own
        case.version = case.version + 1
        case.updated_at = now
        return
    # the compare-and-set needs no other pending change written first (they go with the
    # transaction's next flush): one flush less per case change
    with session.no_autoflush:
        won = session.execute(
            update(Case).where(Case.id == case.id, Case.version == case.version)
            .values(version=case.version + 1, updated_at=now)
            .execution_options(synchronize_session=False)).rowcount
    if won != 1:
        raise Conflict("案件已被他人更新，请刷新后重试")
    set_committed_value(case, "version", case.version + 1)
    set_committed_value(case, "updated_at", now)


def record(session: Session, case: Case, action: str, rule: str, actor: Actor,
           from_state: str | None, now: datetime, note: str = "",
           data: dict[str, Any] | None = None) -> CaseAction:
    row = CaseAction(case_id=case.id, action=action, rule=rule, actor_user_id=actor.user_id,
                     actor_unit_id=actor.unit_id, actor_name=actor.name or SYSTEM,
                     from_state=from_state, to_state=case.state, note=note, data=data or {},
                     at=now)
    session.add(row)
    return row


def monitors(case: Case) -> str:
    return f"monitors:{case.coordinator_unit_id or 0}"


def units(case: Case, *roles: str, kind: str = "unit") -> list[str]:
    return [f"{kind}:{a.unit_id}" for a in case.assignments if a.active and a.role in roles]


_LATER_KEY = "routing.notices_later"


@contextmanager
def notices_later(session: Session) -> Iterator[None]:
    """Inside: ``notify`` renders each notice at once (the case as it is at that point) but
    its rows are inserted at the end, after one flush that gives every audit row of the block
    its id, with one INSERT for all of them. A routing batch opens dozens of cases; one flush
    and one INSERT per notice cost more than the rest of the case change. Leave the block
    before the transaction commits; on an error nothing is queued (the transaction rolls
    back anyway)."""
    later: list[tuple[Any, ...]] = []
    session.info[_LATER_KEY] = later
    try:
        yield
    finally:
        session.info.pop(_LATER_KEY, None)
    if later:
        session.flush()  # the audit rows the keys name get their ids, all in one INSERT
        rows = []
        for case_id, change, recipients, subject, body, payload, now, not_before in later:
            rows += queue_rows(case_id=case_id, change=change() if callable(change) else change,
                               recipients=recipients, subject=subject, body=body,
                               payload=payload, now=now, not_before=not_before)
        queue_rows_insert(session, rows)


def defers_notices(session: Session) -> bool:
    return _LATER_KEY in session.info


def notify(session: Session, case: Case, change: str | Callable[[], str], recipients: list[str],
           headline: str, now: datetime, policy: clock.Policy, detail: str = "",
           not_before: datetime | None = None, *, counted: bool = False) -> int:
    """Queue this change's notice to ``recipients``; returns how many rows were new.

    ``change`` may be a function giving the key part once the audit row it names has its id.
    Inside ``notices_later`` the rows are inserted at the block's end and the return is 0,
    unless ``counted`` asks for the count now (the caller decides by it)."""
    if case.id is None:
        session.flush()  # the notification refers to the case row
    subject, body, payload = render(session, case, headline, policy.tz, detail)
    later = session.info.get(_LATER_KEY)
    if later is not None and not counted:
        later.append((case.id, change, list(recipients), subject, body, payload, now,
                      not_before))
        return 0
    # nothing else pending is needed by these rows: it goes with the transaction's next flush
    if callable(change):
        session.flush()  # the audit row the key names
        change = change()
    with session.no_autoflush:
        return enqueue(session, case_id=case.id, change=change, recipients=recipients,
                       subject=subject, body=body, payload=payload, now=now,
                       not_before=not_before)


def _resolve_units(session: Session, codes: list[str], strict: bool = True) -> list[Unit]:
    known: dict[str, Unit] | None = session.info.get(UNITS_KEY)
    if known is not None:
        found = {c: known[c] for c in codes if c in known}
    else:
        found = {u.code: u for u in session.scalars(select(Unit).where(Unit.code.in_(codes)))}
    missing = [c for c in codes if c not in found or not found[c].active]
    if not strict:  # units only informed: one that left the configuration is skipped
        return [found[c] for c in codes if c not in missing]
    if missing:
        raise BadRequest(f"未知或已停用的单位：{'、'.join(missing)}")
    return [found[c] for c in codes]


def assign(session: Session, case: Case, lead: str, co: list[str], informed: list[str],
           now: datetime) -> None:
    """Make these the case's assignments; earlier ones not named are deactivated."""
    wanted: dict[int, str] = {}
    for role, codes in ((AssignmentRole.INFORMED, informed), (AssignmentRole.CO, co),
                        (AssignmentRole.LEAD, [lead])):
        strict = role != AssignmentRole.INFORMED
        for unit in _resolve_units(session, [c for c in codes if c], strict):
            wanted[unit.id] = role
    existing = {a.unit_id: a for a in case.assignments}
    for unit_id, a in existing.items():
        if unit_id not in wanted and a.active:
            a.active, a.state = False, "removed"
    for unit_id, role in wanted.items():
        a = existing.get(unit_id)
        if a is None:
            a = Assignment(case_id=case.id, unit_id=unit_id)
            case.assignments.append(a)
        a.role, a.state, a.active = role, "pending", True
        a.assigned_at, a.signed_at, a.responded_at = now, None, None


def _dispatch(session: Session, case: Case, data: dict[str, Any], now: datetime,
              policy: clock.Policy) -> None:
    informed = list((case.routing or {}).get("informed", []))
    assign(session, case, data["lead"], list(data.get("co", [])),
           [c for c in informed if c != data["lead"] and c not in data.get("co", [])], now)
    case.dispatched_at = now
    case.extension_request = {}  # a request belongs to the unit that made it
    case.due_sign_at = clock.sign_deadline(case.severity, now, policy, case.urgent)
    if case.due_answer_at is None:
        dl = clock.answer_deadlines(case.severity, case.created_at, policy, case.urgent)
        case.due_first_response_at = case.due_first_response_at or dl["first_response"]
        case.due_press_at = case.due_press_at or dl["press"]
        case.due_answer_at = dl["answer"]
    marks = dict(case.sla_marks or {})
    marks.pop("sign", None)
    case.sla_marks = marks


def _apply(session: Session, rule: Rule, case: Case, actor: Actor, note: str,
           data: dict[str, Any], now: datetime, policy: clock.Policy) -> tuple[list[str], str]:
    """The rule's effects; returns (recipients, headline) of the notification to queue."""
    mine = next((a for a in case.assignments if a.unit_id == actor.unit_id), None)
    action = rule.action
    if action in (Action.DISPATCH, Action.REASSIGN):
        _dispatch(session, case, data, now, policy)
        word = "新派发" if action == Action.DISPATCH else "转办"
        return units(case, "lead", "co"), f"舆情案件{word}，请及时签收"
    if action == Action.SIGN:
        assert mine is not None
        mine.state, mine.signed_at = "signed", now
        return [monitors(case)], "承办单位已签收"
    if action == Action.RETURN:
        assert mine is not None
        mine.active, mine.state = False, "returned"
        if rule.id == "RETURN-2":
            return [monitors(case), *units(case, "lead")], "协办单位退回协办，请知悉"
        return [monitors(case)], "承办单位退回案件，请重新研判"
    if action == Action.REQUEST_EXTENSION:
        case.extension_request = {"hours": float(data["hours"]), "reason": note,
                                  "unit_id": actor.unit_id, "at": now.isoformat()}
        return [monitors(case)], f"申请延期 {float(data['hours']):g} 小时，请审批"
    if action == Action.APPROVE_EXTENSION:
        hours = float(case.extension_request["hours"])
        base = case.due_answer_at or now
        case.due_answer_at = policy.add(base, hours, case.severity)
        case.extensions += 1
        case.extension_request = {}
        marks = dict(case.sla_marks or {})
        start = marks.pop("answer", {}).get("start")  # the reminder is due again; the round's
        if start:                                     # start stays
            marks["answer"] = {"start": start}
        case.sla_marks = marks
        return units(case, "lead"), f"延期申请已批准（延长 {hours:g} 小时）"
    if action == Action.DENY_EXTENSION:
        case.extension_request = {}
        return units(case, "lead"), "延期申请被驳回"
    if action == Action.RESPOND:
        assert mine is not None
        mine.state, mine.responded_at = "responded", now
        if rule.to != S.RESPONDED:
            return [monitors(case), *units(case, "lead")], "协办单位已报送处置情况"
        case.responded_at = now
        case.extension_request = {}
        return [monitors(case)], "承办单位已回应，请审核办结"
    if action == Action.CLOSE:
        case.closed_at = now
        return units(case, "lead", "co"), "案件已办结"
    if action == Action.REOPEN:
        if rule.to == S.ACKNOWLEDGED:
            case.responded_at = case.closed_at = None
            # the first round's response met its 首次权威发布 limit: only the new answer runs
            # (a stale limit would mark the case overdue at once and drive the SLA sweep)
            case.due_first_response_at = None
            case.due_answer_at = clock.answer_deadlines(case.severity, now, policy,
                                                        case.urgent)["answer"]
            marks = dict(case.sla_marks or {})
            marks.pop("first_response", None)
            marks["answer"] = {"start": now.isoformat()}  # the new round's reminder runs from now
            case.sla_marks = marks
            return units(case, "lead", "co"), "案件重办，请重新处置并回应"
        return [monitors(case)], "不予处置的案件已恢复待研判"
    if action == Action.SUPERVISE:
        case.supervised = True
        return (units(case, "lead") + units(case, "lead", kind="leader"),
                f"案件被督办（{actor.name}）")
    if action in (Action.WITHDRAW, Action.MERGE, Action.SPLIT, Action.DISMISS):
        # imported here: routing.triage builds on this module's primitives
        from routing import triage
        return triage.apply(session, rule, case, actor, note, data, now, policy)
    return [], ""


def perform(db: Database, case_id: int, action: Action, actor: Actor, *, note: str = "",
            data: dict[str, Any] | None = None, expected_version: int | None = None,
            now: datetime | None = None, policy: clock.Policy | None = None) -> CaseAction:
    """One transaction: compare-and-set on Case.version, the state change, assignments,
    deadlines and the CaseAction audit row (with its rule id), plus queued notifications."""
    when = now or utcnow()
    pol = clock.current(policy)
    try:
        action = Action(action)
    except ValueError as exc:
        raise BadRequest(f"未知的操作 {action!r}") from exc
    data = dict(data or {})
    note = (note or "").strip()
    try:  # the audit row stores data as JSON: refuse what cannot be stored
        json.dumps(data)
    except (TypeError, ValueError) as exc:
        raise BadRequest("提交的数据格式不正确") from exc
    with db.session() as session:
        case = session.get(Case, case_id)
        if case is None:
            raise NotFound("案件不存在")
        if expected_version is not None and case.version != expected_version:
            raise Conflict("案件已被他人更新，请刷新后重试")
        if action in (Action.MERGE, Action.SPLIT):
            from routing.triage import lock_in_order
            lock_in_order(session, case, action, data)
        row = perform_in(session, case, action, actor, note=note, data=data, now=when,
                         policy=pol)
    return row


def perform_in(session: Session, case: Case, action: Action, actor: Actor, *, note: str,
               data: dict[str, Any], now: datetime, policy: clock.Policy) -> CaseAction:
    """``perform`` inside a caller's transaction (used by auto-dispatch on case creation)."""
    rule = transition(case, action, actor, now=now, policy=policy, note=note, data=data)
    claim(session, case, now)
    from_state = case.state
    recipients, headline = _apply(session, rule, case, actor, note, data, now, policy)
    if rule.to is not None:
        case.state = rule.to
    clock.reschedule(case, policy, now)
    row = record(session, case, str(action), rule.id, actor, from_state, now, note, data)
    if not defers_notices(session):
        session.flush()  # the notices' keys name the audit row (deferred: one flush for all)
    if recipients:
        detail = f"说明：{note}" if note else ""
        notify(session, case, lambda: f"action:{row.id}", recipients, headline, now, policy,
               detail)
    informed = units(case, "informed")
    if action in (Action.DISPATCH, Action.REASSIGN) and informed:
        notify(session, case, lambda: f"action:{row.id}:informed", informed,
               "舆情通报（供参考，无需签收）", now, policy)
    return row
