"""Decide and follow up: responsibility rules and the SLA clock (workflow, escalation and
notifier channels join here)."""

from routing.config import RoutingConfig, UnitInfo
from routing.rules import CaseDecision, Decision, Facts, UnitRef, decide
from routing.sla import (
    STEPS,
    ExtensionRefused,
    SlaConfig,
    SlaError,
    add_duration,
    deadlines,
    elapsed_hours,
    extend,
    is_working_day,
    remind_at,
)

__all__ = [
    "STEPS",
    "CaseDecision",
    "Decision",
    "ExtensionRefused",
    "Facts",
    "RoutingConfig",
    "SlaConfig",
    "SlaError",
    "UnitInfo",
    "UnitRef",
    "add_duration",
    "deadlines",
    "decide",
    "elapsed_hours",
    "extend",
    "is_working_day",
    "remind_at",
]
