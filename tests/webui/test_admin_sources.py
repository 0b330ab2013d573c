"""Admin desk, sources: the form validated like sources.yaml, crawl now in a child process
against the real fixture site, test a source storing nothing, the scheduler following edits."""

from __future__ import annotations

import html
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import func, select

from store import ConfigChange, Post, Source, SourceRun
from tests.crawlers.fixture_site import FixtureSite, site_sources
from tests.webui.conftest import Browser
from yuqing.context import AppContext
from yuqing.crawling import scheduled_crawl, sync_sources
from yuqing.settings import ConfigError, Settings, load_settings, shipped_config_dir

FAST = {"timeout": 2.0, "retries": 0, "autothrottle": False}
T0 = datetime(2026, 11, 22, 7, 0, tzinfo=UTC)  # the scheduler's injected "now"

GOOD = {"key": "jn-rss", "name": "江宁新闻 RSS", "kind": "feed", "schedule": "30m",
        "start_urls": ["http://127.0.0.1:9/rss.xml"], "authority": "local",
        "default_place": "320115", "options": {}}

# (what differs from GOOD, the form field that should be highlighted)
BAD = [({"key": "bad key"}, "key"), ({"kind": "rss"}, "kind"), ({"schedule": "5s"}, "schedule"),
       ({"schedule": "every day"}, "schedule"), ({"start_urls": []}, "start_urls"),
       ({"default_place": "999999"}, "default_place"), ({"authority": "gov"}, "authority"),
       ({"options": {"list": {"links": "a"}}}, "options"),
       ({"kind": "html", "options": {}}, "options")]


def _form(record: dict[str, Any]) -> dict[str, Any]:
    options = record.get("options") or {}
    return {"key": record["key"], "name": record["name"], "kind": record["kind"],
            "start_urls": "\n".join(record.get("start_urls") or []),
            "path": record.get("path", ""), "schedule": record["schedule"],
            "authority": record["authority"], "source_kind": record.get("source_kind", ""),
            "default_place": record.get("default_place", ""),
            "options": yaml.safe_dump(options, allow_unicode=True) if options else ""}


def _yaml_reasons(settings: Settings, tmp_path: Path, record: dict[str, Any]) -> list[str]:
    """What loading an instance sources.yaml holding this source says."""
    home = tmp_path / "yaml-home"
    home.mkdir(exist_ok=True)
    assert yaml.safe_load((shipped_config_dir() / "sources.yaml").read_text("utf-8")) == {
        "sources": []}
    (home / "sources.yaml").write_text(yaml.safe_dump({"sources": [record]}, allow_unicode=True),
                                       encoding="utf-8")
    try:
        load_settings(home, environ={"YUQING_DATABASE_URL": settings.database_url})
    except ConfigError as exc:
        return [p.reason for p in exc.problems]
    return []


@pytest.mark.parametrize(("change", "field"), BAD)
def test_the_source_form_refuses_what_sources_yaml_refuses_with_the_same_messages(
        change: dict[str, Any], field: str, login: Callable[[str], Browser],
        settings: Settings, tmp_path: Path) -> None:
    record = {**GOOD, **change}
    reasons = _yaml_reasons(settings, tmp_path, record)
    assert reasons  # the YAML refuses it
    r = login("admin").post("/admin/sources/new", _form(record))
    page = html.unescape(r.get_data(as_text=True))
    assert r.status_code == 400
    for reason in reasons:
        assert reason in page, (reason, change)
    assert '<label class="invalid">' in page and f'name="{field}"' in page
    marker = page.index('<label class="invalid">')
    assert f'name="{field}"' in page[marker:page.index("</label>", marker)], field
    assert not (settings.home / "console" / "sources.yaml").exists()  # nothing written


def test_a_source_the_yaml_accepts_is_stored_in_the_instance_and_audited(
        login: Callable[[str], Browser], ctx: AppContext, tmp_path: Path) -> None:
    assert _yaml_reasons(ctx.settings, tmp_path, GOOD) == []
    r = login("admin").post("/admin/sources/new", _form(GOOD))
    assert r.status_code == 302, html.unescape(r.get_data(as_text=True))
    stored = yaml.safe_load((ctx.settings.home / "console" / "sources.yaml").read_text("utf-8"))
    assert stored["sources"]["jn-rss"]["start_urls"] == GOOD["start_urls"]
    fresh = load_settings(ctx.settings.home,
                          environ={"YUQING_DATABASE_URL": ctx.settings.database_url})
    assert [s.key for s in fresh.sources.sources] == ["jn-rss"]
    with ctx.db.session() as s:
        assert s.scalar(select(Source.enabled).where(Source.key == "jn-rss")) is True
        change = s.scalar(select(ConfigChange).where(ConfigChange.file == "sources"))
        assert (change.action, change.username, change.key) == ("create", "admin", "jn-rss")
    again = login("admin").post("/admin/sources/new", _form(GOOD))
    assert again.status_code == 400 and "信息源 'jn-rss' 重复定义" in html.unescape(
        again.get_data(as_text=True))


@pytest.fixture
def site() -> Iterator[FixtureSite]:
    with FixtureSite() as s:
        yield s


def _site_source(site: FixtureSite, key: str) -> dict[str, Any]:
    record = next(s for s in site_sources(site, None, FAST) if s["key"] == key)
    return {"authority": "local", **record}


def _wait(b: Browser, job_url: str) -> dict[str, Any]:
    deadline = time.monotonic() + 120  # a guard against a hung test, not an assertion
    while time.monotonic() < deadline:
        job = b.get(job_url).get_json()
        if job["state"] != "running":
            return job
        time.sleep(0.3)
    raise AssertionError("crawl never finished")


def _job_url(page: str) -> str:
    start = page.index('data-job-url="') + len('data-job-url="')
    return page[start:page.index('"', start)]


def _count(ctx: AppContext, model: Any, key: str) -> int:
    with ctx.db.session() as s:
        return int(s.scalar(select(func.count(model.id)).join(Source).where(Source.key == key)))


@pytest.mark.slow
def test_a_source_added_in_the_form_crawls_now_and_its_posts_are_stored(
        login: Callable[[str], Browser], ctx: AppContext, site: FixtureSite) -> None:
    admin = login("admin")
    r = admin.post("/admin/sources/new", _form(_site_source(site, "jn-news")))
    assert r.status_code == 302, html.unescape(r.get_data(as_text=True))
    r = admin.post("/admin/sources/jn-news/crawl")
    assert r.status_code == 302 and "job=" in r.headers["Location"]
    page = admin.get(r.headers["Location"]).get_data(as_text=True)
    job = _wait(admin, _job_url(page))
    assert job["state"] == "done", job
    report = job["report"]
    assert (report["new"], report["rejected"]) == (14, 0)
    assert job["stored_so_far"] == 14 == _count(ctx, Post, "jn-news")
    listing = admin.get("/admin/sources").get_data(as_text=True)
    assert "14 / 0 / 0 / 0" in listing


@pytest.mark.slow
def test_a_failed_crawl_now_shows_its_failure(login: Callable[[str], Browser],
                                              site: FixtureSite) -> None:
    admin = login("admin")
    assert admin.post("/admin/sources/new",
                      _form(_site_source(site, "broken-feed"))).status_code == 302
    r = admin.post("/admin/sources/broken-feed/crawl")
    job = _wait(admin, _job_url(admin.get(r.headers["Location"]).get_data(as_text=True)))
    assert job["state"] == "failed" and job["label"] == "失败"
    assert "失败" in job["message"] and job["report"]["errors"]


@pytest.mark.slow
def test_testing_a_source_shows_the_extracted_posts_and_stores_nothing(
        login: Callable[[str], Browser], ctx: AppContext, site: FixtureSite) -> None:
    admin = login("admin")
    record = _site_source(site, "jn-news")
    # a draft straight from the form: tested before it is saved
    r = admin.post("/admin/sources/test", _form(record))
    page = html.unescape(r.get_data(as_text=True))
    assert r.status_code == 200 and "试抓成功" in page and 'id="test-items"' in page
    assert not (ctx.settings.home / "console" / "sources.yaml").exists()
    assert admin.post("/admin/sources/new", _form(record)).status_code == 302
    r = admin.post("/admin/sources/test", {"key": "jn-news"})
    assert r.status_code == 200 and "提取 8 条" in r.get_data(as_text=True)  # the first list page only
    assert _count(ctx, Post, "jn-news") == 0 and _count(ctx, SourceRun, "jn-news") == 0


def _jobs(scheduler: BackgroundScheduler) -> dict[str, Any]:
    return {j.id: j for j in scheduler.get_jobs() if j.id.startswith("crawl:")}


def test_the_scheduler_picks_up_new_paused_resumed_and_rescheduled_sources_without_restart(
        login: Callable[[str], Browser], ctx: AppContext) -> None:
    scheduler = BackgroundScheduler(timezone="Asia/Shanghai")
    sync_sources(scheduler, ctx, now=T0)
    assert _jobs(scheduler) == {}
    admin = login("admin")
    assert admin.post("/admin/sources/new", _form(GOOD)).status_code == 302
    # the running process's context sees the console file change (another process wrote it)
    running = AppContext(settings=ctx.settings)
    try:
        assert sync_sources(scheduler, running, now=T0)["added"] == ["crawl:jn-rss"]
        job = _jobs(scheduler)["crawl:jn-rss"]
        assert job.next_run_time == T0 + timedelta(minutes=30)
        assert sync_sources(scheduler, running, now=T0 + timedelta(minutes=5)) == {
            "added": [], "removed": [], "rescheduled": [], "bad": []}  # nothing changed

        assert admin.post("/admin/sources/jn-rss/pause").status_code == 302
        assert scheduled_crawl(running, "jn-rss") is False  # a job firing before the sync
        sync_sources(scheduler, running, now=T0)
        assert _jobs(scheduler) == {}

        assert admin.post("/admin/sources/jn-rss/resume").status_code == 302
        sync_sources(scheduler, running, now=T0)
        assert set(_jobs(scheduler)) == {"crawl:jn-rss"}

        edited = admin.post("/admin/sources/jn-rss", _form({**GOOD, "schedule": "1h"}))
        assert edited.status_code == 302
        assert sync_sources(scheduler, running, now=T0)["rescheduled"] == ["crawl:jn-rss"]
        assert _jobs(scheduler)["crawl:jn-rss"].next_run_time == T0 + timedelta(hours=1)
    finally:
        running.close()
    with ctx.db.session() as s:
        actions = list(s.scalars(select(ConfigChange.action).where(ConfigChange.key == "jn-rss")
                                 .order_by(ConfigChange.id)))
    assert actions == ["create", "pause", "resume", "edit"]
    stored = yaml.safe_load((ctx.settings.home / "console" / "sources.yaml").read_text("utf-8"))
    assert "enabled" not in stored["sources"]["jn-rss"]  # resumed: back to the YAML's default


def test_the_list_shows_each_sources_health_and_flags_the_stale_ones(
        settings: Settings, users: dict[str, str]) -> None:
    from crawlers.runtime import CrawlResult
    from tests.webui.conftest import PASSWORD, csrf_of
    from yuqing.admin_sources import SourceDesk
    from yuqing.bootstrap import sync_reference_data
    from yuqing.crawling import record_run
    from yuqing.settings import reload_settings
    from yuqing.web import build_web

    two = [{**GOOD, "key": "ok-src", "name": "正常源"}, {**GOOD, "key": "bad-src", "name": "故障源"},
           {**GOOD, "key": "old-src", "name": "久未成功"}]
    edits = {"sources": {s["key"]: {k: v for k, v in s.items() if k != "key"} for s in two}}
    with_sources = reload_settings(settings, console={"sources": edits})
    ctx = AppContext(settings=with_sources, clock=lambda: T0)
    try:
        sync_reference_data(ctx.db, with_sources)
        record_run(ctx.db, "ok-src", CrawlResult(source="ok-src", pages=2, new=3, updated=1, duplicate=2,
                                                 started_at=T0 - timedelta(hours=1),
                                                 finished_at=T0 - timedelta(hours=1)))
        record_run(ctx.db, "old-src", CrawlResult(source="old-src", pages=1, new=1,
                                                  started_at=T0 - timedelta(days=2),
                                                  finished_at=T0 - timedelta(days=2)))
        for hours in (3, 2, 1):
            failed = CrawlResult(source="bad-src", started_at=T0 - timedelta(hours=hours),
                                 finished_at=T0 - timedelta(hours=hours))
            failed.record_error("http://127.0.0.1:9/x", "HTTP 状态码 500")
            record_run(ctx.db, "bad-src", failed)
        rows = {r["key"]: r for r in SourceDesk(ctx).sources()}
        assert (rows["ok-src"]["stale"], rows["bad-src"]["stale"], rows["old-src"]["stale"]) == (
            False, True, True)
        assert rows["bad-src"]["flagged"] and rows["bad-src"]["consecutive_failures"] == 3
        client = build_web(ctx, TESTING=True).test_client()
        token = csrf_of(client.get("/login").get_data(as_text=True))
        client.post("/login", data={"username": "admin", "password": PASSWORD,
                                    "csrf_token": token})
        page = client.get("/admin/sources").get_data(as_text=True)
        assert "3 / 1 / 2 / 0" in page and "HTTP 状态码 500" in page and "连续失败 3 次" in page
        assert page.count("停滞，待检查") == 2
        api = client.get("/api/v1/admin/sources").get_json()["sources"]
        assert {r["key"]: r["last_run"]["ok"] for r in api} == {
            "ok-src": True, "bad-src": False, "old-src": True}
    finally:
        ctx.close()
