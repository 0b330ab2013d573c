"""Pages: the alert queue (monitors), the case page, and "my cases" (units)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from markupsafe import Markup
from sqlalchemy.orm import Session

from routing import policy
from routing.unit_tasks import GROUP_LABELS, Group
from store import Database, Role
from webui import channels, clock, inbox_queries, queries, triage_view
from webui.accounts import Viewer
from webui.present import (
    Names,
    case_detail,
    case_summary,
    my_card,
    queue_row_key,
    routing_lines,
)
from webui.scheme_queries import tag_names, tags_of_posts
from webui.security import current_viewer, login_required
from webui.services import ActionInput, CorrectionInput, correct, run_action, run_bulk
from webui.workflow import ACTION_LABELS, SEVERITY_LABELS, STATE_LABELS, workflow

bp = Blueprint("cases", __name__)
QUEUE_PAGE = 50  # rows per queue page; "下一页" continues by the keyset cursor
MONITORS = (Role.ADMIN, Role.MONITOR)


def _db() -> Database:
    return current_app.extensions["yuqing.db"]


@bp.get("/queue")
@login_required(Role.ADMIN, Role.MONITOR, Role.LEADER)
def queue() -> Any:
    viewer = current_viewer()
    f = queries.CaseFilter.from_args(request.args, current_app.config.get("YUQING_TIMEZONE", "Asia/Shanghai"))
    if "limit" not in request.args:  # a page of the queue, not all of it: 50 rows a page
        f = f.model_copy(update={"limit": QUEUE_PAGE})
    with _db().session() as s:
        rows, total = queries.list_cases(s, viewer, f)
        names = Names(s)
        unread = inbox_queries.unread_cases(s, viewer, [c.id for c in rows])
        can_act = viewer.is_monitor and workflow() is not None
        more = len(rows) == f.limit
        units = queries.units(s)
        return render_template(
            "queue.html", rows=queue_rows(rows, names, unread, can_act), total=total, f=f,
            filters=queue_filters(f, names.topics, names.places, units, queries.sources(s),
                                  tag_names(s)),
            next_url=_page_url(queries.cursor_of(rows[-1])) if rows and more else None,
            first_url=_page_url("") if f.cursor or f.offset else None,
            units=units, delivery=channels.banner(s), can_act=can_act)


# (what a row shows, unread, can_act) -> the row's HTML. Rendering 50 rows was a third of the
# page's time, and the first page's rows stay the same from one request to the next. The key
# holds every value the row shows (present.queue_row_key), so a case that changed renders
# afresh; the HTML is the template's own (escaped), only kept. Per app: its templates.
_ROWS_MAX = 4096


def queue_rows(rows: list[queries.CaseRow], names: Names, unread: set[int], can_act: bool
               ) -> list[Markup]:
    """The queue page's rows as HTML, from the cache where the same row was rendered before."""
    # the template object is part of the key: a template reloaded in development (auto
    # reload) is a new object, so rows rendered by the old one are not served again
    template = current_app.jinja_env.get_template("_queue_row.html")

    def row(c: queries.CaseRow, is_unread: bool) -> Markup:
        return template.module.row(case_summary(c, names), is_unread, can_act)  # type: ignore[attr-defined]

    return [_kept("yuqing.queue_rows", _ROWS_MAX,
                  (template, queue_row_key(c, names), c.id in unread, can_act),
                  lambda c=c: row(c, c.id in unread)) for c in rows]


def _kept(name: str, limit: int, key: tuple[Any, ...], render: Callable[[], Markup]) -> Markup:
    """``render()``'s HTML kept under ``key`` in the app's cache ``name`` (emptied when full)."""
    cache: dict[tuple[Any, ...], Markup] = current_app.extensions.setdefault(name, {})
    html = cache.get(key)
    if html is None:
        html = render()
        if len(cache) >= limit:
            cache.clear()
        cache[key] = html
    return html


def queue_filters(f: queries.CaseFilter, topics: dict[str, str], places: dict[str, str],
                  units: list[Any], sources: list[Any], schemes: dict[str, str]) -> Markup:
    """The filter form's HTML, kept per filter values and option lists (about 150 options,
    most of the page's own markup after its rows): another unit, place, source or scheme, or
    other filters, make another key and render afresh."""
    template = current_app.jinja_env.get_template("_queue_filters.html")
    key = (template, f.model_dump_json(), tuple(topics.items()), tuple(places.items()),
           tuple(tuple(u) for u in units), tuple(tuple(s) for s in sources),
           tuple(schemes.items()), url_for("cases.queue"))

    def form() -> Markup:
        return template.module.filters(  # type: ignore[attr-defined]
            f, SEVERITY_LABELS, topics, places, units, STATE_LABELS, sources, schemes)

    return _kept("yuqing.queue_filters", _FILTERS_MAX, key, form)


_FILTERS_MAX = 256


def _page_url(cursor: str) -> str:
    """This queue view (same filters) from ``cursor`` on; "" is its first page."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k not in ("cursor", "offset")]
    if cursor:
        args.append(("cursor", cursor))
    return url_for("cases.queue") + ("?" + urlencode(args) if args else "")


@bp.post("/queue/bulk")
@login_required(Role.ADMIN, Role.MONITOR)
def bulk() -> Any:
    action = request.form.get("action", "")
    if action not in ("dismiss", "dispatch"):
        abort(400, description="批量操作只支持派发和不予处置")
    ids = [int(v) for v in request.form.getlist("ids")
           if v.isascii() and v.isdigit() and len(v) < 19]  # 18 digits fit any 64-bit id
    if not ids:
        abort(400, description="请先勾选工单")
    result = run_bulk(_db(), current_viewer(), ids, action, ActionInput.from_form(request.form),
                      app_now())
    label = ACTION_LABELS[action]
    flash(f"{label}：成功 {len(result['done'])} 件，失败 {len(result['failed'])} 件", "info")
    for failure in result["failed"]:
        flash(f"工单 {failure['id']}：{failure['error']}", "error")
    return redirect(url_for("cases.queue"))


@bp.get("/cases/<int:case_id>")
@login_required()
def case_page(case_id: int) -> Any:
    viewer = current_viewer()
    with _db().session() as s:
        c = queries.get_case(s, viewer, case_id)
        if c is None:
            abort(404)
        posts = triage_view.case_posts(s, c)
        now = app_now()
        names = Names(s)
        detail = case_detail(s, c, posts, viewer, now, names)
        tags = tags_of_posts(s, [p.id for p in posts])
        return render_template(
            "case.html", case=detail, routing=routing_lines(detail["routing"]),
            units=queries.units(s), topics=current_app.config.get("YUQING_TOPICS", {}),
            severities=SEVERITY_LABELS, places=names.places,
            can_correct=viewer.is_monitor, now=now.isoformat(timespec="seconds"), tags=tags)


@bp.post("/cases/<int:case_id>/actions/<action>")
@login_required()
def act(case_id: int, action: str) -> Any:
    run_action(_db(), current_viewer(), case_id, action, ActionInput.from_form(request.form),
               app_now())
    flash(f"已{ACTION_LABELS.get(action, action)}", "info")
    if request.form.get("back") == "my":  # signed from the "my cases" list: stay there
        return redirect(url_for("cases.my_cases"))
    return redirect(url_for("cases.case_page", case_id=case_id))


@bp.post("/cases/<int:case_id>/corrections")
@login_required(Role.ADMIN, Role.MONITOR)
def corrections(case_id: int) -> Any:
    rows = correct(_db(), current_viewer(), case_id, CorrectionInput.from_form(request.form),
                   current_app.config.get("YUQING_TOPICS", {}), app_now())
    flash(f"已更正 {len(rows)} 项，并记为训练反馈", "info")
    return redirect(url_for("cases.case_page", case_id=case_id))


@bp.get("/my")
@login_required(Role.UNIT)
def my_cases() -> Any:
    viewer = current_viewer()
    now = app_now()
    with _db().session() as s:
        names = Names(s)
        groups = my_groups(s, viewer, names, now)
        unit = names.units.get(viewer.unit_id or -1)
        return render_template("my.html", groups=groups, now=now.isoformat(timespec="seconds"),
                               unit_name=unit.name if unit else "")


def app_now() -> datetime:
    """The app's clock (the wiring passes AppContext.clock; tests pin it)."""
    return clock.now()


def my_groups(s: Session, viewer: Viewer, names: Names, now: datetime) -> list[dict[str, Any]]:
    """The unit's cases by what it must do next, most urgent group first (page and API)."""
    grouped = queries.my_cases(s, viewer, now, policy.current().remind_fraction)
    return [{"key": str(group), "label": GROUP_LABELS[group],
             "cases": [my_card(c, a, task, names) for c, a, task in items]}
            for group, items in grouped.items()
            if items or group != Group.INFORMED]  # 通报 only when there is one
