"""The JSON API (/api/v1): everything the pages do, with session+CSRF or a bearer token."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, jsonify, request

from store import Database, Role
from webui import inbox_queries, queries, triage_view
from webui.cases import app_now, my_groups
from webui.openapi import openapi_document
from webui.present import Names, case_detail, case_summary, iso
from webui.security import csrf_token, current_viewer, login_required
from webui.services import (
    MAX_ID,
    ActionInput,
    CorrectionInput,
    correct,
    run_action,
    run_bulk,
)
from webui.workflow import SEVERITY_LABELS, STATE_LABELS

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _db() -> Database:
    return current_app.extensions["yuqing.db"]


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400, description="请求体必须是 JSON 对象")
    return body


def _action_input() -> ActionInput:
    """Fields at the top level or under "data" (as in the workflow's perform)."""
    body = _body()
    data = body.get("data") or {}
    if not isinstance(data, dict):
        abort(400, description="data 必须是 JSON 对象")
    return ActionInput.model_validate({**data, **body})


@bp.get("/openapi.json")
def openapi() -> Any:
    return jsonify(openapi_document())


@bp.get("/me")
@login_required()
def me() -> Any:
    v = current_viewer()
    return jsonify(id=v.user_id, username=v.username, name=v.name, role=v.role,
                   unit_id=v.unit_id, csrf_token=csrf_token())


@bp.get("/meta")
@login_required()
def meta() -> Any:
    with _db().session() as s:
        names = Names(s)
        return jsonify(topics=names.topics, places=names.places,
                       states=STATE_LABELS, severities=SEVERITY_LABELS,
                       units=[{"code": u.code, "name": u.short_name or u.name}
                              for u in queries.units(s)])


@bp.get("/cases")
@login_required()
def list_cases() -> Any:
    f = queries.CaseFilter.from_args(request.args, current_app.config.get("YUQING_TIMEZONE", "Asia/Shanghai"))
    with _db().session() as s:
        rows, total = queries.list_cases(s, current_viewer(), f)
        names = Names(s)
        unread = inbox_queries.unread_cases(s, current_viewer(), [c.id for c in rows])
        # next_cursor: where the next page starts (keyset); null on the last page
        more = len(rows) == f.limit
        return jsonify(total=total, limit=f.limit, offset=f.offset,
                       next_cursor=queries.cursor_of(rows[-1]) if rows and more else None,
                       cases=[{**case_summary(c, names), "unread": c.id in unread}
                              for c in rows])


@bp.get("/cases/<int:case_id>")
@login_required()
def get_case(case_id: int) -> Any:
    viewer = current_viewer()
    with _db().session() as s:
        c = queries.get_case(s, viewer, case_id)
        if c is None:
            abort(404)
        return jsonify(case_detail(s, c, triage_view.case_posts(s, c), viewer, app_now()))


@bp.post("/cases/<int:case_id>/actions/<action>")
@login_required()
def act(case_id: int, action: str) -> Any:
    given = _action_input()
    done = run_action(_db(), current_viewer(), case_id, action, given, app_now())
    return jsonify(id=done.id, action=done.action, rule=done.rule, to_state=done.to_state,
                   at=iso(done.at))


@bp.post("/cases/bulk")
@login_required(Role.ADMIN, Role.MONITOR)
def bulk() -> Any:
    body = _body()
    action = body.get("action")
    ids = body.get("ids")
    if action not in ("dismiss", "dispatch"):
        abort(400, description="批量操作只支持 dispatch 和 dismiss")
    if not isinstance(ids, list) or not ids or not all(
            isinstance(i, int) and not isinstance(i, bool) and 0 < i <= MAX_ID for i in ids):
        abort(400, description="ids 必须是非空的正整数列表（不超过 2^63-1）")
    given = _action_input()
    return jsonify(run_bulk(_db(), current_viewer(), ids, action, given, app_now()))


@bp.post("/cases/<int:case_id>/corrections")
@login_required(Role.ADMIN, Role.MONITOR)
def corrections(case_id: int) -> Any:
    rows = correct(_db(), current_viewer(), case_id, CorrectionInput.model_validate(_body()),
                   current_app.config.get("YUQING_TOPICS", {}), app_now())
    return jsonify(feedback=[{"field": r.field, "old": r.old_value, "new": r.new_value}
                             for r in rows])


@bp.get("/my-cases")
@login_required(Role.UNIT)
def my_cases() -> Any:
    viewer = current_viewer()
    now = app_now()
    with _db().session() as s:
        return jsonify(now=iso(now), groups=my_groups(s, viewer, Names(s), now))
