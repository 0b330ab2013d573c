"""A message dead after a long outage shows on the queue banner, the channel page and the API."""

from __future__ import annotations

import socket
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from flask import Flask

from routing.notify.base import build_channel
from routing.notify.outbox import Retry, deliver_due, enqueue
from store import Database, Unit
from tests.webui.conftest import Browser
from yuqing.context import AppContext


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def _kill_one_message(db: Database) -> datetime:
    """Queue one alert and let a webhook nobody answers fail it for 72 hours."""
    with db.session() as s:
        unit = s.query(Unit).filter_by(code="jn-publicity").one()
        enqueue(s, case_id=None, change="test:1", recipients=[f"monitors:{unit.id}"],
                subject="新舆情预警：东山街道污水外溢", body="请研判", payload={}, now=T0)
    channels = {"hook": build_channel("hook", "webhook", {
        "url": f"http://127.0.0.1:{free_port()}/hook", "retries": 0}, db)}
    retry = Retry(first=timedelta(hours=1), cap=timedelta(hours=24))  # fewer passes, same 72 h
    now = T0
    for hours in (0, 1, 3, 7, 15, 31, 55, 72):
        now = T0 + timedelta(hours=hours)
        deliver_due(db, channels, now, retry=retry)
    return now


def test_the_monitors_see_dead_messages_on_the_queue_page_the_channel_page_and_the_api(
        app: Flask, ctx: AppContext, db: Database, login: Callable[[str], Browser]) -> None:
    monitor = login("monitor")
    assert "delivery-banner" not in monitor.get("/queue").get_data(as_text=True)
    now = _kill_one_message(db)
    ctx.clock = lambda: now + timedelta(hours=1)  # the app reads the context's clock
    app.config["YUQING_CHANNELS"] = {"hook": "webhook", "console": "console"}
    page = monitor.get("/queue").get_data(as_text=True)
    assert 'id="delivery-banner"' in page and "有 1 条通知重试期满仍未送达" in page
    assert "hook 1 条" in page
    health = monitor.get("/channels").get_data(as_text=True)
    assert 'data-channel="hook"' in health and "有通知未能送达" in health
    body = monitor.get("/api/v1/channels").get_json()
    hook = next(c for c in body["channels"] if c["name"] == "hook")
    assert (hook["dead"], hook["dead_recent"], hook["kind"]) == (1, 1, "webhook")
    # units do not watch channels
    assert login("street").get("/api/v1/channels").status_code == 403
    # a week later the banner is gone; the channel page still counts the message
    ctx.clock = lambda: now + timedelta(days=8)
    assert "delivery-banner" not in monitor.get("/queue").get_data(as_text=True)
    later = monitor.get("/api/v1/channels").get_json()["channels"]
    assert next(c for c in later if c["name"] == "hook")["dead"] == 1
