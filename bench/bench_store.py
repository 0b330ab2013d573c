"""Console figures of issue 16, against a baseline measured in the same run (import and
search are measured once, by ``bench_import.py`` and ``bench_search.py``):

- ``console_cases_p95`` / ``console_queue_p95``: ``/api/v1/cases?limit=20`` and ``/queue`` p95
  with 8 concurrent connections against a bare Flask endpoint on the same waitress server
  (ratio = bare p95 ÷ page p95; goal: p95 < 200 ms at 100k cases).

    python bench/bench_store.py [small|full]   (BENCH_CASES_N overrides the number of cases)

``run(size)`` returns the figures as dicts (name, ratio, value, baseline, unit, n).
"""

from __future__ import annotations

import http.client
import json
import os
import random
import socket
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


BENCHMARKS = ("console_cases_p95", "console_queue_p95")
SIZES: dict[str, dict[str, int]] = {
    "small": {"cases": 5_000, "requests": 60},
    "full": {"cases": 100_000, "requests": 300},
}
CONNECTIONS = 8


def _figure(name: str, value: float, baseline: float, unit: str, n: int, ratio: float
            ) -> dict[str, Any]:
    return {"name": name, "ratio": round(ratio, 4), "value": round(value, 3),
            "baseline": round(baseline, 3), "unit": unit, "n": n}


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[18] * 1000 if len(samples) > 1 else samples[0] * 1000


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
    return bench_console(s["cases"], s["requests"])


def main() -> None:
    size = sys.argv[1] if len(sys.argv) > 1 else "small"
    s = SIZES[size]
    figures = bench_console(int(os.environ.get("BENCH_CASES_N", s["cases"])), s["requests"])
    for f in figures:
        print(f"{f['name']:<24} {f['value']:>12,.3f} {f['unit']:<9} baseline "
              f"{f['baseline']:>12,.3f}  ratio {f['ratio']:.4f}  n={f['n']:,}")
    print(json.dumps({f["name"]: {k: v for k, v in f.items() if k != "name"} for f in figures},
                     ensure_ascii=False))


if __name__ == "__main__":
    main()
