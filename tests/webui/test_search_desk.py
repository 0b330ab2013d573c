"""The search desk: /search, /api/v1/search and the exports, per role, on real stored posts."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest
from flask import Flask
from openpyxl import load_workbook

from tests.search_posts import XSS, seed_search_posts
from yuqing.context import AppContext


@pytest.fixture
def ids(ctx: AppContext) -> dict[str, int]:
    return seed_search_posts(ctx)


def _api(login: Callable, persona: str, **params: str) -> tuple[int, dict]:
    r = login(persona).get("/api/v1/search", query_string=params)
    return r.status_code, r.get_json()


def _found(data: dict) -> set[int]:
    return {item["post_id"] for item in data["items"]}


def test_the_syntax_finds_and_excludes_in_title_body_and_reply(
        login: Callable, ids: dict[str, int]) -> None:
    def hits(q: str) -> set[int]:
        status, data = _api(login, "monitor", q=q, per_page="50")
        assert status == 200, data
        assert data["total"] == len(data["items"])
        return _found(data)

    assert hits("食堂") == {ids["canteen"], ids["ad"]}
    assert hits("食堂 -广告") == {ids["canteen"]}  # NOT
    assert hits("整改") == {ids["canteen"]}  # found in the reply only
    assert hits("腹泻 | 积水") == {ids["canteen"], ids["flood"]}  # OR
    assert hits("腹泻 OR 积水") == {ids["canteen"], ids["flood"]}
    assert hits('"地下 车库"') == {ids["flood"]}  # a phrase with its space
    assert hits("地下车库") == {ids["flood"]}  # in the title, written without the space
    assert hits('"下 车"') == {ids["flood"]}
    assert hits("東山 竹山路") == {ids["sewage"]}  # 繁→简 on both sides
    assert hits("ｐｍ２") == {ids["flood"]}  # full-width and case folded
    assert hits("污水 -外溢") == {ids["xss"], ids["formula"]}


def test_a_malformed_query_is_a_chinese_400_never_a_500(
        login: Callable, ids: dict[str, int]) -> None:
    for q, says in [('"食堂', "引号不成对"), ("食堂 -", "减号后缺少"), ("", "请输入检索词"),
                    ("-食堂", "至少需要一个"), ("| 食堂", "两侧都需要"), ("！？", "不含汉字")]:
        status, data = _api(login, "monitor", q=q)
        assert status == 400, (q, data)
        assert says in data["error"], (q, data)
    page = login("monitor").get("/search", query_string={"q": '食堂 "学校'})
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert "引号不成对" in html and 'value="食堂 &#34;学校"' in html  # the form keeps the query


def test_highlights_are_escaped_in_the_page_and_plain_in_the_api(
        login: Callable, ids: dict[str, int]) -> None:
    html = login("monitor").get("/search", query_string={"q": "污水 恶意"}).get_data(as_text=True)
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "<mark>污水</mark>" in html
    _, data = _api(login, "monitor", q="污水 恶意")
    (item,) = data["items"]
    assert XSS in item["snippet"] and "污水" in item["highlights"]


def test_filters_sort_and_pages(login: Callable, ids: dict[str, int]) -> None:
    _, data = _api(login, "monitor", q="污水", source="search:weibo", sort="time")
    assert [i["post_id"] for i in data["items"]] == [ids["sewage"], ids["xss"]]  # newest first
    _, data = _api(login, "monitor", q="污水", kind="board")
    assert _found(data) == {ids["formula"]}
    _, data = _api(login, "monitor", q="污水", has_case="yes")
    assert _found(data) == {ids["sewage"]}
    assert data["items"][0]["case_id"] == ids["case:sewage"]
    _, data = _api(login, "monitor", q="污水", has_case="no")
    assert _found(data) == {ids["xss"], ids["formula"]}
    # dates are local days: the canteen post (2025-06-09 04:00 local) is on the 9th
    _, data = _api(login, "monitor", q="食堂", **{"from": "2025-06-09", "to": "2025-06-09"})
    assert _found(data) == {ids["canteen"]}
    status, data = _api(login, "monitor", q="食堂", **{"from": "2025-13-01"})
    assert status == 400 and "开始日期" in data["error"]
    _, first = _api(login, "monitor", q="污水", sort="time", per_page="2", page="1")
    _, second = _api(login, "monitor", q="污水", sort="time", per_page="2", page="2")
    assert first["total"] == second["total"] == 3 and first["pages"] == 2
    assert _found(first) | _found(second) == {ids["sewage"], ids["xss"], ids["formula"]}
    assert not _found(first) & _found(second)
    _, data = _api(login, "monitor", q="污水", event=str(first["items"][0]["event_id"]))
    assert [i["post_id"] for i in data["items"]] == [first["items"][0]["post_id"]]
    html = login("monitor").get("/search", query_string={"q": "污水", "sort": "time"}).get_data(
        as_text=True)
    assert f"event={first['items'][0]['event_id']}" in html  # 同一事件的命中信息
    scoped = login("monitor").get("/search", query_string={
        "q": "污水", "event": first["items"][0]["event_id"]}).get_data(as_text=True)
    assert 'id="event-scope"' in scoped and scoped.count('class="hit"') == 1


def test_a_unit_user_searches_only_the_posts_of_its_own_cases(
        login: Callable, ids: dict[str, int]) -> None:
    _, street = _api(login, "street", q="污水")
    assert _found(street) == {ids["sewage"]} and street["total"] == 1
    _, dept = _api(login, "dept", q="污水")
    assert dept["total"] == 0
    _, leader = _api(login, "leader", q="污水")
    assert leader["total"] == 3
    page = login("street").get("/search", query_string={"q": "污水"}).get_data(as_text=True)
    assert "本单位工单所含的信息" in page and f"/cases/{ids['case:sewage']}" in page


@pytest.mark.parametrize("persona", ["admin", "monitor", "leader", "street"])
def test_every_role_has_the_page_with_its_syntax_and_a_nav_link(
        login: Callable, persona: str) -> None:
    r = login(persona).get("/search")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert 'id="nav-search"' in html and "检索语法" in html and "-广告" in html


def test_signed_out_visitors_get_nothing(app: Flask, ids: dict[str, int]) -> None:
    client = app.test_client()
    assert client.get("/search?q=污水").status_code == 302
    assert client.get("/api/v1/search?q=污水").status_code == 401
    assert client.get("/search/export.csv?q=污水").status_code == 302


def test_exports_carry_every_hit_with_formulas_neutralised(
        login: Callable, ids: dict[str, int]) -> None:
    browser = login("monitor")
    r = browser.get("/search/export.csv", query_string={"q": "污水", "sort": "time"})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:4] == ["编号", "标题", "摘要", "发布时间"]
    assert [int(row[0]) for row in rows[1:]] == [ids["sewage"], ids["xss"], ids["formula"]]
    assert rows[3][1].startswith("'=HYPERLINK")
    r = browser.get("/search/export.xlsx", query_string={"q": "污水 -恶意"})
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.get_data())).active
    values = list(ws.values)
    assert values[0][0] == "编号" and len(values) == 3
    assert {row[0] for row in values[1:]} == {ids["sewage"], ids["formula"]}
    street = login("street").get("/search/export.csv", query_string={"q": "污水"})
    assert len(list(csv.reader(io.StringIO(street.get_data(as_text=True))))) == 2
    bad = browser.get("/search/export.xlsx", query_string={"q": '"污水'})
    assert bad.status_code == 400 and "引号不成对" in bad.get_data(as_text=True)


def test_the_openapi_document_lists_search_and_validates() -> None:
    from openapi_spec_validator import validate

    from webui.openapi import openapi_document

    doc = openapi_document()
    validate(doc)
    params = {p["name"] for p in doc["paths"]["/api/v1/search"]["get"]["parameters"]}
    assert {"q", "from", "to", "source", "kind", "topic", "sentiment", "severity", "place",
            "has_case", "event", "sort", "page", "per_page"} <= params
