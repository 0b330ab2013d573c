"""Console channel: notices shown live in the web console, which polls ``notices_after``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from routing.notify.base import Channel, Notice, TransportError
from store import Notice as NoticeRow


class ConsoleChannel(Channel):
    kind = "console"

    def address(self, kind: str, unit: Any) -> str | None:
        if kind == "monitors":
            return "monitors"
        if kind == "unit" and unit is not None:
            return f"unit:{unit.id}"
        return None  # leaders read dashboards; their escalations go by phone and mail

    def send(self, notice: Notice) -> None:
        if self.db is None:
            raise TransportError("控制台渠道未连接数据库", permanent=True)
        unit_id = int(notice.recipient[5:]) if notice.recipient.startswith("unit:") else None
        with self.db.session() as session:
            # one notice per notification: a retried send finds it already there
            exists = session.scalar(select(NoticeRow.id)
                                    .where(NoticeRow.notification_id == notice.id))
            if exists is None:
                session.add(NoticeRow(notification_id=notice.id, case_id=notice.case_id,
                                      unit_id=unit_id, severity=notice.payload.get("severity"),
                                      title=notice.subject, body=notice.body, link=notice.link))


def notices_after(db: Any, after_id: int = 0, *, unit_id: int | None = None,
                  limit: int = 50) -> list[dict[str, Any]]:
    """Notices newer than ``after_id``, oldest first, for ``/api/v1/notices?after=<id>``.

    ``unit_id`` given (a unit user): that unit's notices; None (monitors, leaders, admins):
    the monitors' notices.
    """
    query = select(NoticeRow).where(NoticeRow.id > after_id)
    query = query.where(NoticeRow.unit_id == unit_id if unit_id is not None
                        else NoticeRow.unit_id.is_(None))
    with db.session() as session:
        rows = session.scalars(query.order_by(NoticeRow.id).limit(max(1, min(limit, 500))))
        return [{"id": r.id, "case_id": r.case_id, "severity": r.severity, "title": r.title,
                 "body": r.body, "link": r.link, "created_at": r.created_at.isoformat()}
                for r in rows]
