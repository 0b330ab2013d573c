"""Channel health from the outbox: what waits, what died, what may not have arrived.

Read by `yuqing notify-status`, the queue page's banner and ``/api/v1/channels``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from routing.notify.outbox import FANOUT
from store import ChannelState, Database, Delivery, Notification

# dead messages stay on the queue banner this long after they were given up
BANNER_DAYS = 7


def channel_health(db: Database, channels: Mapping[str, str], now: datetime
                   ) -> list[dict[str, Any]]:
    """One entry per channel (``channels``: name -> kind of the configured, enabled ones,
    plus any other channel the outbox has rows for). Counts by status, the oldest message
    still waiting, the last success and the last failure with its reason."""
    with db.session() as s:
        counts: dict[str, dict[str, int]] = {}
        for name, status, n in s.execute(
                select(Notification.channel, Notification.status, func.count(Notification.id))
                .where(Notification.channel != FANOUT)
                .group_by(Notification.channel, Notification.status)):
            counts.setdefault(name, {})[status] = n
        oldest = dict(s.execute(
            select(Notification.channel, func.min(Notification.created_at))
            .where(Notification.status.in_(["pending", "sending"]),
                   Notification.channel != FANOUT)
            .group_by(Notification.channel)).all())
        recent = dict(s.execute(
            select(Notification.channel, func.count(Notification.id))
            .where(Notification.status == "dead",
                   Notification.sent_at >= now - timedelta(days=BANNER_DAYS))
            .group_by(Notification.channel)).all())
        states = {st.name: st for st in s.scalars(select(ChannelState))}
        out = []
        for name in dict.fromkeys([*channels, *sorted(counts)]):
            by = counts.get(name, {})
            last_ok = s.scalar(select(func.max(Delivery.at)).join(
                Notification, Notification.id == Delivery.notification_id)
                .where(Notification.channel == name, Delivery.ok.is_(True)))
            last_err = s.execute(select(Delivery.at, Delivery.detail).join(
                Notification, Notification.id == Delivery.notification_id)
                .where(Notification.channel == name, Delivery.ok.is_(False))
                .order_by(Delivery.at.desc(), Delivery.id.desc()).limit(1)).first()
            state = states.get(name)
            disabled = bool(state and state.disabled)
            dead = by.get("dead", 0) + by.get("expired", 0)
            status = ("停用" if disabled else "有通知未能送达" if recent.get(name)
                      else "重试中" if last_err and (not last_ok or last_err.at > last_ok)
                      and by.get("pending", 0) else "正常")
            out.append({
                "name": name, "kind": channels.get(name, ""), "configured": name in channels,
                "status": status, "disabled": disabled,
                "disabled_reason": state.reason if disabled and state else "",
                "pending": by.get("pending", 0) + by.get("sending", 0),
                "oldest_pending_at": _iso(oldest.get(name)),
                "sent": by.get("sent", 0), "unknown": by.get("unknown", 0),
                "failed": by.get("failed", 0), "dead": dead,
                "dead_recent": recent.get(name, 0),
                "last_ok_at": _iso(last_ok),
                "last_error_at": _iso(last_err.at if last_err else None),
                "last_error": last_err.detail if last_err else ""})
        return out


# The queue page asks on every request: statements built once, values bound per call.
_DEAD = (select(Notification.channel, func.count(Notification.id))
         .where(Notification.status == "dead", Notification.sent_at >= bindparam("since"))
         .group_by(Notification.channel).order_by(Notification.channel))
_DISABLED = select(ChannelState.name, ChannelState.reason).where(ChannelState.disabled.is_(True))


def delivery_alerts(db: Database | Session, now: datetime) -> dict[str, Any]:
    """For the queue banner: messages given up in the last BANNER_DAYS days, per channel,
    and the disabled channels. A page passes its own session (no second one per request)."""
    if isinstance(db, Session):
        return _alerts(db, now)
    with db.session() as s:
        return _alerts(s, now)


def _alerts(s: Session, now: datetime) -> dict[str, Any]:
    conn = s.connection()  # plain columns: Core, without the ORM layer of Session.execute
    dead = dict(conn.execute(_DEAD, {"since": now - timedelta(days=BANNER_DAYS)}).all())
    disabled = dict(conn.execute(_DISABLED).all())
    return {"dead": dead, "dead_total": sum(dead.values()), "disabled": disabled}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
