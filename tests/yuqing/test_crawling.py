"""Crawls through the real wiring: child process, ingest into the store, source health."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from crawlers.dates import SHANGHAI
from store import Post, Source, SourceRun
from tests.crawlers.fixture_site import FixtureSite, site_sources
from yuqing.commands.crawl import COMMANDS
from yuqing.context import AppContext
from yuqing.crawling import check_sources, crawl_source, source_health
from yuqing.settings import ConfigError, Settings, load_settings

pytestmark = pytest.mark.slow  # real crawls in child processes

FAST = {"timeout": 1.0, "retries": 0, "autothrottle": False}  # the slow page times out fast
CRAWL_TIME = datetime(2026, 11, 22, 15, 0, tzinfo=SHANGHAI)


@pytest.fixture
def site() -> Iterator[FixtureSite]:
    with FixtureSite() as s:
        yield s


@pytest.fixture
def crawl_settings(tmp_path: Path, database_url: str, site: FixtureSite) -> Settings:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    return load_settings(tmp_path / "instance", environ={"YUQING_DATABASE_URL": database_url},
                         overrides={"sources": {"sources": site_sources(site, inbox, FAST)}})


@pytest.fixture
def app(crawl_settings: Settings) -> Iterator[AppContext]:
    ctx = AppContext(settings=crawl_settings)
    yield ctx
    ctx.close()


def posts(app: AppContext, key: str) -> dict[str, Post]:
    with app.db.session() as s:
        rows = s.scalars(select(Post).join(Source).where(Source.key == key)).all()
    return {p.external_id: p for p in rows}


def test_a_news_site_lands_in_the_store_and_a_second_run_adds_nothing(app, site):
    first = crawl_source(app.settings, "jn-news", now=CRAWL_TIME)
    assert first.ok and first.new == 14 and first.rejected == 0
    stored = posts(app, "jn-news")
    assert stored["100"].title == "秣陵街道居民反映道路积水问题 第0号"
    assert stored["100"].published_at == datetime(2026, 11, 22, 8, 30, tzinfo=SHANGHAI)
    assert stored["100"].source_kind == "news" and stored["100"].place_hint == "320115"
    reasons = {e["url"].rsplit("/", 1)[1]: e["reason"] for e in first.errors}
    assert reasons["error500.html"] == "HTTP 状态码 500" and reasons["slow.html"] == "请求超时"

    again = crawl_source(app.settings, "jn-news", now=CRAWL_TIME)
    assert again.ok and again.new == 0 and again.stopped_early
    assert len(posts(app, "jn-news")) == 14
    with app.db.session() as s:
        runs = s.scalars(select(SourceRun).order_by(SourceRun.id)).all()
        src = s.scalar(select(Source).where(Source.key == "jn-news"))
    assert [(r.ok, r.new) for r in runs] == [(True, 14), (True, 0)]
    assert {"url": site.url("/news/a/error500.html"), "reason": "HTTP 状态码 500"} in runs[0].errors
    assert src.last_success_at is not None and src.consecutive_failures == 0


def test_a_reply_that_appears_later_updates_the_stored_message(app, site):
    crawl_source(app.settings, "jn-board", now=CRAWL_TIME)
    assert posts(app, "jn-board")["895"].reply_text == ""
    site.answer(895, "已协调施工方调整作业时间。", "2026-11-22 10:30", "禄口街道办事处")
    again = crawl_source(app.settings, "jn-board", now=CRAWL_TIME)
    assert again.updated == 1 and again.new == 0
    msg = posts(app, "jn-board")["895"]
    assert (msg.reply_text, msg.reply_unit) == ("已协调施工方调整作业时间。", "禄口街道办事处")
    assert msg.reply_at == datetime(2026, 11, 22, 10, 30, tzinfo=SHANGHAI)
    assert posts(app, "jn-board")["897"].reply_unit == "江宁区住房和城乡建设局"


def test_a_source_failing_run_after_run_is_flagged_then_cleared(app, site):
    for _ in range(3):
        report = crawl_source(app.settings, "broken-feed")
        assert not report.ok
    assert report.flagged and report.consecutive_failures == 3
    health = {h["key"]: h for h in source_health(app.settings, app.db)}
    assert health["broken-feed"]["flagged"] and health["broken-feed"]["last_success_at"] is None
    assert health["broken-feed"]["last_run"]["errors"][0]["reason"] == "HTTP 状态码 500"
    assert not health["jn-news"]["flagged"] and health["jn-news"]["last_run"] is None


def _export(path: Path, rows: list[str]) -> None:
    path.write_text("工单编号,诉求内容,来电时间,所属区域\n" + "\n".join(rows) + "\n", encoding="utf-8")
    old = time.time() - 60  # settled: not a file still being copied in
    os.utime(path, (old, old))


def test_the_import_folder_takes_new_and_changed_exports_once(app, tmp_path):
    inbox = tmp_path / "inbox"
    _export(inbox / "12345-1120.csv", ["A1,秣陵街道小区停水三天,2026-11-20 08:00,秣陵街道",
                                       "A2,,2026-11-20 09:00,汤山街道"])
    first = crawl_source(app.settings, "hotline")
    assert first.ok and first.new == 1 and first.rejected == 1 and first.pages == 1
    assert first.errors == [{"url": f"{inbox / '12345-1120.csv'}#第3行",  # line 3: after the header
                             "reason": "正文和标题都为空"}]
    idle = crawl_source(app.settings, "hotline")
    assert idle.ok and idle.pages == 0 and idle.new == 0
    _export(inbox / "12345-1120.csv", ["A1,秣陵街道小区停水三天,2026-11-20 08:00,秣陵街道",
                                       "A3,淳化街道路灯不亮,2026-11-21 19:00,淳化街道"])
    changed = crawl_source(app.settings, "hotline")
    assert (changed.new, changed.duplicate) == (1, 1)
    stored = posts(app, "hotline")
    assert set(stored) == {"A1", "A3"} and stored["A1"].source_kind == "hotline"


def test_crawl_command_prints_counts_and_json_last(app, site):
    group = click.Group("yuqing", commands={c.name: c for c in COMMANDS})
    result = CliRunner().invoke(group, ["crawl", "jn-news", "--json"], obj=app)
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("信息源 jn-news（html）抓取成功：页面")
    assert json.loads(lines[-1])["new"] == 14
    failed = CliRunner().invoke(group, ["crawl", "broken-feed"], obj=app)
    assert failed.exit_code == 1 and "抓取失败" in failed.output
    unknown = CliRunner().invoke(group, ["crawl", "nope"], obj=app)
    assert unknown.exit_code != 0 and "没有名为 'nope' 的信息源" in unknown.output
    status = CliRunner().invoke(group, ["crawl-status", "--json"], obj=app)
    rows = {r["key"]: r for r in json.loads(status.output.strip().splitlines()[-1])["sources"]}
    assert rows["jn-news"]["last_run"]["new"] == 14 and rows["broken-feed"]["consecutive_failures"] == 1


def test_configured_sources_pass_the_start_check(app):
    assert check_sources(app.settings) == []


def test_feed_and_api_sources_reach_the_store_with_their_kinds(app):
    feed = crawl_source(app.settings, "jn-rss", now=CRAWL_TIME)
    api = crawl_source(app.settings, "weibo-jn", now=CRAWL_TIME)
    assert (feed.ok, feed.new, api.ok, api.new) == (True, 5, True, 10)
    weibo = posts(app, "weibo-jn")["5000"]
    assert weibo.source_kind == "social" and weibo.author_followers == 12000
    assert posts(app, "jn-rss")["rss-100"].source_kind == "news"


def test_every_enabled_source_gets_one_scheduled_job(app):
    from apscheduler.schedulers.background import BackgroundScheduler

    from yuqing.crawling import crawl_job, schedule_sources

    scheduler = BackgroundScheduler(timezone=app.settings.app.timezone)
    ids = schedule_sources(scheduler, app.settings)
    assert ids == [f"crawl:{s.key}" for s in app.settings.sources.sources]
    job = scheduler.get_job("crawl:jn-board")
    assert job.func is crawl_job and job.args == (app.settings, "jn-board")
    assert job.max_instances == 1 and job.coalesce


def test_start_check_names_sources_with_wrong_options_or_schedules(tmp_path, database_url):
    bad = [{"key": "no-links", "name": "缺选择器", "kind": "html", "start_urls": ["http://127.0.0.1/"]},
           {"key": "bad-cron", "name": "坏计划", "kind": "feed", "schedule": "every day",
            "start_urls": ["http://127.0.0.1/rss.xml"]}]
    with pytest.raises(ConfigError) as exc:  # refused at start, nothing half-configured
        load_settings(tmp_path / "i", environ={"YUQING_DATABASE_URL": database_url},
                      overrides={"sources": {"sources": bad}})
    problems = [p.reason for p in exc.value.problems]
    assert len(problems) == 2
    assert problems[0].startswith("no-links: 信息源 no-links.options.list.links")
    assert problems[1].startswith("bad-cron: 无法识别的抓取计划 'every day'")
    good = load_settings(tmp_path / "i", environ={"YUQING_DATABASE_URL": database_url})
    assert check_sources(good) == []
