"""Timestamp columns: stored as naive UTC, read back aware UTC on both databases, whatever
form a row's text has on SQLite (SQLAlchemy's own, an offset or a bare date from raw SQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text

from store import Database, User


def _user(db: Database) -> int:
    with db.session() as s:
        user = User(username="ts-user", password_hash="-", role="monitor",
                    created_at=datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC))
        s.add(user)
        s.flush()
        return user.id


def test_a_timestamp_comes_back_aware_utc_and_equal(db: Database) -> None:
    unit_id = _user(db)
    with db.session() as s:
        got = s.scalar(select(User.created_at).where(User.id == unit_id))
    assert got == datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)
    assert got.tzinfo is not None and got.utcoffset() == timedelta(0)


def test_an_offset_given_on_write_keeps_the_instant(db: Database) -> None:
    unit_id = _user(db)
    east8 = datetime(2026, 3, 4, 13, 0, tzinfo=timezone(timedelta(hours=8)))
    with db.session() as s:
        s.get(User, unit_id).created_at = east8
    with db.session() as s:
        assert s.scalar(select(User.created_at).where(User.id == unit_id)) == \
            datetime(2026, 3, 4, 5, 0, tzinfo=UTC)


@pytest.mark.parametrize(("stored", "expected"), [
    ("2026-03-04 05:06:07", datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)),
    ("2026-03-04T05:06:07.5", datetime(2026, 3, 4, 5, 6, 7, 500000, tzinfo=UTC)),
    ("2026-03-04 13:06:07+08:00", datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)),
    ("2026-03-04", datetime(2026, 3, 4, tzinfo=UTC)),
])
def test_sqlite_text_written_by_hand_is_read_as_utc(db: Database, stored: str,
                                                     expected: datetime) -> None:
    if db.engine.dialect.name != "sqlite":
        pytest.skip("只有 SQLite 把时间存成文本")
    unit_id = _user(db)
    with db.session() as s:
        s.execute(text("UPDATE users SET created_at = :v WHERE id = :id"),
                  {"v": stored, "id": unit_id})
    with db.session() as s:
        got = s.scalar(select(User.created_at).where(User.id == unit_id))
    assert got == expected and got.utcoffset() == timedelta(0)
