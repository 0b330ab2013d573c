"""ingest(): idempotent, updates changed bodies, rejects bad items with reasons, loses nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from crawlers.items import PostItem
from store import Database, Post, Source
from store.search import SearchQuery, open_index
from tests.old_search_files import write_format_2, write_format_3
from yuqing.context import AppContext
from yuqing.ingest import Ingestor, reindex_pending


@pytest.fixture
def source(db: Database) -> str:
    with db.session() as s:
        s.add(Source(key="jn-news", name="江宁新闻", kind="html", source_kind="news"))
    return "jn-news"


@pytest.fixture
def ingestor(ctx: AppContext) -> Ingestor:
    return Ingestor(ctx.db, ctx.index, batch_size=3)


def _count(db: Database) -> int:
    with db.session() as s:
        return s.scalar(select(func.count(Post.id))) or 0


def _item(n: int, **kw: object) -> PostItem:
    base = dict(source="jn-news", external_id=f"a{n}", text=f"第{n}条：东山街道路灯不亮",
                url=f"https://news.example.cn/a/{n}.html",
                published_at=datetime(2024, 5, 1, 2, 0, tzinfo=UTC))
    base.update(kw)
    return PostItem(**base)  # type: ignore[arg-type]


def test_the_same_item_twice_is_one_post(ingestor: Ingestor, db: Database, source: str) -> None:
    first = ingestor.ingest([_item(i) for i in range(7)])
    second = ingestor.ingest([_item(i) for i in range(7)])
    assert (first.new, first.duplicate, second.new, second.duplicate) == (7, 0, 0, 7)
    assert _count(db) == 7


def test_the_same_canonical_url_under_another_id_is_a_duplicate(
        ingestor: Ingestor, db: Database, source: str) -> None:
    ingestor.ingest([_item(1)])
    report = ingestor.ingest([_item(1, external_id="other",
                                    url="https://NEWS.example.cn/a/1.html?utm_source=wx#top")])
    assert (report.new, report.duplicate) == (0, 1)
    assert _count(db) == 1


def test_a_changed_body_updates_the_post_and_queues_it_again(
        ingestor: Ingestor, db: Database, source: str) -> None:
    ingestor.ingest([_item(1)])
    report = ingestor.ingest([_item(1, text="更正：路灯已修复", reposts="1.5万")])
    assert (report.new, report.updated) == (0, 1)
    with db.session() as s:
        post = s.scalars(select(Post)).one()
        assert post.text == "更正：路灯已修复"
        assert post.reposts == 15000
        assert post.analyzed_at is None
    assert report.post_ids == [post.id]


def test_items_without_ids_are_keyed_by_url_or_content(
        ingestor: Ingestor, db: Database, source: str) -> None:
    items = [{"source": "jn-news", "text": "没有编号也没有链接"},
             {"source": "jn-news", "text": "只有链接", "url": "https://x.example.cn/p?id=3"}]
    assert ingestor.ingest(items).new == 2
    assert ingestor.ingest(items).duplicate == 2
    assert _count(db) == 2


def test_bad_items_are_rejected_with_reasons_and_good_ones_kept(
        ingestor: Ingestor, db: Database, source: str) -> None:
    report = ingestor.ingest([
        _item(1),
        {"source": "jn-news", "text": "   "},
        {"source": "jn-news", "text": "时间坏了", "published_at": "去年某天"},
        {"source": "jn-news", "text": "数字坏了", "likes": "很多"},
        {"source": "no-such-source", "text": "来源未知"},
        {"source": "jn-news", "text": "链接坏了", "url": "javascript:alert(1)"},
        {"source": "jn-news", "text": "多余字段", "bogus": 1},
        {"text": "没有来源"},
        _item(2, text="含\x00控制\x07字符"),
    ])
    reasons = {r.position: r.reason for r in report.rejected}
    assert report.new == 2
    assert set(reasons) == {2, 3, 4, 5, 6, 7, 8}
    assert reasons[2] == "正文和标题都为空"
    assert "无法识别的时间" in reasons[3]
    assert "点赞数应为数字" in reasons[4]
    assert reasons[5] == "未知的信息源 'no-such-source'"
    assert "链接格式不正确" in reasons[6]
    assert reasons[7] == "未知字段：bogus"
    with db.session() as s:
        assert s.scalars(select(Post.text).where(Post.external_id == "a2")).one() == "含控制字符"


def test_repeats_within_one_batch_count_as_duplicates(
        ingestor: Ingestor, db: Database, source: str) -> None:
    report = ingestor.ingest([_item(1), _item(1), _item(1, text="同号新版本")])
    assert (report.new, report.duplicate) == (1, 2)
    with db.session() as s:
        assert s.scalars(select(Post.text)).one() == "同号新版本"  # the last version wins


def test_import_sources_are_created_on_first_use(ingestor: Ingestor, db: Database) -> None:
    report = ingestor.ingest([{"text": "12345来电：噪音扰民"}], source="import:12345-2024-05")
    assert report.new == 1
    with db.session() as s:
        src = s.scalars(select(Source).where(Source.key == "import:12345-2024-05")).one()
        assert src.kind == "import"


def test_long_bodies_are_cut_and_marked(ctx: AppContext, source: str) -> None:
    ingestor = Ingestor(ctx.db, None, max_text_chars=1000)
    ingestor.ingest([_item(1, text="长" * 5000)])
    with ctx.db.session() as s:
        post = s.scalars(select(Post)).one()
        assert (len(post.text), post.truncated) == (1000, True)


def test_processors_get_the_new_and_updated_posts(ctx: AppContext, source: str) -> None:
    seen: list[list[int]] = []
    ingestor = Ingestor(ctx.db, None, processors=[lambda db, ids: seen.append(sorted(ids))])
    ingestor.ingest([_item(1), _item(2)])
    ingestor.ingest([_item(1), _item(2, text="新内容")])
    assert [len(batch) for batch in seen] == [2, 1]


def test_a_failing_step_loses_nothing_and_the_index_catches_up(
        ctx: AppContext, source: str, tmp_path: Path) -> None:
    class BrokenIndex:
        def add(self, docs: object) -> None:
            raise OSError("磁盘已满")

    def broken_step(db: Database, ids: list[int]) -> None:
        raise RuntimeError("模型文件损坏")

    ingestor = Ingestor(ctx.db, BrokenIndex(), processors=[broken_step])  # type: ignore[arg-type]
    report = ingestor.ingest([_item(i) for i in range(5)])
    assert report.new == 5 and _count(ctx.db) == 5  # stored despite both failures
    index = open_index(f"fts5:///{tmp_path / 'catchup.db'}")
    assert reindex_pending(ctx.db, index) == 5
    assert reindex_pending(ctx.db, index) == 0
    assert index.search(SearchQuery(text="路灯")).total == 5
    index.close()


def test_stored_posts_are_searchable_with_their_source(ingestor: Ingestor, ctx: AppContext,
                                                       source: str) -> None:
    ingestor.ingest([_item(1), _item(2, text="秣陵街道积水")])
    result = ctx.index.search(SearchQuery(text="积水", sources=["jn-news"]))
    assert result.total == 1


def test_every_batch_is_indexed_when_ingest_returns(ctx: AppContext, source: str) -> None:
    # batches of 3: indexing of one overlaps storing the next, and the last is waited for
    seen: list[int] = []
    ingestor = Ingestor(ctx.db, ctx.index, batch_size=3,
                        processors=[lambda db, ids: seen.extend(ids)])
    report = ingestor.ingest([_item(i) for i in range(11)], progress=lambda n: None)
    assert report.new == 11 and len(seen) == 11
    assert ctx.index.search(SearchQuery(text="路灯", limit=20)).total == 11
    with ctx.db.session() as s:
        assert s.scalar(select(func.count(Post.id)).where(Post.indexed_at.is_(None))) == 0


def test_a_failing_index_in_the_worker_loses_no_batch(ctx: AppContext, source: str) -> None:
    class FlakyIndex:
        calls = 0

        def add(self, docs: object) -> None:
            FlakyIndex.calls += 1
            if FlakyIndex.calls == 2:
                raise OSError("磁盘已满")

    report = Ingestor(ctx.db, FlakyIndex(), batch_size=3).ingest(  # type: ignore[arg-type]
        [_item(i) for i in range(9)])
    assert report.new == 9 and _count(ctx.db) == 9 and FlakyIndex.calls == 3
    with ctx.db.session() as s:  # the failed batch waits for the catch-up job
        assert s.scalar(select(func.count(Post.id)).where(Post.indexed_at.is_(None))) == 3


@pytest.mark.parametrize("write_old", [write_format_2, write_format_3])
def test_an_index_emptied_on_upgrade_is_rebuilt_by_the_catch_up_job(
        ctx: AppContext, source: str, tmp_path: Path, write_old: Callable[[Path], None]
) -> None:
    ingestor = Ingestor(ctx.db, open_index(f"fts5:///{tmp_path / 'old.db'}"), batch_size=3)
    assert ingestor.ingest([_item(i) for i in range(4)]).new == 4
    assert reindex_pending(ctx.db, ingestor.index) == 0  # all indexed at import
    ingestor.index.close()
    path = tmp_path / "upgraded.db"
    write_old(path)  # a file of an earlier format, as older installs left
    index = open_index(f"fts5:///{path}")
    assert index.search(SearchQuery(text="路灯")).total == 0  # emptied on open
    assert reindex_pending(ctx.db, index) == 4  # every post again, without an operator
    assert reindex_pending(ctx.db, index) == 0  # the request is done once
    assert index.search(SearchQuery(text="路灯")).total == 4
    index.close()
    reopened = open_index(f"fts5:///{path}")
    assert reindex_pending(ctx.db, reopened) == 0 and reopened.search(
        SearchQuery(text="路灯")).total == 4
    reopened.close()
