"""Full-text search for the console, the API, the CLI and the exports: one implementation.

The index (``store.search``) returns the exact hits (its candidates confirmed by a substring
test); this module turns the form into a ``SearchQuery``, applies who may see what, and joins
the hits with their posts, events and cases. It does not use Flask, so ``yuqing search`` shares
it.

Access: admins, monitors and leaders search every post; a unit user searches only the posts
of the cases its unit is (or was) assigned — the cases it can open — so search never shows a
unit a post it could not reach through its own case list.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from routing.reports import PRESETS, parse_period
from store import Case, Post, Role
from store.search import ParsedQuery, SearchIndex, SearchQuery, snippet_parts
from webui.accounts import Viewer
from webui.queries import visible_cases

MAX_PAGE = 500  # page × per_page stays far below any database's OFFSET range
EXPORT_LIMIT = 20_000  # rows per export; the page says so when a search has more
EXPORT_BATCH = 1_000


class SearchForm(BaseModel):
    """The page's, ``GET /api/v1/search``'s and the exports' parameters."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    q: str = Field("", max_length=200, description="检索式：空格分隔为“且”，-词 排除，"
                   "A | B（或 A OR B）为“或”，\"短语\" 按原样匹配")
    start: str = Field("", alias="from", max_length=10, description="开始日期 YYYY-MM-DD（含）")
    end: str = Field("", alias="to", max_length=10, description="结束日期 YYYY-MM-DD（含）")
    preset: str = Field("", max_length=20, description="时间段预设：" + "、".join(PRESETS))
    source: str = Field("", max_length=100, description="信息源代码")
    kind: str = Field("", max_length=20, description="信息源类型（news、weibo、board 等）")
    topic: str = Field("", max_length=50, description="领域代码")
    sentiment: str = Field("", max_length=10, description="情感：negative、neutral、positive")
    severity: int | None = Field(None, ge=1, le=4, description="预警级别 1–4")
    place: str = Field("", pattern=r"^\d{0,12}$", description="地区代码（含下级）")
    has_case: Literal["", "yes", "no"] = Field("", description="yes：已立工单；no：未立工单")
    event: int | None = Field(None, ge=1, le=2**63 - 1, description="只检索这个事件的信息")
    sort: Literal["relevance", "time"] = Field("relevance", description="relevance 或 time")
    page: int = Field(1, ge=1, le=MAX_PAGE)
    per_page: int = Field(20, ge=1, le=100)

    @field_validator("q")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()

    @classmethod
    def from_args(cls, args: Any) -> SearchForm:
        return cls.model_validate({k: v for k, v in args.items() if v != ""})

    def args(self) -> dict[str, str]:
        """The non-default parameters, for links (next page, exports)."""
        out = self.model_dump(by_alias=True, exclude_defaults=True, exclude={"page"})
        return {k: str(v) for k, v in out.items()}


@dataclass
class Hit:
    post_id: int
    title: str
    parts: list[tuple[str, bool]]  # the snippet: (raw text, is a hit); templates escape it
    published_at: datetime | None
    source: str
    source_name: str
    kind: str
    url: str
    topic: str | None
    sentiment: str | None
    severity: int | None
    event_id: int | None
    case_id: int | None

    @property
    def snippet(self) -> str:
        return "".join(p for p, _ in self.parts)

    def as_dict(self) -> dict[str, Any]:
        return {"post_id": self.post_id, "title": self.title, "snippet": self.snippet,
                "highlights": [p for p, hit in self.parts if hit],
                "published_at": self.published_at.isoformat() if self.published_at else None,
                "source": self.source, "source_name": self.source_name, "kind": self.kind,
                "url": self.url, "topic": self.topic, "sentiment": self.sentiment,
                "severity": self.severity, "event_id": self.event_id, "case_id": self.case_id}


@dataclass
class SearchPage:
    form: SearchForm
    total: int
    hits: list[Hit] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.form.per_page))

    def as_dict(self) -> dict[str, Any]:
        return {"total": self.total, "page": self.form.page, "per_page": self.form.per_page,
                "pages": self.pages, "items": [h.as_dict() for h in self.hits]}


def case_events(session: Session, viewer: Viewer | None) -> list[int] | None:
    """Events whose posts the viewer may search (None: every post)."""
    if viewer is None or viewer.role != Role.UNIT:
        return None
    mine = visible_cases(viewer).with_only_columns(Case.event_id)
    return sorted(session.scalars(mine))


def to_query(session: Session, viewer: Viewer | None, form: SearchForm, today: date,
             tz: tzinfo, limit: int, offset: int) -> SearchQuery:
    q = SearchQuery(text=form.q, order="newest" if form.sort == "time" else "relevance",
                    limit=limit, offset=offset, place=form.place,
                    sources=[form.source] if form.source else [],
                    kinds=[form.kind] if form.kind else [],
                    topics=[form.topic] if form.topic else [],
                    sentiments=[form.sentiment] if form.sentiment else [],
                    severities=[form.severity] if form.severity else [],
                    event_id=form.event)
    if form.start or form.end or form.preset:
        q.since, q.until = parse_period(form.start, form.end, form.preset or None,
                                        today).bounds(tz)
    allowed = case_events(session, viewer)
    if form.has_case:
        with_case = sorted(session.scalars(select(Case.event_id)))
        if form.has_case == "yes":
            allowed = with_case if allowed is None else allowed
        else:
            q.exclude_event_ids = with_case
            if allowed is not None:  # a unit's searchable posts all belong to its cases
                allowed = []
    q.event_ids = allowed
    return q


def _hits(session: Session, ids: list[int], texts: dict[int, str],
          parsed: ParsedQuery) -> list[Hit]:
    posts = {p.id: p for p in session.scalars(
        select(Post).where(Post.id.in_(ids)).options(selectinload(Post.source)))}
    events = {p.event_id for p in posts.values() if p.event_id is not None}
    cases = dict(session.execute(select(Case.event_id, Case.id)
                                 .where(Case.event_id.in_(events))).all()) if events else {}
    out = []
    for i in ids:
        p = posts.get(i)
        if p is None:  # deleted since it was indexed
            continue
        out.append(Hit(p.id, p.title, snippet_parts(texts.get(i, p.text_norm or p.text), parsed),
                       p.published_at or p.collected_at, p.source.key, p.source.name,
                       p.source_kind, p.url, p.topic, p.sentiment, p.severity, p.event_id,
                       cases.get(p.event_id) if p.event_id is not None else None))
    return out


def search(session: Session, index: SearchIndex, viewer: Viewer | None, form: SearchForm,
           today: date, tz: tzinfo) -> SearchPage:
    """One page of hits. Raises ``QuerySyntaxError`` for a malformed or empty query."""
    parsed = index.parse(form.q)  # validates before any work
    q = to_query(session, viewer, form, today, tz, form.per_page,
                 (form.page - 1) * form.per_page)
    result = index.search(q)
    return SearchPage(form, result.total, _hits(session, result.ids, result.texts, parsed))


EXPORT_HEADERS = ["编号", "标题", "摘要", "发布时间", "信息源", "类型", "领域", "情感", "级别",
                  "原文链接", "事件编号", "工单编号"]


def export_rows(db: Any, index: SearchIndex, viewer: Viewer | None, form: SearchForm,
                today: date, tz: tzinfo) -> Iterator[list[Any]]:
    """Every hit (up to EXPORT_LIMIT) as rows, read a batch at a time in their own sessions
    (the rows are written while the response streams), so no export holds every text."""
    parsed = index.parse(form.q)  # a malformed query fails here, before the download starts
    with db.session() as session:
        q = to_query(session, viewer, form, today, tz, EXPORT_BATCH, 0)

    def rows() -> Iterator[list[Any]]:
        for offset in range(0, EXPORT_LIMIT, EXPORT_BATCH):
            q.offset = offset
            result = index.search(q)
            with db.session() as session:
                hits = _hits(session, result.ids, result.texts, parsed)
            for h in hits:
                at = h.published_at.astimezone(tz) if h.published_at else None
                yield [h.post_id, h.title, h.snippet, at, h.source_name, h.kind, h.topic,
                       h.sentiment, h.severity, h.url, h.event_id, h.case_id]
            if offset + EXPORT_BATCH >= result.total:
                return

    return rows()
