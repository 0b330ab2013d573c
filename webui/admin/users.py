"""Admin desk: users (list, create, disable/enable, reset password, API tokens).

Every change goes through webui.accounts, the same functions as `yuqing user …`: disabling
ends the user's sessions and revokes its token at once, a new password ends its sessions,
and the last active admin cannot be disabled. Secrets are shown once, in the answer to the
POST that made them (never flashed into the cookie, never stored).
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for

from store import Database, Role
from webui.accounts import (
    ROLE_LABELS,
    AccountError,
    create_user,
    generate_password,
    issue_token,
    revoke_token,
    set_active,
    set_password,
    set_role,
)
from webui.admin import admin_only, api_bp, bp, queries


def _db() -> Database:
    return current_app.extensions["yuqing.db"]


def _username(user_id: int) -> str:
    with _db().session() as s:
        user = queries.user(s, user_id)
        if user is None:
            abort(404, description="用户不存在")
        return user.username


def _page(error: str | None = None, form: dict[str, str] | None = None, status: int = 200) -> Any:
    with _db().session() as s:
        rows = queries.users(s)
        units = [(code, u.short_name or u.name)
                 for code, u in sorted(queries.unit_rows(s).items()) if u.active]
    return render_template("admin/users.html", users=rows, units=units, roles=ROLE_LABELS,
                           error=error, form=form or {}), status


def _shown_once(title: str, username: str, label: str, secret: str) -> Any:
    return render_template("admin/secret.html", title=title, username=username, label=label,
                           secret=secret)


@bp.get("/users")
@admin_only
def users() -> Any:
    return _page()


@bp.post("/users")
@admin_only
def create() -> Any:
    form = {k: request.form.get(k, "").strip()[:256] for k in
            ("username", "display_name", "role", "unit")}
    password = request.form.get("password", "")[:256]
    generated = not password
    password = password or generate_password()
    try:
        create_user(_db(), form["username"], password, form["role"],
                    unit_code=form["unit"] or None, display_name=form["display_name"])
    except AccountError as exc:
        return _page(str(exc), form, 400)
    if not generated:
        flash(f"已新增用户 {form['username']}", "info")
        return redirect(url_for("admin.users"))
    return _shown_once("已新增用户", form["username"], "初始密码", password)


@bp.post("/users/<int:user_id>/disable")
@admin_only
def disable(user_id: int) -> Any:
    name = _username(user_id)
    set_active(_db(), name, False)  # AccountError (the last admin) -> 400 page
    flash(f"已停用 {name}：其会话已结束，API 令牌已撤销", "info")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/enable")
@admin_only
def enable(user_id: int) -> Any:
    name = _username(user_id)
    set_active(_db(), name, True)
    flash(f"已启用 {name}", "info")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/role")
@admin_only
def change_role(user_id: int) -> Any:
    name = _username(user_id)
    role, unit = request.form.get("role", "")[:20], request.form.get("unit", "").strip()[:64]
    set_role(_db(), name, role, unit or None)  # AccountError -> 400 with its message
    flash(f"已修改 {name} 的角色与单位", "info")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/password")
@admin_only
def reset_password(user_id: int) -> Any:
    name = _username(user_id)
    password = generate_password()
    set_password(_db(), name, password)
    return _shown_once("已重设密码", name, "新密码（该用户的所有会话已结束）", password)


@bp.post("/users/<int:user_id>/token")
@admin_only
def new_token(user_id: int) -> Any:
    name = _username(user_id)
    token = issue_token(_db(), name)
    return _shown_once("已签发 API 令牌", name, "API 令牌（旧令牌已失效）", token)


@bp.post("/users/<int:user_id>/token/revoke")
@admin_only
def drop_token(user_id: int) -> Any:
    name = _username(user_id)
    had = revoke_token(_db(), name)
    flash(f"已撤销 {name} 的 API 令牌" if had else f"{name} 没有 API 令牌", "info")
    return redirect(url_for("admin.users"))


@api_bp.get("/users")
@admin_only
def users_api() -> Any:
    with _db().session() as s:
        rows = queries.users(s)
    for row in rows:
        row["role_label"] = ROLE_LABELS.get(Role(row["role"]), row["role"])
        for key in ("created_at", "last_login_at", "token_created_at", "token_last_used_at"):
            row[key] = row[key].isoformat() if row[key] else None
    return {"users": rows}
