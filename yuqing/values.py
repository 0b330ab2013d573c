"""Parsing of the loosely typed values that collected items carry (times, counts, URLs)."""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo


class BadValue(ValueError):
    """A value in an item that cannot be used; the message is the user-facing reason."""


_COUNT = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([万亿wWkK]?)\s*\+?\s*$")
_UNITS = {"": 1, "万": 10_000, "w": 10_000, "W": 10_000, "亿": 100_000_000, "k": 1000, "K": 1000}
# Counts above this are export noise (no post has a trillion reposts); clamping keeps the row
# and keeps the value inside a 64-bit column on SQLite and PostgreSQL.
MAX_COUNT = 10**12
# Times outside this range are typos or sentinels (0001-01-01, 9999-12-31), not publication times.
EARLIEST_TIME = datetime(1970, 1, 1, tzinfo=UTC)


def parse_count(value: Any, label: str = "数量") -> int:
    """42, "42", "1.2万", "3k", "" -> int; anything else is refused with the field's label."""
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        raise BadValue(f"{label}应为数字")
    if isinstance(value, int):
        if value < 0:
            raise BadValue(f"{label}不能为负数")
        return min(value, MAX_COUNT)
    if isinstance(value, float):
        if not math.isfinite(value) or value < 0:  # NaN, Infinity or negative
            raise BadValue(f"{label}应为非负的有限数字")
        return min(int(value), MAX_COUNT)
    # NFKC: full-width digits (１２３) and points are common in hand-made spreadsheets
    text = unicodedata.normalize("NFKC", str(value)).replace(",", "")
    match = _COUNT.match(text) if len(text) <= 40 else None
    if not match:
        raise BadValue(f"{label}应为数字，实际为 {str(value)[:30]!r}")
    number = float(match.group(1)) * _UNITS[match.group(2)]
    return MAX_COUNT if number >= MAX_COUNT else int(number)


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
        try:
            seconds = value / 1000 if value > 10**11 else value  # milliseconds from JSON APIs
            stamp = datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise BadValue(f"无法识别的时间 {str(value)[:40]!r}") from exc
        return _in_range(stamp, value)
    else:
        text = unicodedata.normalize("NFKC", str(value)).strip()
        if text.isascii() and text.isdigit() and len(text) in (10, 13):
            return parse_time(int(text), timezone, now)
        match = _CN_DATE.match(text) if len(text) <= 64 else None
        try:
            if match:
                y, mo, d, h, mi, s = (int(g) if g else 0 for g in match.groups())
                dt = datetime(y, mo, d, h, mi, s)
            else:
                dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError as exc:
            raise BadValue(f"无法识别的时间 {text[:40]!r}") from exc
    try:
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=tz)
        utc = dt.astimezone(UTC)
    except (OverflowError, ValueError) as exc:  # 0001-01-01 or 9999-12-31 shifted out of range
        raise BadValue(f"时间超出合理范围 {str(value)[:40]!r}") from exc
    return _in_range(utc, value)


def _in_range(dt: datetime, value: Any) -> datetime:
    if dt < EARLIEST_TIME:
        raise BadValue(f"时间早于 1970 年，不像发布时间：{str(value)[:40]!r}")
    return dt


def canonical_url(url: str) -> str:
    """The crawlers' canonical form (no fragment, no tracking parameters); http(s) only."""
    from crawlers.textutil import canonical_url as canonicalize

    if not url:
        return ""
    if len(url) > 4096:
        raise BadValue(f"链接过长（{len(url)} 个字符）")
    try:  # urlsplit itself raises on a broken host such as http://[abc
        parts = urlsplit(url.strip())
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise BadValue(f"链接格式不正确 {url[:80]!r}")
        return canonicalize(url)
    except (ValueError, UnicodeError) as exc:  # e.g. a port that is not a number
        if isinstance(exc, BadValue):
            raise
        raise BadValue(f"链接格式不正确 {url[:80]!r}") from exc
