"""The case page reads a bounded number of statements however many actions, posts, sources,
places and assignments the case has (no query per row)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event, select

from store import Assignment, CaseAction, Database, Post, PostPlace, Source, Unit
from tests.webui.conftest import Browser
from yuqing.context import AppContext


@contextmanager
def _statements(db: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def _grow(db: Database, case_id: int, n: int) -> None:
    """n more posts (each from its own source, with two places), n audit rows by several
    units, and every other unit as a co-organizer."""
    with db.session() as s:
        from store import Case
        c = s.get(Case, case_id)
        assert c is not None
        units = list(s.scalars(select(Unit).where(Unit.code != "jn-dongshan")))
        for i in range(n):
            src = Source(key=f"test:grow{case_id}-{i}", name=f"来源{i}", kind="json_api",
                         source_kind="social")
            s.add(src)
            s.flush()
            post = Post(source_id=src.id, external_id=f"g{case_id}-{i}",
                        url=f"https://grow.example/{case_id}/{i}",
                        content_hash=f"g{case_id}-{i}", title=f"跟帖{i}", text="仍在外溢。",
                        published_at=c.created_at + timedelta(minutes=i), event_id=c.event_id)
            post.places = [PostPlace(code="320115001", name="东山街道", level="street"),
                           PostPlace(code="320115", name="江宁区", level="district")]
            s.add(post)
            s.add(CaseAction(case_id=case_id, action="note", actor_name=f"人员{i}",
                             actor_unit_id=units[i % len(units)].id, note=f"第{i}条"))
        for u in units[:n]:
            s.add(Assignment(case_id=case_id, unit_id=u.id, role="co"))


def test_the_case_page_issues_a_bounded_number_of_statements(
        login: Callable[[str], Browser], make_case: Callable[..., int], db: Database,
        ctx: AppContext) -> None:
    small = make_case("小事", lead="jn-dongshan", due_answer=timedelta(hours=4))
    big = make_case("大事", lead="jn-dongshan", due_answer=timedelta(hours=4))
    _grow(db, small, 1)
    _grow(db, big, 12)
    monitor = login("monitor")
    counts = {}
    for case_id in (small, big):
        for pattern in ("/cases/{}", "/api/v1/cases/{}"):
            url = pattern.format(case_id)
            monitor.get(url)  # warm caches that are per process, not per case
            with _statements(db) as seen:
                r = monitor.get(url)
            assert r.status_code == 200, r.get_data(as_text=True)
            counts[pattern, case_id] = len(seen)
    page = monitor.get(f"/cases/{big}").get_data(as_text=True)
    assert "跟帖11" in page and "第11条" in page  # the rows are really there
    for url in ("/cases/{}", "/api/v1/cases/{}"):
        assert counts[url, big] == counts[url, small], counts
        assert counts[url, big] <= 25, counts
