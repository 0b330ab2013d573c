"""Admin desk, users: create, shown-once secrets, disable/enable, tokens, the last admin."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask

from store import Database, User
from tests.webui.conftest import PASSWORD, Browser, csrf_of
from webui.accounts import create_user


def _id(db: Database, username: str) -> int:
    with db.session() as s:
        return s.query(User.id).filter(User.username == username).scalar()


def _secret(html: str) -> str:
    found = re.search(r'<code class="secret" id="secret">([^<]+)</code>', html)
    assert found, html
    return found.group(1)


def _signs_in(app: Flask, username: str, password: str) -> bool:
    client = app.test_client()
    token = csrf_of(client.get("/login").get_data(as_text=True))
    r = client.post("/login", data={"username": username, "password": password,
                                    "csrf_token": token})
    return r.status_code == 302


def test_the_user_list_shows_role_unit_last_sign_in_and_token_use(
        login: Callable[[str], Browser], app: Flask, users: dict[str, str]) -> None:
    admin = login("admin")
    app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {users['dept']}"})
    rows = {u["username"]: u for u in admin.get("/api/v1/admin/users").get_json()["users"]}
    assert rows["dept"]["role"] == "unit" and rows["dept"]["unit"]["code"] == "jn-edu"
    assert rows["dept"]["token_last_used_at"] is not None  # its token was just used
    assert rows["street"]["token_last_used_at"] is None
    assert rows["admin"]["last_login_at"] is not None and rows["dept"]["last_login_at"] is None
    page = admin.get("/admin/users").get_data(as_text=True)
    assert 'data-user="dept"' in page and "区教育局" in page


def test_a_generated_password_is_shown_once_and_works(login: Callable[[str], Browser],
                                                     app: Flask) -> None:
    admin = login("admin")
    r = admin.post("/admin/users", {"username": "newclerk", "display_name": "新办事员",
                                    "role": "unit", "unit": "jn-health", "password": ""})
    assert r.status_code == 200
    password = _secret(r.get_data(as_text=True))
    assert _signs_in(app, "newclerk", password)
    # never again: the list shows no secret
    assert password not in admin.get("/admin/users").get_data(as_text=True)


def test_an_admin_chosen_password_is_not_shown(login: Callable[[str], Browser],
                                              app: Flask) -> None:
    admin = login("admin")
    r = admin.post("/admin/users", {"username": "boss", "role": "leader",
                                    "password": "leader-pass-1"})
    assert r.status_code == 302
    assert _signs_in(app, "boss", "leader-pass-1")


def test_creating_a_user_refuses_what_the_command_refuses(login: Callable[[str], Browser]
                                                         ) -> None:
    admin = login("admin")
    cases = [({"username": "u1", "role": "unit", "unit": ""}, "承办单位用户必须绑定一个单位"),
             ({"username": "u2", "role": "monitor", "unit": "jn-edu"}, "只有承办单位用户可以绑定单位"),
             ({"username": "u3", "role": "root"}, "未知的角色"),
             ({"username": "dept", "role": "leader"}, "用户 dept 已存在"),
             ({"username": "u4", "role": "leader", "password": "short"}, "密码至少 8 个字符")]
    for form, message in cases:
        r = admin.post("/admin/users", form)
        assert r.status_code == 400 and message in r.get_data(as_text=True), form


def test_disabling_a_user_ends_its_open_session_and_token_at_once(
        login: Callable[[str], Browser], app: Flask, db: Database, users: dict[str, str]) -> None:
    admin, street = login("admin"), login("street")
    assert street.get("/my").status_code == 200
    r = admin.post(f"/admin/users/{_id(db, 'street')}/disable")
    assert r.status_code == 302
    assert street.get("/my").status_code == 302  # the same cookie: sent to sign in
    auth = {"Authorization": f"Bearer {users['street']}"}
    assert app.test_client().get("/api/v1/me", headers=auth).status_code == 401
    assert not _signs_in(app, "street", PASSWORD)
    admin.post(f"/admin/users/{_id(db, 'street')}/enable")
    assert _signs_in(app, "street", PASSWORD)


def test_the_last_admin_cannot_be_disabled_from_the_desk(login: Callable[[str], Browser],
                                                        db: Database) -> None:
    admin = login("admin")
    r = admin.post(f"/admin/users/{_id(db, 'admin')}/disable")
    assert r.status_code == 400
    assert "不能停用最后一个启用的系统管理员" in r.get_data(as_text=True)
    assert admin.get("/admin").status_code == 200  # still signed in, still admin
    create_user(db, "second", PASSWORD, "admin")
    assert admin.post(f"/admin/users/{_id(db, 'second')}/disable").status_code == 302


def test_a_password_reset_is_shown_once_and_ends_the_old_sessions(
        login: Callable[[str], Browser], app: Flask, db: Database) -> None:
    admin, leader = login("admin"), login("leader")
    r = admin.post(f"/admin/users/{_id(db, 'leader')}/password")
    new = _secret(r.get_data(as_text=True))
    assert leader.get("/dashboard").status_code == 302
    assert not _signs_in(app, "leader", PASSWORD) and _signs_in(app, "leader", new)


def test_a_new_token_replaces_the_old_one_and_revoking_ends_it(
        login: Callable[[str], Browser], app: Flask, db: Database, users: dict[str, str]) -> None:
    admin = login("admin")
    client = app.test_client()
    old = {"Authorization": f"Bearer {users['monitor']}"}
    token = _secret(admin.post(f"/admin/users/{_id(db, 'monitor')}/token").get_data(as_text=True))
    new = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=old).status_code == 401
    assert client.get("/api/v1/me", headers=new).status_code == 200
    assert admin.post(f"/admin/users/{_id(db, 'monitor')}/token/revoke").status_code == 302
    assert client.get("/api/v1/me", headers=new).status_code == 401


def test_an_unknown_user_id_is_404(login: Callable[[str], Browser]) -> None:
    assert login("admin").post("/admin/users/999999/disable").status_code == 404


def test_a_role_change_applies_to_the_next_request_and_spares_the_last_admin(
        login: Callable[[str], Browser], db: Database, make_case: Callable[..., int]) -> None:
    admin, street = login("admin"), login("street")
    case_id = make_case("某小学乱收费", topic="education", lead="jn-edu", state="dispatched")
    assert street.get(f"/cases/{case_id}").status_code == 404
    r = admin.post(f"/admin/users/{_id(db, 'street')}/role", {"role": "unit", "unit": "jn-edu"})
    assert r.status_code == 302
    assert street.get(f"/cases/{case_id}").status_code == 200  # same session, new unit
    r = admin.post(f"/admin/users/{_id(db, 'street')}/role", {"role": "monitor", "unit": "jn-edu"})
    assert r.status_code == 400 and "只有承办单位用户可以绑定单位" in r.get_data(as_text=True)
    r = admin.post(f"/admin/users/{_id(db, 'admin')}/role", {"role": "monitor"})
    assert r.status_code == 400
    assert "不能取消最后一个启用的系统管理员的管理员角色" in r.get_data(as_text=True)
    assert admin.get("/admin/users").status_code == 200
