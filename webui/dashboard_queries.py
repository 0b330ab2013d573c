"""Reading the dashboard's figures: SQL for the rows, ``routing.reports.dashboard`` for the sums.

Leaders, monitors and admins see the whole jurisdiction, so nothing here is scoped per viewer;
the blueprint keeps unit users out. Every figure covers the period's local days, except the
open cases, which are a snapshot at ``now``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from routing.reports import Period
from routing.reports import dashboard as figures
from store import Case, Event, Jurisdiction, Post, PostPlace, Source, SourceRun
from webui.workflow import STATE_LABELS

SOURCE_KINDS = {"news": "新闻网站", "social": "社交媒体", "forum": "论坛", "board": "留言板",
                "hotline": "12345 热线", "import": "导入", "": "其他"}
SENTIMENTS = {"negative": "负面", "neutral": "中性", "positive": "正面", "": "未分析"}
TRENDS = {"up": "↑ 上升", "down": "↓ 下降", "flat": "→ 持平", "new": "★ 新出现"}
SHIPPED_MAPS = Path(__file__).resolve().parent / "static" / "maps"
WORDS_FROM_POSTS = 5000  # the word cloud reads the latest posts of the period, not all of them


def _in_period(lo: datetime, hi: datetime) -> Any:
    """Published in [lo, hi), or collected then when the source gave no publication time."""
    return or_(and_(Post.published_at >= lo, Post.published_at < hi),
               and_(Post.published_at.is_(None), Post.collected_at >= lo,
                    Post.collected_at < hi))


def _moment() -> Any:
    return func.coalesce(Post.published_at, Post.collected_at)


def _interactions() -> Any:
    return func.coalesce(func.sum(Post.reposts + Post.comments + Post.likes), 0)


def activity(session: Session, period: Period, tz: tzinfo
             ) -> dict[int, figures.EventActivity]:
    lo, hi = period.bounds(tz)
    rows = session.execute(
        select(Post.event_id, func.count(Post.id), _interactions())
        .where(_in_period(lo, hi), Post.event_id.is_not(None)).group_by(Post.event_id))
    return {eid: figures.EventActivity(eid, int(n), int(inter)) for eid, n, inter in rows}


def map_file(home_code: str, instance_maps: Path | None) -> Path | None:
    """The installation's own ``map/<code>.json`` wins over the shipped schematic."""
    for folder in (instance_maps, SHIPPED_MAPS):
        if folder is not None and (folder / f"{home_code}.json").is_file():
            return folder / f"{home_code}.json"
    return None


@lru_cache(maxsize=8)
def _map_meta(path: str, mtime: float) -> dict[str, Any]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    meta = data.get("yuqing") or {}
    return {"schematic": bool(meta.get("schematic")), "note": str(meta.get("note", "")),
            "features": [(str(f.get("properties", {}).get("code") or f.get("id") or ""),
                          str(f.get("properties", {}).get("name", "")))
                         for f in data.get("features", [])]}


def map_meta(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {"schematic": False, "note": "", "features": []}
    return _map_meta(str(path), path.stat().st_mtime)


def dashboard(session: Session, period: Period, tz: tzinfo, now: datetime, home_code: str,
              topics: dict[str, str], map_path: Path | None = None) -> dict[str, Any]:
    lo, hi = period.bounds(tz)
    places = dict(session.execute(select(Jurisdiction.code, Jurisdiction.name)).all())
    posts = session.execute(
        select(Post.id, _moment(), Post.source_kind, Post.sentiment, Post.topic)
        .where(_in_period(lo, hi))).all()
    post_ids = {p[0] for p in posts}

    kinds = figures.volume(((m, k or "") for _, m, k, _, _ in posts), period, tz,
                           order=SOURCE_KINDS)
    moods = figures.volume(((m, s or "") for _, m, _, s, _ in posts), period, tz,
                           order=SENTIMENTS)
    for block, labels in ((kinds, SOURCE_KINDS), (moods, SENTIMENTS)):
        for series in block["series"]:  # type: ignore[attr-defined]
            series["name"] = labels.get(series["key"], series["key"])

    # places: each post once per area it mentions (streets inside the home district)
    place_rows = session.execute(
        select(PostPlace.post_id, PostPlace.code, PostPlace.name)
        .join(Post, Post.id == PostPlace.post_id).where(_in_period(lo, hi))).all()
    per_area: dict[str, set[int]] = defaultdict(set)
    area_names: dict[str, str] = {}
    for post_id, code, name in place_rows:
        area = figures.street_of(code, home_code) or (code[:6] if len(code) >= 6 else code)
        per_area[area].add(post_id)
        area_names.setdefault(area, places.get(area) or name)
    located = set().union(*per_area.values()) if per_area else set()
    place_list = sorted(({"code": a, "name": area_names[a], "count": len(ids)}
                         for a, ids in per_area.items()), key=lambda r: (-r["count"], r["code"]))
    if len(post_ids - located):
        place_list.append({"code": "", "name": "未定位", "count": len(post_ids - located)})

    # cases: open now, per state and per street
    case_rows = session.execute(
        select(Case.state, Case.overdue, Case.due_sign_at, Case.due_answer_at, Case.place_code)
        .where(Case.state.in_(figures.OPEN_STATES))).all()
    cases = figures.open_cases(((s, o, ds, da) for s, o, ds, da, _ in case_rows), now)
    open_by_street: dict[str, int] = defaultdict(int)
    for _s, _o, _ds, _da, place in case_rows:
        street = figures.street_of(place, home_code)
        if street:
            open_by_street[street] += 1

    meta = map_meta(map_path)
    streets = [{"code": code, "name": name, "posts": len(per_area.get(code, ())),
                "open_cases": open_by_street.get(code, 0)} for code, name in meta["features"]]

    current = activity(session, period, tz)
    hot = figures.hot_events(current, activity(session, period.previous(), tz))
    titles = dict(session.execute(select(Event.id, Event.title)
                                  .where(Event.id.in_([h["event_id"] for h in hot]))).all())
    case_of = dict(session.execute(select(Case.event_id, Case.id)
                                   .where(Case.event_id.in_([h["event_id"] for h in hot]))).all())
    for h in hot:
        h.update(title=titles.get(h["event_id"], ""), case_id=case_of.get(h["event_id"]),
                 trend_label=TRENDS[str(h["trend"])])

    latest = sorted(posts, key=lambda p: p[1], reverse=True)[:WORDS_FROM_POSTS]
    keyword_rows = session.execute(select(Post.keywords).where(
        Post.id.in_([p[0] for p in latest]))).scalars() if latest else []
    words = figures.word_weights(keyword_rows, exclude=_own_names(places, home_code))

    prev_lo, prev_hi = period.previous().bounds(tz)
    previous_total = session.scalar(select(func.count(Post.id))
                                    .where(_in_period(prev_lo, prev_hi))) or 0
    return {
        "period": period.as_dict(), "previous": period.previous().as_dict(),
        "now": now.isoformat(),
        "totals": {"posts": len(posts), "previous_posts": previous_total,
                   "negative": sum(1 for p in posts if p[3] == "negative"),
                   "events": len(current), "open_cases": cases["open"],
                   "overdue_cases": cases["overdue"]},
        "volume_by_kind": kinds, "volume_by_sentiment": moods,
        "topics": [{"key": k, "name": topics.get(k, k or "未分类"), "count": n}
                   for k, n in figures.distribution(p[4] for p in posts)],
        "places": place_list,
        "map": {"code": home_code, "name": places.get(home_code, home_code),
                "schematic": meta["schematic"], "note": meta["note"], "streets": streets},
        "hot_events": hot,
        "words": [{"name": w, "value": n} for w, n in words],
        "cases": {"open": cases["open"], "overdue": cases["overdue"],
                  "by_state": [{"state": s, "label": STATE_LABELS.get(s, s), **v}
                               for s, v in cases["by_state"].items()]},  # type: ignore[attr-defined]
        "sources": source_health(session, lo, hi),
    }


def _own_names(places: dict[str, str], home_code: str) -> set[str]:
    """The home district's and its parents' names (江宁区, 江宁, 南京市, 南京 …): every post
    of the jurisdiction shares them, so they say nothing in a word cloud."""
    names = {places.get(c, "") for c in (home_code, home_code[:4] + "00", home_code[:2] + "0000")}
    return {n for name in names if name for n in (name, name.rstrip("省市区县"))}


def source_health(session: Session, lo: datetime, hi: datetime) -> list[dict[str, Any]]:
    collected = dict(session.execute(
        select(Post.source_id, func.count(Post.id))
        .where(Post.collected_at >= lo, Post.collected_at < hi).group_by(Post.source_id)).all())
    runs = dict(session.execute(
        select(SourceRun.source_id, func.count(SourceRun.id))
        .where(SourceRun.started_at >= lo, SourceRun.started_at < hi,
               SourceRun.ok.is_(False)).group_by(SourceRun.source_id)).all())
    out = []
    for src in session.scalars(select(Source).order_by(Source.name)):
        status = ("停用" if not src.enabled else "异常" if src.flagged
                  else "失败" if src.consecutive_failures else "正常")
        out.append({"key": src.key, "name": src.name,
                    "kind": SOURCE_KINDS.get(src.source_kind, src.source_kind or src.kind),
                    "enabled": src.enabled, "status": status,
                    "last_run_at": src.last_run_at.isoformat() if src.last_run_at else None,
                    "last_success_at": (src.last_success_at.isoformat()
                                        if src.last_success_at else None),
                    "consecutive_failures": src.consecutive_failures,
                    "failed_runs": int(runs.get(src.id, 0)),
                    "collected": int(collected.get(src.id, 0))})
    return out
