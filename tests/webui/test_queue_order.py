"""The queue's order comes from stored sort keys: it must equal the documented rule (level,
then the deadline that matters now, newest first) after any change, and cursor pages must
walk it without gaps or repeats."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select

from store import Case, Database
from store.models import NO_DUE
from store.queue_order import QUEUE_STATES, next_due

Client = Any


def _expected(db: Database) -> list[int]:
    """The rule, computed in Python from the cases' own fields."""
    with db.session() as s:
        cases = [c for c in s.scalars(select(Case)) if c.state in QUEUE_STATES]
    far = NO_DUE

    def key(c: Case) -> tuple[int, datetime, int]:
        due = next_due(c.state, c.due_sign_at, c.due_first_response_at, c.due_answer_at)
        return (c.severity if c.severity is not None else 9, due or far, -c.id)

    return [c.id for c in sorted(cases, key=key)]


def _walk(client: Client, token: str, limit: int) -> tuple[list[int], int]:
    ids: list[int] = []
    url = f"/api/v1/cases?limit={limit}"
    while True:
        body = client.get(url, headers={"Authorization": f"Bearer {token}"}).get_json()
        ids += [c["id"] for c in body["cases"]]
        if body["next_cursor"] is None:
            return ids, body["total"]
        url = f"/api/v1/cases?limit={limit}&cursor={body['next_cursor']}"


def test_the_queue_order_follows_state_level_and_deadline_changes(
        app: Flask, users: dict[str, str], make_case: Callable[..., int], db: Database) -> None:
    plan: list[dict[str, Any]] = [
        {"severity": 2, "due_answer": timedelta(hours=5)},
        {"severity": 2, "due_answer": timedelta(hours=1)},
        {"severity": 1},
        {"severity": 4, "due_answer": timedelta(hours=2), "state": "dispatched",
         "due_sign": timedelta(minutes=30)},
        {"severity": 2},
        {"severity": 3, "state": "responded", "due_answer": timedelta(hours=1)},
        {"severity": 1, "state": "closed"},
        {"severity": 2, "due_answer": timedelta(hours=1)},  # ties the second: newer first
    ]
    ids = [make_case(title=f"工单{i}", **kw) for i, kw in enumerate(plan)]
    client = app.test_client()
    token = users["monitor"]
    walked, total = _walk(client, token, limit=3)
    assert walked == _expected(db) and total == len(walked) == 7

    # changes through the ORM, as the workflow makes them: the keys follow at flush
    with db.session() as s:
        first = s.get(Case, ids[0])
        assert first is not None
        first.severity = None  # no level: last
        closed = s.get(Case, ids[6])
        assert closed is not None
        closed.state = "returned"  # back in the queue
        closed.due_first_response_at = closed.created_at + timedelta(minutes=1)
    walked, total = _walk(client, token, limit=2)
    assert walked == _expected(db) and total == 8
    assert walked[-1] == ids[0]


def test_a_level_correction_moves_the_case_in_the_queue(
        app: Flask, users: dict[str, str], make_case: Callable[..., int], db: Database,
        login: Callable[[str], Any]) -> None:
    low = make_case(title="低级别", severity=4)
    make_case(title="高级别", severity=2)
    browser = login("monitor")
    r = browser.post_json(f"/api/v1/cases/{low}/corrections",
                          {"severity": 1, "note": "研判上调"})
    assert r.status_code == 200, r.get_data(as_text=True)
    walked, _ = _walk(app.test_client(), users["monitor"], limit=20)
    assert walked[0] == low and walked == _expected(db)


def test_the_cached_queue_total_follows_changes_made_by_another_process(
        app: Flask, users: dict[str, str], make_case: Callable[..., int], db: Database) -> None:
    from datetime import UTC

    from sqlalchemy import insert, update

    from store import CaseAction, Event
    from store.queue_order import queue_values
    ids = [make_case(title=f"计数{i}", severity=2) for i in range(3)]
    client = app.test_client()
    headers = {"Authorization": f"Bearer {users['monitor']}"}

    def total(query: str = "") -> int:
        return client.get("/api/v1/cases?limit=1" + query, headers=headers).get_json()["total"]

    assert total() == 3 and total("&severity=2") == 3 and total() == 3  # the second is cached
    # Core statements on their own connection, as another process's workflow writes them:
    # no ORM flush in this process, only the audit row and the case rows themselves
    with db.engine.begin() as conn:
        conn.execute(update(Case).where(Case.id == ids[0]).values(
            state="closed", **queue_values("closed", 2, None, None, None)))
        conn.execute(insert(CaseAction).values(case_id=ids[0], action="close",
                                               from_state="new", to_state="closed"))
    assert total() == 2 and total("&severity=2") == 2
    with db.engine.begin() as conn:  # a new case (its own id is the marker)
        seen = datetime(2026, 6, 1, tzinfo=UTC)
        event_id = conn.execute(insert(Event).values(
            title="新事件", first_seen_at=seen, last_seen_at=seen)).inserted_primary_key[0]
        conn.execute(insert(Case).values(event_id=event_id, title="新工单", state="new",
                                         severity=2, **queue_values("new", 2, None, None, None)))
    assert total() == 3 and total("&severity=2") == 3
