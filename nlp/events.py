"""Online clustering of posts into events (舆情事件), the unit a case is opened on.

An event is one incident: its posts, their reposts and its follow-ups. ``EventIndex``
implements the ``EventAssigner`` protocol of ``nlp.types``. For each post:

1. exact or near duplicate (``nlp.dedupe``) of a known post: it joins that post's event, however
   old, as long as the event is still held (the same matter reported again is merged, 并单) -
   unless both leads name a facility and not the same one (a template look-alike, no repost);
2. otherwise it joins the most similar event whose first post is within ``window_hours`` if
   the score reaches ``join_threshold``: cosine of TF-IDF term vectors (jieba's IDF table; the
   lead counts double; place words removed so that sharing a street is not enough), +0.1 for
   the same street/township, +/-0.08 when the leads name the same / different compounds or
   firms; another district or another street (both named) never joins, nor an event whose
   lead names another facility (湖勇小学 / 伟桥社区: ``event_terms.facilities``). A follow-up
   joins at ``FOLLOW_UP_THRESHOLD`` when its lead names the event's facility and a word of
   its matter, or has a signal word such as 转发, 后续, 最新, 进展, 又, 仍未 and is of the same
   street, shares words and names no other compound or firm;
3. otherwise it opens a new event whose id comes from ``id_factory``.

The window runs from an event's first post, not its latest: look-alikes of a street (the same
complaint about other facilities) used to keep an event open for days, each joining within the
window of the one before (snowball). Only a post naming the event's own facility extends it.

Measured on the generated set of ``bench/bench_places_events.py`` (look-alike incidents from
the same templates in the same streets, 30 s apart): pairwise precision 0.99 at 10k and 30k
posts (0.47 and 0.16 before the facility rule), recall about 0.97.

Memory follows the window, not the history: every ``prune_every`` posts the index forgets the
events quiet since a window before the oldest of the last ``recent_posts`` posts (see
``_seen``), and their posts leave the duplicate index. After a restart the index is rebuilt
from stored posts with ``add_known``. ``summary`` gives
what a monitor sees (溯源 first source, counts, sources, hourly trend, keywords, one line) and
``stats`` what severity needs (posts per hour, distinct sources).
"""

from __future__ import annotations

import heapq
import itertools
import re
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from nlp.dedupe import NearDuplicateIndex
from nlp.event_terms import (  # noqa: F401  (re-exported: tests and benchmarks import them)
    FACILITY_KIN,
    LEAD_BOOST,
    PROPER_TAGS,
    _one_line,
    _specific,
    _unit,
    content_terms,
    facilities,
    idf_table,
    lead_of,
    proper_nouns,
    tfidf,
)
from nlp.types import EventRef, PlaceMatch, PostInput

SPECIFIC_BONUS = 0.08
# A post whose lead says it continues something (转发, 后续, 最新, 进展, 又, 仍未, 第六天 …)
# joins an event of the same street at this lower score, when it shares at least
# FOLLOW_UP_SHARED content words and names no other compound or firm. Reposts that add
# their own details (老人滑倒, 菜市场) score 0.3–0.45 against the original; lowering the
# general threshold instead merges different incidents of one street.
FOLLOW_UP = re.compile(r"转发|扩散|后续|续报|最新|进展|追踪|跟进|再次|又|仍|还没|还是没|依然|依旧|"
                       r"至今|持续|第[0-9一二三四五六七八九十]+天")
FOLLOW_UP_THRESHOLD = 0.25
SAME_STREET = "地点相同（同一乡镇/街道）"
FOLLOW_UP_SHARED = 2
# Pruning: how many recent post times bound the cut, and how often to cut (see ``_seen``).
RECENT_POSTS = 2048
PRUNE_EVERY = 512


@dataclass(slots=True)
class EventSummary:
    id: str
    first_post_id: str  # 溯源: the earliest post known for this event
    first_source: str
    first_url: str
    first_at: datetime
    last_at: datetime
    post_count: int
    sources: dict[str, int]  # source -> posts, most first
    hourly: list[tuple[str, int]]  # ("2026-11-22T08:00+00:00", posts), oldest first
    keywords: list[str]
    summary: str  # one line
    places: list[str]  # place codes, most mentioned first

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["first_at"] = self.first_at.isoformat()
        out["last_at"] = self.last_at.isoformat()
        return out


@dataclass(slots=True)
class EventStats:
    """What severity needs about an event's spread, as of ``now``."""

    post_count: int
    distinct_sources: int
    posts_last_hour: int
    peak_posts_per_hour: int
    posts_per_hour: float  # average over the hours since the first post (at least one)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class _Event:
    id: str
    first_at: datetime
    last_at: datetime
    first_post: str = ""
    first_source: str = ""
    first_url: str = ""
    first_text: str = ""
    first_title: str = ""
    posts: list[str] = field(default_factory=list)
    times: list[datetime] = field(default_factory=list)
    sources: Counter = field(default_factory=Counter)
    hourly: Counter = field(default_factory=Counter)
    terms: Counter = field(default_factory=Counter)
    centroid: dict[str, float] = field(default_factory=dict)
    places: Counter = field(default_factory=Counter)
    # Where the event happens: the local places of its first post that named any. Fixed, so a
    # wrongly joined post cannot widen the event and pull in more (no snowball).
    anchor: frozenset[str] = frozenset()
    lead_names: frozenset[str] = frozenset()  # specific words in the first post's lead
    # The named facilities (湖勇小学) of the first post that named any, and the words of that
    # post's lead (what happened there): fixed like the anchor.
    facilities: frozenset[str] = frozenset()
    facility_lead: frozenset[str] = frozenset()
    # posts[:deduped_upto] left the duplicate index (older than the cut, event still held)
    deduped_upto: int = 0


class EventIndex:
    """In-memory online event clustering; see the module docstring for the rules.

    ``id_factory`` makes new event ids (the app passes one that inserts an event row and returns
    its id); ``clock`` gives "now" for posts without ``published_at``. Naive datetimes are taken
    as UTC. Thread-safe: one lock around every change.
    """

    def __init__(self, window_hours: float = 72.0, join_threshold: float = 0.5,
                 id_factory: Callable[[], str] | None = None,
                 dedupe: NearDuplicateIndex | None = None,
                 clock: Callable[[], datetime] | None = None, centroid_terms: int = 80,
                 recent_posts: int = RECENT_POSTS, prune_every: int = PRUNE_EVERY) -> None:
        self.window = timedelta(hours=window_hours)
        self.join_threshold = join_threshold
        counter = itertools.count(1)
        self._new_id = id_factory or (lambda: f"E{next(counter)}")
        self.dedupe = dedupe or NearDuplicateIndex()
        self._clock = clock or (lambda: datetime.now(UTC))
        self.centroid_terms = centroid_terms
        self._events: dict[str, _Event] = {}
        self._event_of: dict[str, str] = {}
        self._by_term: dict[str, set[str]] = {}
        self._lock = threading.Lock()
        # Times of the last posts seen: events quiet for a window before the oldest of them
        # can join no post any more (by similarity) and are forgotten, so memory and the
        # candidates scored per post follow the window, not the history.
        self._recent: deque[datetime] = deque(maxlen=max(1, recent_posts))
        self._prune_every = max(1, prune_every)
        self._since_prune = 0

    # -- EventAssigner ---------------------------------------------------------------
    def assign(self, post: PostInput, normalized_text: str, tokens: list[str],
               places: list[PlaceMatch]) -> EventRef:
        body = normalized_text or post.text or ""
        facts = _facts(post.id, _utc(post.published_at or self._clock()), post.source,
                       post.url, post.title or "", body, tokens or [], places or [])
        with self._lock:
            if post.id in self._event_of:
                ev = self._events[self._event_of[post.id]]
                return EventRef(ev.id, False, None, 1.0, [f"帖子 {post.id} 已在事件 {ev.id} 中"])
            self._seen(facts.at)
            # a template look-alike naming another facility (回应国凤小学… / 回应国凤社区…)
            # is no repost, however many characters it shares
            dups = [d for d in self.dedupe.add(post.id, facts.full_text)
                    if d.key in self._event_of
                    and self._same_facility(facts, self._events[self._event_of[d.key]])]
            if dups:
                dup = dups[0]
                ev = self._events[self._event_of[dup.key]]
                self._add(ev, facts)
                return EventRef(ev.id, False, dup.key, dup.score,
                                [dup.reason(), f"并入其所在事件 {ev.id}（并单）"])
            # scored once: the follow-up rule reads the same candidates
            other_places: list[_Event] = []  # candidates naming another facility
            scored = list(self._scored(facts, other_places))
            best, score, why = self._best_event(facts, scored)
            if best is not None and score >= self.join_threshold:
                self._add(best, facts)
                return EventRef(best.id, False, None, round(score, 3), [
                    *why, f"相似度 {score:.2f} ≥ {self.join_threshold}，并入事件 {best.id}"])
            follow = self._follow_up_of(facts, scored)
            if follow is not None:
                ev, f_score, f_why = follow
                self._add(ev, facts)
                return EventRef(ev.id, False, None, round(f_score, 3), [
                    *f_why, f"后续/转发信息，相似度 {f_score:.2f} ≥ {FOLLOW_UP_THRESHOLD}，"
                    f"并入事件 {ev.id}"])
            ev = self._open(self._new_id(), facts.at)
            self._add(ev, facts)
            hours = self.window.total_seconds() / 3600
            reason = f"{hours:g} 小时内无相似事件，新建事件 {ev.id}"
            if best is not None:
                reason = (f"最相似的事件 {best.id} 相似度仅 {score:.2f}（{'；'.join(why)}），"
                          f"低于 {self.join_threshold}，新建事件 {ev.id}")
            reasons = [reason]
            if other_places:
                other = other_places[0]
                reasons.insert(0, f"开头所提专名不同：本帖提到{'、'.join(sorted(facts.facilities))}，"
                                  f"事件 {other.id} 是{'、'.join(sorted(other.facilities))}，"
                                  "不是同一事件")
            return EventRef(ev.id, True, None, round(max(score, 0.0), 3), reasons)

    # -- rebuild after restart -------------------------------------------------------
    def add_known(self, post_id: str, event_id: str, text: str, tokens: list[str],
                  places: list[PlaceMatch], at: datetime, source: str = "", url: str = "",
                  title: str = "") -> None:
        """Put back a stored post with the event it belongs to (no clustering decision)."""
        facts = _facts(post_id, _utc(at), source, url, title, text, tokens, places)
        with self._lock:
            if post_id in self._event_of:
                return
            self._seen(facts.at)
            self.dedupe.add(post_id, facts.full_text)
            ev = self._events.get(event_id) or self._open(event_id, facts.at)
            self._add(ev, facts)

    def rename(self, old: str, new: str) -> None:
        """Give an event another id (the app stores new events in bulk and learns their
        database ids after clustering the batch). KeyError if ``old`` is unknown."""
        with self._lock:
            ev = self._events.pop(old)
            self._unindex(old, ev.centroid)
            ev.id = new
            self._events[new] = ev
            self._index(new, ev.centroid)
            for pid in ev.posts:
                if self._event_of.get(pid) == old:
                    self._event_of[pid] = new

    def prune(self, before: datetime) -> int:
        """Forget events quiet since ``before`` (their posts leave the duplicate index too)."""
        with self._lock:
            return self._prune(_utc(before))

    def _prune(self, before: datetime) -> int:
        old = []
        for ev in self._events.values():
            if ev.last_at < before:
                old.append(ev)
            elif ev.first_at < before:
                # a long-lived event keeps its recent posts as duplicate targets, not all of
                # its history: memory stays bounded by the window however long it lives
                i, times = ev.deduped_upto, ev.times
                while i < len(times) and times[i] < before:
                    self.dedupe.remove(ev.posts[i])
                    i += 1
                ev.deduped_upto = i
        for ev in old:
            for pid in ev.posts:
                self._event_of.pop(pid, None)
                self.dedupe.remove(pid)
            self._unindex(ev.id, ev.centroid)
            del self._events[ev.id]
        return len(old)

    def _seen(self, at: datetime) -> None:
        """Note a post's time; now and then forget the events no coming post can join.

        The cut is a window before the oldest of the last ``recent_posts`` posts, not before
        the newest: a backfill of older posts arriving after today's keeps its own events.
        An event that got one of those posts is never cut, so every event a batch touched is
        still here when the batch is stored. What goes is what a restart would not reload.
        """
        self._recent.append(at)
        self._since_prune += 1
        if self._since_prune >= self._prune_every:
            self._since_prune = 0
            self._prune(min(self._recent) - self.window)

    # -- reading ---------------------------------------------------------------------
    def event_of(self, post_id: str) -> str | None:
        return self._event_of.get(post_id)

    def event_ids(self) -> list[str]:
        with self._lock:
            return list(self._events)

    def summary(self, event_id: str, keywords: int = 8) -> EventSummary:
        """What a monitor sees about an event; keywords ranked by jieba TF-IDF. KeyError if unknown."""
        table, median = idf_table()
        with self._lock:
            ev = self._get(event_id)
            # nsmallest is sorted(...)[:n] (ties in the same order) without sorting every term
            ranked = heapq.nsmallest(keywords, ev.terms.items(),
                                     key=lambda kv: -kv[1] * table.get(kv[0], median))
            top = [t for t, _ in ranked]
            return self._summary(ev, top)

    def _summary(self, ev: _Event, top: list[str]) -> EventSummary:
        return EventSummary(
            id=ev.id, first_post_id=ev.first_post, first_source=ev.first_source,
            first_url=ev.first_url, first_at=ev.first_at, last_at=ev.last_at,
            post_count=len(ev.posts), sources=dict(ev.sources.most_common()),
            hourly=[(h.isoformat(timespec="minutes"), n) for h, n in sorted(ev.hourly.items())],
            keywords=top, summary=_one_line(ev.first_title, ev.first_text, top),
            places=[c for c, _ in ev.places.most_common()])

    def stats(self, event_id: str, now: datetime | None = None) -> EventStats:
        """Spread of an event for severity: counts, distinct sources and posting rate.

        ``posts_last_hour`` counts posts in (now - 1 h, now]; ``posts_per_hour`` is the mean
        since the first post (over at least one hour). KeyError if the event is unknown.
        """
        now = _utc(now or self._clock())
        with self._lock:
            ev = self._get(event_id)
            return self._stats(ev, now)

    @staticmethod
    def _stats(ev: _Event, now: datetime) -> EventStats:
        hours = max(1.0, (now - ev.first_at).total_seconds() / 3600)
        return EventStats(
            post_count=len(ev.posts), distinct_sources=len(ev.sources),
            posts_last_hour=sum(1 for t in ev.times if now - timedelta(hours=1) < t <= now),
            peak_posts_per_hour=max(ev.hourly.values(), default=0),
            posts_per_hour=round(len(ev.posts) / hours, 3))

    # -- internals -------------------------------------------------------------------
    def _get(self, event_id: str) -> _Event:
        ev = self._events.get(event_id)
        if ev is None:
            raise KeyError(f"未知事件 {event_id}")
        return ev

    def _open(self, event_id: str, at: datetime) -> _Event:
        ev = _Event(id=str(event_id), first_at=at, last_at=at)
        self._events[ev.id] = ev
        return ev

    def _add(self, ev: _Event, f: _Facts) -> None:
        if not ev.posts or f.at < ev.first_at:
            ev.first_at, ev.first_post, ev.first_source = f.at, f.post_id, f.source
            ev.first_url, ev.first_text, ev.first_title = f.url, f.text, f.title
        ev.last_at = max(ev.last_at, f.at)
        ev.posts.append(f.post_id)
        ev.times.append(f.at)
        ev.sources[f.source or "未知来源"] += 1
        ev.hourly[_hour(f.at)] += 1
        ev.terms.update(f.terms)
        n = len(ev.posts)
        merged = {t: w * (n - 1) / n for t, w in ev.centroid.items()}
        for t, w in f.vec.items():
            merged[t] = merged.get(t, 0.0) + w / n
        top = sorted(merged.items(), key=lambda kv: -kv[1])[: self.centroid_terms]
        old, ev.centroid = ev.centroid, _unit(dict(top))
        # the term map changes only where the centroid's terms did (most stay)
        self._unindex(ev.id, old.keys() - ev.centroid.keys())
        self._index(ev.id, ev.centroid.keys() - old.keys())
        ev.places.update(sorted(f.local))  # equal counts keep code order, not the hash seed's
        if not ev.anchor and f.local:
            ev.anchor = frozenset(f.local)
        if not ev.lead_names:
            ev.lead_names = f.names
        if not ev.facilities and f.facilities:
            ev.facilities, ev.facility_lead = f.facilities, f.lead_terms
        self._event_of[f.post_id] = ev.id

    @staticmethod
    def _same_facility(f: _Facts, ev: _Event) -> bool:
        """False when both name facilities and none is the same (another incident)."""
        return not (f.facilities and ev.facilities) or bool(_same_places(f.facilities,
                                                                         ev.facilities))

    def _index(self, event_id: str, terms: Iterable[str]) -> None:
        by_term = self._by_term
        for term in terms:
            by_term.setdefault(term, set()).add(event_id)

    def _unindex(self, event_id: str, terms: Iterable[str]) -> None:
        by_term = self._by_term
        for term in terms:
            ids = by_term.get(term)
            if ids is not None:
                ids.discard(event_id)
                if not ids:
                    del by_term[term]  # the term map stays as small as the events held

    def _best_event(self, f: _Facts, scored: list[tuple[_Event, float, list[str]]]
                    ) -> tuple[_Event | None, float, list[str]]:
        best, best_score, best_why = None, -1.0, []
        for ev, score, why in scored:
            if score > best_score:
                best, best_score, best_why = ev, score, why
        if best is not None:
            shared = sorted((t for t in f.vec if t in best.centroid), key=lambda t: -f.vec[t])
            best_why = [f"与事件 {best.id} 的共同词：{'、'.join(shared[:5]) or '无'}", *best_why]
        return best, best_score, best_why

    def _scored(self, f: _Facts, other_places: list[_Event] | None = None
                ) -> Iterator[tuple[_Event, float, list[str]]]:
        """(event, score, reasons) of the events within the window that places and facilities
        allow; the events left out for naming another facility go to ``other_places``."""
        candidates: set[str] = set()
        for term, _ in sorted(f.vec.items(), key=lambda kv: -kv[1])[:8]:
            candidates |= self._by_term.get(term, set())
        # the window as two bounds, computed once: the test per candidate is two comparisons
        lo, hi = f.at - self.window, f.at + self.window
        vec, events = f.vec, self._events
        terms = vec.keys()
        order = f.order
        for eid in sorted(candidates):
            ev = events[eid]
            if ev.last_at < lo or ev.first_at > hi:
                continue
            # The window runs from the event's first post, not its latest: look-alikes joining
            # one by one must not keep an event open for ever (snowball). Only a post naming
            # the event's own facility extends it (停水第六天 at the same compound).
            same_place = _same_places(f.facilities, ev.facilities)  # read three times below
            if ev.first_at < lo and not same_place:
                continue
            if f.local and ev.anchor:
                rule = _place_rule(f.local, ev.anchor)
                if rule is None:
                    continue  # another district, or another street: another incident
                why = list(rule)
            else:
                why = []
            if f.facilities and ev.facilities and not same_place:
                if other_places is not None:
                    other_places.append(ev)
                continue  # both name the facility, and not the same one: another incident
            centroid = ev.centroid
            # shared terms found in C, summed in the post's term order: the same floats as
            # summing over every term of the post, in a fraction of the time
            shared = sorted(terms & centroid.keys(), key=order.__getitem__)
            score = sum(vec[t] * centroid[t] for t in shared)
            if why:
                score += 0.1
            shared_names = f.names & ev.lead_names
            if shared_names:
                score += SPECIFIC_BONUS
                why.append(f"开头提到同一专名：{'、'.join(sorted(shared_names)[:3])}")
            elif f.names and ev.lead_names:
                # Both leads name something specific (a compound, a firm) and not the same.
                score -= SPECIFIC_BONUS
                why.append("开头所提专名不同")
            if same_place:
                why.append(f"开头提到同一场所：{'、'.join(sorted(same_place)[:3])}")
            yield ev, score, why

    def _follow_up_of(self, f: _Facts, scored: list[tuple[_Event, float, list[str]]]
                      ) -> tuple[_Event, float, list[str]] | None:
        """The event this post follows up, or None: one of the same street when the lead has a
        signal word (see FOLLOW_UP), or one whose facility the lead names (翠屏山小区) when a
        word of the matter is shared too (电梯), not just the facility's name."""
        best: tuple[_Event, float, list[str]] | None = None
        if f.facilities:
            for ev, score, why in scored:
                if score < FOLLOW_UP_THRESHOLD or (best is not None and score <= best[1]):
                    continue
                same = _same_places(f.facilities, ev.facilities)
                matter = _shared_matter(f, ev, same) if same else ""
                if matter:
                    best = (ev, score, [f"与事件 {ev.id} 的共同词：{matter}", *why])
        if best is not None or not f.follow_up or not f.local:
            return best
        for ev, score, why in scored:
            if SAME_STREET not in why or "开头所提专名不同" in why:
                continue  # not the same street, or another compound or firm
            shared = [t for t in f.vec if t in ev.centroid]
            if len(shared) < FOLLOW_UP_SHARED or score < FOLLOW_UP_THRESHOLD:
                continue
            if best is None or score > best[1]:
                best = (ev, score, [f"与事件 {ev.id} 的共同词：{'、'.join(shared[:5])}", *why,
                                    f"开头有后续信号词「{f.follow_up}」"])
        return best


def _shared_matter(f: _Facts, ev: _Event, same: frozenset[str]) -> str:
    """A word of the post's lead, not part of the shared facility's name, that the lead of
    the event's post naming it has too (one may contain the other: 垃圾清运 / 垃圾、清运), or
    "". The same compound with another matter (停水 / 电梯困人) shares only its name."""
    theirs = [t for t in ev.facility_lead if not any(t in name for name in same)]
    for t in sorted(f.lead_terms):
        if any(t in name for name in same):
            continue
        for u in theirs:
            if t == u or u in t or t in u:
                return t
    return ""


def _same_places(mine: frozenset[str], theirs: frozenset[str]) -> frozenset[str]:
    """The facilities of ``mine`` that ``theirs`` names too. A name may come with more or
    fewer words before it (金鹰天地小区 / 天地小区): one ending with the other is the same, and
    so is another word for its kind (翠屏山小区 / 翠屏山社区, see ``FACILITY_KIN``)."""
    if not mine or not theirs:
        return frozenset()
    same = mine & theirs
    if same:
        return same
    return frozenset(a for a in mine for b in theirs
                     if _kin(a).endswith(_kin(b)) or _kin(b).endswith(_kin(a)))


@lru_cache(maxsize=65536)
def _kin(facility: str) -> str:
    """The facility with its kind word made canonical (翠屏山社区 -> 翠屏山小区)."""
    for kind, canonical in FACILITY_KIN.items():
        if facility.endswith(kind) and len(facility) > len(kind) + 1:
            return facility[: -len(kind)] + canonical
    return facility


@lru_cache(maxsize=65536)
def _place_rule(mine: frozenset[str], anchor: frozenset[str]) -> tuple[str, ...] | None:
    """None: places exclude the event; ("...",): same street (bonus); (): no evidence.

    A post is compared with every candidate event and the same few place sets recur: cached
    per pair (a tuple, so a caller's reasons list never aliases the cache).
    """
    if not mine or not anchor:
        return ()
    if mine & anchor and any(len(c) > 6 for c in mine & anchor):
        return (SAME_STREET,)
    if not {c[:6] for c in mine}.intersection(c[:6] for c in anchor):
        return None
    if any(len(c) > 6 for c in mine) and any(len(c) > 6 for c in anchor):
        return None
    return ()


@dataclass(slots=True, frozen=True)
class _Facts:
    """What clustering needs from one post, computed once outside the lock."""

    post_id: str
    at: datetime
    source: str
    url: str
    title: str
    text: str
    terms: list[str]
    vec: dict[str, float]
    local: frozenset[str]
    names: frozenset[str]
    follow_up: str = ""  # the follow-up signal word in the lead, if any
    order: dict[str, int] = field(default_factory=dict)  # term -> position in vec
    facilities: frozenset[str] = frozenset()  # named facilities in the lead (湖勇小学)
    lead_terms: frozenset[str] = frozenset()  # content terms of the lead, when it names one

    @property
    def full_text(self) -> str:
        return "\n".join(x for x in (self.title, self.text) if x)


def _facts(post_id: str, at: datetime, source: str, url: str, title: str, text: str,
           tokens: list[str], places: list[PlaceMatch]) -> _Facts:
    terms = content_terms(tokens, places)
    lead = lead_of(title, text)
    names = frozenset(t for t in terms if t in lead and _specific(t))
    signal = FOLLOW_UP.search(lead)
    vec = _unit(tfidf(terms, lead))
    named = facilities(tokens, lead)
    return _Facts(post_id, at, source, url, title, text, terms, vec,
                  frozenset(_local(places)), names, signal.group(0) if signal else "",
                  {t: i for i, t in enumerate(vec)}, named,
                  frozenset(t for t in terms if t in lead) if named else frozenset())


def _local(places: list[PlaceMatch]) -> set[str]:
    """District, township and village codes: where an incident happens, not just the city."""
    return {p.code for p in places if p.level in ("district", "township", "village")}


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _hour(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)

