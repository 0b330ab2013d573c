"""Figures of the 舆情专报 for one event: spread, timeline, handling history and deadlines.

Deadline rules: 签收 is met when the lead unit signed (SIGN-1) by ``due_sign_at``; 首次权威发布
when any unit's first response came by ``due_first_response_at``; 新闻发布会 when a response
whose channel names a 发布会 (as the response report counts it) came by ``due_press_at``; 回应 when the lead unit's response
(the case's ``responded_at``) came by ``due_answer_at``. Without the act: 已超时 once the
deadline has passed at ``now``, else 未到期.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from routing.reports.briefing import (
    ACTION_NAMES,
    SENTIMENT_NAMES,
    SEVERITY_NAMES,
    SOURCE_KIND_NAMES,
    STATE_NAMES,
    BriefingNotFound,
    lead_units,
    local_time,
)
from routing.reports.response import PRESS_WORDS
from store import Case, CaseAction, Event, Jurisdiction, Post, Source

MAX_SOURCES_IN_TIMELINE = 8
HOURLY_UP_TO = timedelta(hours=72)  # a longer spread is drawn per day


def _done_times(actions: list[CaseAction], case: Case) -> dict[str, datetime | None]:
    sign = next((a.at for a in actions if a.action == "sign" and a.rule == "SIGN-1"), None)
    responses = [a for a in actions if a.action == "respond"]
    press = next((a.at for a in responses
                  if any(w in str((a.data or {}).get("channel", "")) for w in PRESS_WORDS)),
                 None)
    answer = case.responded_at or next(
        (a.at for a in reversed(responses) if a.rule == "RESPOND-1"), None)
    return {"sign": sign, "first_response": responses[0].at if responses else None,
            "press": press, "answer": answer}


def deadline_rows(case: Case, actions: list[CaseAction], now: datetime, tz: tzinfo
                  ) -> list[dict[str, Any]]:
    done = _done_times(actions, case)
    out = []
    for key, label, due in (("sign", "签收", case.due_sign_at),
                            ("first_response", "首次权威发布", case.due_first_response_at),
                            ("press", "新闻发布会", case.due_press_at),
                            ("answer", "回应", case.due_answer_at)):
        if due is None:
            continue
        at = done[key]
        if at is not None:
            status, met = ("按时", True) if at <= due else ("超时完成", False)
        elif now > due:
            status, met = "已超时", False
        else:
            status, met = "未到期", None
        out.append({"key": key, "label": label, "due_at": local_time(due, tz),
                    "done_at": local_time(at, tz), "status": status, "met": met})
    return out


def _curve(moments: list[datetime], tz: tzinfo) -> tuple[str, list[list[Any]]]:
    if not moments:
        return "hour", []
    local = [m.astimezone(tz) for m in moments]
    if max(local) - min(local) <= HOURLY_UP_TO:
        start = min(local).replace(minute=0, second=0, microsecond=0)
        steps = int((max(local) - start).total_seconds() // 3600) + 1
        counts = Counter(int((m - start).total_seconds() // 3600) for m in local)
        return "hour", [[f"{start + timedelta(hours=i):%m-%d %H时}", counts.get(i, 0)]
                        for i in range(steps)]
    first = min(local).date()
    days = (max(local).date() - first).days + 1
    counts = Counter((m.date() - first).days for m in local)
    return "day", [[f"{first + timedelta(days=i):%m-%d}", counts.get(i, 0)] for i in range(days)]


def event_briefing(session: Session, event_id: int, *, tz: tzinfo, now: datetime,
                   topics: Mapping[str, str]) -> dict[str, Any]:
    event = session.get(Event, event_id)
    if event is None:
        raise BriefingNotFound(f"事件 {event_id} 不存在")
    moment = func.coalesce(Post.published_at, Post.collected_at)
    posts = session.execute(
        select(Post.id, moment, Post.source_id, Post.title, Post.text, Post.url, Post.author,
               Post.sentiment, (Post.reposts + Post.comments + Post.likes))
        .where(Post.event_id == event_id).order_by(moment, Post.id)).all()
    sources = {s.id: s for s in session.scalars(
        select(Source).where(Source.id.in_({p[2] for p in posts} or {-1})))}
    places = dict(session.execute(select(Jurisdiction.code, Jurisdiction.name)).all())
    case = session.scalar(select(Case).where(Case.event_id == event_id))
    actions = list(session.scalars(select(CaseAction).where(CaseAction.case_id == case.id)
                                   .order_by(CaseAction.at, CaseAction.id))) if case else []

    by_source: dict[int, dict[str, Any]] = {}
    for _pid, at, sid, title, text, _url, _author, _, reach in posts:
        src = sources.get(sid)
        row = by_source.setdefault(sid, {
            "name": src.name if src else str(sid),
            "kind": SOURCE_KIND_NAMES.get(src.source_kind if src else "", "其他"),
            "posts": 0, "reach": 0, "first_at": at, "first_title": title or text[:40]})
        row["posts"] += 1
        row["reach"] += int(reach or 0)
    first = posts[0] if posts else None
    unit, curve = _curve([p[1] for p in posts], tz)
    peak = max(curve, key=lambda c: c[1]) if curve else None

    timeline: list[tuple[datetime, str]] = []
    for i, row in enumerate(sorted(by_source.values(), key=lambda r: r["first_at"])):
        if i >= MAX_SOURCES_IN_TIMELINE:
            break
        verb = "首发" if i == 0 else "跟进"
        timeline.append((row["first_at"], f"{row['name']}{verb}：{row['first_title'][:40]}"))
    for a in actions:
        if a.action in ("remind", "update"):
            continue  # sweeps and merged posts are noise in a report sent upward
        note = f"：{a.note[:60]}" if a.note else ""
        text = str((a.data or {}).get("text", ""))
        if a.action == "respond" and text:
            note = f"：{text[:60]}"
        timeline.append((a.at, f"{ACTION_NAMES.get(a.action, a.action)}（{a.actor_name or '系统'}）"
                               f"{note}"))
    timeline.sort(key=lambda t: t[0])

    assigned = lead_units(session, [case.id])[case.id] if case else {"lead": [], "co": []}
    severity = (case.severity if case and case.severity else event.severity)
    codes = ([case.place_code] if case and case.place_code else []) or list(event.places or [])
    sentiments = Counter(p[7] for p in posts if p[7])
    return {
        "kind": "event", "title": "舆情专报",
        "generated_at": local_time(now, tz),
        "event": {"id": event.id, "title": event.title, "summary": event.summary,
                  "topic": topics.get(event.topic or "", event.topic or "未分类"),
                  "severity": severity,
                  "severity_label": SEVERITY_NAMES.get(severity or 0, "未达预警"),
                  "places": [places.get(c, c) for c in codes[:3]],
                  "keywords": list(event.keywords or [])[:10],
                  "first_seen_at": local_time(event.first_seen_at, tz),
                  "last_seen_at": local_time(event.last_seen_at, tz),
                  "posts": len(posts), "sources": len(by_source)},
        "first_post": None if first is None else {
            "source": by_source[first[2]]["name"], "at": local_time(first[1], tz),
            "title": first[3] or first[4][:60], "author": first[6], "url": first[5]},
        "spread": {"unit": unit, "curve": curve,
                   "peak": None if peak is None else {"label": peak[0], "posts": peak[1]},
                   "sources": sorted(({**r, "first_at": local_time(r["first_at"], tz)}
                                      for r in by_source.values()),
                                     key=lambda r: (-r["posts"], r["name"])),
                   "sentiment": [{"name": SENTIMENT_NAMES[k], "posts": sentiments.get(k, 0)}
                                 for k in SENTIMENT_NAMES]},
        "timeline": [{"at": local_time(at, tz), "text": text} for at, text in timeline],
        "case": None if case is None else {
            "id": case.id, "state": STATE_NAMES.get(case.state, case.state),
            "lead_units": assigned["lead"], "co_units": assigned["co"],
            "supervised": case.supervised, "extensions": case.extensions,
            "overdue": case.overdue},
        "history": [{"at": local_time(a.at, tz), "action": ACTION_NAMES.get(a.action, a.action),
                     "actor": a.actor_name or "系统", "note": a.note,
                     "text": str((a.data or {}).get("text", "")),
                     "channel": str((a.data or {}).get("channel", ""))} for a in actions],
        "deadlines": deadline_rows(case, actions, now, tz) if case else [],
    }
