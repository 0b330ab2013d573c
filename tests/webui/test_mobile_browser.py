"""A street office on a phone (Chromium at 390×844): /my and the case page without horizontal
scrolling, 44 px touch targets, and a case signed and answered with the thumb."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask

from tests.webui.browser import chromium, screenshot, serve
from tests.webui.conftest import PASSWORD
from tests.webui.test_my_cases import NOW, H, dispatch, history, respond  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


@pytest.fixture
def phone(browser: Any, app: Flask, users: dict[str, str]) -> Iterator[Callable[[str], Any]]:
    with serve(app) as site:
        context = browser.new_context(locale="zh-CN", viewport=PHONE, device_scale_factor=2,
                                      is_mobile=True, has_touch=True)
        page = context.new_page()
        page.problems = []  # type: ignore[attr-defined]
        page.on("pageerror", lambda exc: page.problems.append(str(exc)))

        def sign_in(persona: str) -> Any:
            page.goto(site + "/login")
            page.fill("input[name=username]", persona)
            page.fill("input[name=password]", PASSWORD)
            with page.expect_navigation():
                page.tap("button[type=submit]")
            return page

        yield sign_in
        context.close()


def assert_fits_the_phone(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"横向滚动：页面宽 {width}px"
    assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 16


def assert_touch_targets(page: Any, selector: str) -> None:
    boxes = [e.bounding_box() for e in page.locator(selector).all() if e.is_visible()]
    assert boxes, selector
    assert all(b["height"] >= 44 and b["width"] >= 44 for b in boxes), (selector, boxes)


def test_a_street_office_signs_and_answers_a_case_on_a_phone(
        phone: Callable[[str], Any], history: Callable[..., int]) -> None:  # noqa: F811
    st = "jn-dongshan"
    case_id = history("东山街道某小区污水外溢，居民反映气味刺鼻", NOW - H, dispatch(NOW - H / 6),
                      severity=2)
    history("科学园道路积水严重影响出行", NOW - 6 * H, dispatch(NOW - 6 * H))
    history("秣陵街道菜市场噪声扰民", NOW - 45 * H, dispatch(NOW - 45 * H),
            ("sign", st, NOW - 44 * H))
    history("竹山路垃圾清运不及时", NOW - 30 * H, dispatch(NOW - 30 * H),
            ("sign", st, NOW - 29 * H), respond(st, NOW - 20 * H),
            ("reopen", "monitor", NOW - 2 * H))
    history("东山街道路灯损坏", NOW - 10 * H, dispatch(NOW - 10 * H),
            ("sign", st, NOW - 9 * H), respond(st, NOW - 5 * H))
    page = phone("street")
    assert page.url.endswith("/my")
    card = page.locator(f'#group-to_sign tr[data-id="{case_id}"]')
    assert card.is_visible() and "剩余" in card.locator(".countdown").inner_text()
    assert "竹山路垃圾清运不及时" in page.locator("#group-to_respond").inner_text()
    assert "科学园道路积水" in page.locator("#group-overdue").inner_text()
    assert_fits_the_phone(page)
    assert_touch_targets(page, "table.my-cases td.act button, table.my-cases td.act a.button")
    assert_touch_targets(page, ".top nav a")
    screenshot(page, "mobile-my")

    with page.expect_navigation():
        card.locator("form.quick button").tap()  # 签收 right on the card
    assert "已签收" in page.locator(".flash").inner_text()
    moved = page.locator(f'#group-to_respond tr[data-id="{case_id}"]')
    assert "首次回应时限" in moved.locator("td.due").inner_text()  # the sign limit stopped

    with page.expect_navigation():
        moved.locator("a.button").tap()  # 去回应 opens the case at its response form
    assert_fits_the_phone(page)
    bar = page.locator("#action-bar")
    box = bar.bounding_box()
    assert box["y"] + box["height"] == pytest.approx(PHONE["height"], abs=1)  # at the thumb
    assert_touch_targets(page, "#action-bar button, #action-bar a.button")
    sign_row = page.locator('dd[data-kind="sign"]')
    assert sign_row.locator(".countdown").count() == 0 and "停止计时" in sign_row.inner_text()
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "mobile-case")

    bar.locator('a[data-action="respond"]').tap()
    form = page.locator("#act-respond")
    assert form.is_visible()
    form.locator("textarea[name=text]").fill("已组织环卫和排水力量现场处置，污水已清理完毕。")
    form.locator("input[name=channel]").fill("政务微博")
    assert form.bounding_box()["width"] <= PHONE["width"]
    with page.expect_navigation():
        form.locator("button[type=submit]").tap()
    assert page.locator(".flash.error").count() == 0, page.locator("main").inner_text()
    assert page.locator("#case-state").inner_text() == "已回应"
    page.goto(page.url.split("/cases/")[0] + "/my")
    assert page.locator(f'#group-answered tr[data-id="{case_id}"]').is_visible()
    assert_fits_the_phone(page)
    assert not page.problems, page.problems
