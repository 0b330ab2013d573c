"""The printable 周报 in headless Chromium: rendered, printable, no script errors (CSP)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from briefing_history import NOW, seed
from flask import Flask

from routing.policy import Policy
from store import Database
from tests.webui.browser import chromium, screenshot, serve
from tests.webui.conftest import PASSWORD
from yuqing.settings import Settings

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def site(app: Flask, users: dict[str, str], db: Database, settings: Settings) -> Iterator[str]:
    app.extensions["yuqing.clock"] = lambda: NOW
    seed(db, Policy.from_settings(settings))
    with serve(app) as url:
        yield url


def test_leader_opens_the_weekly_briefing_and_downloads_its_docx(site: str,
                                                                 tmp_path: Any) -> None:
    with chromium() as browser:
        context = browser.new_context(locale="zh-CN", viewport={"width": 1100, "height": 900},
                                      accept_downloads=True)
        page = context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda exc: problems.append(str(exc)))
        page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
        page.goto(site + "/login")
        page.fill("input[name=username]", "leader")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        page.click("text=舆情简报")
        page.click("text=查看上周周报")
        page.wait_for_load_state("networkidle")
        assert page.locator("h1").inner_text() == "江宁区舆情周报"
        assert page.locator(".briefing-sub").inner_text() == "2026-11-16 至 2026-11-22"
        # both charts decoded (a broken data: URI has no natural width)
        widths = page.eval_on_selector_all("figure img", "els => els.map(e => e.naturalWidth)")
        assert len(widths) == 2 and all(w > 0 for w in widths)
        screenshot(page, "briefing-weekly")
        # print media hides the console chrome and the tools
        page.emulate_media(media="print")
        assert not page.locator("header.top").is_visible()
        assert not page.locator(".briefing-tools").is_visible()
        page.emulate_media(media="screen")
        with page.expect_download() as info:
            page.click("text=下载 DOCX")
        download = info.value
        assert download.suggested_filename.endswith(".docx")
        saved = tmp_path / "weekly.docx"
        download.save_as(saved)
        assert saved.read_bytes()[:2] == b"PK"
        # no script error, nothing refused by the CSP (the browser's own favicon 404 aside)
        assert not [p for p in problems if "404" not in p], problems
        context.close()
