"""`crawl.queue` wiring without workers: the setting, `yuqing crawl` (--queue/--local), the
scheduler's crawl job, `crawl-status` and the lengths another page shows (real Redis at
127.0.0.1:6379, a unique key prefix per test)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from tests.crawlers.fixture_site import FixtureSite, site_sources
from tests.redis_queue import REDIS_URL
from yuqing.commands.crawl import COMMANDS
from yuqing.context import AppContext
from yuqing.crawl_queue import crawl_queue_status
from yuqing.crawling import scheduled_crawl
from yuqing.settings import ConfigError, Settings, load_settings

GROUP = click.Group("yuqing", commands={c.name: c for c in COMMANDS})


@pytest.fixture
def site() -> Iterator[FixtureSite]:
    with FixtureSite() as s:
        yield s


def settings_for(tmp_path: Path, database_url: str, site: FixtureSite,
                 crawl: dict[str, str] | None = None) -> Settings:
    inbox = tmp_path / "inbox"
    inbox.mkdir(exist_ok=True)
    overrides = {"sources": {"sources": site_sources(site, inbox)}}
    if crawl is not None:
        overrides["settings"] = {"crawl": crawl}
    return load_settings(tmp_path / "instance", environ={"YUQING_DATABASE_URL": database_url},
                         overrides=overrides)


@pytest.fixture
def app(tmp_path: Path, database_url: str, site: FixtureSite, prefix: str
        ) -> Iterator[AppContext]:
    ctx = AppContext(settings=settings_for(tmp_path, database_url, site,
                                           {"queue": REDIS_URL, "queue_prefix": prefix}))
    yield ctx
    ctx.close()


def test_the_queue_url_must_be_a_redis_url(tmp_path, database_url, site):
    with pytest.raises(ConfigError) as exc:
        settings_for(tmp_path, database_url, site, {"queue": "http://127.0.0.1:6379"})
    assert "crawl.queue" in str(exc.value) and "redis://" in str(exc.value)
    assert settings_for(tmp_path, database_url, site).app.crawl.queue == ""  # default: local


def test_a_crawl_with_a_queue_pushes_its_start_requests_and_status_shows_them(app):
    pushed = CliRunner().invoke(GROUP, ["crawl", "jn-news"], obj=app)
    assert pushed.exit_code == 0, pushed.output
    assert "已向共享抓取队列推送 1 个起始请求" in pushed.output
    again = CliRunner().invoke(GROUP, ["crawl", "jn-news", "--queue"], obj=app)
    assert "上一轮抓取尚未完成（队列中 1 个请求" in again.output

    status = CliRunner().invoke(GROUP, ["crawl-status", "--json"], obj=app)
    assert "共享抓取队列：等待 1，抓取中 0" in status.output
    assert "  jn-news：等待 1，抓取中 0" in status.output
    queue = json.loads(status.output.strip().splitlines()[-1])["queue"]
    assert queue["sources"]["jn-news"] == {"pending": 1, "in_flight": 0}
    assert queue["sources"]["jn-rss"] == {"pending": 0, "in_flight": 0}
    assert "hotline" not in queue["sources"]  # an import folder never goes to the queue

    # the scheduler's job pushes too (and finds nothing new itself: the workers will)
    assert scheduled_crawl(app, "jn-board") is False
    assert crawl_queue_status(app.settings)["sources"]["jn-board"]["pending"] >= 1


def test_local_crawls_and_imports_still_run_here(app):
    local = CliRunner().invoke(GROUP, ["crawl", "jn-rss", "--local", "--json"], obj=app)
    assert local.exit_code == 0, local.output
    assert json.loads(local.output.strip().splitlines()[-1])["new"] > 0
    imported = CliRunner().invoke(GROUP, ["crawl", "hotline"], obj=app)
    assert "已向共享抓取队列" not in imported.output
    assert crawl_queue_status(app.settings)["pending"] == 0


def test_without_a_queue_the_commands_say_so(tmp_path, database_url, site):
    ctx = AppContext(settings=settings_for(tmp_path, database_url, site))
    try:
        forced = CliRunner().invoke(GROUP, ["crawl", "jn-news", "--queue"], obj=ctx)
        assert forced.exit_code == 1 and "未配置共享抓取队列" in forced.output
        worker = CliRunner().invoke(GROUP, ["crawl-worker"], obj=ctx)
        assert worker.exit_code == 1 and "未配置共享抓取队列" in worker.output
        assert crawl_queue_status(ctx.settings) == {"configured": False, "ok": True,
                                                    "sources": {}}
    finally:
        ctx.close()


def test_a_queue_that_cannot_be_reached_is_reported_not_raised(tmp_path, database_url, site):
    ctx = AppContext(settings=settings_for(tmp_path, database_url, site,
                                           {"queue": "redis://127.0.0.1:1/0"}))
    try:
        status = crawl_queue_status(ctx.settings)
        assert status["configured"] and not status["ok"]
        assert status["error"].startswith("共享抓取队列无法连接")
        pushed = CliRunner().invoke(GROUP, ["crawl", "jn-news"], obj=ctx)
        assert pushed.exit_code == 1 and "共享抓取队列 redis://127.0.0.1:1/0 无法连接" in pushed.output
    finally:
        ctx.close()
