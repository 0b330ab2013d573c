"""Parsing of the loosely typed values that collected items carry (times, counts, URLs)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo


class BadValue(ValueError):
    """A value in an item that cannot be used; the message is the user-facing reason."""


_COUNT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([万亿wWkK]?)\s*\+?\s*$")
_UNITS = {"": 1, "万": 10_000, "w": 10_000, "W": 10_000, "亿": 100_000_000, "k": 1000, "K": 1000}


def parse_count(value: Any, label: str = "数量") -> int:
    """42, "42", "1.2万", "3k", "" -> int; anything else is refused with the field's label."""
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        raise BadValue(f"{label}应为数字")
    if isinstance(value, int):
        if value < 0:
            raise BadValue(f"{label}不能为负数")
        return value
    if isinstance(value, float):
        if value != value or value < 0:  # NaN or negative
            raise BadValue(f"{label}应为非负数字")
        return int(value)
    match = _COUNT.match(str(value).replace(",", ""))
    if not match:
        raise BadValue(f"{label}应为数字，实际为 {str(value)[:30]!r}")
    return int(float(match.group(1)) * _UNITS[match.group(2)])


_CN_DATE = re.compile(
    r"^\s*(\d{4})\s*[年/.-]\s*(\d{1,2})\s*[月/.-]\s*(\d{1,2})\s*日?"
    r"(?:\s*(\d{1,2})\s*[:：时]\s*(\d{1,2})(?:\s*[:：分]\s*(\d{1,2}))?\s*秒?)?\s*$")


def parse_time(value: Any, timezone: str = "Asia/Shanghai", now: datetime | None = None
               ) -> datetime | None:
    """An aware UTC datetime from datetimes, ISO 8601, Chinese dates or epoch seconds.

    Times without an offset are read in ``timezone``. Relative forms (3分钟前, 昨天) belong to
    the crawlers, which know when the page was fetched.
    """
    if value is None or value == "":
        return None
    tz = ZoneInfo(timezone)
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = value / 1000 if value > 10**11 else value  # milliseconds from JSON APIs
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise BadValue(f"无法识别的时间 {value!r}") from exc
    else:
        text = str(value).strip()
        if text.isdigit() and len(text) in (10, 13):
            return parse_time(int(text), timezone, now)
        match = _CN_DATE.match(text)
        try:
            if match:
                y, mo, d, h, mi, s = (int(g) if g else 0 for g in match.groups())
                dt = datetime(y, mo, d, h, mi, s)
            else:
                dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError as exc:
            raise BadValue(f"无法识别的时间 {text[:40]!r}") from exc
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=tz)
    return dt.astimezone(UTC)


def canonical_url(url: str) -> str:
    """The crawlers' canonical form (no fragment, no tracking parameters); http(s) only."""
    from crawlers.textutil import canonical_url as canonicalize

    if not url:
        return ""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise BadValue(f"链接格式不正确 {url[:80]!r}")
    try:
        return canonicalize(url)
    except ValueError as exc:  # e.g. a port that is not a number
        raise BadValue(f"链接格式不正确 {url[:80]!r}") from exc
