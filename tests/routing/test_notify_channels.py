"""Each notifier against a real receiver on 127.0.0.1, through the outbox."""

from __future__ import annotations

import base64
import email
import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from datetime import UTC, timedelta
from email.policy import default as email_policy

import pytest
from receivers import HttpReceiver, SmtpSink
from sqlalchemy import select, update
from wf_support import T0

from routing.messages import render
from routing.notify.base import build_channel
from routing.notify.console import notices_after
from routing.notify.outbox import deliver_due
from routing.notify.webhook import sign
from routing.policy import Policy
from routing.workflow import Action, Actor, perform
from store import Case, Database, Delivery, Notification

NOW = T0 + timedelta(hours=1)


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    r = HttpReceiver().start()
    yield r
    r.stop()


def _deliveries(db: Database, channel: str) -> list[tuple[bool, str]]:
    with db.session() as s:
        return [(d.ok, d.detail) for d in s.scalars(
            select(Delivery).join(Notification, Notification.id == Delivery.notification_id)
            .where(Notification.channel == channel).order_by(Delivery.id))]


def test_console_notices_are_listed_for_polling(db: Database, make_case: Callable[..., int],
                                                unit_ids: dict[str, int]) -> None:
    case_id = make_case("dispatched")
    channels = {"console": build_channel("console", "console", {}, db)}
    assert deliver_due(db, channels, NOW) >= 3  # monitors' alert, lead and co units
    monitors = notices_after(db, 0)
    assert [n["link"] for n in monitors] == [f"/cases/{case_id}"]
    assert "新舆情预警" in monitors[0]["title"]
    lead = notices_after(db, 0, unit_id=unit_ids["jn-dongshan"])
    assert len(lead) == 1 and "请及时签收" in lead[0]["title"]
    assert notices_after(db, lead[0]["id"], unit_id=unit_ids["jn-dongshan"]) == []
    assert notices_after(db, 0, unit_id=unit_ids["jn-moling"]) == []
    assert deliver_due(db, channels, NOW) == 0


def test_webhook_posts_signed_json_once(db: Database, make_case: Callable[..., int],
                                        receiver: HttpReceiver) -> None:
    case_id = make_case("new")
    channels = {"hook": build_channel("hook", "webhook",
                                      {"url": receiver.url, "secret": "s3cret"}, db)}
    assert deliver_due(db, channels, NOW) == 1
    assert deliver_due(db, channels, NOW + timedelta(hours=1)) == 0
    [req] = receiver.requests
    body = req.json()
    assert body["case_id"] == case_id and body["recipient"] == "monitors:jn-publicity"
    assert body["link"] == f"/cases/{case_id}" and "新舆情预警" in body["subject"]
    assert req.headers["X-Yuqing-Signature"] == sign("s3cret", req.headers["X-Yuqing-Timestamp"],
                                                     req.body)
    assert req.headers["Idempotency-Key"] == body["key"]
    assert _deliveries(db, "hook") == [(True, "已送达")]


def test_wecom_robot_gets_markdown_and_retries_a_busy_reply(
        db: Database, make_case: Callable[..., int], receiver: HttpReceiver) -> None:
    make_case("new")
    channels = {"wecom": build_channel("wecom", "wecom", {"url": receiver.url, "retries": 0},
                                       db)}
    receiver.reply = {"errcode": 45009, "errmsg": "api freq out of limit"}
    assert deliver_due(db, channels, NOW) == 0
    receiver.reply = {"errcode": 0, "errmsg": "ok"}
    assert deliver_due(db, channels, NOW + timedelta(seconds=31)) == 1
    assert len(receiver.requests) == 2
    body = receiver.requests[-1].json()
    assert body["msgtype"] == "markdown"
    assert "III级 较大（黄）" in body["markdown"]["content"]
    assert [ok for ok, _ in _deliveries(db, "wecom")] == [False, True]
    assert "45009" in _deliveries(db, "wecom")[0][1]


def test_dingtalk_robot_request_is_signed(db: Database, make_case: Callable[..., int],
                                          receiver: HttpReceiver) -> None:
    make_case("new")
    secret = "SEC0123456789"
    channels = {"ding": build_channel("ding", "dingtalk",
                                      {"url": receiver.url + "?access_token=abc",
                                       "secret": secret}, db)}
    assert deliver_due(db, channels, NOW) == 1
    [req] = receiver.requests
    timestamp = req.query["timestamp"][0]
    expected = base64.b64encode(hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(),
                                         hashlib.sha256).digest()).decode()
    assert req.query["access_token"] == ["abc"]
    assert req.query["sign"] == [expected]  # parse_qs undoes the URL encoding
    assert req.json()["markdown"]["title"].startswith("【III级")


def test_sms_gateway_template_is_filled_and_escaped(
        db: Database, make_case: Callable[..., int], receiver: HttpReceiver,
        people: dict[str, Actor], policy: Policy) -> None:
    case_id = make_case("acknowledged")
    template = '{"to": "{phone}", "text": "{text}", "sign": "江宁区"}'
    channels = {"sms": build_channel("sms", "sms", {"url": receiver.url, "body": template}, db)}
    with db.session() as s:
        s.execute(update(Case).where(Case.id == case_id)
                  .values(title='家长称"乱收费"\\未退还'))
    perform(db, case_id, Action.SUPERVISE, people["leader"], note="今天内回应", now=NOW,
            policy=policy)
    assert deliver_due(db, channels, NOW) == 1  # only the leader has a mobile number
    body = json.loads(receiver.requests[0].body)  # valid JSON although the title has quotes
    assert body["to"] == "13800000019" and body["sign"] == "江宁区"
    assert "督办" in body["text"] and '"乱收费"\\' in body["text"] and len(body["text"]) <= 70


def test_email_goes_through_smtp(db: Database, make_case: Callable[..., int]) -> None:
    case_id = make_case("new")
    with SmtpSink() as smtp:
        channels = {"mail": build_channel("mail", "email", {
            "host": "127.0.0.1", "port": smtp.port, "from_addr": "yuqing@jiangning.example"},
            db)}
        assert deliver_due(db, channels, NOW) == 1
        assert deliver_due(db, channels, NOW + timedelta(hours=1)) == 0
    [envelope] = smtp.messages
    assert envelope.rcpt_tos == ["jn-publicity@jiangning.example"]
    msg = email.message_from_bytes(envelope.content, policy=email_policy)
    assert "新舆情预警" in msg["Subject"]
    assert f"/cases/{case_id}" in msg.get_content()


def test_a_refused_mail_address_fails_only_that_message(
        db: Database, make_case: Callable[..., int]) -> None:
    make_case("dispatched")
    with SmtpSink() as smtp:
        smtp.refuse = {"jn-edu@jiangning.example"}
        channels = {"mail": build_channel("mail", "email", {
            "host": "127.0.0.1", "port": smtp.port, "from_addr": "yuqing@jiangning.example"},
            db)}
        assert deliver_due(db, channels, NOW) == 2  # the monitors and the lead unit
    with db.session() as s:
        states = dict(s.execute(select(Notification.recipient, Notification.status)
                                .where(Notification.channel == "mail")).all())
    assert states["jn-edu@jiangning.example"] == "failed"
    assert states["jn-dongshan@jiangning.example"] == "sent"


def test_a_hostile_title_cannot_break_the_mail_headers(db: Database,
                                                       make_case: Callable[..., int]) -> None:
    case_id = make_case("new")
    with db.session() as s:  # the case was opened with a clean title; rewrite its queued alert
        s.execute(update(Case).where(Case.id == case_id)
                  .values(title="标题\r\nBcc: victim@example.org\x07"))
    with db.session() as s:
        case = s.get(Case, case_id)
        assert case is not None
        subject, body, _ = render(s, case, "测试", UTC)
        s.execute(update(Notification).where(Notification.case_id == case_id)
                  .values(subject=subject, body=body))
    with SmtpSink() as smtp:
        channels = {"mail": build_channel("mail", "email", {
            "host": "127.0.0.1", "port": smtp.port, "from_addr": "yuqing@jiangning.example"},
            db)}
        assert deliver_due(db, channels, NOW) == 1
    [envelope] = smtp.messages
    assert envelope.rcpt_tos == ["jn-publicity@jiangning.example"]
    msg = email.message_from_bytes(envelope.content, policy=email_policy)
    assert msg["Bcc"] is None and "Bcc: victim@example.org" in msg["Subject"]
