"""Sign-in throttling per (user name as typed, client address): backoff instead of a lock.

Each attempt first *claims* a try with a compare-and-set on ``tries``, before the password is
checked, so concurrent attempts can never get more tries than ``FREE_TRIES``: of two claims
that read the same row, only one update matches. The claim that uses the last free try also
starts a block; after it ends one more try is allowed, and another failure blocks twice as
long (up to ``MAX_BLOCK``). The account itself is never locked: the same user signing in
from another address is not affected, so nobody can lock anyone (the last admin included)
out with a few requests.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError

from store import Database, LoginThrottle

FREE_TRIES = 5
FIRST_BLOCK = timedelta(minutes=1)
MAX_BLOCK = timedelta(minutes=15)
FORGET_AFTER = timedelta(hours=24)  # a quiet day starts the count afresh
_CLAIM_ROUNDS = 200  # compare-and-set retries under contention before refusing


def block_length(strikes: int) -> timedelta:
    return min(FIRST_BLOCK * (2 ** min(strikes, 16)), MAX_BLOCK)


def _key(username: str, client: str) -> tuple[str, str]:
    return username[:64], (client or "-")[:64]


def claim_try(db: Database, username: str, client: str, now: datetime) -> bool:
    """Reserve one sign-in try; False while (username, client) is blocked."""
    name, addr = _key(username, client)
    for _ in range(_CLAIM_ROUNDS):
        try:
            with db.session() as s:
                row = s.get(LoginThrottle, (name, addr), populate_existing=True)
                if row is None:
                    s.add(LoginThrottle(username=name, client=addr, tries=1, strikes=0,
                                        blocked_until=None, last_try_at=now))
                    s.flush()  # a concurrent first try makes this an IntegrityError: go again
                    return True
                if row.blocked_until is not None and row.blocked_until > now:
                    return False
                fresh = row.last_try_at < now - FORGET_AFTER
                tries = 1 if fresh else row.tries + 1
                strikes = 0 if fresh else row.strikes
                blocked_until = None
                if tries >= FREE_TRIES:  # the last free try (or one after a block) starts a block
                    blocked_until = now + block_length(strikes)
                    strikes += 1
                won = s.execute(
                    update(LoginThrottle)
                    .where(LoginThrottle.username == name, LoginThrottle.client == addr,
                           LoginThrottle.tries == row.tries)
                    .values(tries=tries, strikes=strikes, blocked_until=blocked_until,
                            last_try_at=now)
                    .execution_options(synchronize_session=False)).rowcount
                if won == 1:
                    return True
        except IntegrityError:
            continue
    return False  # fail closed: heavy contention on one key is itself an attack


def forget(db: Database, username: str, client: str, now: datetime) -> None:
    """A successful sign-in clears its own key (and rows nobody used for a day)."""
    name, addr = _key(username, client)
    with db.session() as s:
        s.execute(delete(LoginThrottle).where(LoginThrottle.username == name,
                                              LoginThrottle.client == addr))
        s.execute(delete(LoginThrottle).where(LoginThrottle.last_try_at < now - FORGET_AFTER))


def unblock(db: Database, username: str) -> int:
    """Clear every throttle on a user name (``yuqing user unblock``); returns how many."""
    with db.session() as s:
        return s.execute(delete(LoginThrottle).where(LoginThrottle.username == username[:64])
                         ).rowcount

