"""Notification wording for duty officers (Chinese): what, how severe, where, who, by when."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from store import AssignmentRole, Case, CaseState, Jurisdiction, Unit

SEVERITY_LABELS = {1: "I级 特别重大（红）", 2: "II级 重大（橙）", 3: "III级 较大（黄）",
                   4: "IV级 一般（蓝）"}
STATE_TEXT = {CaseState.NEW: "待研判", CaseState.DISPATCHED: "待签收",
              CaseState.ACKNOWLEDGED: "处置中", CaseState.RESPONDED: "已回应",
              CaseState.CLOSED: "已办结", CaseState.DISMISSED: "不予处置",
              CaseState.RETURNED: "已退回", CaseState.MERGED: "已并案"}


def when(value: datetime | None, tz: tzinfo) -> str:
    return value.astimezone(tz).strftime("%m月%d日 %H:%M") if value else "—"


def one_line(text: str) -> str:
    """Crawled titles may hold newlines and control characters: they would break mail
    headers and robot markdown, so each becomes a single space."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


PLACES_KEY = "yuqing.place_names"  # session.info: jurisdiction names this session looked up


def preload_places(session: Session, codes: set[str]) -> None:
    """Read the names of these jurisdictions for the session at once (a routing batch)."""
    names: dict[str, str | None] = session.info.setdefault(PLACES_KEY, {})
    wanted = sorted(c for c in codes if c not in names)
    for start in range(0, len(wanted), 500):  # bound the IN list
        chunk = wanted[start:start + 500]
        found = {code: name for code, name in session.execute(
            select(Jurisdiction.code, Jurisdiction.name).where(Jurisdiction.code.in_(chunk)))}
        names.update({c: found.get(c) for c in chunk})


def _place_name(session: Session, code: str) -> str | None:
    """The jurisdiction's name; remembered for the session, misses too (a place outside the
    gazetteer would otherwise be queried again for every notice)."""
    names: dict[str, str | None] = session.info.setdefault(PLACES_KEY, {})
    if code not in names:
        place = session.get(Jurisdiction, code)
        names[code] = place.name if place else None
    return names[code]


def render(session: Session, case: Case, headline: str, tz: tzinfo, detail: str = ""
           ) -> tuple[str, str, dict[str, Any]]:
    """(subject, body, payload) for one change of one case."""
    title = one_line(case.title) or f"案件 {case.id}"
    severity = SEVERITY_LABELS.get(case.severity or 0, "未定级")
    place = _place_name(session, case.place_code) if case.place_code else None
    lead = co = ""
    lead_code = ""
    for a in case.assignments:
        if not a.active:
            continue
        unit = session.get(Unit, a.unit_id)
        name = unit.short_name or unit.name if unit else str(a.unit_id)
        if a.role == AssignmentRole.LEAD:
            lead, lead_code = name, unit.code if unit else ""
        elif a.role == AssignmentRole.CO:
            co += ("、" if co else "") + name
    link = f"/cases/{case.id}"
    subject = f"【{severity}】{headline}：{title[:40]}"
    lines = [headline, f"事件：{title}", f"级别：{severity}",
             f"地点：{place or '未识别'}",
             f"主办单位：{lead or '未派发'}" + (f"；协办：{co}" if co else ""),
             f"当前状态：{STATE_TEXT.get(CaseState(case.state), case.state)}"]
    if case.state == CaseState.DISPATCHED and case.due_sign_at:
        lines.append(f"签收时限：{when(case.due_sign_at, tz)}")
    if case.due_first_response_at and case.state in (CaseState.DISPATCHED,
                                                     CaseState.ACKNOWLEDGED):
        lines.append(f"首次权威发布时限：{when(case.due_first_response_at, tz)}")
    if case.due_answer_at:
        lines.append(f"回应时限：{when(case.due_answer_at, tz)}")
    if detail:
        lines.append(detail)
    lines.append(f"查看：{link}")
    payload = {"link": link, "case_id": case.id, "severity": case.severity,
               "state": case.state, "title": title, "lead": lead_code,
               "place": case.place_code,
               "due_sign_at": case.due_sign_at.isoformat() if case.due_sign_at else None,
               "due_answer_at": case.due_answer_at.isoformat() if case.due_answer_at else None}
    return subject, "\n".join(lines), payload
