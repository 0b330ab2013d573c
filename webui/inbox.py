"""The inbox desk (消息): /inbox and its JSON twins under /api/v1/inbox."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from pydantic import BaseModel, ConfigDict, Field

from store import Database, utcnow
from webui import inbox_queries as q
from webui.security import current_viewer, login_required

bp = Blueprint("inbox", __name__)
api_bp = Blueprint("inbox_api", __name__, url_prefix="/api/v1/inbox")
PAGE = 50
MAX_ID = 2**63 - 1


def _db() -> Database:
    return current_app.extensions["yuqing.db"]


def _now() -> datetime:
    clock: Callable[[], datetime] = current_app.extensions.get("yuqing.clock") or utcnow
    return clock()


class InboxQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    unread: bool = False
    limit: int = Field(PAGE, ge=1, le=200)
    offset: int = Field(0, ge=0, le=10_000_000)


class ReadInput(BaseModel):
    """Which notices to mark read: ``ids``, or ``all``."""

    model_config = ConfigDict(extra="forbid")
    ids: list[int] = Field(default_factory=list, max_length=500)
    all: bool = False

    def targets(self) -> list[int] | None:
        if self.all:
            return None
        if not self.ids or any(not 0 < i <= MAX_ID for i in self.ids):
            abort(400, description="请给出要标为已读的消息编号（ids），或 all=true")
        return self.ids


@bp.app_context_processor
def _unread() -> dict[str, Any]:
    """The header's unread count on every page of a signed-in user."""
    viewer = g.get("viewer")
    if viewer is None:
        return {}
    with _db().session() as s:
        return {"inbox_unread": q.unread_count(s, viewer)}


@bp.get("/inbox")
@login_required()
def page() -> Any:
    query = InboxQuery.model_validate(request.args.to_dict())
    with _db().session() as s:
        data = q.listing(s, current_viewer(), unread_only=query.unread, limit=query.limit,
                         offset=query.offset)
    return render_template("inbox.html", data=data, query=query)


@bp.post("/inbox/read")
@login_required()
def read() -> Any:
    ids = [int(v) for v in request.form.getlist("ids") if v.isascii() and v.isdigit()
           and len(v) < 19]
    given = ReadInput(ids=ids, all=request.form.get("all") == "1")
    with _db().session() as s:
        marked = q.mark_read(s, current_viewer(), given.targets(), _now())
    flash(f"已将 {marked} 条消息标为已读", "info")
    return redirect(url_for("inbox.page", unread=1 if request.form.get("unread") == "1" else None))


@api_bp.get("")
@login_required()
def api_list() -> Any:
    query = InboxQuery.model_validate(request.args.to_dict())
    with _db().session() as s:
        data = q.listing(s, current_viewer(), unread_only=query.unread, limit=query.limit,
                         offset=query.offset)
    return jsonify(limit=query.limit, offset=query.offset, **data)


@api_bp.get("/unread")
@login_required()
def api_unread() -> Any:
    after = request.args.get("after", "")
    if after and not (after.isascii() and after.isdigit() and len(after) < 19):
        abort(400, description="after 必须是消息编号（非负整数）")
    viewer = current_viewer()
    with _db().session() as s:
        return jsonify(unread=q.unread_count(s, viewer), latest_id=q.latest_id(s, viewer),
                       new=q.newer(s, viewer, int(after)) if after else [])


@api_bp.post("/read")
@login_required()
def api_read() -> Any:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400, description="请求体必须是 JSON 对象")
    given = ReadInput.model_validate(body)
    viewer = current_viewer()
    with _db().session() as s:
        marked = q.mark_read(s, viewer, given.targets(), _now())
    with _db().session() as s:
        return jsonify(marked=marked, unread=q.unread_count(s, viewer))


def openapi_paths() -> dict[str, Any]:
    """This desk's entries of the OpenAPI document (merged in webui.openapi)."""
    ok = {"200": {"description": "成功", "content": {"application/json": {}}},
          "400": {"description": "输入有误"}, "401": {"description": "未登录或令牌无效"}}
    return {
        "/api/v1/inbox": {"get": {
            "summary": "消息列表（控制台通知，新的在前；承办单位只看本单位的消息）",
            "parameters": [
                {"name": "unread", "in": "query", "required": False,
                 "schema": {"type": "boolean"}, "description": "只看未读"},
                {"name": "limit", "in": "query", "required": False,
                 "schema": {"type": "integer", "minimum": 1, "maximum": 200}},
                {"name": "offset", "in": "query", "required": False,
                 "schema": {"type": "integer", "minimum": 0}}],
            "responses": ok}},
        "/api/v1/inbox/unread": {"get": {
            "summary": "未读消息数，以及编号大于 after 的未读消息（页头轮询与提示音）",
            "parameters": [{"name": "after", "in": "query", "required": False,
                            "schema": {"type": "integer", "minimum": 0}}],
            "responses": ok}},
        "/api/v1/inbox/read": {"post": {
            "summary": "标为已读：给出 ids，或 all=true 全部标为已读",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "additionalProperties": False,
                "properties": {"ids": {"type": "array", "items": {"type": "integer"}},
                               "all": {"type": "boolean"}}}}}},
            "responses": ok}},
    }
