"""Admin desk: sources (health, add/edit, pause/resume, crawl now, test a source).

The pages read and write through a ``SourceDesk`` the wiring puts in
``app.extensions["yuqing.source_desk"]`` (yuqing/admin_sources.py): each edit is validated by
loading the whole configuration with it, so the form refuses exactly what sources.yaml would,
with the loader's messages. "Crawl now" starts a crawl in a child process and the page polls
``/api/v1/admin/sources/jobs/<id>``; "test" fetches the first page in a child process and
shows what would be extracted, storing nothing.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

import yaml
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for

from webui.admin import PAGES, admin_only, ok
from webui.security import current_viewer

bp = Blueprint("admin_sources", __name__, url_prefix="/admin/sources")
api_bp = Blueprint("admin_sources_api", __name__, url_prefix="/api/v1/admin/sources")
PAGES.append(("admin_sources.sources", "信息源",
              "采集健康（最近运行、成功、条数、错误样例、停滞标记）；新增、修改、暂停、恢复、立即抓取、试抓"))

KIND_LABELS = {"html": "网页列表（html）", "feed": "RSS/Atom 订阅（feed）",
               "json_api": "JSON 接口（json_api）", "board": "留言板（board）",
               "import": "文件导入（import）"}
AUTHORITY_LABELS = {"central": "中央", "provincial": "省级", "local": "本地", "verified": "认证账号",
                    "user": "普通用户"}
FIELDS = ("key", "name", "kind", "start_urls", "path", "schedule", "authority", "source_kind",
          "default_place", "options")
_FIELD = re.compile(r"^sources\[\d+\]\.([a-z_]+)")
_SPLIT = re.compile(r"[\r\n]+")


class SourceDesk(Protocol):
    def sources(self) -> list[dict[str, Any]]: ...
    def source(self, key: str) -> dict[str, Any] | None: ...
    def places(self) -> list[dict[str, Any]]: ...
    def changes(self, key: str | None = None, limit: int = 20) -> list[dict[str, Any]]: ...
    def save(self, key: str, values: dict[str, Any], *, create: bool,
             actor: tuple[int | None, str]) -> list[Any]: ...
    def set_enabled(self, key: str, enabled: bool, actor: tuple[int | None, str]
                    ) -> list[Any]: ...
    def test(self, key: str, values: dict[str, Any] | None = None) -> dict[str, Any]: ...
    def crawl_now(self, key: str, actor: tuple[int | None, str]) -> dict[str, Any]: ...
    def job(self, job_id: str) -> dict[str, Any] | None: ...


class _Problem:
    def __init__(self, path: str, reason: str):
        self.path, self.reason = path, reason


def _desk() -> SourceDesk:
    desk = current_app.extensions.get("yuqing.source_desk")
    if desk is None:
        abort(503, description="信息源管理需要实例配置（由 yuqing serve / run 启动的控制台提供）")
    return desk  # type: ignore[no-any-return]


def _actor() -> tuple[int | None, str]:
    viewer = current_viewer()
    return viewer.user_id, viewer.username


def values_from_form(form: Any) -> tuple[dict[str, Any], list[_Problem]]:
    """The form as a sources.yaml record; the options box is YAML, as in the file."""
    def text(name: str, limit: int = 500) -> str:
        return str(form.get(name, "")).strip()[:limit]

    problems: list[_Problem] = []
    options: Any = {}
    raw = str(form.get("options", ""))[:20_000]
    if raw.strip():
        try:
            options = yaml.safe_load(raw)
        except yaml.YAMLError as exc:
            problems.append(_Problem("options", f"YAML 语法错误：{exc}"))
            options = {}
    values = {
        "name": text("name"), "kind": text("kind"),
        "start_urls": [u.strip() for u in _SPLIT.split(text("start_urls", 5000)) if u.strip()],
        "path": text("path"), "schedule": text("schedule", 100),
        "authority": text("authority"), "source_kind": text("source_kind", 20),
        "default_place": text("default_place", 12), "options": options,
    }
    return values, problems


def _component_field(reason: str) -> str | None:
    # the crawler's option checks and the schedule parser word the field in the reason
    if ".options" in reason:
        return "options"
    if ".start_urls" in reason:
        return "start_urls"
    if any(w in reason for w in ("抓取计划", "抓取间隔", "cron 表达式")):
        return "schedule"
    return None


def field_errors(problems: list[Any]) -> tuple[dict[str, list[str]], list[str]]:
    """Problems on one of the form's fields (highlighted there) and the others (on top)."""
    fields: dict[str, list[str]] = {}
    general: list[str] = []
    for p in problems:
        m = _FIELD.match(p.path)
        key = m.group(1) if m else (p.path if p.path in FIELDS else None)
        if key is None and p.path == "sources":  # crawler option and schedule checks
            key = _component_field(p.reason)
        other = getattr(p, "file", "") not in ("", "sources.yaml")
        if key in FIELDS and not other:
            fields.setdefault(key, []).append(p.reason)
        else:  # a problem elsewhere (routing.yaml naming a source ...) says where
            where = "：".join(x for x in (getattr(p, "file", "") if other else "", p.path) if x)
            general.append(f"{where}：{p.reason}" if where else p.reason)
    return fields, general


def _form(desk: SourceDesk, source: dict[str, Any], key: str, *, create: bool,
          problems: list[Any] | None = None, status: int = 200) -> Any:
    fields, general = field_errors(problems or [])
    options = source.get("options")
    if isinstance(options, dict | list):
        options_text = yaml.safe_dump(options, allow_unicode=True, sort_keys=False) if options \
            else ""
    else:
        options_text = str(request.form.get("options", "")) if request.method == "POST" else ""
    health = None if create else next((r for r in desk.sources() if r["key"] == key), None)
    return render_template(
        "admin/source_form.html", source=source, key=key, create=create, kinds=KIND_LABELS,
        authorities=AUTHORITY_LABELS, places=desk.places(), fields=fields, general=general,
        options_text=options_text, health=health, job_id=request.args.get("job", "")[:64],
        history=[] if create else desk.changes(key)), status


@bp.get("")
@admin_only
def sources() -> Any:
    desk = _desk()
    return render_template("admin/sources.html", rows=desk.sources(), kinds=KIND_LABELS,
                           history=desk.changes())


@bp.route("/new", methods=["GET", "POST"])
@admin_only
def new_source() -> Any:
    desk = _desk()
    if request.method == "GET":
        return _form(desk, {"schedule": "30m", "authority": "local", "kind": "html",
                            "enabled": True}, "", create=True)
    key = request.form.get("key", "").strip()[:200]
    values, problems = values_from_form(request.form)
    if not problems:
        problems = desk.save(key, values, create=True, actor=_actor())
    if problems:
        return _form(desk, {"key": key, **values}, key, create=True, problems=problems,
                     status=400)
    flash(f"已新增信息源 {values['name']}（{key}），调度将在下一轮同步时生效", "info")
    return redirect(url_for("admin_sources.edit_source", key=key))


@bp.route("/<key>", methods=["GET", "POST"])
@admin_only
def edit_source(key: str) -> Any:
    desk = _desk()
    source = desk.source(key)
    if source is None:
        abort(404, description="信息源不存在")
    if request.method == "GET":
        return _form(desk, source, key, create=False)
    values, problems = values_from_form(request.form)
    if not problems:
        problems = desk.save(key, values, create=False, actor=_actor())
    if problems:
        return _form(desk, {**source, **values}, key, create=False, problems=problems,
                     status=400)
    flash(f"已保存信息源 {values['name']}", "info")
    return redirect(url_for("admin_sources.edit_source", key=key))


def _toggle(key: str, enabled: bool) -> Any:
    desk = _desk()
    if desk.source(key) is None:
        abort(404, description="信息源不存在")
    problems = desk.set_enabled(key, enabled, actor=_actor())
    if problems:
        abort(400, description="；".join(p.reason for p in problems))
    flash(f"已{'恢复' if enabled else '暂停'}信息源 {key}：定时抓取随之{'恢复' if enabled else '停止'}",
          "info")
    back = ("admin_sources.sources", {}) if request.form.get("next") == "list" else (
        "admin_sources.edit_source", {"key": key})
    return redirect(url_for(back[0], **back[1]))


@bp.post("/<key>/pause")
@admin_only
def pause_source(key: str) -> Any:
    return _toggle(key, False)


@bp.post("/<key>/resume")
@admin_only
def resume_source(key: str) -> Any:
    return _toggle(key, True)


@bp.post("/<key>/crawl")
@admin_only
def crawl_source(key: str) -> Any:
    desk = _desk()
    if desk.source(key) is None:
        abort(404, description="信息源不存在")
    job = desk.crawl_now(key, actor=_actor())
    return redirect(url_for("admin_sources.edit_source", key=key, job=job["id"]))


@bp.post("/test")
@admin_only
def test_source() -> Any:
    """Test the saved source (only ``key`` sent) or the form's unsaved draft."""
    desk = _desk()
    key = request.form.get("key", "").strip()[:200]
    if "kind" in request.form:
        values, problems = values_from_form(request.form)
        result = ({"ok": False, "problems": problems, "items": [], "total": 0, "errors": []}
                  if problems else desk.test(key, values))
    else:
        if desk.source(key) is None:
            abort(404, description="信息源不存在")
        result = desk.test(key)
    fields, general = field_errors(result.get("problems") or [])
    status = 400 if result.get("problems") else 200
    return render_template("admin/source_test.html", key=key, result=result,
                           general=general + [m for ms in fields.values() for m in ms],
                           saved=desk.source(key) is not None), status


def _job_json(job: dict[str, Any]) -> dict[str, Any]:
    out = dict(job)
    for name in ("started_at", "finished_at"):
        out[name] = out[name].isoformat() if out.get(name) else None
    out["label"] = {"running": "抓取中", "done": "已完成", "failed": "失败"}[job["state"]]
    return out


@api_bp.get("")
@admin_only
def sources_api() -> Any:
    rows = _desk().sources()
    for row in rows:
        for name in ("last_run_at", "last_success_at"):
            row[name] = row[name].isoformat() if row[name] else None
    return {"sources": rows}


@api_bp.get("/jobs/<job>")
@admin_only
def job_api(job: str) -> Any:
    found = _desk().job(job[:64])
    if found is None:
        return {"error": "没有这个抓取任务（已结束很久或服务已重启）"}, 404
    return _job_json(found)


def openapi_paths() -> dict[str, Any]:
    """The sources page's JSON twins, merged into webui/openapi.py's document."""
    return {
        "/api/v1/admin/sources": {"get": {
            "summary": "信息源及其采集健康：最近运行与成功时间、最近一次的条数与错误样例、停滞标记",
            "responses": ok("信息源列表")}},
        "/api/v1/admin/sources/jobs/{job}": {"get": {
            "summary": "“立即抓取”任务的进度：状态、已入库条数，完成后的各项计数或失败原因",
            "parameters": [{"name": "job", "in": "path", "required": True,
                            "schema": {"type": "string"}}],
            "responses": {**ok("任务状态"), "404": {"description": "没有这个抓取任务"}}}},
    }
