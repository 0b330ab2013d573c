"""Sign-in, throttling, sessions, CSRF and API tokens."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import select

from store import Database, LoginThrottle, User
from tests.webui.conftest import PASSWORD, Browser, csrf_of
from webui.accounts import LOGIN_REFUSED, AccountError, create_user
from webui.throttle import FREE_TRIES


def _attempt(app: Flask, username: str, password: str,  # type: ignore[no-untyped-def]
             remote: str = "127.0.0.1", **query: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = remote
    token = csrf_of(client.get("/login").get_data(as_text=True))
    url = "/login" + (f"?next={query['next']}" if "next" in query else "")
    return client, client.post(url, data={"username": username, "password": password,
                                          "csrf_token": token})


def test_each_role_lands_on_its_home_page(app: Flask, users: dict[str, str]) -> None:
    for persona, home in [("monitor", "/queue"), ("leader", "/dashboard"), ("admin", "/queue"),
                          ("street", "/my")]:
        _, r = _attempt(app, persona, PASSWORD)
        assert r.status_code == 302 and r.headers["Location"] == home


def test_passwords_and_tokens_are_stored_hashed(db: Database, users: dict[str, str]) -> None:
    with db.session() as s:
        user = s.scalar(select(User).where(User.username == "monitor"))
        assert user is not None
        assert PASSWORD not in user.password_hash and user.password_hash.startswith("scrypt")
        assert user.api_token_hash and users["monitor"] not in user.api_token_hash


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(
        app: Flask, users: dict[str, str]) -> None:
    _, wrong = _attempt(app, "monitor", "not-the-password")
    _, unknown = _attempt(app, "nobody", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    assert "用户名或密码错误" in wrong.get_data(as_text=True)
    assert "用户名或密码错误" in unknown.get_data(as_text=True)


def test_a_throttled_client_gets_the_answer_an_unknown_user_gets_and_others_still_sign_in(
        app: Flask, users: dict[str, str], db: Database) -> None:
    for _ in range(FREE_TRIES):
        _attempt(app, "monitor", "guess-guess")
        _attempt(app, "nobody", "guess-guess")
    _, throttled = _attempt(app, "monitor", PASSWORD)  # the right password, too late
    _, unknown = _attempt(app, "no-such-user", "guess-guess")
    _, unknown_throttled = _attempt(app, "nobody", "guess-guess")
    assert throttled.status_code == unknown.status_code == unknown_throttled.status_code == 401
    assert (_message(throttled) == _message(unknown) == _message(unknown_throttled)
            == LOGIN_REFUSED)
    with db.session() as s:  # unknown names are throttled exactly like real ones
        blocked = {n: until for n, until in s.execute(
            select(LoginThrottle.username, LoginThrottle.blocked_until))}
    assert blocked["monitor"] and blocked["nobody"]
    # not an account lock: the same account from another address, and other accounts, sign in
    _, elsewhere = _attempt(app, "monitor", PASSWORD, remote="10.1.2.3")
    assert elsewhere.status_code == 302
    _, other = _attempt(app, "leader", PASSWORD)
    assert other.status_code == 302


def _message(response) -> str:  # type: ignore[no-untyped-def]
    found = re.search(r'id="login-error">([^<]+)<', response.get_data(as_text=True))
    assert found, response.get_data(as_text=True)
    return found.group(1).strip()


def test_a_login_without_the_csrf_token_is_refused(app: Flask, users: dict[str, str]) -> None:
    client = app.test_client()
    client.get("/login")
    r = client.post("/login", data={"username": "monitor", "password": PASSWORD})
    assert r.status_code == 400 and "CSRF" in r.get_data(as_text=True)


def test_state_changing_requests_need_the_csrf_token(login: Callable[[str], Browser],
                                                     make_case: Callable[..., int]) -> None:
    monitor = login("monitor")
    case_id = make_case()
    r = monitor.client.post(f"/cases/{case_id}/corrections", data={"severity": "1"})
    assert r.status_code == 400
    r = monitor.client.post(f"/api/v1/cases/{case_id}/corrections", json={"severity": 1})
    assert r.status_code == 400
    r = monitor.client.post(f"/api/v1/cases/{case_id}/corrections", json={"severity": 1},
                            headers={"X-CSRF-Token": "forged"})
    assert r.status_code == 400
    ok = monitor.post_json(f"/api/v1/cases/{case_id}/corrections", {"severity": 1})
    assert ok.status_code == 200


def test_next_only_follows_local_paths(app: Flask, users: dict[str, str]) -> None:
    _, r = _attempt(app, "monitor", PASSWORD, next="//evil.example/x")
    assert r.headers["Location"] == "/queue"
    _, r = _attempt(app, "monitor", PASSWORD, next="/cases/1")
    assert r.headers["Location"] == "/cases/1"


def test_the_session_cookie_is_http_only_and_renewed_on_sign_in(
        app: Flask, users: dict[str, str]) -> None:
    client = app.test_client()
    before = csrf_of(client.get("/login").get_data(as_text=True))
    r = client.post("/login", data={"username": "monitor", "password": PASSWORD,
                                    "csrf_token": before})
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    # the pre-login session (and its CSRF token) is gone: no session fixation
    assert client.post("/logout", data={"csrf_token": before}).status_code == 400


def test_logout_ends_the_session(login: Callable[[str], Browser]) -> None:
    monitor = login("monitor")
    assert monitor.post("/logout").status_code == 302
    assert monitor.get("/queue").headers["Location"].startswith("/login")


def test_api_tokens_authenticate_without_cookies_or_csrf(
        app: Flask, users: dict[str, str], make_case: Callable[..., int]) -> None:
    case_id = make_case()
    client = app.test_client()
    auth = {"Authorization": f"Bearer {users['monitor']}"}
    assert client.get("/api/v1/me", headers=auth).get_json()["role"] == "monitor"
    r = client.post(f"/api/v1/cases/{case_id}/corrections", json={"severity": 2}, headers=auth)
    assert r.status_code == 200
    bad = client.get("/api/v1/cases", headers={"Authorization": "Bearer yq_forged"})
    assert bad.status_code == 401 and bad.get_json()["error"]
    assert client.get("/api/v1/cases").status_code == 401


def test_pages_carry_a_strict_content_security_policy(app: Flask) -> None:
    r = app.test_client().get("/login")
    policy = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("style-src")[0]
    assert "<script>" not in r.get_data(as_text=True)  # no inline script anywhere


def test_a_leader_may_be_bound_to_a_unit_but_a_monitor_may_not(db: Database) -> None:
    leader = create_user(db, "dsleader", PASSWORD, "leader", unit_code="jn-dongshan")
    assert leader.unit_id is not None
    with pytest.raises(AccountError, match="只有承办单位用户和领导可以绑定单位"):
        create_user(db, "boundmonitor", PASSWORD, "monitor", unit_code="jn-dongshan")
