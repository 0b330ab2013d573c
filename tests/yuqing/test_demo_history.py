"""演示历史数据: the demo's past goes through the real analysis, routing and workflow, backdated."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from importlib import resources
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy import select

from store import Case, CaseAction, Source
from webui.accounts import create_user
from yuqing.context import AppContext
from yuqing.demo_history import NOTE, SETTLE, seed_history
from yuqing.ingest import Ingestor

NOW = datetime(2026, 11, 18, 4, 0, tzinfo=UTC)
ZONE = ZoneInfo("Asia/Shanghai")


@pytest.mark.slow
def test_history_posts_open_cases_in_the_past_and_the_workflow_works_them_backdated(
        ctx: AppContext) -> None:
    ctx.clock = lambda: NOW
    clock = ctx.clock
    create_user(ctx.db, "m", "password-123", "monitor", display_name="监测员")
    create_user(ctx.db, "l", "password-123", "leader", display_name="领导")
    with ctx.db.session() as s:
        s.add(Source(key="demo", name="演示", kind="json_api", source_kind="social",
                     default_place="320115"))
    data = yaml.safe_load(resources.files("yuqing").joinpath("samples/demo_posts.yaml")
                          .read_text(encoding="utf-8"))
    items = []
    for i, entry in enumerate(data["history"]):
        day = (NOW - timedelta(days=entry["days_ago"])).astimezone(ZONE)
        items.append({"source": "demo", "external_id": f"h{i}", "title": entry.get("title", ""),
                      "text": entry["text"], "reposts": entry.get("reposts", 0),
                      "published_at": day.replace(hour=entry["hour"], minute=0)})
    items.append({"source": "demo", "external_id": "today", "text": data["initial"][0]["text"],
                  "published_at": NOW - timedelta(hours=1)})  # today's: left to the live demo
    Ingestor(ctx.db, ctx.index).ingest(items)

    worked = seed_history(ctx, "m", "l", older_than=timedelta(hours=16))

    assert ctx.clock is clock  # the real clock is back
    with ctx.db.session() as s:
        cases = s.scalars(select(Case).order_by(Case.created_at)).all()
        assert worked == len(cases) >= 10
        assert all(c.created_at < NOW - timedelta(hours=16) for c in cases)
        actions = s.scalars(select(CaseAction).order_by(CaseAction.id)).all()
        assert max(a.at for a in actions) <= NOW - SETTLE
        for c in cases:  # each case's history runs forward in time
            times = [a.at for a in actions if a.case_id == c.id]
            assert times == sorted(times)
        done = {a.action for a in actions}
        assert {"open", "dispatch", "sign", "respond", "close", "return",
                "request_extension", "approve_extension", "supervise"} <= done
        assert all(NOTE in a.note for a in actions if a.action in ("sign", "respond", "close"))
        states = [c.state for c in cases]
        assert states.count("closed") >= 6
        # the tenth case was signed and never answered: open past its deadline
        tenth = cases[9]
        assert tenth.state == "acknowledged" and tenth.due_answer_at < NOW
        # a late signature: signed after the sign deadline of its dispatch
        late = [a for a in actions if a.action == "sign" and a.case_id == cases[1].id]
        assert late and late[0].at > cases[1].due_sign_at
