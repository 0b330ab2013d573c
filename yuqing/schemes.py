"""Wiring of monitoring schemes and spike alerts: YAML loading, the matcher job, the spike job.

Matching runs as its own scheduler job over posts analysed since a stored high-water mark
(``job_marks``), not inside the analysis step: the step stays as it is (it is being made
crash-safe separately), a scheme that fails never holds up analysis or routing, and the mark
moves in the same transaction as the batch's tags and queued pushes — a crash replays the
batch, and the outbox keys keep every push once.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import selectinload

from nlp.normalize import normalize
from routing.cases import open_or_update_case
from routing.notify.outbox import enqueue, enqueue_direct
from routing.rules import decide
from routing.scheme_alerts import ActiveScheme, PostView, addresses, apply_schemes, case_requests
from routing.schemes import Known, SchemeEntry, SchemeSpec, validate_scheme
from routing.spikes import DEFAULT_RULE, Spike, SpikeRule, detect, due
from store import Case, JobMark, Notification, Post, PostPlace, PostTag, Scheme, Unit
from store.search.query import fold, parse
from yuqing.context import AppContext
from yuqing.ingest import index_doc
from yuqing.settings import ConfigError, ConfigProblem, Settings, _read_yaml, shipped_config_dir

log = logging.getLogger(__name__)

MARK = "schemes"
BATCH = 500
SPIKE_INTERVAL_SECONDS = 600
MATCH_INTERVAL_SECONDS = 10


# -- definitions -----------------------------------------------------------------------------

def known_from_settings(settings: Settings) -> Known:
    return Known(sources=frozenset(s.key for s in settings.sources.sources),
                 topics=frozenset(t.key for t in settings.taxonomy.topics),
                 places=frozenset(settings.jurisdictions.known_codes()),
                 units=frozenset(u.code for u in settings.units.units),
                 channels={c.name: c.kind for c in settings.channels.channels})


def load_yaml_schemes(settings: Settings) -> list[SchemeEntry]:
    """The shipped ``config/schemes.yaml``, replaced by the instance's when it has one."""
    problems: list[ConfigProblem] = []
    path = settings.home / "schemes.yaml"
    if not path.is_file():
        path = shipped_config_dir() / "schemes.yaml"
    if not path.is_file():
        return []
    data = _read_yaml(path, problems)
    if data is None:
        raise ConfigError(problems)
    extra = set(data) - {"schemes"}
    for key in sorted(extra):
        problems.append(ConfigProblem(file=str(path), path=key, reason="不认识的配置项（拼写错误？）"))
    items = data.get("schemes") or []
    if not isinstance(items, list):
        raise ConfigError([ConfigProblem(file=str(path), path="schemes", reason="应为列表")])
    known = known_from_settings(settings)
    out: list[SchemeEntry] = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            problems.append(ConfigProblem(file=str(path), path=f"schemes[{i}]", reason="应为对象"))
            continue
        spec, found = validate_scheme(item, known, entry=True)
        problems += [ConfigProblem(file=str(path), path=f"schemes[{i}].{p.path}".rstrip("."),
                                   reason=p.reason) for p in found]
        if spec is not None:
            assert isinstance(spec, SchemeEntry)
            out.append(spec)
    keys = [s.key for s in out]
    for key in sorted({k for k in keys if keys.count(k) > 1}):
        problems.append(ConfigProblem(file=str(path), path="schemes", reason=f"方案标识 {key!r} 重复定义"))
    if problems:
        raise ConfigError(problems)
    return out


def yaml_scheme_dicts(settings: Settings) -> list[dict[str, Any]]:
    """The YAML schemes for the console's list (read-only there); none when the file is bad
    (``yuqing schemes check`` and the scheduler's start say why)."""
    try:
        return [e.model_dump(mode="json") for e in load_yaml_schemes(settings)]
    except ConfigError as exc:
        log.error("%s", exc)
        return []


def all_schemes(ctx: AppContext, *, enabled_only: bool = True) -> list[tuple[str, SchemeSpec, str]]:
    """(key, spec, origin) of YAML and console schemes; origin is "yaml" or "console"."""
    out: list[tuple[str, SchemeSpec, str]] = [
        (e.key, SchemeSpec.model_validate(e.model_dump(exclude={"key"})), "yaml")
        for e in load_yaml_schemes(ctx.settings)]
    with ctx.db.session() as session:
        for row in session.scalars(select(Scheme).order_by(Scheme.id)):
            try:
                spec = SchemeSpec.model_validate({**row.spec, "name": row.name,
                                                  "owner": row.owner, "enabled": row.enabled})
            except ValueError:
                log.error("监测方案 %s 的定义无效，已跳过", row.key)
                continue
            out.append((row.key, spec, "console"))
    return [s for s in out if s[1].enabled or not enabled_only]


def active(ctx: AppContext) -> list[ActiveScheme]:
    return [ActiveScheme(key, spec, parse(spec.query, normalize))
            for key, spec, _ in all_schemes(ctx)]


# -- matching job ----------------------------------------------------------------------------

def _view(post: Post) -> PostView:
    text = fold(index_doc(post).haystack())  # exactly what the search desk matches
    return PostView(id=post.id, title=post.title or "", text=text, source=post.source.key,
                    source_name=post.source.name, topic=post.topic,
                    places=tuple(p.code for p in post.places), severity=post.severity,
                    at=post.collected_at, published_at=post.published_at, url=post.url or "",
                    event_id=post.event_id, excerpt=normalize(post.text, 400))


@dataclass(frozen=True)
class BatchResult:
    posts: int
    tagged: int
    queued: int
    cases: int


def _text(explanation: Any) -> str:
    return explanation if isinstance(explanation, str) else "\n".join(map(str, explanation))


def _open_cases(ctx: AppContext, requests: dict[int, tuple[int, str]]) -> int:
    if not requests:
        return 0
    from yuqing.casework import event_facts
    from yuqing.jobs import workflow_policy
    from yuqing.routing_setup import routing_config_from_settings

    cfg, policy, made = routing_config_from_settings(ctx.settings), workflow_policy(ctx), 0
    with ctx.db.session() as session:  # an event with a case is the routing step's already
        have = set(session.scalars(select(Case.event_id).where(
            Case.event_id.in_(list(requests)))))
    for event_id, (level, name) in sorted(requests.items()):
        if event_id in have:
            continue
        try:
            event, facts = event_facts(ctx.db, event_id)
            if event is None:
                continue
            now = ctx.now()
            decided = decide(facts, cfg, start=now).for_case()
            decision = replace(decided, explanation=f"监测方案「{name}」命中，按方案设定立案。\n"
                               + _text(decided.explanation))
            severity = min(level, event.severity) if event.severity else level
            made += bool(open_or_update_case(ctx.db, event_id, decision, severity, now,
                                             policy=policy).created)
        except Exception:  # one event must not stop the batch; the next match retries it
            log.exception("监测方案立案失败：事件 %s", event_id)
    return made


def match_batch(ctx: AppContext, schemes: list[ActiveScheme] | None = None,
                limit: int = BATCH) -> BatchResult:
    """One batch of posts analysed after the mark: cases first (idempotent: one per event),
    then tags, pushes and the new mark in one transaction."""
    schemes = active(ctx) if schemes is None else schemes
    kinds = {c.name: c.kind for c in ctx.settings.channels.channels}
    with ctx.db.session() as session:
        mark = session.get(JobMark, MARK)
        query = select(Post).where(Post.analyzed_at.is_not(None))
        if mark is not None and mark.at is not None:
            query = query.where(or_(Post.analyzed_at > mark.at,
                                    and_(Post.analyzed_at == mark.at, Post.id > mark.last_id)))
        posts = session.scalars(query.options(selectinload(Post.source),
                                              selectinload(Post.places))
                                .order_by(Post.analyzed_at, Post.id).limit(limit)).all()
        if not posts:
            return BatchResult(0, 0, 0, 0)
        last_at, last_id = posts[-1].analyzed_at, posts[-1].id
        if not schemes:  # nothing to match: only move the mark
            mark = mark or JobMark(name=MARK)
            mark.at, mark.last_id = last_at, last_id
            session.add(mark)
            return BatchResult(len(posts), 0, 0, 0)
        views = [_view(p) for p in posts]
    cases = _open_cases(ctx, case_requests(schemes, views))
    with ctx.db.session() as session:
        outcome = apply_schemes(session, schemes, views, kinds=kinds,
                                tz=ctx.settings.tz, now=ctx.now())
        mark = session.get(JobMark, MARK) or JobMark(name=MARK)
        mark.at, mark.last_id = last_at, last_id
        session.add(mark)
    return BatchResult(len(views), outcome.tagged, outcome.queued, cases)


def schemes_job(ctx: AppContext) -> int:
    """Match every post analysed since the mark; returns how many posts were looked at."""
    try:
        schemes = active(ctx)
    except ConfigError as exc:
        log.error("监测方案配置有误，本轮跳过：%s", exc)
        return 0
    total = 0
    while (result := match_batch(ctx, schemes)).posts:
        total += result.posts
    return total


# -- spikes ----------------------------------------------------------------------------------

def spike_series(ctx: AppContext, now: datetime, rule: SpikeRule
                 ) -> dict[str, tuple[str, list[datetime]]]:
    """Arrival times per key over the baseline span: per scheme, per topic, per place·topic."""
    since = now - timedelta(days=rule.days, hours=1)
    topics = {t.key: t.name for t in ctx.settings.taxonomy.topics}
    places = {p.code: p.name for p in ctx.settings.jurisdictions.home_places()}
    names = {key: spec.name for key, spec, _ in all_schemes(ctx)}
    series: dict[str, tuple[str, list[datetime]]] = {}

    def add(key: str, label: str, at: datetime) -> None:
        series.setdefault(key, (label, []))[1].append(at)

    with ctx.db.session() as session:
        rows = session.execute(select(Post.id, Post.collected_at, Post.topic)
                               .where(Post.collected_at >= since, Post.collected_at < now,
                                      Post.analyzed_at.is_not(None))).all()
        place_rows = session.execute(
            select(PostPlace.post_id, PostPlace.code).join(Post, Post.id == PostPlace.post_id)
            .where(Post.collected_at >= since, Post.collected_at < now)).all()
        tag_rows = session.execute(
            select(PostTag.scheme_key, Post.collected_at).join(Post, Post.id == PostTag.post_id)
            .where(Post.collected_at >= since, Post.collected_at < now)).all()
    post_places: dict[int, set[str]] = defaultdict(set)
    for post_id, code in place_rows:
        if code in places and code != ctx.settings.jurisdictions.home.code:
            post_places[post_id].add(code)
    for post_id, at, topic in rows:
        if not topic or topic not in topics:
            continue
        add(f"topic:{topic}", topics[topic], at)
        for code in post_places.get(post_id, ()):
            add(f"place_topic:{code}/{topic}", f"{places[code]}·{topics[topic]}", at)
    for key, at in tag_rows:
        if key in names:
            add(f"scheme:{key}", f"监测方案「{names[key]}」", at)
    return series


def queue_spike(ctx: AppContext, spike: Spike, now: datetime) -> int:
    """Tell the monitors (console and their channels) and a scheme's own subscribers."""
    hour = spike.hour.isoformat()
    subject = f"【异动】{spike.why}"
    body = "\n".join([spike.why, f"时间窗：截至 {now.astimezone(ctx.settings.tz):%m月%d日 %H:%M} 的近 1 小时",
                      "基线：前 14 天同一时段的中位数（稳健估计：中位数与 MAD）"])
    payload: dict[str, Any] = {"link": "/queue", "spike": spike.key, "current": spike.current,
                               "baseline": spike.baseline}
    made = 0
    with ctx.db.session() as session:
        last = session.scalar(select(func.max(Notification.created_at)).where(
            Notification.idempotency_key.startswith(f"case:None:spike:{spike.key}:",
                                                    autoescape=True),
            Notification.created_at <= now))
        if not due(last, now):
            return 0
        coordinator = session.scalar(select(Unit).where(
            Unit.code == ctx.settings.routing.coordinator))
        if coordinator is not None:
            made += enqueue(session, case_id=None, change=f"spike:{spike.key}:{hour}",
                            recipients=[f"monitors:{coordinator.id}"], subject=subject,
                            body=body, payload=payload, now=now)
        if spike.key.startswith("scheme:"):
            key = spike.key.removeprefix("scheme:")
            spec = next((s for k, s, _ in all_schemes(ctx) if k == key), None)
            kinds = {c.name: c.kind for c in ctx.settings.channels.channels}
            for channel, to in addresses(session, spec, kinds) if spec else []:
                made += enqueue_direct(session, key=("spike", spike.key, hour, channel, to),
                                       channel=channel, recipient=to, subject=subject,
                                       body=body, payload=payload, now=now)
    return made


def handle_spikes(ctx: AppContext, now: datetime | None = None,
                  rule: SpikeRule = DEFAULT_RULE) -> list[Spike]:
    """Detect spikes at ``now`` and queue their alerts (once per key and hour)."""
    at = now or ctx.now()
    spikes = detect(spike_series(ctx, at, rule), at, rule)
    for spike in spikes:
        queue_spike(ctx, spike, at)
    return spikes


def spikes_job(ctx: AppContext) -> int:
    found = handle_spikes(ctx)
    for spike in found:
        log.warning("异动：%s", spike.why)
    return len(found)


def add_scheme_jobs(scheduler: Any, ctx: AppContext) -> None:
    load_yaml_schemes(ctx.settings)  # a bad schemes.yaml stops the start, like other config
    common = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 300}
    scheduler.add_job(schemes_job, "interval", seconds=MATCH_INTERVAL_SECONDS, args=[ctx],
                      id="schemes", **common)
    scheduler.add_job(spikes_job, "interval", seconds=SPIKE_INTERVAL_SECONDS, args=[ctx],
                      id="spikes", **common)
