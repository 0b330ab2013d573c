"""The reports desk: the response-time (考核) report, its drill-down, exports and JSON twins,
plus the case-list export (the queue's filters, every matching case)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, current_app, jsonify, render_template, request, url_for

from routing.reports import PRESETS
from store import Database
from webui import queries
from webui import report_queries as rq
from webui.clock import now, period_from, period_parameters, zone
from webui.exports import export_response
from webui.security import current_viewer, login_required

bp = Blueprint("reports", __name__)
api_bp = Blueprint("reports_api", __name__, url_prefix="/api/v1/reports")
PAGE_PRESETS = ("this_week", "last_week", "this_month", "last_month", "this_quarter",
                "this_year")


def _db() -> Database:
    return current_app.extensions["yuqing.db"]


def _report() -> tuple[Any, dict[str, Any]]:
    period = period_from(request.args)
    with _db().session() as s:
        return period, rq.response_report(s, current_viewer(), period,
                                          request.args.get("unit") or None)


def _drill() -> dict[str, Any]:
    period = period_from(request.args)
    with _db().session() as s:
        return rq.drill(s, current_viewer(), period, request.args)


@bp.get("/reports/response")
@login_required()
def response_page() -> Any:
    period, rep = _report()
    base = {"from": period.start.isoformat(), "to": period.end.isoformat()}
    unit = request.args.get("unit") or ""

    def drill_url(metric: str, **where: str | None) -> str:
        params = {**base, "metric": metric, **{k: v for k, v in where.items() if v is not None}}
        return url_for("reports.response_cases") + "?" + urlencode(params)

    export = {fmt: url_for("reports.response_export") + "?" + urlencode(
        {**base, "format": fmt, **({"unit": unit} if unit else {})}) for fmt in ("xlsx", "csv")}
    return render_template(
        "reports_response.html", rep=rep, period=period, presets=PAGE_PRESETS,
        preset_labels=PRESETS, columns=rq.COLUMNS, labels=rq.METRIC_LABELS,
        roles=rq.ROLE_LABELS, drill_url=drill_url, export=export, unit=unit)


@bp.get("/reports/response/cases")
@login_required()
def response_cases() -> Any:
    result = _drill()
    back = url_for("reports.response_page") + "?" + urlencode(
        {"from": result["period"]["from"], "to": result["period"]["to"]})
    return render_template("reports_cases.html", result=result, back=back)


@bp.get("/reports/response/export")
@login_required()
def response_export() -> Any:
    period, rep = _report()
    headers, rows = rq.report_export_rows(rep)
    name = f"响应考核报表_{period.start:%Y%m%d}-{period.end:%Y%m%d}"
    return export_response(rows, headers, request.args.get("format", "xlsx"), name,
                           sheet="响应考核")


@bp.get("/queue/export")
@login_required()
def queue_export() -> Any:
    """Every case the queue's filters select (a unit user: only its own cases)."""
    f = queries.CaseFilter.from_args(request.args, zone().key)
    rows = rq.case_export_rows(_db(), current_viewer(), f,
                               current_app.config.get("YUQING_TOPICS", {}), zone())
    stamp = now().astimezone(zone())
    return export_response(rows, rq.CASE_HEADERS, request.args.get("format", "xlsx"),
                           f"工单列表_{stamp:%Y%m%d%H%M}", sheet="工单列表")


@api_bp.get("/response")
@login_required()
def response_api() -> Any:
    return jsonify(_report()[1])


@api_bp.get("/response/cases")
@login_required()
def response_cases_api() -> Any:
    return jsonify(_drill())


def report_paths() -> dict[str, Any]:
    """This desk's entries in the OpenAPI document."""
    period = [
        *period_parameters(),
        {"name": "unit", "in": "query", "required": False, "schema": {"type": "string"},
         "description": "只看一个单位（单位代码）；承办单位用户只能看本单位"},
    ]
    drill = [
        {"name": "metric", "in": "query", "required": True,
         "schema": {"type": "string", "enum": list(rq.METRIC_LABELS)},
         "description": "指标；比率给出其分母中的案件，用时给出参与统计的案件"},
        {"name": "role", "in": "query", "required": False,
         "schema": {"type": "string", "enum": ["lead", "co"]}},
        {"name": "topic", "in": "query", "required": False, "schema": {"type": "string"}},
        {"name": "place", "in": "query", "required": False, "schema": {"type": "string"}},
    ]
    errors = {"400": {"description": "时间段或指标有误"},
              "401": {"description": "未登录或令牌无效"},
              "403": {"description": "无权查看其他单位的考核数据"},
              "404": {"description": "未知的单位"}}
    ok = {"content": {"application/json": {}}}
    return {
        "/api/v1/reports/response": {"get": {
            "summary": "响应考核报表：按单位（主办、协办分列）、领域、属地和合计的签收、回应、办结及时率与用时",
            "parameters": period,
            "responses": {"200": {"description": "报表（period、basis、total、units、topics、"
                                                 "places、flagged）", **ok}, **errors}}},
        "/api/v1/reports/response/cases": {"get": {
            "summary": "报表中某个数字背后的案件",
            "parameters": period + drill,
            "responses": {"200": {"description": "案件列表", **ok}, **errors}}},
    }
