"""Shared helpers for the routing tests (constants, a decision, reading a case back)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from store import Case, Database

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # a Monday, 10:00 in Nanjing


@dataclass
class Decision:
    """A routing decision as routing.decide returns it (duck-typed for routing.cases)."""

    lead: str | None = "jn-dongshan"
    co: list[str] = field(default_factory=lambda: ["jn-edu"])
    coordinator: str | None = "jn-publicity"
    informed: list[str] = field(default_factory=list)
    auto_dispatch: bool = False
    urgent: bool = False
    rule: str = "SINGLE-1"
    explanation: str = "事件发生在东山街道，由属地街道主办"
    deadlines: dict[str, Any] = field(default_factory=dict)
    place: str | None = None



def get_case(db: Database, case_id: int) -> Case:
    with db.session() as s:
        case = s.get(Case, case_id)
        assert case is not None
        _ = case.assignments, case.actions
        return case
