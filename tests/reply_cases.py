"""A fixed set of 留言板 / 12345 records for the reply report, with figures worked by hand.

Local times (Asia/Shanghai); working hours 08:30–12:00 and 13:30–17:30 (7.5 h a day).
2025-10-01..08 is the National Day holiday; 2025-09-28 (Sun) and 2025-10-11 (Sat) are worked.
Period: 2025-09-01..2025-10-31; "now" is Monday 2025-11-03 12:00.

| id | message          | reply            | unit (as stored)          | natural h | working h |
|----|------------------|------------------|---------------------------|-----------|-----------|
| A  | 09-29 Mon 09:00  | 09-29 15:00      | 南京市江宁区东山街道办事处 | 6         | 4.5       |
| B  | 09-30 Tue 16:00  | 10-09 Thu 10:00  | 区教育局 (holiday between) | 210       | 3         |
| C  | 09-05 Fri 10:00  | 09-08 Mon 10:00  | 区教育局                   | 72        | 7.5       |
| D  | 10-20 Mon 09:00  | 10-20 09:30      | 东山街道                   | 0.5       | 0.5       |
| E  | 10-30 Thu 10:00  | —                | —                          | unanswered|           |
| F  | 10-15 Wed 10:00  | text, no time    | 区教育局                   | —         | —         |
| G  | 10-10 10:00      | 10-09 10:00      | 东山街道  → invalid        |           |           |
| H  | no message time  | —                | —          → undated       |           |           |
| I  | 09-10 Wed 09:00  | —                | 秣陵街道 (assigned, silent) | unanswered|           |

Outside the report: a news post with a reply-like field (wrong kind) and a board message of
2025-11-01 (after the period).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from routing.reports import Period
from routing.reports.replies import ReplyRecord
from store import Case, Database, Event, Post, Source, utcnow

TZ = ZoneInfo("Asia/Shanghai")
PERIOD = Period(datetime(2025, 9, 1).date(), datetime(2025, 10, 31).date())
NOW = datetime(2025, 11, 3, 12, 0, tzinfo=TZ)


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, month, day, hour, minute, tzinfo=TZ)


# name -> (message time, reply time, reply text, unit, topic, title)
ROWS: dict[str, tuple[datetime | None, datetime | None, str, str, str | None, str]] = {
    "A": (at(9, 29, 9), at(9, 29, 15), "已安排清运。", "南京市江宁区东山街道办事处",
          "environment", "小区门口垃圾堆积"),
    "B": (at(9, 30, 16), at(10, 9, 10), "已核实并退费。", "区教育局", "education",
          "学校收取资料费"),
    "C": (at(9, 5, 10), at(9, 8, 10), "已答复。", "区教育局", "education", "校车线路调整"),
    "D": (at(10, 20, 9), at(10, 20, 9, 30), "已处理。", "东山街道", "environment",
          "=HYPERLINK(\"http://evil.example\")污水外溢"),
    "E": (at(10, 30, 10), None, "", "", None, "路灯不亮"),
    "F": (at(10, 15, 10), None, "已转交学校办理。", "区教育局", "education", "食堂卫生"),
    "G": (at(10, 10, 10), at(10, 9, 10), "已处理。", "东山街道", "environment", "时间倒置"),
    "H": (None, None, "", "", None, "没有留言时间"),
    "I": (at(9, 10, 9), None, "", "秣陵街道", "traffic", "道路积水"),
}
SHOWN_UNIT = {"南京市江宁区东山街道办事处": "东山街道"}


def records(ids: dict[str, int] | None = None) -> list[ReplyRecord]:
    """The rows as the loader would return them (ids: name -> post id)."""
    ids = ids or {name: n for n, name in enumerate(ROWS, start=1)}
    return [ReplyRecord(post_id=ids[name], published_at=msg, reply_at=reply,
                        replied=bool(text) or reply is not None,
                        unit=SHOWN_UNIT.get(unit, unit), topic=topic, title=title)
            for name, (msg, reply, text, unit, topic, title) in ROWS.items()]


def store_posts(db: Database) -> dict[str, int]:
    """Store the rows as posts of a board source and an import source; name -> post id.

    Post D belongs to an event with a case, so the slowest list can link to it.
    """
    ids: dict[str, int] = {}
    with db.session() as s:
        board = Source(key="test:board", name="区长信箱", kind="board", source_kind="board")
        imported = Source(key="import:12345", name="导入：12345", kind="import",
                          source_kind="import")
        news = Source(key="test:news", name="新闻", kind="feed", source_kind="news")
        s.add_all([board, imported, news])
        s.flush()
        for name, (msg, reply, text, unit, topic, title) in ROWS.items():
            src = board if name in "ABDG" else imported
            post = Post(source_id=src.id, external_id=name, url=f"https://board.example/{name}",
                        content_hash=f"h{name}", title=title, text=f"{title}。", published_at=msg,
                        collected_at=at(10, 1, 0) if msg is None else utcnow(),
                        reply_text=text, reply_at=reply, reply_unit=unit, topic=topic)
            s.add(post)
            s.flush()
            ids[name] = post.id
            if name == "D":
                event = Event(title=title, topic=topic, severity=3, first_post_id=post.id)
                s.add(event)
                s.flush()
                post.event_id = event.id
                s.add(Case(event_id=event.id, title=title, state="closed", severity=3,
                           topic=topic))
        s.add(Post(source_id=news.id, external_id="N1", content_hash="hN1", title="新闻",
                   text="新闻正文", published_at=at(10, 2, 9), reply_text="x",
                   reply_at=at(10, 2, 10), reply_unit="东山街道"))
        s.add(Post(source_id=board.id, external_id="late", content_hash="hlate", title="十一月",
                   text="十一月留言", published_at=at(11, 1, 9)))
    return ids


def case_of(db: Database, post_id: int) -> int | None:
    with db.session() as s:
        return s.scalar(select(Case.id).join(Post, Post.event_id == Case.event_id)
                        .where(Post.id == post_id))
