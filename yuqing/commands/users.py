"""`yuqing user …`: console accounts from the command line.

Passwords never go on the command line (any local user sees it in `ps`): they are prompted
for, or read from standard input with ``--password-stdin`` for scripts.
"""

from __future__ import annotations

import json
import sys

import click

from webui.accounts import (
    AccountError,
    create_user,
    issue_token,
    revoke_token,
    set_active,
    set_password,
)
from webui.throttle import unblock as unblock_throttles
from yuqing.context import AppContext


def _ready(app: AppContext) -> None:
    from yuqing.cli import ensure_ready  # the lead's CLI module; imported late to avoid a cycle

    ensure_ready(app)


def _read_password(from_stdin: bool, prompt: str) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        password = line[:-1] if line.endswith("\n") else line
        if not password:
            raise click.ClickException("标准输入中没有密码（--password-stdin 读取第一行）")
        return password
    value: str = click.prompt(prompt, hide_input=True, confirmation_prompt="确认密码")
    return value


def _run(action):  # type: ignore[no-untyped-def]
    try:
        return action()
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc


STDIN_HELP = "从标准输入读取密码（第一行），供脚本使用；不给出则提示输入"


@click.group("user")
def user_group() -> None:
    """控制台用户：新增、重设密码、API 令牌、停用与启用、解除登录限制。"""


@user_group.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(["admin", "monitor", "unit", "leader"]), required=True,
              help="角色：admin 管理员 / monitor 宣传部、网信办 / unit 承办单位 / leader 领导")
@click.option("--unit", "unit_code", default=None, help="承办单位用户所属单位代码，如 jn-dongshan")
@click.option("--name", "display_name", default="", help="显示名称")
@click.option("--password-stdin", "password_stdin", is_flag=True, help=STDIN_HELP)
@click.option("--token", "with_token", is_flag=True, help="同时生成 API 令牌")
@click.option("--json", "as_json", is_flag=True, help="最后一行输出 JSON 结果")
@click.pass_obj
def add(app: AppContext, username: str, role: str, unit_code: str | None, display_name: str,
        password_stdin: bool, with_token: bool, as_json: bool) -> None:
    """新增控制台用户（密码至少 8 个字符）。"""
    _ready(app)
    password = _read_password(password_stdin, "密码")
    user = _run(lambda: create_user(app.db, username, password, role, unit_code=unit_code,
                                    display_name=display_name))
    token = _run(lambda: issue_token(app.db, username)) if with_token else None
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
    value = _run(lambda: issue_token(app.db, username))
    click.echo(f"API 令牌（只显示这一次）：{value}")
    if as_json:
        click.echo(json.dumps({"username": username, "token": value}, ensure_ascii=False))


@user_group.command("revoke-token")
@click.argument("username")
@click.pass_obj
def revoke(app: AppContext, username: str) -> None:
    """吊销用户的 API 令牌（立即失效）。"""
    _ready(app)
    had = _run(lambda: revoke_token(app.db, username))
    click.echo(f"已吊销 {username} 的 API 令牌" if had else f"{username} 没有 API 令牌")


@user_group.command("password")
@click.argument("username")
@click.option("--password-stdin", "password_stdin", is_flag=True, help=STDIN_HELP)
@click.pass_obj
def password(app: AppContext, username: str, password_stdin: bool) -> None:
    """重设用户密码：该用户所有已登录的会话立即结束，登录限制解除。"""
    _ready(app)
    value = _read_password(password_stdin, "新密码")
    _run(lambda: set_password(app.db, username, value))
    click.echo(f"已重设 {username} 的密码，其已登录的会话均已结束")


@user_group.command("disable")
@click.argument("username")
@click.pass_obj
def disable(app: AppContext, username: str) -> None:
    """停用用户：立即结束其会话并吊销其 API 令牌（不能停用最后一个管理员）。"""
    _ready(app)
    _run(lambda: set_active(app.db, username, False))
    click.echo(f"已停用 {username}，其会话已结束，API 令牌已吊销")


@user_group.command("enable")
@click.argument("username")
@click.pass_obj
def enable(app: AppContext, username: str) -> None:
    """重新启用用户（需要时请另行生成 API 令牌）。"""
    _ready(app)
    _run(lambda: set_active(app.db, username, True))
    click.echo(f"已启用 {username}")


@user_group.command("unblock")
@click.argument("username")
@click.pass_obj
def unblock(app: AppContext, username: str) -> None:
    """解除该用户名在所有地址上的登录频率限制。"""
    _ready(app)
    cleared = unblock_throttles(app.db, username)
    click.echo(f"已解除 {username} 的登录限制（{cleared} 个来源地址）")


COMMANDS: list[click.Command] = [user_group]
