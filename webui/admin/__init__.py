"""The admin desk (系统管理): one blueprint, one module per page, admins only.

A page module adds its routes to ``bp`` (and its JSON twins to ``api_bp``) and one entry to
``PAGES``; the landing page ``/admin`` lists every entry. Every route goes through
``admin_only`` and every form carries the CSRF token (checked in webui/security.py).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from store import Role
from webui.security import login_required

bp = Blueprint("admin", __name__, url_prefix="/admin")
api_bp = Blueprint("admin_api", __name__, url_prefix="/api/v1/admin")
admin_only = login_required(Role.ADMIN)

# (endpoint, title, what the page is for): the landing page lists them in this order
PAGES: list[tuple[str, str, str]] = [
    ("admin.users", "用户", "控制台账号：角色、所属单位、停用与启用、重设密码、API 令牌"),
    ("admin.units", "单位", "单位树：职责领域、辖区、负责人、各渠道联系方式；新增、修改、撤销"),
    ("admin_settings.index", "规则与参数",
     "分派规则、领域关键词、预警等级权重与阈值、处置时限、通知渠道；保存前可试运行"),
]


@bp.get("")
@admin_only
def index() -> Any:
    return render_template("admin/index.html", pages=PAGES)


def ok(what: str) -> dict[str, Any]:
    """The responses every admin JSON twin documents (shared by the desk's modules)."""
    return {"200": {"description": what, "content": {"application/json": {}}},
            "401": {"description": "未登录或令牌无效"},
            "403": {"description": "仅系统管理员"}}


def openapi_paths() -> dict[str, Any]:
    """The admin desk's JSON twins, merged into webui/openapi.py's document."""
    return {
        "/api/v1/admin/users": {"get": {
            "summary": "用户列表：角色、单位、启用状态、最近登录、API 令牌签发与最近使用时间",
            "responses": ok("用户列表")}},
        "/api/v1/admin/units": {"get": {
            "summary": "生效的单位配置（随附、实例与控制台修改合并后）及已撤销的单位代码",
            "responses": {**ok("单位列表"), "503": {"description": "控制台未接入实例配置"}}}},
    }


from webui.admin import units, users  # noqa: E402,F401  (registers their routes on bp)
