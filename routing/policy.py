"""Time limits for cases: the SLA policy, deadline computation and the sweep schedule.

The deadline arithmetic is ``routing.sla`` (natural or working time, Chinese holidays); this
module applies it to cases. ``Policy`` holds a ``routing.sla.SlaConfig``; ``configure(policy)``
sets the process's policy once at start and callers may pass another explicitly. Without
either, ``DEFAULT_SLA`` applies: the same numbers as the shipped config/sla.yaml.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from routing.sla import SlaConfig, add_duration, deadlines, remind_at, step_calendar
from store import Case, CaseState

DEFAULT_SLA = SlaConfig.from_mapping({
    "levels": {
        1: {"calendar": "natural", "sign_minutes": 30, "first_response_hours": 5,
            "press_conference_hours": 24, "answer_hours": 48},
        2: {"calendar": "natural", "sign_minutes": 60, "first_response_hours": 5,
            "press_conference_hours": 24, "answer_hours": 48},
        3: {"calendar": "natural", "sign_minutes": 240, "answer_hours": 48},
        4: {"calendar": "working", "sign_minutes": 450, "answer_hours": 15},
    },
    "urgent": {"calendar": "natural", "sign_minutes": 60, "first_response_hours": 24},
    "return_window_hours": 2, "max_extensions": 2, "max_extension_hours": 72,
    "remind_at_fraction_left": 0.25, "overdue_repeat_minutes": 60,
})


@dataclass(frozen=True)
class Policy:
    sla: SlaConfig = field(default=DEFAULT_SLA)
    digest_minutes: int = 30  # case updates from new posts are collected this long

    @classmethod
    def from_settings(cls, settings: Any) -> Policy:
        """From ``yuqing.settings.Settings`` (duck-typed: routing does not import yuqing)."""
        return cls(sla=SlaConfig.from_mapping(settings.sla.model_dump(),
                                              tz=settings.app.timezone))

    @property
    def tz(self) -> tzinfo:
        return ZoneInfo(self.sla.tz)

    def _extra(self, name: str, default: float) -> float:
        return float(self.sla.extra.get(name, default))

    @property
    def return_window(self) -> timedelta:
        return timedelta(hours=self._extra("return_window_hours", 2))

    @property
    def max_extensions(self) -> int:
        return self.sla.max_extensions

    @property
    def max_extension_hours(self) -> float:
        return self.sla.max_extension_hours

    @property
    def remind_fraction(self) -> float:
        return self._extra("remind_at_fraction_left", 0.25)

    @property
    def repeat(self) -> timedelta:
        return timedelta(minutes=self._extra("overdue_repeat_minutes", 60))

    def calendar(self, severity: int | None, step: str = "answer") -> str:
        """"working" or "natural": how this level counts the step (and its extensions)."""
        return step_calendar(severity, step, self.sla) if severity else "natural"

    def working_hours_text(self) -> str:
        return "、".join(f"{a:%H:%M}–{b:%H:%M}" for a, b in self.sla.working_hours)

    def add(self, start: datetime, hours: float, severity: int | None,
            step: str = "answer") -> datetime:
        """``start`` plus ``hours`` in the step's calendar at this level (extensions)."""
        calendar = step_calendar(severity, step, self.sla) if severity else "natural"
        return add_duration(start, hours, calendar, self.sla.working_hours, self.sla.tz)


_configured: list[Policy | Callable[[], Policy]] = []


def configure(policy: Policy | Callable[[], Policy]) -> None:
    """Set this process's policy (called by the wiring at start).

    A callable is asked on every use: the wiring passes one that follows the settings in
    force, so an SLA edited at the admin desk applies without a restart.
    """
    _configured[:] = [policy]


def current(policy: Policy | None = None) -> Policy:
    if policy:
        return policy
    if not _configured:
        return Policy()
    given = _configured[0]
    return given if isinstance(given, Policy) else given()


# ---- deadlines -----------------------------------------------------------------------------

DEADLINE_LABELS = {"sign": "签收", "first_response": "首次权威发布", "answer": "回应"}


def answer_deadlines(severity: int | None, start: datetime, policy: Policy,
                     urgent: bool = False) -> dict[str, datetime | None]:
    """first_response / press / answer deadlines for a case opened (or reopened) at start."""
    due = deadlines(severity, start, policy.sla, urgent,
                    steps=("first_response", "press_conference", "answer"))
    return {"first_response": due["first_response"], "press": due["press_conference"],
            "answer": due["answer"]}


def sign_deadline(severity: int | None, start: datetime, policy: Policy,
                  urgent: bool = False) -> datetime | None:
    return deadlines(severity, start, policy.sla, urgent, steps=("sign",))["sign"]


def active_deadlines(case: Case) -> list[tuple[str, datetime, datetime]]:
    """(kind, start, due) of the limits that still run in the case's state.

    Once the lead unit signs, the sign limit stops counting: reminders wait for the next
    limit to come near. Nothing runs in returned, responded, closed or dismissed cases.
    """
    opened = case.created_at
    dispatched = case.dispatched_at or opened
    # a reopened case's answer limit runs from the reopen (its mark keeps the round's start):
    # measured from the creation, the reminder of the new round could be due at once
    started = (case.sla_marks or {}).get("answer", {}).get("start")
    answer_from = datetime.fromisoformat(started) if started else opened
    out: list[tuple[str, datetime, datetime]] = []
    if case.state == CaseState.DISPATCHED and case.due_sign_at:
        out.append(("sign", dispatched, case.due_sign_at))
    if case.state in (CaseState.DISPATCHED, CaseState.ACKNOWLEDGED):
        if case.due_first_response_at:
            out.append(("first_response", opened, case.due_first_response_at))
        if case.due_answer_at:
            out.append(("answer", answer_from, case.due_answer_at))
    return out


def next_point(case: Case, kind: str, start: datetime, due: datetime, marks: dict[str, Any],
               policy: Policy) -> datetime:
    """When the sweep next has something to do for this limit."""
    mark = marks.get(kind, {})
    if mark.get("overdue"):
        return datetime.fromisoformat(mark["last_at"]) + policy.repeat
    if mark.get("reminded"):
        return due
    if due <= start:
        return due
    # measured in the limit's own calendar: a working-time limit is not reminded at night
    calendar = step_calendar(case.severity, kind, policy.sla) if case.severity else "natural"
    return remind_at(start, due, policy.sla, calendar, policy.remind_fraction)


def raise_severity(case: Case, severity: int, now: datetime, policy: Policy) -> None:
    """Set the case's higher level (smaller number) with the stricter limits it brings, never
    looser ones than already promised; the caller claims the case and records the change."""
    case.severity = severity
    tighter = answer_deadlines(severity, case.created_at, policy, case.urgent)
    for field_name, kind in (("due_first_response_at", "first_response"),
                             ("due_press_at", "press"), ("due_answer_at", "answer")):
        new, current = tighter[kind], getattr(case, field_name)
        if new is not None and (current is None or new < current):
            setattr(case, field_name, new)
    if case.state == CaseState.DISPATCHED and case.dispatched_at:
        sign = sign_deadline(severity, case.dispatched_at, policy, case.urgent)
        if sign is not None and (case.due_sign_at is None or sign < case.due_sign_at):
            case.due_sign_at = sign
    reschedule(case, policy, now)


def reschedule(case: Case, policy: Policy, now: datetime) -> None:
    """Recompute next_reminder_at and the overdue flag from the stored deadlines."""
    points = [(next_point(case, k, s, d, case.sla_marks or {}, policy), d)
              for k, s, d in active_deadlines(case)]
    case.next_reminder_at = min((p for p, _ in points), default=None)
    case.overdue = any(d <= now for _, d in points)
