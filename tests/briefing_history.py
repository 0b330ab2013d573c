"""A fixed history for the briefing tests: two weeks of posts, two events with real cases.

Week under report: Monday 2026-11-16 .. Sunday 2026-11-22 (Asia/Shanghai); the previous week
2026-11-09 .. 11-15; "now" is NOW (Monday 2026-11-23 10:00 local). Counted by hand:

- this week 12 posts (E1: 6, E2: 3, a 留言板 message with its reply: 1, traffic: 2);
  the previous week 4 (E2: 1, traffic: 3)  ->  环比 +200 %.
- this week's topics: environment 6, education 4, traffic 2; sentiment: negative 8,
  neutral 3, positive 1 (negative share 8/12).
- E1 (II 重大, 东山街道, lead 东山街道): its case is signed late (sign limit 60 min, signed
  after 90) and answered within 48 h: 签收 超时完成, 首次权威发布 按时 (first response at +4 h
  against 5 h), 回应 按时.
- E2 (III 较大, 秣陵街道): dispatched to 秣陵街道 and never signed: overdue now.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from routing.cases import open_or_update_case
from routing.escalation import sweep
from routing.policy import Policy
from routing.workflow import Action, Actor, perform
from store import Database, Event, Post, PostPlace, Role, Source, Unit

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 10:00 in Nanjing
LOCAL = timedelta(hours=8)


def local(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    """A Nanjing wall-clock time in 2026 as an aware UTC datetime."""
    return datetime(2026, month, day, hour, minute, tzinfo=UTC) - LOCAL


@dataclass
class Decision:
    lead: str | None = None
    co: list[str] = field(default_factory=list)
    coordinator: str | None = "jn-publicity"
    informed: list[str] = field(default_factory=list)
    auto_dispatch: bool = False
    urgent: bool = False
    rule: str = "SINGLE-1"
    explanation: str = "事件发生在街道辖区，由属地街道主办"
    deadlines: dict[str, Any] = field(default_factory=dict)


@dataclass
class History:
    e1: int
    e2: int
    case1: int
    case2: int


def _source(s: Any, key: str, name: str, kind: str, source_kind: str) -> Source:
    src = Source(key=key, name=name, kind=kind, source_kind=source_kind)
    s.add(src)
    s.flush()
    return src


def seed(db: Database, policy: Policy) -> History:
    n = iter(range(1, 1000))
    with db.session() as s:
        news = _source(s, "t:news", "江宁新闻网", "feed", "news")
        weibo = _source(s, "t:weibo", "微博", "json_api", "social")
        board = _source(s, "t:board", "江宁区民意留言板", "board", "board")
        e1 = Event(title="东山街道某小区污水外溢多日无人处理", topic="environment", severity=2,
                   first_source_id=news.id, first_seen_at=local(17, 9), last_seen_at=local(22, 20),
                   post_count=6, source_count=2, places=["320115001"], keywords=["污水", "小区"],
                   summary="东山街道某小区污水外溢，居民多次反映。")
        e2 = Event(title="秣陵街道某小学收取不合理费用引家长不满", topic="education", severity=3,
                   first_source_id=weibo.id, first_seen_at=local(14, 10),
                   last_seen_at=local(21, 18), post_count=4, source_count=1,
                   places=["320115011"])
        s.add_all([e1, e2])
        s.flush()

        def post(src: Source, at: datetime, title: str, topic: str, sentiment: str,
                 event: Event | None = None, place: str | None = None, **extra: Any) -> Post:
                i = next(n)
                p = Post(source_id=src.id, external_id=f"x{i}", url=f"https://example.org/{i}",
                         content_hash=f"h{i}", title=title, text=f"{title}。正文{i}",
                         published_at=at, collected_at=at + timedelta(minutes=5),
                         source_kind=src.source_kind, topic=topic, sentiment=sentiment,
                         event_id=event.id if event else None, analyzed_at=at, **extra)
                s.add(p)
                s.flush()
                if place:
                    s.add(PostPlace(post_id=p.id, code=place, name="", level="township"))
                return p

        first = post(news, local(17, 9), "东山街道某小区污水外溢", "environment", "negative",
                     e1, "320115001")
        e1.first_post_id = first.id
        for day, hour, senti in ((17, 15, "negative"), (18, 9, "negative"),
                                 (19, 11, "negative"), (20, 8, "neutral"), (22, 20, "positive")):
            post(weibo, local(day, hour), "小区污水外溢还没人管", "environment", senti, e1,
                 "320115001", likes=10 * day)
        e2_first = post(weibo, local(14, 10), "某小学乱收费", "education", "negative", e2,
                        "320115011")
        e2.first_post_id = e2_first.id
        for day in (18, 20, 21):
            post(weibo, local(day, 18), "小学收费家长不满", "education", "negative", e2,
                 "320115011")
        post(board, local(19, 10), "孩子入学材料问题咨询", "education", "neutral",
             reply_text="您好，已联系学校补办入学材料。", reply_at=local(20, 16),
             reply_unit="江宁区教育局", likes=3)
        post(news, local(21, 9), "将军大道施工路段拥堵", "traffic", "negative")
        post(news, local(22, 9), "地铁新线开通方便出行", "traffic", "neutral")
        for day in (10, 12, 13):
            post(news, local(day, 9), "上周交通信息", "traffic", "neutral")
        ids = History(e1.id, e2.id, 0, 0)

    with db.session() as s:
        unit = {u.code: u.id for u in s.scalars(select(Unit))}
    monitor = Actor(user_id=None, role=Role.MONITOR, unit_id=unit["jn-publicity"], name="值班员小王")
    dongshan = Actor(user_id=None, role=Role.UNIT, unit_id=unit["jn-dongshan"], name="东山街道")

    opened = local(17, 10)
    c1 = open_or_update_case(db, ids.e1, Decision(lead="jn-dongshan"), 2, opened,
                             policy=policy).case_id
    assert c1 is not None
    perform(db, c1, Action.DISPATCH, monitor, data={"lead": "jn-dongshan", "co": []},
            now=opened + timedelta(minutes=10), policy=policy)
    perform(db, c1, Action.SIGN, dongshan, now=opened + timedelta(minutes=100), policy=policy)
    perform(db, c1, Action.RESPOND, dongshan, now=opened + timedelta(hours=4), policy=policy,
            data={"text": "街道已组织疏通管网，污水外溢已处置完毕。", "channel": "政务微博", "link": ""})
    perform(db, c1, Action.CLOSE, monitor, now=opened + timedelta(hours=6), policy=policy)

    c2 = open_or_update_case(db, ids.e2, Decision(lead="jn-moling"), 3, local(18, 19),
                             policy=policy).case_id
    assert c2 is not None
    perform(db, c2, Action.DISPATCH, monitor, data={"lead": "jn-moling", "co": ["jn-edu"]},
            now=local(18, 19, 30), policy=policy)
    sweep(db, NOW, policy=policy)  # marks case 2 overdue as the scheduler would
    ids.case1, ids.case2 = c1, c2
    return ids
