"""`yuqing run` starts the console and the scheduler in one process and serves real HTTP."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_run_serves_the_console_and_indexes_in_the_background(tmp_path: Path,
                                                              database_url: str) -> None:
    home = tmp_path / "instance"
    env = {"PATH": "/usr/bin:/bin", "YUQING_DATABASE_URL": database_url,
           "YUQING_SCHEDULER__REINDEX_INTERVAL": "5"}
    sample = ROOT / "yuqing" / "samples" / "jiangning.jsonl"
    subprocess.run([sys.executable, "-m", "yuqing", "--home", str(home), "import", str(sample)],
                   check=True, cwd=ROOT, env=env, capture_output=True, timeout=300)
    # forget the index: the scheduler's catch-up job must rebuild it
    (home / "search.db").unlink()
    for extra in ("search.db-wal", "search.db-shm"):
        (home / extra).unlink(missing_ok=True)
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE posts SET indexed_at = NULL"))
    engine.dispose()

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "yuqing", "--home", str(home), "run",
                             "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        body = ""
        for _ in range(120):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    body = r.read().decode()
                    break
            except OSError:
                time.sleep(0.5)
        assert '"status":"ok"' in body.replace(" ", "")
        from store.search import SearchQuery, open_index

        found = 0
        for _ in range(60):  # the reindex job runs every 5 s
            index = open_index(f"fts5:///{home / 'search.db'}")
            found = index.search(SearchQuery(text="食堂")).total
            index.close()
            if found:
                break
            time.sleep(1)
        assert found >= 2
    finally:
        proc.terminate()
        proc.wait(timeout=30)
