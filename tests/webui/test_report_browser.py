"""The leader's report in headless Chromium: pick last week, drill into a unit's on-time rate,
download the XLSX."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import openpyxl
import pytest
from flask import Flask

from routing.policy import Policy
from tests.routing.report_history import NOW, build_history
from tests.webui.browser import chromium, screenshot, serve
from tests.webui.conftest import PASSWORD
from yuqing.context import AppContext

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def site(ctx: AppContext, app: Flask, users: dict[str, str]) -> Iterator[str]:
    ctx.clock = lambda: NOW  # Monday 2026-10-12: 上周 is 10-05..10-11
    build_history(ctx.db, Policy.from_settings(ctx.settings))
    with serve(app) as url:
        yield url


def test_leader_picks_last_week_drills_into_a_rate_and_downloads_the_xlsx(site: str) -> None:
    with chromium() as browser:
        context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 900},
                                      accept_downloads=True)
        page: Any = context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda exc: problems.append(str(exc)))
        page.goto(site + "/login")
        page.fill("input[name=username]", "leader")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.click("text=考核报表")
        page.select_option("select[name=preset]", "last_week")
        page.click("button[value=preset]")
        page.wait_for_load_state()
        assert "上周（2026-10-05 至 2026-10-11）" in page.inner_text("h1")
        flagged = page.locator("#units tr.flagged").first
        assert flagged.get_attribute("data-unit") == "jn-dongshan"  # first and highlighted
        screenshot(page, "report-response")

        # 东山 in that week: A and E answered on time, D missed its limit → 2 / 3
        rate = page.locator('#units tr[data-unit="jn-dongshan"][data-role="lead"] '
                            'a[href*="metric=answer_on_time_rate"]')
        assert rate.inner_text() == "66.7%"
        rate.click()
        page.wait_for_load_state()
        rows = page.locator("#drill tbody tr")
        assert rows.count() == 3
        assert "超时未回应" in page.inner_text("#drill")
        page.locator("#drill a").first.click()
        page.wait_for_load_state()
        assert "/cases/" in page.url
        page.go_back()
        page.click("text=返回报表")
        page.wait_for_load_state()

        with page.expect_download() as info:
            page.click("text=Excel")
        download = info.value
        assert download.suggested_filename == "响应考核报表_20261005-20261011.xlsx"
        with open(download.path(), "rb") as handle:  # the download's temp name has no suffix
            book = openpyxl.load_workbook(handle)
        header, *rows_ = list(book.active.iter_rows(values_only=True))
        first = dict(zip(header, rows_[1], strict=True))  # row 0 is the total
        assert (first["代码"], first["按时回应率"]) == ("jn-dongshan", pytest.approx(0.6667,
                                                                                abs=1e-4))
        assert problems == []
        context.close()
