"""Sign-in throttling under concurrency, server-side sessions, the Secure cookie, private files."""

from __future__ import annotations

import http.client
import os
import re
import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest
from flask import Flask
from sqlalchemy import select, text

from store import Database, LoginThrottle
from store.search import open_index
from tests.webui.browser import serve
from tests.webui.conftest import PASSWORD, Browser, csrf_of
from webui.accounts import LOGIN_REFUSED, LoginRefused, authenticate, set_password
from webui.throttle import FIRST_BLOCK, FREE_TRIES
from yuqing.context import AppContext
from yuqing.settings import ensure_secret_key
from yuqing.web import build_web

T0 = datetime(2031, 3, 4, 5, 6, tzinfo=UTC)  # a fixed instant: the throttle takes now= from us
BURST = 48


def _outcome(db: Database, password: str, client: str, now: datetime) -> str:
    try:
        authenticate(db, "monitor", password, client=client, now=now)
    except LoginRefused as exc:
        return exc.reason
    return "ok"


def _together(n: int, fn: Callable[[], str]) -> Counter[str]:
    """Run fn in n threads released at the same moment; count what they return."""
    gate, results, lock = threading.Barrier(n), Counter[str](), threading.Lock()

    def run() -> None:
        gate.wait()
        got = fn()
        with lock:
            results[got] += 1

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_concurrent_wrong_passwords_get_no_more_tries_than_the_throttle_allows(
        db: Database, users: dict[str, str]) -> None:
    got = _together(BURST, lambda: _outcome(db, "guess-guess", "10.0.0.9", T0))
    # exactly FREE_TRIES passwords were checked; every other attempt was refused unchecked
    assert got == Counter(password=FREE_TRIES, throttled=BURST - FREE_TRIES)
    with db.session() as s:
        row = s.scalar(select(LoginThrottle).where(LoginThrottle.username == "monitor"))
        assert row is not None and row.tries == FREE_TRIES and row.blocked_until
    assert _outcome(db, PASSWORD, "10.0.0.9", T0) == "throttled"
    assert _outcome(db, PASSWORD, "10.0.0.10", T0) == "ok"  # the account is not locked


def test_the_block_backs_off_and_a_success_clears_it(db: Database, users: dict[str, str]) -> None:
    client = "10.0.0.7"
    for _ in range(FREE_TRIES):
        assert _outcome(db, "guess-guess", client, T0) == "password"
    after_first = T0 + FIRST_BLOCK
    assert _outcome(db, PASSWORD, client, after_first - timedelta(seconds=1)) == "throttled"
    assert _outcome(db, "guess-guess", client, after_first) == "password"  # one try, then…
    second = after_first + 2 * FIRST_BLOCK  # …a block twice as long
    assert _outcome(db, PASSWORD, client, second - timedelta(seconds=1)) == "throttled"
    assert _outcome(db, PASSWORD, client, second) == "ok"
    for _ in range(FREE_TRIES - 1):  # after a success the count starts afresh
        assert _outcome(db, "guess-guess", client, second) == "password"


def _sign_in_over_http(port: int, source: str, password: str) -> tuple[int, str]:
    """One sign-in as a browser does it (GET the form, POST it with the cookie) from source."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60,
                                      source_address=(source, 0))
    try:
        conn.request("GET", "/login")
        r = conn.getresponse()
        page = r.read().decode("utf-8")
        cookie = r.getheader("Set-Cookie", "").split(";")[0]
        body = urlencode({"username": "monitor", "password": password,
                          "csrf_token": csrf_of(page)})
        conn.request("POST", "/login", body=body, headers={
            "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
        r = conn.getresponse()
        text = r.read().decode("utf-8")
        found = re.search(r'id="login-error">([^<]+)<', text)
        return r.status, found.group(1).strip() if found else ""
    finally:
        conn.close()


def test_a_burst_against_the_real_server_is_throttled_per_client_address(
        app: Flask, users: dict[str, str], db: Database) -> None:
    with serve(app) as base:
        port = int(base.rsplit(":", 1)[1])
        got = _together(BURST, lambda: repr(_sign_in_over_http(port, "127.0.0.1", "guess")))
        assert got == Counter({repr((401, LOGIN_REFUSED)): BURST})  # every answer alike
        with db.session() as s:
            tries = s.scalar(select(LoginThrottle.tries).where(
                LoginThrottle.username == "monitor", LoginThrottle.client == "127.0.0.1"))
        assert tries == FREE_TRIES
        assert _sign_in_over_http(port, "127.0.0.1", PASSWORD) == (401, LOGIN_REFUSED)
        assert _sign_in_over_http(port, "127.0.0.2", PASSWORD) == (302, "")


def _replay(app: Flask, cookie: str) -> int:
    """Status of /queue for a fresh client holding a copy of an old session cookie."""
    thief = app.test_client()
    thief.set_cookie("yuqing_session", cookie)
    return thief.get("/queue").status_code


def test_logout_ends_the_session_on_the_server(app: Flask,
                                               login: Callable[[str], Browser]) -> None:
    monitor = login("monitor")
    cookie = monitor.client.get_cookie("yuqing_session")
    assert cookie is not None and _replay(app, cookie.value) == 200
    assert monitor.post("/logout").status_code == 302
    assert _replay(app, cookie.value) == 302  # a copy of the cookie is worthless now


def test_a_new_password_ends_every_session_of_the_user(
        app: Flask, login: Callable[[str], Browser], db: Database) -> None:
    first, second, other = login("monitor"), login("monitor"), login("leader")
    set_password(db, "monitor", "brand-new-secret")
    assert first.get("/queue").status_code == 302
    assert second.get("/api/v1/cases").status_code == 401
    assert other.get("/queue").status_code == 200  # other users keep theirs


def _cookie_flags(app: Flask, base_url: str = "http://localhost", **headers: str) -> str:
    client = app.test_client()
    return client.get("/login", base_url=base_url, headers=headers).headers["Set-Cookie"]


def test_the_session_cookie_is_secure_over_https(ctx: AppContext) -> None:
    auto = build_web(ctx, TESTING=True)
    assert "Secure" not in _cookie_flags(auto)
    assert "Secure" in _cookie_flags(auto, "https://localhost")
    # a forwarded header counts only from a proxy the settings say is there
    assert "Secure" not in _cookie_flags(auto, **{"X-Forwarded-Proto": "https"})
    proxied = build_web(ctx, TESTING=True, YUQING_PROXY_HOPS=1)
    assert "Secure" in _cookie_flags(proxied, **{"X-Forwarded-Proto": "https"})
    always = build_web(ctx, TESTING=True, YUQING_SECURE_COOKIE="always")
    assert "Secure" in _cookie_flags(always)


def test_the_secure_cookie_setting_is_read_from_settings_yaml(tmp_path: Path,
                                                             database_url: str) -> None:
    from tests.conftest import make_settings

    home = tmp_path / "inst"
    home.mkdir()
    (home / "settings.yaml").write_text("web:\n  secure_cookie: always\n  proxy_hops: 1\n",
                                        encoding="utf-8")
    settings = make_settings(home, database_url)
    assert settings.app.web.proxy_hops == 1
    app = AppContext(settings=settings)
    try:
        assert "Secure" in _cookie_flags(build_web(app, TESTING=True))
    finally:
        app.close()


def test_the_database_and_the_secret_key_are_created_private(tmp_path: Path,
                                                             ctx: AppContext) -> None:
    old = os.umask(0o022)  # a common umask: files would be world-readable by default
    try:
        db = Database(f"sqlite:///{tmp_path / 'fresh' / 'yuqing.db'}")
        with db.engine.begin() as conn:  # a write, so the -wal and -shm files exist too
            conn.execute(text("CREATE TABLE t (x INTEGER)"))
        db.dispose()
        index = open_index(f"fts5://{tmp_path / 'fresh' / 'search.db'}")
        index.count_all()
        index.close()
        home = tmp_path / "home"
        settings = ctx.settings.model_copy(update={"home": home})
        ensure_secret_key(settings)
    finally:
        os.umask(old)
    for made in (tmp_path / "fresh").iterdir():
        assert made.stat().st_mode & 0o777 == 0o600, made.name
    assert {p.name for p in (tmp_path / "fresh").iterdir()} >= {"yuqing.db", "search.db"}
    assert (home / "secret_key").stat().st_mode & 0o777 == 0o600


def test_nobody_can_lock_the_admin_out(db: Database, users: dict[str, str]) -> None:
    for n in range(3 * FREE_TRIES):  # a flood from the attacker's address…
        with pytest.raises(LoginRefused):
            authenticate(db, "admin", f"guess-{n}", client="203.0.113.9", now=T0)
    # …leaves the admin signing in from anywhere else
    assert authenticate(db, "admin", PASSWORD, client="10.0.0.1", now=T0).username == "admin"


def test_a_session_ends_when_its_lifetime_is_over(db: Database, users: dict[str, str]) -> None:
    from webui.accounts import SESSION_LIFETIME, session_viewer, start_session

    viewer = authenticate(db, "leader", PASSWORD, client="10.0.0.1", now=T0)
    sid = start_session(db, viewer.user_id, now=T0)
    assert session_viewer(db, sid, now=T0 + SESSION_LIFETIME - timedelta(seconds=1))
    assert session_viewer(db, sid, now=T0 + SESSION_LIFETIME) is None
    assert session_viewer(db, "forged-session-id", now=T0) is None
