"""The dashboard (态势总览): the leaders' home and the monitors' overview.

A unit user has its own desk ("my cases"): /dashboard sends it there and the API refuses it,
because the dashboard shows the whole jurisdiction. The period comes from the same parameters
as the reports (``from``, ``to``, ``preset``; default 上周, the last full week).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)

from routing.reports import PRESETS
from store import Database, Role
from webui import dashboard_queries as q
from webui.clock import now, period_from, period_parameters, zone
from webui.security import current_viewer, login_required

bp = Blueprint("dashboard", __name__)
api_bp = Blueprint("dashboard_api", __name__, url_prefix="/api/v1")
VIEWERS = (Role.ADMIN, Role.MONITOR, Role.LEADER)


def _db() -> Database:
    return current_app.extensions["yuqing.db"]


def _home() -> str:
    return str(current_app.config.get("YUQING_HOME_PLACE", "320115"))


def _map_path() -> Path | None:
    folder = current_app.config.get("YUQING_MAP_DIR")
    return q.map_file(_home(), Path(folder) if folder else None)


def _figures() -> dict[str, Any]:
    period = period_from(request.args)
    with _db().session() as s:
        return q.dashboard(s, period, zone(), now(), _home(),
                           current_app.config.get("YUQING_TOPICS", {}), _map_path())


@bp.get("/dashboard")
@login_required()
def page() -> Any:
    if current_viewer().role == Role.UNIT:
        return redirect(url_for("cases.my_cases"))
    data = _figures()
    return render_template("dashboard.html", data=data, presets=PRESETS,
                           map_url=url_for("dashboard.map_data") if _map_path() else "")


@bp.get("/dashboard/map.json")
@login_required(*VIEWERS)
def map_data() -> Any:
    path = _map_path()
    if path is None:
        abort(404, description="本辖区没有街道地图文件")
    return send_file(path, mimetype="application/geo+json", max_age=0)


@api_bp.get("/dashboard")
@login_required(*VIEWERS)
def api() -> Any:
    return jsonify(_figures())


def openapi_paths() -> dict[str, Any]:
    """This desk's entries of the OpenAPI document (merged in webui.openapi)."""
    period = period_parameters()
    return {"/api/v1/dashboard": {"get": {
        "summary": "态势总览：信息量（按来源类型、情感）、领域与地区分布、街道地图、热点事件、"
                   "高频词、在办与超时工单、信息源状态（领导、监测、管理员可用）",
        "parameters": period,
        "responses": {"200": {"description": "总览数据", "content": {"application/json": {}}},
                      "400": {"description": "时间段有误"},
                      "401": {"description": "未登录或令牌无效"},
                      "403": {"description": "承办单位用户无权查看全辖区总览"}}}}}
