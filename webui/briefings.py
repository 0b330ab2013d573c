"""Briefings desk: the printable 日报 / 周报 / 专报 pages, their DOCX/PDF downloads, the files
the scheduled job kept, and the JSON twins. Leaders, monitors and admins only."""

from __future__ import annotations

import io
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    render_template,
    request,
    send_file,
    url_for,
)

from store import Database, Role
from webui import briefing, clock
from webui.briefing import BriefingError, BriefingSetup
from webui.report_queries import scope_for
from webui.security import current_viewer, login_required

bp = Blueprint("briefings", __name__)
api = Blueprint("briefings_api", __name__, url_prefix="/api/v1/briefings")
READERS = (Role.ADMIN, Role.MONITOR, Role.LEADER)


def _db() -> Database:
    return current_app.extensions["yuqing.db"]


def _setup() -> BriefingSetup:
    return current_app.config.get("YUQING_BRIEFING") or BriefingSetup()


def _format() -> str:
    fmt = request.args.get("format", "html")
    if fmt not in briefing.FORMATS:
        raise BriefingError(f"不支持的格式「{fmt}」，可选：{'、'.join(briefing.FORMATS)}")
    return fmt


def _figures(kind: str, event_id: int | None = None) -> dict[str, Any]:
    setup, now = _setup(), clock.now()
    period = None
    if kind != "event":
        period = briefing.parse_day(request.args.get("date"), now.astimezone(setup.tz).date(),
                                    kind)
    with _db().session() as s:
        # a leader bound to a unit sees his jurisdiction's units, as in the reports
        scope = scope_for(s, current_viewer())
        return briefing.build_figures(s, setup, kind, now=now, period=period, event_id=event_id,
                                      unit_codes=scope)


def _show(kind: str, event_id: int | None = None) -> Any:
    fmt = _format()
    fig = _figures(kind, event_id)
    doc = briefing.layout(fig, _setup())
    if fmt != "html":
        data = briefing.render(doc, fmt)
        return send_file(io.BytesIO(data), mimetype=briefing.MEDIA_TYPES[fmt],
                         as_attachment=True, download_name=briefing.download_name(doc, fmt))
    here = (url_for("briefings.event_page", event_id=event_id) if kind == "event"
            else url_for(f"briefings.{kind}_page"))
    return render_template("briefing/page.html", doc=doc, kind=kind, fig=fig, here=here,
                           date=request.args.get("date") or (fig.get("period") or {}).get("from"))


@bp.get("/briefings")
@login_required(*READERS)
def index() -> Any:
    setup = _setup()
    return render_template("briefing/list.html", groups=briefing.list_files(setup.folder),
                           kinds=briefing.KINDS)


@bp.get("/briefings/daily")
@login_required(*READERS)
def daily_page() -> Any:
    return _show("daily")


@bp.get("/briefings/weekly")
@login_required(*READERS)
def weekly_page() -> Any:
    return _show("weekly")


@bp.get("/briefings/event/<int:event_id>")
@login_required(*READERS)
def event_page(event_id: int) -> Any:
    return _show("event", event_id)


@bp.get("/briefings/files/<name>")
@login_required(*READERS)
def stored_file(name: str) -> Response:
    path = briefing.safe_file(_setup().folder, name)
    if path is None:
        abort(404, description="简报文件不存在")
    fmt = path.suffix.lstrip(".")
    return send_file(path, mimetype=briefing.MEDIA_TYPES[fmt], as_attachment=True,
                     download_name=name)


@api.get("")
@login_required(*READERS)
def api_list() -> Any:
    groups = briefing.list_files(_setup().folder)
    for g in groups:
        for f in g["files"]:
            f["url"] = url_for("briefings.stored_file", name=f["name"])
    return jsonify(briefings=groups)


@api.get("/daily")
@login_required(*READERS)
def api_daily() -> Any:
    return jsonify(_figures("daily"))


@api.get("/weekly")
@login_required(*READERS)
def api_weekly() -> Any:
    return jsonify(_figures("weekly"))


@api.get("/event/<int:event_id>")
@login_required(*READERS)
def api_event(event_id: int) -> Any:
    return jsonify(_figures("event", event_id))


def openapi_paths() -> dict[str, Any]:
    """This desk's entries in the OpenAPI document (merged in webui.openapi)."""
    ok = {"200": {"description": "简报数据", "content": {"application/json": {}}},
          "400": {"description": "日期或参数有误"}, "401": {"description": "未登录或令牌无效"},
          "403": {"description": "承办单位无权查看简报"}}
    day = {"name": "date", "in": "query", "required": False,
           "schema": {"type": "string", "format": "date"},
           "description": "日报：统计日（默认昨日）；周报：该周任一天（默认上周）"}
    event = {"name": "event_id", "in": "path", "required": True, "schema": {"type": "integer"}}
    return {
        "/api/v1/briefings": {"get": {"summary": "定时生成的简报文件列表", "responses": ok}},
        "/api/v1/briefings/daily": {"get": {"summary": "舆情日报数据", "parameters": [day],
                                            "responses": ok}},
        "/api/v1/briefings/weekly": {"get": {"summary": "舆情周报数据", "parameters": [day],
                                             "responses": ok}},
        "/api/v1/briefings/event/{event_id}": {"get": {
            "summary": "舆情专报数据（事件时间线、传播、处置、时限）", "parameters": [event],
            "responses": {**ok, "404": {"description": "事件不存在"}}}},
    }
