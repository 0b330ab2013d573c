"""Turn cases, posts and actions into plain dicts: the JSON API returns them, pages render them."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from routing import policy
from routing.unit_tasks import UnitTask, unit_task
from store import Assignment, Case, CaseAction, Jurisdiction, Post, Source, Unit, utcnow
from webui import triage_view
from webui.accounts import Viewer
from webui.workflow import (
    SEVERITY_COLORS,
    SEVERITY_LABELS,
    action_label,
    allowed_actions,
    state_label,
)

# built once and run on the session's connection (see queries._MARKER)
_PLACES = select(Jurisdiction.code, Jurisdiction.name)
_UNITS = select(Unit.id, Unit.code, Unit.name, Unit.short_name)


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


class Names:
    """Display names for topics, places and units, read once per request."""

    def __init__(self, session: Session):
        self.topics: dict[str, str] = current_app.config.get("YUQING_TOPICS", {})
        self.places = dict(session.connection().execute(_PLACES).all())
        self._session = session
        self._units: dict[int, Any] | None = None

    @property
    def units(self) -> dict[int, Any]:
        """id -> row with id, code, name and short_name; read on first use only (queue rows
        carry their own units, and a Unit's duties and contacts are JSON nobody shows here)."""
        if self._units is None:
            self._units = {u.id: u for u in self._session.connection().execute(_UNITS)}
        return self._units

    def topic(self, key: str | None) -> str:
        return self.topics.get(key or "", key or "未分类")

    def place(self, code: str | None) -> str:
        return self.places.get(code or "", code or "未定位")


def _unit(unit: Unit | None) -> dict[str, Any] | None:
    if unit is None:
        return None
    return {"id": unit.id, "code": unit.code, "name": unit.short_name or unit.name}


def _lead(c: Any) -> Any:
    return next((a for a in c.assignments if a.role == "lead" and a.active), None)


def _next_due(c: Any) -> datetime | None:
    if c.state not in ("new", "dispatched", "acknowledged", "returned"):
        return None
    return c.due_sign_at if c.state == "dispatched" else (c.due_first_response_at
                                                          or c.due_answer_at)


def case_summary(c: Any, names: Names) -> dict[str, Any]:
    """A queue row: ``c`` is a Case or a ``queries.CaseRow`` (the same attributes)."""
    lead = _lead(c)
    due = _next_due(c)
    return {
        "id": c.id, "title": c.title, "state": c.state, "state_label": state_label(c.state),
        "severity": c.severity, "severity_label": SEVERITY_LABELS.get(c.severity or 0, "未分级"),
        "severity_color": SEVERITY_COLORS.get(c.severity or 0, "grey"),
        "topic": c.topic, "topic_name": names.topic(c.topic),
        "place_code": c.place_code, "place_name": names.place(c.place_code),
        "urgent": c.urgent, "overdue": c.overdue, "supervised": c.supervised,
        "extension_pending": bool((c.extension_request or {}).get("hours")),
        "lead_unit": _unit(lead.unit) if lead else None,
        "co_units": [_unit(a.unit) for a in c.assignments if a.role == "co" and a.active],
        "next_due_at": iso(due), "due_sign_at": iso(c.due_sign_at),
        "due_first_response_at": iso(c.due_first_response_at),
        "due_press_at": iso(c.due_press_at), "due_answer_at": iso(c.due_answer_at),
        "post_count": c.event.post_count if c.event else 0,
        "version": c.version, "created_at": iso(c.created_at), "updated_at": iso(c.updated_at),
        "url": f"/cases/{c.id}",
    }


def queue_row_key(c: Any, names: Names) -> tuple[Any, ...]:
    """What a queue page's row shows of ``c``, read as ``case_summary`` reads it (the same
    helpers): the key of the row's cached HTML, so a case that changed in anything shown
    misses the cache. Its order is ``QUEUE_ROW_FIELDS``; a test holds the two together."""
    lead = _lead(c)
    unit = lead.unit if lead else None
    severity = c.severity or 0
    return (c.id, c.title, state_label(c.state), SEVERITY_LABELS.get(severity, "未分级"),
            SEVERITY_COLORS.get(severity, "grey"), names.topic(c.topic), names.place(c.place_code),
            c.urgent, c.overdue, c.supervised, bool((c.extension_request or {}).get("hours")),
            (unit.short_name or unit.name) if unit else None, iso(_next_due(c)),
            c.event.post_count if c.event else 0)


# the case_summary fields in queue_row_key's order ("lead_unit" stands for its name)
QUEUE_ROW_FIELDS = ("id", "title", "state_label", "severity_label", "severity_color",
                    "topic_name", "place_name", "urgent", "overdue", "supervised",
                    "extension_pending", "lead_unit", "next_due_at", "post_count")


ROLE_LABELS = {"lead": "主办", "co": "协办", "informed": "通报"}


def unit_task_dict(a: Assignment, task: UnitTask) -> dict[str, Any]:
    """The viewing unit's own part: its role, group, the step it owes and the deadline that
    still applies to it (the sign limit stops once it signed)."""
    return {"role": a.role, "role_label": ROLE_LABELS.get(a.role, a.role),
            "group": str(task.group), "group_label": task.label,
            "step": task.step, "step_label": task.step_label,
            "due_kind": task.due_kind, "due_label": task.due_label, "due_at": iso(task.due_at),
            "reopened": task.reopened, "signed_at": iso(a.signed_at),
            "responded_at": iso(a.responded_at)}


def my_card(c: Case, a: Assignment, task: UnitTask, names: Names) -> dict[str, Any]:
    return {**case_summary(c, names), "mine": unit_task_dict(a, task)}


DEADLINES = (("due_sign_at", "sign", "签收时限"), ("due_first_response_at", "first_response",
                                                  "首次回应时限"),
             ("due_press_at", "press", "新闻发布时限"), ("due_answer_at", "answer", "答复时限"))


def deadline_rows(c: Case, mine: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The case's limits, each running (with a countdown) or stopped with the reason.

    For a unit its own task decides (``mine``): the sign limit stops once it signed, the
    answer limits once it responded, the first-response and press limits belong to the lead's
    first cycle. For everyone else the case state decides, as the SLA sweep does.
    """
    out = []
    for key, kind, label in DEADLINES:
        at = getattr(c, key)
        if at is None:
            continue
        if c.state in ("closed", "dismissed", "merged"):
            running, note = False, {"closed": "已办结", "dismissed": "不予处置",
                                    "merged": "已并案"}[c.state]
        elif mine is not None:
            running, note = _runs_for_unit(c, kind, mine)
        elif kind == "sign":
            running = c.state == "dispatched"
            note = "已签收，停止计时" if c.state in ("acknowledged", "responded") else "未在承办中"
        else:
            running = c.state in ("dispatched", "acknowledged")
            note = "已回应" if c.state == "responded" else "未在承办中"
        out.append({"kind": kind, "label": label, "at": iso(at), "running": running,
                    "note": "" if running else note,
                    "next": bool(mine and mine["due_kind"] == kind)})
    return out


def _runs_for_unit(c: Case, kind: str, mine: dict[str, Any]) -> tuple[bool, str]:
    if c.state not in ("dispatched", "acknowledged", "responded"):
        return False, "未在承办中"
    if kind == "sign":
        return (True, "") if mine["step"] == "sign" else (False, "已签收，停止计时")
    if not mine["step"]:
        return False, "本单位已回应" if mine["group"] == "answered" else "无需回应"
    if kind in ("first_response", "press") and (mine["role"] != "lead" or mine["reopened"]):
        return False, "本轮不适用" if mine["reopened"] else "由主办单位负责"
    return True, ""


def post_dict(p: Post) -> dict[str, Any]:
    return {
        "id": p.id, "title": p.title, "text": p.text, "url": p.url, "author": p.author,
        "source": p.source.name if p.source else "", "source_key": p.source.key if p.source else "",
        "published_at": iso(p.published_at), "collected_at": iso(p.collected_at),
        "reposts": p.reposts, "comments": p.comments, "likes": p.likes,
        "topic": p.topic, "sentiment": p.sentiment, "severity": p.severity,
        "places": [{"code": pl.code, "name": pl.name} for pl in p.places],
    }


def action_dict(a: CaseAction, names: Names) -> dict[str, Any]:
    unit = names.units.get(a.actor_unit_id or -1)
    return {"id": a.id, "action": a.action, "label": action_label(a.action), "rule": a.rule,
            "actor": a.actor_name or "系统", "actor_unit": _unit(unit),
            "from_state": a.from_state, "to_state": a.to_state,
            "to_state_label": state_label(a.to_state) if a.to_state else None,
            "note": a.note, "data": a.data, "at": iso(a.at)}


def reasons(post: Post | None) -> dict[str, list[str]]:
    """The analysis reasons, by step, from the stored Analysis dict (whatever parts exist)."""
    if post is None or not isinstance(post.analysis, dict):
        return {}
    a = post.analysis
    out: dict[str, list[str]] = {}

    def texts(value: Any) -> list[str]:
        return [str(v) for v in value] if isinstance(value, list) else []

    for key, label in (("topic", "领域"), ("sentiment", "情感")):
        if isinstance(a.get(key), dict):
            out[label] = texts(a[key].get("reasons"))
    severity = a.get("severity")
    if isinstance(severity, dict):
        out["预警级别"] = [f"{f.get('reason', '')}（+{f.get('contribution', 0)}）"
                       for f in severity.get("factors", []) if isinstance(f, dict)]
    places = a.get("places")
    if isinstance(places, list):
        out["属地"] = [f"{p.get('name', '')}：{'；'.join(texts(p.get('reasons')))}"
                     for p in places if isinstance(p, dict)]
    event = a.get("event")
    if isinstance(event, dict):
        out["事件归并"] = texts(event.get("reasons"))
    return {k: v for k, v in out.items() if v}


def trend(c: Case, posts: list[Post]) -> list[list[Any]]:
    """Posts per hour: the event's stored trend, else counted from its posts."""
    stored = c.event.trend if c.event and isinstance(c.event.trend, dict) else {}
    if stored:
        return [[hour, n] for hour, n in sorted(stored.items())]
    hours = Counter((p.published_at or p.collected_at).replace(minute=0, second=0,
                                                                microsecond=0).isoformat()
                    for p in posts)
    return [[hour, n] for hour, n in sorted(hours.items())]


def viewer_task(c: Case, viewer: Viewer, now: datetime) -> dict[str, Any] | None:
    """A unit viewer's own part of the case (None for other roles)."""
    a = next((a for a in c.assignments if a.active and a.unit_id == viewer.unit_id), None)
    if viewer.role != "unit" or a is None:
        return None
    reopens = [x.at for x in c.actions if x.action == "reopen" and x.to_state == "acknowledged"]
    return unit_task_dict(a, unit_task(c, a, now=now, reopened_at=max(reopens, default=None),
                                       soon_fraction=policy.current().remind_fraction))


def case_detail(session: Session, c: Case, posts: list[Post], viewer: Viewer,
                now: datetime | None = None, names: Names | None = None) -> dict[str, Any]:
    names = names or Names(session)
    mine = viewer_task(c, viewer, now or utcnow())
    first = posts[0] if posts else None
    first_source = session.get(Source, c.event.first_source_id) if (
        c.event and c.event.first_source_id) else (first.source if first else None)
    out = case_summary(c, names)
    out.update({
        "event": {"id": c.event_id, "title": c.event.title if c.event else "",
                  "summary": c.event.summary if c.event else "",
                  "keywords": c.event.keywords if c.event else [],
                  "first_seen_at": iso(c.event.first_seen_at) if c.event else None,
                  "source_count": c.event.source_count if c.event else 0},
        "first_source": {"name": first_source.name, "key": first_source.key,
                         "url": first.url if first else ""} if first_source else None,
        "posts": [post_dict(p) for p in posts],
        "analysis": {"topic": names.topic(c.topic), "severity": c.severity,
                     "reasons": reasons(first)},
        "routing": c.routing or {},
        "assignments": [{"unit": _unit(a.unit), "role": a.role, "state": a.state,
                         "active": a.active, "assigned_at": iso(a.assigned_at),
                         "signed_at": iso(a.signed_at), "responded_at": iso(a.responded_at)}
                        for a in c.assignments],
        "history": [action_dict(a, names) for a in c.actions],
        "trend": trend(c, posts),
        "escalation_level": c.escalation_level, "extensions": c.extensions,
        "dispatched_at": iso(c.dispatched_at), "responded_at": iso(c.responded_at),
        "closed_at": iso(c.closed_at),
        "mine": mine, "deadlines": deadline_rows(c, mine),
        "allowed_actions": [{"action": a, "label": action_label(a)}
                            for a in allowed_actions(c, viewer)],
        **triage_view.merge_info(session, c),
        "extension_request": triage_view.extension_info(c, now or utcnow()),
        "extension_unit": triage_view.extension_unit(c.severity),
    })
    return out


def routing_lines(routing: dict[str, Any]) -> list[str]:
    """The routing explanation as lines of text, whatever shape the decision was stored in."""
    value = routing.get("explanation") or routing.get("reasons") or []
    if isinstance(value, str):
        return [line for line in value.splitlines() if line.strip()]
    if isinstance(value, list):
        return [v if isinstance(v, str) else str(v.get("reason") or v) for v in value]
    return [str(value)]
