"""The briefing job and command: files under the instance folder at an injected time, the
schedule from settings, the command line. Delivery is tested in tests/routing."""

from __future__ import annotations

import io
import json
from datetime import time, timedelta
from pathlib import Path

import pytest
from briefing_history import NOW, History, seed
from click.testing import CliRunner
from docx import Document as read_docx
from pypdf import PdfReader

from routing.policy import Policy
from yuqing.briefings import add_briefing_jobs, briefing_job, handle_one
from yuqing.commands.briefing import briefing_command
from yuqing.context import AppContext
from yuqing.settings import load_settings

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


@pytest.fixture
def history(ctx: AppContext) -> History:
    return seed(ctx.db, Policy.from_settings(ctx.settings))


def clocked(ctx: AppContext, **overrides: dict) -> AppContext:
    """The same instance and database, with NOW as its clock (and extra settings)."""
    settings = load_settings(ctx.settings.home,
                             environ={"YUQING_DATABASE_URL": ctx.settings.database_url},
                             overrides=overrides or None)
    return AppContext(settings=settings, clock=lambda: NOW)


def test_the_monday_job_makes_last_weeks_briefing_files(ctx: AppContext,
                                                        history: History) -> None:
    app = clocked(ctx)
    assert briefing_job(app, "weekly") is True
    folder = ctx.settings.home / "briefings"
    assert sorted(p.name for p in folder.iterdir()) == ["weekly-2026-11-16.docx",
                                                       "weekly-2026-11-16.pdf"]
    doc = read_docx(str(folder / "weekly-2026-11-16.docx"))
    assert "2026-11-16 至 2026-11-22" in "\n".join(p.text for p in doc.paragraphs)
    pdf = (folder / "weekly-2026-11-16.pdf").read_bytes()
    text = "".join("".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "江宁区舆情周报" in text and "本周共监测到相关信息12条" in text
    ARTIFACTS.mkdir(exist_ok=True)  # kept for a look (pdftoppm) after the run
    (ARTIFACTS / "briefing-weekly.pdf").write_bytes(pdf)
    app.close()


def test_the_morning_job_makes_yesterdays_daily(ctx: AppContext, history: History) -> None:
    app = clocked(ctx)
    done = handle_one(app, "daily", deliver=False)
    assert [p.name for p in done.files] == ["daily-2026-11-22.docx", "daily-2026-11-22.pdf"]
    app.close()


def test_jobs_are_scheduled_at_the_configured_times(ctx: AppContext) -> None:
    from apscheduler.schedulers.background import BackgroundScheduler

    app = clocked(ctx, settings={"briefing": {"daily_at": "06:45", "weekly_at": None}})
    assert app.settings.app.briefing.daily_at == time(6, 45)
    scheduler = BackgroundScheduler(timezone="Asia/Shanghai")
    add_briefing_jobs(scheduler, app)
    jobs = {j.id: j for j in scheduler.get_jobs()}
    assert set(jobs) == {"briefing_daily"}
    nxt = jobs["briefing_daily"].trigger.get_next_fire_time(None, NOW)
    assert nxt is not None and nxt - NOW == timedelta(hours=20, minutes=45)  # 10:00 -> 06:45
    weekly = clocked(ctx)
    scheduler = BackgroundScheduler(timezone="Asia/Shanghai")
    add_briefing_jobs(scheduler, weekly)
    trigger = {j.id: j for j in scheduler.get_jobs()}["briefing_weekly"].trigger
    assert trigger.get_next_fire_time(None, NOW) - NOW == timedelta(days=6, hours=22)
    app.close()
    weekly.close()


def test_command_writes_a_special_report_to_the_output_file(ctx: AppContext, history: History,
                                                            tmp_path: Path) -> None:
    out = tmp_path / "专报.pdf"
    app = clocked(ctx)
    result = CliRunner().invoke(briefing_command, ["event", str(history.e1), "--format", "pdf",
                                                   "--output", str(out), "--json"], obj=app,
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    assert report["files"] == [str(out)]
    text = "".join("".join(p.extract_text().split()) for p in PdfReader(str(out)).pages)
    assert "舆情专报" in text and "时限执行" in text
    bad = CliRunner().invoke(briefing_command, ["event", "999"], obj=app)
    assert bad.exit_code != 0 and "事件 999 不存在" in bad.output
    app.close()
