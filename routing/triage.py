"""Triage effects of the workflow: withdraw (撤回), dismiss, merge (并案) and split (拆分).

The rules live in ``routing.workflow.RULES``; ``perform_in`` calls ``apply`` inside its
transaction after claiming the case. Merge and split change two cases: the other one is
claimed too (compare-and-set on its version) and gets its own audit row, so the whole change
commits or nothing does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from routing import policy as clock
from routing.cases import is_higher, raise_note
from routing.workflow import (
    Action,
    Actor,
    InvalidTransition,
    NotFound,
    Rule,
    claim,
    monitors,
    notify,
    record,
    units,
)
from store import Case, CaseAction, CaseState

S = CaseState
FINISHED = frozenset({S.CLOSED, S.DISMISSED, S.MERGED})


def apply(session: Session, rule: Rule, case: Case, actor: Actor, note: str,
          data: dict[str, Any], now: datetime, policy: clock.Policy) -> tuple[list[str], str]:
    """The rule's effects on ``case`` (and the other case); returns (recipients, headline)."""
    if rule.action == Action.WITHDRAW:
        return _withdraw(case)
    if rule.action == Action.DISMISS:
        # a withdrawn case dismissed from 待研判: the units it was taken from hear the end
        told = [f"unit:{a.unit_id}" for a in case.assignments if a.state == "withdrawn"]
        return told, "已撤回的案件经研判不予处置，无需处理"
    if rule.action == Action.MERGE:
        return _merge(session, rule, case, actor, note, data, now, policy)
    return _split(session, rule, case, actor, note, data, now, policy)


def lock_in_order(session: Session, case: Case, action: Action, data: dict[str, Any]) -> None:
    """Merge and split write two cases: lock the lower id first, so that two monitors
    merging A into B and B into A at once queue up (one gets Conflict) instead of
    deadlocking on PostgreSQL. SQLite's single writer needs nothing."""
    other = data.get("into") if action == Action.MERGE else case.merged_into_id
    if isinstance(other, int) and not isinstance(other, bool) and 0 < other < case.id:
        session.execute(select(Case.id).where(Case.id == other).with_for_update())


def _withdraw(case: Case) -> tuple[list[str], str]:
    told = units(case, "lead", "co")
    for a in case.assignments:
        if a.active:
            a.active, a.state = False, "withdrawn"
    case.dispatched_at = case.due_sign_at = None
    case.extension_request = {}
    marks = dict(case.sla_marks or {})
    marks.pop("sign", None)
    case.sla_marks = marks
    return told, "案件已被撤回重新研判，无需签收处理"


def _merge(session: Session, rule: Rule, case: Case, actor: Actor, note: str,
           data: dict[str, Any], now: datetime, policy: clock.Policy) -> tuple[list[str], str]:
    target = session.get(Case, int(data["into"]))
    if target is None:
        raise NotFound(f"目标案件 {data['into']} 不存在")
    if target.state in FINISHED:
        raise InvalidTransition(f"目标案件 {target.id} 已结束，不能并入")
    if session.scalar(select(exists().where(Case.merged_into_id == case.id))):
        raise InvalidTransition("已有案件并入本案件，请先拆分后再并案")
    claim(session, target, now)
    # the merged matter is the target's now: a more severe case brings its level and the
    # stricter limits with it (kept after a split: limits are never loosened)
    raised: dict[str, Any] = {}
    if case.severity is not None and is_higher(case.severity, target.severity):
        raised = {"from": target.severity, "to": case.severity}
        clock.raise_severity(target, case.severity, now, policy)
    told = [monitors(case), *units(case, "lead", "co")]
    # what split restores: each assignment's state, kept in the audit row
    data["assignments"] = {str(a.id): a.state for a in case.assignments if a.active}
    data["title"] = target.title[:200]
    for a in case.assignments:
        if a.active:
            a.active, a.state = False, "merged"
    case.merged_into_id = target.id
    case.closed_at = now
    case.extension_request = {}
    level = raise_note(raised["from"], raised["to"]) if raised else ""
    row = record(session, target, "merge_in", rule.id, actor, target.state, now,
                 "；".join(x for x in (note, level) if x),
                 {"case": case.id, "title": case.title[:200],
                  **({"severity": raised} if raised else {})})
    session.flush()
    notify(session, target, f"action:{row.id}", [monitors(target), *units(target, "lead", "co")],
           f"案件 {case.id} 已并入本案，" + (f"{level}，请加快处置" if level else "请一并处置"),
           now, policy, f"并入案件：{case.title[:60]}")
    return told, f"案件已并入案件 {target.id}（{target.title[:30]}），请在该案件中一并处置"


def _split(session: Session, rule: Rule, case: Case, actor: Actor, note: str,
           data: dict[str, Any], now: datetime, policy: clock.Policy) -> tuple[list[str], str]:
    target = session.get(Case, case.merged_into_id) if case.merged_into_id else None
    if target is not None and target.state in (S.CLOSED, S.DISMISSED):
        raise InvalidTransition(f"案件 {target.id} 已办结，不能拆分")
    merge = session.scalar(select(CaseAction).where(
        CaseAction.case_id == case.id, CaseAction.action == str(Action.MERGE))
        .order_by(CaseAction.id.desc()).limit(1))
    if merge is None or not merge.from_state:
        raise InvalidTransition("找不到并案记录，无法拆分")
    restore = (merge.data or {}).get("assignments", {})
    for a in case.assignments:
        if str(a.id) in restore and a.state == "merged":
            a.active, a.state = True, restore[str(a.id)]
    case.state = merge.from_state
    case.merged_into_id = None
    case.closed_at = None
    data["from"] = target.id if target else None
    if target is not None:
        claim(session, target, now)
        row = record(session, target, "split_out", rule.id, actor, target.state, now, note,
                     {"case": case.id, "title": case.title[:200]})
        session.flush()
        notify(session, target, f"action:{row.id}", [monitors(target)],
               f"案件 {case.id} 已从本案拆分恢复", now, policy)
    return ([monitors(case), *units(case, "lead", "co")],
            f"案件已从案件 {data['from']} 拆分恢复，请继续处置")
