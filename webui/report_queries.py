"""Reading for the reports desk: the period asked for, the viewer's scope, the report, its
drill-down lists and the rows of its exports (and of the case-list export)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, current_app
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from routing import policy as routing_policy
from routing.reports import Period
from routing.reports.access import narrow, refusal, report_scope
from routing.reports.history import Histories, UnitInfo, load_histories
from routing.reports.response import (
    DEFAULT_THRESHOLD,
    METRIC_LABELS,
    RATES,
    compute_report,
    drill_down,
    metric_sources,
)
from routing.sla import SlaConfig
from store import Case, Database, Jurisdiction, Unit
from webui import queries
from webui.accounts import Viewer
from webui.clock import now, zone
from webui.workflow import SEVERITY_LABELS, STATE_LABELS

ROLE_LABELS = {"lead": "主办", "co": "协办"}
# an on-time rate's numerator: the drill-down marks which of the rate's cases it counted
ON_TIME_NUMERATORS = {rate: num for rate, (num, _) in RATES.items() if "on_time" in rate}
# the columns of every report table, in the order pages and exports show them
COLUMNS = ("assigned", "signed", "signed_on_time", "sign_missed", "sign_on_time_rate",
           "answered", "answered_on_time", "answer_missed", "answer_on_time_rate",
           "closed", "closed_on_time", "close_missed", "close_on_time_rate",
           "sign_hours_median", "sign_hours_p90", "response_hours_median", "response_hours_p90",
           "close_hours_median", "close_hours_p90",
           "sign_work_hours_median", "sign_work_hours_p90", "response_work_hours_median",
           "response_work_hours_p90", "close_work_hours_median", "close_work_hours_p90",
           "overdue_now", "returned", "return_rate", "reassigned", "extended",
           "extension_hours", "reopened", "reopen_rate", "supervised", "press_due", "press_met")


def sla() -> SlaConfig:
    given = current_app.config.get("YUQING_SLA")
    if callable(given):  # the wiring's: the SLA in force after edits at the admin desk
        given = given()
    return given if isinstance(given, SlaConfig) else routing_policy.current().sla


def threshold() -> float:
    return float(current_app.config.get("YUQING_REPORT_THRESHOLD", DEFAULT_THRESHOLD))


def scope_for(session: Session, viewer: Viewer, wanted: str | None = None,
              report: str = "response") -> list[str] | None:
    """The units this viewer may see figures of, narrowed to ``wanted`` when asked.

    Asking for a unit outside one's scope is refused (worded for ``report``, a key of
    ``REPORT_DATA``), not answered with empty figures."""
    units = load_unit_infos(session)
    code = None
    if viewer.unit_id is not None:
        code = session.scalar(select(Unit.code).where(Unit.id == viewer.unit_id))
    scope = report_scope(str(viewer.role), code, units)
    if wanted and wanted not in units:
        abort(404, description=f"未知的单位「{wanted}」")
    narrowed = narrow(scope, wanted)
    if wanted and narrowed == []:
        abort(403, description=refusal(report))
    return narrowed


def load_unit_infos(session: Session) -> dict[str, UnitInfo]:
    return {u.code: UnitInfo(u.code, u.short_name or u.name, u.jurisdiction_code)
            for u in session.scalars(select(Unit))}


def histories(session: Session, period: Period) -> Histories:
    return load_histories(session, period, zone())


def response_report(session: Session, viewer: Viewer, period: Period,
                    unit: str | None = None) -> dict[str, Any]:
    scope = scope_for(session, viewer, unit)
    return compute_report(histories(session, period), period, sla=sla(), now=now(),
                          threshold=threshold(), unit_codes=scope,
                          topic_names=current_app.config.get("YUQING_TOPICS", {}))


def drill(session: Session, viewer: Viewer, period: Period, args: Any) -> dict[str, Any]:
    """The cases behind one number of the report, as rows for the page and the API."""
    metric = args.get("metric", "")
    try:
        metric_sources(metric)
    except ValueError as exc:
        abort(400, description=str(exc))
    unit = args.get("unit") or None
    role = args.get("role") or None
    if role not in (None, "lead", "co"):
        abort(400, description="角色只能是 lead（主办）或 co（协办）")
    scope = scope_for(session, viewer, unit)
    hist = histories(session, period)
    facts = drill_down(hist, period, metric, sla=sla(), now=now(), unit=unit, role=role,
                       topic=args.get("topic") if "topic" in args else None,
                       place=args.get("place") if "place" in args else None,
                       unit_codes=scope)
    # behind a rate: which of its cases counted as on time (the numerator's facts)
    on_time = None
    if metric in ON_TIME_NUMERATORS:
        on_time = {(f.case_id, f.unit, f.role) for f in drill_down(
            hist, period, ON_TIME_NUMERATORS[metric], sla=sla(), now=now(), unit=unit, role=role,
            topic=args.get("topic") if "topic" in args else None,
            place=args.get("place") if "place" in args else None, unit_codes=scope)}
    cases = {c.id: c for c in hist.cases}
    tz = zone()
    rows = []
    for f in facts:
        c = cases[f.case_id]
        info = hist.units.get(f.unit or "")
        rows.append({
            "case_id": f.case_id, "title": c.title, "state": c.state,
            "state_label": STATE_LABELS.get(c.state, c.state),
            "severity": c.severity, "severity_label": SEVERITY_LABELS.get(c.severity or 0, ""),
            "unit": f.unit, "unit_name": info.name if info else f.unit,
            "role": f.role, "role_label": ROLE_LABELS.get(f.role, ""),
            "fact": f.metric, "fact_label": METRIC_LABELS.get(f.metric, f.metric),
            "at": f.at.astimezone(tz).isoformat(), "hours": f.hours,
            "work_hours": f.work_hours,
            "on_time": None if on_time is None else (f.case_id, f.unit, f.role) in on_time})
    return {"period": period.as_dict(), "metric": metric,
            "metric_label": METRIC_LABELS.get(metric, metric), "unit": unit, "role": role,
            "count": len(rows), "cases": rows}


def report_export_rows(rep: dict[str, Any]) -> tuple[list[str], Iterator[list[Any]]]:
    headers = ["分组", "代码", "名称", "角色", "是否标红", *[METRIC_LABELS[c] for c in COLUMNS]]

    def rows() -> Iterator[list[Any]]:
        yield ["合计", "", "合计", "主办", "", *[_cell(rep["total"], c) for c in COLUMNS]]
        for r in rep["units"]:
            yield ["单位", r["unit"], r["name"], ROLE_LABELS.get(r["role"], r["role"]),
                   "是" if r["flagged"] else "", *[_cell(r, c) for c in COLUMNS]]
        for r in rep["topics"]:
            yield ["领域", r["topic"] or "", r["name"], "主办", "",
                   *[_cell(r, c) for c in COLUMNS]]
        for r in rep["places"]:
            yield ["属地", r["place"] or "", r["name"], "主办", "",
                   *[_cell(r, c) for c in COLUMNS]]

    return headers, rows()


def _cell(row: dict[str, Any], column: str) -> Any:
    value = row.get(column)
    if value is None:
        return ""
    if column.endswith("_rate"):
        return round(value, 4)
    if isinstance(value, float):
        return round(value, 2)
    return value


CASE_HEADERS = ["编号", "标题", "级别", "领域", "地区", "状态", "主办单位", "协办单位", "生成时间",
                "签收时限", "回应时限", "是否超时", "延期次数", "是否督办"]


def case_export_rows(db: Database, viewer: Viewer, f: queries.CaseFilter,
                     topics: dict[str, str], tz: ZoneInfo) -> Iterator[list[Any]]:
    """Every case the queue filters select (no page limit), read in batches: a generator
    with its own session, so a CSV can stream after the view has returned."""
    with db.session() as s:
        places = dict(s.execute(select(Jurisdiction.code, Jurisdiction.name)).all())
        unit_names = {u.id: u.short_name or u.name for u in s.scalars(select(Unit))}
        query = (queries.filtered(viewer, f).options(selectinload(Case.assignments))
                 .order_by(Case.id).execution_options(yield_per=500))
        for c in s.scalars(query):
            active = [a for a in c.assignments if a.active]
            yield [c.id, c.title, SEVERITY_LABELS.get(c.severity or 0, ""), topics.get(c.topic or "", c.topic or "未分类"),
                   places.get(c.place_code or "", c.place_code or "未定位"), STATE_LABELS.get(c.state, c.state),
                   "、".join(unit_names.get(a.unit_id, "") for a in active if a.role == "lead"),
                   "、".join(unit_names.get(a.unit_id, "") for a in active if a.role == "co"),
                   _local(c.created_at, tz), _local(c.due_sign_at, tz),
                   _local(c.due_answer_at, tz), "是" if c.overdue else "否", c.extensions,
                   "是" if c.supervised else "否"]


def _local(value: datetime | None, tz: ZoneInfo) -> datetime | None:
    return value.astimezone(tz) if value else None

