"""Console fixtures: the app, one persona per role, and cases built from real store rows."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from store import Assignment, Case, Database, Event, Post, Source, Unit
from webui.accounts import create_user, issue_token
from yuqing.context import AppContext
from yuqing.web import build_web

PASSWORD = "correct-horse-9"
# persona -> (role, unit code)
PERSONAS = {
    "admin": ("admin", None),
    "monitor": ("monitor", None),
    "leader": ("leader", None),
    "street": ("unit", "jn-dongshan"),  # 东山街道
    "dept": ("unit", "jn-edu"),  # 区教育局
}


@pytest.fixture
def app(ctx: AppContext) -> Flask:
    return build_web(ctx, TESTING=True)


@pytest.fixture
def users(db: Database) -> dict[str, str]:
    """persona -> API token; every persona's password is PASSWORD."""
    return create_personas(db)


def create_personas(db: Database) -> dict[str, str]:
    tokens = {}
    for name, (role, unit) in PERSONAS.items():
        create_user(db, name, PASSWORD, role, unit_code=unit, display_name=f"{name}用户")
        tokens[name] = issue_token(db, name)
    return tokens


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert found, "page has no CSRF meta tag"
    return found.group(1)


class Browser:
    """A test client that signed in through the login form and knows its CSRF token."""

    def __init__(self, client: FlaskClient, csrf: str):
        self.client, self.csrf = client, csrf

    def get(self, url: str, **kw: Any) -> Any:
        return self.client.get(url, **kw)

    def post(self, url: str, data: dict[str, Any] | None = None, **kw: Any) -> Any:
        return self.client.post(url, data={"csrf_token": self.csrf, **(data or {})}, **kw)

    def post_json(self, url: str, body: dict[str, Any]) -> Any:
        return self.client.post(url, json=body, headers={"X-CSRF-Token": self.csrf})


@pytest.fixture
def login(app: Flask, users: dict[str, str]) -> Callable[[str], Browser]:
    def sign_in(persona: str) -> Browser:
        client = app.test_client()
        token = csrf_of(client.get("/login").get_data(as_text=True))
        r = client.post("/login", data={"username": persona, "password": PASSWORD,
                                        "csrf_token": token})
        assert r.status_code == 302, r.get_data(as_text=True)
        page = client.get("/my" if PERSONAS[persona][0] == "unit" else "/queue")
        return Browser(client, csrf_of(page.get_data(as_text=True)))

    return sign_in


def unit_id(db: Database, code: str) -> int:
    with db.session() as s:
        found = s.scalar(select(Unit.id).where(Unit.code == code))
        assert found is not None
        return found


@pytest.fixture
def make_case(db: Database, ctx: AppContext) -> Callable[..., int]:
    """A case from store rows, dated by the app's clock (a test that pins ``ctx.clock``
    gets rows, deadlines and pages that agree with it)."""
    counter = iter(range(1, 10_000))

    def make(title: str = "东山街道某小区污水外溢", *, severity: int = 3, topic: str = "environment",
             place: str = "320115001", state: str = "new", lead: str | None = None,
             co: tuple[str, ...] = (), due_answer: timedelta | None = None,
             due_sign: timedelta | None = None, text: str = "小区门口污水外溢多日无人处理。",
             source: str = "test:weibo", created: datetime | None = None) -> int:
        n = next(counter)
        now = ctx.now()
        with db.session() as s:
            src = s.scalar(select(Source).where(Source.key == source))
            if src is None:
                src = Source(key=source, name="测试微博", kind="json_api", source_kind="social")
                s.add(src)
                s.flush()
            event = Event(title=title, topic=topic, severity=severity, first_source_id=src.id,
                          first_seen_at=now, last_seen_at=now, post_count=1, source_count=1)
            s.add(event)
            s.flush()
            post = Post(source_id=src.id, external_id=f"p{n}-{event.id}",
                        url=f"https://weibo.example/{n}", content_hash=f"h{n}-{event.id}",
                        title=title, text=text, published_at=now - timedelta(hours=1),
                        event_id=event.id, topic=topic, severity=severity,
                        analysis={"topic": {"reasons": ["命中关键词：污水"]},
                                  "severity": {"factors": [{"name": "risk", "contribution": 2.0,
                                                            "reason": "涉及环境污染"}]}})
            s.add(post)
            s.flush()
            event.first_post_id = post.id
            c = Case(event_id=event.id, title=title, state=state, severity=severity,
                     topic=topic, place_code=place,
                     routing={"explanation": ["单一街道事项：属地街道主办"]},
                     due_answer_at=now + due_answer if due_answer else None,
                     due_sign_at=now + due_sign if due_sign else None,
                     created_at=created or now)
            s.add(c)
            s.flush()
            for code, role in [(lead, "lead"), *[(u, "co") for u in co]]:
                if code:
                    s.add(Assignment(case_id=c.id, unit_id=s.scalar(
                        select(Unit.id).where(Unit.code == code)), role=role))
            return c.id

    return make
