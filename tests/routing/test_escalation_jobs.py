"""The scheduler wiring: jobs run the sweep and delivery against an AppContext."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from click.testing import CliRunner
from sqlalchemy import func, select, update
from wf_support import T0

from routing import policy as policy_module
from routing.notify.console import notices_after
from routing.policy import current
from store import Case, CaseAction, Database
from yuqing.commands.workflow import COMMANDS, sla_sweep
from yuqing.context import AppContext
from yuqing.jobs import add_workflow_jobs, configure_workflow, deliver_job, sla_sweep_job


def test_jobs_sweep_overdue_cases_and_deliver_to_the_console(
        ctx: AppContext, db: Database, make_case: Callable[..., int]) -> None:
    case_id = make_case("dispatched")  # at T0: the answer is due 48 hours later
    ctx.clock = lambda: T0 + timedelta(hours=6)  # never today's date: the test pins its clock
    with db.session() as s:  # dispatched long ago: the sign limit has passed
        s.execute(update(Case).where(Case.id == case_id).values(
            due_sign_at=ctx.now() - timedelta(minutes=5),
            next_reminder_at=ctx.now() - timedelta(minutes=30)))
    assert sla_sweep_job(ctx) >= 1
    with db.session() as s:
        assert s.scalar(select(func.count(CaseAction.id)).where(
            CaseAction.case_id == case_id, CaseAction.action == "overdue")) == 1
    assert deliver_job(ctx) >= 1  # only the console is enabled in the shipped channels
    assert any("超时" in n["title"] for n in notices_after(db, 0))
    assert sla_sweep_job(ctx) == 0 and deliver_job(ctx) == 0


def test_the_jobs_are_added_to_the_scheduler(ctx: AppContext,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(policy_module, "_configured", [])  # restored after the test
    scheduler = BackgroundScheduler(timezone=ctx.settings.app.timezone)
    add_workflow_jobs(scheduler, ctx)
    assert {j.id for j in scheduler.get_jobs()} == {"sla_sweep", "deliver"}
    policy = configure_workflow(ctx)
    assert current() is policy and current().sla.levels[1].sign_minutes == 30


def test_the_sweep_command_prints_json_last(ctx: AppContext) -> None:
    result = CliRunner().invoke(sla_sweep, ["--json"], obj=ctx)
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == '{"steps": 0}'
    assert [c.name for c in COMMANDS] == ["sla-sweep", "notify-deliver", "notify-enable",
                                          "notify-status"]
