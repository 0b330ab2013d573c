"""kill -9 during analysis and routing: after a restart every alert has its one case.

A real child process runs the analysis step (the job `yuqing run` schedules and
`yuqing analyze-pending` runs) and is SIGKILLed at moments drawn from a seeded RNG: right
after the analysis commit is seen in the database, a little later (mid-routing, mid-enqueue),
or anywhere in the run. New posts arrive between runs, so events open and their severity
rises while runs die. After one clean restart every event at I–IV must have exactly one case
with the event's severity, its audit rows and its queued notifications.
"""

from __future__ import annotations

import itertools
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from crash_support import Stream
from sqlalchemy import func, select

from store import Case, CaseAction, Event, Notification, Post, Source
from yuqing.context import AppContext
from yuqing.ingest import Ingestor

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = 15
BATCH = 8


class Zygote:
    """The forking child of crash_support.py: one worker per ``run()``."""

    def __init__(self, home: Path, database_url: str):
        env = {"PATH": "/usr/bin:/bin", "YUQING_DATABASE_URL": database_url,
               "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("crash_support.py")), str(home)],
            cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self._line() == "ready"

    def _line(self) -> str:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        assert line, "the analysis child died"
        return line

    def start(self) -> int:
        assert self.proc.stdin is not None
        self.proc.stdin.write("run\n")
        self.proc.stdin.flush()
        kind, pid = self._line().split()
        assert kind == "pid"
        return int(pid)

    def wait(self) -> int:
        assert self.proc.stdin is not None
        self.proc.stdin.write("reap\n")
        self.proc.stdin.flush()
        kind, status = self._line().split()
        assert kind == "exit"
        return int(status)

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def zygote(ctx: AppContext, database_url: str, tmp_path: Path) -> Iterator[Zygote]:
    with ctx.db.session() as s:
        s.add(Source(key="weibo", name="微博", kind="json_api", source_kind="social",
                     authority="user"))
    child = Zygote(tmp_path / "instance", database_url)
    try:
        yield child
    finally:
        child.close()


def _analyzed(ctx: AppContext) -> int:
    with ctx.db.session() as s:
        return s.scalar(select(func.count(Post.id)).where(Post.analyzed_at.is_not(None))) or 0


def _unrouted(ctx: AppContext) -> list[tuple[int, int, int | None]]:
    """(event, severity, case severity) of alerting events whose case is missing or behind."""
    with ctx.db.session() as s:
        rows = s.execute(select(Event.id, Event.severity, Case.severity)
                         .outerjoin(Case, Case.event_id == Event.id)
                         .where(Event.severity.in_([1, 2, 3, 4]))).all()
    return [(e, sev, cs) for e, sev, cs in rows if cs != sev]


def _kill_at_random(ctx: AppContext, zygote: Zygote, rng: random.Random) -> str:
    """Run one worker and SIGKILL it at a seeded random moment; returns how it ended."""
    before = _analyzed(ctx)
    pid = zygote.start()
    how = rng.choice(["at-commit", "after-commit", "anywhere"])
    if how == "anywhere":
        time.sleep(rng.uniform(0.0, 1.5))
    else:
        deadline = time.monotonic() + 60
        while _analyzed(ctx) == before and time.monotonic() < deadline:
            time.sleep(0.005)  # the analysis commit is visible: the routing runs now
        if how == "after-commit":
            time.sleep(rng.uniform(0.0, 0.15))
    os.kill(pid, signal.SIGKILL)  # our own child's child, not yet reaped (see crash_support)
    status = zygote.wait()
    if os.WIFSIGNALED(status):
        return "killed"
    assert os.WEXITSTATUS(status) == 0, "the analysis run failed on its own"
    return "finished"


@pytest.mark.slow
def test_alerts_survive_kill_9_between_analysis_and_routing(ctx: AppContext,
                                                            zygote: Zygote) -> None:
    rng = random.Random(20261)
    stream = Stream(seed=20261, source="weibo")
    ingest = Ingestor(ctx.db, ctx.index)
    killed, damaged = 0, 0
    for _ in range(ROUNDS):
        assert not ingest.ingest(stream.batch(BATCH)).rejected
        if _kill_at_random(ctx, zygote, rng) == "killed":
            killed += 1
            damaged += bool(_unrouted(ctx))
    # the crashes did hit the window between the analysis commit and the routing
    assert killed >= ROUNDS // 2 and damaged >= 3, (killed, damaged)
    print(f"kill -9: {killed} of {ROUNDS} runs killed, {damaged} left alerts unrouted")

    zygote.start()  # the restart
    status = zygote.wait()
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    _assert_every_alert_has_its_case(ctx, min_cases=10, min_raised=3)


def _assert_every_alert_has_its_case(ctx: AppContext, min_cases: int, min_raised: int) -> None:
    assert _unrouted(ctx) == []
    with ctx.db.session() as s:
        assert s.scalar(select(func.count(Post.id)).where(Post.analyzed_at.is_(None))) == 0
        assert not s.scalars(select(Event.id).where(Event.routing_pending.is_(True))).all()
        cases = s.scalars(select(Case)).all()
        raised = 0
        for case in cases:
            actions = s.scalars(select(CaseAction).where(CaseAction.case_id == case.id)
                                .order_by(CaseAction.id)).all()
            assert [a.action for a in actions].count("open") == 1
            chain = [(a.data["from"], a.data["to"]) for a in actions if a.action == "severity"]
            # each raise is audited once, graver each time, and ends at the case's level
            for (_, to), (nxt_from, _) in itertools.pairwise(chain):
                assert nxt_from == to
            assert all(to < frm for frm, to in chain)
            if chain:
                assert chain[-1][1] == case.severity
                raised += 1
            keys = set(s.scalars(select(Notification.idempotency_key)
                                 .where(Notification.case_id == case.id,
                                        Notification.channel == "*")))
            changes = {k.split(":")[2] for k in keys}
            assert "open" in changes  # the monitors were alerted
            for _, to in chain:  # and told of every raise
                assert any(k.startswith(f"case:{case.id}:severity:{to}:") for k in keys)
        assert len(cases) >= min_cases and raised >= min_raised


@pytest.mark.slow
def test_analyze_pending_killed_after_its_analysis_commit_routes_on_the_next_run(
        ctx: AppContext, database_url: str, tmp_path: Path) -> None:
    """The issue's own reproduction: `yuqing analyze-pending` SIGKILLed as soon as its
    analysis commit is visible; the next run opens every case and applies every raise."""
    with ctx.db.session() as s:
        s.add(Source(key="weibo", name="微博", kind="json_api", source_kind="social",
                     authority="user"))
    stream = Stream(seed=7, source="weibo")
    assert not Ingestor(ctx.db, ctx.index).ingest(stream.batch(40)).rejected
    env = {"PATH": "/usr/bin:/bin", "YUQING_DATABASE_URL": database_url}
    command = [sys.executable, "-m", "yuqing", "--home", str(tmp_path / "instance"),
               "analyze-pending"]
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        while _analyzed(ctx) == 0 and proc.poll() is None:
            time.sleep(0.005)
        if proc.poll() is None:  # not yet reaped: the pid is still our child's
            proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=600)
    assert proc.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    assert _unrouted(ctx)  # the crash left alerts without their case
    subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True, timeout=600)
    _assert_every_alert_has_its_case(ctx, min_cases=5, min_raised=0)
