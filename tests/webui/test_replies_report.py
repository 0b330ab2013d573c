"""/reports/replies, its exports and GET /api/v1/reports/replies for every role."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest
from flask import Flask
from openapi_spec_validator import validate
from openpyxl import load_workbook
from reply_cases import NOW, store_posts

from store import Database
from tests.webui.conftest import Browser
from yuqing.context import AppContext

PERIOD = {"from": "2025-09-01", "to": "2025-10-31"}


@pytest.fixture
def posts(ctx: AppContext, db: Database) -> dict[str, int]:
    ctx.clock = lambda: NOW  # never today's date: the console reads this clock
    return store_posts(db)


def api(app: Flask, token: str, **params: str) -> tuple[int, dict]:
    r = app.test_client().get("/api/v1/reports/replies", query_string=params,
                              headers={"Authorization": f"Bearer {token}"})
    return r.status_code, r.get_json()


@pytest.mark.parametrize("persona", ["admin", "monitor", "leader"])
def test_monitors_admins_and_leaders_see_every_units_rows(
        persona: str, app: Flask, users: dict[str, str], posts: dict[str, int]) -> None:
    status, data = api(app, users[persona], **PERIOD)
    assert status == 200
    assert data["total"]["messages"] == 7 and data["total"]["invalid"] == 1
    assert data["total"]["median_hours"] == 39.0 and data["total"]["p90_hours"] == 168.6
    assert [u["label"] for u in data["by_unit"]] == ["区教育局", "东山街道", "秣陵街道",
                                                    "（未注明单位）"]
    assert data["scope"] == {"units": None}
    assert [t["label"] for t in data["by_topic"]][:2] == ["教育", "生态环境"]


@pytest.mark.parametrize(("persona", "unit", "messages"), [("street", "东山街道", 2),
                                                           ("dept", "区教育局", 3)])
def test_a_unit_user_sees_only_the_messages_its_unit_answered(
        persona: str, unit: str, messages: int, app: Flask, users: dict[str, str],
        posts: dict[str, int]) -> None:
    status, data = api(app, users[persona], **PERIOD)
    assert status == 200
    assert data["scope"] == {"units": [unit]}
    assert [u["label"] for u in data["by_unit"]] == [unit]
    assert data["total"]["messages"] == messages
    assert all(s["unit"] == unit for s in data["slowest"])


def test_the_default_period_is_last_week_by_the_app_clock(
        app: Flask, users: dict[str, str], posts: dict[str, int]) -> None:
    status, data = api(app, users["leader"])
    assert status == 200
    assert (data["period"]["from"], data["period"]["to"]) == ("2025-10-27", "2025-11-02")
    assert data["total"]["messages"] == 2  # E (10-30) and the board message of 11-01
    status, data = api(app, users["leader"], preset="last_month", days="2")
    assert data["period"]["from"] == "2025-10-01" and data["days"] == [2]


def test_bad_parameters_get_a_chinese_400_and_anonymous_gets_401(
        app: Flask, users: dict[str, str], posts: dict[str, int],
        login: Callable[[str], Browser]) -> None:
    for params, message in (({"from": "2025-02-30"}, "开始日期格式"),
                            ({"from": "2025-10-02", "to": "2025-10-01"}, "结束日期不能早于"),
                            ({"preset": "someday"}, "未知的时间段"),
                            ({"days": "0"}, "答复天数"), ({"days": "a"}, "days")):
        status, data = api(app, users["monitor"], **params)
        assert status == 400 and message in data["error"], (params, data)
    page = login("monitor").get("/reports/replies?from=bad")
    assert page.status_code == 400 and "开始日期格式" in page.get_data(as_text=True)
    assert app.test_client().get("/api/v1/reports/replies").status_code == 401
    assert app.test_client().get("/reports/replies").status_code == 302


def test_the_page_shows_the_tables_and_links_the_slowest_to_their_cases(
        login: Callable[[str], Browser], posts: dict[str, int], db: Database) -> None:
    from reply_cases import case_of

    html = login("leader").get("/reports/replies?from=2025-09-01&to=2025-10-31"
                               "&days=1,3").get_data(as_text=True)
    assert "2025-09-01 至 2025-10-31" in html
    for section in ('id="by_unit"', 'id="by_topic"', 'id="by_month"', 'id="slowest"'):
        assert section in html
    assert "1个工作日内" in html and "3天内" in html and "5天内" not in html
    assert f'href="/cases/{case_of(db, posts["D"])}"' in html
    assert "=HYPERLINK(&#34;http://evil.example&#34;)" in html  # crawled text stays escaped
    assert "export.xlsx?from=2025-09-01" in html and "2025-10" in html
    unit_html = login("street").get("/reports/replies?from=2025-09-01&to=2025-10-31")
    text = unit_html.get_data(as_text=True)
    assert unit_html.status_code == 200 and 'id="scope"' in text and "区教育局" not in text


def test_the_xlsx_export_reads_back_with_neutralised_cells(
        login: Callable[[str], Browser], posts: dict[str, int]) -> None:
    r = login("monitor").get("/reports/replies/export.xlsx?from=2025-09-01&to=2025-10-31"
                             "&days=1,10")
    assert r.status_code == 200 and "attachment" in r.headers["Content-Disposition"]
    rows = list(load_workbook(io.BytesIO(r.data), read_only=True).active.iter_rows(
        values_only=True))
    assert rows[0][:5] == ("分组", "名称", "留言数", "已答复", "答复率（%）")
    assert rows[0][-2:] == ("1个工作日内答复率（%）", "10个工作日内答复率（%）")
    assert rows[1][:7] == ("合计", "合计", 7, 5, 71.43, 39, 168.6)
    assert rows[2][:5] == ("按答复单位", "区教育局", 3, 3, 100)
    slow = [row for row in rows if row and row[0] == "答复最慢的留言"]
    assert slow[0][1] == "标题" and slow[1][6] == 210
    assert any(row[1] == "'=HYPERLINK(\"http://evil.example\")污水外溢" for row in slow)


def test_the_csv_export_streams_the_units_own_rows(
        login: Callable[[str], Browser], posts: dict[str, int]) -> None:
    r = login("dept").get("/reports/replies/export.csv?from=2025-09-01&to=2025-10-31")
    assert r.status_code == 200 and r.is_streamed
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert rows[1][:4] == ["合计", "合计", "3", "3"]
    units = [row[1] for row in rows if row and row[0] == "按答复单位"]
    assert units == ["区教育局"]
    assert login("dept").get("/reports/replies/export.pdf").status_code == 400


def test_the_openapi_document_validates_and_describes_the_reply_report(app: Flask) -> None:
    doc = app.test_client().get("/api/v1/openapi.json").get_json()
    validate(doc)
    entry = doc["paths"]["/api/v1/reports/replies"]["get"]
    assert {p["name"] for p in entry["parameters"]} == {"from", "to", "preset", "source", "days"}
