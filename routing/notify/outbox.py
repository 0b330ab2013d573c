"""The outbox: notifications are rows written with the case change, delivered by a job.

``enqueue`` runs inside the caller's transaction and writes one row per (case, change,
recipient) with an idempotency key, so a retried change never queues twice. Those rows have
channel ``"*"``: ``deliver_due`` expands each into one row per enabled channel (key plus
channel and address) and sends them. Every attempt is a Delivery row; a send is claimed with
compare-and-set on (status, attempts) so two processes never send the same row;
statuses: pending → sending → sent / failed (and "expanded" for the "*" rows); transient
failures back off exponentially; a permanent channel fault disables the channel and says so.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from routing.notify.base import Channel, Notice, TransportError, parse_recipient
from store import ChannelState, Database, Delivery, Notification, Unit
from store import Notice as NoticeRow

log = logging.getLogger(__name__)

FANOUT = "*"
MAX_ATTEMPTS = 8
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)
# a claimed row whose sender died is retried after this lease (longer than any one send)
LEASE = timedelta(minutes=10)


def _key(*parts: Any) -> str:
    key = ":".join(str(p) for p in parts)
    if len(key) > 200:  # the column's size; keep it unique with a digest
        key = key[:150] + "#" + hashlib.sha1(key.encode()).hexdigest()
    return key


def _insert_ignore(session: Session, values: dict[str, Any]) -> int:
    """INSERT … ON CONFLICT (idempotency_key) DO NOTHING; returns rows inserted (0 or 1)."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        stmt = postgresql.insert(Notification).values(**values).on_conflict_do_nothing(
            index_elements=["idempotency_key"])
    elif name == "sqlite":
        stmt = sqlite.insert(Notification).values(**values).on_conflict_do_nothing(
            index_elements=["idempotency_key"])
    else:  # other backends: check first (the unique key still guards)
        if session.scalar(select(Notification.id).where(
                Notification.idempotency_key == values["idempotency_key"])):
            return 0
        stmt = insert(Notification).values(**values)
    # count by RETURNING: rowcount is unreliable for ON CONFLICT across drivers
    return len(session.execute(stmt.returning(Notification.id)).all())


def change_key(case_id: int | None, change: str, recipient: str) -> str:
    return _key("case", case_id, change, recipient)


def enqueue(session: Session, *, case_id: int | None, change: str, recipients: Iterable[str],
            subject: str, body: str, payload: Mapping[str, Any], now: datetime,
            not_before: datetime | None = None) -> int:
    """Queue one notification per recipient for this change; returns how many were new."""
    made = 0
    for recipient in dict.fromkeys(recipients):  # unique, in order
        made += _insert_ignore(session, {
            "idempotency_key": change_key(case_id, change, recipient), "case_id": case_id,
            "channel": FANOUT, "recipient": recipient, "subject": subject, "body": body,
            "payload": dict(payload), "status": "pending", "attempts": 0,
            "next_attempt_at": not_before or now, "created_at": now})
    return made


def enqueue_direct(session: Session, *, key: tuple[Any, ...], channel: str, recipient: str,
                   subject: str, body: str, payload: Mapping[str, Any], now: datetime,
                   case_id: int | None = None) -> int:
    """Queue one message for one address on one named channel (no fan-out): a scheme's
    robot or mailbox. ``key`` parts make it once per whatever they name; returns 0 or 1."""
    return _insert_ignore(session, {
        "idempotency_key": _key(*key), "case_id": case_id, "channel": channel,
        "recipient": recipient, "subject": subject, "body": body, "payload": dict(payload),
        "status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now})


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
    with db.session() as session:
        ids = list(session.scalars(
            select(Notification.id).where(Notification.channel == FANOUT,
                                          Notification.status == "pending",
                                          Notification.next_attempt_at <= now)
            .order_by(Notification.id).limit(limit)))
    done = 0
    for nid in ids:
        with db.session() as session:
            claimed = session.execute(
                update(Notification).where(Notification.id == nid,
                                           Notification.status == "pending")
                .values(status="expanded", sent_at=now)).rowcount
            if claimed != 1:
                continue  # another process expanded it
            parent = session.get(Notification, nid)
            assert parent is not None
            target = parse_recipient(parent.recipient)
            unit = session.get(Unit, target[1]) if target else None
            # one message per (case, change, channel, address): two units sharing one robot
            # group or one mailbox get it once
            change = parent.idempotency_key.removesuffix(":" + parent.recipient)
            for name, channel in channels.items():
                address = channel.address(target[0], unit) if target else None
                if not address:
                    continue
                _insert_ignore(session, {
                    "idempotency_key": _key(change, name, address),
                    "case_id": parent.case_id, "channel": name, "recipient": address,
                    "subject": parent.subject, "body": parent.body, "payload": parent.payload,
                    "status": "pending", "attempts": 0, "next_attempt_at": now,
                    "created_at": now})
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


def _backoff(attempts: int) -> timedelta:
    return min(BACKOFF_BASE * 2 ** max(attempts - 1, 0), BACKOFF_CAP)


def _claim(db: Database, channels: Mapping[str, Channel], now: datetime,
           skip: set[str]) -> Notification | None:
    """Claim one due row (compare-and-set), or None when nothing is due."""
    names = [n for n in channels if n not in skip]
    if not names:
        return None
    with db.session() as session:
        due = session.scalars(
            select(Notification).where(
                Notification.channel.in_(names),
                or_(Notification.status == "pending", Notification.status == "sending"),
                Notification.next_attempt_at <= now)
            .order_by(Notification.next_attempt_at, Notification.id).limit(20)).all()
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
                limit: int = 200) -> int:
    """Send what is due on the enabled ``channels``; returns the number delivered."""
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
        error: TransportError | None = None
        try:
            channels[row.channel].send(notice)
        except TransportError as exc:
            error = exc
        except Exception as exc:  # a bug in a channel must not stop the others
            log.exception("channel %s crashed", row.channel)
            error = TransportError(f"渠道内部错误：{type(exc).__name__}")
        with db.session() as session:
            session.add(Delivery(notification_id=row.id, at=now, ok=error is None,
                                 permanent=bool(error and error.permanent),
                                 detail="已送达" if error is None else str(error)))
            values: dict[str, Any]
            if error is None:
                values = {"status": "sent", "sent_at": now, "next_attempt_at": None}
                sent += 1
            elif error.permanent or row.attempts >= MAX_ATTEMPTS:
                values = {"status": "failed", "next_attempt_at": None}
                if error.permanent and not error.recipient_only:
                    _disable(session, row.channel, str(error), now)
                    skip.add(row.channel)
                    # the message itself was fine: keep it queued for when the channel is back
                    values = {"status": "pending", "next_attempt_at": now}
            else:
                values = {"status": "pending", "next_attempt_at": now + _backoff(row.attempts)}
            session.execute(update(Notification).where(Notification.id == row.id,
                                                       Notification.status == "sending")
                            .values(**values))
    return sent
