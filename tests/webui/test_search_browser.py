"""Search in headless Chromium: a monitor searches, a hostile post's payload shows as text
inside the highlight (no script runs, no element injected), and the case link opens."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from tests.search_posts import seed_search_posts
from tests.webui.browser import chromium, screenshot, serve
from tests.webui.conftest import PASSWORD
from yuqing.context import AppContext

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def site(ctx: AppContext, app: Flask, users: dict[str, str]) -> Iterator[tuple[str, dict]]:
    ids = seed_search_posts(ctx)
    with serve(app) as url:
        yield url, ids


def test_a_monitor_searches_and_hostile_text_stays_text(site: tuple[str, dict]) -> None:
    url, ids = site
    with chromium() as browser:
        page: Any = browser.new_context(locale="zh-CN",
                                        viewport={"width": 1280, "height": 900}).new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(url + "/login")
        page.fill("input[name=username]", "monitor")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.click("#nav-search")
        assert "检索语法" in page.inner_text("#syntax")
        page.fill("#q", "污水 -外溢")
        page.select_option("select[name=sort]", "time")
        page.click("#search-form button[type=submit]")
        page.wait_for_load_state()
        assert page.inner_text("#total") == "共 2 条"
        hostile = page.locator(f'li.hit[data-post="{ids["xss"]}"] .snippet')
        # the payload is visible text; the highlight is the only element inside the snippet
        assert '<script>alert("x")</script>' in hostile.inner_text()
        assert hostile.locator("script, img").count() == 0
        assert hostile.locator("mark").all_inner_texts() == ["污水"]
        assert page.locator(".hit-title img, .hit-title script").count() == 0
        screenshot(page, "search")

        page.fill("#q", '"食堂')
        page.click("#search-form button[type=submit]")
        page.wait_for_load_state()
        assert "引号不成对" in page.inner_text("#search-error")

        page.fill("#q", "竹山路")
        page.click("#search-form button[type=submit]")
        page.wait_for_load_state()
        page.click("a.case-link")
        page.wait_for_load_state()
        assert page.url.endswith(f"/cases/{ids['case:sewage']}")
        assert dialogs == []  # no alert() ever ran
