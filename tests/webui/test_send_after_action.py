"""A console action's notifications leave at once from the web process (``yuqing run``
wires ``send_after_actions``), without waiting for the scheduler's retry sweep."""

from __future__ import annotations

import time
from collections.abc import Callable

from flask import Flask
from sqlalchemy import select

from store import Database, Notification
from yuqing.context import AppContext
from yuqing.web import send_after_actions


def _action_rows(db: Database, case_id: int) -> list[tuple[str, str]]:
    with db.session() as s:
        return [(n.channel, n.status) for n in s.scalars(select(Notification).where(
            Notification.case_id == case_id, Notification.idempotency_key.contains(":action:")))]


def test_a_dispatch_is_sent_without_the_retry_sweep(app: Flask, ctx: AppContext,
                                                     login: Callable[..., object],
                                                     make_case: Callable[..., int]) -> None:
    case_id = make_case()
    send_after_actions(app, ctx)
    monitor = login("monitor")
    r = monitor.post_json(f"/api/v1/cases/{case_id}/actions/dispatch",  # type: ignore[attr-defined]
                          {"lead": "jn-dongshan"})
    assert r.status_code == 200, r.get_data(as_text=True)
    rows: list[tuple[str, str]] = []
    for _ in range(300):  # no scheduler runs here: only the web's sender can send them
        rows = _action_rows(ctx.db, case_id)
        if ("console", "sent") in rows:
            break
        time.sleep(0.1)
    assert ("console", "sent") in rows and ("*", "expanded") in rows, rows
