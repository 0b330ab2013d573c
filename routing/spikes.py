"""Spike (异动) detection: the last hour's volume against the same hour of the previous days.

Pure functions over arrival times. For a key (a scheme, a topic, a place·topic pair) the
current count is the posts in ``[now - 1h, now)``; the baseline is the counts in the same
hour window on each of the previous ``days`` days. A spike needs all of:

- ``current >= min_count`` (a handful of posts is never a spike);
- ``current > median + k * scale``, with ``scale = max(1.4826 * MAD, sqrt(max(median, 1)))``
  — the robust z-score, floored by the Poisson spread so a flat baseline (MAD 0) does not make
  every extra post a spike;
- ``current >= ratio * max(median, 1)``.

An alert is once per (key, clock hour): the caller keys the notification on ``Spike.hour``
(the hour the window starts in) and asks ``due`` first, which holds back a key for two hours
after its last alert — one burst is seen by many sliding windows, and is told once.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from routing.reports.periods import median

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@dataclass(frozen=True)
class SpikeRule:
    days: int = 14
    min_count: int = 10
    k: float = 4.0
    ratio: float = 3.0


DEFAULT_RULE = SpikeRule()


@dataclass(frozen=True)
class Spike:
    key: str  # "scheme:<key>", "topic:<key>", "place_topic:<code>/<topic>"
    label: str  # 东山街道·生态环境
    current: int
    baseline: float  # the median of the same hour on the previous days
    mad: float
    hour: datetime  # the clock hour the window starts in: the once-per-hour key
    why: str  # in Chinese, for the alert


def window_counts(times: Iterable[datetime], now: datetime, days: int
                  ) -> tuple[int, list[int]]:
    """(posts in [now-1h, now), [posts in the same window d days earlier for d = 1..days])."""
    ordered = sorted(times)

    def count(end: datetime) -> int:
        return bisect_left(ordered, end) - bisect_left(ordered, end - HOUR)

    return count(now), [count(now - d * DAY) for d in range(1, days + 1)]


def _median(values: Sequence[float]) -> float:
    return float(median(values) or 0.0)


def mad(values: Sequence[float], centre: float) -> float:
    return _median([abs(v - centre) for v in values]) if values else 0.0


def ratio_text(current: int, base: float) -> str:
    if base < 0.5:
        return "基线接近 0"
    return f"约 {round(current / base):d} 倍" if current / base >= 2 else \
        f"约 {current / base:.1f} 倍"


def judge(key: str, label: str, current: int, history: Sequence[int], now: datetime,
          rule: SpikeRule = DEFAULT_RULE) -> Spike | None:
    """A Spike when ``current`` stands out of ``history``, else None."""
    if current < rule.min_count or not history:
        return None
    base = _median([float(h) for h in history])
    spread = mad([float(h) for h in history], base)
    scale = max(1.4826 * spread, math.sqrt(max(base, 1.0)))
    if current <= base + rule.k * scale or current < rule.ratio * max(base, 1.0):
        return None
    shown = f"{base:.0f}" if float(base).is_integer() else f"{base:.1f}"
    why = f"{label} 近1小时 {current} 条，基线 {shown} 条，{ratio_text(current, base)}"
    # the clock hour the window starts in: every window ending within the next hour shares
    # it, so a job that runs every few minutes alerts once for one burst
    hour = (now - HOUR).replace(minute=0, second=0, microsecond=0)
    return Spike(key=key, label=label, current=current, baseline=base, mad=spread,
                 hour=hour, why=why)


# posts of one burst stay inside some sliding one-hour window for up to two hours
COOLDOWN = 2 * HOUR


def due(last_alert: datetime | None, now: datetime) -> bool:
    """Whether a spike on a key may be told now: not within two hours after the last alert
    on that key, so one burst seen by many sliding windows is told once; a rise that goes
    on is told again two hours later."""
    return last_alert is None or not (now - COOLDOWN < last_alert <= now)


def detect(series: Mapping[str, tuple[str, Iterable[datetime]]], now: datetime,
           rule: SpikeRule = DEFAULT_RULE) -> list[Spike]:
    """``series``: key -> (label, arrival times). Spikes, graver (larger excess) first."""
    found = []
    for key, (label, times) in series.items():
        current, history = window_counts(times, now, rule.days)
        spike = judge(key, label, current, history, now, rule)
        if spike is not None:
            found.append(spike)
    return sorted(found, key=lambda s: (-(s.current - s.baseline), s.key))
