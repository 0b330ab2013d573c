"""The app's clock and the period a page asks for: one reading for every desk.

``create_app(clock=...)`` puts the clock in ``app.extensions`` (the wiring passes
``AppContext.clock``; tests pin it). The dashboard, the reports, the reply report, the
briefings and the channel health all read "now", the local zone and the period from here, and
the period goes through ``routing.reports.parse_period`` like the CLI's.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app

from routing.reports import PRESETS, Period, parse_period
from store import utcnow


def now() -> datetime:
    source = current_app.extensions.get("yuqing.clock")
    return source() if callable(source) else utcnow()


def zone() -> ZoneInfo:
    return ZoneInfo(current_app.config.get("YUQING_TIMEZONE", "Asia/Shanghai"))


def today() -> date:
    return now().astimezone(zone()).date()


def period_from(args: Mapping[str, Any]) -> Period:
    """``from``/``to``/``preset`` from a query: explicit dates win over a preset (default
    上周), except when a form's "按时间段" button was pressed (``apply=preset``: the form sends
    the dates it shows along with the preset)."""
    if args.get("apply") == "preset":
        return parse_period(None, None, args.get("preset") or None, today())
    return parse_period(args.get("from") or None, args.get("to") or None,
                        args.get("preset") or None, today())


def period_parameters() -> list[dict[str, Any]]:
    """The OpenAPI query parameters ``period_from`` reads."""
    return [
        {"name": "from", "in": "query", "required": False,
         "schema": {"type": "string", "format": "date"}, "description": "开始日期（含），优先于 preset"},
        {"name": "to", "in": "query", "required": False,
         "schema": {"type": "string", "format": "date"}, "description": "结束日期（含）"},
        {"name": "preset", "in": "query", "required": False,
         "schema": {"type": "string", "enum": list(PRESETS)},
         "description": "预设时间段（未给日期时使用，默认 last_week 上周）"},
    ]
