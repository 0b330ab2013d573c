"""The admin desk end to end in headless Chromium (issue 14): a new department, a user for it,
a source pointing at a fixture site on 127.0.0.1, a crawl started from the console, one pass of
the real analysis/routing step, and the new unit's user finding the case in /my.

One Chromium and one console for the whole flow; the refusals and counts the two earlier admin
browser tests checked are asserted on the way.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import yaml
from flask import Flask
from sqlalchemy import select

from store import Assignment, Case, Unit
from tests.crawlers.fixture_site import Article, FixtureSite, SiteState, site_sources
from tests.webui.browser import chromium, screenshot, serve
from tests.webui.conftest import PASSWORD
from yuqing.context import AppContext

pytestmark = [pytest.mark.browser, pytest.mark.slow]
FAST = {"timeout": 2.0, "retries": 0, "autothrottle": False}
NOW = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)  # 14:00 in Nanjing, the afternoon of the posts

# A complaint naming the new 区文旅局 (tourism safety is its duty, first in the lead order),
# and a quieter article that must not open a case.
COMPLAINT = Article(id=301, title="江宁区文旅局回应景区门票乱收费",
                    body=["数百名游客集体投诉江宁区多个景区门票乱收费、强制消费、欺诈游客，"
                          "江宁区文旅局称将调查处理，网友强烈质疑监管缺位，要求严查。"],
                    time="2026年11月20日 10:00")
NOTICE = Article(id=300, title="江宁区举办秋季读书分享会",
                 body=["江宁区图书馆周末举办秋季读书分享会，欢迎市民参加。"],
                 time="2026年11月20日 09:00")


def _sign_in(page: Any, site: str, username: str, password: str) -> None:
    page.goto(site + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()


@pytest.fixture
def fixture_site() -> Iterator[FixtureSite]:
    with FixtureSite(SiteState(articles=[COMPLAINT, NOTICE])) as s:
        yield s


@pytest.fixture
def console(ctx: AppContext, app: Flask, users: dict[str, str]) -> Iterator[str]:
    ctx.clock = lambda: NOW  # never today's date: routing deadlines and /my read this clock
    with serve(app) as url:
        yield url


def test_a_unit_created_at_the_admin_desk_receives_the_case_of_a_source_crawled_from_the_console(
        ctx: AppContext, console: str, fixture_site: FixtureSite) -> None:
    record = next(s for s in site_sources(fixture_site, None, FAST) if s["key"] == "jn-news")
    with chromium() as browser:
        admin = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 900})
        page: Any = admin.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda exc: problems.append(str(exc)))
        _sign_in(page, console, "admin", PASSWORD)

        # 1. the unit: a township for the whole district is refused as units.yaml refuses it
        page.click("text=系统管理")
        page.click("#admin-pages a[href=\"/admin/units\"]")
        page.click("text=新增单位")
        page.fill("input[name=code]", "jn-culture")
        page.fill("input[name=name]", "南京市江宁区文化和旅游局")
        page.fill("input[name=short_name]", "区文旅局")
        page.fill("input[name=aliases]", "江宁区文旅局")
        page.select_option("select[name=kind]", "township")
        page.select_option("select[name=jurisdiction]", "320115")
        page.check("input[name=duties][value=work_safety]")  # 旅游安全
        page.check("input[name=duties][value=market]")  # 旅游市场
        page.click("#unit-form button[type=submit]")
        error = page.locator("label.invalid .field-error")
        assert error.inner_text() == "街道/镇的辖区应为其街道代码，而非整个区"
        screenshot(page, "admin-unit-form-refused")
        page.select_option("select[name=kind]", "department")
        page.fill("input[name=leader_name]", "钱局长")
        page.fill("input[name=contact_email]", "culture@jiangning.example")
        page.click("#unit-form button[type=submit]")
        assert "已新增单位" in page.locator(".flash").inner_text()
        page.goto(console + "/admin/units")
        assert page.locator('[data-unit="jn-culture"]').count() == 1

        # 2. a user for it: the password is shown once
        page.goto(console + "/admin/users")
        page.fill("#new-user input[name=username]", "wl-clerk")
        page.select_option("#new-user select[name=role]", "unit")
        page.select_option("#new-user select[name=unit]", "jn-culture")
        page.click("#new-user button[type=submit]")
        password = page.locator("#secret").inner_text()
        assert len(password) == 12
        screenshot(page, "admin-user-password-shown-once")
        page.goto(console + "/admin/users")
        assert page.locator('[data-user="wl-clerk"] select[name=unit]').input_value() \
            == "jn-culture"
        screenshot(page, "admin-users")

        # 3. a source on the fixture site, crawled now; the panel polls the run's counts.
        # Console errors count from here: the refused unit form above answered 400 on purpose.
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
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
        # our two articles and the four odd pages the fixture's first list page always links
        assert page.inner_text("#crawl-job [data-count=new]") == "6"
        assert page.inner_text("#crawl-job [data-field=stored_so_far]") == "6"
        screenshot(page, "admin-sources-crawl-now")
        page.goto(console + "/admin/sources")
        row = page.inner_text("tr[data-source=jn-news]")
        assert "6 / 0 / 0 / 0" in row and "成功" in row
        admin.close()

        # 4. the leader's analysis step, once: it reads the console's units like every batch
        assert ctx.analysis.pending() == 6
        with ctx.db.session() as s:
            cases = s.execute(select(Case.title, Case.routing, Unit.code)
                              .join(Assignment, Assignment.case_id == Case.id)
                              .join(Unit, Unit.id == Assignment.unit_id)
                              .where(Assignment.role == "lead", Unit.code == "jn-culture")).all()
        assert [(title, code) for title, _, code in cases] == [(COMPLAINT.title, "jn-culture")]
        assert "由区文旅局牵头" in str(cases[0][1])

        # 5. the new unit's user signs in with the shown password and finds it in /my
        clerk = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 900})
        mine: Any = clerk.new_page()
        mine.on("pageerror", lambda exc: problems.append(str(exc)))
        mine.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        _sign_in(mine, console, "wl-clerk", password)
        mine.goto(console + "/my")
        titles = mine.locator("td.title a").all_inner_texts()
        assert titles == [COMPLAINT.title]
        assert "南京市江宁区文化和旅游局" in mine.content()
        screenshot(mine, "admin-new-unit-my-cases")
        clerk.close()
        assert problems == []
