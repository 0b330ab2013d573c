"""The search desk: /search, its exports, and GET /api/v1/search."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, jsonify, render_template, request

from routing.reports import PRESETS
from store import Database
from store.search import QuerySyntaxError, SearchIndex
from webui import queries
from webui.clock import today, zone
from webui.dashboard_queries import SENTIMENTS, SOURCE_KINDS
from webui.exports import export_response
from webui.search_queries import (
    EXPORT_HEADERS,
    EXPORT_LIMIT,
    SearchForm,
    SearchPage,
    export_rows,
    search,
)
from webui.security import current_viewer, login_required

bp = Blueprint("search", __name__)


def _db() -> Database:
    return current_app.extensions["yuqing.db"]


def _index() -> SearchIndex:
    index = current_app.extensions.get("yuqing.index")
    if index is None:
        abort(503, description="检索索引未配置，暂不能全文检索")
    return index


def _run(form: SearchForm) -> SearchPage:
    with _db().session() as s:
        return search(s, _index(), current_viewer(), form, today(), zone())


@bp.get("/search")
@login_required()
def page() -> Any:
    form = SearchForm.from_args(request.args)
    result, error, status = None, "", 200
    if form.q:
        try:
            result = _run(form)
        except QuerySyntaxError as exc:  # shown beside the form the user is correcting
            error, status = str(exc), 400
    with _db().session() as s:
        sources = [(src.key, src.name) for src in queries.sources(s)]
    topics = current_app.config.get("YUQING_TOPICS", {})
    return render_template("search.html", form=form, result=result, error=error,
                           sources=sources, topics=topics, presets=PRESETS,
                           kinds=SOURCE_KINDS, sentiments=SENTIMENTS,
                           args=form.args(), export_limit=EXPORT_LIMIT,
                           all_events={k: v for k, v in form.args().items() if k != "event"}
                           ), status


@bp.get("/search/export.<fmt>")
@login_required()
def export(fmt: str) -> Any:
    form = SearchForm.from_args(request.args)
    rows = export_rows(_db(), _index(), current_viewer(), form, today(), zone())
    return export_response(rows, EXPORT_HEADERS, fmt, f"检索结果_{today().isoformat()}",
                           sheet="检索结果")


@bp.get("/api/v1/search")
@login_required()
def api() -> Any:
    return jsonify(_run(SearchForm.from_args(request.args)).as_dict())


def openapi_paths() -> dict[str, Any]:
    """This desk's entries for the OpenAPI document."""
    props = SearchForm.model_json_schema(by_alias=True)["properties"]
    params = [{"name": name, "in": "query", "required": name == "q",
               "description": schema.get("description", ""),
               "schema": {"type": "integer" if name in ("page", "per_page", "severity", "event")
                          else "string"}} for name, schema in props.items()]
    nullable = {"type": ["string", "null"]}
    item = {"type": "object", "properties": {
        "post_id": {"type": "integer"}, "title": {"type": "string"},
        "snippet": {"type": "string", "description": "命中处前后的摘录（纯文本）"},
        "highlights": {"type": "array", "items": {"type": "string"},
                       "description": "摘录中命中的片段，按出现顺序"},
        "published_at": nullable, "source": {"type": "string"},
        "source_name": {"type": "string"}, "kind": {"type": "string"}, "url": {"type": "string"},
        "topic": nullable, "sentiment": nullable, "severity": {"type": ["integer", "null"]},
        "event_id": {"type": ["integer", "null"]}, "case_id": {"type": ["integer", "null"]}}}
    return {"/api/v1/search": {"get": {
        "summary": "全文检索信息（标题、正文、答复），结果与逐条子串查找完全一致",
        "description": "语法：空格分隔的词须全部出现；-词 排除；A | B（或 A OR B）任一出现；"
                       "\"短语\" 按原样出现。匹配前统一繁简、全半角和大小写。"
                       "承办单位用户只能检索本单位工单所含的信息。",
        "parameters": params,
        "responses": {
            "200": {"description": "一页检索结果；total 为命中总数（精确）",
                    "content": {"application/json": {"schema": {
                        "type": "object", "properties": {
                            "total": {"type": "integer"}, "page": {"type": "integer"},
                            "per_page": {"type": "integer"}, "pages": {"type": "integer"},
                            "items": {"type": "array", "items": item}}}}}},
            "400": {"description": "检索式有误（如引号不成对、减号后无词、为空）或参数有误"},
            "401": {"description": "未登录或令牌无效"},
            "503": {"description": "检索索引未配置"}}}}}
