"""Database engine and sessions: SQLite (WAL) by default, PostgreSQL by URL."""

from __future__ import annotations

import logging
import os
import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)
T = TypeVar("T")

BUSY_TIMEOUT_MS = 15_000
# How long a writer keeps retrying a busy SQLite database before giving up: far longer than
# any one write transaction of ours should last, so "database is locked" means a stuck writer.
WRITE_PATIENCE = 600.0


def _sqlite_pragmas(dbapi_conn: Any, _record: Any, busy_timeout_ms: int = BUSY_TIMEOUT_MS
                    ) -> None:
    cur = dbapi_conn.cursor()
    # WAL lets the web process read while the scheduler writes; busy_timeout rides out the
    # short write locks instead of failing with "database is locked".
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
    cur.close()


def is_busy(exc: BaseException) -> bool:
    """Whether an error is SQLite's "database is locked / busy" (another writer), which a
    later attempt of the same transaction can get past."""
    orig = getattr(exc, "orig", exc)
    if not isinstance(orig, sqlite3.OperationalError):
        return False
    text = str(orig).lower()
    return "locked" in text or "busy" in text


def retry_busy(attempt: Callable[[], T], patience: float = WRITE_PATIENCE,
               what: str = "写入") -> T:
    """Call ``attempt`` (one whole transaction) again, with growing jittered pauses, while
    SQLite reports another writer; any other error, or running out of patience, is raised."""
    delay, deadline = 0.05, time.monotonic() + patience
    while True:
        try:
            return attempt()
        except (OperationalError, sqlite3.OperationalError) as exc:
            if not is_busy(exc) or time.monotonic() + delay > deadline:
                raise
            log.info("数据库正被其他任务写入，%.2f 秒后重试%s", delay, what)
            time.sleep(delay * random.uniform(1.0, 1.5))
            delay = min(delay * 2, 2.0)


def private_file(path: Path) -> None:
    """Create ``path`` (and its folder) readable by its owner only, unless it exists already.

    SQLite would create the file with the umask (often world-readable), and it holds password
    hashes and sessions; its -wal and -shm files take the same mode from it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def make_engine(url: str, busy_timeout_ms: int = BUSY_TIMEOUT_MS, **kwargs: Any) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            private_file(Path(parsed.database))
        engine = create_engine(url, connect_args={"check_same_thread": False}, **kwargs)
        event.listen(engine, "connect", partial(_sqlite_pragmas, busy_timeout_ms=busy_timeout_ms))
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


class Database:
    """One engine and its session factory; passed to whoever needs the database."""

    def __init__(self, url: str, **engine_kwargs: Any):
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success and rolled back on any error."""
        session = self.sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def write(self, work: Callable[[Session], T], patience: float = WRITE_PATIENCE) -> T:
        """``work`` in one transaction, run again from the start while SQLite is busy with
        another writer (``work`` must change nothing outside its session before it returns).
        On PostgreSQL it runs once, like ``session()``."""
        def attempt() -> T:
            with self.session() as session:
                return work(session)

        if self.dialect != "sqlite":
            return attempt()
        return retry_busy(attempt, patience)

    def dispose(self) -> None:
        self.engine.dispose()
