"""The leader's dashboard in headless Chromium: lands there, picks 上周, every chart draws."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from store import Database
from tests.webui.browser import chromium, screenshot, serve
from tests.webui.conftest import PASSWORD
from tests.webui.test_dashboard import NOW, seed
from yuqing.context import AppContext
from yuqing.web import build_web

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def app(ctx: AppContext) -> Flask:
    ctx.clock = lambda: NOW
    return build_web(ctx, TESTING=True)


@pytest.fixture
def site(app: Flask, users: dict[str, str]) -> Iterator[str]:
    with serve(app) as url:
        yield url


def test_the_leader_opens_the_dashboard_picks_last_week_and_every_chart_draws(
        site: str, db: Database) -> None:
    seed(db)
    with chromium() as browser:
        context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 900})
        page: Any = context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda exc: problems.append(str(exc)))
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("response", lambda r: problems.append(f"{r.status} {r.url}")
                if r.status >= 400 else None)  # every asset, the map file included, loads
        page.goto(site + "/login")
        page.fill("input[name=username]", "leader")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        assert page.url.endswith("/dashboard")
        page.goto(site + "/dashboard?preset=this_week")
        assert "本周" in page.locator("#period-label").inner_text()
        with page.expect_navigation():
            page.select_option("#preset", "last_week")
        assert "preset=last_week" in page.url
        assert page.locator("#period-label").inner_text() == "上周（2026-11-09 至 2026-11-15）"
        page.wait_for_selector("#dashboard[data-drawn='1']")
        for chart in ("kind", "sentiment", "topics", "places", "cases", "words", "map"):
            page.wait_for_selector(f"#chart-{chart} canvas", timeout=15_000)
        assert "东山街道小区停水" in page.locator("#hot-events").inner_text()
        assert "↑ 上升" in page.locator("#hot-events").inner_text()
        assert page.locator("#map-note").inner_text().startswith("示意图")
        page.click("#toggle-tables")  # the table twins become visible on request
        assert page.locator("#twin-map").is_visible()
        page.click("#toggle-tables")
        page.wait_for_timeout(300)  # let the word cloud finish its layout before the picture
        screenshot(page, "dashboard")
        assert not problems, problems
        context.close()
