"""Helpers for the scheme tests: a settings override with robots, posts as analysis leaves them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from store import Database, Post, PostPlace, Source

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # a Monday, 10:00 in Nanjing


def robot_channels(wecom_url: str, dingtalk_url: str) -> dict[str, Any]:
    """Console plus a WeCom and a DingTalk channel whose own robots nobody subscribes to."""
    return {"channels": [
        {"name": "console", "kind": "console", "enabled": True},
        {"name": "wecom", "kind": "wecom", "enabled": True,
         "options": {"url": wecom_url, "retries": 0}},
        {"name": "dingtalk", "kind": "dingtalk", "enabled": True,
         "options": {"url": dingtalk_url, "retries": 0}},
        {"name": "email", "kind": "email", "enabled": False, "options": {}},
    ]}


def source_id(db: Database, key: str = "forum", name: str = "江宁论坛") -> int:
    with db.session() as s:
        src = s.scalar(select(Source).where(Source.key == key))
        if src is None:
            src = Source(key=key, name=name, kind="board", source_kind="board")
            s.add(src)
            s.flush()
        return src.id


def add_post(db: Database, title: str, text: str, *, at: datetime = T0, topic: str | None = None,
             severity: int | None = None, places: tuple[str, ...] = (), event_id: int | None = None,
             analyzed: datetime | None = None, n: list[int] = [0]) -> int:  # noqa: B006
    n[0] += 1
    with db.session() as s:
        post = Post(source_id=source_id(db), external_id=f"p{n[0]}-{title[:10]}",
                    url=f"https://bbs.example.cn/t/{n[0]}", content_hash=f"h{n[0]}", title=title,
                    text=text, published_at=at - timedelta(minutes=5), collected_at=at,
                    topic=topic, severity=severity, event_id=event_id,
                    analyzed_at=analyzed or at)
        s.add(post)
        s.flush()
        s.add_all(PostPlace(post_id=post.id, code=c, name=c, level="township") for c in places)
        return post.id
