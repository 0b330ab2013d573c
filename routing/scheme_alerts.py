"""What a scheme does with a matching post: tag it, push to its subscribers, ask for a case.

``apply_schemes`` runs inside the caller's transaction (the scheme job's batch, together
with its high-water mark), so a crash leaves either everything or nothing of a batch. The
outbox's idempotency keys make a push once per (scheme, post, channel, address) — or once
per (scheme, window) for "N within T minutes" — however often a batch is replayed and
however many processes deliver.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from routing.messages import one_line, when
from routing.notify.outbox import enqueue_direct
from routing.schemes import SchemeSpec
from store import Post, PostTag, Unit
from store.search.query import ParsedQuery

EXCERPT_CHARS = 120
SEVERITY_SHORT = {1: "I级", 2: "II级", 3: "III级", 4: "IV级"}


@dataclass(frozen=True)
class ActiveScheme:
    key: str
    spec: SchemeSpec
    query: ParsedQuery  # parsed once per batch


@dataclass(frozen=True)
class PostView:
    """What matching needs of a post; ``text`` is title + body + reply normalized as the
    search index has them and folded (``store.search.query.fold``): what queries match."""

    id: int
    title: str
    text: str
    source: str
    source_name: str
    topic: str | None
    places: tuple[str, ...]
    severity: int | None
    at: datetime  # when it arrived (collected_at): the clock of "N within T minutes"
    published_at: datetime | None
    url: str
    event_id: int | None
    excerpt: str = ""  # the body alone, for the push


def scheme_matches(scheme: ActiveScheme, post: PostView) -> bool:
    spec = scheme.spec
    if spec.sources and post.source not in spec.sources:
        return False
    if spec.topics and post.topic not in spec.topics:
        return False
    if spec.places and not set(spec.places) & set(post.places):
        return False
    if spec.severities and post.severity not in spec.severities:
        return False
    return scheme.query.matches(post.text)


@dataclass
class Outcome:
    tagged: int = 0
    queued: int = 0


def case_requests(schemes: Iterable[ActiveScheme], posts: Sequence[PostView]
                  ) -> dict[int, tuple[int, str]]:
    """event id -> (level, scheme name) for matches that would not cross the threshold
    alone, from schemes that open cases; the gravest requested level wins."""
    out: dict[int, tuple[int, str]] = {}
    for scheme in schemes:
        spec = scheme.spec
        if not spec.open_case:
            continue
        for post in posts:
            if post.event_id is None or not scheme_matches(scheme, post):
                continue
            if post.severity is not None and post.severity <= spec.case_severity:
                continue  # the post crosses the threshold by itself
            known = out.get(post.event_id)
            if known is None or spec.case_severity < known[0]:
                out[post.event_id] = (spec.case_severity, spec.name)
    return out


def _tag(session: Session, post_id: int, key: str, now: datetime) -> int:
    values = {"post_id": post_id, "scheme_key": key, "at": now}
    name = session.get_bind().dialect.name
    dialect = postgresql if name == "postgresql" else sqlite if name == "sqlite" else None
    if dialect is None:
        if session.scalar(select(PostTag.id).where(PostTag.post_id == post_id,
                                                   PostTag.scheme_key == key)):
            return 0
        stmt: Any = insert(PostTag).values(**values)
    else:
        stmt = dialect.insert(PostTag).values(**values).on_conflict_do_nothing(
            index_elements=["post_id", "scheme_key"])
    return len(session.execute(stmt.returning(PostTag.id)).all())


def addresses(session: Session, spec: SchemeSpec, kinds: Mapping[str, str]
              ) -> list[tuple[str, str]]:
    """(channel name, address) per subscriber, as the channels' ``send`` reads them."""
    out: list[tuple[str, str]] = []
    for sub in spec.subscribers:
        kind, to = kinds.get(sub.channel), sub.to.strip()
        if kind is None:
            continue  # the channel was removed from channels.yaml since
        if kind == "console":
            if to and to != "monitors":
                unit = session.scalar(select(Unit).where(Unit.code == to))
                if unit is None:
                    continue
                to = f"unit:{unit.id}"
            else:
                to = "monitors"
        elif kind in ("wecom", "dingtalk", "webhook") and not to:
            to = "default"  # the channel's own robot / URL
        out.append((sub.channel, to))
    return list(dict.fromkeys(out))


def post_message(name: str, post: PostView, tz: tzinfo) -> tuple[str, str, dict[str, Any]]:
    title = one_line(post.title) or one_line(post.text)[:40] or f"信息 {post.id}"
    excerpt = one_line(post.excerpt or post.text)[:EXCERPT_CHARS]
    link = post.url if post.url.lower().startswith(("http://", "https://")) else ""
    lines = [f"监测方案「{name}」命中新信息", f"标题：{title}", f"来源：{post.source_name}",
             f"时间：{when(post.published_at or post.at, tz)}"]
    if post.severity in SEVERITY_SHORT:
        lines.append(f"级别：{SEVERITY_SHORT[post.severity]}")
    lines += [f"摘要：{excerpt}", f"链接：{link or '无'}"]
    payload = {"link": link, "post_id": post.id, "scheme": name, "title": title,
               "source": post.source, "severity": post.severity}
    return f"【监测方案】{name}：{title[:40]}", "\n".join(lines), payload


def window_message(name: str, count: int, minutes: int, latest: Sequence[PostView],
                   tz: tzinfo) -> tuple[str, str, dict[str, Any]]:
    lines = [f"监测方案「{name}」：{minutes} 分钟内 {count} 条相关信息"]
    for p in latest:
        title = one_line(p.title) or one_line(p.text)[:40]
        lines.append(f"· {title}（{p.source_name}，{when(p.published_at or p.at, tz)}）"
                     + (f" {p.url}" if p.url.lower().startswith(("http://", "https://"))
                        else ""))
    first = latest[0] if latest else None
    payload = {"link": first.url if first and first.url.startswith("http") else "",
               "scheme": name, "count": count, "minutes": minutes}
    return f"【监测方案】{name}：{minutes} 分钟内 {count} 条", "\n".join(lines), payload


def _window_count(session: Session, key: str, post: PostView, minutes: int) -> int:
    start = post.at - timedelta(minutes=minutes)
    return int(session.scalar(
        select(func.count(PostTag.id)).join(Post, Post.id == PostTag.post_id)
        .where(PostTag.scheme_key == key, Post.collected_at > start,
               Post.collected_at <= post.at)) or 0)


def apply_schemes(session: Session, schemes: Iterable[ActiveScheme], posts: Sequence[PostView],
                  *, kinds: Mapping[str, str], tz: tzinfo, now: datetime) -> Outcome:
    """Match each post against each scheme and record the effects in ``session``."""
    out = Outcome()
    for scheme in schemes:
        spec = scheme.spec
        hits = [p for p in posts if scheme_matches(scheme, p)]
        if not hits:
            continue
        targets = addresses(session, spec, kinds) if spec.alert.mode != "off" else []
        for post in hits:
            # the match row also feeds "N within T" and the per-scheme spike counts
            out.tagged += _tag(session, post.id, scheme.key, now)
            if spec.alert.mode == "each":
                subject, body, payload = post_message(spec.name, post, tz)
                for channel, to in targets:
                    out.queued += enqueue_direct(
                        session, key=("scheme", scheme.key, "post", post.id, channel, to),
                        channel=channel, recipient=to, subject=subject, body=body,
                        payload=payload, now=now)
        if spec.alert.mode == "window":
            minutes, need = spec.alert.minutes, spec.alert.count
            session.flush()
            for post in hits:
                count = _window_count(session, scheme.key, post, minutes)
                if count < need:
                    continue
                # once per clock-aligned T-minute window: a burst that goes on is told again
                # in the next window, never twice in one
                bucket = int(post.at.timestamp() // (minutes * 60))
                latest = sorted((p for p in hits if p.at <= post.at), key=lambda p: p.at)[-3:]
                subject, body, payload = window_message(spec.name, count, minutes,
                                                        latest[::-1], tz)
                for channel, to in targets:
                    out.queued += enqueue_direct(
                        session, key=("scheme", scheme.key, "window", minutes, bucket, channel,
                                      to),
                        channel=channel, recipient=to, subject=subject, body=body,
                        payload=payload, now=now)
    return out
