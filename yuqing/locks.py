"""PostgreSQL advisory locks held on a dedicated connection, and the SQLite single-process rule.

A session-level advisory lock belongs to one server connection: when the process holding it
dies (kill -9, power cut) the server closes the connection and the lock is free at once, so a
standby takes over without leases or clocks. Each lock user keeps its own connection out of
the pool for as long as it may hold locks.

Keys are (namespace, id) pairs of 32-bit integers: ``LEADER`` and ``ANALYSIS`` are single
locks; ``ROUTE`` takes an event id (folded into 31 bits; two events sharing a key only wait
for each other).

On SQLite one process runs everything (``yuqing run``, role all): ``InstanceLock`` is an
exclusive file lock beside the database that makes a second ``yuqing run`` refuse to start.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url

from store import Database

log = logging.getLogger(__name__)

NAMESPACE = 0x5971  # "yq": our advisory locks never meet another application's
LEADER, ANALYSIS, MIGRATION = (NAMESPACE, 1), (NAMESPACE, 2), (NAMESPACE, 3)
ROUTE = NAMESPACE + 1


def is_postgres(db: Database) -> bool:
    return db.dialect == "postgresql"


def process_name(role: str) -> str:
    """How this process shows in pg_stat_activity and /healthz: role@host:pid."""
    return f"yuqing-{role}@{socket.gethostname()}:{os.getpid()}"[:63]


class LockConnection:
    """One server connection (autocommit) for advisory locks; not thread-safe: one user."""

    def __init__(self, db: Database, name: str):
        self.db = db
        self.name = name
        self._conn: Connection | None = None

    def _connection(self) -> Connection:
        if self._conn is None:
            conn = self.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            # the name lets any process see who holds the leader lock (see leader_name)
            conn.execute(text("SELECT set_config('application_name', :n, false)"),
                         {"n": self.name})
            self._conn = conn
        return self._conn

    def try_lock(self, key: tuple[int, int]) -> bool:
        return bool(self._connection().scalar(text("SELECT pg_try_advisory_lock(:a, :b)"),
                                              {"a": key[0], "b": key[1]}))

    def lock(self, key: tuple[int, int]) -> None:
        """Wait for the lock (another worker holds it for one batch at most)."""
        self._connection().execute(text("SELECT pg_advisory_lock(:a, :b)"),
                                   {"a": key[0], "b": key[1]})

    def unlock(self, key: tuple[int, int]) -> None:
        self._connection().execute(text("SELECT pg_advisory_unlock(:a, :b)"),
                                   {"a": key[0], "b": key[1]})

    def holds(self, key: tuple[int, int]) -> bool:
        """True while this connection is alive and still holds ``key`` (raises when dead)."""
        return bool(self._connection().scalar(text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND pid = pg_backend_pid() AND classid = :a AND objid = :b"),
            {"a": key[0], "b": key[1]}))

    def close(self) -> None:
        """Drop the connection: every lock it held is released by the server."""
        if self._conn is not None:
            conn, self._conn = self._conn, None
            try:
                conn.invalidate()  # never back to the pool with locks on it
                conn.close()
            except Exception:  # already dead: nothing held any more
                log.debug("closing a lock connection", exc_info=True)


@contextmanager
def migration_lock(db: Database) -> Iterator[None]:
    """Several processes starting at once on a new version migrate one after the other."""
    if not is_postgres(db):
        yield
        return
    lock = LockConnection(db, process_name("migrate"))
    try:
        lock.lock(MIGRATION)
        yield
    finally:
        lock.close()


def route_key(event_id: int) -> tuple[int, int]:
    return (ROUTE, event_id & 0x7FFFFFFF)


def leader_name(db: Database) -> str | None:
    """The process holding the scheduler leader lock (PostgreSQL), e.g. yuqing-scheduler@h:12."""
    if not is_postgres(db):
        return None
    with db.engine.connect() as conn:
        return conn.scalar(text(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE l.locktype = 'advisory' AND l.granted AND l.classid = :a AND l.objid = :b"
            " LIMIT 1"), {"a": LEADER[0], "b": LEADER[1]})


class SingleProcessError(RuntimeError):
    pass


class InstanceLock:
    """An exclusive lock on ``<database>.run.lock``: one ``yuqing run`` per SQLite database."""

    def __init__(self, database_url: str):
        database = make_url(database_url).database or ""
        self.path = Path(f"{database}.run.lock") if database not in ("", ":memory:") else None
        self._file: Any = None

    def acquire(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")  # noqa: SIM115 - held open for the process's life
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            owner = handle.read().strip()
            handle.close()
            raise SingleProcessError(
                f"另一个 yuqing run（{owner or '未知进程'}）正在使用这个 SQLite 数据库。"
                "SQLite 只支持单进程运行：请先停止它；需要多个进程时请改用 PostgreSQL"
                "（见 docs/DEPLOY.md）。") from None
        handle.seek(0)
        handle.truncate()
        handle.write(process_name("run"))
        handle.flush()
        self._file = handle

    def held_elsewhere(self) -> bool:
        """True when a running ``yuqing run`` holds the lock (another process)."""
        if self.path is None or self._file is not None or not self.path.exists():
            return False
        with open(self.path) as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(handle, fcntl.LOCK_UN)
        return False

    def release(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
