"""The reply-timeliness desk: /reports/replies, its exports, and GET /api/v1/reports/replies."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, render_template, request

from routing.reports import PRESETS
from store import Database
from webui import queries
from webui.exports import export_response
from webui.reply_queries import ReplyQuery, export_headers, export_rows, report_for
from webui.security import current_viewer, login_required

bp = Blueprint("replies", __name__)
QUERY_KEYS = ("from", "to", "preset", "source", "days")


def _db() -> Database:
    return current_app.extensions["yuqing.db"]


def _report() -> tuple[dict[str, Any], list[str] | None]:
    q = ReplyQuery.from_args(request.args)
    with _db().session() as s:
        report, units = report_for(s, current_viewer(), q)
    return report.as_dict(), units


def _kept_args() -> dict[str, str]:
    # the query parameters the export links carry over (never arbitrary ones into url_for)
    return {k: v for k, v in request.args.items() if k in QUERY_KEYS and v}


@bp.get("/reports/replies")
@login_required()
def page() -> Any:
    data, units = _report()
    with _db().session() as s:
        sources = [(src.key, src.name) for src in queries.sources(s)]
    return render_template("replies.html", r=data, scope=units, presets=PRESETS,
                           sources=sources, args=_kept_args())


@bp.get("/reports/replies/export.<fmt>")
@login_required()
def export(fmt: str) -> Any:
    data, _ = _report()
    period = data["period"]
    return export_response(export_rows(data), export_headers(data["days"]), fmt,
                           f"答复时效_{period['from']}_{period['to']}", sheet="答复时效")


@bp.get("/api/v1/reports/replies")
@login_required()
def api() -> Any:
    data, units = _report()
    return jsonify({**data, "scope": {"units": units}})


def openapi_paths() -> dict[str, Any]:
    """This desk's entries for the OpenAPI document."""
    props = ReplyQuery.model_json_schema(by_alias=True)["properties"]
    params = [{"name": name, "in": "query", "required": False,
               "description": schema.get("description", ""),
               "schema": {"type": "string"}} for name, schema in props.items()]
    share = {"type": "object", "properties": {"met": {"type": "integer"},
                                              "due": {"type": "integer"},
                                              "share": {"type": ["number", "null"]}}}
    figures = {"type": "object", "properties": {
        "key": {"type": "string"}, "label": {"type": "string"},
        "messages": {"type": "integer"}, "replied": {"type": "integer"},
        "unreplied": {"type": "integer"}, "reply_rate": {"type": ["number", "null"]},
        "replied_without_time": {"type": "integer"},
        **{k: {"type": ["number", "null"]} for k in (
            "median_hours", "p90_hours", "median_working_hours", "p90_working_hours")},
        "within": {"type": "array", "items": {"type": "object", "properties": {
            "days": {"type": "integer"}, "natural": share, "working": share}}}}}
    return {"/api/v1/reports/replies": {"get": {
        "summary": "留言板、12345 记录的答复时效（答复率、用时中位数和 90% 分位、N 天内答复率）",
        "description": "按留言时间统计所选时间段；承办单位用户只看到本单位答复或承办的留言。"
                       "百分位为线性插值（numpy 默认）。",
        "parameters": params,
        "responses": {
            "200": {"description": "答复时效报告", "content": {"application/json": {"schema": {
                "type": "object", "properties": {
                    "period": {"type": "object"}, "days": {"type": "array",
                                                           "items": {"type": "integer"}},
                    "total": figures, "by_unit": {"type": "array", "items": figures},
                    "by_topic": {"type": "array", "items": figures},
                    "by_month": {"type": "array", "items": figures},
                    "slowest": {"type": "array", "items": {"type": "object"}},
                    "scope": {"type": "object"}}}}}},
            "400": {"description": "时间段或参数有误"},
            "401": {"description": "未登录或令牌无效"}}}}}
