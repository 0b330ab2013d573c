"""The monitoring-scheme desk (监测方案): /schemes pages and /api/v1/schemes, monitors and admins."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)

from store import Database, Role, utcnow
from webui import scheme_queries as sq
from webui.security import current_viewer, login_required

bp = Blueprint("schemes", __name__)
MANAGERS = (Role.MONITOR, Role.ADMIN)
MODES = {"off": "不推送（仅打标签）", "each": "每条新信息推送", "window": "T 分钟内达到 N 条时推送"}
SEVERITIES = {1: "I级", 2: "II级", 3: "III级", 4: "IV级"}


def _db() -> Database:
    return current_app.extensions["yuqing.db"]


def _now() -> Any:
    clock = current_app.extensions.get("yuqing.clock")
    return clock() if clock else utcnow()


def _choices() -> dict[str, Any]:
    known = sq.known()
    return {"modes": MODES, "severities": SEVERITIES,
            "topics": current_app.config.get("YUQING_TOPICS", {}),
            "places": current_app.config.get("YUQING_PLACES", {}),
            "channels": dict(known.channels)}


def _form_page(template_data: dict[str, Any], errors: list[str], scheme_id: int | None,
               status: int = 200) -> Any:
    return render_template("scheme_form.html", s=template_data, errors=errors,
                           scheme_id=scheme_id, **_choices()), status


def _as_form(data: dict[str, Any]) -> dict[str, Any]:
    """Stored or submitted scheme -> the values the form shows."""
    alert = data.get("alert") or {}
    subs = data.get("subscribers") or []
    return {**data, "alert_mode": alert.get("mode", "off"), "alert_count": alert.get("count", 5),
            "alert_minutes": alert.get("minutes", 60),
            "subscribers_text": "\n".join(f"{s.get('channel', '')} {s.get('to', '')}".strip()
                                          for s in subs),
            "sources_text": ", ".join(data.get("sources") or [])}


@bp.get("/schemes")
@login_required(*MANAGERS)
def page() -> Any:
    with _db().session() as s:
        rows = sq.list_schemes(s)
    return render_template("schemes.html", rows=rows, **_choices())


@bp.route("/schemes/new", methods=["GET", "POST"])
@login_required(*MANAGERS)
def create() -> Any:
    viewer = current_viewer()
    if request.method == "GET":
        return _form_page(_as_form({"tag": True, "owner": viewer.name, "case_severity": 4}),
                          [], None)
    data = sq.form_data(request.form)
    try:
        spec = sq.check(data)
    except sq.SchemeInvalid as exc:
        return _form_page(_as_form(data), str(exc).split("；"), None, 400)
    with _db().session() as s:
        row = sq.create(s, spec, viewer.name, _now())
        name = row.name
    flash(f"已创建监测方案「{name}」", "ok")
    return redirect(url_for("schemes.page"))


@bp.route("/schemes/<int:scheme_id>/edit", methods=["GET", "POST"])
@login_required(*MANAGERS)
def edit(scheme_id: int) -> Any:
    with _db().session() as s:
        row = sq.get(s, scheme_id)
        if row is None:
            abort(404, description="监测方案不存在")
        stored = {**row.spec, "name": row.name, "owner": row.owner, "enabled": row.enabled}
        if request.method == "GET":
            return _form_page(_as_form(stored), [], scheme_id)
        data = {**sq.form_data(request.form), "enabled": row.enabled}
        try:
            spec = sq.check(data)
        except sq.SchemeInvalid as exc:
            return _form_page(_as_form(data), str(exc).split("；"), scheme_id, 400)
        sq.update(row, spec, current_viewer().name, _now())
    flash(f"已保存监测方案「{spec.name}」", "ok")
    return redirect(url_for("schemes.page"))


@bp.post("/schemes/<int:scheme_id>/<any(enable, disable):switch>")
@login_required(*MANAGERS)
def toggle(scheme_id: int, switch: str) -> Any:
    with _db().session() as s:
        row = sq.get(s, scheme_id)
        if row is None:
            abort(404, description="监测方案不存在")
        sq.set_enabled(row, switch == "enable", current_viewer().name, _now())
        name = row.name
    flash(f"已{'启用' if switch == 'enable' else '停用'}监测方案「{name}」", "ok")
    return redirect(url_for("schemes.page"))


# -- JSON twins ------------------------------------------------------------------------------

@bp.get("/api/v1/schemes")
@login_required(*MANAGERS)
def api_list() -> Any:
    with _db().session() as s:
        return jsonify(items=sq.list_schemes(s))


@bp.post("/api/v1/schemes")
@login_required(*MANAGERS)
def api_create() -> Any:
    spec = sq.check(request.get_json(silent=True) or {})
    with _db().session() as s:
        row = sq.create(s, spec, current_viewer().name, _now())
        return jsonify(id=row.id, key=row.key), 201


@bp.put("/api/v1/schemes/<int:scheme_id>")
@login_required(*MANAGERS)
def api_update(scheme_id: int) -> Any:
    spec = sq.check(request.get_json(silent=True) or {})
    with _db().session() as s:
        row = sq.get(s, scheme_id)
        if row is None:
            abort(404, description="监测方案不存在")
        sq.update(row, spec, current_viewer().name, _now())
        return jsonify(id=row.id, key=row.key)


def openapi_paths() -> dict[str, Any]:
    """This desk's entries for the OpenAPI document."""
    from routing.schemes import SchemeSpec

    body = {"required": True, "content": {"application/json": {
        "schema": SchemeSpec.model_json_schema()}}}
    errors = {"400": {"description": "方案定义有误（中文说明，与 schemes.yaml 校验一致）"},
              "401": {"description": "未登录或令牌无效"},
              "403": {"description": "仅监测人员和管理员可管理监测方案"}}
    sid = {"name": "scheme_id", "in": "path", "required": True, "schema": {"type": "integer"}}
    return {
        "/api/v1/schemes": {
            "get": {"summary": "监测方案列表（控制台与 schemes.yaml 中的方案）",
                    "responses": {"200": {"description": "方案列表",
                                          "content": {"application/json": {}}}, **errors}},
            "post": {"summary": "新建监测方案", "requestBody": body,
                     "responses": {"201": {"description": "已创建",
                                           "content": {"application/json": {}}}, **errors}}},
        "/api/v1/schemes/{scheme_id}": {
            "put": {"summary": "修改监测方案", "parameters": [sid], "requestBody": body,
                    "responses": {"200": {"description": "已保存",
                                          "content": {"application/json": {}}},
                                  "404": {"description": "监测方案不存在"}, **errors}}},
    }
