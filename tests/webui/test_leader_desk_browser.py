"""The leaders' desk end to end in headless Chromium, on one fixed history built once.

The leader logs in and lands on the dashboard, picks 上周, every chart draws; goes to the
response report, drills from 东山街道's on-time sign rate into exactly the cases behind it;
downloads the report XLSX and the 周报 DOCX and reads both back. One browser, one server, one
history (tests/briefing_history.py plus one more 东山 case signed on time), a screenshot of
each page in artifacts/screenshots/. This replaces the three separate browser tests of the
dashboard, the report and the briefing (their assertions are kept here).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docx
import openpyxl
import pytest
from briefing_history import NOW, Decision, local, seed
from flask import Flask
from sqlalchemy import select

from routing.cases import open_or_update_case
from routing.escalation import sweep
from routing.policy import Policy
from routing.workflow import Action, Actor, perform
from store import Event, Post, Role, Unit
from tests.conftest import Prepared, prepared_database, prepared_url
from tests.webui.browser import chromium, screenshot, serve
from tests.webui.conftest import PASSWORD, create_personas
from yuqing.context import AppContext

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LAST_WEEK = "上周（2026-11-16 至 2026-11-22）"  # NOW is Monday 2026-11-23


def _history(ctx: AppContext) -> dict[str, int]:
    policy = Policy.from_settings(ctx.settings)
    ids = seed(ctx.db, policy)
    with ctx.db.session() as s:  # analysed posts carry keywords: the word cloud reads them
        for post in s.scalars(select(Post)):
            post.keywords = {ids.e1: ["污水", "外溢", "小区"], ids.e2: ["收费", "小学", "家长"]
                             }.get(post.event_id or 0, ["交通", "出行"])
    # a second 东山 case of that week, signed on time: its sign rate is 1 of 2 (case1 was late)
    with ctx.db.session() as s:
        event = Event(title="东山街道某路段积水影响通行", topic="traffic", severity=3,
                      first_seen_at=local(19, 9), last_seen_at=local(19, 9), post_count=1,
                      source_count=1, places=["320115001"])
        s.add(event)
        s.flush()
        event_id = event.id
        dongshan = s.scalar(select(Unit.id).where(Unit.code == "jn-dongshan"))
        publicity = s.scalar(select(Unit.id).where(Unit.code == "jn-publicity"))
    case3 = open_or_update_case(ctx.db, event_id, Decision(lead="jn-dongshan"), 3,
                                local(19, 9), policy=policy).case_id
    assert case3 is not None
    monitor = Actor(None, Role.MONITOR, publicity, "值班员小王")
    perform(ctx.db, case3, Action.DISPATCH, monitor, data={"lead": "jn-dongshan", "co": []},
            now=local(19, 9, 10), policy=policy)
    perform(ctx.db, case3, Action.SIGN, Actor(None, Role.UNIT, dongshan, "东山街道"),
            now=local(19, 9, 40), policy=policy)
    sweep(ctx.db, NOW, policy=policy)  # case3's answer limit has passed: the scheduler marks it
    create_personas(ctx.db)
    return {"case1": ids.case1, "case2": ids.case2, "case3": case3}


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory, pg_database_url: str | None,
             sqlite_template: Path) -> Iterator[Prepared]:
    with prepared_database(tmp_path_factory.mktemp("desk"), pg_database_url, sqlite_template,
                           _history) as done:
        yield done


@pytest.fixture
def database_url(prepared: Prepared, tmp_path: Path) -> str:
    return prepared_url(prepared, tmp_path)


@pytest.fixture
def site(ctx: AppContext, app: Flask) -> Iterator[str]:
    ctx.clock = lambda: NOW
    with serve(app) as url:
        yield url


def _dashboard(page: Any, site: str) -> None:
    assert page.url.endswith("/dashboard")  # the leader's home
    page.goto(site + "/dashboard?preset=this_week")
    assert "本周" in page.locator("#period-label").inner_text()
    # leaving while the word cloud still lays out (asynchronously, slower on a loaded machine)
    # makes its timer throw in the page being left: let this page finish drawing first
    page.wait_for_selector("#dashboard[data-drawn='1']")
    page.wait_for_timeout(300)
    with page.expect_navigation():
        page.select_option("#preset", "last_week")
    assert "preset=last_week" in page.url
    assert page.locator("#period-label").inner_text() == LAST_WEEK
    page.wait_for_selector("#dashboard[data-drawn='1']")
    for chart in ("kind", "sentiment", "topics", "places", "cases", "words", "map"):
        page.wait_for_selector(f"#chart-{chart} canvas", timeout=15_000)
    hot = page.locator("#hot-events").inner_text()
    assert "东山街道某小区污水外溢多日无人处理" in hot
    assert "↑ 上升" in hot  # 秣陵's event: 1 post the week before, 3 in this one
    assert page.locator("#map-note").inner_text().startswith("示意图")
    page.click("#toggle-tables")  # the table twins become visible on request
    assert page.locator("#twin-map").is_visible()
    page.click("#toggle-tables")
    # a window shrunk to nothing and back (a full-page screenshot passes through 1 x 1): the
    # charts keep their layout instead of throwing, and draw again at the restored size
    page.set_viewport_size({"width": 1, "height": 1})
    page.wait_for_timeout(200)
    page.set_viewport_size({"width": 1400, "height": 900})
    page.wait_for_timeout(300)  # let the word cloud finish its layout before the picture
    screenshot(page, "dashboard")


def _report(page: Any, cases: dict[str, int]) -> None:
    # the dashboard's link keeps the period picked there
    page.click("#to-report")
    page.wait_for_load_state()
    assert LAST_WEEK in page.inner_text("h1")
    # the same period fields as the dashboard: a preset submits at once
    with page.expect_navigation():
        page.select_option("#preset", "this_week")
    assert "本周" in page.inner_text("h1")
    with page.expect_navigation():
        page.select_option("#preset", "last_week")
    assert LAST_WEEK in page.inner_text("h1")
    # below 85 %, the lowest first: 秣陵 (0 %, its case never signed), then 东山 (50 %)
    flagged = page.eval_on_selector_all("#units tr.flagged", "rs => rs.map(r => r.dataset.unit)")
    assert flagged[:2] == ["jn-moling", "jn-dongshan"]
    screenshot(page, "report-response")

    # 东山 as lead that week: case1 signed late, case3 on time → 1 / 2
    rate = page.locator('#units tr[data-unit="jn-dongshan"][data-role="lead"] '
                        'a[href*="metric=sign_on_time_rate"]')
    assert rate.inner_text() == "50.0%"
    rate.click()
    page.wait_for_load_state()
    listed = page.eval_on_selector_all(
        "#drill tbody tr", "rs => rs.map(r => [r.dataset.case, r.cells[r.cells.length - 1]"
        ".innerText])")
    # exactly the cases behind the number (秣陵's case is not 东山's), each marked
    assert sorted((int(c), mark) for c, mark in listed) == sorted(
        [(cases["case1"], "超时"), (cases["case3"], "按时")])
    screenshot(page, "report-drill")
    page.locator(f'#drill tr[data-case="{cases["case1"]}"] a').click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/cases/{cases['case1']}")
    page.go_back()
    page.click("text=返回报表")
    page.wait_for_load_state()

    with page.expect_download() as info:
        page.click("text=Excel")
    download = info.value
    assert download.suggested_filename == "响应考核报表_20261116-20261122.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(Path(download.path()).read_bytes()))
    header, *rows = list(book.active.iter_rows(values_only=True))
    records = [dict(zip(header, r, strict=True)) for r in rows]
    assert records[0]["分组"] == "合计"
    dongshan = next(r for r in records if (r["分组"], r["代码"], r["角色"])
                    == ("单位", "jn-dongshan", "主办"))
    assert (dongshan["签收"], dongshan["按时签收率"]) == (2, pytest.approx(0.5))
    assert dongshan["是否标红"] == "是"


def _briefing(page: Any) -> None:
    page.click("header.top >> text=舆情简报")
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
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(
        Path(download.path()).read_bytes())).paragraphs)
    assert "江宁区舆情周报" in text and "2026-11-16 至 2026-11-22" in text
    assert "东山街道某小区污水外溢多日无人处理" in text


def test_leader_goes_from_dashboard_to_report_drill_and_downloads_xlsx_and_weekly_docx(
        site: str, prepared: Prepared) -> None:
    with chromium() as browser:
        context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 900},
                                      accept_downloads=True)
        page: Any = context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda exc: problems.append(f"{exc} {exc.stack or ''}"))  # where
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("response", lambda r: problems.append(f"{r.status} {r.url}")
                if r.status >= 400 else None)  # every asset, the map file included, loads
        page.goto(site + "/login")
        page.fill("input[name=username]", "leader")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        _dashboard(page, site)
        _report(page, prepared.data)
        _briefing(page)
        # no script error, nothing refused by the CSP, no failed request
        assert not problems, problems
        context.close()

