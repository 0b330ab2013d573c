"""Admin desk: units (the unit tree; create, edit, retire, restore).

The pages read and write through a ``UnitDesk`` the wiring puts in
``app.extensions["yuqing.unit_desk"]`` (yuqing/admin_units.py): it validates each edit by
loading the whole configuration with it, so a form refuses exactly what units.yaml would,
with the loader's messages. A unit still holding open cases cannot be retired: the page lists
them, each linked, to be reassigned first.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

from flask import abort, current_app, flash, redirect, render_template, request, url_for

from store import Database
from webui.admin import admin_only, api_bp, bp, queries
from webui.security import current_viewer
from webui.workflow import STATE_LABELS

KIND_LABELS = {"publicity": "宣传部门（统筹协调）", "department": "区级部门（主管）",
               "township": "街道/镇（属地）", "upper": "上级", "neighbour": "相邻地区"}
CHANNELS = {"email": "电子邮件", "phone": "电话/短信", "wecom": "企业微信",
            "dingtalk": "钉钉", "webhook": "Webhook"}
_SPLIT = re.compile(r"[,，、;；\s]+")
_FIELD = re.compile(r"^units\[\d+\]\.([a-z_]+)(?:\.([a-z_]+))?")


class Problem(Protocol):
    path: str
    reason: str


class UnitDesk(Protocol):
    def units(self) -> list[dict[str, Any]]: ...
    def unit(self, code: str) -> dict[str, Any] | None: ...
    def retired(self) -> list[str]: ...
    def topics(self) -> dict[str, str]: ...
    def places(self) -> list[dict[str, Any]]: ...
    def home_code(self) -> str: ...
    def save(self, code: str, values: dict[str, Any], *, create: bool,
             actor: tuple[int | None, str]) -> list[Any]: ...
    def retire(self, code: str, actor: tuple[int | None, str]) -> list[Any]: ...
    def restore(self, code: str, actor: tuple[int | None, str]) -> list[Any]: ...


def _desk() -> UnitDesk:
    desk = current_app.extensions.get("yuqing.unit_desk")
    if desk is None:
        abort(503, description="单位管理需要实例配置（由 yuqing serve / run 启动的控制台提供）")
    return desk  # type: ignore[no-any-return]


def _db() -> Database:
    return current_app.extensions["yuqing.db"]


def _actor() -> tuple[int | None, str]:
    viewer = current_viewer()
    return viewer.user_id, viewer.username


def values_from_form(form: Any) -> dict[str, Any]:
    """The form as a units.yaml record: what an administrator would have typed in the file."""
    def text(name: str, limit: int = 500) -> str:
        return str(form.get(name, "")).strip()[:limit]

    leader = {k: text(f"leader_{k}") for k in ("name", "phone", "email")}
    return {
        "name": text("name"), "short_name": text("short_name"),
        "aliases": [a for a in _SPLIT.split(text("aliases", 2000)) if a],
        "kind": text("kind"), "jurisdiction": text("jurisdiction"),
        "duties": [d.strip()[:100] for d in form.getlist("duties") if d.strip()],
        "leader": leader if any(leader.values()) else None,
        "contacts": {k: text(f"contact_{k}") for k in CHANNELS},
    }


def field_errors(problems: list[Problem]) -> tuple[dict[str, list[str]], list[str]]:
    """Problems on this unit's keys (to highlight the field) and the others (shown on top)."""
    fields: dict[str, list[str]] = {}
    general: list[str] = []
    for p in problems:
        m = _FIELD.match(p.path)
        if m:
            key = m.group(1)
            if key in ("leader", "contacts") and m.group(2):
                key = f"{'contact' if key == 'contacts' else 'leader'}_{m.group(2)}"
            fields.setdefault(key, []).append(p.reason)
        else:
            where = "：".join(x for x in (getattr(p, "file", ""), p.path) if x)
            general.append(f"{where}：{p.reason}" if where else p.reason)
    return fields, general


def _tree(desk: UnitDesk) -> list[dict[str, Any]]:
    """District level, then each street/township with its villages, then the others."""
    units = desk.units()
    places = desk.places()
    home = desk.home_code()
    by_place: dict[str, list[dict[str, Any]]] = {}
    for u in units:
        by_place.setdefault(u["jurisdiction"], []).append(u)
    groups = [{"title": "区级单位", "place": None, "units": by_place.pop(home, []),
               "children": []}]
    for place in places:
        if place["parent"] == home:
            villages = [{"place": v, "units": by_place.pop(v["code"], [])}
                        for v in places if v["parent"] == place["code"]]
            groups.append({"title": place["name"], "place": place,
                           "units": by_place.pop(place["code"], []),
                           "children": [v for v in villages if v["units"]]})
    rest = [u for rows in by_place.values() for u in rows]
    if rest:
        groups.append({"title": "上级与相邻地区", "place": None, "units": rest, "children": []})
    return groups


def _form(desk: UnitDesk, unit: dict[str, Any] | None, code: str, *, create: bool,
          problems: list[Any] | None = None, status: int = 200) -> Any:
    fields, general = field_errors(problems or [])
    with _db().session() as s:
        open_cases = [] if create else queries.open_cases(s, code)
        users = [] if create else queries.unit_users(s, code)
        history = [] if create else queries.changes(s, "units", code, limit=20)
        return render_template(
            "admin/unit_form.html", unit=unit or {}, code=code, create=create,
            kinds=KIND_LABELS, channels=CHANNELS, topics=desk.topics(), places=desk.places(),
            fields=fields, general=general, open_cases=open_cases, users=users,
            history=history, states=STATE_LABELS), status


@bp.get("/units")
@admin_only
def units() -> Any:
    desk = _desk()
    with _db().session() as s:
        rows = queries.unit_rows(s)
        retired = [rows[c] for c in desk.retired() if c in rows]
        history = queries.changes(s, "units", limit=20)
        return render_template("admin/units.html", tree=_tree(desk), kinds=KIND_LABELS,
                               topics=desk.topics(), retired=retired, history=history)


@bp.route("/units/new", methods=["GET", "POST"])
@admin_only
def new_unit() -> Any:
    desk = _desk()
    code = request.form.get("code", "").strip()[:200]
    if request.method == "GET":
        return _form(desk, None, "", create=True)
    values = values_from_form(request.form)
    problems = desk.save(code, values, create=True, actor=_actor())
    if problems:
        return _form(desk, {"code": code, **values}, code, create=True, problems=problems,
                     status=400)
    flash(f"已新增单位 {values['name']}（{code}）", "info")
    return redirect(url_for("admin.edit_unit", code=code))


@bp.route("/units/<code>", methods=["GET", "POST"])
@admin_only
def edit_unit(code: str) -> Any:
    desk = _desk()
    unit = desk.unit(code)
    if unit is None:
        abort(404, description="单位不存在或已撤销")
    if request.method == "GET":
        return _form(desk, unit, code, create=False)
    values = values_from_form(request.form)
    problems = desk.save(code, values, create=False, actor=_actor())
    if problems:
        return _form(desk, {"code": code, **values}, code, create=False, problems=problems,
                     status=400)
    flash(f"已保存单位 {values['name']}", "info")
    return redirect(url_for("admin.edit_unit", code=code))


@bp.post("/units/<code>/retire")
@admin_only
def retire_unit(code: str) -> Any:
    desk = _desk()
    unit = desk.unit(code)
    if unit is None:
        abort(404, description="单位不存在或已撤销")
    with _db().session() as s:
        holding = queries.open_cases(s, code)
    if holding:
        return _form(desk, unit, code, create=False, status=409, problems=[_Refusal(
            f"该单位仍有 {len(holding)} 件未办结工单，请先转办后再撤销（见下方列表）")])
    problems = desk.retire(code, actor=_actor())
    if problems:
        return _form(desk, unit, code, create=False, problems=problems, status=400)
    flash(f"已撤销单位 {unit['name']}：不再参与分派，历史工单保留", "info")
    return redirect(url_for("admin.units"))


@bp.post("/units/<code>/restore")
@admin_only
def restore_unit(code: str) -> Any:
    problems = _desk().restore(code, actor=_actor())
    if problems:
        abort(400, description="；".join(p.reason for p in problems))
    flash(f"已恢复单位 {code}", "info")
    return redirect(url_for("admin.edit_unit", code=code))


class _Refusal:
    def __init__(self, reason: str):
        self.path, self.reason = "", reason


@api_bp.get("/units")
@admin_only
def units_api() -> Any:
    desk = _desk()
    return {"units": desk.units(), "retired": desk.retired()}
