"""Who sees which units' figures: one rule for the report page, its API, the CLI and exports.

Monitors and admins see every unit; a leader sees the units of his jurisdiction (all of them
when his account is bound to no unit, as leaders' accounts usually are); a unit user sees only
his own unit. ``None`` means "no restriction"; an empty list means "nothing".
"""

from __future__ import annotations

from collections.abc import Mapping

from routing.reports.history import UnitInfo

ALL_UNITS_ROLES = ("admin", "monitor")
# what each report shows, as the refusal names it (a reply report holds no 考核数据)
REPORT_DATA = {"response": "考核数据", "replies": "答复时效数据"}


def report_scope(role: str, unit_code: str | None,
                 units: Mapping[str, UnitInfo]) -> list[str] | None:
    role = str(role)
    if role in ALL_UNITS_ROLES:
        return None
    if role == "leader":
        own = units.get(unit_code or "")
        if own is None or not own.jurisdiction:
            return None
        # jurisdiction codes are hierarchical (320115 ⊃ 320115001): a prefix is a subtree
        return sorted(c for c, u in units.items() if u.jurisdiction.startswith(own.jurisdiction))
    if role == "unit":
        return [unit_code] if unit_code and unit_code in units else []
    return []


def narrow(scope: list[str] | None, wanted: str | None) -> list[str] | None:
    """The scope further limited to one unit the caller asked for (``--unit``, ``?unit=``).

    A unit outside the caller's scope gives an empty scope, never a widened one."""
    if not wanted:
        return scope
    if scope is None or wanted in scope:
        return [wanted]
    return []


def refusal(report: str, unit: str | None = None, username: str | None = None) -> str:
    """The message refusing a unit outside the caller's scope, worded for the report asked.

    >>> refusal("replies", "jn-edu", "dongshan")
    '用户 dongshan 无权查看单位「jn-edu」的答复时效数据'
    """
    who = f"用户 {username} " if username else ""
    whose = f"单位「{unit}」" if unit else "其他单位"
    return f"{who}无权查看{whose}的{REPORT_DATA[report]}"
