"""A small stored and indexed set of posts for the search desk's page, API, CLI and browser
tests: an event with a case assigned to 东山街道, a post without a case, a hostile payload."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from store import Assignment, Case, Database, Event, Post, Source, Unit
from yuqing.context import AppContext
from yuqing.ingest import index_posts

T0 = datetime(2025, 6, 10, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'

# (key, title, text, reply, source, hours before T0, case for 东山街道)
POSTS = [
    ("sewage", "東山街道竹山路污水外溢", "小区门口污水外溢多日，居民投诉无人处理。", "", "weibo", 1, True),
    ("canteen", "学校食堂饭菜变质", "多名学生腹泻，家长要求彻查学校食堂。", "区教育局已责令整改。",
     "board", 30, False),
    ("flood", "地下车库积水", "暴雨后地下 车库积水严重，ＰＭ2.5 监测站也停了。", "", "news", 50, False),
    ("ad", "食堂承包广告", "专业食堂承包，欢迎来电。", "", "news", 3, False),
    # the body's entities decode during normalization: the searched text holds the payload
    ("xss", f"恶意标题{XSS}", f"正文含污水{html.escape(XSS)}字样", "", "weibo", 5, False),
    ("formula", "=HYPERLINK(\"http://evil\")污水", "公式注入测试：污水", "", "board", 7, False),
]


def seed_search_posts(ctx: AppContext) -> dict[str, int]:
    """Store, link and index the posts; returns key -> post id (``case:sewage`` -> case id)."""
    db: Database = ctx.db
    ids: dict[str, int] = {}
    with db.session() as s:
        sources = {}
        for key, kind in (("weibo", "social"), ("board", "board"), ("news", "news")):
            src = Source(key=f"search:{key}", name=f"检索测试{key}", kind="json_api",
                         source_kind=kind)
            s.add(src)
            sources[key] = src
        s.flush()
        street = s.scalar(select(Unit.id).where(Unit.code == "jn-dongshan"))
        for n, (key, title, text, reply, src, hours, with_case) in enumerate(POSTS):
            at = T0 - timedelta(hours=hours)
            event = Event(title=title, topic="environment", severity=3,
                          first_source_id=sources[src].id, first_seen_at=at, last_seen_at=at,
                          post_count=1, source_count=1)
            s.add(event)
            s.flush()
            post = Post(source_id=sources[src].id, external_id=f"s{n}", url=f"https://x.example/{n}",
                        content_hash=f"search{n}", title=title, text=text, reply_text=reply,
                        published_at=at, collected_at=at, updated_at=at,
                        source_kind=sources[src].source_kind, event_id=event.id,
                        topic="environment", severity=3, sentiment="negative")
            s.add(post)
            s.flush()
            ids[key] = post.id
            if with_case:
                case = Case(event_id=event.id, title=title, state="dispatched", severity=3,
                            topic="environment", place_code="320115001", created_at=at)
                s.add(case)
                s.flush()
                s.add(Assignment(case_id=case.id, unit_id=street, role="lead"))
                ids[f"case:{key}"] = case.id
    index_posts(db, ctx.index, [v for k, v in ids.items() if not k.startswith("case:")])
    return ids
