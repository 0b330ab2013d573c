"""Users, passwords, login throttling and API tokens (services; the views and the CLI call these)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from store import Database, Role, Unit, User, utcnow

MAX_FAILED_LOGINS = 5
LOCK_MINUTES = 15
MIN_PASSWORD_CHARS = 8
TOKEN_PREFIX = "yq_"
ROLE_LABELS = {Role.ADMIN: "系统管理员", Role.MONITOR: "舆情监测（宣传部、网信办）",
               Role.UNIT: "承办单位", Role.LEADER: "领导"}


class AccountError(Exception):
    """A refused account operation; the message is Chinese and safe to show."""


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


def create_user(db: Database, username: str, password: str, role: str, *,
                unit_code: str | None = None, display_name: str = "") -> User:
    username = username.strip()
    if not username or len(username) > 64:
        raise AccountError("用户名不能为空且不超过 64 个字符")
    try:
        role_value = Role(role)
    except ValueError:
        raise AccountError(f"未知的角色 {role!r}，可选：admin、monitor、unit、leader") from None
    if len(password) < MIN_PASSWORD_CHARS:
        raise AccountError(f"密码至少 {MIN_PASSWORD_CHARS} 个字符")
    if role_value == Role.UNIT and not unit_code:
        raise AccountError("承办单位用户必须绑定一个单位（--unit）")
    if role_value != Role.UNIT and unit_code:
        raise AccountError("只有承办单位用户可以绑定单位")
    with db.session() as s:
        if s.scalar(select(User.id).where(User.username == username)) is not None:
            raise AccountError(f"用户 {username} 已存在")
        unit_id = None
        if unit_code:
            unit_id = s.scalar(select(Unit.id).where(Unit.code == unit_code))
            if unit_id is None:
                raise AccountError(f"未知的单位代码 {unit_code!r}")
        user = User(username=username, display_name=display_name or username,
                    password_hash=generate_password_hash(password), role=role_value.value,
                    unit_id=unit_id, active=True, failed_logins=0)
        s.add(user)
        s.flush()
        return user


def set_password(db: Database, username: str, password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise AccountError(f"密码至少 {MIN_PASSWORD_CHARS} 个字符")
    with db.session() as s:
        user = s.scalar(select(User).where(User.username == username))
        if user is None:
            raise AccountError(f"用户 {username} 不存在")
        user.password_hash = generate_password_hash(password)
        user.failed_logins, user.locked_until = 0, None


def issue_token(db: Database, username: str) -> str:
    """A new API token for the user (replacing the old one); only its hash is stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with db.session() as s:
        user = s.scalar(select(User).where(User.username == username))
        if user is None:
            raise AccountError(f"用户 {username} 不存在")
        user.api_token_hash = hash_token(token)
    return token


def user_for_token(db: Database, token: str) -> Viewer | None:
    if not token.startswith(TOKEN_PREFIX):
        return None
    with db.session() as s:
        user = s.scalar(select(User).where(User.api_token_hash == hash_token(token),
                                           User.active.is_(True)))
        return Viewer.of(user) if user else None


def load_viewer(db: Database, user_id: int) -> Viewer | None:
    with db.session() as s:
        user = s.get(User, user_id)
        return Viewer.of(user) if user and user.active else None


def authenticate(db: Database, username: str, password: str,
                 now: datetime | None = None) -> Viewer:
    """Check a login; count failures and lock the account for a while after too many."""
    now = now or utcnow()
    with db.session() as s:
        user = s.scalar(select(User).where(User.username == username.strip()))
        if user is None or not user.active:
            # Same message as a wrong password: do not reveal which user names exist.
            check_password_hash(_dummy_hash(), password)
            raise AccountError("用户名或密码错误")
        if user.locked_until and user.locked_until > now:
            minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
            raise AccountError(f"登录失败次数过多，账户已锁定，请 {minutes} 分钟后再试")
        if not check_password_hash(user.password_hash, password):
            user.failed_logins = (user.failed_logins or 0) + 1
            if user.failed_logins >= MAX_FAILED_LOGINS:
                user.locked_until = now + timedelta(minutes=LOCK_MINUTES)
                user.failed_logins = 0
                s.commit()
                raise AccountError(f"登录失败次数过多，账户已锁定 {LOCK_MINUTES} 分钟")
            s.commit()
            raise AccountError("用户名或密码错误")
        user.failed_logins, user.locked_until = 0, None
        return Viewer.of(user)


@cache
def _dummy_hash() -> str:
    return generate_password_hash("timing-equaliser")
