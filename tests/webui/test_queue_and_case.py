"""The queue's order and filters, the case page's content, and corrections as feedback."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from store import CaseAction, Database, Feedback
from tests.webui.conftest import Browser
from yuqing.context import AppContext

FIXED = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # a Monday, 10:00 in Nanjing


def _ids(b: Browser, query: str = "") -> list[int]:
    r = b.get("/api/v1/cases" + query)
    assert r.status_code == 200, r.get_data(as_text=True)
    return [c["id"] for c in r.get_json()["cases"]]


def test_the_queue_sorts_by_severity_then_the_nearest_deadline(
        login: Callable[[str], Browser], make_case: Callable[..., int]) -> None:
    blue = make_case("蓝色", severity=4, due_answer=timedelta(hours=1))
    yellow_late = make_case("黄色远", severity=3, due_answer=timedelta(hours=40))
    yellow_soon = make_case("黄色近", severity=3, due_answer=timedelta(hours=2))
    yellow_none = make_case("黄色无时限", severity=3)
    red = make_case("红色", severity=1, due_answer=timedelta(hours=30))
    signing = make_case("待签收", severity=3, state="dispatched", lead="jn-dongshan",
                        due_sign=timedelta(minutes=30), due_answer=timedelta(hours=48))
    monitor = login("monitor")
    assert _ids(monitor) == [red, signing, yellow_soon, yellow_late, yellow_none, blue]
    page = monitor.get("/queue").get_data(as_text=True)
    assert page.index("红色") < page.index("黄色近") < page.index("蓝色")
    assert 'class="countdown" data-due="' in page


def test_the_queue_counts_down_from_the_app_clock(login: Callable[[str], Browser],
                                                 make_case: Callable[..., int],
                                                 ctx: AppContext) -> None:
    ctx.clock = lambda: FIXED
    case_id = make_case("时限", severity=3, due_answer=timedelta(hours=2))
    shown = next(c for c in login("monitor").get("/api/v1/cases").get_json()["cases"]
                 if c["id"] == case_id)
    assert datetime.fromisoformat(shown["next_due_at"]).replace(tzinfo=UTC) == (
        FIXED + timedelta(hours=2))


def test_the_queue_filters_by_every_field(login: Callable[[str], Browser],
                                          make_case: Callable[..., int], ctx: AppContext) -> None:
    ctx.clock = lambda: FIXED
    old = make_case("上周旧事", severity=2, created=FIXED - timedelta(days=7))
    school = make_case("学校收费", topic="education", severity=3, lead="jn-edu",
                       place="320115011", state="dispatched", source="test:board")
    closed = make_case("已办结事项", state="closed")
    street = make_case("东山路面塌陷", severity=4, lead="jn-dongshan")
    m = login("monitor")
    assert set(_ids(m)) == {old, school, street}  # closed is not in the open queue
    assert _ids(m, "?severity=2&severity=3") == [old, school]
    assert _ids(m, "?topic=education") == [school]
    assert _ids(m, "?place=320115011") == [school]
    assert _ids(m, "?place=320115") == _ids(m)
    assert _ids(m, "?unit=jn-dongshan") == [street]
    assert _ids(m, "?state=closed") == [closed]
    assert set(_ids(m, "?state=dispatched&state=new")) == {old, school, street}
    assert old not in _ids(m, "?since=" + (FIXED - timedelta(days=1)).date().isoformat()
                           + "T00:00:00%2B08:00")
    assert _ids(m, "?until=" + (FIXED - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")) == [old]
    assert _ids(m, "?source=test:board") == [school]
    assert _ids(m, "?q=塌陷") == [street]
    page = m.get("/queue?topic=education").get_data(as_text=True)
    assert "学校收费" in page and "东山路面塌陷" not in page


def test_bad_filters_get_a_clear_chinese_error(login: Callable[[str], Browser]) -> None:
    m = login("monitor")
    r = m.get("/api/v1/cases?severity=9")
    assert r.status_code == 400 and "预警级别只能是 1–4" in r.get_json()["error"]
    r = m.get("/queue?since=yesterday")
    assert r.status_code == 400
    assert m.get("/api/v1/cases?state=bogus").status_code == 400


def test_the_case_page_shows_posts_reasons_routing_and_history(
        login: Callable[[str], Browser], make_case: Callable[..., int]) -> None:
    case_id = make_case("东山街道污水外溢", lead="jn-dongshan", co=("jn-eco",),
                        due_answer=timedelta(hours=20))
    page = login("monitor").get(f"/cases/{case_id}").get_data(as_text=True)
    for expected in ("小区门口污水外溢多日无人处理。", "命中关键词：污水", "涉及环境污染",
                     "单一街道事项：属地街道主办", "主办：东山街道", "协办：", "答复时限",
                     "查看原文", "首发来源：测试微博", 'id="trend"', "echarts.min.js"):
        assert expected in page, expected


def test_crawled_markup_is_escaped_on_the_case_page(login: Callable[[str], Browser],
                                                    make_case: Callable[..., int]) -> None:
    evil = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=1">'
    case_id = make_case(f"标题{evil}", text=f"正文{evil}")
    page = login("monitor").get(f"/cases/{case_id}").get_data(as_text=True)
    assert "<script>window" not in page and "<img src=x" not in page
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in page


def test_corrections_change_the_case_and_are_recorded_as_feedback(
        login: Callable[[str], Browser], make_case: Callable[..., int], db: Database) -> None:
    case_id = make_case(severity=3, topic="environment", place="320115001", lead="jn-dongshan")
    m = login("monitor")
    r = m.post(f"/cases/{case_id}/corrections",
               {"topic": "education", "severity": "2", "place": "320115011",
                "unit": "jn-edu", "note": "实为学校周边问题", "expected_version": "1"})
    assert r.status_code == 302
    detail = m.get(f"/api/v1/cases/{case_id}").get_json()
    assert (detail["topic"], detail["severity"], detail["place_code"]) == (
        "education", 2, "320115011")
    assert detail["version"] == 2
    with db.session() as s:
        rows = {f.field: (f.old_value, f.new_value) for f in s.scalars(select(Feedback))}
        audit = s.scalars(select(CaseAction).where(CaseAction.case_id == case_id)).all()
    assert rows == {"topic": ("environment", "education"), "severity": ("3", "2"),
                    "place": ("320115001", "320115011"), "unit": ("jn-dongshan", "jn-edu")}
    assert [a.action for a in audit] == ["correct"] and audit[0].note == "实为学校周边问题"
    assert "更正研判" in m.get(f"/cases/{case_id}").get_data(as_text=True)
    stale = m.post_json(f"/api/v1/cases/{case_id}/corrections",
                        {"severity": 1, "expected_version": 1})
    assert stale.status_code == 409 and "他人修改" in stale.get_json()["error"]
    unknown = m.post_json(f"/api/v1/cases/{case_id}/corrections", {"topic": "nonsense"})
    assert unknown.status_code == 400 and "未知的领域" in unknown.get_json()["error"]


def test_every_script_style_and_font_is_served_by_the_console_itself(
        login: Callable[[str], Browser], make_case: Callable[..., int]) -> None:
    import re

    case_id = make_case()
    m = login("monitor")
    for url in ("/queue", f"/cases/{case_id}", "/login"):
        page = m.get(url).get_data(as_text=True)
        assets = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', page)
        assert assets and all(a.startswith("/static/") for a in assets), assets
        for asset in assets:
            assert m.get(asset).status_code == 200, asset
    css = m.get("/static/fonts/noto-sans-sc/noto-sans-sc-400.css").get_data(as_text=True)
    fonts = re.findall(r"url\(\./([^)]+)\)", css)
    assert fonts and "http" not in css
    assert m.get(f"/static/fonts/noto-sans-sc/{fonts[0]}").status_code == 200


def test_the_queue_page_shows_50_rows_and_links_the_next_page_with_its_filters(
        login: Callable[[str], Browser], make_case: Callable[..., int]) -> None:
    import html
    import re
    ids = {make_case(f"分页{i:02d}", severity=3, due_answer=timedelta(hours=i + 1))
           for i in range(53)}
    other = make_case("别的领域", topic="education", severity=3)
    m = login("monitor")
    page = m.get("/queue?topic=environment&severity=3").get_data(as_text=True)
    first = [int(v) for v in re.findall(r'<tr data-id="(\d+)"', page)]
    assert len(first) == 50 and "共 53 件" in page and 'data-limit="50"' in page
    assert first == [c["id"] for c in m.get("/api/v1/cases?topic=environment&severity=3"
                                             "&limit=50").get_json()["cases"]]
    link = re.search(r'<a href="([^"]+)" id="next-page"', page)
    assert link, "no 下一页 link"
    url = html.unescape(link.group(1))
    assert "topic=environment" in url and "severity=3" in url and "cursor=" in url
    second_page = m.get(url).get_data(as_text=True)
    second = [int(v) for v in re.findall(r'<tr data-id="(\d+)"', second_page)]
    assert len(second) == 3 and set(first) | set(second) == ids and other not in second
    assert 'id="next-page"' not in second_page and 'id="first-page"' in second_page
