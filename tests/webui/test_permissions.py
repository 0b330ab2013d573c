"""Every route × every role: authorization lives in the queries, pages and API alike."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import make_settings
from tests.webui.conftest import Browser
from yuqing.settings import Settings


@pytest.fixture
def two_cases(make_case: Callable[..., int]) -> dict[str, int]:
    return {"street": make_case("东山街道路灯不亮", lead="jn-dongshan", state="dispatched"),
            "dept": make_case("某小学乱收费", topic="education", lead="jn-edu",
                              co=("jn-dongshan",), state="dispatched"),
            "nobody": make_case("秣陵街道噪音扰民", place="320115011")}


# persona -> expected status of: /queue, /my, /api/v1/my-cases, corrections, bulk
PAGE_RULES = {
    "admin": (200, 403, 403, 302, 302),
    "monitor": (200, 403, 403, 302, 302),
    "leader": (200, 403, 403, 403, 403),
    "street": (403, 200, 200, 403, 403),
    "dept": (403, 200, 200, 403, 403),
}


@pytest.mark.parametrize("persona", list(PAGE_RULES))
def test_each_role_reaches_only_its_pages(persona: str, login: Callable[[str], Browser],
                                          two_cases: dict[str, int]) -> None:
    b = login(persona)
    case_id = two_cases["nobody"]
    got = (b.get("/queue").status_code, b.get("/my").status_code,
           b.get("/api/v1/my-cases").status_code,
           b.post(f"/cases/{case_id}/corrections", {"severity": "2"}).status_code,
           b.post("/queue/bulk", {"action": "dismiss", "ids": [case_id], "note": "重复"}
                  ).status_code)
    if PAGE_RULES[persona][4] == 302 and got[4] == 503:  # workflow not installed yet
        got = (*got[:4], 302)
    assert got == PAGE_RULES[persona]


# persona -> the cases it may see
VISIBLE = {"admin": {"street", "dept", "nobody"}, "monitor": {"street", "dept", "nobody"},
           "leader": {"street", "dept", "nobody"}, "street": {"street", "dept"},
           "dept": {"dept"}}


@pytest.mark.parametrize("persona", list(VISIBLE))
def test_each_role_sees_only_its_cases_by_page_and_by_api(
        persona: str, login: Callable[[str], Browser], two_cases: dict[str, int],
        app: Flask, users: dict[str, str]) -> None:
    b = login(persona)
    expected = {two_cases[k] for k in VISIBLE[persona]}
    listed = {c["id"] for c in b.get("/api/v1/cases").get_json()["cases"]}
    assert listed == expected
    token_client = app.test_client()
    auth = {"Authorization": f"Bearer {users[persona]}"}
    by_token = token_client.get("/api/v1/cases", headers=auth).get_json()["cases"]
    assert {c["id"] for c in by_token} == expected
    for key, case_id in two_cases.items():
        want = 200 if key in VISIBLE[persona] else 404
        assert b.get(f"/cases/{case_id}").status_code == want
        assert b.get(f"/api/v1/cases/{case_id}").status_code == want
        assert token_client.get(f"/api/v1/cases/{case_id}", headers=auth).status_code == want


@pytest.mark.parametrize("url", ["/queue", "/my", "/cases/1"])
def test_anonymous_visitors_are_sent_to_sign_in(app: Flask, url: str) -> None:
    r = app.test_client().get(url)
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")


@pytest.mark.parametrize("url", ["/api/v1/cases", "/api/v1/cases/1", "/api/v1/my-cases",
                                 "/api/v1/me", "/api/v1/meta"])
def test_anonymous_api_calls_get_401(app: Flask, url: str) -> None:
    r = app.test_client().get(url)
    assert r.status_code == 401 and r.get_json()["error"] == "未登录或令牌无效"


def test_a_unit_cannot_act_on_a_case_it_cannot_see(login: Callable[[str], Browser],
                                                   two_cases: dict[str, int]) -> None:
    dept = login("dept")
    r = dept.post(f"/cases/{two_cases['street']}/actions/sign")
    assert r.status_code == 404
    r = dept.post_json(f"/api/v1/cases/{two_cases['street']}/actions/sign", {})
    assert r.status_code == 404 and r.get_json()["error"] == "工单不存在或无权查看"


def test_the_openapi_document_lists_every_api_route(app: Flask) -> None:
    doc = app.test_client().get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    routes = {str(r) for r in app.url_map.iter_rules() if str(r).startswith("/api/v1/")}
    documented = {re.sub(r"\{(\w+)\}", r"<\1>", re.sub(r"\{(\w+_id)\}", r"<int:\1>", p))
                  for p in doc["paths"]} | {"/api/v1/openapi.json"}
    assert routes == documented
    params = {p["name"] for p in doc["paths"]["/api/v1/cases"]["get"]["parameters"]}
    assert {"severity", "topic", "place", "unit", "state", "since", "until", "source"} <= params


def test_malformed_json_bodies_get_400_not_a_crash(login: Callable[[str], Browser],
                                                  two_cases: dict[str, int]) -> None:
    monitor = login("monitor")
    case_id = two_cases["nobody"]
    for body in ([1, 2], {"data": "x"}, {"hours": "many"}):
        r = monitor.client.post(f"/api/v1/cases/{case_id}/actions/request_extension",
                                json=body, headers={"X-CSRF-Token": monitor.csrf})
        assert r.status_code == 400, (body, r.get_json())
    r = monitor.post_json(f"/api/v1/cases/{case_id}/actions/respond",
                          {"text": "已处理", "link": "javascript:alert(1)"})
    assert r.status_code == 400 and "http" in r.get_json()["error"]
    r = monitor.post_json("/api/v1/cases/bulk", {"action": "dismiss", "ids": "1"})
    assert r.status_code == 400 and "ids" in r.get_json()["error"]


def _sees(b: Browser, token_client: FlaskClient, token: str, case_id: int) -> set[str]:
    """Every way a unit reads a case; the names of those that showed it."""
    auth = {"Authorization": f"Bearer {token}"}
    my = b.get("/api/v1/my-cases").get_json()
    ways = {
        "page": b.get(f"/cases/{case_id}").status_code == 200,
        "api": b.get(f"/api/v1/cases/{case_id}").status_code == 200,
        "token": token_client.get(f"/api/v1/cases/{case_id}", headers=auth).status_code == 200,
        "list": case_id in {c["id"] for c in b.get("/api/v1/cases").get_json()["cases"]},
        "my": case_id in {c["id"] for group in my["groups"] for c in group["cases"]},
    }
    return {name for name, shown in ways.items() if shown}


ALL_WAYS = {"page", "api", "token", "list", "my"}


def test_a_unit_stops_seeing_a_case_once_it_is_reassigned_away(
        login: Callable[[str], Browser], make_case: Callable[..., int], app: Flask,
        users: dict[str, str]) -> None:
    case_id = make_case("东山街道路灯不亮", lead="jn-dongshan", state="dispatched")
    monitor, street, dept = login("monitor"), login("street"), login("dept")
    token_client = app.test_client()
    assert _sees(street, token_client, users["street"], case_id) == ALL_WAYS
    r = monitor.post_json(f"/api/v1/cases/{case_id}/actions/reassign",
                          {"lead": "jn-edu", "note": "属教育局职责"})
    assert r.status_code == 200, r.get_json()
    assert _sees(street, token_client, users["street"], case_id) == set()
    assert _sees(dept, token_client, users["dept"], case_id) == ALL_WAYS
    # nor can it act on it any more
    assert street.post_json(f"/api/v1/cases/{case_id}/actions/sign", {}).status_code == 404


def test_a_unit_that_returns_a_case_no_longer_sees_it(
        login: Callable[[str], Browser], make_case: Callable[..., int], app: Flask,
        users: dict[str, str]) -> None:
    case_id = make_case("某小学乱收费", topic="education", lead="jn-edu",
                        co=("jn-dongshan",), state="dispatched")
    street, dept = login("street"), login("dept")
    token_client = app.test_client()
    r = street.post_json(f"/api/v1/cases/{case_id}/actions/return", {"note": "不属本街道"})
    assert r.status_code == 200, r.get_json()
    assert _sees(street, token_client, users["street"], case_id) == set()
    assert _sees(dept, token_client, users["dept"], case_id) == ALL_WAYS


# Every admin-desk route: (method, url). Only admins get through; the others 403, anonymous
# visitors are sent to sign in (pages) or get 401 (API).
ADMIN_ROUTES = [("GET", "/admin"), ("GET", "/admin/users"), ("POST", "/admin/users"),
                ("POST", "/admin/users/1/disable"), ("POST", "/admin/users/1/enable"),
                ("POST", "/admin/users/1/role"), ("POST", "/admin/users/1/password"), ("POST", "/admin/users/1/token"),
                ("POST", "/admin/users/1/token/revoke"), ("GET", "/admin/units"),
                ("GET", "/admin/units/new"), ("POST", "/admin/units/new"),
                ("GET", "/admin/units/jn-edu"), ("POST", "/admin/units/jn-edu"),
                ("POST", "/admin/units/jn-edu/retire"), ("POST", "/admin/units/jn-edu/restore"),
                ("GET", "/api/v1/admin/users"), ("GET", "/api/v1/admin/units"),
                ("GET", "/admin/sources"), ("GET", "/admin/sources/new"),
                ("POST", "/admin/sources/new"), ("GET", "/admin/sources/perm-src"),
                ("POST", "/admin/sources/perm-src"), ("POST", "/admin/sources/perm-src/pause"),
                ("POST", "/admin/sources/perm-src/resume"),
                ("POST", "/admin/sources/perm-src/crawl"), ("POST", "/admin/sources/test"),
                ("GET", "/api/v1/admin/sources"), ("GET", "/api/v1/admin/sources/jobs/none"),
                ("GET", "/admin/settings"), ("GET", "/admin/settings/routing"),
                ("POST", "/admin/settings/routing"), ("GET", "/api/v1/admin/settings/routing")]


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    # one configured source, so the admin desk's per-source pages exist (never crawled here)
    return make_settings(tmp_path / "instance", database_url, sources={"sources": [
        {"key": "perm-src", "name": "权限测试源", "kind": "feed",
         "start_urls": ["http://127.0.0.1:9/rss.xml"]}]})


def test_the_admin_route_list_covers_every_admin_route(app: Flask) -> None:
    def shape(url: str) -> str:
        return (url.replace("/1/", "/<int:user_id>/").replace("/jn-edu", "/<code>")
                .replace("/perm-src", "/<key>").replace("/jobs/none", "/jobs/<job>")
                .replace("/settings/routing", "/settings/<name>"))

    rules = {str(r) for r in app.url_map.iter_rules()
             if str(r).startswith(("/admin", "/api/v1/admin"))}
    assert rules == {shape(url) for _, url in ADMIN_ROUTES}


@pytest.mark.parametrize("persona", ["monitor", "leader", "street", "dept"])
def test_only_admins_reach_the_admin_desk(persona: str, login: Callable[[str], Browser],
                                          users: dict[str, str], app: Flask) -> None:
    b = login(persona)
    auth = {"Authorization": f"Bearer {users[persona]}"}
    for method, url in ADMIN_ROUTES:
        r = b.get(url) if method == "GET" else b.post(url)
        assert r.status_code == 403, (persona, method, url, r.status_code)
        if url.startswith("/api/"):
            assert app.test_client().get(url, headers=auth).status_code == 403
    assert "系统管理" not in b.get("/reports/response").get_data(as_text=True)


def test_an_admin_reaches_every_admin_page(login: Callable[[str], Browser],
                                          users: dict[str, str], app: Flask) -> None:
    b = login("admin")
    for method, url in ADMIN_ROUTES:
        if method == "GET":
            assert b.get(url).status_code == (404 if "/jobs/" in url else 200), url
    auth = {"Authorization": f"Bearer {users['admin']}"}
    assert app.test_client().get("/api/v1/admin/units", headers=auth).status_code == 200
    assert 'href="/admin"' in b.get("/queue").get_data(as_text=True)


def test_anonymous_visitors_never_reach_the_admin_desk(app: Flask) -> None:
    client = app.test_client()
    for method, url in ADMIN_ROUTES:
        r = client.get(url) if method == "GET" else client.post(url)
        if url.startswith("/api/"):
            assert r.status_code == 401, url
        elif method == "GET":
            assert r.status_code == 302 and r.headers["Location"].startswith("/login"), url
        else:  # no session, no CSRF token: refused before anything else
            assert r.status_code == 400, url


def test_every_admin_form_needs_the_csrf_token(login: Callable[[str], Browser]) -> None:
    admin = login("admin")
    for method, url in ADMIN_ROUTES:
        if method == "POST":
            r = admin.client.post(url, data={"username": "x", "role": "leader"})
            assert r.status_code == 400 and "CSRF" in r.get_data(as_text=True), url
            r = admin.client.post(url, data={"csrf_token": "forged"})
            assert r.status_code == 400, url
