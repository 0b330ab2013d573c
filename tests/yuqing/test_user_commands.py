"""`yuqing user add/token/password` create accounts that can sign in and call the API."""

from __future__ import annotations

import json
import re

from click.testing import CliRunner
from flask.testing import FlaskClient

from yuqing.commands.users import user_group
from yuqing.context import AppContext
from yuqing.web import build_web


def test_a_user_added_by_the_cli_signs_in_and_its_token_works(ctx: AppContext) -> None:
    runner = CliRunner()
    r = runner.invoke(user_group, ["add", "zhangsan", "--role", "unit", "--unit", "jn-dongshan",
                                   "--name", "张三", "--password-stdin", "--token",
                                   "--json"], obj=ctx, input="s3cret-pass\n")
    assert r.exit_code == 0, r.output
    result = json.loads(r.output.strip().splitlines()[-1])
    assert result["username"] == "zhangsan" and result["token"].startswith("yq_")
    client = build_web(ctx).test_client()
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {result['token']}"})
    assert me.get_json()["name"] == "张三" and me.get_json()["role"] == "unit"

    again = runner.invoke(user_group, ["token", "zhangsan", "--json"], obj=ctx)
    fresh = json.loads(again.output.strip().splitlines()[-1])["token"]
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {result['token']}"}
                      ).status_code == 401  # the old token is replaced
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {fresh}"}
                      ).status_code == 200


def test_the_cli_refuses_bad_accounts_with_a_reason(ctx: AppContext) -> None:
    runner = CliRunner()
    cases = [
        (["add", "a", "--role", "unit"], "long-enough", "必须绑定一个单位"),
        (["add", "b", "--role", "unit", "--unit", "nope"], "long-enough", "未知的单位代码"),
        (["add", "c", "--role", "monitor"], "short", "至少 8 个字符"),
        (["add", "e", "--role", "monitor"], "", "标准输入中没有密码"),
        (["token", "ghost"], "", "不存在"),
    ]
    for args, password, reason in cases:
        r = runner.invoke(user_group, [*args, "--password-stdin"] if args[0] == "add" else args,
                          obj=ctx, input=password + "\n" if password else "")
        assert r.exit_code != 0 and reason in r.output, (args, r.output)
    runner.invoke(user_group, ["add", "d", "--role", "leader", "--password-stdin"],
                  obj=ctx, input="long-enough\n")
    dup = runner.invoke(user_group, ["add", "d", "--role", "leader", "--password-stdin"],
                        obj=ctx, input="long-enough\n")
    assert dup.exit_code != 0 and "已存在" in dup.output


def test_passwords_are_never_taken_from_the_command_line(ctx: AppContext) -> None:
    runner = CliRunner()
    r = runner.invoke(user_group, ["add", "f", "--role", "leader", "--password", "long-enough"],
                      obj=ctx)
    assert r.exit_code != 0 and "--password" in r.output  # no such option: it showed in `ps`
    r = runner.invoke(user_group, ["password", "f", "--password", "long-enough"], obj=ctx)
    assert r.exit_code != 0
    # typed at a hidden prompt, twice
    r = runner.invoke(user_group, ["add", "f", "--role", "leader"], obj=ctx,
                      input="long-enough\nlong-enough\n")
    assert r.exit_code == 0, r.output
    assert "long-enough" not in r.output
    client = build_web(ctx, TESTING=True).test_client()
    assert _signs_in(client, "f", "long-enough")
    r = runner.invoke(user_group, ["password", "f", "--password-stdin"], obj=ctx,
                      input="another-secret\n")
    assert r.exit_code == 0, r.output
    assert not _signs_in(build_web(ctx, TESTING=True).test_client(), "f", "long-enough")
    assert _signs_in(build_web(ctx, TESTING=True).test_client(), "f", "another-secret")


def test_tokens_are_revoked_and_disabled_users_are_out(ctx: AppContext) -> None:
    runner = CliRunner()
    for name, role in [("root", "admin"), ("g", "monitor")]:
        r = runner.invoke(user_group, ["add", name, "--role", role, "--password-stdin",
                                       "--token", "--json"], obj=ctx, input="long-enough\n")
        assert r.exit_code == 0, r.output
    token = json.loads(r.output.strip().splitlines()[-1])["token"]
    client = build_web(ctx, TESTING=True).test_client()
    me = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=me).status_code == 200
    assert runner.invoke(user_group, ["revoke-token", "g"], obj=ctx).exit_code == 0
    assert client.get("/api/v1/me", headers=me).status_code == 401

    assert _signs_in(client, "g", "long-enough")
    assert client.get("/queue").status_code == 200
    r = runner.invoke(user_group, ["disable", "g"], obj=ctx)
    assert r.exit_code == 0, r.output
    assert client.get("/queue").status_code == 302  # the open session ended at once
    assert not _signs_in(build_web(ctx, TESTING=True).test_client(), "g", "long-enough")
    assert runner.invoke(user_group, ["enable", "g"], obj=ctx).exit_code == 0
    assert _signs_in(build_web(ctx, TESTING=True).test_client(), "g", "long-enough")

    runner.invoke(user_group, ["add", "root2", "--role", "admin", "--password-stdin"],
                  obj=ctx, input="long-enough\n")
    assert runner.invoke(user_group, ["disable", "root2"], obj=ctx).exit_code == 0
    last = runner.invoke(user_group, ["disable", "root"], obj=ctx)
    assert last.exit_code != 0 and "最后一个" in last.output
    assert _signs_in(build_web(ctx, TESTING=True).test_client(), "root", "long-enough")


def _signs_in(client: FlaskClient, username: str, password: str) -> bool:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert token
    r = client.post("/login", data={"username": username, "password": password,
                                    "csrf_token": token.group(1)})
    return r.status_code == 302
