"""A long outage: capped backoff for 72 hours, then dead with the monitors told; a slow
receiver: webhooks get the same key again, robots are not posted twice."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from receivers import HttpReceiver, free_port
from sqlalchemy import select
from wf_support import T0

from routing.notify.base import build_channel
from routing.notify.console import notices_after
from routing.notify.health import channel_health, delivery_alerts
from routing.notify.outbox import Retry, deliver_due
from store import Database, Delivery, Notification
from yuqing.context import AppContext
from yuqing.settings import Settings

NOW = T0 + timedelta(hours=1)


def _row(db: Database, channel: str) -> Notification:
    with db.session() as s:
        return s.scalars(select(Notification).where(Notification.channel == channel)).one()


def _attempts(db: Database, channel: str) -> list[datetime]:
    with db.session() as s:
        return list(s.scalars(select(Delivery.at).join(
            Notification, Notification.id == Delivery.notification_id)
            .where(Notification.channel == channel).order_by(Delivery.id)))


def test_a_72_hour_outage_is_retried_with_capped_backoff_then_dead_and_the_monitors_told(
        db: Database, make_case: Callable[..., int]) -> None:
    case_id = make_case("new")  # one alert for the monitors
    port = free_port()  # nobody listens here for 72 hours
    channels = {"hook": build_channel("hook", "webhook",
                                      {"url": f"http://127.0.0.1:{port}/hook", "retries": 0}, db),
                "console": build_channel("console", "console", {}, db)}
    now = NOW
    deliver_due(db, channels, now)
    while (row := _row(db, "hook")).status == "pending":
        assert row.next_attempt_at is not None
        now = row.next_attempt_at  # the injected clock jumps to each retry
        assert now <= NOW + timedelta(hours=72), "still retrying after the window"
        deliver_due(db, channels, now)
    assert row.status == "dead"
    tries = _attempts(db, "hook")
    gaps = [b - a for a, b in itertools.pairwise(tries)]
    # 30 s, 1 min, 2 min … doubling up to the one-hour cap, the last try exactly at 72 h
    assert gaps[:3] == [timedelta(seconds=30), timedelta(minutes=1), timedelta(minutes=2)]
    assert max(gaps) == timedelta(hours=1)
    assert tries[-1] - tries[0] == timedelta(hours=72)
    # the monitors' console inbox says which message did not arrive
    told = [n for n in notices_after(db, 0) if "未能送达" in n["title"]]
    assert len(told) == 1 and "hook" in told[0]["title"]
    assert "新舆情预警" in told[0]["body"] and told[0]["link"] == f"/cases/{case_id}"
    assert delivery_alerts(db, now)["dead"] == {"hook": 1}
    health = {c["name"]: c for c in channel_health(db, {"hook": "webhook"}, now)}
    assert (health["hook"]["dead"], health["hook"]["status"]) == (1, "有通知未能送达")
    assert "连接失败" in health["hook"]["last_error"]
    # the receiver comes back: a dead message is not sent any more, nor announced again
    receiver = HttpReceiver(port).start()
    try:
        deliver_due(db, channels, now + timedelta(hours=1))
    finally:
        receiver.stop()
    assert receiver.requests == []
    assert len([n for n in notices_after(db, 0) if "未能送达" in n["title"]]) == 1


def test_a_receiver_back_within_the_window_gets_the_message_once(
        db: Database, make_case: Callable[..., int]) -> None:
    make_case("new")
    port = free_port()
    channels = {"hook": build_channel("hook", "webhook",
                                      {"url": f"http://127.0.0.1:{port}/hook", "retries": 0}, db)}
    retry = Retry(give_up=timedelta(hours=96))  # configurable: channels.yaml retry
    deliver_due(db, channels, NOW, retry=retry)
    deliver_due(db, channels, NOW + timedelta(hours=80), retry=retry)
    assert _row(db, "hook").status == "pending"  # past 72 h, inside this window
    receiver = HttpReceiver(port).start()
    try:
        assert deliver_due(db, channels, NOW + timedelta(hours=81), retry=retry) == 1
    finally:
        receiver.stop()
    assert len(receiver.requests) == 1 and _row(db, "hook").status == "sent"


def test_the_retry_window_comes_from_channels_yaml(settings: Settings) -> None:
    retry = Retry.from_settings(settings.channels.retry)
    assert retry.give_up >= timedelta(hours=72)
    assert (retry.first, retry.cap) == (timedelta(seconds=30), timedelta(hours=1))


@pytest.mark.parametrize("kind", ["webhook", "wecom", "dingtalk"])
def test_a_receiver_slower_than_the_timeout(db: Database, make_case: Callable[..., int],
                                            kind: str) -> None:
    """The webhook gets the message again with the same Idempotency-Key (at-least-once);
    a robot, which cannot deduplicate, is not posted to twice: its message is 'unknown'."""
    make_case("new")
    receiver = HttpReceiver().start()
    receiver.delay = 1.5
    try:
        channels = {"ch": build_channel("ch", kind, {"url": receiver.url, "timeout": 0.3,
                                                     "retries": 2}, db)}
        assert deliver_due(db, channels, NOW) == 0
        assert len(receiver.requests) == 1  # no quick retry of a request that went out
        receiver.delay = 0
        deliver_due(db, channels, NOW + timedelta(minutes=5))
    finally:
        receiver.stop()
    row = _row(db, "ch")
    if kind == "webhook":
        assert row.status == "sent" and len(receiver.requests) == 2
        keys = {r.headers["Idempotency-Key"] for r in receiver.requests}
        assert keys == {row.idempotency_key} == {r.json()["key"] for r in receiver.requests}
    else:
        assert row.status == "unknown" and len(receiver.requests) == 1
        health = {c["name"]: c for c in channel_health(db, {"ch": kind}, NOW)}
        assert health["ch"]["unknown"] == 1 and "送达情况未知" in health["ch"]["last_error"]


def test_notify_status_and_notify_deliver_name_the_dead_messages(
        ctx: AppContext, make_case: Callable[..., int]) -> None:
    import json

    from click.testing import CliRunner

    from yuqing.commands.workflow import notify_deliver, notify_status

    make_case("new")
    channels = {"hook": build_channel("hook", "webhook", {
        "url": f"http://127.0.0.1:{free_port()}/hook", "retries": 0}, ctx.db)}
    retry = Retry(first=timedelta(hours=8), cap=timedelta(hours=24))
    for hours in (0, 8, 24, 48, 72):
        deliver_due(ctx.db, channels, NOW + timedelta(hours=hours), retry=retry)
    ctx.clock = lambda: NOW + timedelta(hours=73)
    runner = CliRunner()
    status = runner.invoke(notify_status, ["--json"], obj=ctx)
    assert status.exit_code == 0, status.output
    assert "hook（未配置）：有通知未能送达" in status.output
    report = {c["name"]: c for c in json.loads(status.output.strip().splitlines()[-1])["channels"]}
    assert report["hook"]["dead"] == 1 and report["console"]["configured"]
    delivered = runner.invoke(notify_deliver, ["--json"], obj=ctx)
    assert "渠道「hook」有 1 条通知重试期满仍未送达" in delivered.output
    assert json.loads(delivered.output.strip().splitlines()[-1])["dead"] == {"hook": 1}
