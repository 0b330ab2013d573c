"""SQLAlchemy models: the one schema for SQLite and PostgreSQL (changed only by migrations)."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


NO_DUE = datetime(9999, 1, 1, tzinfo=UTC)  # "no deadline" sorts after every real one


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC: SQLite keeps no offsets, PostgreSQL agrees."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)

    def result_processor(self, dialect: Any, coltype: Any) -> Any:
        # One call per value instead of three (the decorator's wrapper, the SQLite string
        # parser, process_result_value): a queue page reads 350 timestamps.
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        return _sqlite_utc


def _sqlite_utc(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        if len(value) > 10:  # a time part ("2026-03-04+00:00" would read "+" as the T)
            try:  # naive UTC as SQLAlchemy writes it: aware in one C call (replace is slow)
                return datetime.fromisoformat(value + "+00:00")
            except ValueError:  # an offset already, from raw SQL
                pass
        value = datetime.fromisoformat(value)
    elif not isinstance(value, datetime):  # a number or a date some raw SQL stored
        raise TypeError(f"not a timestamp: {value!r}")
    if value.tzinfo is not None:  # written with an offset by hand: keep the instant
        return value.astimezone(UTC)
    return value.replace(tzinfo=UTC)


# Stable constraint names so Alembic migrations work the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}  # noqa: RUF012


class CaseState(StrEnum):
    NEW = "new"  # 待研判
    DISPATCHED = "dispatched"  # 待签收
    ACKNOWLEDGED = "acknowledged"  # 处置中
    RESPONDED = "responded"  # 已回应
    CLOSED = "closed"  # 已办结
    DISMISSED = "dismissed"  # 不予处置
    RETURNED = "returned"  # 退回 (back with the monitors)
    MERGED = "merged"  # 已并案 (merged into another case; merged_into_id says which)


class AssignmentRole(StrEnum):
    LEAD = "lead"  # 主办
    CO = "co"  # 协办
    INFORMED = "informed"  # 通报 (outside the home jurisdiction; no duty to answer)


class Role(StrEnum):
    ADMIN = "admin"
    MONITOR = "monitor"
    UNIT = "unit"
    LEADER = "leader"


class Jurisdiction(Base):
    __tablename__ = "jurisdictions"
    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(20))
    parent_code: Mapped[str | None] = mapped_column(String(12), index=True)
    aliases: Mapped[list[Any]] = mapped_column(default=list)


class Unit(Base):
    __tablename__ = "units"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    short_name: Mapped[str] = mapped_column(String(100), default="")
    kind: Mapped[str] = mapped_column(String(20))
    jurisdiction_code: Mapped[str] = mapped_column(String(12), index=True)
    duties: Mapped[list[Any]] = mapped_column(default=list)
    leader: Mapped[dict[str, Any]] = mapped_column(default=dict)
    contacts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    api_token_hash: Mapped[str | None] = mapped_column(String(128), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]  # the last successful sign-in (admin desk)
    token_created_at: Mapped[datetime | None]
    token_last_used_at: Mapped[datetime | None]  # written at most once a minute
    unit: Mapped[Unit | None] = relationship()


class UserSession(Base):
    """A signed-in browser: the cookie carries a random id, only its hash is stored here.

    Deleting the row ends the session at once (logout, password change, disabled user).
    """

    __tablename__ = "user_sessions"
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class LoginThrottle(Base):
    """Failed sign-ins per (user name as typed, client address): backoff, never an account lock.

    Names that do not exist are counted the same way, so throttling reveals nothing.
    """

    __tablename__ = "login_throttles"
    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    client: Mapped[str] = mapped_column(String(64), primary_key=True)
    tries: Mapped[int] = mapped_column(Integer, default=0)  # claimed since the last success
    strikes: Mapped[int] = mapped_column(Integer, default=0)  # blocks so far: the backoff step
    blocked_until: Mapped[datetime | None]
    last_try_at: Mapped[datetime] = mapped_column(index=True)


class Source(Base):
    __tablename__ = "sources"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))  # feed / html / json_api / board / import
    source_kind: Mapped[str] = mapped_column(String(20), default="")  # news / social / ...
    authority: Mapped[str] = mapped_column(String(20), default="local")
    default_place: Mapped[str] = mapped_column(String(12), default="")
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # health, updated after each run
    last_run_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SourceRun(Base):
    __tablename__ = "source_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    ok: Mapped[bool] = mapped_column(Boolean, default=False)
    pages: Mapped[int] = mapped_column(Integer, default=0)
    new: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    duplicate: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list[Any]] = mapped_column(default=list)  # [{url, reason}], a sample


class Event(Base):
    __tablename__ = "events"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    topic: Mapped[str | None] = mapped_column(String(50), index=True)
    severity: Mapped[int | None] = mapped_column(Integer)
    first_post_id: Mapped[int | None] = mapped_column(BigInteger)
    first_source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id"))
    first_seen_at: Mapped[datetime | None] = mapped_column(index=True)
    last_seen_at: Mapped[datetime | None] = mapped_column(index=True)
    post_count: Mapped[int] = mapped_column(Integer, default=0)
    source_count: Mapped[int] = mapped_column(Integer, default=0)
    keywords: Mapped[list[Any]] = mapped_column(default=list)
    places: Mapped[list[Any]] = mapped_column(default=list)
    trend: Mapped[dict[str, Any]] = mapped_column(default=dict)  # hour (ISO) -> posts
    # set in the analysis transaction that changed the event, cleared in the routing
    # transaction that opened or updated its case: a crash in between is routed at restart
    routing_pending: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Post(Base):
    __tablename__ = "posts"
    __table_args__ = (
        UniqueConstraint("source_id", "external_id", name="uq_posts_source_external"),
        Index("ix_posts_published", "published_at"),
        Index("ix_posts_collected", "collected_at"),
        Index("ix_posts_analyzed", "analyzed_at"),  # workers' pending poll and catch-up
    )
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    external_id: Mapped[str] = mapped_column(String(200))  # site id, else derived from the URL
    url: Mapped[str] = mapped_column(Text, default="")
    url_hash: Mapped[str | None] = mapped_column(String(40), unique=True)  # canonical URL
    content_hash: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text)  # as collected
    text_norm: Mapped[str] = mapped_column(Text, default="")  # normalized for analysis
    truncated: Mapped[bool] = mapped_column(Boolean, default=False)
    author: Mapped[str] = mapped_column(String(200), default="")
    author_followers: Mapped[int] = mapped_column(BigInteger, default=0)
    published_at: Mapped[datetime | None]
    collected_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    reposts: Mapped[int] = mapped_column(BigInteger, default=0)
    comments: Mapped[int] = mapped_column(BigInteger, default=0)
    likes: Mapped[int] = mapped_column(BigInteger, default=0)
    source_kind: Mapped[str] = mapped_column(String(20), default="")
    place_hint: Mapped[str] = mapped_column(String(100), default="")
    reply_text: Mapped[str] = mapped_column(Text, default="")
    reply_at: Mapped[datetime | None]
    reply_unit: Mapped[str] = mapped_column(String(200), default="")
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # analysis (filled by the analysis step; reasons kept for the console)
    topic: Mapped[str | None] = mapped_column(String(50), index=True)
    topic_prob: Mapped[float | None] = mapped_column(Float)
    sentiment: Mapped[str | None] = mapped_column(String(10))
    sentiment_score: Mapped[float | None] = mapped_column(Float)
    severity: Mapped[int | None] = mapped_column(Integer, index=True)
    severity_score: Mapped[float | None] = mapped_column(Float)
    analysis: Mapped[dict[str, Any]] = mapped_column(default=dict)
    keywords: Mapped[list[Any]] = mapped_column(default=list)
    analyzed_at: Mapped[datetime | None]
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id"), index=True)
    # None or older than updated_at: the search index has not seen this version yet
    indexed_at: Mapped[datetime | None] = mapped_column(index=True)
    source: Mapped[Source] = relationship()
    places: Mapped[list[PostPlace]] = relationship(cascade="all, delete-orphan",
                                                   order_by="PostPlace.id")


class PostPlace(Base):
    __tablename__ = "post_places"
    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(12), index=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(20))
    confidence: Mapped[float] = mapped_column(Float, default=1.0)


class Case(Base):
    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), unique=True)
    title: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20), default=CaseState.NEW, index=True)
    severity: Mapped[int | None] = mapped_column(Integer, index=True)
    topic: Mapped[str | None] = mapped_column(String(50))
    place_code: Mapped[str | None] = mapped_column(String(12), index=True)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    outside: Mapped[bool] = mapped_column(Boolean, default=False)
    coordinator_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    routing: Mapped[dict[str, Any]] = mapped_column(default=dict)  # decision + explanation
    due_sign_at: Mapped[datetime | None] = mapped_column(index=True)
    due_first_response_at: Mapped[datetime | None]
    due_press_at: Mapped[datetime | None]
    due_answer_at: Mapped[datetime | None] = mapped_column(index=True)
    next_reminder_at: Mapped[datetime | None] = mapped_column(index=True)
    overdue: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    extensions: Mapped[int] = mapped_column(Integer, default=0)
    supervised: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)  # compare-and-set guard
    # what the SLA sweep has done per deadline ({"sign": {"reminded": true, "overdue": true,
    # "repeats": 2, "last_at": "..."}}), so a restart neither repeats nor skips a step
    sla_marks: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # a unit's pending 延期 request {"hours", "reason", "unit_id", "at"}; empty when none
    extension_request: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    dispatched_at: Mapped[datetime | None]
    responded_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    # 并案: this case was merged into that one (its posts and history show there); split clears it
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    # sort keys kept from state, severity and deadlines on every flush (store/queue_order.py)
    queue_open: Mapped[bool] = mapped_column(Boolean, default=False)
    queue_severity: Mapped[int] = mapped_column(Integer, default=9)
    queue_due_at: Mapped[datetime] = mapped_column(default=lambda: NO_DUE)
    event: Mapped[Event] = relationship()
    assignments: Mapped[list[Assignment]] = relationship(back_populates="case",
                                                         order_by="Assignment.id")
    actions: Mapped[list[CaseAction]] = relationship(back_populates="case",
                                                     order_by="CaseAction.id")


# The queue's order as an index walk: open cases, gravest, nearest deadline, newest case first
# on ties (queue_order.py); the same under one topic (the 领域 filter). Both end with the id,
# descending as the order says, so no page sorts ties in a temporary B-tree.
Index("ix_cases_queue_order", Case.queue_open, Case.queue_severity, Case.queue_due_at,
      Case.id.desc())
Index("ix_cases_topic_queue", Case.topic, Case.queue_open, Case.queue_severity,
      Case.queue_due_at, Case.id.desc())


class Assignment(Base):
    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("case_id", "unit_id", name="uq_assignments_case_unit"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    role: Mapped[str] = mapped_column(String(10))  # AssignmentRole
    state: Mapped[str] = mapped_column(String(20), default="pending")
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)
    signed_at: Mapped[datetime | None]
    responded_at: Mapped[datetime | None]
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    case: Mapped[Case] = relationship(back_populates="assignments")
    unit: Mapped[Unit] = relationship()


class CaseAction(Base):
    """The audit trail: one row per state change or notable act, written in the same transaction."""

    __tablename__ = "case_actions"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    action: Mapped[str] = mapped_column(String(30))
    rule: Mapped[str] = mapped_column(String(30), default="")
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    actor_name: Mapped[str] = mapped_column(String(100), default="")  # "系统" for sweeps
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    case: Mapped[Case] = relationship(back_populates="actions")


class Notification(Base):
    """One message to one recipient about one change; the key makes retries idempotent."""

    __tablename__ = "notifications"
    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    channel: Mapped[str] = mapped_column(String(50))
    recipient: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class Delivery(Base):
    """One attempt to deliver a notification, with its outcome."""

    __tablename__ = "deliveries"
    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    ok: Mapped[bool] = mapped_column(Boolean, default=False)
    permanent: Mapped[bool] = mapped_column(Boolean, default=False)
    detail: Mapped[str] = mapped_column(Text, default="")


class ChannelState(Base):
    """A notification channel switched off after a permanent error (until an admin re-enables)."""

    __tablename__ = "channel_states"
    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(Text, default="")
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class Notice(Base):
    """A message shown live in the web console (written by the console channel)."""

    __tablename__ = "notices"
    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("notifications.id"),
                                                        unique=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    severity: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class NoticeRead(Base):
    """A user has read a console notice (the inbox's per-user read state)."""

    __tablename__ = "notice_reads"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id"), primary_key=True,
                                           index=True)
    read_at: Mapped[datetime] = mapped_column(default=utcnow)


class Feedback(Base):
    """A monitor's correction of an analysis result; training reads these (--with-feedback)."""

    __tablename__ = "feedback"
    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    field: Mapped[str] = mapped_column(String(20))  # topic / sentiment / severity / place / unit
    old_value: Mapped[str | None] = mapped_column(String(200))
    new_value: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Scheme(Base):
    """A monitoring scheme (监测方案) managed in the console; YAML ones live in config.

    ``spec`` holds the validated definition (query, filters, subscribers, actions) as the
    console and ``schemes.yaml`` share one shape (``routing.schemes.SchemeSpec``).
    """

    __tablename__ = "schemes"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    owner: Mapped[str] = mapped_column(String(100), default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    spec: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(100), default="")


class PostTag(Base):
    """A post matched by a scheme (its tag); one row per (post, scheme key)."""

    __tablename__ = "post_tags"
    __table_args__ = (UniqueConstraint("post_id", "scheme_key", name="uq_post_tags_post_scheme"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    scheme_key: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class JobMark(Base):
    """A job's high-water mark (the scheme matcher: the last analysed post it has seen)."""

    __tablename__ = "job_marks"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[datetime | None]
    last_id: Mapped[int] = mapped_column(BigInteger, default=0)


class ConfigChange(Base):
    """One console edit of the configuration (admin desk): who, when, before and after.

    ``file`` names the config file (units, sources, ...), ``key`` the record (a unit code);
    ``before``/``after`` are the record's effective values (empty when created/retired).
    """

    __tablename__ = "config_changes"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    username: Mapped[str] = mapped_column(String(64), default="")
    file: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(128), default="")
    action: Mapped[str] = mapped_column(String(20))  # create / edit / retire / restore
    before: Mapped[dict[str, Any]] = mapped_column(default=dict)
    after: Mapped[dict[str, Any]] = mapped_column(default=dict)
