"""The response report in the console: page, drill-down, API, exports, each per role."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from pathlib import Path

import openpyxl
import pytest
from flask import Flask

from routing.policy import Policy
from store import Database
from tests.conftest import Prepared, prepared_database, prepared_url
from tests.routing.report_history import NOW, build_history
from tests.webui.conftest import Browser, create_personas
from yuqing.context import AppContext

RANGE = "from=2026-09-28&to=2026-10-11"


def _history_and_personas(ctx: AppContext) -> dict[str, dict[str, int] | dict[str, str]]:
    return {"cases": build_history(ctx.db, Policy.from_settings(ctx.settings)),
            "tokens": create_personas(ctx.db)}


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory, pg_database_url: str | None,
             sqlite_template: Path) -> Iterator[Prepared]:
    # the fixed history is built through the real workflow: once per module, not per test
    with prepared_database(tmp_path_factory.mktemp("history"), pg_database_url,
                           sqlite_template, _history_and_personas) as done:
        yield done


@pytest.fixture
def database_url(request: pytest.FixtureRequest, database_url: str, prepared: Prepared,
                 tmp_path: Path) -> str:
    """Tests that ask for ``history`` only read: they get the prepared database; the others
    (which add cases of their own) an empty one as everywhere."""
    return prepared_url(prepared, tmp_path) if "history" in request.fixturenames \
        else database_url


@pytest.fixture
def users(request: pytest.FixtureRequest, db: Database, prepared: Prepared) -> dict[str, str]:
    # the personas live in the prepared database; an empty one gets its own
    return prepared.data["tokens"] if "history" in request.fixturenames \
        else create_personas(db)


@pytest.fixture
def history(ctx: AppContext, app: Flask, prepared: Prepared) -> dict[str, int]:
    ctx.clock = lambda: NOW  # the report's "now" (overdue, missed limits) is the fixed instant
    return prepared.data["cases"]


def test_leader_page_lists_flagged_units_first_and_every_number_drills_down(
        login: Callable[[str], Browser], history: dict[str, int]) -> None:
    leader = login("leader")
    page = leader.get(f"/reports/response?{RANGE}").get_data(as_text=True)
    assert "计入其所度量事件发生的时间段" in page  # the counting rule is stated on the page
    units_table = page[page.index('id="units"'):page.index('id="topics"')]
    # at 85 % all three are flagged; lead rows first, the lowest rate first
    assert units_table.index('data-unit="jn-moling"') < units_table.index('data-unit="jn-dongshan"')
    assert units_table.index('data-unit="jn-dongshan"') < units_table.index('data-unit="jn-edu"')
    assert 'class="flagged"' in units_table
    link = ("/reports/response/cases?from=2026-09-28&amp;to=2026-10-11"
            "&amp;metric=answer_on_time_rate&amp;unit=jn-dongshan&amp;role=lead")
    assert link in units_table and ">66.7%</a>" in units_table
    cases = leader.get(link.replace("&amp;", "&")).get_data(as_text=True)
    for key in ("A", "B", "C", "D", "E"):
        assert f'href="/cases/{history[key]}"' in cases
    assert "超时未回应" in cases  # D is listed as missed


def test_preset_button_ignores_the_dates_shown(login: Callable[[str], Browser],
                                               history: dict[str, int]) -> None:
    r = login("monitor").client.get(
        f"/api/v1/reports/response?{RANGE}&preset=last_week&apply=preset")
    # NOW is Mon 2026-10-12: last week is 10-05..10-11
    assert r.get_json()["period"]["from"] == "2026-10-05"


def test_drilling_into_an_on_time_rate_marks_which_cases_counted_as_on_time(
        login: Callable[[str], Browser], history: dict[str, int]) -> None:
    # 东山 in 10-05..10-11: A (within its extension) and E answered on time, D missed → 2 / 3
    r = login("leader").client.get(
        "/api/v1/reports/response/cases?preset=last_week&metric=answer_on_time_rate"
        "&unit=jn-dongshan&role=lead")
    marks = {row["case_id"]: row["on_time"] for row in r.get_json()["cases"]}
    assert marks == {history["A"]: True, history["D"]: False, history["E"]: True}
    # a count has no such mark
    r = login("leader").client.get("/api/v1/reports/response/cases?preset=last_week"
                                   "&metric=assigned&unit=jn-dongshan&role=lead")
    assert {row["on_time"] for row in r.get_json()["cases"]} == {None}


def test_bad_period_is_a_chinese_400(login: Callable[[str], Browser],
                                     history: dict[str, int]) -> None:
    monitor = login("monitor")
    r = monitor.client.get("/api/v1/reports/response?from=2026-10-11&to=2026-09-28")
    assert r.status_code == 400 and "结束日期不能早于开始日期" in r.get_json()["error"]
    r = monitor.get("/reports/response?from=yesterday")
    assert r.status_code == 400 and "YYYY-MM-DD" in r.get_data(as_text=True)
    r = monitor.client.get(f"/api/v1/reports/response/cases?{RANGE}&metric=nope")
    assert r.status_code == 400 and "未知的指标" in r.get_json()["error"]


# persona -> units whose rows it sees in the report (the fixed history has three units)
VISIBLE = {"admin": {"jn-dongshan", "jn-moling", "jn-edu"},
           "monitor": {"jn-dongshan", "jn-moling", "jn-edu"},
           "leader": {"jn-dongshan", "jn-moling", "jn-edu"},
           "street": {"jn-dongshan"}, "dept": {"jn-edu"}}


@pytest.mark.parametrize("persona", sorted(VISIBLE))
def test_access_matrix_is_the_same_in_page_api_drill_down_and_exports(
        persona: str, login: Callable[[str], Browser], users: dict[str, str], app: Flask,
        history: dict[str, int]) -> None:
    who = login(persona)
    api = app.test_client().get(f"/api/v1/reports/response?{RANGE}",
                                headers={"Authorization": f"Bearer {users[persona]}"})
    assert api.status_code == 200
    assert {r["unit"] for r in api.get_json()["units"]} == VISIBLE[persona]
    page = who.get(f"/reports/response?{RANGE}").get_data(as_text=True)
    for code in ("jn-dongshan", "jn-moling", "jn-edu"):
        assert (f'data-unit="{code}"' in page) == (code in VISIBLE[persona])
    export = who.get(f"/reports/response/export?{RANGE}&format=csv").get_data().decode()
    exported = {row[1] for row in csv.reader(io.StringIO(export.lstrip("\ufeff")))
                if row[0] == "单位"}
    assert exported == VISIBLE[persona]
    # another unit's figures or cases: refused for a unit user, shown to everyone else
    for url in (f"/api/v1/reports/response?{RANGE}&unit=jn-moling",
                f"/api/v1/reports/response/cases?{RANGE}&metric=assigned&unit=jn-moling"):
        r = who.client.get(url)
        assert r.status_code == (403 if persona in ("street", "dept") else 200), url
        if r.status_code == 403:
            assert r.get_json()["error"] == "无权查看其他单位的考核数据"
    # the total's drill-down holds only the cases the viewer may see
    drill = who.client.get(f"/api/v1/reports/response/cases?{RANGE}&metric=assigned").get_json()
    listed = {c["case_id"] for c in drill["cases"]}
    if persona == "dept":  # 教育局 is only ever a co-unit: no lead figures at all
        assert listed == set()
    elif persona == "street":
        assert listed == {history[k] for k in "ABCDE"}
        assert {c["unit"] for c in drill["cases"]} == {"jn-dongshan"}
    else:
        assert listed == {history[k] for k in "ABCDE"}


def test_report_xlsx_reads_back_with_the_api_figures(login: Callable[[str], Browser],
                                                      history: dict[str, int]) -> None:
    monitor = login("monitor")
    r = monitor.get(f"/reports/response/export?{RANGE}&format=xlsx")
    assert r.status_code == 200
    assert "filename*=UTF-8''" in r.headers["Content-Disposition"]
    rows = list(openpyxl.load_workbook(io.BytesIO(r.get_data())).active.iter_rows(values_only=True))
    header = rows[0]
    by_name = {(row[0], row[1], row[3]): dict(zip(header, row, strict=True)) for row in rows[1:]}
    dongshan = by_name[("单位", "jn-dongshan", "主办")]
    assert dongshan["按时回应率"] == pytest.approx(0.6667, abs=1e-4)  # 4 / 6
    assert dongshan["回应用时 90 分位（小时）"] == pytest.approx(163.7)
    assert dongshan["是否标红"] == "是"
    assert by_name[("合计", None, "主办")]["派发"] == 7


@pytest.mark.parametrize(("persona", "fmt"), [("monitor", "xlsx"), ("street", "csv"),
                                              ("dept", "xlsx"), ("leader", "csv")])
def test_case_list_export_follows_the_queue_filters_and_the_viewer(
        persona: str, fmt: str, login: Callable[[str], Browser],
        history: dict[str, int]) -> None:
    who = login(persona)
    # every state, like the queue with all states ticked
    states = "&".join(f"state={s}" for s in ("new", "dispatched", "acknowledged", "responded",
                                             "closed", "returned", "dismissed"))
    r = who.get(f"/queue/export?format={fmt}&{states}")
    assert r.status_code == 200
    if fmt == "xlsx":
        rows = list(openpyxl.load_workbook(io.BytesIO(r.get_data())).active.iter_rows(
            values_only=True))
    else:
        rows = list(csv.reader(io.StringIO(r.get_data().decode().lstrip("\ufeff"))))
    assert rows[0][:3] == ("编号", "标题", "级别") if fmt == "xlsx" else ["编号", "标题", "级别"]
    ids = {int(row[0]) for row in rows[1:]}
    # 教育局 was assigned on A and D only; 东山 on all five (B and C after 秣陵)
    assert ids == ({history["A"], history["D"]} if persona == "dept"
                   else {history[k] for k in "ABCDE"})
    # the queue's filters apply: only the case being handled
    r = who.get("/queue/export?format=csv&state=acknowledged")
    rows = list(csv.reader(io.StringIO(r.get_data().decode().lstrip("\ufeff"))))
    assert {int(row[0]) for row in rows[1:]} == {history["D"]}
    assert rows[1][5] == "处置中"


def test_case_list_export_neutralises_a_hostile_title(
        login: Callable[[str], Browser], make_case: Callable[..., int]) -> None:
    make_case("=HYPERLINK(\"http://evil.example\",\"点击\")")
    r = login("monitor").get("/queue/export?format=xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(r.get_data())).active
    title = sheet.cell(row=2, column=2)
    assert title.value.startswith("'=HYPERLINK") and title.data_type == "s"


def test_nav_links_to_the_report_for_every_role(login: Callable[[str], Browser]) -> None:
    for persona in ("leader", "monitor", "street"):
        page = login(persona).get("/my" if persona == "street" else "/queue")
        assert 'href="/reports/response"' in page.get_data(as_text=True)


def test_openapi_document_with_the_report_paths_validates(app: Flask) -> None:
    from openapi_spec_validator import validate

    doc = app.test_client().get("/api/v1/openapi.json").get_json()
    validate(doc)
    assert {"/api/v1/reports/response", "/api/v1/reports/response/cases"} <= set(doc["paths"])
