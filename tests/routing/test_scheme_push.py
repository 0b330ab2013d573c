"""Scheme pushes: one per new matching post (or per N-in-T window) with two deliverer
processes running, only to the scheme's subscribers, with title, source, time, excerpt, link."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from receivers import HttpReceiver
from scheme_support import T0, add_post, robot_channels
from sqlalchemy import func, select

from store import JobMark, Notification, PostTag, Scheme
from tests.conftest import make_settings
from yuqing.bootstrap import sync_reference_data
from yuqing.context import AppContext
from yuqing.schemes import match_batch, schemes_job

ROOT = Path(__file__).resolve().parents[2]
DELIVER = """
import sys
from datetime import datetime
from routing.notify.outbox import deliver_due
from yuqing.context import AppContext
from yuqing.jobs import channels_for
ctx = AppContext(home=sys.argv[1])
now = datetime.fromisoformat(sys.argv[2])
print(deliver_due(ctx.db, channels_for(ctx), now))
"""


@pytest.fixture
def robots() -> Iterator[dict[str, HttpReceiver]]:
    found = {name: HttpReceiver().start() for name in ("subscribed", "wecom_default",
                                                       "dingtalk_default", "other_scheme")}
    yield found
    for r in found.values():
        r.stop()


@pytest.fixture
def sctx(tmp_path: Path, database_url: str, robots: dict[str, HttpReceiver]
         ) -> Iterator[AppContext]:
    home = tmp_path / "instance"
    home.mkdir(parents=True, exist_ok=True)
    settings = make_settings(home, database_url, channels=robot_channels(
        robots["wecom_default"].url, robots["dingtalk_default"].url))
    # the deliverer processes read the same instance: write the overrides where they look
    (home / "channels.yaml").write_text(json.dumps(robot_channels(
        robots["wecom_default"].url, robots["dingtalk_default"].url)), encoding="utf-8")
    (home / "settings.yaml").write_text(json.dumps({"database_url": database_url}),
                                        encoding="utf-8")
    ctx = AppContext(settings=settings, clock=lambda: T0 + timedelta(minutes=1))
    sync_reference_data(ctx.db, settings)
    yield ctx
    ctx.close()


def _scheme(ctx: AppContext, key: str, **spec: object) -> None:
    body = {"query": "污水", "tag": True, **spec}
    with ctx.db.session() as s:
        s.add(Scheme(key=key, name=str(spec.get("name", key)), owner="值班员", enabled=True,
                     spec=body, created_at=T0, updated_at=T0))


def _deliver_in_two_processes(ctx: AppContext) -> int:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    now = (T0 + timedelta(minutes=2)).isoformat()
    procs = [subprocess.Popen([sys.executable, "-c", DELIVER, str(ctx.settings.home), now],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    sent = 0
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        sent += int(out.strip().splitlines()[-1])
    return sent


def test_each_new_matching_post_is_pushed_once_to_subscribed_robots_only(
        sctx: AppContext, robots: dict[str, HttpReceiver]) -> None:
    _scheme(sctx, "water", name="东山水污染", alert={"mode": "each"},
            subscribers=[{"channel": "wecom", "to": robots["subscribed"].url}])
    _scheme(sctx, "traffic", name="交通拥堵", query="堵车", alert={"mode": "each"},
            subscribers=[{"channel": "wecom", "to": robots["other_scheme"].url}])
    hits = [add_post(sctx.db, f"竹山路污水横流第{i}天", f"居民反映竹山路一带污水外溢<script>{i}</script>",
                     at=T0 + timedelta(seconds=i)) for i in range(3)]
    add_post(sctx.db, "东山街道举办运动会", "与污染无关的新闻")
    assert schemes_job(sctx) == 4
    assert schemes_job(sctx) == 0  # the mark moved: nothing is looked at twice
    sent = _deliver_in_two_processes(sctx)
    got = robots["subscribed"].requests
    assert sent == 3 and len(got) == 3
    for name in ("wecom_default", "dingtalk_default", "other_scheme"):
        assert robots[name].requests == []
    texts = [r.json()["markdown"]["content"] for r in got]
    assert Counter(t.split("\n")[0] for t in texts).most_common(1)[0][1] == 1
    first = next(t for t in texts if "第0天" in t)
    assert "东山水污染" in first and "来源：江宁论坛" in first and "时间：11月23日 09:55" in first
    assert "摘要：居民反映竹山路一带污水外溢" in first and "链接：https://bbs.example.cn/t/" in first
    assert "script" not in first
    with sctx.db.session() as s:
        tags = s.scalars(select(PostTag.post_id).where(PostTag.scheme_key == "water")).all()
    assert sorted(tags) == sorted(hits)
    # a replayed batch (crash before the mark moved) queues nothing new
    with sctx.db.session() as s:
        s.execute(Notification.__table__.update().values(status="sent"))
        s.execute(JobMark.__table__.delete())
    assert match_batch(sctx).queued == 0
    with sctx.db.session() as s:
        assert s.scalar(select(func.count(Notification.id))) == 3


def test_n_within_t_minutes_pushes_once_per_window(
        sctx: AppContext, robots: dict[str, HttpReceiver]) -> None:
    _scheme(sctx, "burst", name="污水集中反映", alert={"mode": "window", "count": 3, "minutes": 30},
            subscribers=[{"channel": "dingtalk", "to": robots["subscribed"].url},
                         {"channel": "console", "to": "monitors"}])
    for i in range(2):  # two in the window: below N
        add_post(sctx.db, f"污水问题{i}", "污水", at=T0 + timedelta(minutes=i))
    schemes_job(sctx)
    with sctx.db.session() as s:
        assert s.scalar(select(func.count(Notification.id))) == 0
    for i in range(2, 6):  # the third reaches N; the fourth to sixth are the same window
        add_post(sctx.db, f"污水问题{i}", "污水", at=T0 + timedelta(minutes=i))
    schemes_job(sctx)
    sent = _deliver_in_two_processes(sctx)
    got = robots["subscribed"].requests
    assert sent == 2 and len(got) == 1  # one robot push, one console notice
    assert "30 分钟内 3 条" in got[0].json()["markdown"]["title"]
    assert robots["dingtalk_default"].requests == [] and robots["wecom_default"].requests == []
