"""The analysis step: stored posts get their analysis, places and events, across restarts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from store import Database, Event, Post, PostPlace, Source
from store.search import SearchQuery
from yuqing.analysis import AnalysisStep
from yuqing.context import AppContext
from yuqing.ingest import Ingestor

FIXED = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # "now" for every test here: a Monday 10:00
T0 = FIXED - timedelta(hours=3)

FIRE = ("谷里街道一家家具厂今天上午发生火灾，现场浓烟滚滚，消防已到场扑救，"
        "据目击者称有两名工人受伤被送往医院。")
REPOST = "转发扩散！" + FIRE
OTHER = "麒麟街道某小区物业擅自上调停车费，业主多次反映无果，希望有关部门查处。"


@pytest.fixture(autouse=True)
def fixed_clock(ctx: AppContext) -> None:
    ctx.clock = lambda: FIXED


@pytest.fixture
def source(db: Database) -> str:
    with db.session() as s:
        s.add(Source(key="weibo", name="微博", kind="json_api", source_kind="social",
                     authority="user", default_place="320115"))
    return "weibo"


def _ingest(ctx: AppContext, items: list[dict]) -> list[int]:
    report = Ingestor(ctx.db, ctx.index, clock=ctx.clock).ingest(items)
    assert not report.rejected, report.rejected
    return report.post_ids


@pytest.mark.slow
def test_posts_get_analysis_places_and_one_event_per_incident(ctx: AppContext,
                                                              source: str) -> None:
    _ingest(ctx, [
        {"source": source, "external_id": "1", "text": FIRE, "published_at": T0, "reposts": 300},
        {"source": source, "external_id": "2", "text": REPOST,
         "published_at": T0 + timedelta(minutes=20)},
        {"source": source, "external_id": "3", "text": OTHER, "published_at": T0},
    ])
    step = AnalysisStep(ctx)
    assert step.pending() == 3
    assert step.pending() == 0  # nothing left: the job is idempotent
    with ctx.db.session() as s:
        posts = {p.external_id: p for p in s.scalars(select(Post))}
        fire, repost, other = posts["1"], posts["2"], posts["3"]
        assert fire.topic == "work_safety" and fire.severity is not None
        assert fire.analysis["severity"]["factors"]  # reasons are kept for the console
        assert fire.event_id == repost.event_id != other.event_id
        codes = set(s.scalars(select(PostPlace.code).where(PostPlace.post_id == fire.id)))
        assert "320115009" in codes  # 谷里街道
        event = s.get(Event, fire.event_id)
        assert (event.post_count, event.first_post_id) == (2, fire.id)
        assert event.severity == min(fire.severity, repost.severity or 9)
        assert event.keywords and event.summary
    # the index now carries the analysis: filter by topic and by the street
    step_index = ctx.index
    assert step_index.search(SearchQuery(topics=["work_safety"])).total == 2
    assert step_index.search(SearchQuery(place="320115009")).total >= 1


@pytest.mark.slow
def test_a_batch_stored_at_once_counts_sources_and_replaces_places_on_reanalysis(
        ctx: AppContext, source: str) -> None:
    with ctx.db.session() as s:
        s.add(Source(key="forum", name="论坛", kind="json_api", source_kind="forum",
                     authority="user"))
    _ingest(ctx, [
        {"source": source, "external_id": "1", "text": FIRE, "published_at": T0},
        {"source": "forum", "external_id": "2", "text": REPOST,
         "published_at": T0 + timedelta(minutes=5)},
        {"source": source, "external_id": "3", "text": "扩散！！" + FIRE,
         "published_at": T0 + timedelta(minutes=9)},
    ])
    step = AnalysisStep(ctx)
    assert step.pending() == 3
    with ctx.db.session() as s:
        fire = s.scalar(select(Post).where(Post.external_id == "1"))
        places = sorted(s.scalars(select(PostPlace.code).where(PostPlace.post_id == fire.id)))
        event = s.get(Event, fire.event_id)
        assert (event.post_count, event.source_count) == (3, 2)
        assert event.topic == "work_safety" and event.routing_pending is True
        assert event.title and event.first_post_id == fire.id
        fire.analyzed_at = None  # edited: analysed again by the next run
    assert step.pending() == 1
    with ctx.db.session() as s:
        again = sorted(s.scalars(select(PostPlace.code).where(PostPlace.post_id == fire.id)))
        assert again == places  # replaced, not added a second time
        assert s.get(Event, fire.event_id).post_count == 3


@pytest.mark.slow
def test_after_a_restart_a_follow_up_joins_the_stored_event(ctx: AppContext,
                                                            source: str) -> None:
    _ingest(ctx, [{"source": source, "external_id": "1", "text": FIRE, "published_at": T0}])
    AnalysisStep(ctx).pending()
    # a new process: the in-memory event index is rebuilt from the database
    _ingest(ctx, [{"source": source, "external_id": "9", "text": "又一位网友转发：" + FIRE,
                   "published_at": T0 + timedelta(hours=1)}])
    fresh = AnalysisStep(ctx)
    assert fresh.pending() == 1
    with ctx.db.session() as s:
        events = set(s.scalars(select(Post.event_id)))
        assert len(events) == 1
        assert s.get(Event, events.pop()).post_count == 2


@pytest.mark.slow
def test_the_step_dates_its_work_and_its_event_window_by_the_context_clock(
        ctx: AppContext, source: str) -> None:
    from yuqing.pipeline import build_ingestor

    ingestor = build_ingestor(ctx)
    ingestor.ingest([{"source": source, "external_id": "1", "text": FIRE,
                      "published_at": FIXED - timedelta(hours=3)}])
    AnalysisStep(ctx).pending()
    with ctx.db.session() as s:
        post = s.scalar(select(Post))
        assert post.collected_at.replace(tzinfo=UTC) == FIXED
        assert post.analyzed_at.replace(tzinfo=UTC) == FIXED
    # a restart at the same instant replays the window counted back from the clock, so a
    # follow-up joins the stored event whatever the wall clock says
    ingestor.ingest([{"source": source, "external_id": "9", "text": "又一位网友转发：" + FIRE,
                      "published_at": FIXED - timedelta(hours=1)}])
    assert AnalysisStep(ctx).pending() == 1
    with ctx.db.session() as s:
        assert len(set(s.scalars(select(Post.event_id)))) == 1
