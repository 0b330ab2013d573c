"""The queue page keeps each row's HTML (webui/cases.py): a kept row must be the very HTML an
uncached render gives, and a case that changed in anything its row shows renders afresh."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

from flask import Flask
from sqlalchemy import select, update

from store import Case, Database, Event, Notice, Role, Unit
from store.queue_order import queue_values
from tests.webui.conftest import Browser
from webui import queries
from webui.accounts import Viewer
from webui.present import QUEUE_ROW_FIELDS, Names, case_summary, queue_row_key

ROWS = "yuqing.queue_rows"


def _page(client: object, token: str, url: str = "/queue") -> str:
    r = client.get(url, headers={"Authorization": f"Bearer {token}"})  # type: ignore[attr-defined]
    assert r.status_code == 200, r.status_code
    # the CSRF token is new in every session of a bearer request; nothing else may differ
    return re.sub(r'(csrf-token" content=|name="csrf_token" value=)"[^"]*"', r"\1", r.get_data(
        as_text=True))


def _row(html: str, case_id: int) -> str:
    found = re.search(rf'<tr data-id="{case_id}".*?</tr>', html, re.S)
    assert found, f"no row for case {case_id}"
    return found.group(0)


def _varied_cases(make_case: Callable[..., int], db: Database) -> list[int]:
    ids = [make_case(title="普通<b>工单</b>&", severity=1, lead="jn-dongshan"),
           make_case(title="已派发", severity=2, state="dispatched", lead="jn-edu",
                     co=("jn-eco",), due_sign=timedelta(hours=2),
                     due_answer=timedelta(days=3)),
           make_case(title="未分级", severity=None, topic="nothing", place="999"),  # type: ignore[arg-type]
           make_case(title="已回应", severity=3, state="responded", lead="jn-dongshan"),
           make_case(title="标记多", severity=4, due_answer=timedelta(hours=5))]
    with db.session() as s:
        s.execute(update(Case).where(Case.id == ids[4]).values(
            urgent=True, supervised=True, overdue=True, extension_request={"hours": 24}))
        s.add(Notice(case_id=ids[1], title="新工单"))  # unread for monitors: a marked row
    return ids


def test_kept_rows_are_the_html_of_an_uncached_render_for_every_role_and_filter(
        app: Flask, users: dict[str, str], make_case: Callable[..., int], db: Database) -> None:
    ids = _varied_cases(make_case, db)
    client = app.test_client()
    urls = ["/queue", "/queue?severity=1&severity=4", "/queue?state=responded",
            "/queue?q=%E5%B7%A5%E5%8D%95", "/queue?unit=jn-dongshan", "/queue?limit=2"]
    for persona in ("admin", "monitor", "leader"):
        for url in urls:
            app.extensions.pop(ROWS, None)
            fresh = _page(client, users[persona], url)
            assert app.extensions[ROWS], "rows were not kept"
            assert _page(client, users[persona], url) == fresh, (persona, url)  # kept rows
    html = _page(client, users["monitor"])
    assert all(f'data-id="{i}"' in html for i in ids)
    assert 'class="sev-blue overdue"' in _row(html, ids[4])
    assert ' unread"' in _row(html, ids[1]) and ' unread"' not in _row(html, ids[0])
    assert "普通&lt;b&gt;工单&lt;/b&gt;&amp;" in _row(html, ids[0])  # escaped when first kept
    assert "普通&lt;b&gt;工单&lt;/b&gt;&amp;" in _row(_page(client, users["monitor"]), ids[0])


def test_the_row_key_holds_every_value_the_row_shows(
        app: Flask, users: dict[str, str], make_case: Callable[..., int], db: Database) -> None:
    _varied_cases(make_case, db)
    with app.test_request_context(), db.session() as s:
        viewer = Viewer(user_id=1, username="m", role=Role.MONITOR, unit_id=None, name="")
        rows, _ = queries.list_cases(s, viewer, queries.CaseFilter(state=["new", "dispatched",
                                                                          "responded"]))
        names = Names(s)
        assert len(rows) == 5
        for c in rows:
            summary = case_summary(c, names)
            shown = {**summary, "lead_unit": (summary["lead_unit"] or {}).get("name")}
            assert queue_row_key(c, names) == tuple(shown[k] for k in QUEUE_ROW_FIELDS)


def test_a_changed_case_shows_its_new_state_on_the_next_request(
        app: Flask, users: dict[str, str], make_case: Callable[..., int], db: Database,
        login: Callable[[str], Browser]) -> None:
    ids = _varied_cases(make_case, db)
    monitor = login("monitor")
    token = users["monitor"]
    client = app.test_client()
    before = _page(client, token)
    assert "普通&lt;b&gt;工单" in _row(before, ids[0])
    # a real action (its audit row) ...
    r = monitor.post(f"/cases/{ids[2]}/actions/dispatch",
                     {"lead": "jn-eco", "expected_version": "1"})
    assert r.status_code == 302, r.get_data(as_text=True)
    # ... and changes without one: a crawl adds posts, an admin renames a unit, a level
    with db.session() as s:
        s.execute(update(Case).where(Case.id == ids[0]).values(title="改过的<i>标题</i>"))
        event_id = s.scalar(select(Case.event_id).where(Case.id == ids[3]))
        s.execute(update(Event).where(Event.id == event_id).values(post_count=77))
        s.execute(update(Unit).where(Unit.code == "jn-edu").values(short_name="教育局新名"))
        c = s.get(Case, ids[4])
        assert c is not None
        s.execute(update(Case).where(Case.id == ids[4]).values(
            severity=2, urgent=False, extension_request={},
            **queue_values(c.state, 2, c.due_sign_at, c.due_first_response_at,
                           c.due_answer_at)))
    after = _page(client, token)
    assert "改过的&lt;i&gt;标题&lt;/i&gt;" in _row(after, ids[0])
    assert "<td>待签收</td>" in _row(after, ids[2]) and "<td>待签收</td>" not in _row(before,
                                                                                    ids[2])
    assert "<td>江宁生态环境局</td>" in _row(after, ids[2])
    assert "<td>77</td>" in _row(after, ids[3])
    assert "<td>教育局新名</td>" in _row(after, ids[1])
    row = _row(after, ids[4])
    assert 'class="sev-orange overdue"' in row and "紧急" not in row and "待审批延期" not in row
    assert "督办" in row
    # reading the notice clears the row's mark for this monitor on the next page
    assert ' unread"' in _row(after, ids[1])
    assert monitor.post("/inbox/read", {"all": "1"}).status_code == 302
    assert ' unread"' not in _row(monitor.get("/queue").get_data(as_text=True), ids[1])
    # every kept row equals an uncached render
    kept = _page(client, token)
    app.extensions.pop(ROWS, None)
    assert _page(client, token) == kept


def test_a_leader_never_gets_rows_kept_for_a_monitor(
        app: Flask, users: dict[str, str], make_case: Callable[..., int], db: Database) -> None:
    ids = _varied_cases(make_case, db)
    client = app.test_client()
    monitor = _page(client, users["monitor"])
    assert f'name="ids" value="{ids[0]}"' in monitor
    leader = _page(client, users["leader"])
    assert 'name="ids"' not in leader and all(f'data-id="{i}"' in leader for i in ids)
    # units have their own page: the queue is not theirs, and "my cases" shows their own only
    for unit in ("street", "dept"):
        r = client.get("/queue", headers={"Authorization": f"Bearer {users[unit]}"})
        assert r.status_code == 403
    mine = client.get("/api/v1/cases", headers={"Authorization": f"Bearer {users['street']}"})
    assert sorted(c["id"] for c in mine.get_json()["cases"]) == [ids[0], ids[3]]


def test_the_kept_filter_form_follows_the_filters_and_the_option_lists(
        app: Flask, users: dict[str, str], make_case: Callable[..., int], db: Database) -> None:
    make_case(title="有来源", lead="jn-dongshan")
    client = app.test_client()
    token = users["monitor"]
    urls = ["/queue", "/queue?severity=2&state=new&state=returned&topic=environment",
            "/queue?since=2026-01-02T03:04&until=2026-02-03T04:05&extension=true",
            "/queue?source=test:weibo&unit=jn-edu&place=320115&q=%3Cb%3E%22x", "/queue"]
    pages = []
    for url in urls:
        app.extensions.pop("yuqing.queue_filters", None)
        fresh = _page(client, token, url)
        assert _page(client, token, url) == fresh, url  # the kept form
        pages.append(fresh)
    assert pages[0] == pages[-1]
    form = re.search(r'<form method="get" class="filters".*?</form>', pages[3], re.S)
    assert form
    assert '<option value="jn-edu" selected>' in form.group(0)
    assert '<option value="test:weibo" selected>' in form.group(0)
    assert 'name="q" value="&lt;b&gt;&#34;x"' in form.group(0)
    assert 'value="2026-01-02T03:04"' in pages[2] and 'name="extension" value="true" checked' in pages[2]
    # a unit added (or renamed) by an admin is in the choosers on the next page
    with db.session() as s:
        s.add(Unit(code="jn-new", name="新设单位<全称>", short_name="", kind="department",
                   jurisdiction_code="320115"))
    html = _page(client, token)
    assert html.count('<option value="jn-new">新设单位&lt;全称&gt;</option>') == 3  # filter, lead, co


def test_a_reloaded_row_or_filter_template_is_not_served_from_the_kept_html(
        app: Flask, users: dict[str, str], make_case: Callable[..., int]) -> None:
    """Templates reloaded in development (a new template object) render afresh."""
    from jinja2 import ChoiceLoader, DictLoader

    case_id = make_case(title="模板重载", lead="jn-dongshan")
    client = app.test_client()
    before = _page(client, users["monitor"])
    assert "data-reloaded" not in before
    original = app.jinja_env.loader
    assert original is not None
    edited = {name: original.get_source(app.jinja_env, name)[0].replace(
        old, new, 1) for name, old, new in (
            ("_queue_row.html", "</tr>", '<!-- data-reloaded="row" --></tr>'),
            ("_queue_filters.html", "<form ", '<form data-reloaded="form" '))}
    assert all("data-reloaded" in source for source in edited.values())
    app.jinja_env.loader = ChoiceLoader([DictLoader(edited), original])
    app.jinja_env.cache.clear()  # what auto-reload does for a changed file
    try:
        after = _page(client, users["monitor"])
    finally:
        app.jinja_env.loader = original
        app.jinja_env.cache.clear()
    assert 'data-reloaded="row"' in _row(after, case_id)
    assert 'data-reloaded="form"' in after
