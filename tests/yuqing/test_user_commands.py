"""`yuqing user add/token/password` create accounts that can sign in and call the API."""

from __future__ import annotations

import json

from click.testing import CliRunner

from yuqing.commands.users import user_group
from yuqing.context import AppContext
from yuqing.web import build_web


def test_a_user_added_by_the_cli_signs_in_and_its_token_works(ctx: AppContext) -> None:
    runner = CliRunner()
    r = runner.invoke(user_group, ["add", "zhangsan", "--role", "unit", "--unit", "jn-dongshan",
                                   "--name", "张三", "--password", "s3cret-pass", "--token",
                                   "--json"], obj=ctx)
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
        (["add", "a", "--role", "unit", "--password", "long-enough"], "必须绑定一个单位"),
        (["add", "b", "--role", "unit", "--unit", "nope", "--password", "long-enough"],
         "未知的单位代码"),
        (["add", "c", "--role", "monitor", "--password", "short"], "至少 8 个字符"),
        (["token", "ghost"], "不存在"),
    ]
    for args, reason in cases:
        r = runner.invoke(user_group, args, obj=ctx)
        assert r.exit_code != 0 and reason in r.output, (args, r.output)
    runner.invoke(user_group, ["add", "d", "--role", "leader", "--password", "long-enough"],
                  obj=ctx)
    dup = runner.invoke(user_group, ["add", "d", "--role", "leader", "--password",
                                     "long-enough"], obj=ctx)
    assert dup.exit_code != 0 and "已存在" in dup.output
