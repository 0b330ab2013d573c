"""Reply timeliness (答复时效) of collected 留言板 messages and 12345 records.

Pure figures over ``ReplyRecord`` rows; ``load_reply_records`` reads them from the store, so
the page, the API, the CLI and the exports compute with the same functions.

Definitions (the README repeats them for users):

- a record counts in the period of its message time (``published_at``, local days);
- *invalid*: a reply time earlier than the message time (bad data) — left out of every figure
  and counted on its own; *undated*: no message time at all — likewise;
- *replied*: a reply text or a reply time is present; durations only exist when both times do;
- hours from message to reply in natural time, and in working time (the SLA's working hours on
  the working days of ``chinesecalendar``); percentiles are numpy-linear (``percentile``);
- *replied within N days*: natural days are N × 24 h; working days are N × the length of one
  working day in working hours (7.5 h by default), counted by ``routing.sla``. The share is
  met / due, where due counts messages decided by ``now``: replied (with a time), or still
  unanswered when the N days are over. An unanswered message still inside its N days, and a
  reply without a time, are not judged.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, false, or_, select
from sqlalchemy.orm import Session

from routing.reports.periods import Period, median, percentile, rate
from routing.sla import (
    DEFAULT_WORKING_HOURS,
    HoursSpec,
    Zone,
    intervals_of,
    working_time,
    zone_of,
)
from store import Case, Post, Source, Unit

DEFAULT_DAYS = (1, 3, 5, 10)
SLOWEST = 20
# where messages come from: board spiders, imported files, and any source declared a hotline
MESSAGE_SOURCE_KINDS = ("board", "import")
MESSAGE_POST_KINDS = ("board", "hotline")
NO_UNIT = "（未注明单位）"
NO_TOPIC = "（未分类）"
OPEN, LATE, MET = 0, 1, 2


@dataclass(frozen=True, slots=True)
class ReplyRecord:
    post_id: int
    published_at: datetime | None  # message time (aware)
    reply_at: datetime | None
    replied: bool  # a reply text or a reply time exists
    unit: str = ""  # replying (or handling) unit as shown, "" when unknown
    topic: str | None = None
    title: str = ""
    url: str = ""
    source: str = ""  # source name
    case_id: int | None = None


@dataclass(frozen=True, slots=True)
class ReplyOptions:
    days: tuple[int, ...] = DEFAULT_DAYS
    working_hours: tuple[tuple[time, time], ...] = DEFAULT_WORKING_HOURS
    tz: Zone = "Asia/Shanghai"
    slowest: int = SLOWEST

    @classmethod
    def of(cls, days: Iterable[int] | None = None, working_hours: HoursSpec = None,
           tz: Zone = "Asia/Shanghai", slowest: int = SLOWEST) -> ReplyOptions:
        chosen = tuple(sorted({int(d) for d in (days or DEFAULT_DAYS)}))
        if not chosen or chosen[0] < 1 or chosen[-1] > 366:
            raise ValueError("答复天数应为 1–366 之间的整数")
        return cls(chosen, intervals_of(working_hours), tz, slowest)

    @property
    def workday_hours(self) -> float:
        return sum((datetime.combine(datetime.min, b) - datetime.combine(datetime.min, a))
                   .total_seconds() for a, b in self.working_hours) / 3600


@dataclass(frozen=True, slots=True)
class _Timed:
    """A valid record with its durations and verdicts computed once for every grouping."""

    record: ReplyRecord
    hours: float | None  # natural, None without a reply time
    working_hours: float | None
    # per N of the options: natural then working verdict (OPEN: not judged, LATE, MET)
    verdicts: tuple[int, ...] = ()


@dataclass
class Share:
    met: int = 0
    due: int = 0

    @property
    def share(self) -> float | None:
        return rate(self.met, self.due)

    def as_dict(self) -> dict[str, Any]:
        return {"met": self.met, "due": self.due, "share": self.share}


@dataclass
class Figures:
    """One row of the report: the total, or one unit, topic or month."""

    key: str
    label: str
    messages: int = 0
    replied: int = 0
    untimed: int = 0  # replied without a reply time: counted as replied, no duration
    hours: list[float] = field(default_factory=list)
    working: list[float] = field(default_factory=list)
    within: dict[int, dict[str, Share]] = field(default_factory=dict)

    @property
    def reply_rate(self) -> float | None:
        return rate(self.replied, self.messages)

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "messages": self.messages,
                "replied": self.replied, "unreplied": self.messages - self.replied,
                "reply_rate": self.reply_rate, "replied_without_time": self.untimed,
                "median_hours": _round(median(self.hours)),
                "p90_hours": _round(percentile(self.hours, 90)),
                "median_working_hours": _round(median(self.working)),
                "p90_working_hours": _round(percentile(self.working, 90)),
                "within": [{"days": d, "natural": s["natural"].as_dict(),
                            "working": s["working"].as_dict()}
                           for d, s in sorted(self.within.items())]}


@dataclass
class ReplyReport:
    period: Period
    days: tuple[int, ...]
    total: Figures
    by_unit: list[Figures]
    by_topic: list[Figures]
    by_month: list[Figures]
    slowest: list[dict[str, Any]]
    invalid: list[int]  # post ids with a reply before the message
    undated: list[int]  # post ids without a message time

    def as_dict(self) -> dict[str, Any]:
        return {"period": self.period.as_dict(), "days": list(self.days),
                "total": {**self.total.as_dict(), "invalid": len(self.invalid),
                          "undated": len(self.undated)},
                "by_unit": [f.as_dict() for f in self.by_unit],
                "by_topic": [f.as_dict() for f in self.by_topic],
                "by_month": [f.as_dict() for f in self.by_month],
                "slowest": self.slowest,
                "invalid_ids": self.invalid[:100], "undated_ids": self.undated[:100]}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def timed(records: Iterable[ReplyRecord], now: datetime, options: ReplyOptions
          ) -> tuple[list[_Timed], list[int], list[int]]:
    """Valid records with durations and on-time verdicts; the ids of invalid and undated ones."""
    valid: list[_Timed] = []
    invalid: list[int] = []
    undated: list[int] = []
    dated: list[ReplyRecord] = []
    for r in records:
        if r.published_at is None:
            undated.append(r.post_id)
        elif r.reply_at is not None and r.reply_at < r.published_at:
            invalid.append(r.post_id)
        else:
            dated.append(r)
    if not dated:
        return valid, invalid, undated
    clock = working_time(options.working_hours, options.tz)  # the SLA's, shared
    day_len = clock.day_hours
    for r in dated:
        assert r.published_at is not None
        verdicts: list[int] = []
        hours = working = None
        if r.reply_at is not None:
            hours = (r.reply_at - r.published_at).total_seconds() / 3600
            working = clock.between(r.published_at, r.reply_at)
            for d in options.days:
                verdicts += [MET if hours <= d * 24 else LATE,
                             MET if working <= d * day_len else LATE]
        elif r.replied:  # a reply without a time cannot be judged on time
            verdicts = [OPEN] * (2 * len(options.days))
        else:  # unanswered: late once the N days are over, not judged before
            for d in options.days:
                verdicts += [LATE if r.published_at + timedelta(days=d) <= now else OPEN,
                             LATE if clock.add(r.published_at, d * day_len) <= now else OPEN]
        valid.append(_Timed(r, hours, working, tuple(verdicts)))
    return valid, invalid, undated


def figures(key: str, label: str, rows: Iterable[_Timed], options: ReplyOptions) -> Figures:
    out = Figures(key, label)
    slots = 2 * len(options.days)
    met, due = [0] * slots, [0] * slots
    for t in rows:
        out.messages += 1
        if t.record.replied:
            out.replied += 1
        if t.hours is not None and t.working_hours is not None:
            out.hours.append(t.hours)
            out.working.append(t.working_hours)
        elif t.record.replied:
            out.untimed += 1
        for i, verdict in enumerate(t.verdicts):
            if verdict:
                due[i] += 1
                met[i] += verdict == MET
    out.within = {d: {"natural": Share(met[2 * i], due[2 * i]),
                      "working": Share(met[2 * i + 1], due[2 * i + 1])}
                  for i, d in enumerate(options.days)}
    return out


def _grouped(rows: Sequence[_Timed], key_of: Callable[[ReplyRecord], str],
             label_of: Callable[[str], str], options: ReplyOptions) -> list[Figures]:
    groups: dict[str, list[_Timed]] = defaultdict(list)
    for t in rows:
        groups[key_of(t.record)].append(t)
    return [figures(k, label_of(k), v, options) for k, v in groups.items()]


def reply_report(records: Iterable[ReplyRecord], period: Period, now: datetime,
                 options: ReplyOptions | None = None,
                 topic_names: Mapping[str, str] | None = None) -> ReplyReport:
    """Every figure of the reply report over records already chosen for the period."""
    options = options or ReplyOptions()
    topic_names = topic_names or {}
    zone = zone_of(options.tz)
    rows, invalid, undated = timed(records, now, options)
    total = figures("total", "合计", rows, options)
    by_unit = sorted(_grouped(rows, lambda r: r.unit, lambda k: k or NO_UNIT, options),
                     key=lambda f: (f.key == "", -f.messages, f.key))
    by_topic = sorted(_grouped(rows, lambda r: r.topic or "",
                               lambda k: topic_names.get(k, k) if k else NO_TOPIC, options),
                      key=lambda f: (f.key == "", -f.messages, f.key))
    by_month = sorted(_grouped(rows, lambda r: f"{r.published_at.astimezone(zone):%Y-%m}"
                               if r.published_at else "", lambda k: k, options),
                      key=lambda f: f.key)
    slow = sorted((t for t in rows if t.hours is not None),
                  key=lambda t: (-(t.hours or 0), t.record.post_id))[:options.slowest]
    return ReplyReport(period, options.days, total, by_unit, by_topic, by_month,
                       [_slow_row(t, topic_names) for t in slow], invalid, undated)


def _slow_row(t: _Timed, topic_names: Mapping[str, str]) -> dict[str, Any]:
    r = t.record
    return {"post_id": r.post_id, "title": r.title, "source": r.source,
            "unit": r.unit or NO_UNIT, "topic": topic_names.get(r.topic or "", r.topic or ""),
            "published_at": _iso(r.published_at), "reply_at": _iso(r.reply_at),
            "hours": _round(t.hours), "working_hours": _round(t.working_hours),
            "url": r.url, "case_id": r.case_id}


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat()


# -- reading the store ---------------------------------------------------------------------

def unit_aliases(session: Session) -> dict[str, str]:
    """Reply-unit text as stored -> the name shown: a unit's full or short name both show as
    its short name, so 南京市江宁区东山街道办事处 and 东山街道 count as one unit."""
    out: dict[str, str] = {}
    for u in session.scalars(select(Unit)):
        shown = u.short_name or u.name
        for name in (u.name, u.short_name):
            if name:
                out[name] = shown
    return out


def reply_unit_names(session: Session, codes: Collection[str] | None) -> list[str] | None:
    """The reply-unit texts (full and short names) of these units; None stays "all units".

    Pair it with ``routing.reports.access.report_scope``: the same unit scope as every other
    report, applied to the text boards and hotlines store as the replying unit.
    """
    if codes is None:
        return None
    if not codes:
        return []
    return sorted({n for u in session.scalars(select(Unit).where(Unit.code.in_(list(codes))))
                   for n in (u.name, u.short_name) if n})


def load_reply_records(session: Session, period: Period, tz: Zone, source_key: str | None = None,
                       only_units: Collection[str] | None = None) -> list[ReplyRecord]:
    """Messages of the period by message time (undated ones by collection time).

    Without ``source_key`` the messages are posts of board and import sources and posts whose
    kind is board or hotline; with it, every post of that source. ``only_units`` keeps the
    records whose replying unit is one of these names (a unit user's own rows).
    """
    lo, hi = period.bounds(zone_of(tz))
    query = (select(Post.id, Post.published_at, Post.reply_at, Post.reply_text != "",
                    Post.reply_unit, Post.topic, Post.title, Post.url, Source.name, Case.id)
             .join(Source, Source.id == Post.source_id)
             .outerjoin(Case, and_(Post.event_id.is_not(None), Case.event_id == Post.event_id))
             .where(or_(and_(Post.published_at >= lo, Post.published_at < hi),
                        and_(Post.published_at.is_(None), Post.collected_at >= lo,
                             Post.collected_at < hi))))
    if source_key:
        query = query.where(Source.key == source_key)
    else:
        query = query.where(or_(Source.kind.in_(MESSAGE_SOURCE_KINDS),
                                Post.source_kind.in_(MESSAGE_POST_KINDS)))
    if only_units is not None:
        names = list(only_units)
        query = query.where(Post.reply_unit.in_(names) if names else false())
    shown = unit_aliases(session)
    return [ReplyRecord(post_id=pid, published_at=published, reply_at=reply_at,
                        replied=bool(has_text) or reply_at is not None,
                        unit=shown.get(unit, unit), topic=topic, title=title or "",
                        url=url or "", source=source, case_id=case_id)
            for pid, published, reply_at, has_text, unit, topic, title, url, source, case_id
            in session.execute(query.order_by(Post.id))]
