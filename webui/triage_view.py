"""What the case page and its JSON twin show about triage: merged cases (并案) and the
pending extension request with the unit the SLA counts it in and the deadline it would give."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from routing import policy as clock
from store import Case, Post
from webui.workflow import state_label

CALENDAR_UNITS = {"working": "工作小时", "natural": "小时（自然时间）"}


def extension_unit(severity: int | None, policy: clock.Policy | None = None) -> dict[str, str]:
    """How an extension of a case of this level is counted, for the form's label."""
    pol = clock.current(policy)
    kind = pol.calendar(severity)
    hint = (f"只计工作日 {pol.working_hours_text()}，节假日不计" if kind == "working"
            else "连续计算，含夜间和节假日")
    return {"calendar": kind, "unit": CALENDAR_UNITS[kind], "hint": hint}


def extension_info(c: Case, now: datetime, policy: clock.Policy | None = None
                   ) -> dict[str, Any] | None:
    """The pending request: hours, unit, reason, and the answer deadline if approved."""
    request = c.extension_request or {}
    if not request.get("hours"):
        return None
    pol = clock.current(policy)
    hours = float(request["hours"])
    base = c.due_answer_at or now
    return {**extension_unit(c.severity, pol), "hours": hours,
            "reason": str(request.get("reason", "")), "requested_at": request.get("at"),
            "current_due": base.isoformat(),
            "new_due": pol.add(base, hours, c.severity).astimezone(UTC).isoformat()}


def merge_info(session: Session, c: Case) -> dict[str, Any]:
    target = session.get(Case, c.merged_into_id) if c.merged_into_id else None
    merged = session.scalars(select(Case).where(Case.merged_into_id == c.id)
                             .order_by(Case.id)).all()
    return {
        "merged_into": {"id": target.id, "title": target.title, "url": f"/cases/{target.id}",
                        "state_label": state_label(target.state)} if target else None,
        "merged_cases": [{"id": m.id, "title": m.title, "url": f"/cases/{m.id}",
                          "event_id": m.event_id} for m in merged],
    }


def case_posts(session: Session, c: Case, limit: int = 200) -> list[Post]:
    """The case's posts and those of the cases merged into it, in time order."""
    events = [c.event_id, *session.scalars(select(Case.event_id)
                                           .where(Case.merged_into_id == c.id))]
    return list(session.scalars(
        select(Post).where(Post.event_id.in_(events))
        .options(selectinload(Post.source), selectinload(Post.places))
        .order_by(func.coalesce(Post.published_at, Post.collected_at), Post.id).limit(limit)))
