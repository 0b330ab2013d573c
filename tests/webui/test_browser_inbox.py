"""The inbox in headless Chromium: the header count, mark all read, and the sound switch that
is off by default and remembered per browser; no script error and no CSP violation."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask

from store import Database
from tests.webui.browser import chromium, screenshot, serve
from tests.webui.conftest import PASSWORD, Browser
from tests.webui.test_inbox import deliver

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def site(app: Flask, users: dict[str, str]) -> Iterator[str]:
    with serve(app) as url:
        yield url


def test_the_monitor_reads_the_inbox_and_switches_the_sound_on(
        site: str, db: Database, login: Callable[[str], Browser],
        make_case: Callable[..., int]) -> None:
    case_id = make_case("东山街道污水外溢<script>alert(1)</script>", severity=2)
    login("monitor").post_json(f"/api/v1/cases/{case_id}/actions/dispatch",
                               {"lead": "jn-dongshan"})
    login("street").post_json(f"/api/v1/cases/{case_id}/actions/sign", {})
    deliver(db)
    with chromium() as browser:
        context = browser.new_context(locale="zh-CN", viewport={"width": 1200, "height": 800})
        page: Any = context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda exc: problems.append(str(exc)))
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("dialog", lambda d: problems.append("dialog " + d.message))
        page.goto(site + "/login")
        page.fill("input[name=username]", "monitor")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        page.goto(site + "/inbox")
        assert page.locator("#inbox-unread").inner_text() == "1"
        assert "<script>" in page.locator(".notice h3").inner_text()  # shown as text
        toggle = page.locator("#sound-toggle")
        assert not toggle.is_checked()  # off by default
        toggle.check()
        page.reload()
        assert page.locator("#sound-toggle").is_checked()
        assert page.evaluate("localStorage.getItem('yq.inbox.sound')") == "1"
        screenshot(page, "inbox")
        with page.expect_navigation():
            page.click("#read-all")
        assert page.locator("#inbox-unread").inner_text() == "0"
        assert page.locator(".notice.unread").count() == 0
        assert not problems, problems
        context.close()
