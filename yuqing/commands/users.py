"""`yuqing user add/token/password`: console accounts from the command line."""

from __future__ import annotations

import json

import click

from webui.accounts import AccountError, create_user, issue_token, set_password
from yuqing.context import AppContext


def _ready(app: AppContext) -> None:
    from yuqing.cli import ensure_ready  # the lead's CLI module; imported late to avoid a cycle

    ensure_ready(app)


@click.group("user")
def user_group() -> None:
    """控制台用户：新增用户、生成 API 令牌、重设密码。"""


@user_group.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(["admin", "monitor", "unit", "leader"]), required=True,
              help="角色：admin 管理员 / monitor 宣传部、网信办 / unit 承办单位 / leader 领导")
@click.option("--unit", "unit_code", default=None, help="承办单位用户所属单位代码，如 jn-dongshan")
@click.option("--name", "display_name", default="", help="显示名称")
@click.option("--password", prompt="密码", hide_input=True, confirmation_prompt="确认密码",
              help="登录密码（至少 8 个字符；不给出则提示输入）")
@click.option("--token", "with_token", is_flag=True, help="同时生成 API 令牌")
@click.option("--json", "as_json", is_flag=True, help="最后一行输出 JSON 结果")
@click.pass_obj
def add(app: AppContext, username: str, role: str, unit_code: str | None, display_name: str,
        password: str, with_token: bool, as_json: bool) -> None:
    """新增控制台用户。"""
    _ready(app)
    try:
        user = create_user(app.db, username, password, role, unit_code=unit_code,
                           display_name=display_name)
        token = issue_token(app.db, username) if with_token else None
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"已新增用户 {user.username}（{role}）")
    if token:
        click.echo(f"API 令牌（只显示这一次）：{token}")
    if as_json:
        click.echo(json.dumps({"username": user.username, "role": role, "unit": unit_code,
                               "token": token}, ensure_ascii=False))


@user_group.command("token")
@click.argument("username")
@click.option("--json", "as_json", is_flag=True, help="最后一行输出 JSON 结果")
@click.pass_obj
def token(app: AppContext, username: str, as_json: bool) -> None:
    """为用户生成新的 API 令牌（旧令牌随即失效）。"""
    _ready(app)
    try:
        value = issue_token(app.db, username)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"API 令牌（只显示这一次）：{value}")
    if as_json:
        click.echo(json.dumps({"username": username, "token": value}, ensure_ascii=False))


@user_group.command("password")
@click.argument("username")
@click.option("--password", prompt="新密码", hide_input=True, confirmation_prompt="确认密码")
@click.pass_obj
def password(app: AppContext, username: str, password: str) -> None:
    """重设用户密码（同时解除登录锁定）。"""
    _ready(app)
    try:
        set_password(app.db, username, password)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"已重设 {username} 的密码")


COMMANDS: list[click.Command] = [user_group]
