"""Hot topics: events or terms whose volume bursts above their own baseline.

Counts are kept per key in 10-minute slots. "Now" is the last ``window`` (one hour by default);
the baseline is the same-length windows over the previous ``baseline_hours``. A key is hot when
its current count reaches ``min_count``, exceeds its baseline mean by ``z`` standard deviations
and is at least ``ratio`` times that mean: a term that is always frequent (物业) is not hot, a
term that jumps from nothing to dozens of posts (停水) is. Nothing is shared between keys, so each
is judged against its own history.
"""

from __future__ import annotations

import math
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

SLOT = timedelta(minutes=10)


@dataclass(slots=True)
class Burst:
    key: str
    kind: str  # event / term
    count: int  # in the current window
    baseline: float  # mean per window over the baseline period
    spread: float  # standard deviation of the baseline
    score: float  # how many standard deviations above the baseline
    reasons: list[str] = field(default_factory=list)


class BurstDetector:
    def __init__(self, window: timedelta = timedelta(hours=1), baseline_hours: int = 24,
                 min_count: int = 5, z: float = 3.0, ratio: float = 3.0) -> None:
        if window < SLOT or window % SLOT:
            raise ValueError("热点统计窗口必须是 10 分钟的整数倍")
        self.window = window
        self.baseline_hours = baseline_hours
        self.min_count = min_count
        self.z = z
        self.ratio = ratio
        self._slots: dict[tuple[str, str], dict[int, int]] = defaultdict(dict)
        self._lock = threading.Lock()

    def observe(self, key: str, at: datetime, kind: str = "event", count: int = 1) -> None:
        """Count ``count`` posts for ``key`` at ``at`` (naive datetimes are taken as UTC)."""
        slot = _slot(at)
        with self._lock:
            slots = self._slots[(kind, key)]
            slots[slot] = slots.get(slot, 0) + count

    def observe_terms(self, terms: list[str], at: datetime) -> None:
        """Count each distinct term of one post once."""
        for term in set(terms):
            self.observe(term, at, kind="term")

    def bursts(self, now: datetime, kind: str | None = None, top: int = 20) -> list[Burst]:
        """Keys bursting in the window ending at ``now``, strongest first."""
        end = _slot(now) + 1
        per = self.window // SLOT
        n_windows = max(1, int(timedelta(hours=self.baseline_hours) / self.window))
        out = []
        with self._lock:
            items = [(k, dict(v)) for k, v in self._slots.items() if kind in (None, k[0])]
        for (k_kind, key), slots in items:
            current = sum(slots.get(s, 0) for s in range(end - per, end))
            if current < self.min_count:
                continue
            history = [sum(slots.get(s, 0) for s in range(end - per * (i + 1), end - per * i))
                       for i in range(1, n_windows + 1)]
            mean = sum(history) / len(history)
            std = math.sqrt(sum((h - mean) ** 2 for h in history) / len(history))
            # A floor on the spread keeps a flat history from making one extra post a burst.
            score = (current - mean) / max(std, 1.0)
            if score < self.z or current < self.ratio * mean:
                continue
            label = "事件" if k_kind == "event" else "词语"
            minutes = int(self.window.total_seconds() // 60)
            reasons = [f"{label}“{key}”近 {minutes} 分钟 {current} 条，"
                       f"此前 {self.baseline_hours} 小时平均每 {minutes} 分钟 {mean:.1f} 条"
                       f"（标准差 {std:.1f}），高出 {score:.1f} 个标准差"]
            if mean == 0:
                reasons.append("此前没有记录，属新出现的热点")
            out.append(Burst(key, k_kind, current, round(mean, 3), round(std, 3),
                             round(score, 2), reasons))
        out.sort(key=lambda b: (-b.score, -b.count, b.key))
        return out[:top]

    def prune(self, before: datetime) -> None:
        """Drop counts older than ``before`` (keep at least the baseline period)."""
        cut = _slot(before)
        with self._lock:
            for key in list(self._slots):
                slots = {s: c for s, c in self._slots[key].items() if s >= cut}
                if slots:
                    self._slots[key] = slots
                else:
                    del self._slots[key]


def _slot(at: datetime) -> int:
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return int(at.timestamp() // SLOT.total_seconds())
