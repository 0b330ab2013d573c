"""Admin desk: rules and parameters (routing, taxonomy keywords, severity, SLA, channels).

The pages read and write through a ``SettingsDesk`` the wiring puts in
``app.extensions["yuqing.settings_desk"]`` (yuqing/admin_settings.py): every submitted form
is loaded with the whole configuration exactly as the YAML would be, so it refuses what the
YAML refuses, with the same key path and message, and the field is highlighted. "试运行"
decides the last 100 posts under the current and the edited rules and lists the decisions
that change; "保存" writes the console override and the audit row.
"""

from __future__ import annotations

from typing import Any, Protocol

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

from routing.dryrun import COMPARED
from store import Role
from webui.admin import ok
from webui.security import current_viewer, login_required

bp = Blueprint("admin_settings", __name__, url_prefix="/admin/settings")
api_bp = Blueprint("admin_settings_api", __name__, url_prefix="/api/v1/admin/settings")
admin_only = login_required(Role.ADMIN)

# Chinese names of the keys met in these files (the key path is shown beside them)
LABELS = {
    "coordinator": "统筹协调单位", "auto_dispatch": "自动派发（按等级）",
    "lead_order": "多部门时主办优先的领域顺序", "secondary_topic_min_prob": "次要领域最低概率",
    "min_place_confidence": "地点最低置信度", "overrides": "关键词/信息源优先规则",
    "keywords": "关键词", "sensitivity": "敏感度", "urgent": "紧急类别", "name": "名称",
    "departments": "主管单位", "urgent_categories": "紧急类别名称",
    "thresholds": "等级阈值", "working_hours": "工作时间", "levels": "各等级时限",
    "sign_minutes": "签收（分钟）", "first_response_hours": "首次发布（小时）",
    "press_conference_hours": "发布会（小时）", "answer_hours": "回应（小时）",
    "calendar": "计时方式", "sign_calendar": "签收计时方式", "return_window_hours": "可退回时限（小时）",
    "max_extensions": "最多延期次数", "max_extension_hours": "单次延期上限（小时）",
    "remind_at_fraction_left": "剩余比例提醒", "overdue_repeat_minutes": "超时重复提醒（分钟）",
    "enabled": "启用", "kind": "类型", "options": "参数", "retry": "重试",
    "points": "分值", "terms": "词语",
    "outside_min_confidence": "属地外地点最低置信度", "duty_rules": "按职责规则",
    "id": "规则编号", "topics": "领域", "also": "须同时出现的词语", "min_people": "最少涉及人数",
    "co": "协办单位", "lead": "主办单位", "fields": "领域词→主办单位",
    "mass_harm": "群体伤害（等级下限）", "level": "等级", "min_minors": "最少涉及未成年人数",
    "harm_terms": "伤害词语", "group_terms": "群体词语", "minor_terms": "未成年人词语",
    "rumour": "谣言分值", "rumour_terms": "谣言词语",
}


class SettingsDesk(Protocol):
    files: dict[str, str]

    def fields(self, name: str) -> list[Any]: ...
    def stored(self, name: str) -> str: ...
    def submit(self, name: str, form: Any, *, save: bool,
               actor: tuple[int | None, str]) -> tuple[list[Any], Any]: ...
    def history(self, name: str, limit: int = 50) -> list[Any]: ...


def _desk() -> SettingsDesk:
    desk = current_app.extensions.get("yuqing.settings_desk")
    if desk is None:
        abort(503, description="规则与参数管理需要实例配置（由 yuqing serve / run 启动的控制台提供）")
    return desk  # type: ignore[no-any-return]


def _file(desk: SettingsDesk, name: str) -> str:
    if name not in desk.files:
        abort(404, description=f"没有名为 {name} 的可编辑配置")
    return name


def label(loc: str) -> str:
    last = loc.replace("]", "").replace("[", ".").split(".")
    named = [LABELS[p] for p in last if p in LABELS]
    return named[-1] if named else ""


def _page(desk: SettingsDesk, name: str, fields: list[Any], outcome: Any = None,
          status: int = 200) -> Any:
    problems = outcome.problems if outcome else []
    placed = {r for f in fields for r in f.errors}
    general = [f"{p.path}：{p.reason}" if p.path else p.reason
               for p in problems if p.reason not in placed]
    return render_template(
        "admin/settings.html", name=name, files=desk.files, fields=fields, label=label,
        general=general, outcome=outcome, compared=COMPARED, stored=desk.stored(name),
        history=desk.history(name, limit=30)), status


@bp.get("")
@admin_only
def index() -> Any:
    desk = _desk()
    history = sorted((c for name in desk.files for c in desk.history(name, limit=20)),
                     key=lambda c: c.id, reverse=True)[:30]
    return render_template("admin/settings_index.html", files=desk.files,
                           stored={n: bool(desk.stored(n)) for n in desk.files},
                           history=history)


@bp.get("/<name>")
@admin_only
def edit(name: str) -> Any:
    desk = _desk()
    return _page(desk, _file(desk, name), desk.fields(name))


@bp.post("/<name>")
@admin_only
def submit(name: str) -> Any:
    desk = _desk()
    _file(desk, name)
    save = request.form.get("action") == "save"
    viewer = current_viewer()
    fields, outcome = desk.submit(name, request.form, save=save,
                                  actor=(viewer.user_id, viewer.username))
    if outcome.problems:
        return _page(desk, name, fields, outcome, status=400)
    if outcome.saved:
        flash(f"已保存「{desk.files[name]}」：新的决定按新配置执行，已有工单保持原样", "info")
        return redirect(url_for("admin_settings.edit", name=name))
    if outcome.unchanged:
        flash("没有修改，未保存", "info")
        return redirect(url_for("admin_settings.edit", name=name))
    return _page(desk, name, fields, outcome)  # the dry run, the edited values kept


@api_bp.get("/<name>")
@admin_only
def settings_api(name: str) -> Any:
    desk = _desk()
    _file(desk, name)
    return jsonify({"file": name, "title": desk.files[name],
                    "fields": [{"path": f.loc, "kind": f.kind, "value": f.text}
                               for f in desk.fields(name)],
                    "console": desk.stored(name)})


def openapi_paths() -> dict[str, Any]:
    return {"/api/v1/admin/settings/{name}": {"get": {
        "summary": "可在控制台编辑的配置（routing、taxonomy、severity、sla、channels）的生效值及控制台覆盖内容",
        "parameters": [{"name": "name", "in": "path", "required": True,
                        "schema": {"type": "string",
                                   "enum": ["routing", "taxonomy", "severity", "sla",
                                            "channels"]}}],
        "responses": {**ok("各字段的键路径、类型与当前值"),
                      "404": {"description": "没有该配置"}}}}}
