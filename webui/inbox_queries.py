"""The inbox (消息): console notices per user, with a per-user read state.

The console channel (routing/notify/console.py) writes one ``Notice`` row per notification:
``unit_id`` set for a unit's notices ("unit:ID" recipients), NULL for the monitors' notices
("monitors:ID"). A unit user reads its unit's notices, everyone else the monitors' ones (as
``notices_after`` does); a unit user never sees another unit's notices.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, exists, false, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from store import Notice, NoticeRead, Role
from webui.accounts import Viewer


def visible(viewer: Viewer) -> Select[tuple[Notice]]:
    query = select(Notice)
    if viewer.role == Role.UNIT:
        if viewer.unit_id is None:
            return query.where(false())
        return query.where(Notice.unit_id == viewer.unit_id)
    return query.where(Notice.unit_id.is_(None))


def _read_by(viewer: Viewer) -> Any:
    return exists().where(NoticeRead.notice_id == Notice.id,
                          NoticeRead.user_id == viewer.user_id)


# The header's count runs on every page: its two forms (the monitors' notices, a unit's) are
# built once, with the same visibility as ``visible``; values are bound per call, and they run on
# the session's connection (plain columns: no ORM layer needed, see queries._MARKER).
_NOT_READ = ~exists().where(NoticeRead.notice_id == Notice.id,
                            NoticeRead.user_id == bindparam("user_id"))
_UNREAD_MONITORS = select(func.count(Notice.id)).where(Notice.unit_id.is_(None), _NOT_READ)
_UNREAD_UNIT = select(func.count(Notice.id)).where(Notice.unit_id == bindparam("unit_id"),
                                                   _NOT_READ)


def unread_count(session: Session, viewer: Viewer) -> int:
    if viewer.role == Role.UNIT:
        if viewer.unit_id is None:
            return 0
        return session.connection().scalar(_UNREAD_UNIT, {"user_id": viewer.user_id,
                                             "unit_id": viewer.unit_id}) or 0
    return session.connection().scalar(_UNREAD_MONITORS, {"user_id": viewer.user_id}) or 0


def listing(session: Session, viewer: Viewer, *, unread_only: bool = False, limit: int = 50,
            offset: int = 0) -> dict[str, Any]:
    """Newest first: {total, unread, items: [{id, case_id, severity, title, body, link,
    created_at, read}]}."""
    query = visible(viewer)
    if unread_only:
        query = query.where(~_read_by(viewer))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(
        query.add_columns(_read_by(viewer).label("read"))
        .order_by(Notice.id.desc()).limit(limit).offset(offset)).all()
    items = [{"id": n.id, "case_id": n.case_id, "severity": n.severity, "title": n.title,
              "body": n.body, "link": case_link(n), "created_at": n.created_at.isoformat(),
              "read": bool(read)} for n, read in rows]
    return {"total": total, "unread": unread_count(session, viewer), "items": items}


def case_link(notice: Notice) -> str:
    # only the console's own case paths become links (a stored link is never trusted as-is)
    return f"/cases/{notice.case_id}" if notice.case_id else ""


def newer(session: Session, viewer: Viewer, after: int, limit: int = 20
          ) -> list[dict[str, Any]]:
    """Unread notices with id > ``after``, oldest first (the header's poll and the sound)."""
    rows = session.scalars(visible(viewer).where(Notice.id > after, ~_read_by(viewer))
                           .order_by(Notice.id).limit(limit))
    return [{"id": n.id, "severity": n.severity, "title": n.title, "link": case_link(n)}
            for n in rows]


def latest_id(session: Session, viewer: Viewer) -> int:
    return session.scalar(visible(viewer).with_only_columns(func.max(Notice.id))) or 0


def mark_read(session: Session, viewer: Viewer, ids: list[int] | None, now: datetime) -> int:
    """Mark these notices (None: all the viewer's unread ones) read; returns how many.

    Ids the viewer cannot see are ignored. Two clicks at once insert the same pair: the
    second one's rows are already there, which is what it wanted.
    """
    query = visible(viewer).where(~_read_by(viewer))
    if ids is not None:
        query = query.where(Notice.id.in_(ids))
    pending = session.scalars(query.with_only_columns(Notice.id)).all()
    if not pending:
        return 0
    try:
        with session.begin_nested():
            session.execute(insert(NoticeRead), [
                {"user_id": viewer.user_id, "notice_id": i, "read_at": now} for i in pending])
    except IntegrityError:
        return 0
    return len(pending)


_CASES = bindparam("case_ids", expanding=True)
_UNREAD_CASES_MONITORS = (select(Notice.case_id).distinct()
                          .where(Notice.unit_id.is_(None), Notice.case_id.in_(_CASES), _NOT_READ))
_UNREAD_CASES_UNIT = (select(Notice.case_id).distinct()
                      .where(Notice.unit_id == bindparam("unit_id"), Notice.case_id.in_(_CASES),
                             _NOT_READ))


def unread_cases(session: Session, viewer: Viewer, case_ids: list[int]) -> set[int]:
    """Of these cases, those with an unread notice for the viewer (new queue rows)."""
    if not case_ids:
        return set()
    values: dict[str, Any] = {"user_id": viewer.user_id, "case_ids": case_ids}
    if viewer.role == Role.UNIT:
        if viewer.unit_id is None:
            return set()
        rows = session.connection().scalars(_UNREAD_CASES_UNIT, {**values, "unit_id": viewer.unit_id})
    else:
        rows = session.connection().scalars(_UNREAD_CASES_MONITORS, values)
    return {r for r in rows if r is not None}
