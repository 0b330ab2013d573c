"""Briefings delivered through the notification channels: email with the DOCX/PDF attached
(real SMTP receiver on 127.0.0.1), the link on the WeCom robot, once per briefing."""

from __future__ import annotations

import email
import io
from email.policy import default as email_policy

import pytest
from briefing_history import NOW, History, seed
from pypdf import PdfReader
from receivers import HttpReceiver, SmtpSink

from routing.notify.outbox import disabled_channels
from routing.policy import Policy
from store import Notification, Unit
from yuqing.briefings import handle_one
from yuqing.context import AppContext
from yuqing.jobs import deliver_job
from yuqing.settings import load_settings


@pytest.fixture
def history(ctx: AppContext, policy: Policy) -> History:
    return seed(ctx.db, policy)


def clocked(ctx: AppContext, **overrides: dict) -> AppContext:
    settings = load_settings(ctx.settings.home,
                             environ={"YUQING_DATABASE_URL": ctx.settings.database_url},
                             overrides=overrides or None)
    return AppContext(settings=settings, clock=lambda: NOW)


def mail_settings(port: int, robot: str = "") -> dict:
    channels = [{"name": "console", "kind": "console", "enabled": True},
                {"name": "email", "kind": "email", "enabled": True,
                 "options": {"host": "127.0.0.1", "port": port,
                             "from_addr": "yuqing@jiangning.example"}},
                {"name": "wecom", "kind": "wecom", "enabled": bool(robot),
                 "options": {"url": robot or "http://127.0.0.1:9/none"}}]
    return {"channels": {"channels": channels},
            "settings": {"briefing": {"public_url": "https://yq.jiangning.example"}}}


def test_briefing_is_emailed_with_attachments_once(ctx: AppContext, history: History) -> None:
    with ctx.db.session() as s:
        unit = s.query(Unit).filter_by(code="jn-publicity").one()
        unit.leader = {"name": "王部长", "email": "wang@jiangning.example"}
    robot = HttpReceiver().start()
    try:
        with SmtpSink() as smtp:
            app = clocked(ctx, **mail_settings(smtp.port, robot.url))
            first = handle_one(app, "weekly")
            again = handle_one(app, "weekly")  # a second run (restart) queues nothing new
            assert first.queued == 2 and again.queued == 0
            deliver_job(app)
            deliver_job(app)
            parsed = [(tuple(m.rcpt_tos), email.message_from_bytes(m.content,
                                                                    policy=email_policy))
                      for m in smtp.messages]
            # the history's own case notifications go out too: keep the briefing's
            messages = {to: msg for to, msg in parsed if "舆情周报" in msg["Subject"]}
            app.close()
    finally:
        robot.stop()
    assert set(messages) == {("jn-publicity@jiangning.example",), ("wang@jiangning.example",)}
    msg = messages[("wang@jiangning.example",)]
    assert "江宁区舆情周报" in msg["Subject"]
    names = {a.get_filename(): a.get_content() for a in msg.iter_attachments()}
    assert set(names) == {"江宁区舆情周报_2026-11-16 至 2026-11-22.docx",
                          "江宁区舆情周报_2026-11-16 至 2026-11-22.pdf"}
    pdf = names["江宁区舆情周报_2026-11-16 至 2026-11-22.pdf"]
    assert pdf.startswith(b"%PDF") and PdfReader(io.BytesIO(pdf)).pages
    assert "https://yq.jiangning.example/briefings/files/weekly-2026-11-16.pdf" in \
        msg.get_body(("plain",)).get_content()
    posts = [r.json()["markdown"]["content"] for r in robot.requests]
    [content] = [c for c in posts if "舆情周报" in c]  # the WeCom group gets the link, once
    assert "https://yq.jiangning.example/briefings/files/weekly-2026-11-16.docx" in content


def test_a_missing_attachment_fails_that_message_only(ctx: AppContext) -> None:
    with SmtpSink() as smtp:
        app = clocked(ctx, **mail_settings(smtp.port))
        done = handle_one(app, "daily")
        for path in done.files:
            path.unlink()
        deliver_job(app)
        with app.db.session() as s:
            states = {n.status for n in s.query(Notification).filter_by(channel="email")}
        assert states == {"failed"} and smtp.messages == []
        assert "email" not in disabled_channels(app.db)
        app.close()


