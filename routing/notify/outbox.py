"""The outbox: notifications are rows written with the case change, delivered by a job.

``enqueue`` runs inside the caller's transaction and writes one row per (case, change,
recipient) with an idempotency key, so a retried change never queues twice. Those rows have
channel ``"*"``: ``deliver_due`` expands each into one row per enabled channel (key plus
channel and address) and sends them. Every attempt is a Delivery row; a send is claimed with
``SELECT … FOR UPDATE SKIP LOCKED`` and compare-and-set on (status, attempts) so two processes
(the workers sending right after routing, the leader's retry sweep) never send the same row.

Statuses: pending → sending → sent; "expanded" for the "*" rows; "failed" when the address
itself is refused; "unknown" when a channel that must not send twice (the robots) got no
answer in time, so the message may or may not have arrived. Transient failures back off
exponentially up to a cap and are retried for ``Retry.give_up`` (72 hours by default,
``retry`` in channels.yaml); then the message is "expired", and the next pass marks every
expired message of a channel "dead" together with one console notice to the monitors, in one
transaction, so nobody is left uninformed even across a crash. A permanent channel fault
disables the channel and says so; its messages wait for it.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from routing.notify.base import Channel, Notice, TransportError, parse_recipient
from store import ChannelState, Database, Delivery, Notification, Unit
from store import Notice as NoticeRow

log = logging.getLogger(__name__)

FANOUT = "*"
# a claimed row whose sender died is retried after this lease (longer than any one send)
LEASE = timedelta(minutes=10)


@dataclass(frozen=True)
class Retry:
    """How long and how often a transiently failing message is retried (channels.yaml)."""

    first: timedelta = timedelta(seconds=30)  # the first retry; each next one doubles
    cap: timedelta = timedelta(hours=1)  # ... up to this
    give_up: timedelta = timedelta(hours=72)  # after this since queueing: dead, monitors told

    @classmethod
    def from_settings(cls, cfg: Any) -> Retry:
        """From ``yuqing.settings.DeliveryRetry`` (duck-typed: routing does not import yuqing)."""
        return cls(first=timedelta(seconds=cfg.first_seconds),
                   cap=timedelta(minutes=cfg.cap_minutes),
                   give_up=timedelta(hours=cfg.give_up_hours))

    def backoff(self, attempts: int) -> timedelta:
        # the exponent stops growing long after the cap: 2**n must not overflow timedelta
        return min(self.first * 2 ** min(max(attempts - 1, 0), 30), self.cap)


def _key(*parts: Any) -> str:
    key = ":".join(str(p) for p in parts)
    if len(key) > 200:  # the column's size; keep it unique with a digest
        key = key[:150] + "#" + hashlib.sha1(key.encode()).hexdigest()
    return key


_INSERT_IGNORE: dict[str, Any] = {}  # per dialect, built once: compiled once, cached


def _insert_ignore_statement(dialect: str) -> Any:
    """INSERT … ON CONFLICT (idempotency_key) DO NOTHING RETURNING id, or None where the
    dialect has no such clause."""
    if dialect not in _INSERT_IGNORE:
        table = Notification.__table__
        stmt: Any = None
        if dialect == "postgresql":
            stmt = postgresql.insert(table).on_conflict_do_nothing(
                index_elements=["idempotency_key"])
        elif dialect == "sqlite":
            stmt = sqlite.insert(table).on_conflict_do_nothing(index_elements=["idempotency_key"])
        # count by RETURNING: rowcount is unreliable for ON CONFLICT across drivers
        _INSERT_IGNORE[dialect] = stmt.returning(table.c.id) if stmt is not None else None
    return _INSERT_IGNORE[dialect]


def _insert_ignore(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert these notification rows, skipping those whose idempotency key exists; returns
    how many were inserted. One statement for all of them (executemany)."""
    if not rows:
        return 0
    stmt = _insert_ignore_statement(session.get_bind().dialect.name)
    if stmt is not None:
        return len(session.execute(stmt, rows).all())
    made = 0
    for values in rows:  # other backends: check first (the unique key still guards)
        if session.scalar(select(Notification.id).where(
                Notification.idempotency_key == values["idempotency_key"])):
            continue
        session.execute(insert(Notification).values(**values))
        made += 1
    return made


def change_key(case_id: int | None, change: str, recipient: str) -> str:
    return _key("case", case_id, change, recipient)


def queue_rows(*, case_id: int | None, change: str, recipients: Iterable[str], subject: str,
               body: str, payload: Mapping[str, Any], now: datetime,
               not_before: datetime | None = None) -> list[dict[str, Any]]:
    """The notification rows ``enqueue`` inserts: one per recipient of this change."""
    return [{"idempotency_key": change_key(case_id, change, recipient), "case_id": case_id,
             "channel": FANOUT, "recipient": recipient, "subject": subject, "body": body,
             "payload": dict(payload), "status": "pending", "attempts": 0,
             "next_attempt_at": not_before or now, "created_at": now}
            for recipient in dict.fromkeys(recipients)]  # unique, in order


def queue_rows_insert(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert rows made by ``queue_rows`` (of any number of changes) in one statement,
    skipping keys already queued; returns how many were new."""
    return _insert_ignore(session, rows)


def enqueue(session: Session, *, case_id: int | None, change: str, recipients: Iterable[str],
            subject: str, body: str, payload: Mapping[str, Any], now: datetime,
            not_before: datetime | None = None) -> int:
    """Queue one notification per recipient for this change; returns how many were new."""
    return _insert_ignore(session, queue_rows(
        case_id=case_id, change=change, recipients=recipients, subject=subject, body=body,
        payload=payload, now=now, not_before=not_before))


def enqueue_direct(session: Session, *, key: tuple[Any, ...], channel: str, recipient: str,
                   subject: str, body: str, payload: Mapping[str, Any], now: datetime,
                   case_id: int | None = None) -> int:
    """Queue one message for one address on one named channel (no fan-out): a scheme's
    robot or mailbox. ``key`` parts make it once per whatever they name; returns 0 or 1."""
    return _insert_ignore(session, [{
        "idempotency_key": _key(*key), "case_id": case_id, "channel": channel,
        "recipient": recipient, "subject": subject, "body": body, "payload": dict(payload),
        "status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now}])


def refresh_pending(session: Session, *, case_id: int | None, change: str,
                    recipients: Iterable[str], subject: str, body: str,
                    payload: Mapping[str, Any]) -> int:
    """Rewrite a digest that has not gone out yet, so it carries the latest numbers."""
    keys = [change_key(case_id, change, r) for r in recipients]
    result = session.execute(
        update(Notification)
        .where(Notification.idempotency_key.in_(keys), Notification.status == "pending")
        .values(subject=subject, body=body, payload=dict(payload)))
    return result.rowcount or 0


def _expand(db: Database, channels: Mapping[str, Channel], now: datetime, limit: int) -> int:
    done = 0
    for _ in range(limit):
        with db.session() as session:
            # claimed row by row: FOR UPDATE SKIP LOCKED lets several processes expand side
            # by side (SQLite ignores it: one writer; the status check still guards)
            parent = session.scalars(
                select(Notification).where(Notification.channel == FANOUT,
                                           Notification.status == "pending",
                                           Notification.next_attempt_at <= now)
                .order_by(Notification.id).limit(1)
                .with_for_update(skip_locked=True)).first()
            if parent is None:
                break
            claimed = session.execute(
                update(Notification).where(Notification.id == parent.id,
                                           Notification.status == "pending")
                .values(status="expanded", sent_at=now)
                .execution_options(synchronize_session=False)).rowcount
            if claimed != 1:
                continue  # another process expanded it
            target = parse_recipient(parent.recipient)
            unit = session.get(Unit, target[1]) if target else None
            # one message per (case, change, channel, address): two units sharing one robot
            # group or one mailbox get it once
            change = parent.idempotency_key.removesuffix(":" + parent.recipient)
            for name, channel in channels.items():
                address = channel.address(target[0], unit) if target else None
                if not address:
                    continue
                _insert_ignore(session, [{
                    "idempotency_key": _key(change, name, address),
                    "case_id": parent.case_id, "channel": name, "recipient": address,
                    "subject": parent.subject, "body": parent.body, "payload": parent.payload,
                    "status": "pending", "attempts": 0, "next_attempt_at": now,
                    "created_at": now}])
            done += 1
    return done


def disabled_channels(db: Database) -> dict[str, str]:
    with db.session() as session:
        return {s.name: s.reason for s in session.scalars(
            select(ChannelState).where(ChannelState.disabled.is_(True)))}


def enable_channel(db: Database, name: str, now: datetime) -> None:
    """Switch a channel back on after the fault was fixed; its queued messages then go out."""
    with db.session() as session:
        state = session.get(ChannelState, name)
        if state is not None:
            state.disabled, state.reason, state.changed_at = False, "", now


def _disable(session: Session, name: str, reason: str, now: datetime) -> None:
    state = session.get(ChannelState, name) or ChannelState(name=name)
    state.disabled, state.reason, state.changed_at = True, reason, now
    session.add(state)
    text = f"通知渠道「{name}」因不可恢复的错误已停用：{reason}。修复配置后请在设置中重新启用，期间的通知会保留待发。"
    session.add(NoticeRow(title=f"通知渠道「{name}」已停用", body=text, link="/admin/channels",
                          created_at=now))
    log.error("notification channel %s disabled: %s", name, reason)


def _claim(db: Database, channels: Mapping[str, Channel], now: datetime,
           skip: set[str]) -> Notification | None:
    """Claim one due row (compare-and-set), or None when nothing is due."""
    names = [n for n in channels if n not in skip]
    if not names:
        return None
    with db.session() as session:
        # FOR UPDATE SKIP LOCKED: two senders take different rows instead of racing for the
        # same one (PostgreSQL); the compare-and-set below still guards SQLite
        due = session.scalars(
            select(Notification).where(
                Notification.channel.in_(names),
                or_(Notification.status == "pending", Notification.status == "sending"),
                Notification.next_attempt_at <= now)
            .order_by(Notification.next_attempt_at, Notification.id).limit(5)
            .with_for_update(skip_locked=True)).all()
        for row in due:
            won = session.execute(
                update(Notification).where(Notification.id == row.id,
                                           Notification.status == row.status,
                                           Notification.attempts == row.attempts)
                .values(status="sending", attempts=row.attempts + 1,
                        next_attempt_at=now + LEASE)
                .execution_options(synchronize_session=False)).rowcount
            if won == 1:
                session.commit()
                session.refresh(row)
                return row
    return None


def deliver_due(db: Database, channels: Mapping[str, Channel], now: datetime, *,
                limit: int = 200, retry: Retry | None = None) -> int:
    """Send what is due on the enabled ``channels``; returns the number delivered."""
    retry = retry or Retry()
    if channels:  # with no channel at all, expanding would drop the messages
        _expand(db, channels, now, limit)
    skip = set(disabled_channels(db)) | {n for n, c in channels.items() if c.is_noop()}
    sent = 0
    for _ in range(limit):
        row = _claim(db, channels, now, skip)
        if row is None:
            break
        notice = Notice(id=row.id, key=row.idempotency_key, case_id=row.case_id,
                        channel=row.channel, recipient=row.recipient, subject=row.subject,
                        body=row.body, link=str(row.payload.get("link", "")),
                        payload=row.payload)
        channel = channels[row.channel]
        error: TransportError | None = None
        try:
            channel.send(notice)
        except TransportError as exc:
            error = exc
        except Exception as exc:  # a bug in a channel must not stop the others
            log.exception("channel %s crashed", row.channel)
            error = TransportError(f"渠道内部错误：{type(exc).__name__}")
        with db.session() as session:
            values: dict[str, Any]
            detail = "已送达" if error is None else str(error)
            if error is None:
                values = {"status": "sent", "sent_at": now, "next_attempt_at": None}
                sent += 1
            elif error.maybe_sent and not channel.resend_when_unsure:
                # the robot may have posted it: a second post would show twice in the group
                values = {"status": "unknown", "sent_at": now, "next_attempt_at": None}
                detail += "；送达情况未知，为免群内重复不再重发"
            elif error.permanent and not error.recipient_only:
                _disable(session, row.channel, str(error), now)
                skip.add(row.channel)
                # the message itself was fine: keep it queued for when the channel is back
                values = {"status": "pending", "next_attempt_at": now}
            elif error.permanent:
                values = {"status": "failed", "next_attempt_at": None}
            elif now >= (until := _since(session, row.id, now) + retry.give_up):
                values = {"status": "expired", "next_attempt_at": None}
                detail += f"；已重试 {_hours(retry.give_up)}，放弃"
            else:  # the last retry falls exactly at the end of the window
                values = {"status": "pending",
                          "next_attempt_at": min(now + retry.backoff(row.attempts), until)}
            session.add(Delivery(notification_id=row.id, at=now, ok=error is None,
                                 permanent=bool(error and error.permanent), detail=detail))
            session.execute(update(Notification).where(Notification.id == row.id,
                                                       Notification.status == "sending")
                            .values(**values))
    announce_dead(db, now, retry)
    return sent


def _since(session: Session, notification_id: int, now: datetime) -> datetime:
    """When the retry window started: the message's first transient failure (time spent
    waiting for a disabled channel does not count)."""
    first = session.scalar(select(func.min(Delivery.at))
                           .where(Delivery.notification_id == notification_id,
                                  Delivery.ok.is_(False), Delivery.permanent.is_(False)))
    return first or now


def _hours(span: timedelta) -> str:
    return f"{span.total_seconds() / 3600:g} 小时"


def announce_dead(db: Database, now: datetime, retry: Retry | None = None) -> int:
    """Mark expired messages dead and tell the monitors, one console notice per channel, in
    the same transaction (a crash leaves them expired and the next pass announces them)."""
    retry = retry or Retry()
    with db.session() as session:
        rows = session.scalars(select(Notification).where(Notification.status == "expired")
                               .order_by(Notification.id)).all()
        by_channel: dict[str, list[Notification]] = {}
        for row in rows:
            by_channel.setdefault(row.channel, []).append(row)
        for name, dead in by_channel.items():
            session.execute(update(Notification)
                            .where(Notification.id.in_([r.id for r in dead]),
                                   Notification.status == "expired")
                            .values(status="dead", sent_at=now)
                            .execution_options(synchronize_session=False))
            lines = [f"· {r.subject}（发往 {r.recipient}）" for r in dead[:5]]
            if len(dead) > 5:
                lines.append(f"· 另有 {len(dead) - 5} 条")
            cases = {r.case_id for r in dead}
            link = f"/cases/{dead[0].case_id}" if len(cases) == 1 and dead[0].case_id else "/queue"
            session.add(NoticeRow(
                title=f"通知渠道「{name}」有 {len(dead)} 条通知未能送达",
                body=(f"重试 {_hours(retry.give_up)} 仍未成功，已停止重发，请核实渠道并"
                      "通过电话等方式转达：\n" + "\n".join(lines)),
                link=link, created_at=now))
            log.error("notification channel %s: %d message(s) dead after %s", name,
                      len(dead), retry.give_up)
        return len(rows)
