"""Users, passwords, sign-in, sessions and API tokens (services; the views and the CLI call these)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from store import Database, Role, Unit, User, UserSession, utcnow
from webui import throttle

MIN_PASSWORD_CHARS = 8
SESSION_LIFETIME = timedelta(hours=12)
# One answer for a wrong password, an unknown or disabled user and a throttled client: which
# of them it was must not be learnable from the answer.
LOGIN_REFUSED = "用户名或密码错误，或尝试过于频繁，请稍后再试"
TOKEN_PREFIX = "yq_"
ROLE_LABELS = {Role.ADMIN: "系统管理员", Role.MONITOR: "舆情监测（宣传部、网信办）",
               Role.UNIT: "承办单位", Role.LEADER: "领导"}


class AccountError(Exception):
    """A refused account operation; the message is Chinese and safe to show."""


class LoginRefused(AccountError):
    """A refused sign-in; ``reason`` (password/unknown/throttled) is for logs, never for users."""

    def __init__(self, reason: str):
        super().__init__(LOGIN_REFUSED)
        self.reason = reason


@dataclass(frozen=True)
class Viewer:
    """Who is asking: what the views and queries need of a signed-in user."""

    user_id: int
    username: str
    role: Role
    unit_id: int | None
    name: str

    @classmethod
    def of(cls, user: User) -> Viewer:
        return cls(user.id, user.username, Role(user.role), user.unit_id,
                   user.display_name or user.username)

    @property
    def is_monitor(self) -> bool:
        return self.role in (Role.ADMIN, Role.MONITOR)


def hash_token(token: str) -> str:
    # Tokens carry 256 random bits, so a fast unsalted digest is safe and allows lookup by hash.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _role(role: str, unit_code: str | None) -> Role:
    try:
        role_value = Role(role)
    except ValueError:
        raise AccountError(f"未知的角色 {role!r}，可选：admin、monitor、unit、leader") from None
    if role_value == Role.UNIT and not unit_code:
        raise AccountError("承办单位用户必须绑定一个单位（--unit）")
    # a leader may be bound to a unit: the reports and briefings then show him the units of
    # that unit's jurisdiction (routing.reports.access); monitors and admins see everything
    if role_value not in (Role.UNIT, Role.LEADER) and unit_code:
        raise AccountError("只有承办单位用户和领导可以绑定单位")
    return role_value


def _unit_id(s: Session, unit_code: str | None) -> int | None:
    if not unit_code:
        return None
    unit_id = s.scalar(select(Unit.id).where(Unit.code == unit_code, Unit.active.is_(True)))
    if unit_id is None:
        raise AccountError(f"未知的单位代码 {unit_code!r}")
    return unit_id


def create_user(db: Database, username: str, password: str, role: str, *,
                unit_code: str | None = None, display_name: str = "") -> User:
    username = username.strip()
    if not username or len(username) > 64:
        raise AccountError("用户名不能为空且不超过 64 个字符")
    role_value = _role(role, unit_code)
    if len(password) < MIN_PASSWORD_CHARS:
        raise AccountError(f"密码至少 {MIN_PASSWORD_CHARS} 个字符")
    with db.session() as s:
        if s.scalar(select(User.id).where(User.username == username)) is not None:
            raise AccountError(f"用户 {username} 已存在")
        unit_id = _unit_id(s, unit_code)
        user = User(username=username, display_name=display_name or username,
                    password_hash=generate_password_hash(password), role=role_value.value,
                    unit_id=unit_id, active=True)
        s.add(user)
        s.flush()
        return user


def _user(s: Session, username: str) -> User:
    user = s.scalar(select(User).where(User.username == username))
    if user is None:
        raise AccountError(f"用户 {username} 不存在")
    return user


def set_password(db: Database, username: str, password: str) -> None:
    """New password; every session of the user ends (whoever knew the old one is out)."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise AccountError(f"密码至少 {MIN_PASSWORD_CHARS} 个字符")
    with db.session() as s:
        user = _user(s, username)
        user.password_hash = generate_password_hash(password)
        s.execute(delete(UserSession).where(UserSession.user_id == user.id))
    throttle.unblock(db, username)


def set_active(db: Database, username: str, active: bool) -> None:
    """Disable (ending its sessions and revoking its token) or enable a user.

    The last active admin cannot be disabled: nobody could administer the instance.
    """
    active_admins = select(User.id).where(User.role == Role.ADMIN.value, User.active.is_(True))
    with db.session() as s:
        user = _user(s, username)
        guard = not active and user.role == Role.ADMIN
        if guard:  # PostgreSQL: lock the admins so two concurrent disables cannot both pass
            s.scalars(active_admins.with_for_update()).all()
        user.active = active
        if not active:
            user.api_token_hash = None
            s.execute(delete(UserSession).where(UserSession.user_id == user.id))
        s.flush()  # counted after our own write (SQLite serializes writers from here on)
        if guard and not s.scalar(select(func.count()).select_from(active_admins.subquery())):
            raise AccountError("不能停用最后一个启用的系统管理员")


def set_role(db: Database, username: str, role: str, unit_code: str | None = None) -> None:
    """Change a user's role and unit (same rules as creating one); takes effect on the user's
    next request. The last active admin cannot stop being one."""
    role_value = _role(role, unit_code)
    active_admins = select(User.id).where(User.role == Role.ADMIN.value, User.active.is_(True))
    with db.session() as s:
        user = _user(s, username)
        guard = user.role == Role.ADMIN and role_value != Role.ADMIN
        if guard:  # as in set_active: lock the admins against a concurrent demotion
            s.scalars(active_admins.with_for_update()).all()
        user.role, user.unit_id = role_value.value, _unit_id(s, unit_code)
        s.flush()
        if guard and not s.scalar(select(func.count()).select_from(active_admins.subquery())):
            raise AccountError("不能取消最后一个启用的系统管理员的管理员角色")


def revoke_token(db: Database, username: str) -> bool:
    """Revoke the user's API token; False when there was none."""
    with db.session() as s:
        user = _user(s, username)
        had = user.api_token_hash is not None
        user.api_token_hash = None
        user.token_created_at = user.token_last_used_at = None
        return had


def issue_token(db: Database, username: str, now: datetime | None = None) -> str:
    """A new API token for the user (replacing the old one); only its hash is stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with db.session() as s:
        user = _user(s, username)
        user.api_token_hash = hash_token(token)
        user.token_created_at, user.token_last_used_at = now or utcnow(), None
    return token


TOKEN_USE_RESOLUTION = timedelta(minutes=1)  # "last used" needs no write on every API call
# Every request looks its user up: the statements are built once (SQLAlchemy memoizes a
# statement's cache key on the object), the values are bound per call, and they read only what
# a Viewer holds, on the session's connection (no User object, no ORM layer per request).
_VIEWER = (User.id, User.username, User.role, User.unit_id, User.display_name)
_BY_TOKEN = (select(*_VIEWER, User.token_last_used_at)
             .where(User.api_token_hash == bindparam("hash"), User.active.is_(True)))
_BY_SESSION = (select(*_VIEWER).join(UserSession, UserSession.user_id == User.id)
               .where(UserSession.id_hash == bindparam("hash"),
                      UserSession.expires_at > bindparam("now"), User.active.is_(True)))
_TOKEN_USED = (update(User).where(User.id == bindparam("user_id"))
               .values(token_last_used_at=bindparam("now")))


def _viewer_of(row: Any) -> Viewer:
    # the same as Viewer.of, from a row of _VIEWER's columns
    return Viewer(row.id, row.username, Role(row.role), row.unit_id,
                  row.display_name or row.username)


def user_for_token(db: Database, token: str, now: datetime | None = None) -> Viewer | None:
    if not token.startswith(TOKEN_PREFIX):
        return None
    now = now or utcnow()
    with db.session() as s:
        conn = s.connection()
        row = conn.execute(_BY_TOKEN, {"hash": hash_token(token)}).first()
        if row is None:
            return None
        last = row.token_last_used_at
        if last is None or now - last >= TOKEN_USE_RESOLUTION:
            conn.execute(_TOKEN_USED, {"user_id": row.id, "now": now})
        return _viewer_of(row)


def generate_password() -> str:
    """A password for the admin to hand over once (about 72 random bits, no look-alikes)."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(12))


def start_session(db: Database, user_id: int, now: datetime | None = None) -> str:
    """A new server-side session; returns the id the cookie carries (only its hash is kept)."""
    now = now or utcnow()
    sid = secrets.token_urlsafe(32)
    with db.session() as s:
        s.execute(delete(UserSession).where(UserSession.expires_at <= now))
        s.add(UserSession(id_hash=hash_token(sid), user_id=user_id, created_at=now,
                          expires_at=now + SESSION_LIFETIME))
    return sid


def session_viewer(db: Database, sid: str, now: datetime | None = None) -> Viewer | None:
    """Who holds this session id, if the session still exists and the user is active."""
    now = now or utcnow()
    with db.session() as s:
        row = s.connection().execute(_BY_SESSION, {"hash": hash_token(sid), "now": now}).first()
        return _viewer_of(row) if row else None


def end_session(db: Database, sid: str) -> None:
    with db.session() as s:
        s.execute(delete(UserSession).where(UserSession.id_hash == hash_token(sid)))


def authenticate(db: Database, username: str, password: str, client: str = "",
                 now: datetime | None = None) -> Viewer:
    """Check a sign-in from ``client`` (its address); raise LoginRefused, always alike.

    A try is claimed from the throttle before the password is checked, so concurrent guesses
    never get more tries than the throttle allows (see webui/throttle.py).
    """
    now = now or utcnow()
    username = username.strip()[:64]
    if not throttle.claim_try(db, username, client, now):
        # No hash here: a refusal while throttled costs the server nothing, and its speed
        # tells nothing about the account (unknown names are throttled the same way).
        raise LoginRefused("throttled")
    with db.session() as s:
        user = s.scalar(select(User).where(User.username == username))
        if user is None or not user.active:
            check_password_hash(_dummy_hash(), password)
            raise LoginRefused("unknown")
        if not check_password_hash(user.password_hash, password):
            raise LoginRefused("password")
        viewer = Viewer.of(user)
        user.last_login_at = now
    throttle.forget(db, username, client, now)
    return viewer


@cache
def _dummy_hash() -> str:
    return generate_password_hash("timing-equaliser")
