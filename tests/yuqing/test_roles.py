"""Many processes, one set of jobs: `yuqing run --role …` against the real PostgreSQL.

- three scheduler processes: exactly one leader runs the jobs, once per tick; the leader is
  killed -9 and a standby takes over;
- three analysis workers share waves of incidents and follow-ups: every post is analysed
  once, the follow-ups join their incident's event whichever worker takes them, every alert
  has one case opened once, every webhook is received once; a worker killed -9 costs nothing.

On SQLite a single process is the rule: the split roles and a second `yuqing run` are refused.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from crash_support import ISSUES, PLACES, STREETS, T0, WORSE
from sqlalchemy import func, select

from store import Case, CaseAction, Event, Notification, Post, Source, utcnow
from yuqing.context import AppContext
from yuqing.ingest import Ingestor
from yuqing.workers import posts_stored

ROOT = Path(__file__).resolve().parents[2]
PG_URL = os.environ.get("YUQING_TEST_DATABASE_URL", "")
pg_only = pytest.mark.skipif(not PG_URL, reason="多进程角色需要 PostgreSQL")
sqlite_only = pytest.mark.skipif(bool(PG_URL), reason="SQLite 的单进程规则")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def health(port: int) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
            return json.loads(r.read())
    except OSError:
        return None


def wait_for(check: Callable[[], Any], what: str, timeout: float = 120.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def env_for(database_url: str, **extra: str) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "YUQING_DATABASE_URL": database_url,
            "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", **extra}


# -- SQLite: one process ------------------------------------------------------------------------

@sqlite_only
def test_split_roles_and_a_second_run_are_refused_on_sqlite(tmp_path: Path,
                                                            database_url: str) -> None:
    home = tmp_path / "instance"
    env = env_for(database_url)
    split = subprocess.run([sys.executable, "-m", "yuqing", "--home", str(home), "run",
                            "--role", "worker"], cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=120)
    assert split.returncode != 0 and "需要 PostgreSQL" in split.stderr
    port = free_port()
    first = subprocess.Popen([sys.executable, "-m", "yuqing", "--home", str(home), "run",
                              "--port", str(port)], cwd=ROOT, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        body = wait_for(lambda: health(port), "the first run's /healthz")
        assert body["role"] == "all" and body["leader"] is True
        assert set(body["queues"]) == {"posts_pending_analysis", "events_pending_routing",
                                       "notifications_due"}
        second = subprocess.run([sys.executable, "-m", "yuqing", "--home", str(home), "run",
                                 "--port", str(free_port())], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=120)
        assert second.returncode != 0 and "SQLite 只支持单进程运行" in second.stderr
        pending = subprocess.run([sys.executable, "-m", "yuqing", "--home", str(home),
                                  "analyze-pending"], cwd=ROOT, env=env, capture_output=True,
                                 text=True, timeout=120)
        assert pending.returncode != 0 and "yuqing run 正在运行" in pending.stderr
    finally:
        first.terminate()
        first.wait(timeout=30)


# -- PostgreSQL: schedulers -------------------------------------------------------------------

JOB_RUN = re.compile(r"定时任务 (\S+) 已运行（计划时间 (\S+)，(\S+)）")


class Proc:
    def __init__(self, home: Path, env: dict[str, str], log: Path, *args: str):
        self.port = free_port()
        self.log = log
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "yuqing", "--home", str(home), "run", *args,
             "--port", str(self.port)],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(log, "w"))  # noqa: SIM115

    def runs(self) -> list[tuple[str, str, str]]:
        return JOB_RUN.findall(self.log.read_text("utf-8"))

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def leaders(procs: list[Proc]) -> list[tuple[Proc, dict[str, Any]]] | None:
    bodies = [(p, health(p.port)) for p in procs]
    if any(b is None for _, b in bodies):
        return None
    leading = [(p, b) for p, b in bodies if b and b["leader"]]
    return leading if len(leading) == 1 else None


@pg_only
def test_one_scheduler_leader_runs_each_job_once_per_tick_and_a_killed_leader_is_replaced(
        tmp_path: Path, database_url: str) -> None:
    home = tmp_path / "instance"
    env = env_for(database_url, YUQING_SCHEDULER__LEADER_POLL="1",
                  YUQING_SCHEDULER__DELIVER_INTERVAL="1")
    subprocess.run([sys.executable, "-m", "yuqing", "--home", str(home), "db", "upgrade"],
                   cwd=ROOT, env=env, check=True, capture_output=True, timeout=120)
    procs = [Proc(home, env, tmp_path / f"scheduler{i}.log", "--role", "scheduler")
             for i in range(3)]
    web = Proc(home, env, tmp_path / "web.log", "--role", "web")
    try:
        [(leader, body)] = wait_for(lambda: leaders(procs), "one leader among three")
        assert body["leader_process"] == body["process"]
        assert body["runs"] == ["scheduler"]
        # every process names the same leader, the console too
        assert {health(p.port)["leader_process"] for p in procs} == {body["process"]}  # type: ignore[index]
        page = wait_for(lambda: health(web.port), "the web process")
        assert page["role"] == "web" and page["leader"] is None
        assert page["leader_process"] == body["process"]
        assert page["queues"] == {"posts_pending_analysis": 0, "events_pending_routing": 0,
                                  "notifications_due": 0}
        wait_for(lambda: len([r for r in leader.runs() if r[0] == "deliver"]) >= 4,
                 "the leader's delivery sweeps")
        standbys = [p for p in procs if p is not leader]
        assert all(not p.runs() for p in standbys)  # nobody else ran a job
        ticks = [(job, at) for job, at, _ in leader.runs()]
        assert len(ticks) == len(set(ticks))  # each job once per tick
        assert {who for _, _, who in leader.runs()} == {body["process"]}

        leader.proc.send_signal(signal.SIGKILL)
        leader.proc.wait(timeout=30)
        [(successor, after)] = wait_for(lambda: leaders(standbys), "a new leader")
        assert after["process"] != body["process"]
        wait_for(lambda: len([r for r in successor.runs() if r[0] == "deliver"]) >= 3,
                 "the new leader's delivery sweeps")
        [other] = [p for p in standbys if p is not successor]
        assert not other.runs()
        ticks = [(job, at) for job, at, _ in successor.runs()]
        assert len(ticks) == len(set(ticks))
        assert health(web.port)["leader_process"] == after["process"]  # type: ignore[index]
    finally:
        for p in [*procs, web]:
            p.stop()


# -- PostgreSQL: workers ----------------------------------------------------------------------

class Webhook:
    """A webhook receiver on 127.0.0.1 counting each message key it gets."""

    def __init__(self) -> None:
        self.keys: Counter[str] = Counter()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                hook.keys[body["key"]] += 1
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


class Workers:
    """The warmed-up parent of workers_support.py; one real worker process per start()."""

    def __init__(self, home: Path, env: dict[str, str], log: Path):
        self.log = log
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("workers_support.py")), str(home)],
            cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=open(log, "w"), text=True)  # noqa: SIM115
        assert self._line() == "ready"
        self.pids: list[int] = []

    def _line(self) -> str:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        assert line, "the workers' parent died: " + self.log.read_text("utf-8")[-2000:]
        return line

    def start(self) -> int:
        assert self.proc.stdin is not None
        self.proc.stdin.write("worker\n")
        self.proc.stdin.flush()
        kind, pid = self._line().split()
        assert kind == "pid"
        self.pids.append(int(pid))
        return int(pid)

    def analysed_counts(self) -> list[int]:
        return [int(n) for n in re.findall(r"已分析 (\d+) 条信息", self.log.read_text("utf-8"))]

    def close(self) -> list[str]:
        for pid in self.pids:
            with contextlib.suppress(ProcessLookupError):  # the one killed -9
                os.kill(pid, signal.SIGTERM)
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        out = self.proc.stdout.read() if self.proc.stdout else ""
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return [line for line in out.splitlines() if line.startswith("status ")]


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    yield hook
    hook.server.shutdown()


def _pending(ctx: AppContext) -> tuple[int, int, int]:
    """Posts to analyse, events to route, notifications due (digests wait for their hour)."""
    with ctx.db.session() as s:
        posts = s.scalar(select(func.count(Post.id)).where(Post.analyzed_at.is_(None)))
        events = s.scalar(select(func.count(Event.id)).where(Event.routing_pending.is_(True)))
        due = s.scalar(select(func.count(Notification.id)).where(
            Notification.status.in_(["pending", "sending"]),
            Notification.next_attempt_at <= utcnow()))
    return posts or 0, events or 0, due or 0


@pg_only
def test_three_workers_analyse_every_post_once_and_open_every_case_once(
        ctx: AppContext, database_url: str, tmp_path: Path, webhook: Webhook) -> None:
    home = tmp_path / "instance"
    home.mkdir(parents=True, exist_ok=True)
    (home / "channels.yaml").write_text(json.dumps({"channels": [
        {"name": "console", "kind": "console", "enabled": True},
        {"name": "webhook", "kind": "webhook", "enabled": True,
         "options": {"url": webhook.url, "retries": 0}}]}), encoding="utf-8")
    with ctx.db.session() as s:
        s.add(Source(key="weibo", name="微博", kind="json_api", source_kind="social",
                     authority="user"))
    # twelve distinct incidents; each follow-up repeats its incident (a near-duplicate), so
    # it joins the incident's event in any order, unless the worker taking it misses the
    # posts the other workers assigned
    incidents = [f"{STREETS[k % 10]}{PLACES[k % 7]}{ISSUES[k]}。" for k in range(12)]

    def wave(prefix: str, suffix: str, minutes: int) -> list[dict[str, Any]]:
        return [{"source": "weibo", "external_id": f"{prefix or 'o'}{k}",
                 "text": f"{prefix}{text}{suffix}", "reposts": 300,
                 "published_at": T0 + timedelta(minutes=minutes + k)}
                for k, text in enumerate(incidents)]

    ingest = Ingestor(ctx.db, ctx.index, processors=[posts_stored])  # wakes the workers
    workers = Workers(home, env_for(database_url), tmp_path / "workers.log")
    statuses: list[str] = []
    try:
        pids = [workers.start() for _ in range(3)]
        total = 0
        for rows in (wave("", "", 0), wave("转发：", WORSE[0], 30)):
            for part in (rows[:4], rows[4:8], rows[8:]):  # the workers compete for each
                assert not ingest.ingest(part).rejected
                total += len(part)
                time.sleep(0.3)
            wait_for(lambda: _pending(ctx) == (0, 0, 0), "the wave analysed and routed", 300)
        # every post analysed once: the batches the workers report add up to the posts
        assert sum(workers.analysed_counts()) == total
        # a worker killed -9 (perhaps holding the analysis lock): the others take the rest
        os.kill(pids[0], signal.SIGKILL)
        assert not ingest.ingest(wave("再转：", WORSE[0], 60)).rejected
        wait_for(lambda: _pending(ctx) == (0, 0, 0), "the survivors' analysis", 300)
    finally:
        statuses = workers.close()
    assert len(statuses) == 2  # the two survivors stopped cleanly

    with ctx.db.session() as s:
        posts = s.execute(select(Post.text, Post.event_id, Post.analyzed_at)).all()
        assert posts and all(p.analyzed_at is not None for p in posts)
        # a follow-up joins its incident's event whichever worker analysed which
        events_of: dict[str, set[int]] = defaultdict(set)
        for text, event_id, _ in posts:
            events_of[next(i for i in incidents if i in text)].add(event_id)
        split = {i: ids for i, ids in events_of.items() if len(ids) != 1}
        assert len(events_of) == 12 and not split, split
        # one case per alerting event, opened once
        alerting = set(s.scalars(select(Event.id).where(Event.severity.in_([1, 2, 3, 4]))))
        cases = s.scalars(select(Case)).all()
        assert alerting and {c.event_id for c in cases} == alerting
        opens = Counter(s.scalars(select(CaseAction.case_id).where(CaseAction.action == "open")))
        assert set(opens.values()) == {1} and set(opens) == {c.id for c in cases}
        sent = set(s.scalars(select(Notification.idempotency_key).where(
            Notification.channel == "webhook", Notification.status == "sent")))
    # every webhook message received exactly once
    assert sent and set(webhook.keys) == sent and set(webhook.keys.values()) == {1}
