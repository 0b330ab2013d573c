"""The inbox: console notices per user (a unit never sees another unit's), the header's
unread count, mark read / mark all read, new queue rows highlighted, and the API twins."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from conftest import Browser

from routing.notify.console import ConsoleChannel
from routing.notify.outbox import deliver_due
from store import Database, utcnow


def deliver(db: Database) -> None:
    """The outbox job, with the console channel only: writes the Notice rows."""
    deliver_due(db, {"console": ConsoleChannel("console", {}, db=db)}, utcnow())


def header_count(page: str) -> int:
    found = re.search(r'id="inbox-unread"[^>]*>(\d+)<', page)
    assert found, "no unread count in the header"
    return int(found.group(1))


@pytest.fixture
def notices(db: Database, login: Callable[[str], Browser], make_case: Callable[..., int]
            ) -> dict[str, int]:
    """A case dispatched to 东山街道 (street) and one to 区教育局 (dept), then one signed by
    东山街道 (a notice for the monitors); delivered through the console channel."""
    monitor = login("monitor")
    street_case = make_case("东山街道污水外溢")
    dept_case = make_case("某小学违规收费")
    for case_id, lead in ((street_case, "jn-dongshan"), (dept_case, "jn-edu")):
        r = monitor.post_json(f"/api/v1/cases/{case_id}/actions/dispatch", {"lead": lead})
        assert r.status_code == 200
    r = login("street").post_json(f"/api/v1/cases/{street_case}/actions/sign", {})
    assert r.status_code == 200
    deliver(db)
    return {"street_case": street_case, "dept_case": dept_case}


def test_each_unit_sees_only_its_own_notices_and_monitors_see_theirs(
        login: Callable[[str], Browser], notices: dict[str, int]) -> None:
    street = login("street").get("/api/v1/inbox").get_json()
    dept = login("dept").get("/api/v1/inbox").get_json()
    monitor = login("monitor").get("/api/v1/inbox").get_json()
    assert {n["case_id"] for n in street["items"]} == {notices["street_case"]}
    assert {n["case_id"] for n in dept["items"]} == {notices["dept_case"]}
    assert all("派发" in n["title"] for n in street["items"] + dept["items"])
    assert any("已签收" in n["title"] for n in monitor["items"])
    assert not {n["id"] for n in street["items"]} & {n["id"] for n in dept["items"]}
    assert not {n["id"] for n in street["items"]} & {n["id"] for n in monitor["items"]}
    assert street["unread"] == street["total"] == len(street["items"]) == 1


def test_the_inbox_page_links_the_case_and_the_header_counts_unread(
        login: Callable[[str], Browser], notices: dict[str, int]) -> None:
    street = login("street")
    page = street.get("/inbox").get_data(as_text=True)
    assert f'href="/cases/{notices["street_case"]}"' in page
    assert f'href="/cases/{notices["dept_case"]}"' not in page
    assert header_count(page) == 1 and 'class="notice unread"' in page
    assert header_count(street.get("/my").get_data(as_text=True)) == 1


def test_mark_read_is_per_user_and_ignores_other_units_notices(
        login: Callable[[str], Browser], notices: dict[str, int]) -> None:
    monitor, admin = login("monitor"), login("admin")
    mine = monitor.get("/api/v1/inbox").get_json()
    before = mine["unread"]
    assert before >= 1  # 东山街道's signature
    first = mine["items"][0]["id"]
    r = monitor.post_json("/api/v1/inbox/read", {"ids": [first]})
    assert r.get_json() == {"marked": 1, "unread": before - 1}
    again = monitor.post_json("/api/v1/inbox/read", {"ids": [first]})
    assert again.get_json()["marked"] == 0
    assert admin.get("/api/v1/inbox/unread").get_json()["unread"] == before  # admin unaffected
    street_ids = [n["id"] for n in login("street").get("/api/v1/inbox").get_json()["items"]]
    dept = login("dept")
    assert dept.post_json("/api/v1/inbox/read", {"ids": street_ids}).get_json()["marked"] == 0
    assert login("street").get("/api/v1/inbox/unread").get_json()["unread"] == 1


def test_mark_all_read_on_the_page_and_only_unread_filter(
        login: Callable[[str], Browser], notices: dict[str, int]) -> None:
    monitor = login("monitor")
    r = monitor.post("/inbox/read", {"all": "1"})
    assert r.status_code == 302
    page = monitor.get("/inbox").get_data(as_text=True)
    assert header_count(page) == 0 and 'class="notice unread"' not in page
    assert "暂无消息" in monitor.get("/inbox?unread=1").get_data(as_text=True)
    assert monitor.get("/api/v1/inbox?unread=1").get_json()["total"] == 0


def test_queue_rows_with_unread_notices_are_highlighted_until_read(
        login: Callable[[str], Browser], notices: dict[str, int]) -> None:
    monitor = login("monitor")
    row = re.compile(r'<tr data-id="(\d+)" class="([^"]*)"')
    marked = {int(i): cls for i, cls in row.findall(monitor.get("/queue").get_data(as_text=True))}
    assert "unread" in marked[notices["street_case"]]
    listed = monitor.get("/api/v1/cases").get_json()["cases"]
    flags = {c["id"]: c["unread"] for c in listed}
    # the monitors were told of the signature on the street's case, nothing on the other
    assert (flags[notices["street_case"]], flags[notices["dept_case"]]) == (True, False)
    monitor.post_json("/api/v1/inbox/read", {"all": True})
    marked = {int(i): cls for i, cls in row.findall(monitor.get("/queue").get_data(as_text=True))}
    assert not any("unread" in cls for cls in marked.values())


def test_the_unread_poll_returns_newer_notices_for_the_sound(
        db: Database, login: Callable[[str], Browser], notices: dict[str, int],
        make_case: Callable[..., int]) -> None:
    monitor = login("monitor")
    latest = monitor.get("/api/v1/inbox/unread").get_json()["latest_id"]
    urgent = make_case("特别重大事件", severity=1)
    monitor.post_json(f"/api/v1/cases/{urgent}/actions/dispatch", {"lead": "jn-dongshan"})
    login("street").post_json(f"/api/v1/cases/{urgent}/actions/sign", {})
    deliver(db)
    new = monitor.get(f"/api/v1/inbox/unread?after={latest}").get_json()["new"]
    assert [n["severity"] for n in new] == [1] and new[0]["link"] == f"/cases/{urgent}"
    assert monitor.get("/api/v1/inbox/unread?after=x").status_code == 400
    assert monitor.post_json("/api/v1/inbox/read", {}).status_code == 400
    assert monitor.post_json("/api/v1/inbox/read", {"ids": "1"}).status_code == 400


def test_the_inbox_needs_a_sign_in(app) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    assert client.get("/inbox").status_code == 302
    assert client.get("/api/v1/inbox").status_code == 401


def test_the_openapi_document_lists_the_inbox_and_triage_and_validates() -> None:
    from openapi_spec_validator import validate

    from webui.openapi import openapi_document

    doc = openapi_document()
    validate(doc)
    assert {"/api/v1/inbox", "/api/v1/inbox/unread", "/api/v1/inbox/read"} <= set(doc["paths"])
    action = doc["paths"]["/api/v1/cases/{case_id}/actions/{action}"]["post"]
    assert {"withdraw", "merge", "split"} <= set(action["parameters"][1]["schema"]["enum"])
    names = {p["name"] for p in doc["paths"]["/api/v1/cases"]["get"]["parameters"]}
    assert "extension" in names
