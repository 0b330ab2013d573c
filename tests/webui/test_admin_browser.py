"""The admin desk in headless Chromium: a unit, then a user for it, through the real forms."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from tests.webui.browser import chromium, screenshot, serve
from tests.webui.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def admin_page(app: Flask, users: dict[str, str]) -> Iterator[tuple[Any, str]]:
    with serve(app) as site, chromium() as browser:
        context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 900})
        page = context.new_page()
        page.problems = []  # type: ignore[attr-defined]
        page.on("pageerror", lambda exc: page.problems.append(str(exc)))
        page.goto(site + "/login")
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        yield page, site
        context.close()


def test_an_admin_creates_a_unit_then_a_user_for_it_in_the_browser(
        admin_page: tuple[Any, str]) -> None:
    page, site = admin_page
    page.click("text=系统管理")
    page.click("#admin-pages a[href=\"/admin/units\"]")
    page.click("text=新增单位")
    page.fill("input[name=code]", "jn-chengguan")
    page.fill("input[name=name]", "南京市江宁区城市管理局")
    page.fill("input[name=short_name]", "区城管局")
    page.select_option("select[name=kind]", "township")  # a township for the whole district
    page.select_option("select[name=jurisdiction]", "320115")
    page.click("#unit-form button[type=submit]")
    error = page.locator("label.invalid .field-error")
    assert error.inner_text() == "街道/镇的辖区应为其街道代码，而非整个区"
    screenshot(page, "admin-unit-form-refused")
    page.select_option("select[name=kind]", "department")
    page.fill("input[name=leader_name]", "赵局长")
    page.fill("input[name=contact_email]", "urban@jiangning.example")
    page.click("#unit-form button[type=submit]")
    assert "已新增单位" in page.locator(".flash").inner_text()
    page.goto(site + "/admin/units")
    assert page.locator('[data-unit="jn-chengguan"]').count() == 1
    page.goto(site + "/admin/users")
    page.fill("#new-user input[name=username]", "cg-clerk")
    page.select_option("#new-user select[name=role]", "unit")
    page.select_option("#new-user select[name=unit]", "jn-chengguan")
    page.click("#new-user button[type=submit]")
    password = page.locator("#secret").inner_text()
    assert len(password) == 12
    screenshot(page, "admin-user-password-shown-once")
    page.goto(site + "/admin/users")
    assert page.locator('[data-user="cg-clerk"] select[name=unit]').input_value() == "jn-chengguan"
    screenshot(page, "admin-users")
    assert page.problems == []  # type: ignore[attr-defined]
