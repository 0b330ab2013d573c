"""Chinese and machine date parsing, resolved in Asia/Shanghai against the crawl time.

Returns None when the text holds no date: a page without a date keeps ``published_at``
empty rather than silently becoming "now". A date the calendar cannot hold (100000000天前,
9999-12-31T23:59:59-12:00) is None too, and is told to the caller's ``problems`` list.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
              "七": 7, "八": 8, "九": 9, "十": 10, "半": 0.5}
_UNITS = {"秒": "seconds", "分": "minutes", "分钟": "minutes", "小时": "hours", "时": "hours",
          "个小时": "hours", "天": "days", "日": "days", "周": "weeks", "星期": "weeks",
          "个星期": "weeks"}
_AGO = re.compile(r"([\d.]+|[零〇一二两三四五六七八九十半]+)\s*(秒钟?|分钟?|个?小时|时|天|日|个?星期|周)\s*[以之]?前")
_DAY_WORD = re.compile(r"(今天|今日|昨天|昨日|前天|大前天)")
_DAY_OFFSET = {"今天": 0, "今日": 0, "昨天": 1, "昨日": 1, "前天": 2, "大前天": 3}
_TIME = re.compile(r"(上午|中午|下午|晚上|凌晨|早上)?\s*(\d{1,2})\s*[:：时点]\s*(\d{1,2})?(?:\s*[:：分]\s*(\d{1,2}))?")
_FULL = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
_MONTH_DAY = re.compile(r"(?<!\d)(\d{1,2})\s*[-/月]\s*(\d{1,2})\s*日?(?![\d/-])")
_WEIBO = re.compile(r"^[A-Z][a-z]{2} ([A-Z][a-z]{2} \d{1,2} \d{2}:\d{2}:\d{2}) ([+-]\d{4}) (\d{4})$")
_EPOCH = re.compile(r"^\d{10}(\d{3})?(\.\d+)?$")


def _cn_number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        pass
    if text == "半":
        return 0.5
    if "十" in text:  # 十, 十五, 二十, 二十三
        head, _, tail = text.partition("十")
        return (_CN_DIGITS.get(head, 1) if head else 1) * 10 + (_CN_DIGITS.get(tail, 0) if tail else 0)
    value = 0.0
    for ch in text:
        value = value * 10 + float(_CN_DIGITS.get(ch, 0))
    return value


def _clock(match: re.Match[str] | None) -> tuple[int, int, int] | None:
    if not match:
        return None
    period, hour_s, minute_s, second_s = match.groups()
    hour, minute, second = int(hour_s), int(minute_s or 0), int(second_s or 0)
    if (period in {"下午", "晚上"} and hour < 12) or (period == "中午" and hour < 11):
        hour += 12
    if hour > 23 or minute > 59 or second > 59:
        return None
    return hour, minute, second


def _aware(value: datetime, tz: ZoneInfo) -> datetime:
    aware = value.replace(tzinfo=tz) if value.tzinfo is None else value.astimezone(tz)
    aware.astimezone(UTC)  # 0001-01-01 in +08:00 has no UTC instant: raise here, not later
    return aware


def parse_datetime(text: object, now: datetime | None = None, tz: ZoneInfo = SHANGHAI,
                   problems: list[str] | None = None) -> datetime | None:
    """Parse the date forms Chinese sites print; relative ones count back from ``now``.

    Handles 刚刚, N秒/分钟/小时/天前, 半小时前, 今天/昨天/前天 HH:MM, MM-DD HH:MM (this year, or
    last year when that would be in the future), 2019年5月21日, ISO 8601, RFC 822 (RSS),
    Weibo's ``Tue May 21 10:00:00 +0800 2019`` and Unix timestamps (s or ms). Never raises:
    a date outside the calendar's range is None, with a reason appended to ``problems``.
    """
    if text is None or isinstance(text, bool):
        return None
    now = _aware(now, tz) if now else datetime.now(tz)
    try:
        return _parse(text, now, tz)
    except (OverflowError, ValueError, OSError):  # e.g. 100000000天前, or year 9999 shifted on
        if problems is not None:
            problems.append(f"时间超出可表示的范围：{str(text)[:40]}")
        return None


def _parse(text: object, now: datetime, tz: ZoneInfo) -> datetime | None:
    if isinstance(text, datetime):
        return _aware(text, tz)
    if isinstance(text, int | float):
        return _from_epoch(float(text), tz)
    raw = unicodedata.normalize("NFKC", str(text)).strip()
    if not raw or len(raw) > 200:
        return None
    if _EPOCH.match(raw):
        return _from_epoch(float(raw), tz)
    if raw in {"刚刚", "刚才", "just now"} or raw.startswith("刚刚"):
        return now
    ago = _AGO.search(raw)
    if ago:
        amount = _cn_number(ago.group(1))
        unit = _UNITS[ago.group(2).replace("钟", "")]
        return (now - timedelta(**{unit: amount})).astimezone(tz)
    for parse in (_iso, _rfc822, _weibo):
        found = parse(raw, tz)
        if found:
            return found
    day = _DAY_WORD.search(raw)
    if day:
        base = (now - timedelta(days=_DAY_OFFSET[day.group(1)])).date()
        clock = _clock(_TIME.search(raw[day.end():])) or (0, 0, 0)
        return datetime(base.year, base.month, base.day, *clock, tzinfo=tz)
    full = _FULL.search(raw)
    if full:
        year, month, dom = (int(g) for g in full.groups())
        clock = _clock(_TIME.search(raw[full.end():])) or (0, 0, 0)
        return _safe(year, month, dom, clock, tz)
    md = _MONTH_DAY.search(raw)
    if md:
        month, dom = int(md.group(1)), int(md.group(2))
        clock = _clock(_TIME.search(raw[md.end():])) or (0, 0, 0)
        found = _safe(now.year, month, dom, clock, tz)
        # "12-31 23:00" read on 1 January belongs to last year
        if found and found > now + timedelta(days=1):
            found = _safe(now.year - 1, month, dom, clock, tz)
        return found
    only_time = re.fullmatch(r"(上午|中午|下午|晚上|凌晨|早上)?\s*\d{1,2}[:：]\d{2}(?:[:：]\d{2})?", raw)
    if only_time:  # "08:30" alone on a listing means today
        clock = _clock(_TIME.search(raw))
        if clock:
            return datetime(now.year, now.month, now.day, *clock, tzinfo=tz)
    return None


def _safe(year: int, month: int, day: int, clock: tuple[int, int, int],
          tz: ZoneInfo) -> datetime | None:
    try:
        return datetime(year, month, day, *clock, tzinfo=tz)
    except ValueError:
        return None


def _from_epoch(value: float, tz: ZoneInfo) -> datetime | None:
    if value > 1e11:  # milliseconds
        value /= 1000.0
    return datetime.fromtimestamp(value, tz)  # out of range raises: told as a problem


def _iso(raw: str, tz: ZoneInfo) -> datetime | None:
    if not re.match(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}", raw):
        return None
    candidate = raw.replace("Z", "+00:00").replace(" ", "T", 1)
    try:
        return _aware(datetime.fromisoformat(candidate), tz)
    except ValueError:
        return None


def _rfc822(raw: str, tz: ZoneInfo) -> datetime | None:
    if not re.match(r"^([A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{4}", raw):
        return None
    try:
        return _aware(parsedate_to_datetime(raw), tz)
    except (TypeError, ValueError, IndexError):
        return None


def _weibo(raw: str, tz: ZoneInfo) -> datetime | None:
    m = _WEIBO.match(raw)
    if not m:
        return None
    try:
        return _aware(datetime.strptime(f"{m.group(1)} {m.group(3)} {m.group(2)}",
                                        "%b %d %H:%M:%S %Y %z"), tz)
    except ValueError:
        return None
