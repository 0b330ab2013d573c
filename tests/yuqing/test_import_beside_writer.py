"""An import finishes, losing nothing, while another connection keeps taking SQLite's write lock
the way the analysis job does (short transactions back to back), even with a busy timeout far
shorter than those transactions: busy writes are retried, not failed."""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from store import Database, Post
from store.migrate import upgrade
from store.search import SearchQuery, open_index
from yuqing.ingest import Ingestor

T0 = datetime(2024, 5, 1, 2, 0, tzinfo=UTC)
N = 600


class Writer(threading.Thread):
    """Marks the newest posts analysed in write transactions that hold the lock a while, and
    holds the search file's lock the same way, until told to stop."""

    def __init__(self, db_path: Path, search_path: Path):
        super().__init__(daemon=True)
        self.db_path, self.search_path = db_path, search_path
        self.stop = threading.Event()
        self.commits = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            posts = sqlite3.connect(self.db_path, timeout=60, isolation_level=None)
            search = sqlite3.connect(self.search_path, timeout=60, isolation_level=None)
            while not self.stop.is_set():
                for conn, sql in ((posts, "UPDATE posts SET analyzed_at = CURRENT_TIMESTAMP "
                                          "WHERE id IN (SELECT id FROM posts ORDER BY id DESC "
                                          "LIMIT 50)"),
                                  (search, "SELECT count(*) FROM docs")):
                    conn.execute("BEGIN IMMEDIATE")
                    conn.execute(sql)
                    time.sleep(0.03)  # holds the write lock longer than the busy timeout
                    conn.execute("COMMIT")
                    self.commits += 1
                time.sleep(0.002)
            posts.close()
            search.close()
        except BaseException as exc:  # surfaced by the test
            self.error = exc


def test_an_import_beside_a_writing_job_is_never_locked_out(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'yuqing.db'}", busy_timeout_ms=5)
    upgrade(db)
    index = open_index(f"fts5:///{tmp_path / 'search.db'}")
    index.add([])  # the search file's tables exist before the writer touches them
    index.count_all()  # type: ignore[attr-defined]
    writer = Writer(tmp_path / "yuqing.db", tmp_path / "search.db")
    writer.start()
    try:
        rows = [{"source": "import:beside", "external_id": f"r{i}", "title": f"第{i}条",
                 "text": f"东山街道第{i}号路灯不亮，居民反映多日无人维修。",
                 "published_at": (T0 + timedelta(minutes=i)).isoformat()} for i in range(N)]
        report = Ingestor(db, index, batch_size=50).ingest(rows)
    finally:
        writer.stop.set()
        writer.join(timeout=30)
    assert writer.error is None
    assert writer.commits > 0
    assert report.new == N and not report.rejected
    with db.session() as s:
        assert s.scalar(select(func.count(Post.id))) == N
        assert s.scalar(select(func.count(Post.id)).where(Post.indexed_at.is_(None))) == 0
    result = index.search(SearchQuery(text="路灯", order="newest", limit=3))
    assert result.total == N
    index.close()
    db.dispose()
