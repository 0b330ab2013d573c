"""The response-time (考核) report: pure functions over case histories.

Every figure is a count or a statistic over *facts*: one fact per measured event (a unit was
assigned, signed, answered, returned ...; a case was closed, reopened ...), carrying the case,
the unit and its role, the topic, the place, the moment it happened and the time it took.
A fact counts in the period that contains its moment (signed → sign time, answered → response
time, closed → close time, assigned → dispatch time); "overdue now" is a snapshot at ``now``.
Drill-down lists the cases behind the same facts, so a number and its list never disagree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from routing.reports.history import CaseHistory, Histories, Step, load_histories
from routing.reports.periods import Period, percentile, rate
from routing.sla import SlaConfig, add_duration, deadlines, elapsed_hours, step_calendar

DEFAULT_THRESHOLD = 0.85
COUNTS = ("assigned", "signed", "signed_on_time", "sign_missed", "answered", "answered_on_time",
          "answer_missed", "closed", "closed_on_time", "close_missed", "overdue_now", "returned",
          "reassigned", "extended", "reopened", "supervised", "press_due", "press_met")
# rate -> (numerator, denominator metrics)
RATES: dict[str, tuple[str, tuple[str, ...]]] = {
    "sign_on_time_rate": ("signed_on_time", ("signed", "sign_missed")),
    "answer_on_time_rate": ("answered_on_time", ("answered", "answer_missed")),
    "close_on_time_rate": ("closed_on_time", ("closed", "close_missed")),
    "return_rate": ("returned", ("assigned",)),
    "reopen_rate": ("reopened", ("answered",)),
    "press_rate": ("press_met", ("press_due",)),
}
# duration statistic prefix -> the fact it is measured on
DURATIONS = {"sign": "signed", "response": "answered", "close": "closed"}
ON_TIME_RATES = ("sign_on_time_rate", "answer_on_time_rate", "close_on_time_rate")
PRESS_WORDS = ("发布会", "新闻发布")


@dataclass(frozen=True, slots=True)
class Fact:
    metric: str
    case_id: int
    at: datetime
    unit: str | None = None
    role: str = ""  # "lead" / "co"
    topic: str | None = None
    place: str | None = None
    hours: float | None = None  # natural hours (for durations), or extension hours
    work_hours: float | None = None  # only where the step's SLA counts working time


@dataclass
class _Episode:
    """One unit's assignment on a case, from a dispatch or reassign to its end."""

    unit: str
    role: str
    start: datetime
    due_sign: datetime | None
    end: datetime | None = None
    ended_by: str = ""  # reassign / return / renew / case
    signed_at: datetime | None = None
    responses: list[tuple[datetime, dict[str, Any]]] | None = None


@dataclass
class _Cycle:
    """One answer cycle: from opening (or a reopen) to the next reopen."""

    start: datetime
    due: datetime | None
    end: datetime | None = None
    closed_at: datetime | None = None


def _severity_at(case: CaseHistory, moment: datetime) -> int | None:
    raised = [s for s in case.steps if s.action == "severity"]
    level = raised[0].data.get("from") if raised else case.severity
    for s in raised:
        if s.at <= moment:
            level = s.data.get("to", level)
    return level if isinstance(level, int) else case.severity


def _calendar(case: CaseHistory, step: str, sla: SlaConfig, moment: datetime) -> str:
    level = _severity_at(case, moment)
    return step_calendar(level, step, sla) if level else "natural"


def _episodes(case: CaseHistory, sla: SlaConfig) -> list[_Episode]:
    eps: list[_Episode] = []
    dispatches = [s for s in case.steps if s.action in ("dispatch", "reassign")]
    last = dispatches[-1] if dispatches else None

    def open_of(unit: str | None) -> _Episode | None:
        return next((e for e in reversed(eps) if e.unit == unit and e.end is None), None)

    for s in case.steps:
        if s.action in ("dispatch", "reassign"):
            named = [str(s.data.get("lead", ""))] + [str(c) for c in s.data.get("co", [])]
            for e in eps:
                if e.end is None:
                    e.end = s.at
                    e.ended_by = "renew" if e.unit in named else s.action
            if s is last and case.due_sign_at is not None:
                due = case.due_sign_at
            else:
                due = deadlines(_severity_at(case, s.at), s.at, sla, case.urgent,
                                steps=("sign",))["sign"]
            for i, unit in enumerate(named):
                if unit:
                    eps.append(_Episode(unit, "lead" if i == 0 else "co", s.at, due,
                                        responses=[]))
        elif s.action == "sign" and (e := open_of(s.unit)) is not None:
            e.signed_at = e.signed_at or s.at
        elif s.action == "respond" and (e := open_of(s.unit)) is not None:
            assert e.responses is not None
            e.responses.append((s.at, s.data))
        elif s.action == "return" and (e := open_of(s.unit)) is not None:
            e.end, e.ended_by = s.at, "return"
            if s.to_state == "returned":  # the lead gave it back: nobody works on it now
                for other in eps:
                    if other.end is None:
                        other.end, other.ended_by = s.at, "case"
        elif s.action in ("dismiss", "withdraw", "merge"):  # the units' work on it ends
            for other in eps:
                if other.end is None:
                    other.end, other.ended_by = s.at, "case"
    return eps


def _cycles(case: CaseHistory, sla: SlaConfig) -> list[_Cycle]:
    """Answer cycles with the answer deadline in force in each (extensions included)."""
    starts = [case.created_at] + [s.at for s in case.steps
                                  if s.action == "reopen" and s.to_state == "acknowledged"]
    cycles = []
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else None
        if end is None and case.due_answer_at is not None:
            due: datetime | None = case.due_answer_at  # stored: the truth for the live cycle
        else:
            due = deadlines(_severity_at(case, start), start, sla, case.urgent,
                            steps=("answer",))["answer"]
            requested = 0.0
            for s in case.steps:
                if not (start <= s.at and (end is None or s.at < end)):
                    continue
                if s.action == "request_extension":
                    requested = float(s.data.get("hours", 0) or 0)
                elif s.action == "approve_extension" and due is not None and requested:
                    due = add_duration(due, requested, _calendar(case, "answer", sla, s.at),
                                       sla.working_hours, sla.tz)
        closes = [s.at for s in case.steps if s.action == "close"
                  and start <= s.at and (end is None or s.at < end)]
        cycles.append(_Cycle(start, due, end, closes[-1] if closes else None))
    return cycles


def _lead_at(eps: list[_Episode], moment: datetime) -> _Episode | None:
    """The lead unit responsible at ``moment``: the last lead assigned at or before it."""
    leads = [e for e in eps if e.role == "lead" and e.start <= moment]
    return leads[-1] if leads else None


def case_facts(case: CaseHistory, sla: SlaConfig, now: datetime) -> list[Fact]:
    """Every measured event of one case (all periods; the caller filters by period)."""
    eps = _episodes(case, sla)
    cycles = _cycles(case, sla)
    out: list[Fact] = []

    def fact(metric: str, at: datetime, ep: _Episode | None, hours: float | None = None,
             work: float | None = None) -> None:
        out.append(Fact(metric, case.id, at, ep.unit if ep else None, ep.role if ep else "",
                        case.topic, case.place, hours, work))

    def spent(step: str, start: datetime, end: datetime) -> tuple[float, float | None]:
        natural = elapsed_hours(start, end, "natural", sla.working_hours, sla.tz)
        if _calendar(case, step, sla, start) != "working":
            return natural, None
        return natural, elapsed_hours(start, end, "working", sla.working_hours, sla.tz)

    for ep in eps:
        fact("assigned", ep.start, ep)
        if ep.signed_at is not None:
            fact("signed", ep.signed_at, ep, *spent("sign", ep.start, ep.signed_at))
            if ep.due_sign is None or ep.signed_at <= ep.due_sign:
                fact("signed_on_time", ep.signed_at, ep)
        elif ep.due_sign is not None and ep.due_sign <= min(ep.end or now, now):
            fact("sign_missed", ep.due_sign, ep)
        if ep.ended_by in ("return", "reassign"):
            fact("returned" if ep.ended_by == "return" else "reassigned", ep.end or now, ep)
        for cyc in cycles:  # the unit's answer duty in each cycle it took part in
            lo = max(ep.start, cyc.start)
            ends = [t for t in (ep.end, cyc.end, cyc.closed_at) if t is not None]
            hi = min(ends) if ends else None
            if hi is not None and hi <= lo:
                continue
            assert ep.responses is not None
            answers = [(t, d) for t, d in ep.responses if lo <= t and (hi is None or t <= hi)]
            if answers:
                at = answers[0][0]
                fact("answered", at, ep, *spent("answer", lo, at))
                if cyc.due is None or at <= cyc.due:
                    fact("answered_on_time", at, ep)
            elif ep.role == "lead" and cyc.due is not None and cyc.due <= min(hi or now, now):
                fact("answer_missed", cyc.due, ep)
    for cyc in cycles:
        if cyc.closed_at is not None:
            lead = _lead_at(eps, cyc.closed_at)
            fact("closed", cyc.closed_at, lead, *spent("answer", cyc.start, cyc.closed_at))
            if cyc.due is None or cyc.closed_at <= cyc.due:
                fact("closed_on_time", cyc.closed_at, lead)
        elif (cyc.due is not None and cyc.due <= min(cyc.end or now, now)
              and case.state not in ("dismissed", "merged") and (lead := _lead_at(eps, cyc.due)) is not None
              and (lead.end is None or lead.end > cyc.due)):
            fact("close_missed", cyc.due, lead)  # only a lead still holding the case is late
        if cyc.end is not None:
            fact("reopened", cyc.end, _lead_at(eps, cyc.end))
    _step_facts(case, eps, now, fact)
    _overdue_now(case, eps, cycles, now, fact)
    return [f for f in out if f.unit is not None]


def _step_facts(case: CaseHistory, eps: list[_Episode], now: datetime, fact: Any) -> None:
    requester: dict[str, str | None] = {"unit": None}
    for s in case.steps:
        if s.action == "request_extension":
            requester["unit"] = s.unit
        elif s.action == "approve_extension":
            mine = [e for e in eps if e.unit == requester["unit"] and e.start <= s.at]
            hours = _requested_hours(case.steps, s)
            fact("extended", s.at, mine[-1] if mine else _lead_at(eps, s.at), hours)
        elif s.action == "supervise":
            fact("supervised", s.at, _lead_at(eps, s.at))
    due = case.due_press_at
    if due is not None:
        lead = _lead_at(eps, due)
        met = any(t <= due and any(w in str(d.get("channel", "")) for w in PRESS_WORDS)
                  for e in eps if e.role == "lead" and e.responses
                  for t, d in e.responses)
        if met or due <= now:
            fact("press_due", due, lead)
        if met:
            fact("press_met", due, lead)


def _requested_hours(steps: Sequence[Step], approval: Step) -> float:
    asked = [s for s in steps if s.action == "request_extension" and s.at <= approval.at]
    return float(asked[-1].data.get("hours", 0) or 0) if asked else 0.0


def _overdue_now(case: CaseHistory, eps: list[_Episode], cycles: list[_Cycle], now: datetime,
                 fact: Any) -> None:
    """Units late right now: unsigned past the sign limit, or (lead) unanswered past the
    answer limit while the case is still being handled."""
    if case.state not in ("dispatched", "acknowledged"):
        return
    live = cycles[-1] if cycles else None
    for ep in eps:
        if ep.end is not None:
            continue
        late_sign = ep.signed_at is None and ep.due_sign is not None and ep.due_sign <= now
        late_answer = (ep.role == "lead" and live is not None and live.due is not None
                       and live.due <= now)
        if late_sign or late_answer:
            fact("overdue_now", now, ep)


def all_facts(histories: Iterable[CaseHistory], sla: SlaConfig, now: datetime) -> list[Fact]:
    return [f for case in histories for f in case_facts(case, sla, now)]


def in_period(facts: Iterable[Fact], period: Period, tz: Any) -> list[Fact]:
    lo, hi = period.bounds(tz)
    return [f for f in facts if f.metric == "overdue_now" or lo <= f.at < hi]


def summarize(facts: Sequence[Fact]) -> dict[str, Any]:
    """The figures of one row from its facts."""
    by: dict[str, list[Fact]] = defaultdict(list)
    for f in facts:
        by[f.metric].append(f)
    row: dict[str, Any] = {m: len(by[m]) for m in COUNTS}
    row["extension_hours"] = sum(f.hours or 0 for f in by["extended"])
    for name, (part, whole) in RATES.items():
        row[name] = rate(row[part], sum(row[w] for w in whole))
    for prefix, metric in DURATIONS.items():
        natural = [f.hours for f in by[metric] if f.hours is not None]
        work = [f.work_hours for f in by[metric] if f.work_hours is not None]
        row[f"{prefix}_hours_median"] = percentile(natural, 50)
        row[f"{prefix}_hours_p90"] = percentile(natural, 90)
        row[f"{prefix}_work_hours_median"] = percentile(work, 50)
        row[f"{prefix}_work_hours_p90"] = percentile(work, 90)
    return row


def is_flagged(row: dict[str, Any], threshold: float) -> bool:
    return any(row[r] is not None and row[r] < threshold for r in ON_TIME_RATES)


def compute_report(histories: Histories, period: Period, *, sla: SlaConfig, now: datetime,
                   threshold: float = DEFAULT_THRESHOLD, unit_codes: list[str] | None = None,
                   topic_names: dict[str, str] | None = None) -> dict[str, Any]:
    """The JSON-ready report over loaded histories (see build_response_report)."""
    tz = ZoneInfo(sla.tz)
    facts = scope(in_period(all_facts(histories.cases, sla, now), period, tz), unit_codes)
    lead = [f for f in facts if f.role == "lead"]
    groups: dict[tuple[str, str], list[Fact]] = defaultdict(list)
    for f in facts:
        groups[(str(f.unit), f.role)].append(f)
    units = []
    for (code, role), rows in groups.items():
        info = histories.units.get(code)
        row = {"unit": code, "name": info.name if info else code, "role": role,
               **summarize(rows)}
        row["flagged"] = is_flagged(row, threshold)
        units.append(row)
    units.sort(key=lambda r: (not r["flagged"], r["role"] != "lead",
                              min((r[k] for k in ON_TIME_RATES if r[k] is not None),
                                  default=1.0), r["unit"]))
    topics, places = _grouped(lead, "topic"), _grouped(lead, "place")
    names = topic_names or {}
    for row in topics:
        row["name"] = names.get(row["topic"] or "", row["topic"] or "未分类")
    for row in places:
        row["name"] = histories.places.get(row["place"] or "", row["place"] or "未定位")
    return {
        "period": period.as_dict(),
        "basis": basis(sla, threshold, now, unit_codes),
        "total": summarize(lead),
        "units": units,
        "topics": topics,
        "places": places,
        "flagged": sorted({r["unit"] for r in units if r["flagged"]}),
    }


def _grouped(facts: Sequence[Fact], key: str) -> list[dict[str, Any]]:
    groups: dict[str | None, list[Fact]] = defaultdict(list)
    for f in facts:
        groups[getattr(f, key)].append(f)
    rows = [{key: k, **summarize(v)} for k, v in groups.items()]
    return sorted(rows, key=lambda r: (-r["assigned"], str(r[key])))


def scope(facts: Iterable[Fact], unit_codes: list[str] | None) -> list[Fact]:
    if unit_codes is None:
        return list(facts)
    allowed = set(unit_codes)
    return [f for f in facts if f.unit in allowed]


def working_levels(sla: SlaConfig) -> dict[str, list[int]]:
    """Which levels count which step in working time (the rest count natural time)."""
    return {step: sorted(level for level in sla.levels
                         if step_calendar(level, step, sla) == "working")
            for step in ("sign", "answer")}


def basis(sla: SlaConfig, threshold: float, now: datetime,
          unit_codes: list[str] | None) -> dict[str, Any]:
    levels = working_levels(sla)
    roman = {1: "I", 2: "II", 3: "III", 4: "IV"}

    def names(steps: list[int]) -> str:
        return "、".join(f"{roman.get(x, x)} 级" for x in steps) or "无"

    return {
        "as_of": now.isoformat(),
        "threshold": threshold,
        "scope": unit_codes,
        "counting": "每个数字计入其所度量事件发生的时间段：派发数按派发（转办）时间，签收按签收时间，"
                    "回应按回应时间，办结按办结时间，退回、转办、延期、重办、督办按各自操作时间，"
                    "超时未签收/未回应/未办结按时限到期时间；「当前超时」为统计时刻的快照。",
        "rates": "按时签收率 = 按时签收 ÷（签收 + 超时未签收）；按时回应率 = 按时回应 ÷（回应 + "
                 "超时未回应）；按时办结率 = 按时办结 ÷（办结 + 超时未办结）；退回率 = 退回 ÷ 派发；"
                 "发回重办率 = 重办 ÷ 回应；分母为 0 时显示「—」。",
        "percentile": "中位数与 90 分位数按最近秩线性插值（与 numpy 默认方法相同）：排序后位置 (n−1)×q。",
        "natural_time": "所有时长均给出自然小时。",
        "working_time": f"工作小时（仅统计按工作时间计时的级别：签收 {names(levels['sign'])}，"
                        f"回应办结 {names(levels['answer'])}；节假日按 chinesecalendar）。",
        "working_levels": levels,
        "rows": "单位按主办、协办分别统计；合计、领域、属地按主办单位的数据统计。"
                f"任一按时率低于 {threshold:.0%} 的单位标红并排在最前。",
        "deadlines": "签收时限自每次派发（转办）起算；回应办结时限自案件生成（重办时自重办）起算，"
                     "含批准的延期；新闻发布会以回应渠道含「发布会」且不晚于发布时限为按时。",
    }


def build_response_report(session: Any, period: Period, *, sla: SlaConfig, now: datetime,
                          threshold: float = DEFAULT_THRESHOLD,
                          unit_codes: list[str] | None = None,
                          topic_names: dict[str, str] | None = None) -> dict[str, Any]:
    """Load the history the period needs and compute the report (JSON-ready)."""
    histories = load_histories(session, period, ZoneInfo(sla.tz))
    return compute_report(histories, period, sla=sla, now=now, threshold=threshold,
                          unit_codes=unit_codes, topic_names=topic_names)


def drill_down(histories: Histories, period: Period, metric: str, *, sla: SlaConfig,
               now: datetime, unit: str | None = None, role: str | None = None,
               topic: str | None = None, place: str | None = None,
               unit_codes: list[str] | None = None) -> list[Fact]:
    """The facts behind one number (a count, a rate's denominator, a duration's population).

    Without ``unit``/``role`` the lead facts are used, as for the total row."""
    metrics = metric_sources(metric)
    tz = ZoneInfo(sla.tz)
    facts = scope(in_period(all_facts(histories.cases, sla, now), period, tz), unit_codes)
    out = []
    for f in facts:
        if f.metric not in metrics:
            continue
        if unit is not None and f.unit != unit:
            continue
        if role is not None and f.role != role:
            continue
        if unit is None and role is None and f.role != "lead":
            continue
        if topic is not None and (f.topic or "") != topic:
            continue
        if place is not None and (f.place or "") != place:
            continue
        out.append(f)
    return sorted(out, key=lambda f: (f.at, f.case_id))


def metric_sources(metric: str) -> tuple[str, ...]:
    """The fact metrics a displayed figure is computed from."""
    if metric in COUNTS:
        return (metric,)
    if metric in RATES:
        return RATES[metric][1]
    if metric == "extension_hours":
        return ("extended",)
    for prefix, source in DURATIONS.items():
        if metric.startswith(f"{prefix}_hours") or metric.startswith(f"{prefix}_work_hours"):
            return (source,)
    raise ValueError(f"未知的指标「{metric}」")


METRIC_LABELS: dict[str, str] = {
    "assigned": "派发", "signed": "签收", "signed_on_time": "按时签收", "sign_missed": "超时未签收",
    "sign_on_time_rate": "按时签收率", "answered": "回应", "answered_on_time": "按时回应",
    "answer_missed": "超时未回应", "answer_on_time_rate": "按时回应率", "closed": "办结",
    "closed_on_time": "按时办结", "close_missed": "超时未办结", "close_on_time_rate": "按时办结率",
    "sign_hours_median": "签收用时中位数（小时）", "sign_hours_p90": "签收用时 90 分位（小时）",
    "response_hours_median": "回应用时中位数（小时）", "response_hours_p90": "回应用时 90 分位（小时）",
    "close_hours_median": "办结用时中位数（小时）", "close_hours_p90": "办结用时 90 分位（小时）",
    "sign_work_hours_median": "签收用时中位数（工作小时）",
    "sign_work_hours_p90": "签收用时 90 分位（工作小时）",
    "response_work_hours_median": "回应用时中位数（工作小时）",
    "response_work_hours_p90": "回应用时 90 分位（工作小时）",
    "close_work_hours_median": "办结用时中位数（工作小时）",
    "close_work_hours_p90": "办结用时 90 分位（工作小时）",
    "overdue_now": "当前超时", "returned": "退回", "return_rate": "退回率", "reassigned": "转办",
    "extended": "延期", "extension_hours": "延期时长（小时）", "reopened": "重办",
    "reopen_rate": "发回重办率", "supervised": "督办", "press_due": "应开发布会",
    "press_met": "按时发布会", "press_rate": "发布会按时率",
}
