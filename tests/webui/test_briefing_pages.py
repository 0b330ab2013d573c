"""Briefing pages and downloads: printable HTML per role, DOCX and PDF read back, access."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from briefing_history import NOW, History, seed
from docx import Document as read_docx
from flask import Flask
from pypdf import PdfReader

from routing.policy import Policy
from store import Database
from tests.webui.conftest import PASSWORD
from webui.accounts import create_user, issue_token
from yuqing.context import AppContext
from yuqing.settings import Settings


@pytest.fixture
def clocked(app: Flask, ctx: AppContext) -> Flask:
    ctx.clock = lambda: NOW  # the app reads the context's clock
    return app


@pytest.fixture
def history(db: Database, settings: Settings, clocked: Flask) -> History:
    return seed(db, Policy.from_settings(settings))


@pytest.mark.parametrize("persona", ["leader", "monitor", "admin"])
def test_weekly_page_is_shown_to_leaders_monitors_and_admins(
        persona: str, login: Callable, history: History) -> None:
    r = login(persona).get("/briefings/weekly?date=2026-11-18")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "江宁区舆情周报" in html and "2026-11-16 至 2026-11-22" in html
    for heading in ("一、总体情况", "二、信息量及变化", "三、重点舆情事件", "四、情感倾向与领域分布",
                    "五、回应处置情况", "六、重点回应", "七、下步研判"):
        assert heading in html
    assert "东山街道某小区污水外溢多日无人处理" in html
    assert 'src="data:image/png;base64,' in html  # the chart rendered on the server
    assert "briefing.css" in html and "format=docx" in html


def test_default_weekly_is_last_week_and_daily_is_yesterday(login: Callable,
                                                            history: History) -> None:
    leader = login("leader")
    assert "2026-11-16 至 2026-11-22" in leader.get("/briefings/weekly").get_data(as_text=True)
    daily = leader.get("/briefings/daily").get_data(as_text=True)
    assert "江宁区舆情日报" in daily and "2026-11-22" in daily


UNIT_REFUSED = ["/briefings", "/briefings/daily", "/briefings/weekly",
                "/briefings/weekly?format=pdf", "/briefings/daily?format=docx",
                "/api/v1/briefings/weekly", "/api/v1/briefings",
                "/briefings/files/weekly-2026-11-16.pdf"]


@pytest.mark.parametrize("persona", ["street", "dept"])
def test_units_get_no_briefings(persona: str, login: Callable, clocked: Flask) -> None:
    unit = login(persona)
    assert {url: unit.get(url).status_code for url in UNIT_REFUSED} == dict.fromkeys(
        UNIT_REFUSED, 403)
    assert "舆情简报" not in unit.get("/my").get_data(as_text=True)  # no menu entry either


def test_event_briefing_for_units_is_refused_too(login: Callable, history: History) -> None:
    street = login("street")
    assert street.get(f"/briefings/event/{history.e1}").status_code == 403
    assert street.get(f"/api/v1/briefings/event/{history.e1}").status_code == 403


def test_weekly_docx_has_headings_figures_and_an_embedded_chart(login: Callable,
                                                               history: History) -> None:
    r = login("leader").get("/briefings/weekly?date=2026-11-20&format=docx")
    assert r.status_code == 200
    assert r.mimetype.endswith("wordprocessingml.document")
    assert "attachment" in r.headers["Content-Disposition"]
    doc = read_docx(io.BytesIO(r.data))
    texts = [p.text for p in doc.paragraphs]
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert "江宁区舆情周报" in texts[0]
    assert headings[:2] == ["一、总体情况", "二、信息量及变化"]
    assert any("本周共监测到相关信息12条" in t for t in texts)
    assert any("本期监测到相关信息 12 条，上期 4 条，环比上升200.0%" in t for t in texts)
    events = doc.tables[1]  # the source-kind split comes first, then the events
    assert events.rows[0].cells[1].text == "事件"
    assert events.rows[1].cells[1].text == "东山街道某小区污水外溢多日无人处理"
    assert events.rows[1].cells[5].text == "东山街道"
    assert len(doc.inline_shapes) == 2  # volume curve and topics
    blob = doc.inline_shapes[0]._inline.graphic.graphicData.pic.blipFill.blip.embed
    assert doc.part.related_parts[blob].blob.startswith(b"\x89PNG")


def test_weekly_pdf_embeds_the_font_and_its_text_extracts(login: Callable,
                                                          history: History) -> None:
    r = login("monitor").get("/briefings/weekly?date=2026-11-20&format=pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    pdf = PdfReader(io.BytesIO(r.data))
    text = "".join(page.extract_text() for page in pdf.pages)
    squeezed = "".join(text.split())
    assert "江宁区舆情周报" in squeezed
    assert "本周共监测到相关信息12条" in squeezed
    assert "东山街道某小区污水外溢" in squeezed
    assert "按时签收率0.0%" in squeezed  # from the response report
    fonts = {str(f["/BaseFont"]) for page in pdf.pages
             for f in page["/Resources"]["/Font"].values()}
    assert any("NotoSansSC" in name for name in fonts)
    descriptor = next(f for page in pdf.pages for f in page["/Resources"]["/Font"].values()
                      )["/DescendantFonts"][0]["/FontDescriptor"]
    assert "/FontFile2" in descriptor  # the TrueType subset is embedded
    images = [img for page in pdf.pages for img in page.images]
    assert len(images) >= 2


def test_event_briefing_page_shows_timeline_history_and_deadlines(login: Callable,
                                                                  history: History) -> None:
    html = login("leader").get(f"/briefings/event/{history.e1}").get_data(as_text=True)
    assert "江宁区舆情专报" in html
    for text in ("事件时间线", "处置过程", "时限执行", "江宁新闻网首发", "超时完成",
                 "街道已组织疏通管网"):
        assert text in html


def test_event_briefing_pdf_has_the_deadlines(login: Callable, history: History) -> None:
    r = login("leader").get(f"/briefings/event/{history.e1}?format=pdf")
    text = "".join("".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(r.data)).pages)
    assert "时限执行" in text and "超时完成" in text and "东山街道某小区污水外溢" in text


@pytest.mark.parametrize("url, status, message", [
    ("/briefings/weekly?date=2026-13-01", 400, "日期格式应为 YYYY-MM-DD"),
    ("/briefings/daily?format=xls", 400, "不支持的格式"),
    ("/briefings/event/999", 404, "事件 999 不存在"),
    ("/api/v1/briefings/event/999", 404, "事件 999 不存在"),
    ("/briefings/files/yuqing.db", 404, "简报文件不存在"),
])
def test_bad_input_gets_a_chinese_error(url: str, status: int, message: str, login: Callable,
                                        history: History) -> None:
    r = login("leader").get(url)
    assert r.status_code == status
    assert message in r.get_data(as_text=True)


def test_api_returns_the_same_figures_as_the_page(login: Callable, history: History) -> None:
    body = login("leader").get("/api/v1/briefings/weekly?date=2026-11-16").get_json()
    assert body["volume"]["posts"] == 12 and body["volume"]["previous_posts"] == 4
    assert body["events"][0]["lead_units"] == ["东山街道"]
    assert len(body["summary"]) <= 200


def test_a_leader_bound_to_a_street_sees_only_its_units_figures_as_in_the_reports(
        app: Flask, db: Database, users: dict[str, str], history: History) -> None:
    # the reports' rule (routing.reports.access): a leader bound to 东山街道 (320115001)
    # sees the units of that jurisdiction; an unbound leader sees every unit
    create_user(db, "dsleader", PASSWORD, "leader", unit_code="jn-dongshan")
    client = app.test_client()
    url = "/api/v1/briefings/weekly?date=2026-11-16"

    def figures(token: str) -> dict:
        r = client.get(url, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200
        return r.get_json()

    bound, unbound = figures(issue_token(db, "dsleader")), figures(users["leader"])
    assert {u["unit"] for u in bound["response"]["units"]} == {"jn-dongshan"}
    assert {u["unit"] for u in unbound["response"]["units"]} >= {"jn-dongshan", "jn-moling"}
    # 秣陵's case 2 is overdue: listed for the district's leader, not for 东山's
    assert [c["id"] for c in unbound["overdue_cases"]] == [history.case2]
    assert bound["overdue_cases"] == []
    assert bound["response"]["total"]["assigned"] == 1  # 东山's case 1 alone


def test_openapi_document_with_the_briefing_paths_validates(app: Flask) -> None:
    from openapi_spec_validator import validate

    from webui.briefings import openapi_paths

    doc = app.test_client().get("/api/v1/openapi.json").get_json()
    validate(doc)
    for path, entry in openapi_paths().items():
        assert doc["paths"][path] == entry


def test_case_page_links_to_its_special_report_for_monitors_only(
        login: Callable, history: History) -> None:
    link = f'href="/briefings/event/{history.e2}"'
    assert link in login("monitor").get(f"/cases/{history.case2}").get_data(as_text=True)
    street = login("dept")  # 区教育局 co-handles case 2 and may open it, but gets no briefing
    page = street.get(f"/cases/{history.case2}")
    assert page.status_code == 200 and link not in page.get_data(as_text=True)


HOSTILE = '<script>window.__pwned=1</script>\x01\x0b小区污水😀'  # NUL never reaches the store


def test_hostile_crawled_text_is_escaped_and_written_into_every_format(
        login: Callable, db: Database, clocked: Flask) -> None:
    from store import Event

    with db.session() as s:
        event = Event(title=HOSTILE, topic="environment", severity=4, summary=HOSTILE)
        s.add(event)
        s.flush()
        event_id = event.id
    leader = login("leader")
    html = leader.get(f"/briefings/event/{event_id}").get_data(as_text=True)
    assert "<script>window.__pwned" not in html and "&lt;script&gt;" in html
    docx = leader.get(f"/briefings/event/{event_id}?format=docx")
    assert docx.status_code == 200
    paragraphs = [p.text for p in read_docx(io.BytesIO(docx.data)).paragraphs]
    assert "<script>window.__pwned=1</script>小区污水😀" in paragraphs  # controls dropped
    pdf = leader.get(f"/briefings/event/{event_id}?format=pdf")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert pdf.status_code == 200 and "小区污水" in text and "尚无处置记录" in text


def test_files_kept_by_the_job_are_listed_and_downloadable(
        login: Callable, history: History, ctx: AppContext) -> None:
    from yuqing.briefings import handle_one

    handle_one(AppContext(settings=ctx.settings, clock=lambda: NOW), "weekly", deliver=False)
    leader = login("leader")
    page = leader.get("/briefings").get_data(as_text=True)
    assert "舆情周报" in page and 'href="/briefings/files/weekly-2026-11-16.pdf"' in page
    r = leader.get("/briefings/files/weekly-2026-11-16.pdf")
    assert r.status_code == 200 and r.data.startswith(b"%PDF")
    listed = leader.get("/api/v1/briefings").get_json()["briefings"]
    assert [f["url"] for f in listed[0]["files"]] == [
        "/briefings/files/weekly-2026-11-16.docx", "/briefings/files/weekly-2026-11-16.pdf"]
