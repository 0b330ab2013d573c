"""Time limits for cases: the SLA policy, deadline computation and the sweep schedule.

``Policy`` wraps the configured ``yuqing.settings.Sla`` (passed in, never imported: routing
does not depend on yuqing). ``configure(policy)`` sets the process's policy once at start;
callers may pass another explicitly. Without either, the national defaults below apply (the
same numbers as the shipped config/sla.yaml).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from routing._clock import add_hours
from store import Case, CaseState

_DEFAULT_LEVELS: dict[int, dict[str, Any]] = {
    1: {"calendar": "natural", "sign_minutes": 30, "first_response_hours": 5,
        "press_conference_hours": 24, "answer_hours": 48},
    2: {"calendar": "natural", "sign_minutes": 60, "first_response_hours": 5,
        "press_conference_hours": 24, "answer_hours": 48},
    3: {"calendar": "natural", "sign_minutes": 240, "first_response_hours": None,
        "press_conference_hours": None, "answer_hours": 48},
    4: {"calendar": "working", "sign_minutes": 480, "first_response_hours": None,
        "press_conference_hours": None, "answer_hours": 48},
}
_DEFAULTS = {"return_window_hours": 2.0, "max_extensions": 2, "max_extension_hours": 72.0,
             "remind_at_fraction_left": 0.25, "overdue_repeat_minutes": 60}


@dataclass(frozen=True)
class Policy:
    sla: Any = None  # yuqing.settings.Sla or None for the defaults
    tz: tzinfo = field(default=UTC)
    digest_minutes: int = 30  # case updates from new posts are collected this long

    @classmethod
    def from_settings(cls, settings: Any) -> Policy:
        return cls(sla=settings.sla, tz=settings.tz)

    def _get(self, name: str) -> Any:
        return getattr(self.sla, name) if self.sla is not None else _DEFAULTS[name]

    def level(self, severity: int | None) -> dict[str, Any]:
        sev = severity if severity in (1, 2, 3, 4) else 4
        if self.sla is None:
            return dict(_DEFAULT_LEVELS[sev])
        cfg = self.sla.levels.get(sev)
        return cfg.model_dump() if cfg is not None else dict(_DEFAULT_LEVELS[sev])

    @property
    def return_window(self) -> timedelta:
        return timedelta(hours=float(self._get("return_window_hours")))

    @property
    def max_extensions(self) -> int:
        return int(self._get("max_extensions"))

    @property
    def max_extension_hours(self) -> float:
        return float(self._get("max_extension_hours"))

    @property
    def remind_fraction(self) -> float:
        return float(self._get("remind_at_fraction_left"))

    @property
    def repeat(self) -> timedelta:
        return timedelta(minutes=int(self._get("overdue_repeat_minutes")))

    def add(self, start: datetime, hours: float, severity: int | None) -> datetime:
        working = self.sla.working_hours if self.sla is not None else None
        return add_hours(start, hours, self.level(severity)["calendar"], working, self.tz)


_configured: list[Policy] = []


def configure(policy: Policy) -> None:
    """Set this process's policy (called once by the wiring at start)."""
    _configured[:] = [policy]


def current(policy: Policy | None = None) -> Policy:
    return policy or (_configured[0] if _configured else Policy())


# ---- deadlines -----------------------------------------------------------------------------

DEADLINE_LABELS = {"sign": "签收", "first_response": "首次权威发布", "answer": "回应"}


def answer_deadlines(severity: int | None, start: datetime, policy: Policy
                     ) -> dict[str, datetime | None]:
    lv = policy.level(severity)

    def at(hours: float | None) -> datetime | None:
        return policy.add(start, hours, severity) if hours else None

    return {"first_response": at(lv["first_response_hours"]),
            "press": at(lv["press_conference_hours"]), "answer": at(lv["answer_hours"])}


def sign_deadline(severity: int | None, start: datetime, policy: Policy) -> datetime | None:
    minutes = policy.level(severity)["sign_minutes"]
    return policy.add(start, minutes / 60, severity) if minutes else None


def active_deadlines(case: Case) -> list[tuple[str, datetime, datetime]]:
    """(kind, start, due) of the limits that still run in the case's state.

    Once the lead unit signs, the sign limit stops counting: reminders wait for the next
    limit to come near. Nothing runs in returned, responded, closed or dismissed cases.
    """
    opened = case.created_at
    dispatched = case.dispatched_at or opened
    out: list[tuple[str, datetime, datetime]] = []
    if case.state == CaseState.DISPATCHED and case.due_sign_at:
        out.append(("sign", dispatched, case.due_sign_at))
    if case.state in (CaseState.DISPATCHED, CaseState.ACKNOWLEDGED):
        if case.due_first_response_at:
            out.append(("first_response", opened, case.due_first_response_at))
        if case.due_answer_at:
            out.append(("answer", opened, case.due_answer_at))
    return out


def next_point(kind: str, start: datetime, due: datetime, marks: dict[str, Any],
               policy: Policy) -> datetime:
    """When the sweep next has something to do for this limit."""
    mark = marks.get(kind, {})
    if mark.get("overdue"):
        return datetime.fromisoformat(mark["last_at"]) + policy.repeat
    if mark.get("reminded"):
        return due
    span = max(due - start, timedelta(0))
    return due - span * policy.remind_fraction


def reschedule(case: Case, policy: Policy, now: datetime) -> None:
    """Recompute next_reminder_at and the overdue flag from the stored deadlines."""
    points = [(next_point(k, s, d, case.sla_marks or {}, policy), d)
              for k, s, d in active_deadlines(case)]
    case.next_reminder_at = min((p for p, _ in points), default=None)
    case.overdue = any(d <= now for _, d in points)
