"""Headless Chromium: an admin adds a source pointing at the fixture site, crawls it now and
watches the progress panel fill with the run's counts (polled JSON, no inline script)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from flask import Flask

from tests.crawlers.fixture_site import FixtureSite, site_sources
from tests.webui.browser import chromium, screenshot, serve
from tests.webui.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow]
FAST = {"timeout": 2.0, "retries": 0, "autothrottle": False}


@pytest.fixture
def fixture_site() -> Iterator[FixtureSite]:
    with FixtureSite() as s:
        yield s


@pytest.fixture
def console(app: Flask, users: dict[str, str]) -> Iterator[str]:
    with serve(app) as url:
        yield url


def test_an_admin_adds_a_source_crawls_it_now_and_sees_the_counts(
        console: str, fixture_site: FixtureSite) -> None:
    record = next(s for s in site_sources(fixture_site, None, FAST) if s["key"] == "jn-news")
    with chromium() as browser:
        page: Any = browser.new_context(locale="zh-CN").new_page()
        problems: list[str] = []
        page.on("pageerror", lambda exc: problems.append(str(exc)))
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.goto(console + "/login")
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        page.goto(console + "/admin")
        page.click("text=信息源")
        page.click("text=新增信息源")
        page.fill("input[name=key]", "jn-news")
        page.fill("input[name=name]", record["name"])
        page.select_option("select[name=kind]", "html")
        page.fill("textarea[name=start_urls]", record["start_urls"][0])
        page.fill("input[name=schedule]", "15m")
        page.fill("textarea[name=options]", yaml.safe_dump(record["options"], allow_unicode=True))
        page.click("#source-form button:has-text('新增')")
        page.wait_for_load_state()
        assert "已新增信息源" in page.content()
        page.click("#source-actions button:has-text('立即抓取')")
        page.wait_for_selector("#crawl-job[data-state=done]", timeout=120_000)
        assert page.inner_text("#crawl-job [data-count=new]") == "14"
        assert page.inner_text("#crawl-job [data-field=stored_so_far]") == "14"
        screenshot(page, "admin-sources-crawl-now")
        page.goto(console + "/admin/sources")
        row = page.inner_text("tr[data-source=jn-news]")
        assert "14 / 0 / 0 / 0" in row and "成功" in row
        assert problems == []
