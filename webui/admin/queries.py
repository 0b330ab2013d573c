"""Reads for the admin desk: accounts with their last activity, units' open cases, edits."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store import Assignment, Case, CaseState, ConfigChange, Unit, User, UserSession, utcnow

CLOSED_STATES = (CaseState.CLOSED.value, CaseState.DISMISSED.value)


def users(session: Session) -> list[dict[str, Any]]:
    units = {u.id: u for u in session.scalars(select(Unit))}
    now = utcnow()
    live = dict(session.execute(
        select(UserSession.user_id, func.count()).where(UserSession.expires_at > now)
        .group_by(UserSession.user_id)).all())
    out = []
    for u in session.scalars(select(User).order_by(User.id)):
        unit = units.get(u.unit_id) if u.unit_id else None
        out.append({
            "id": u.id, "username": u.username, "display_name": u.display_name, "role": u.role,
            "unit": {"code": unit.code, "name": unit.short_name or unit.name,
                     "active": unit.active} if unit else None,
            "active": u.active, "created_at": u.created_at, "last_login_at": u.last_login_at,
            "sessions": live.get(u.id, 0), "has_token": u.api_token_hash is not None,
            "token_created_at": u.token_created_at, "token_last_used_at": u.token_last_used_at,
        })
    return out


def user(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def open_cases(session: Session, unit_code: str) -> list[dict[str, Any]]:
    """Cases not closed or dismissed that the unit still holds (lead or co-unit)."""
    rows = session.execute(
        select(Case.id, Case.title, Case.state, Assignment.role)
        .join(Assignment, Assignment.case_id == Case.id)
        .join(Unit, Unit.id == Assignment.unit_id)
        .where(Unit.code == unit_code, Assignment.active.is_(True),
               Case.state.not_in(CLOSED_STATES))
        .order_by(Case.id)).all()
    return [{"id": r.id, "title": r.title, "state": r.state, "role": r.role} for r in rows]


def unit_rows(session: Session) -> dict[str, Unit]:
    return {u.code: u for u in session.scalars(select(Unit))}


def unit_users(session: Session, unit_code: str) -> list[str]:
    return list(session.scalars(select(User.username).join(Unit, Unit.id == User.unit_id)
                                .where(Unit.code == unit_code, User.active.is_(True))))


def changes(session: Session, file: str, key: str | None = None,
            limit: int = 50) -> list[ConfigChange]:
    q = select(ConfigChange).where(ConfigChange.file == file)
    if key is not None:
        q = q.where(ConfigChange.key == key)
    return list(session.scalars(q.order_by(ConfigChange.id.desc()).limit(limit)))
