"""The outbox: exactly once across outages, retries, concurrent senders and disabled channels."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest
from receivers import HttpReceiver, SmtpSink, free_port
from sqlalchemy import func, select, update
from wf_support import T0

from routing.notify.base import build_channel
from routing.notify.console import notices_after
from routing.notify.outbox import deliver_due, disabled_channels, enable_channel, enqueue
from routing.policy import Policy
from routing.workflow import Action, Actor, perform
from store import ChannelState, Database, Delivery, Notification

NOW = T0 + timedelta(hours=1)


def _keys(receiver: HttpReceiver) -> Counter[str]:
    return Counter(r.headers["Idempotency-Key"] for r in receiver.requests)


def _webhook(db: Database, url: str) -> dict[str, object]:
    return {"hook": build_channel("hook", "webhook", {"url": url, "retries": 0}, db)}


def test_a_receiver_down_then_up_gets_each_message_exactly_once(
        db: Database, make_case: Callable[..., int]) -> None:
    make_case("dispatched")  # an alert for the monitors, a dispatch for two units
    port = free_port()
    receiver = HttpReceiver(port)
    channels = _webhook(db, receiver.url)
    assert deliver_due(db, channels, NOW) == 0  # nobody listening
    with db.session() as s:
        rows = s.scalars(select(Notification).where(Notification.channel == "hook")).all()
        assert len(rows) == 3 and {r.status for r in rows} == {"pending"}
        assert {r.next_attempt_at for r in rows} == {NOW + timedelta(seconds=30)}
        failed = s.scalars(select(Delivery)).all()
        assert len(failed) == 3 and not any(d.ok for d in failed)
        assert all("连接失败" in d.detail for d in failed)
    assert deliver_due(db, channels, NOW + timedelta(seconds=10)) == 0  # still backing off
    receiver.start()
    try:
        assert deliver_due(db, channels, NOW + timedelta(seconds=30)) == 3
        assert deliver_due(db, channels, NOW + timedelta(hours=2)) == 0
    finally:
        receiver.stop()
    assert len(receiver.requests) == 3 and set(_keys(receiver).values()) == {1}
    with db.session() as s:
        assert s.scalar(select(func.count(Delivery.id)).where(Delivery.ok.is_(True))) == 3


def test_two_concurrent_delivery_runs_still_send_once(
        db: Database, make_case: Callable[..., int]) -> None:
    for _ in range(5):
        make_case("dispatched")
    receiver = HttpReceiver().start()
    try:
        channels = _webhook(db, receiver.url)
        barrier = threading.Barrier(3)
        sent: list[int] = []

        def run() -> None:
            barrier.wait()
            sent.append(deliver_due(db, channels, NOW))

        threads = [threading.Thread(target=run) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        receiver.stop()
    assert sum(sent) == 15 and len(receiver.requests) == 15
    assert set(_keys(receiver).values()) == {1}


def test_the_same_change_is_queued_once(db: Database, make_case: Callable[..., int]) -> None:
    case_id = make_case("new")
    with db.session() as s:
        made = [enqueue(s, case_id=case_id, change="test:1", recipients=["monitors:1"] * 2,
                        subject="s", body="b", payload={}, now=NOW) for _ in range(2)]
    assert made == [1, 0]


def test_a_permanent_error_disables_the_channel_and_says_so(
        db: Database, make_case: Callable[..., int]) -> None:
    make_case("new")
    receiver = HttpReceiver().start()
    try:
        receiver.status = 404
        channels = {**_webhook(db, receiver.url),
                    "console": build_channel("console", "console", {}, db)}
        deliver_due(db, channels, NOW)
        assert len(receiver.requests) == 1  # no retry of a permanent error
        assert "HTTP 404" in disabled_channels(db)["hook"]
        said = [n for n in notices_after(db, 0) if "已停用" in n["title"]]
        assert len(said) == 1 and "hook" in said[0]["body"]
        # the message waits for the channel instead of being lost
        deliver_due(db, channels, NOW + timedelta(hours=1))
        assert len(receiver.requests) == 1
        receiver.status = 200
        enable_channel(db, "hook", NOW + timedelta(hours=1))
        assert deliver_due(db, channels, NOW + timedelta(hours=1)) == 1
    finally:
        receiver.stop()
    assert len(receiver.requests) == 2
    with db.session() as s:
        state = s.get(ChannelState, "hook")
        assert state is not None and not state.disabled


def test_a_sender_that_died_mid_send_is_retried_after_its_lease(
        db: Database, make_case: Callable[..., int]) -> None:
    make_case("new")
    assert deliver_due(db, {}, NOW) == 0  # no channel: the message stays queued
    receiver = HttpReceiver().start()
    try:
        channels = _webhook(db, receiver.url)
        assert deliver_due(db, channels, NOW) == 1
        with db.session() as s:  # the process died after sending, before recording it
            s.execute(update(Notification).where(Notification.channel == "hook")
                      .values(status="sending", next_attempt_at=NOW + timedelta(minutes=10)))
        assert deliver_due(db, channels, NOW + timedelta(minutes=5)) == 0  # lease still held
        assert deliver_due(db, channels, NOW + timedelta(minutes=10)) == 1
    finally:
        receiver.stop()
    # at-least-once in that crash window: the same Idempotency-Key lets the receiver drop it
    assert list(_keys(receiver).values()) == [2]


@pytest.mark.parametrize("kind", ["webhook", "wecom", "dingtalk", "sms", "email"])
def test_every_channel_recovers_from_an_outage_without_duplicates(
        db: Database, make_case: Callable[..., int], people: dict[str, Actor],
        policy: Policy, kind: str) -> None:
    case_id = make_case("acknowledged")
    # a supervision reaches the lead unit's leader too (the only mobile number for SMS)
    perform(db, case_id, Action.SUPERVISE, people["leader"], note="尽快回应", now=NOW,
            policy=policy)
    port = free_port()
    url = f"http://127.0.0.1:{port}/hook"
    options: dict[str, object] = {
        "webhook": {"url": url}, "wecom": {"url": url}, "dingtalk": {"url": url, "secret": "k"},
        "sms": {"url": url, "body": '{"to": "{phone}", "text": "{text}"}'},
        "email": {"host": "127.0.0.1", "port": port, "from_addr": "yuqing@jiangning.example"},
    }[kind]
    options = {**options, "retries": 0, "timeout": 5}
    channels = {"ch": build_channel("ch", kind, options, db)}
    assert deliver_due(db, channels, NOW) == 0  # the receiver is down
    with db.session() as s:
        queued = s.scalar(select(func.count(Notification.id))
                          .where(Notification.channel == "ch"))
    assert queued and queued > 0
    later = NOW + timedelta(minutes=5)
    if kind == "email":
        with SmtpSink(port) as smtp:
            assert deliver_due(db, channels, later) == queued
            assert deliver_due(db, channels, later + timedelta(hours=1)) == 0
        bodies = [m.content for m in smtp.messages]
    else:
        receiver = HttpReceiver(port).start()
        try:
            assert deliver_due(db, channels, later) == queued
            assert deliver_due(db, channels, later + timedelta(hours=1)) == 0
        finally:
            receiver.stop()
        bodies = [r.body for r in receiver.requests]
    assert len(bodies) == queued == len(set(bodies))
    with db.session() as s:
        assert set(s.scalars(select(Notification.status)
                             .where(Notification.channel == "ch"))) == {"sent"}
