"""The whole flow in the leader: stored posts -> analysis -> events -> routing -> one case."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from store import Assignment, Case, CaseAction, Notification, Post, Source, Unit
from yuqing.context import AppContext
from yuqing.ingest import Ingestor
from yuqing.scheduler import analysis_job

FIXED = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # "now" for every test here
T0 = FIXED - timedelta(hours=2)
FIRE = ("谷里街道一家家具厂今天上午发生火灾，现场浓烟滚滚，消防已到场扑救，"
        "据目击者称有两名工人受伤被送往医院，附近居民担心有毒气体。")
PRAISE = "点赞江宁！麒麟街道新开的社区食堂价格实惠味道好，老人吃饭方便多了"


@pytest.fixture(autouse=True)
def fixed_clock(ctx: AppContext) -> None:
    ctx.clock = lambda: FIXED


@pytest.fixture
def weibo(ctx: AppContext) -> str:
    with ctx.db.session() as s:
        s.add(Source(key="weibo", name="微博", kind="json_api", source_kind="social",
                     authority="user"))
    return "weibo"


@pytest.mark.slow
def test_an_incident_becomes_one_routed_case_and_praise_none(ctx: AppContext,
                                                              weibo: str) -> None:
    items = [{"source": weibo, "external_id": str(i), "published_at": T0 + timedelta(minutes=i),
              "text": ("转发：" * (i % 3)) + FIRE, "reposts": 100 * i} for i in range(1, 6)]
    items.append({"source": weibo, "external_id": "p", "text": PRAISE, "published_at": T0})
    Ingestor(ctx.db, ctx.index, clock=ctx.clock).ingest(items)
    assert analysis_job(ctx) == 6
    with ctx.db.session() as s:
        cases = s.scalars(select(Case)).all()
        assert len(cases) == 1  # five reports of one fire: one case (并单)
        case = cases[0]
        assert case.severity is not None and case.routing.get("rule")
        # one street concerned: 谷里街道 leads (属地管理), the competent department knows
        assert (case.routing["lead"], case.routing["rule"]) == ("jn-guli", "R1-单一属地")
        # a factory fire with injuries: by duty (D1) the emergency bureau co-handles
        assert case.routing["co"] == ["jn-emergency"] and case.routing["informed"] == []
        assert "谷里街道" in case.routing["explanation"]
        lead = s.scalars(select(Unit.code).join(Assignment, Assignment.unit_id == Unit.id)
                         .where(Assignment.case_id == case.id, Assignment.role == "lead")).all()
        if case.routing["auto_dispatch"]:
            assert (case.state, lead) == ("dispatched", ["jn-guli"])
        else:  # grave cases wait for a monitor's judgement before dispatch
            assert (case.state, lead) == ("new", [])
        assert s.scalar(select(func.count(CaseAction.id))
                        .where(CaseAction.case_id == case.id)) >= 1
        assert s.scalar(select(func.count(Notification.id))) >= 1
        praise = s.scalars(select(Post).where(Post.external_id == "p")).one()
        assert praise.severity is None  # praise is not an alert
    # a follow-up report joins the same event and case
    Ingestor(ctx.db, ctx.index, clock=ctx.clock).ingest([{"source": weibo, "external_id": "9",
                                         "text": "最新消息：" + FIRE,
                                         "published_at": T0 + timedelta(hours=1)}])
    assert analysis_job(ctx) == 1
    with ctx.db.session() as s:
        assert s.scalar(select(func.count(Case.id))) == 1
