"""Deadline arithmetic used by the workflow until routing.sla lands.

TEMPORARY (replace at merge): this is a natural-hours-only stand-in for
``routing.sla.add_duration(start, hours, calendar, working_hours, tz)``. It ignores the
working-day calendar (level IV counts clock hours here). Everything in routing/ that needs
deadline maths goes through ``add_hours`` so the swap is one function body.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any


def add_hours(start: datetime, hours: float, calendar: str, working_hours: Any,
              tz: Any) -> datetime:
    """``start`` plus ``hours`` on the given calendar (natural hours only for now)."""
    del calendar, working_hours, tz  # used by routing.sla.add_duration after the merge
    return start + timedelta(hours=hours)
