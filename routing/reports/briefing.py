"""Figures of the 舆情日报 / 周报 (a period) and of the 专报 (one event).

``period_briefing`` and ``event_briefing`` read stored posts, events and cases and return plain
dicts; the words a reader sees first (summary, risk judgement, outlook) are derived from those
figures by the fixed rules in this module (no language model), so the page, the DOCX and PDF
exports and the scheduled job all say the same thing. Response performance comes from the
response report (``routing.reports.response``), passed in by the caller.

Counting rules: a post counts on its publication time (collection time when the site gave
none); an event counts in a period when at least one of its posts does; "previous period" is
``Period.previous()`` (环比).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from routing.reports.periods import Period, rate
from store import Assignment, Case, CaseAction, Event, Jurisdiction, Post, PostPlace, Unit

TOP_EVENTS = 10
TOP_ROWS = 8
SUMMARY_MAX = 200  # characters, risk line included
SEVERITY_NAMES = {1: "I级（特别重大）", 2: "II级（重大）", 3: "III级（较大）", 4: "IV级（一般）"}
SENTIMENT_NAMES = {"negative": "负面", "neutral": "中性", "positive": "正面"}
SOURCE_KIND_NAMES = {"news": "新闻网站", "social": "社交媒体", "forum": "论坛", "board": "留言板",
                     "hotline": "12345热线", "import": "导入"}
STATE_NAMES = {"new": "待研判", "dispatched": "待签收", "acknowledged": "处置中",
               "responded": "已回应", "closed": "已办结", "dismissed": "不予处置",
               "returned": "已退回"}
ACTION_NAMES = {"open": "生成案件", "dispatch": "派发", "sign": "签收", "return": "退回",
                "reassign": "转办", "request_extension": "申请延期", "approve_extension": "批准延期",
                "deny_extension": "驳回延期", "respond": "回应", "close": "办结", "reopen": "重办",
                "supervise": "督办", "dismiss": "不予处置", "update": "事件更新",
                "severity": "级别上调", "remind": "临期提醒", "overdue": "超时",
                "escalate": "超时升级", "correct": "更正研判"}
LIVE = ("new", "dispatched", "acknowledged", "responded", "returned")
RISK_LEVELS = {2: "较高", 1: "中等", 0: "较低"}
DONE_NAMES = ("已办结", "不予处置")


class BriefingNotFound(LookupError):
    """The event of a 专报 does not exist (message safe to show)."""


def _moment() -> Any:
    return func.coalesce(Post.published_at, Post.collected_at)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def change_words(change: float | None) -> str:
    if change is None:
        return "上期无数据"
    if abs(change) < 0.005:
        return "与上期持平"
    return f"环比{'上升' if change > 0 else '下降'}{abs(change) * 100:.1f}%"


def local_time(moment: datetime | None, tz: tzinfo, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return moment.astimezone(tz).strftime(fmt) if moment else "—"


# ---- period: the reads -----------------------------------------------------------------------

def _post_rows(session: Session, lo: datetime, hi: datetime) -> list[tuple[Any, ...]]:
    moment = _moment()
    return list(session.execute(
        select(moment, Post.source_kind, Post.sentiment, Post.topic)
        .where(moment >= lo, moment < hi)).all())


def _place_counts(session: Session, lo: datetime, hi: datetime) -> list[tuple[str, int]]:
    moment = _moment()
    rows = session.execute(
        select(PostPlace.code, func.count(func.distinct(PostPlace.post_id)))
        .join(Post, Post.id == PostPlace.post_id)
        .where(moment >= lo, moment < hi).group_by(PostPlace.code)).all()
    return [(code, int(n)) for code, n in rows]


def lead_units(session: Session, case_ids: Sequence[int]) -> dict[int, dict[str, list[str]]]:
    out: dict[int, dict[str, list[str]]] = {cid: {"lead": [], "co": []} for cid in case_ids}
    if not case_ids:
        return out
    rows = session.execute(
        select(Assignment.case_id, Assignment.role, Unit.short_name, Unit.name)
        .join(Unit, Unit.id == Assignment.unit_id)
        .where(Assignment.case_id.in_(list(case_ids)), Assignment.active.is_(True),
               Assignment.role.in_(["lead", "co"])).order_by(Assignment.id)).all()
    for case_id, role, short, name in rows:
        out[case_id][role].append(short or name)
    return out


def _top_events(session: Session, lo: datetime, hi: datetime, places: Mapping[str, str],
                topics: Mapping[str, str], tz: tzinfo) -> tuple[list[dict[str, Any]], int]:
    moment = _moment()
    counts = dict(session.execute(
        select(Post.event_id, func.count()).where(Post.event_id.is_not(None), moment >= lo,
                                                  moment < hi)
        .group_by(Post.event_id)).all())
    if not counts:
        return [], 0
    events = list(session.scalars(select(Event).where(Event.id.in_(list(counts)))))
    events.sort(key=lambda e: (e.severity or 9, -counts[e.id], e.id))
    events = events[:TOP_EVENTS]
    cases = {c.event_id: c for c in session.scalars(
        select(Case).where(Case.event_id.in_([e.id for e in events])))}
    units = lead_units(session, [c.id for c in cases.values()])
    out = []
    for e in events:
        case = cases.get(e.id)
        severity = case.severity if case and case.severity else e.severity
        codes = ([case.place_code] if case and case.place_code else []) or list(e.places or [])
        assigned = units.get(case.id, {"lead": [], "co": []}) if case else {"lead": [], "co": []}
        out.append({
            "id": e.id, "title": e.title, "severity": severity,
            "severity_label": SEVERITY_NAMES.get(severity or 0, "未达预警"),
            "topic": topics.get(e.topic or "", e.topic or "未分类"),
            "places": [places.get(c, c) for c in codes[:3]],
            "posts": int(counts[e.id]), "total_posts": e.post_count,
            "first_seen_at": local_time(e.first_seen_at, tz),
            "case_id": case.id if case else None,
            "state": STATE_NAMES.get(case.state, case.state) if case else "未立案",
            "overdue": bool(case and case.overdue),
            "lead_units": assigned["lead"], "co_units": assigned["co"]})
    return out, len(counts)


def _replies(session: Session, lo: datetime, hi: datetime, tz: tzinfo) -> list[dict[str, Any]]:
    """Answers given in the period: units' responses to cases (most severe first), then
    replies published on 留言板 / 12345 (most engaged first)."""
    out: list[dict[str, Any]] = []
    rows = session.execute(
        select(CaseAction, Case.title, Case.severity, Unit.short_name, Unit.name)
        .join(Case, Case.id == CaseAction.case_id)
        .outerjoin(Unit, Unit.id == CaseAction.actor_unit_id)
        .where(CaseAction.action == "respond", CaseAction.at >= lo, CaseAction.at < hi)
        .order_by(func.coalesce(Case.severity, 9), CaseAction.at).limit(5)).all()
    for action, title, severity, short, name in rows:
        data = action.data or {}
        out.append({"kind": "案件回应", "title": title, "unit": short or name or action.actor_name,
                    "text": str(data.get("text", ""))[:150], "channel": str(data.get("channel", "")),
                    "at": local_time(action.at, tz), "severity": severity})
    posts = session.execute(
        select(Post.title, Post.text, Post.reply_unit, Post.reply_text, Post.reply_at,
               Post.published_at)
        .where(Post.reply_at >= lo, Post.reply_at < hi, Post.reply_text != "")
        .order_by((Post.likes + Post.comments + Post.reposts).desc(), Post.id).limit(5)).all()
    for title, text, unit, reply, reply_at, published in posts:
        hours = ((reply_at - published).total_seconds() / 3600
                 if reply_at and published else None)
        out.append({"kind": "留言答复", "title": title or text[:40], "unit": unit or "—",
                    "text": reply[:150], "channel": "留言板/热线", "at": local_time(reply_at, tz),
                    "hours": None if hours is None else round(hours, 1)})
    return out


def _overdue_cases(session: Session, tz: tzinfo,
                   unit_codes: Sequence[str] | None = None) -> list[dict[str, Any]]:
    query = select(Case).where(Case.overdue.is_(True), Case.state.in_(LIVE))
    if unit_codes is not None:  # only cases one of these units leads
        query = query.where(Case.id.in_(
            select(Assignment.case_id).join(Unit, Unit.id == Assignment.unit_id)
            .where(Assignment.active.is_(True), Assignment.role == "lead",
                   Unit.code.in_(list(unit_codes)))))
    cases = list(session.scalars(
        query.order_by(func.coalesce(Case.severity, 9), Case.due_answer_at).limit(TOP_ROWS)))
    units = lead_units(session, [c.id for c in cases])
    return [{"id": c.id, "title": c.title, "severity_label": SEVERITY_NAMES.get(c.severity or 0, "—"),
             "lead_units": units[c.id]["lead"], "state": STATE_NAMES.get(c.state, c.state),
             "due_answer_at": local_time(c.due_answer_at, tz)} for c in cases]


def _due_next(session: Session, now: datetime, days: int) -> int:
    return int(session.scalar(
        select(func.count()).select_from(Case)
        .where(Case.state.in_(("dispatched", "acknowledged")), Case.due_answer_at >= now,
               Case.due_answer_at < now + timedelta(days=days))) or 0)


# ---- period: the figures (pure) --------------------------------------------------------------

def volume(rows: Sequence[tuple[Any, ...]], previous: Sequence[tuple[Any, ...]], period: Period,
           tz: tzinfo) -> dict[str, Any]:
    """Total, 环比, a curve (hours for one day, days otherwise) and the split by source kind."""
    total, before = len(rows), len(previous)
    if period.days == 1:
        labels = [f"{h:02d}时" for h in range(24)]
        counts = Counter(m.astimezone(tz).hour for m, *_ in rows)
        curve = [[labels[h], counts.get(h, 0)] for h in range(24)]
    else:
        days = [period.start + timedelta(days=i) for i in range(period.days)]
        counts = Counter(m.astimezone(tz).date() for m, *_ in rows)
        curve = [[f"{d:%m-%d}", counts.get(d, 0)] for d in days]
    kinds = Counter(k or "" for _, k, *_ in rows)
    return {"posts": total, "previous_posts": before,
            "change": rate(total - before, before), "curve": curve,
            "by_source_kind": [{"kind": k, "name": SOURCE_KIND_NAMES.get(k, k or "其他"),
                                "posts": n} for k, n in kinds.most_common()]}


def sentiment(rows: Sequence[tuple[Any, ...]], previous: Sequence[tuple[Any, ...]]
              ) -> dict[str, Any]:
    now = Counter(s for _, _, s, _ in rows if s)
    before = Counter(s for _, _, s, _ in previous if s)
    judged, judged_before = sum(now.values()), sum(before.values())
    return {"counts": [{"key": k, "name": SENTIMENT_NAMES[k], "posts": now.get(k, 0)}
                       for k in SENTIMENT_NAMES],
            "negative_share": rate(now.get("negative", 0), judged),
            "previous_negative_share": rate(before.get("negative", 0), judged_before)}


def topic_rows(rows: Sequence[tuple[Any, ...]], previous: Sequence[tuple[Any, ...]],
               names: Mapping[str, str]) -> list[dict[str, Any]]:
    now = Counter(t for *_, t in rows if t)
    before = Counter(t for *_, t in previous if t)
    return [{"key": k, "name": names.get(k, k), "posts": n, "previous": before.get(k, 0),
             "change": rate(n - before.get(k, 0), before.get(k, 0))}
            for k, n in sorted(now.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_ROWS]]


def place_rows(counts: Sequence[tuple[str, int]], names: Mapping[str, str],
               home: str = "") -> list[dict[str, Any]]:
    """Places below the home jurisdiction first: "江宁区" itself says nothing about where."""
    rows = [(c, n) for c, n in counts if c != home] or list(counts)
    rows.sort(key=lambda cn: (-cn[1], cn[0]))
    return [{"code": c, "name": names.get(c, c), "posts": n} for c, n in rows[:TOP_ROWS]]


def response_summary(report: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The parts of the response report (``build_response_report``) a briefing shows: the
    total row, the flagged unit rows (below the threshold, listed first by the report) and
    the threshold. None when no report was given."""
    if not report:
        return None
    units = [dict(u) for u in report.get("units") or []]
    return {"total": dict(report.get("total") or {}),
            "flagged": [u for u in units if u.get("flagged")],
            "units": units[:TOP_ROWS * 2],
            "threshold": (report.get("basis") or {}).get("threshold")}


def risk(fig: Mapping[str, Any]) -> dict[str, Any]:
    """A level (2 较高 / 1 中等 / 0 较低) with its reasons, by fixed rules over the figures."""
    reasons: list[tuple[int, str]] = []
    severe = [e for e in fig["events"] if e["severity"] in (1, 2)]
    live = [e for e in severe if e["state"] not in DONE_NAMES]
    if live:
        reasons.append((2, f"出现{len(live)}起重大及以上舆情尚未办结（{live[0]['title'][:20]}）"))
    elif severe:  # answered and closed: still worth a word, no longer the top risk
        reasons.append((1, f"出现{len(severe)}起重大及以上舆情（已办结）"))
    overdue = fig["overdue_cases"]
    if any(c["severity_label"].startswith(("I级", "II级")) for c in overdue):
        reasons.append((2, "重大舆情案件超时未办结"))
    larger = [e for e in fig["events"] if e["severity"] == 3]
    if larger:
        reasons.append((1, f"出现{len(larger)}起较大舆情"))
    if overdue:
        reasons.append((1, f"{len(overdue)}件案件超时"))
    vol = fig["volume"]
    if vol["change"] is not None and vol["change"] >= 0.5 and vol["posts"] >= 20:
        reasons.append((1, f"信息量{change_words(vol['change'])}"))
    neg = fig["sentiment"]["negative_share"]
    if neg is not None and neg >= 0.4 and vol["posts"] >= 20:
        reasons.append((1, f"负面信息占比{_pct(neg)}"))
    resp = fig.get("response")
    if resp and resp["flagged"]:
        reasons.append((1, f"{len(resp['flagged'])}个单位按时率低于标准"))
    level = max((lvl for lvl, _ in reasons), default=0)
    words = "；".join(text for _, text in sorted(reasons, key=lambda r: -r[0])[:2])
    return {"level": level, "label": RISK_LEVELS[level],
            "text": f"风险研判：{RISK_LEVELS[level]}。{words or '未见重大风险苗头'}。"}


def summary(fig: Mapping[str, Any], period_name: str) -> tuple[str, str]:
    """(body, risk line), together at most SUMMARY_MAX characters; optional clauses are
    dropped (last first) to fit."""
    vol, sent = fig["volume"], fig["sentiment"]
    lead = (f"{period_name}共监测到相关信息{vol['posts']}条，{change_words(vol['change'])}"
            f"（上期{vol['previous_posts']}条）")
    severe = sum(1 for e in fig["events"] if e["severity"] in (1, 2))
    alerts = [e for e in fig["events"] if e["severity"]]
    clauses = [f"涉及预警事件{len(alerts)}起" + (f"，其中重大及以上{severe}起" if severe else "")]
    if sent["negative_share"] is not None:
        clauses.append(f"负面信息占{_pct(sent['negative_share'])}")
    if fig["topics"]:
        clauses.append("主要集中在" + "、".join(t["name"] for t in fig["topics"][:2]) + "领域")
    if fig["places"]:
        clauses.append(f"{fig['places'][0]['name']}等地关注度较高")
    resp = fig.get("response")
    if resp and resp["total"].get("answer_on_time_rate") is not None:
        clauses.append(f"按时回应率{_pct(resp['total']['answer_on_time_rate'])}")
    clauses.append(f"当前超时案件{len(fig['overdue_cases'])}件")
    tail = fig["risk"]["text"]
    while True:
        body = "，".join([lead, *clauses]) + "。"
        if len(body) + len(tail) <= SUMMARY_MAX or not clauses:
            break
        clauses.pop()
    if len(body) + len(tail) > SUMMARY_MAX:
        body = body[:SUMMARY_MAX - len(tail) - 1] + "…"
    return body, tail


def outlook(fig: Mapping[str, Any], next_name: str) -> list[str]:
    out = []
    for t in fig["topics"]:
        if t["posts"] < 5:
            continue  # a handful of posts is no trend
        if t["previous"] == 0:
            out.append(f"「{t['name']}」领域本期新增信息{t['posts']}条（上期无），{next_name}需持续关注。")
        elif t["change"] is not None and t["change"] >= 0.5:
            out.append(f"「{t['name']}」领域信息量{change_words(t['change'])}，{next_name}需持续关注。")
    for e in fig["events"]:
        if e["severity"] in (1, 2) and e["state"] not in DONE_NAMES:
            out.append(f"{e['severity_label']}事件「{e['title'][:30]}」仍在处置中（{e['state']}），"
                       "需跟踪回应和舆论走向。")
    if fig["due_next"]:
        out.append(f"{fig['due_next']}件案件将于{next_name}到期回应，请督促承办单位按时回应。")
    if fig["overdue_cases"]:
        out.append(f"当前{len(fig['overdue_cases'])}件案件超时未办结，建议督办。")
    sent = fig["sentiment"]
    if sent["negative_share"] is not None and sent["previous_negative_share"] is not None \
            and sent["negative_share"] - sent["previous_negative_share"] >= 0.1:
        out.append("负面信息占比较上期明显上升，需关注情绪变化。")
    return out or [f"预计{next_name}舆情总体平稳，继续做好日常监测。"]


def period_briefing(session: Session, period: Period, *, kind: str, tz: tzinfo, now: datetime,
                    topics: Mapping[str, str], home_code: str = "",
                    response: Mapping[str, Any] | None = None,
                    unit_codes: Sequence[str] | None = None) -> dict[str, Any]:
    """Everything a 日报 (``kind="daily"``) or 周报 (``"weekly"``) shows for ``period``.

    ``unit_codes`` (None: all) limits the overdue cases to those these units lead; the
    ``response`` report is expected to be limited the same way by the caller."""
    lo, hi = period.bounds(tz)
    prev = period.previous()
    plo, phi = prev.bounds(tz)
    rows, before = _post_rows(session, lo, hi), _post_rows(session, plo, phi)
    places = dict(session.execute(select(Jurisdiction.code, Jurisdiction.name)).all())
    events, active = _top_events(session, lo, hi, places, topics, tz)
    opened = Counter(s or 0 for s in session.scalars(
        select(Case.severity).where(Case.created_at >= lo, Case.created_at < hi)))
    fig: dict[str, Any] = {
        "kind": kind, "title": ("舆情日报" if kind == "daily" else "舆情周报"),
        "period": period.as_dict(), "previous": prev.as_dict(),
        "generated_at": local_time(now, tz),
        "volume": volume(rows, before, period, tz),
        "sentiment": sentiment(rows, before),
        "topics": topic_rows(rows, before, topics),
        "places": place_rows(_place_counts(session, lo, hi), places, home_code),
        "events": events, "active_events": active,
        "new_events": int(session.scalar(select(func.count()).select_from(Event).where(
            Event.first_seen_at >= lo, Event.first_seen_at < hi)) or 0),
        "cases_opened": [{"severity": s, "name": SEVERITY_NAMES.get(s, "未定级"), "cases": n}
                         for s, n in sorted(opened.items())],
        "overdue_cases": _overdue_cases(session, tz, unit_codes),
        "due_next": _due_next(session, now, period.days),
        "replies": _replies(session, lo, hi, tz),
        "response": response_summary(response),
    }
    name = "本日" if kind == "daily" else "本周" if period.days == 7 else "本期"
    next_name = "明日" if kind == "daily" else "下周" if period.days == 7 else "下一期"
    fig["risk"] = risk(fig)
    body, tail = summary(fig, name)
    fig["summary"] = body + tail  # the text sent upward: at most SUMMARY_MAX characters
    fig["summary_body"] = body
    fig["outlook"] = outlook(fig, next_name)
    return fig
