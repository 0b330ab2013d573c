"""`yuqing run --role web|worker|scheduler|all`: what one process runs, and its /healthz.

- web: the console and the API (several behind a proxy: waitress here, or gunicorn with
  ``yuqing.wsgi:app``).
- worker: analysis, event assignment, routing and immediate notification (yuqing/workers.py).
- scheduler: a candidate for the one leader (yuqing/leader.py) that runs the timed jobs:
  crawls, SLA sweeps, the notification retry sweep, reindex, briefings, schemes, spikes.
- all: the three in one process (the default; the only role on SQLite).
"""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sqlalchemy import func, or_, select

from store import Database, Event, Notification, Post
from yuqing.context import AppContext
from yuqing.locks import is_postgres, leader_name, process_name

log = logging.getLogger(__name__)

ROLES = ("all", "web", "worker", "scheduler")
RUNS = {"all": ["web", "worker", "scheduler"], "web": ["web"], "worker": ["worker"],
        "scheduler": ["scheduler"]}


class RoleError(ValueError):
    pass


def check_role(ctx: AppContext, role: str) -> None:
    """SQLite serves one process: the split roles need PostgreSQL."""
    if role != "all" and not is_postgres(ctx.db):
        raise RoleError(
            f"角色 {role} 需要 PostgreSQL：SQLite 只支持单进程运行（yuqing run，即 --role all）。"
            "多进程部署请把 database_url 改为 PostgreSQL，见 docs/DEPLOY.md。")


def queue_lengths(db: Database, now: Any) -> dict[str, int]:
    """The work waiting: posts to analyse, events to route, notifications due to be sent."""
    with db.session() as session:
        posts = session.scalar(select(func.count(Post.id)).where(Post.analyzed_at.is_(None)))
        events = session.scalar(select(func.count(Event.id))
                                .where(Event.routing_pending.is_(True)))
        due = session.scalar(select(func.count(Notification.id)).where(
            or_(Notification.status == "pending", Notification.status == "sending"),
            Notification.next_attempt_at <= now))
    return {"posts_pending_analysis": posts or 0, "events_pending_routing": events or 0,
            "notifications_due": due or 0}


class Runtime:
    """The background parts of one process (worker thread, leader election) and its health."""

    def __init__(self, ctx: AppContext, role: str):
        self.ctx = ctx
        self.role = role
        self.name = process_name(role)
        self.stop_event = threading.Event()
        self.worker: Any = None
        self.election: Any = None
        self.scheduler: Any = None
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        cfg = self.ctx.settings.app.scheduler
        if "worker" in RUNS[self.role]:
            from yuqing.workers import Worker

            self.worker = Worker(self.ctx, self.role)
            self.ctx.__dict__["_worker"] = self.worker  # analyze-pending in-process shares it
            thread = threading.Thread(target=self.worker.run, name="analysis-worker",
                                      args=(self.stop_event, float(cfg.analysis_interval)),
                                      daemon=True)
            thread.start()
            self._threads.append(thread)
        if "scheduler" in RUNS[self.role] and cfg.enabled:
            from yuqing.leader import LeaderElection

            self.election = LeaderElection(self.ctx.db, on_elected=self._start_jobs,
                                           on_lost=self._stop_jobs, poll=cfg.leader_poll,
                                           role=self.role)
            self.election.start()

    def _start_jobs(self) -> None:
        from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED

        from yuqing.scheduler import build_scheduler

        scheduler = build_scheduler(self.ctx, analysis=False)

        def ran(event: Any) -> None:
            # one line per job run: operators (and the multi-process test) see who ran what
            log.info("定时任务 %s 已运行（计划时间 %s，%s）", event.job_id,
                     event.scheduled_run_time.isoformat(), self.name)

        scheduler.add_listener(ran, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        scheduler.start()
        self.scheduler = scheduler

    def _stop_jobs(self) -> None:
        scheduler, self.scheduler = self.scheduler, None
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=False)

    def stop(self) -> None:
        self.stop_event.set()
        if self.election is not None:
            self.election.stop()
        self._stop_jobs()
        for thread in self._threads:
            thread.join(timeout=30)

    def health(self) -> dict[str, Any]:
        db = self.ctx.db
        leading = self.election.leader if self.election is not None else None
        body: dict[str, Any] = {
            "role": self.role, "runs": RUNS[self.role], "process": self.name,
            "database": db.dialect, "leader": leading,
            "leader_since": (self.election.since.isoformat()
                             if self.election is not None and self.election.since else None),
            "leader_process": (leader_name(db) if is_postgres(db)
                               else (self.name if leading else None)),
            "queues": queue_lengths(db, self.ctx.now())}
        if self.worker is not None:
            body["worker"] = self.worker.status()
        return body


class _Health(BaseHTTPRequestHandler):
    runtime: Runtime

    def do_GET(self) -> None:  # the http.server API names it
        if self.path.split("?")[0] != "/healthz":
            self.send_error(404, "只有 /healthz")
            return
        try:
            body, status = {"status": "ok", **self.runtime.health()}, 200
        except Exception as exc:  # the database is down: say so, with a failing status
            body, status = {"status": "error", "error": f"数据库不可用：{type(exc).__name__}"}, 503
        data = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # no access log: monitoring noise
        pass


def serve_health(runtime: Runtime, host: str, port: int) -> ThreadingHTTPServer:
    """/healthz of a worker or scheduler process (no console there)."""
    handler = type("Health", (_Health,), {"runtime": runtime})
    server = ThreadingHTTPServer((host, port), handler)
    threading.Thread(target=server.serve_forever, name="healthz", daemon=True).start()
    return server
