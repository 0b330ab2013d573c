"""Store-side figures of issue 16, each against a baseline measured in the same run:

- ``import_vs_executemany``: yuqing's ingest with FTS5 indexing ÷ a bare sqlite executemany of
  the same rows (throughput ratio; goal ≥ 0.1);
- ``search_newest20_p95``: newest 20 for a common word, p95 ms, against a LIKE substring scan of
  the same texts (ratio = LIKE p95 ÷ search p95), and ``search_recall`` against a substring scan;
- ``console_cases_p95`` / ``console_queue_p95``: ``/api/v1/cases?limit=20`` and ``/queue`` p95
  with 8 concurrent connections against a bare Flask endpoint on the same waitress server
  (ratio = bare p95 ÷ page p95; goal: p95 < 200 ms at 100k cases).

    python bench/bench_store.py [small|full] [import] [search] [console]

(only the named parts; ``BENCH_CASES_N=100000`` and ``BENCH_SEARCH_N`` override the sizes)

``run(size)`` returns the figures as dicts (name, ratio, value, baseline, unit, n).
"""

from __future__ import annotations

import http.client
import json
import os
import random
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.corpus import posts  # noqa: E402

SIZES: dict[str, dict[str, int]] = {
    "small": {"import": 3_000, "search": 30_000, "cases": 5_000, "requests": 60},
    "full": {"import": 100_000, "search": 1_000_000, "cases": 100_000, "requests": 300},
}
COMMON = ["街道", "工作", "政府"]  # words most generated posts hold
CONNECTIONS = 8


def _figure(name: str, value: float, baseline: float, unit: str, n: int, ratio: float
            ) -> dict[str, Any]:
    return {"name": name, "ratio": round(ratio, 4), "value": round(value, 3),
            "baseline": round(baseline, 3), "unit": unit, "n": n}


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[18] * 1000 if len(samples) > 1 else samples[0] * 1000


# -- import ------------------------------------------------------------------------------------
def bench_import(n: int) -> list[dict[str, Any]]:
    from store import Database
    from store.migrate import upgrade
    from store.search import open_index
    from yuqing.ingest import Ingestor

    rows = posts(n)
    with tempfile.TemporaryDirectory() as tmp:
        conn = sqlite3.connect(Path(tmp) / "bare.db")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE posts(id INTEGER PRIMARY KEY, external_id TEXT, source TEXT, "
                     "title TEXT, text TEXT, published_at TEXT, reposts INTEGER)")
        values = [(r["external_id"], r["source"], r["title"], r["text"], r["published_at"],
                   r["reposts"]) for r in rows]
        start = time.perf_counter()
        with conn:
            conn.executemany("INSERT INTO posts(external_id, source, title, text, published_at,"
                             " reposts) VALUES (?,?,?,?,?,?)", values)
        bare = time.perf_counter() - start
        conn.close()
        db = Database(f"sqlite:///{Path(tmp) / 'yuqing.db'}")
        upgrade(db)
        index = open_index(f"fts5:///{Path(tmp) / 'search.db'}")
        index.add([])
        start = time.perf_counter()
        report = Ingestor(db, index).ingest(rows)
        full = time.perf_counter() - start
        assert report.new == n, report.as_dict(3)
        index.close()
        db.dispose()
        ceiling = _fts5_alone(rows, Path(tmp) / "fts.db")
    return [_figure("import_vs_executemany", n / full, n / bare, "posts/s", n, bare / full),
            # the FTS5 inserts of the same tokens, already cut: the bound on the ratio above
            _figure("import_fts5_alone_vs_executemany", n / ceiling, n / bare, "posts/s", n,
                    bare / ceiling)]


def _fts5_alone(rows: list[dict[str, Any]], path: Path) -> float:
    from store.search.analyzer import default_words, gram_text
    from store.search.query import fold

    tokens = []
    for i, r in enumerate(rows, start=1):
        folded = fold(f"{r['title']}\n{r['text']}")
        tokens.append((i, default_words.joined(folded), gram_text(folded)))
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE VIRTUAL TABLE f USING fts5(words, grams, content='', "
                 "tokenize='unicode61 remove_diacritics 0')")
    start = time.perf_counter()
    for i in range(0, len(tokens), 1000):
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO f(rowid, words, grams) VALUES (?,?,?)", tokens[i:i + 1000])
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


# -- search ------------------------------------------------------------------------------------
def bench_search(n: int) -> list[dict[str, Any]]:
    from store.search import IndexDoc, SearchQuery, fold
    from store.search.fts5 import FTS5Index

    rows = posts(n, seed=2)
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as tmp:
        index = FTS5Index(Path(tmp) / "search.db")
        hays: list[str] = []
        for i in range(0, n, 5000):
            docs = [IndexDoc(j + 1, str(r["title"]), str(r["text"]), t0 + timedelta(minutes=j),
                             source="bench") for j, r in enumerate(rows[i:i + 5000], start=i)]
            hays.extend(fold(d.haystack()) for d in docs)
            index.add(docs)
        plain = sqlite3.connect(Path(tmp) / "plain.db")
        plain.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, at INTEGER, body TEXT)")
        plain.executemany("INSERT INTO t VALUES (?, ?, ?)",
                          [(i + 1, i, h) for i, h in enumerate(hays)])
        plain.execute("CREATE INDEX t_at ON t(at)")
        plain.commit()
        found, like = [], []
        recall_hits = recall_want = 0
        for _ in range(5):
            for term in COMMON:
                s = time.perf_counter()
                result = index.search(SearchQuery(text=term, order="newest", limit=20))
                found.append(time.perf_counter() - s)
                s = time.perf_counter()
                plain.execute("SELECT id FROM t WHERE body LIKE ? ORDER BY at DESC LIMIT 20",
                              [f"%{term}%"]).fetchall()
                like.append(time.perf_counter() - s)
        for term in COMMON:  # recall: the total and the newest page against a substring scan
            expected = [i + 1 for i, h in enumerate(hays) if term in h]
            result = index.search(SearchQuery(text=term, order="newest", limit=20))
            want = sorted(expected, reverse=True)[:20]
            recall_hits += len(set(result.ids) & set(want)) + min(result.total, len(expected))
            recall_want += len(want) + len(expected)
        index.close()
        plain.close()
    p95, base = _p95(found), _p95(like)
    recall = recall_hits / recall_want if recall_want else 1.0
    return [_figure("search_newest20_p95", p95, base, "ms", n, base / p95),
            _figure("search_recall", recall, 1.0, "fraction", n, recall)]


# -- console -----------------------------------------------------------------------------------
_SERVER = r"""
import sys
from flask import jsonify
from waitress import serve
from yuqing.context import AppContext
from yuqing.web import build_web
ctx = AppContext(sys.argv[1])
app = build_web(ctx)
app.add_url_rule("/bench-bare", "bench_bare", lambda: jsonify(ok=True))
serve(app, host="127.0.0.1", port=int(sys.argv[2]), threads=8, _quiet=True)
"""


def _seed_cases(home: Path, n: int) -> str:
    """An instance with ``n`` cases (two thirds open) and a monitor's API token."""
    from sqlalchemy import insert, select

    from store import Assignment, Case, Event, Unit, queue_values
    from webui.accounts import create_user, issue_token
    from yuqing.bootstrap import init_database
    from yuqing.context import AppContext

    ctx = AppContext(str(home))
    init_database(ctx.db, ctx.settings)
    rnd = random.Random(16)
    now = datetime(2026, 6, 1, tzinfo=UTC)
    states = ["new", "dispatched", "acknowledged", "responded", "returned", "closed",
              "closed", "dismissed"]
    with ctx.db.session() as s:
        units = list(s.scalars(select(Unit.id)))
        places = [c for c in (ctx.settings.jurisdictions.home.code,)]
    for start in range(0, n, 5000):
        count = min(5000, n - start)
        with ctx.db.engine.begin() as conn:
            events = [{"id": start + i + 1, "title": f"事件{start + i}", "summary": "摘要" * 40,
                       "post_count": rnd.randint(1, 50), "keywords": ["积水", "道路"] * 10,
                       "places": [{"code": places[0], "name": "辖区"}] * 3,
                       "trend": {f"2026-05-{d:02d}T00": d for d in range(1, 25)},
                       "first_seen_at": now, "last_seen_at": now} for i in range(count)]
            conn.execute(insert(Event), events)
            cases = []
            for i in range(count):
                state = rnd.choice(states)
                created = now - timedelta(minutes=rnd.randint(0, 60 * 24 * 90))
                cases.append({
                    "id": start + i + 1, "event_id": start + i + 1, "title": f"工单{start + i}",
                    "state": state, "severity": rnd.choice([1, 2, 3, 4, None]),
                    "topic": "disaster", "place_code": places[0],
                    "routing": {"decision": "lead", "explanation": ["规则"] * 20},
                    "due_sign_at": created + timedelta(hours=rnd.randint(1, 48))
                    if state == "dispatched" else None,
                    "due_first_response_at": created + timedelta(hours=rnd.randint(1, 96)),
                    "due_answer_at": created + timedelta(days=rnd.randint(1, 15)),
                    "created_at": created, "updated_at": created})
                cases[-1].update(queue_values(state, cases[-1]["severity"],
                                              cases[-1]["due_sign_at"],
                                              cases[-1]["due_first_response_at"],
                                              cases[-1]["due_answer_at"]))
            conn.execute(insert(Case), cases)
            conn.execute(insert(Assignment), [
                {"case_id": c["id"], "unit_id": rnd.choice(units), "role": "lead",
                 "assigned_at": c["created_at"]} for c in cases
                if c["state"] != "new" and units])
    create_user(ctx.db, "bench", "bench-password-16", "monitor", display_name="压测")
    token = issue_token(ctx.db, "bench")
    ctx.db.dispose()
    return token


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _load(port: int, path: str, token: str, per_connection: int) -> list[float]:
    samples: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        mine = []
        for i in range(per_connection + 2):
            s = time.perf_counter()
            conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
            response = conn.getresponse()
            response.read()
            assert response.status == 200, (path, response.status)
            if i >= 2:  # the first two warm the connection and the server's caches
                mine.append(time.perf_counter() - s)
        conn.close()
        with lock:
            samples.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(CONNECTIONS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return samples


def bench_console(n: int, requests: int) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "instance"
        token = _seed_cases(home, n)
        port = _free_port()
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        server = subprocess.Popen([sys.executable, "-c", _SERVER, str(home), str(port)],
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError("控制台服务未能启动："
                                           + (server.stderr.read().decode() if server.stderr
                                              else "")) from None
                    time.sleep(0.2)
            per = max(1, requests // CONNECTIONS)
            bare = _p95(_load(port, "/bench-bare", token, per))
            api = _p95(_load(port, "/api/v1/cases?limit=20", token, per))
            queue = _p95(_load(port, "/queue", token, per))
        finally:
            server.terminate()
            server.wait(timeout=30)
    load = (f"{CONNECTIONS} 个并发连接、同一 waitress 进程（8 线程）上的 p95；基线为同一服务上裸 Flask "
            "JSON 端点的 p95；比值 = 基线 ÷ 数值。实例有 n 件工单（约三分之二未结）")
    return [{**_figure("console_cases_p95", api, bare, "ms", n, bare / api), "better": "higher",
             "about": "`/api/v1/cases?limit=20`（工单列表 JSON 首页）" + load + "。",
             "goal": "10 万件工单时 p95 < 200 ms"},
            {**_figure("console_queue_p95", queue, bare, "ms", n, bare / queue),
             "better": "higher",
             "about": "`/queue`（告警队列页面首页 50 行：查询、会话与用户、横幅、未读、筛选项、"
                      "模板渲染）" + load + "。单线程处理一次的 CPU 时间乘以并发数大致就是 p95。",
             "goal": "10 万件工单时 p95 < 200 ms"}]


def run(size: str = "small") -> list[dict[str, Any]]:
    s = SIZES[size]
    return [*bench_import(s["import"]), *bench_search(s["search"]),
            *bench_console(s["cases"], s["requests"])]


def main() -> None:
    size = sys.argv[1] if len(sys.argv) > 1 else "small"
    parts = sys.argv[2:] or ["import", "search", "console"]
    s = SIZES[size]
    figures: list[dict[str, Any]] = []
    if "import" in parts:
        figures += bench_import(s["import"])
    if "search" in parts:
        figures += bench_search(int(os.environ.get("BENCH_SEARCH_N", s["search"])))
    if "console" in parts:
        figures += bench_console(int(os.environ.get("BENCH_CASES_N", s["cases"])), s["requests"])
    for f in figures:
        print(f"{f['name']:<24} {f['value']:>12,.3f} {f['unit']:<9} baseline "
              f"{f['baseline']:>12,.3f}  ratio {f['ratio']:.4f}  n={f['n']:,}")
    print(json.dumps({f["name"]: {k: v for k, v in f.items() if k != "name"} for f in figures},
                     ensure_ascii=False))


if __name__ == "__main__":
    main()
