"""The queue's order comes from stored sort keys: it must equal the documented rule (level,
then the deadline that matters now, newest first) after any change, and cursor pages must
walk it without gaps or repeats."""

from __future__ import annotations

import re
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


def _page_ids(client: Client, token: str, url: str) -> list[int]:
    html = client.get(url, headers={"Authorization": f"Bearer {token}"}).get_data(as_text=True)
    return [int(i) for i in re.findall(r'<tr data-id="(\d+)"', html)]


def test_ties_on_level_and_deadline_list_the_newest_case_first_on_every_page(
        app: Flask, users: dict[str, str], make_case: Callable[..., int], db: Database) -> None:
    # no deadlines at all: every case of a level ties on (level, no deadline)
    ids = [make_case(title=f"并列{i}", severity=2 if i % 3 else 3) for i in range(7)]
    twos = sorted((i for n, i in enumerate(ids) if n % 3), reverse=True)
    threes = sorted((i for n, i in enumerate(ids) if not n % 3), reverse=True)
    client = app.test_client()
    token = users["monitor"]
    assert _walk(client, token, limit=2) == (twos + threes, 7) == (_expected(db), 7)
    assert _page_ids(client, token, "/queue") == twos + threes
    assert _page_ids(client, token, "/queue?limit=3&offset=3") == (twos + threes)[3:6]


def test_the_topic_filter_walks_the_queue_order_of_that_topic_only(
        app: Flask, users: dict[str, str], make_case: Callable[..., int], db: Database) -> None:
    plan = [("education", 2), ("environment", 1), ("education", 4), ("education", 2),
            ("environment", 2), ("education", 1), ("education", 2)]
    ids = [make_case(title=f"领域{i}", topic=t, severity=s) for i, (t, s) in enumerate(plan)]
    education = [i for i in _expected(db) if plan[ids.index(i)][0] == "education"]
    assert len(education) == 5
    client = app.test_client()
    token = users["monitor"]
    walked: list[int] = []
    url = "/api/v1/cases?topic=education&limit=2"
    while url:
        body = client.get(url, headers={"Authorization": f"Bearer {token}"}).get_json()
        assert body["total"] == 5
        walked += [c["id"] for c in body["cases"]]
        url = (f"/api/v1/cases?topic=education&limit=2&cursor={body['next_cursor']}"
               if body["next_cursor"] else "")
    assert walked == education
    assert _page_ids(client, token, "/queue?topic=education") == education
    assert _page_ids(client, token, "/queue?topic=nothing-like-it") == []


def test_a_unit_never_gets_a_page_built_for_someone_else(
        app: Flask, users: dict[str, str], make_case: Callable[..., int]) -> None:
    street = make_case(title="街道的", lead="jn-dongshan")
    school = make_case(title="教育局的", lead="jn-edu")
    make_case(title="未派发")
    client = app.test_client()
    # the same filter, asked by a monitor first, then by two units (built pages are kept)
    for _ in range(2):
        assert len(_walk(client, users["monitor"], limit=20)[0]) == 3
        assert _walk(client, users["street"], limit=20) == ([street], 1)
        assert _walk(client, users["dept"], limit=20) == ([school], 1)


def test_crawled_titles_stay_text_on_the_queue_page(
        app: Flask, users: dict[str, str], make_case: Callable[..., int]) -> None:
    hostile = '<script>window.__pwned=1</script><img src=x onerror="x()">积水&"\''
    case_id = make_case(title=hostile)
    html = app.test_client().get("/queue", headers={
        "Authorization": f"Bearer {users['monitor']}"}).get_data(as_text=True)
    assert "<script>window.__pwned" not in html and "<img src=x" not in html
    assert (f'<a href="/cases/{case_id}">&lt;script&gt;window.__pwned=1&lt;/script&gt;&lt;img '
            'src=x onerror=&#34;x()&#34;&gt;积水&amp;&#34;&#39;</a>') in html
