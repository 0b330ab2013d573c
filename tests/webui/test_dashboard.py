"""The dashboard page and GET /api/v1/dashboard per role, on a fixed history with a fixed clock."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from store import Case, Database, Event, Post, PostPlace, Source
from tests.webui.conftest import PASSWORD, Browser
from yuqing.context import AppContext
from yuqing.web import build_web

# Wednesday 2026-11-18 12:00 in Nanjing: 上周 is 11-09..11-15, the period before 11-02..11-08.
NOW = datetime(2026, 11, 18, 4, 0, tzinfo=UTC)


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 11, day, hour - 8, 0, tzinfo=UTC)  # local hour in Nanjing


@pytest.fixture
def app(ctx: AppContext) -> Flask:
    ctx.clock = lambda: NOW
    return build_web(ctx, TESTING=True)


def seed(db: Database) -> dict[str, int]:
    """Three events over last week and the week before, posts placed in streets, four cases."""
    with db.session() as s:
        news = Source(key="t-news", name="测试新闻", kind="feed", source_kind="news",
                      last_run_at=NOW - timedelta(hours=1), last_success_at=NOW - timedelta(hours=1))
        weibo = Source(key="t-weibo", name="测试微博", kind="json_api", source_kind="social",
                       consecutive_failures=3, flagged=True)
        s.add_all([news, weibo])
        s.flush()
        events = {name: Event(title=title, topic="environment")
                  for name, title in (("water", "东山街道小区停水"), ("road", "秣陵道路积水"),
                                      ("school", "学校食堂<b>投诉</b>"))}
        s.add_all(events.values())
        s.flush()
        n = 0

        def post(event: str, when: datetime, src: Source, sentiment: str, topic: str,
                 place: str | None, interactions: int = 0, words: list[str] | None = None) -> None:
            nonlocal n
            n += 1
            p = Post(source_id=src.id, external_id=f"x{n}", content_hash=f"h{n}", text="正文",
                     published_at=when, collected_at=when, source_kind=src.source_kind,
                     sentiment=sentiment, topic=topic, event_id=events[event].id,
                     reposts=interactions, keywords=words or [])
            if place:
                p.places.append(PostPlace(code=place, name="某地", level="township"))
            s.add(p)

        # last week: water 3 posts + 200 interactions (heat 5.0), road 1, school 2 (new)
        post("water", at(9), weibo, "negative", "environment", "320115001002", 100, ["停水", "小区", "江宁区", "南京"])
        post("water", at(9, 23), weibo, "negative", "environment", "320115001", 100, ["停水"])
        post("water", at(15), news, "neutral", "environment", "320115011", 0, ["停水", "物业"])
        post("road", at(12), news, "neutral", "traffic", "320114", 0, ["积水"])
        post("school", at(13), news, "positive", "education", None, 0, ["食堂"])
        post("school", at(14), weibo, "negative", "education", "320115011", 0, ["食堂"])
        # the week before: water 1 (heat 1.0), road 2 (heat 2.0)
        post("water", at(3), weibo, "negative", "environment", None)
        post("road", at(4), news, "neutral", "traffic", None)
        post("road", at(5), news, "neutral", "traffic", None)
        cases = [Case(event_id=events["water"].id, title="东山街道小区停水", state="dispatched",
                      place_code="320115001", due_sign_at=NOW - timedelta(hours=2)),
                 Case(event_id=events["road"].id, title="秣陵道路积水", state="acknowledged",
                      place_code="320115011", due_answer_at=NOW + timedelta(days=1)),
                 Case(event_id=events["school"].id, title="学校食堂投诉", state="closed",
                      place_code="320115011")]
        s.add_all(cases)
        s.flush()
        return {"water_case": cases[0].id, "posts": n}


def sign_in(app: Flask, persona: str) -> Any:
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    return client, client.post("/login", data={"username": persona, "password": PASSWORD,
                                               "csrf_token": token})


def island(html: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="dashboard-data">(.*?)</script>',
                      html, re.S)
    assert found, "the page carries no data island"
    return json.loads(found.group(1))


def test_the_leader_lands_on_the_dashboard_and_the_monitor_on_the_queue(
        app: Flask, users: dict[str, str]) -> None:
    _, leader = sign_in(app, "leader")
    assert leader.headers["Location"].endswith("/dashboard")
    _, monitor = sign_in(app, "monitor")
    assert monitor.headers["Location"].endswith("/queue")
    client, _ = sign_in(app, "leader")
    assert client.get("/").headers["Location"].endswith("/dashboard")


@pytest.mark.parametrize("persona", ["leader", "monitor", "admin"])
def test_leaders_monitors_and_admins_see_last_weeks_figures_by_default(
        persona: str, login: Callable[[str], Browser], db: Database) -> None:
    seed(db)
    page = login(persona).get("/dashboard")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    data = island(html)
    assert data["period"] == {"from": "2026-11-09", "to": "2026-11-15", "preset": "last_week",
                              "label": "上周（2026-11-09 至 2026-11-15）"}
    assert data["totals"] == {"posts": 6, "previous_posts": 3, "negative": 3, "events": 3,
                              "open_cases": 2, "overdue_cases": 1}
    assert 'href="/dashboard"' in html  # the nav link


def test_the_api_gives_the_figures_the_page_shows(
        login: Callable[[str], Browser], users: dict[str, str], app: Flask, db: Database) -> None:
    seed(db)
    html = login("leader").get("/dashboard?preset=last_week").get_data(as_text=True)
    api = app.test_client().get("/api/v1/dashboard?preset=last_week",
                                headers={"Authorization": f"Bearer {users['leader']}"})
    assert api.status_code == 200
    assert api.get_json() == island(html)


def test_figures_volume_hot_events_map_words_and_cases(
        users: dict[str, str], app: Flask, db: Database) -> None:
    ids = seed(db)
    data = app.test_client().get(
        "/api/v1/dashboard?from=2026-11-09&to=2026-11-15",
        headers={"Authorization": f"Bearer {users['monitor']}"}).get_json()
    assert data["period"]["preset"] == "" and data["previous"]["from"] == "2026-11-02"
    kinds = {s["name"]: s["data"] for s in data["volume_by_kind"]["series"]}
    assert kinds == {"新闻网站": [0, 0, 0, 1, 1, 0, 1], "社交媒体": [2, 0, 0, 0, 0, 1, 0]}
    moods = {s["key"]: sum(s["data"]) for s in data["volume_by_sentiment"]["series"]}
    assert moods == {"negative": 3, "neutral": 2, "positive": 1}
    assert [(t["key"], t["count"]) for t in data["topics"]] == [("environment", 3),
                                                                 ("education", 2),
                                                                 ("traffic", 1)]
    places = {p["name"]: p["count"] for p in data["places"]}
    assert places == {"东山街道": 2, "秣陵街道": 2, "雨花台区": 1, "未定位": 1}
    hot = [(h["title"], h["heat"], h["previous_heat"], h["trend"]) for h in data["hot_events"]]
    assert hot == [("东山街道小区停水", 5.0, 1.0, "up"), ("学校食堂<b>投诉</b>", 2.0, 0.0, "new"),
                   ("秣陵道路积水", 1.0, 2.0, "down")]
    assert data["hot_events"][0]["case_id"] == ids["water_case"]
    streets = {s["name"]: (s["posts"], s["open_cases"]) for s in data["map"]["streets"]}
    assert len(streets) == 10 and data["map"]["schematic"] is True
    assert streets["东山街道"] == (2, 1) and streets["秣陵街道"] == (2, 1)
    assert streets["汤山街道"] == (0, 0)
    assert data["words"][0] == {"name": "停水", "value": 3}
    assert not {"江宁区", "南京"} & {w["name"] for w in data["words"]}  # every post's own place
    by_state = {r["state"]: (r["open"], r["overdue"]) for r in data["cases"]["by_state"]}
    assert by_state["dispatched"] == (1, 1) and by_state["acknowledged"] == (1, 0)
    health = {s["key"]: s for s in data["sources"]}
    assert health["t-weibo"]["status"] == "异常" and health["t-news"]["status"] == "正常"
    assert health["t-news"]["collected"] == 3


def test_every_chart_has_a_table_twin_with_its_numbers(
        login: Callable[[str], Browser], db: Database) -> None:
    seed(db)
    html = login("leader").get("/dashboard").get_data(as_text=True)
    for twin in ("kind", "sentiment", "topics", "places", "map", "words", "cases"):
        assert f'id="chart-{twin}"' in html and f'id="twin-{twin}"' in html

    def table(name: str) -> str:
        return re.search(rf'id="twin-{name}".*?</table>', html, re.S).group(0)  # type: ignore[union-attr]

    assert "<th scope=\"row\">2026-11-09</th><td>0</td><td>2</td>" in table("kind") or \
        "<th scope=\"row\">2026-11-09</th><td>2</td><td>0</td>" in table("kind")
    assert "<th scope=\"row\">东山街道</th><td>2</td><td>1</td>" in table("map")
    assert "<th scope=\"row\">停水</th><td>3</td>" in table("words")
    assert "<th scope=\"row\">待签收</th><td>1</td><td>1</td>" in table("cases")
    # crawled titles stay text, in the tables and in the data island
    assert "学校食堂&lt;b&gt;投诉&lt;/b&gt;" in html and "<b>投诉</b>" not in html
    assert "示意图" in html


def test_a_unit_user_is_sent_to_its_own_cases_and_refused_by_the_api(
        login: Callable[[str], Browser], users: dict[str, str], app: Flask) -> None:
    r = login("street").get("/dashboard")
    assert r.status_code == 302 and r.headers["Location"].endswith("/my")
    api = app.test_client().get("/api/v1/dashboard",
                                headers={"Authorization": f"Bearer {users['street']}"})
    assert api.status_code == 403 and api.get_json()["error"]
    assert app.test_client().get("/api/v1/dashboard").status_code == 401


def test_a_bad_period_is_a_clear_400(users: dict[str, str], app: Flask,
                                     login: Callable[[str], Browser]) -> None:
    auth = {"Authorization": f"Bearer {users['leader']}"}
    r = app.test_client().get("/api/v1/dashboard?from=2026-13-01", headers=auth)
    assert r.status_code == 400 and "YYYY-MM-DD" in r.get_json()["error"]
    r = app.test_client().get("/api/v1/dashboard?preset=forever", headers=auth)
    assert r.status_code == 400 and "上周" in r.get_json()["error"]
    page = login("leader").get("/dashboard?from=2026-11-10&to=2026-11-01")
    assert page.status_code == 400 and "结束日期不能早于开始日期" in page.get_data(as_text=True)


def test_echarts_loads_only_on_pages_that_draw_charts(
        login: Callable[[str], Browser], make_case: Callable[..., int]) -> None:
    case_id = make_case(lead="jn-dongshan")
    leader, street = login("leader"), login("street")
    bundle = "vendor/echarts.min.js"
    assert bundle in leader.get("/dashboard").get_data(as_text=True)
    assert "echarts-wordcloud.min.js" in leader.get("/dashboard").get_data(as_text=True)
    assert bundle in leader.get("/queue").get_data(as_text=True)  # the queue draws its map
    assert bundle in leader.get(f"/cases/{case_id}").get_data(as_text=True)  # trend chart
    assert bundle not in street.get("/my").get_data(as_text=True)
    assert bundle not in leader.get("/login").get_data(as_text=True)
    assert bundle not in leader.get("/no-such-page").get_data(as_text=True)


def test_the_instance_map_file_replaces_the_shipped_schematic(
        ctx: AppContext, users: dict[str, str], login: Callable[[str], Browser]) -> None:
    own = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "东山街道", "code": "320115001"},
         "geometry": {"type": "Polygon", "coordinates": [[[118.8, 31.9], [118.9, 31.9],
                                                          [118.9, 32.0], [118.8, 31.9]]]}}]}
    folder = Path(ctx.settings.home) / "map"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "320115.json").write_text(json.dumps(own, ensure_ascii=False), encoding="utf-8")
    leader = login("leader")
    served = leader.get("/dashboard/map.json")
    assert served.status_code == 200 and json.loads(served.get_data()) == own
    data = island(leader.get("/dashboard").get_data(as_text=True))
    assert data["map"]["schematic"] is False
    assert [s["name"] for s in data["map"]["streets"]] == ["东山街道"]


def test_the_shipped_schematic_is_served_and_covers_every_street(
        login: Callable[[str], Browser]) -> None:
    geo = json.loads(login("monitor").get("/dashboard/map.json").get_data())
    assert geo["yuqing"]["schematic"] is True and "示意图" in geo["yuqing"]["note"]
    assert len(geo["features"]) == 10
    assert {f["properties"]["code"][:6] for f in geo["features"]} == {"320115"}


def test_the_openapi_document_lists_the_dashboard_and_validates() -> None:
    from openapi_spec_validator import validate

    from webui.openapi import openapi_document

    doc = openapi_document()
    validate(doc)
    params = {p["name"] for p in doc["paths"]["/api/v1/dashboard"]["get"]["parameters"]}
    assert params == {"from", "to", "preset"}


def test_explicit_dates_win_over_a_preset_and_stay_in_the_form(
        login: Callable[[str], Browser]) -> None:
    html = login("leader").get("/dashboard?preset=this_year&from=2026-11-01&to=2026-11-03") \
        .get_data(as_text=True)
    assert island(html)["period"]["label"] == "2026-11-01 至 2026-11-03"
    assert 'name="from" value="2026-11-01"' in html and 'name="to" value="2026-11-03"' in html
    assert '<option value="" selected>自定义</option>' in html
