"""Turning loosely typed records (JSONL lines, CSV rows) into PostInput, without surprises."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from nlp.types import PostInput

_COUNT_RE = re.compile(r"^\s*([\d.,]+)\s*(万|w|W|千|k|K|亿)?\+?\s*$")
_UNITS = {"万": 10_000, "w": 10_000, "W": 10_000, "千": 1_000, "k": 1_000, "K": 1_000,
          "亿": 100_000_000}


class PostError(ValueError):
    """A record that cannot become a post; the message is shown to the user."""


def parse_count(value: Any) -> int:
    """Engagement numbers as sites print them: 123, "1,234", "1.2万", "10w+"; junk is 0."""
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return max(0, int(value))
    m = _COUNT_RE.match(str(value))
    if not m:
        return 0
    try:
        number = float(m.group(1).replace(",", ""))
    except ValueError:
        return 0
    return max(0, int(number * _UNITS.get(m.group(2) or "", 1)))


def parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        return None  # relative dates are the crawlers' job; here an unknown time is just unknown


def post_from_dict(record: Mapping[str, Any], fallback_id: str = "") -> PostInput:
    if not isinstance(record, Mapping):
        raise PostError("每一行必须是 JSON 对象")
    text = record.get("text")
    title = record.get("title")
    if text is not None and not isinstance(text, str):
        raise PostError("text 字段必须是字符串")
    if title is not None and not isinstance(title, str):
        raise PostError("title 字段必须是字符串")
    if not (text or title):
        raise PostError("缺少 text 和 title，无可分析的内容")
    raw_id = record.get("id")
    return PostInput(
        id=str(raw_id) if raw_id not in (None, "") else fallback_id,
        text=text or "",
        title=title or "",
        source=str(record.get("source") or ""),
        source_kind=str(record.get("source_kind") or ""),
        author=str(record.get("author") or ""),
        published_at=parse_time(record.get("published_at")),
        url=str(record.get("url") or ""),
        reposts=parse_count(record.get("reposts")),
        comments=parse_count(record.get("comments")),
        likes=parse_count(record.get("likes")),
        followers=parse_count(record.get("followers")),
        authority=str(record.get("authority") or ""),
        default_place=str(record.get("default_place") or ""),
    )
