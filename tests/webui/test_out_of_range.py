"""Out-of-range input is a 400/404 with a Chinese message, never a 500, on the API and pages."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from tests.webui.conftest import Browser

HUGE = "99999999999999999999999"
ENGLISH = re.compile(r"Input should|Value error|value is not|greater than|less than|Field required")


def _chinese_error(response, status: int) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    body = response.get_json()["error"] if response.is_json else response.get_data(as_text=True)
    assert re.search(r"[\u4e00-\u9fff]", body) and not ENGLISH.search(body), body
    return body


@pytest.mark.parametrize("url", [f"/api/v1/cases/{HUGE}", f"/api/v1/cases/{2**63}",
                                 f"/cases/{HUGE}", f"/cases/{2**63}"])
def test_ids_beyond_64_bits_are_not_found(login: Callable[[str], Browser], url: str) -> None:
    _chinese_error(login("monitor").get(url), 404)


@pytest.mark.parametrize("query", [f"offset={HUGE}", f"offset={2**63}", "offset=-1", "limit=0",
                                   "since=0001-01-01T00:00", "until=9999-12-31T23:59:59-12:00",
                                   "since=不是时间", f"severity={HUGE}"])
def test_bad_queue_filters_are_400_in_chinese_on_api_and_page(
        login: Callable[[str], Browser], query: str) -> None:
    monitor = login("monitor")
    _chinese_error(monitor.get(f"/api/v1/cases?{query}"), 400)
    _chinese_error(monitor.get(f"/queue?{query}"), 400)


def test_a_large_offset_within_range_is_an_empty_page(login: Callable[[str], Browser]) -> None:
    got = login("monitor").get("/api/v1/cases?offset=1000000")
    assert got.status_code == 200 and got.get_json()["cases"] == []


def test_versions_and_bulk_ids_beyond_64_bits_are_400(
        login: Callable[[str], Browser], make_case: Callable[..., int]) -> None:
    case_id = make_case()
    monitor = login("monitor")
    for version in (2**63, -1, int(HUGE)):
        body = _chinese_error(monitor.post_json(
            f"/api/v1/cases/{case_id}/actions/dispatch",
            {"lead": "jn-dongshan", "expected_version": version}), 400)
        assert "expected_version" in body
        _chinese_error(monitor.post_json(f"/api/v1/cases/{case_id}/corrections",
                                         {"severity": 2, "expected_version": version}), 400)
    _chinese_error(monitor.post(f"/cases/{case_id}/actions/dispatch",
                                {"lead": "jn-dongshan", "expected_version": HUGE}), 400)
    _chinese_error(monitor.post_json("/api/v1/cases/bulk",
                                     {"action": "dismiss", "ids": [case_id, 2**63]}), 400)


def test_pydantic_messages_reach_users_in_chinese(
        login: Callable[[str], Browser], make_case: Callable[..., int]) -> None:
    case_id = make_case()
    monitor = login("monitor")
    body = _chinese_error(monitor.post_json(f"/api/v1/cases/{case_id}/actions/request_extension",
                                            {"hours": -3}), 400)
    assert "hours：应大于 0" in body
    body = _chinese_error(monitor.get("/api/v1/cases?limit=9999"), 400)
    assert "limit：应小于或等于 500" in body
