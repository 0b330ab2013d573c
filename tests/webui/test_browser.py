"""End to end in headless Chromium against the real app served by waitress on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from tests.webui.browser import chromium, screenshot, serve
from tests.webui.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow]
EVIL = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=1">'


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


@pytest.fixture
def site(app: Flask, users: dict[str, str]) -> Iterator[str]:
    with serve(app) as url:
        yield url


@pytest.fixture
def open_as(browser: Any, site: str) -> Iterator[Callable[[str], Any]]:
    contexts: list[Any] = []

    def open_as(persona: str) -> Any:
        context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.problems = []  # type: ignore[attr-defined]
        page.on("pageerror", lambda exc: page.problems.append(str(exc)))
        page.on("console", lambda msg: page.problems.append(msg.text)
                if msg.type == "error" else None)
        page.goto(site + "/login")
        page.fill("input[name=username]", persona)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        return page

    yield open_as
    for context in contexts:
        context.close()


def test_crawled_script_payloads_show_as_text_and_run_nothing(
        open_as: Callable[[str], Any], make_case: Callable[..., int], site: str) -> None:
    case_id = make_case(f"小区停水{EVIL}", text=f"居民反映停水三天。{EVIL}",
                        lead="jn-dongshan", due_answer=timedelta(hours=5))
    page = open_as("monitor")
    page.goto(f"{site}/cases/{case_id}")
    assert EVIL in page.locator(".post-text").first.inner_text()
    assert EVIL in page.locator("h1").inner_text()
    assert page.evaluate("typeof window.__pwned") == "undefined"
    page.wait_for_selector("#trend canvas")  # the shipped ECharts ran under the strict CSP
    # the queue re-renders rows from JSON on its own: wait for a refresh, then check again
    page.goto(f"{site}/queue")
    page.wait_for_selector("#refreshed:not(:empty)", timeout=20_000)
    assert EVIL in page.locator(f'tr[data-id="{case_id}"] td.title').inner_text()
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.locator("img[src=x]").count() == 0
    assert not [p for p in page.problems if "Content Security Policy" in p], page.problems


def test_new_cases_appear_in_the_queue_without_reload(
        open_as: Callable[[str], Any], make_case: Callable[..., int], site: str) -> None:
    make_case("先到的告警", severity=3, due_answer=timedelta(hours=30))
    page = open_as("monitor")
    assert page.url.endswith("/queue")
    page.evaluate("window.__sameDocument = true")
    fresh = make_case("新出现的红色告警", severity=1, due_answer=timedelta(hours=4))
    row = page.wait_for_selector(f'tr[data-id="{fresh}"]', timeout=20_000)
    assert page.evaluate("window.__sameDocument") is True  # no reload happened
    assert page.locator("#queue tbody tr").first.get_attribute("data-id") == str(fresh)
    assert "剩余" in row.query_selector(".countdown").inner_text()
    page.wait_for_selector("#map canvas")  # the shipped district outlines drew
    screenshot(page, "queue")


def test_screenshots_of_the_case_page_and_my_cases(
        open_as: Callable[[str], Any], make_case: Callable[..., int], site: str) -> None:
    case_id = make_case("东山街道某小区污水外溢", severity=2, state="dispatched",
                        lead="jn-dongshan", co=("jn-eco",), due_sign=timedelta(hours=1),
                        due_answer=timedelta(hours=40))
    make_case("科学园道路积水", severity=3, state="acknowledged", lead="jn-dongshan",
              due_answer=timedelta(hours=-2))
    monitor = open_as("monitor")
    monitor.goto(f"{site}/cases/{case_id}")
    monitor.wait_for_selector("#trend canvas")
    screenshot(monitor, "case")
    street = open_as("street")
    assert street.url.endswith("/my")
    assert "东山街道某小区污水外溢" in street.locator("#group-to_sign").inner_text()
    assert "科学园道路积水" in street.locator("#group-overdue").inner_text()
    screenshot(street, "my-cases")


def _act(page: Any, action: str, fields: dict[str, str] | None = None) -> None:
    form = page.locator(f'form.action[data-action="{action}"]')
    for name, value in (fields or {}).items():
        target = form.locator(f'[name="{name}"]')
        if target.evaluate("e => e.tagName") == "SELECT":
            target.select_option(value)
        else:
            target.fill(value)
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator(".flash.error").count() == 0, page.locator("main").inner_text()


def test_a_case_goes_from_dispatch_to_close_and_the_history_shows_each_step(
        open_as: Callable[[str], Any], make_case: Callable[..., int], site: str) -> None:
    case_id = make_case("东山街道垃圾清运不及时", severity=3)
    monitor = open_as("monitor")
    monitor.goto(f"{site}/cases/{case_id}")
    _act(monitor, "dispatch", {"lead": "jn-dongshan"})
    street = open_as("street")
    street.goto(f"{site}/cases/{case_id}")
    _act(street, "sign")
    _act(street, "respond", {"text": "已安排清运车辆，今日内清理完毕。", "channel": "政务微博",
                             "link": "https://weibo.example/reply/1"})
    monitor.goto(f"{site}/cases/{case_id}")
    _act(monitor, "close")
    steps = monitor.locator("#history li")
    actions = [steps.nth(i).get_attribute("data-action") for i in range(steps.count())]
    assert [a for a in actions if a in ("dispatch", "sign", "respond", "close")] == [
        "dispatch", "sign", "respond", "close"]
    for i in range(steps.count()):
        assert steps.nth(i).locator("time").inner_text().strip() not in ("", "—")
    assert "已安排清运车辆" in monitor.locator("#history").inner_text()
    assert "已办结" in monitor.locator("#case-state").inner_text()
    screenshot(monitor, "case-closed")


def test_the_monitor_bulk_dismisses_from_the_queue(
        open_as: Callable[[str], Any], make_case: Callable[..., int], site: str) -> None:
    noise = [make_case(f"广告信息{i}", severity=4) for i in range(2)]
    keep = make_case("需要处置的事项", severity=3)
    page = open_as("monitor")
    for case_id in noise:
        page.check(f'input[name=ids][value="{case_id}"]')
    page.fill('#bulk input[name=note]', "广告营销，与本辖区无关")
    page.click('#bulk button[value="dismiss"]')
    page.wait_for_load_state()
    assert "不予处置：成功 2 件，失败 0 件" in page.locator(".flash").first.inner_text()
    rows = [r.get_attribute("data-id") for r in page.locator("#queue tbody tr[data-id]").all()]
    assert rows == [str(keep)]
