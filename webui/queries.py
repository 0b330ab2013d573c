"""Reading cases for the console: filters, ordering, and authorization inside the query."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from sqlalchemy import Select, and_, bindparam, case, exists, func, or_, select, true
from sqlalchemy.orm import Session, selectinload

from routing.unit_tasks import DEFAULT_SOON_FRACTION, GROUP_LABELS, Group, UnitTask, unit_task
from store import (
    Assignment,
    Case,
    CaseAction,
    CaseState,
    Event,
    Post,
    PostTag,
    Role,
    Source,
    Unit,
)
from store.queue_order import QUEUE_STATES, case_commits
from webui.accounts import Viewer
from webui.workflow import actor_for, workflow

MAX_OFFSET = 10_000_000  # far beyond any queue; keeps OFFSET inside every database's range
# Filters older or later than these are typos; inside them every database can compare times.
EARLIEST, LATEST = datetime(1970, 1, 1, tzinfo=UTC), datetime(9000, 1, 1, tzinfo=UTC)

OPEN_STATES = (CaseState.NEW, CaseState.DISPATCHED, CaseState.ACKNOWLEDGED,
               CaseState.RESPONDED, CaseState.RETURNED)


class CaseFilter(BaseModel):
    """The queue's filters; the page and ``GET /api/v1/cases`` take the same parameters."""

    model_config = ConfigDict(extra="ignore")
    severity: list[int] = Field(default_factory=list)
    topic: str = ""
    place: str = Field("", pattern=r"^\d{0,12}$")
    unit: str = ""
    state: list[CaseState] = Field(default_factory=list)
    since: datetime | None = None
    until: datetime | None = None
    source: str = ""
    q: str = Field("", max_length=100)
    scheme: str = Field("", max_length=64, description="监测方案标识：只看含该方案命中信息的工单")
    extension: bool = Field(False, description="只看有待审批延期申请的工单")
    limit: int = Field(100, ge=1, le=500)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)
    cursor: str = Field("", max_length=64, pattern=r"^(\d{1,2}\.\d{1,18}\.\d{1,19})?$",
                        description="上一页返回的 next_cursor：从其后接着取（键集分页，"
                                    "不受翻页期间新增工单影响；给出时忽略 offset）")

    @field_validator("severity")
    @classmethod
    def _levels(cls, value: list[int]) -> list[int]:
        if any(v not in (1, 2, 3, 4) for v in value):
            raise ValueError("预警级别只能是 1–4")
        return value

    @field_validator("since", "until")
    @classmethod
    def _aware(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        # A time without an offset (the page's datetime-local inputs) is local time.
        if value is None:
            return None
        if value.tzinfo is None:
            zone = (info.context or {}).get("timezone", "Asia/Shanghai")
            value = value.replace(tzinfo=ZoneInfo(zone))
        try:
            in_range = EARLIEST <= value.astimezone(UTC) <= LATEST
        except OverflowError:  # 0001-01-01 00:00 local has no UTC instant
            in_range = False
        if not in_range:
            raise ValueError("时间超出范围（应在 1970 年至 9000 年之间）")
        return value

    @classmethod
    def from_args(cls, args: Any, timezone: str = "Asia/Shanghai") -> CaseFilter:
        data: dict[str, Any] = {k: v for k, v in args.items() if v != ""}
        for many in ("severity", "state"):
            values = [v for v in args.getlist(many) if v != ""]
            if values:
                data[many] = values
        return cls.model_validate(data, context={"timezone": timezone})


def visible_cases(viewer: Viewer) -> Select[tuple[Case]]:
    """select(Case) limited to what the viewer may see (the workflow's version when present)."""
    wf = workflow()
    if wf is not None:
        return wf.visible_cases(actor_for(viewer))
    query = select(Case)
    if viewer.role == Role.UNIT:
        mine = exists().where(Assignment.case_id == Case.id,
                              Assignment.unit_id == (viewer.unit_id or -1),
                              Assignment.active.is_(True))
        query = query.where(mine)
    return query


def next_due():  # type: ignore[no-untyped-def]
    """The deadline that matters now: signing while dispatched, answering while open."""
    return case(
        (Case.state == CaseState.DISPATCHED, func.coalesce(Case.due_sign_at, Case.due_answer_at)),
        (Case.state.in_([CaseState.NEW, CaseState.ACKNOWLEDGED, CaseState.RETURNED]),
         func.coalesce(Case.due_first_response_at, Case.due_answer_at)),
        else_=None,
    )


def filtered(viewer: Viewer, f: CaseFilter) -> Select[tuple[Case]]:
    query = visible_cases(viewer)
    if f.severity:  # the stored sort key equals the level for 1–4: the queue index's column
        query = query.where(Case.queue_severity.in_(f.severity))
    if f.topic:
        query = query.where(Case.topic == f.topic)
    if f.place:
        query = query.where(Case.place_code.like(f.place + "%"))
    if f.unit:
        query = query.where(exists().where(Assignment.case_id == Case.id,
                                           Assignment.unit_id == Unit.id, Unit.code == f.unit))
    if f.state:
        query = query.where(Case.state.in_(f.state))
    else:  # the open states, as the stored key says: a covering index count and walk
        query = query.where(Case.queue_open == true())
    if f.since:
        query = query.where(Case.created_at >= f.since)
    if f.until:
        query = query.where(Case.created_at < f.until)
    if f.source:
        query = query.where(exists().where(Post.event_id == Case.event_id,
                                           Post.source_id == Source.id, Source.key == f.source))
    if f.q:
        query = query.where(Case.title.contains(f.q, autoescape=True))
    if f.scheme:
        query = query.where(exists().where(Post.event_id == Case.event_id,
                                           PostTag.post_id == Post.id,
                                           PostTag.scheme_key == f.scheme))
    if f.extension:  # a pending request holds its hours; an answered one is {}
        query = query.where(Case.extension_request["hours"].as_float().is_not(None))
    return query


def cursor_of(c: Case | CaseRow) -> str:
    """The keyset position just after ``c`` in the queue's order."""
    micros = (max(c.queue_due_at, EARLIEST) - EARLIEST) // timedelta(microseconds=1)
    return f"{c.queue_severity}.{micros}.{c.id}"


def _after(query: Select[tuple[Case]], cursor: str) -> Select[tuple[Case]]:
    level, micros, case_id = (int(p) for p in cursor.split("."))
    due = EARLIEST + timedelta(microseconds=micros)
    return query.where(Case.queue_severity >= level, or_(
        Case.queue_severity > level,
        and_(Case.queue_severity == level, Case.queue_due_at > due),
        and_(Case.queue_severity == level, Case.queue_due_at == due, Case.id < case_id)))


@dataclass(slots=True)
class UnitRow:
    id: int
    code: str
    name: str
    short_name: str | None


@dataclass(slots=True)
class AssignmentRow:
    role: str
    active: bool
    unit: UnitRow | None


@dataclass(slots=True)
class EventRow:
    post_count: int


@dataclass(slots=True)
class CaseRow:
    """What a queue row shows of a case (``present.case_summary`` reads it like a Case)."""

    id: int
    title: str
    state: str
    severity: int | None
    topic: str | None
    place_code: str | None
    urgent: bool
    overdue: bool
    supervised: bool
    extension_request: dict[str, Any] | None
    due_sign_at: datetime | None
    due_first_response_at: datetime | None
    due_press_at: datetime | None
    due_answer_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime
    queue_severity: int
    queue_due_at: datetime
    event: EventRow | None = None
    assignments: list[AssignmentRow] = field(default_factory=list)


_ROW_COLUMNS = (Case.id, Case.title, Case.state, Case.severity, Case.topic, Case.place_code,
                Case.urgent, Case.overdue, Case.supervised, Case.extension_request,
                Case.due_sign_at, Case.due_first_response_at, Case.due_press_at,
                Case.due_answer_at, Case.version, Case.created_at, Case.updated_at,
                Case.queue_severity, Case.queue_due_at)


# (viewer, filter) -> (change marker, total). Counting the open queue walks every open case's
# index entry (7–10 ms at 100k cases, most of an API page); the count only changes with an
# audit row (every state, level, topic or assignment change writes one) or a new case.
_TOTALS: dict[tuple[Any, ...], tuple[Any, int]] = {}
_TOTALS_MAX = 512


# Statements that run on every queue page are built once: SQLAlchemy memoizes a statement's
# cache key on the object, and building plus keying a statement cost more than running these
# small queries. Values come in through bind parameters. They read plain columns, so they run
# on the session's connection (Core): the ORM layer of Session.execute (about 0.1 ms a
# statement) cost as much as the queries, and a read-only page has nothing to autoflush.
_MARKER = select(select(func.max(CaseAction.id)).scalar_subquery(),
                 select(func.max(Case.id)).scalar_subquery())
# a page's assignments with their units, in one statement
_LINKS = (select(Assignment.case_id, Assignment.role, Assignment.active, Unit.id, Unit.code,
                 Unit.name, Unit.short_name)
          .outerjoin(Unit, Unit.id == Assignment.unit_id)
          .where(Assignment.case_id.in_(bindparam("case_ids", expanding=True)))
          .order_by(Assignment.id))
_UNITS = (select(Unit.id, Unit.code, Unit.name, Unit.short_name)
          .where(Unit.active.is_(True)).order_by(Unit.id))
_SOURCES = select(Source.id, Source.key, Source.name).order_by(Source.name)


def _marker(session: Session) -> Any:
    """Newest audit row and newest case (primary-key maxima, an index probe each: other
    processes' changes), and this process's committed case changes (any, audited or not)."""
    return (case_commits(), *session.connection().execute(_MARKER).one())


def _total(session: Session, viewer: Viewer, f: CaseFilter, query: Select[tuple[Case]]) -> int:
    def count() -> int:
        # a plain count over the same conditions (no subquery): a covering index count
        return session.scalar(query.with_only_columns(func.count(Case.id))) or 0

    if f.source or f.scheme:  # these follow posts, which change without an audit row
        return count()
    # the database too: one process may serve several apps (tests, a second instance)
    key = (str(session.get_bind().url), viewer.user_id, viewer.role, viewer.unit_id,
           f.model_dump_json(exclude={"limit", "offset", "cursor"}))
    marker = _marker(session)  # before counting: a change in between only forces a recount
    cached = _TOTALS.get(key)
    if cached is not None and cached[0] == marker:
        return cached[1]
    total = count()
    if len(_TOTALS) >= _TOTALS_MAX:
        _TOTALS.clear()
    _TOTALS[key] = (marker, total)
    return total


# (who, filter with its page) -> (filtered query, page statement). Building the page's
# statement and its cache key cost more than running it; the same view (the first page of the
# open queue above all) is asked again and again, so the statement objects are kept, and
# SQLAlchemy reuses their memoized cache keys and compiled SQL.
_STATEMENTS: dict[tuple[Any, ...], tuple[Select[tuple[Case]], Select[Any]]] = {}
_STATEMENTS_MAX = 256


def _statements(viewer: Viewer, f: CaseFilter) -> tuple[Select[tuple[Case]], Select[Any]]:
    # visible_cases reads the role and the unit only (and whether the workflow is present)
    key = (viewer.role, viewer.unit_id, workflow() is None, f.model_dump_json())
    found = _STATEMENTS.get(key)
    if found is not None:
        return found
    query = filtered(viewer, f)
    if f.state and set(f.state) <= set(QUEUE_STATES):
        query = query.where(Case.queue_open == true())  # the index's leading column
    page = query
    if f.cursor:
        page = _after(page, f.cursor)
    page = (page.with_only_columns(*_ROW_COLUMNS, Event.post_count)
            .outerjoin(Event, Event.id == Case.event_id)
            .order_by(Case.queue_severity, Case.queue_due_at, Case.id.desc()).limit(f.limit))
    if not f.cursor:
        page = page.offset(f.offset)
    if len(_STATEMENTS) >= _STATEMENTS_MAX:
        _STATEMENTS.clear()
    _STATEMENTS[key] = query, page
    return query, page


def list_cases(session: Session, viewer: Viewer, f: CaseFilter) -> tuple[list[CaseRow], int]:
    """One page in the queue's order (``store/queue_order.py``): an index walk over the
    stored sort keys, reading plain columns of only what a queue row shows (three small
    queries, no ORM objects)."""
    query, page = _statements(viewer, f)
    total = _total(session, viewer, f, query)
    rows = [CaseRow(*r[:-1], event=EventRow(r[-1]) if r[-1] is not None else None)
            for r in session.connection().execute(page)]
    if rows:
        by_id = {c.id: c for c in rows}
        units: dict[int, UnitRow] = {}
        for case_id, role, active, unit_id, code, name, short in session.connection().execute(
                _LINKS, {"case_ids": list(by_id)}):
            unit = None
            if unit_id is not None:
                unit = units.get(unit_id) or units.setdefault(
                    unit_id, UnitRow(unit_id, code, name, short))
            by_id[case_id].assignments.append(AssignmentRow(role, active, unit))
    return rows, total


def get_case(session: Session, viewer: Viewer, case_id: int) -> Case | None:
    """The case if the viewer may see it; None hides whether it exists at all."""
    return session.scalar(visible_cases(viewer).where(Case.id == case_id).options(
        selectinload(Case.assignments).selectinload(Assignment.unit),
        selectinload(Case.actions), selectinload(Case.event)))


def event_posts(session: Session, event_id: int, limit: int = 200) -> list[Post]:
    return list(session.scalars(
        select(Post).where(Post.event_id == event_id)
        .options(selectinload(Post.source), selectinload(Post.places))
        .order_by(func.coalesce(Post.published_at, Post.collected_at), Post.id).limit(limit)))


CLOSED_SHOWN = timedelta(days=30)  # 已办结 on "my cases": the last 30 days, not the archive


def my_cases(session: Session, viewer: Viewer, now: datetime,
             soon_fraction: float = DEFAULT_SOON_FRACTION
             ) -> dict[Group, list[tuple[Case, Assignment, UnitTask]]]:
    """A unit's cases grouped by what the unit must do next (``routing.unit_tasks``)."""
    reopened = (select(CaseAction.case_id, func.max(CaseAction.at).label("at"))
                .where(CaseAction.action == "reopen",
                       CaseAction.to_state == CaseState.ACKNOWLEDGED)
                .group_by(CaseAction.case_id).subquery())
    rows = session.execute(
        select(Case, Assignment, reopened.c.at)
        .join(Assignment, and_(Assignment.case_id == Case.id,
                               Assignment.unit_id == viewer.unit_id,
                               Assignment.active.is_(True)))
        .outerjoin(reopened, reopened.c.case_id == Case.id)
        .where(Case.id.in_(visible_cases(viewer).with_only_columns(Case.id)))
        .where(Case.state != CaseState.DISMISSED)
        .where(or_(Case.state != CaseState.CLOSED, Case.closed_at.is_(None),
                   Case.closed_at >= now - CLOSED_SHOWN))
        .options(selectinload(Case.assignments).selectinload(Assignment.unit),
                 selectinload(Case.event))).all()
    out: dict[Group, list[tuple[Case, Assignment, UnitTask]]] = {g: [] for g in GROUP_LABELS}
    for c, a, reopened_at in rows:
        task = unit_task(c, a, now=now, reopened_at=_aware(reopened_at),
                         soon_fraction=soon_fraction)
        out[task.group].append((c, a, task))
    far = datetime.max.replace(tzinfo=UTC)
    for group, items in out.items():
        if group == Group.CLOSED:
            items.sort(key=lambda t: t[0].closed_at or far, reverse=True)
        else:  # the nearest deadline first, then the most severe
            items.sort(key=lambda t: (t[2].due_at or far, t[0].severity or 9, -t[0].id))
    return out


def _aware(value: datetime | None) -> datetime | None:
    # an aggregate over a timestamp column comes back naive from SQLite
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def units(session: Session) -> list[Any]:
    """Active units for the pages' choosers: rows with id, code, name and short_name only
    (a Unit's duties and contacts are JSON the choosers never show)."""
    return list(session.connection().execute(_UNITS))


def sources(session: Session) -> list[Any]:
    """Sources for the choosers: rows with id, key and name (not their JSON config)."""
    return list(session.connection().execute(_SOURCES))


def event_for(session: Session, event_id: int) -> Event | None:
    return session.get(Event, event_id)

