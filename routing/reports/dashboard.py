"""Dashboard figures as pure functions over rows the caller has read (no database here).

- Volume: posts per local day (per month when the period is longer than 62 days), split by a
  key (source kind, sentiment); a post counts on the day it was published (collected when the
  source gives no time).
- Heat (热度) of an event in a period: posts in the period + (reposts + comments + likes) / 100,
  so a hundred shares weigh as much as one more post. The trend compares with the previous
  period of the same length: 上升 / 下降 / 持平, or 新出现 when the event had no heat before.
- Word cloud: how many posts of the period carry each keyword (one vote per post).
- Open cases: the state of every case not closed or dismissed *now*, and how many are overdue
  (flagged by the SLA sweep, or past the deadline that applies to their state).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from routing.reports.periods import Period

MONTHLY_AFTER_DAYS = 62
INTERACTION_WEIGHT = 0.01
OPEN_STATES = ("new", "dispatched", "acknowledged", "responded", "returned")


def buckets(period: Period) -> list[str]:
    """Labels of the volume buckets: ``YYYY-MM-DD`` days, or ``YYYY-MM`` months."""
    if period.days > MONTHLY_AFTER_DAYS:
        out, day = [], period.start.replace(day=1)
        while day <= period.end:
            out.append(f"{day:%Y-%m}")
            day = (day + timedelta(days=32)).replace(day=1)
        return out
    return [f"{period.start + timedelta(days=i):%Y-%m-%d}" for i in range(period.days)]


def bucket_of(moment: datetime, period: Period, tz: tzinfo) -> str:
    day: date = moment.astimezone(tz).date()
    return f"{day:%Y-%m}" if period.days > MONTHLY_AFTER_DAYS else f"{day:%Y-%m-%d}"


def volume(rows: Iterable[tuple[datetime, str]], period: Period, tz: tzinfo,
           order: Iterable[str] = ()) -> dict[str, object]:
    """``rows`` are (moment, key) pairs. Returns {"buckets": [...], "series": [{"key", "data"}]}
    with one count per bucket for each key (keys in ``order`` first, then by total)."""
    labels = buckets(period)
    index = {label: i for i, label in enumerate(labels)}
    counts: dict[str, list[int]] = defaultdict(lambda: [0] * len(labels))
    for moment, key in rows:
        if not period.contains(moment, tz):
            continue
        counts[key or ""][index[bucket_of(moment, period, tz)]] += 1
    preferred = [k for k in order if k in counts]
    rest = sorted((k for k in counts if k not in preferred), key=lambda k: -sum(counts[k]))
    return {"buckets": labels,
            "series": [{"key": k, "data": counts[k]} for k in preferred + rest]}


def distribution(keys: Iterable[str | None], limit: int | None = None) -> list[tuple[str, int]]:
    """(key, count) by count descending then key; ``None``/empty keys count as ""."""
    found = Counter(k or "" for k in keys)
    ranked = sorted(found.items(), key=lambda kv: (-kv[1], kv[0]))
    return ranked[:limit] if limit else ranked


@dataclass(frozen=True, slots=True)
class EventActivity:
    """One event's activity in one period (what heat is computed from)."""

    event_id: int
    posts: int
    interactions: int  # reposts + comments + likes of those posts


def heat(activity: EventActivity | None) -> float:
    if activity is None:
        return 0.0
    return round(activity.posts + activity.interactions * INTERACTION_WEIGHT, 1)


def trend(now: float, before: float) -> str:
    if before == 0:
        return "new" if now > 0 else "flat"
    if now > before:
        return "up"
    return "down" if now < before else "flat"


def hot_events(current: Mapping[int, EventActivity], previous: Mapping[int, EventActivity],
               limit: int = 10) -> list[dict[str, object]]:
    """The ``limit`` hottest events of the period with their trend against the previous one."""
    ranked = sorted(current.values(), key=lambda a: (-heat(a), -a.posts, a.event_id))[:limit]
    out = []
    for a in ranked:
        was = heat(previous.get(a.event_id))
        out.append({"event_id": a.event_id, "posts": a.posts, "interactions": a.interactions,
                    "heat": heat(a), "previous_heat": was, "trend": trend(heat(a), was)})
    return out


def word_weights(keyword_lists: Iterable[Iterable[str]], limit: int = 60,
                 min_length: int = 2, exclude: Iterable[str] = ()) -> list[tuple[str, int]]:
    """Keywords by the number of posts carrying them (each post votes once per word);
    ``exclude`` drops words every post shares (the home jurisdiction's own names)."""
    skip = set(exclude)
    votes: Counter[str] = Counter()
    for words in keyword_lists:
        votes.update({w.strip() for w in words if isinstance(w, str)
                      and len(w.strip()) >= min_length and w.strip() not in skip})
    return sorted(votes.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]


def is_overdue(state: str, flagged: bool, due_sign: datetime | None,
               due_answer: datetime | None, now: datetime) -> bool:
    if state not in OPEN_STATES:
        return False
    if flagged:
        return True
    due = due_sign if state == "dispatched" else (due_answer if state != "responded" else None)
    return due is not None and due < now


def open_cases(rows: Iterable[tuple[str, bool, datetime | None, datetime | None]],
               now: datetime) -> dict[str, object]:
    """``rows``: (state, overdue flag, due_sign_at, due_answer_at) of cases. Counts of open
    cases by state, with how many of each are overdue."""
    by_state: dict[str, dict[str, int]] = {s: {"open": 0, "overdue": 0} for s in OPEN_STATES}
    for state, flagged, due_sign, due_answer in rows:
        if state not in by_state:
            continue
        by_state[state]["open"] += 1
        by_state[state]["overdue"] += is_overdue(state, flagged, due_sign, due_answer, now)
    return {"by_state": by_state,
            "open": sum(v["open"] for v in by_state.values()),
            "overdue": sum(v["overdue"] for v in by_state.values())}


def street_of(code: str | None, district: str) -> str | None:
    """The street/township code (9 digits) a place code falls in, inside ``district``."""
    if not code or not code.startswith(district) or len(code) < 9:
        return None
    return code[:9]
