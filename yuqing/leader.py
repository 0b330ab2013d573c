"""One scheduler leader at a time: the holder of a PostgreSQL advisory lock runs the jobs.

Every scheduler candidate (``yuqing run --role scheduler`` or ``all``) tries the lock every
``scheduler.leader_poll`` seconds on its own connection. The winner starts its APScheduler;
the others wait. When the leader dies its connection closes and the server frees the lock;
the next try of a standby wins and starts the jobs there. A leader that finds its connection
dead or the lock gone (a database restart, a network cut) stops its scheduler at once before
trying again, so two schedulers never run jobs together for longer than one poll.

On SQLite there is one process (see ``yuqing.locks.InstanceLock``): it is the leader.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from store import Database, utcnow
from yuqing.locks import LEADER, LockConnection, is_postgres, process_name

log = logging.getLogger(__name__)


class LeaderElection:
    def __init__(self, db: Database, *, on_elected: Callable[[], None],
                 on_lost: Callable[[], None], poll: float, role: str = "scheduler"):
        self.db = db
        self.on_elected = on_elected
        self.on_lost = on_lost
        self.poll = poll
        self.lock = LockConnection(db, process_name(role)) if is_postgres(db) else None
        self.leader = False
        self.since: datetime | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="leader-election", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.step()
            except Exception:  # a database outage: give the jobs up, try again next poll
                log.exception("调度主节点选举出错，稍后重试")
                self._lose()
            self._stop.wait(self.poll)

    def step(self) -> bool:
        """One try (or one check while leading); True while this process is the leader."""
        if self.lock is None:
            if not self.leader:
                self._elect()
            return True
        if self.leader:
            if not self.lock.holds(LEADER):
                log.error("调度主节点锁已丢失，停止本进程的定时任务")
                self._lose()
            return self.leader
        if self.lock.try_lock(LEADER):
            self._elect()
        return self.leader

    def _elect(self) -> None:
        self.leader, self.since = True, utcnow()
        log.info("本进程成为调度主节点（%s），开始运行定时任务",
                 self.lock.name if self.lock else "SQLite 单进程")
        try:
            self.on_elected()
        except Exception:
            log.exception("定时任务启动失败，放弃主节点")
            self._lose()

    def _lose(self) -> None:
        was = self.leader
        self.leader, self.since = False, None
        if was:
            try:
                self.on_lost()
            except Exception:
                log.exception("停止定时任务出错")
        if self.lock is not None:
            self.lock.close()  # a fresh connection for the next try; frees the lock if held

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._lose()
