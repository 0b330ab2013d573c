"""`yuqing reindex --to elasticsearch`: the stored posts moved into Elasticsearch (a stand-in
server on 127.0.0.1 speaking its REST API to the real client), resumable, in Chinese."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import update

from nlp.normalize import normalize
from store import Post
from store.search import SearchQuery
from store.search.elasticsearch import BulkPolicy, ClusterBusyError, ElasticsearchIndex
from tests.search_posts import seed_search_posts
from tests.store.es_server import FakeElasticsearch, Request
from yuqing.cli import reindex
from yuqing.context import AppContext
from yuqing.search_move import STATE_FILE, load_state, move_to_elasticsearch

NOW = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
FAST = BulkPolicy(max_retries=1, initial_backoff=0.001, max_backoff=0.002)


@pytest.fixture
def es() -> Iterator[FakeElasticsearch]:
    with FakeElasticsearch() as server:
        yield server


def seed(ctx: AppContext) -> dict[str, int]:
    """The search desk's posts, indexed (FTS5) before the move begins, whatever today is."""
    ids = seed_search_posts(ctx)
    with ctx.db.session() as s:
        s.execute(update(Post).values(indexed_at=NOW - timedelta(hours=1)))
    return ids


def es_url(es: FakeElasticsearch, prefix: str = "yq") -> str:
    return f"elasticsearch+{es.url}/?prefix={prefix}"


def target(es: FakeElasticsearch, prefix: str = "yq") -> ElasticsearchIndex:
    return ElasticsearchIndex(es.url, prefix=prefix, normalize=normalize, policy=FAST)


def move(ctx: AppContext, es: FakeElasticsearch, index: ElasticsearchIndex,
         now: datetime = NOW, **kw: object) -> tuple[list[str], object]:
    lines: list[str] = []
    report = move_to_elasticsearch(ctx.db, index, es_url(es, index.prefix),
                                   ctx.settings.home / STATE_FILE,
                                   lambda: now, lines.append, every=0, **kw)  # type: ignore[arg-type]
    return lines, report


def sent_ids(es: FakeElasticsearch) -> list[int]:
    return [int(line["index"]["_id"]) for r in es.calls("PUT", "/_bulk") for line in r.body
            if "index" in line]


def test_the_command_moves_every_post_and_search_finds_the_same(
        ctx: AppContext, es: FakeElasticsearch) -> None:
    ids = seed(ctx)
    result = CliRunner().invoke(reindex, ["--to", "elasticsearch", "--url", es_url(es)], obj=ctx)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "开始迁移：数据库中共 6 条信息" in out
    assert "已写入 6/6 条（100%）" in out
    assert "完成：Elasticsearch 中 6 条，数据库中 6 条" in out
    assert all(r.params.get("refresh") == "false" for r in es.calls("PUT", "/_bulk"))
    assert es.calls("POST", "/yq-posts-2025.06/_refresh")  # searchable once moved
    assert set(es.indices) == {"yq-posts-2025.06"}
    assert sorted(map(int, es.docs("yq-posts-2025.06"))) == sorted(
        v for k, v in ids.items() if not k.startswith("case:"))
    moved = target(es)
    for text in ["污水", "食堂 -广告", "pm2.5", "恶意 | 公式"]:
        fts5 = ctx.index.search(SearchQuery(text=text, order="newest"))
        got = moved.search(SearchQuery(text=text, order="newest"))
        assert (got.total, got.ids) == (fts5.total, fts5.ids), text
    assert moved.counts(SearchQuery(), "day") == ctx.index.counts(SearchQuery(), "day")
    state = json.loads((ctx.settings.home / STATE_FILE).read_text("utf-8"))
    assert state["complete"] and state["sent"] == 6 and "@" not in state["target"]


def test_an_interrupted_move_continues_from_its_checkpoint(
        ctx: AppContext, es: FakeElasticsearch) -> None:
    seed(ctx)
    es.bulk_script.extend([0, "reject", "reject"])  # page 2 stays rejected past the retry
    with pytest.raises(ClusterBusyError):
        move(ctx, es, target(es), page=2)
    state = load_state(ctx.settings.home / STATE_FILE)
    assert state is not None and (state.sent, state.complete) == (2, False)
    first = sent_ids(es)[:2]
    es.requests.clear()
    lines, report = move(ctx, es, target(es), page=2)
    assert f"从断点继续：已写入 2 条（编号 {state.after_id} 及以前）" in lines
    resent = sent_ids(es)
    assert len(resent) == 4 and not set(resent) & set(first)  # nothing sent twice
    assert report.in_target == report.in_database == 6  # type: ignore[attr-defined]
    assert "已写入 4/6 条（66%），每秒约" in lines[2]
    assert lines[-1].startswith("完成：Elasticsearch 中 6 条")


def test_running_it_again_sends_only_what_changed_since(
        ctx: AppContext, es: FakeElasticsearch) -> None:
    ids = seed(ctx)
    move(ctx, es, target(es))
    es.requests.clear()
    later = NOW + timedelta(hours=2)
    with ctx.db.session() as s:  # edited after the pass began, and one analysed again
        s.execute(update(Post).where(Post.id == ids["flood"])
                  .values(text="地下车库积水已抽干", updated_at=NOW + timedelta(minutes=5)))
        s.execute(update(Post).where(Post.id == ids["ad"])
                  .values(topic="economy", indexed_at=NOW + timedelta(minutes=9)))
    lines, report = move(ctx, es, target(es), now=later)
    assert sorted(sent_ids(es)) == sorted([ids["flood"], ids["ad"]])
    assert report.caught_up == 2  # type: ignore[attr-defined]
    assert "补写 2026-01-05T08:00:00+00:00 以来变更或新增的信息 2 条" in lines
    assert target(es).search(SearchQuery(text="抽干")).ids == [ids["flood"]]
    es.requests.clear()
    lines, _ = move(ctx, es, target(es), now=later + timedelta(hours=1))
    assert sent_ids(es) == [] and "以来变更或新增的信息 0 条" in lines[-2]


def test_a_move_replaces_an_old_single_index_atomically(
        ctx: AppContext, es: FakeElasticsearch) -> None:
    seed(ctx)
    es.route(Request("PUT", "/yq-posts", {}, {}, {}))
    lines, report = move(ctx, es, target(es))
    assert any(line.startswith("发现旧版单一索引 yq-posts") for line in lines)
    assert es.calls("POST", "/_aliases")[-1].body["actions"][-1] == {
        "remove_index": {"index": "yq-posts"}}
    assert es.indices["yq-posts-2025.06"].aliases == {"yq-posts"}
    assert report.in_target == 6  # type: ignore[attr-defined]


def test_another_target_or_restart_starts_over(ctx: AppContext, es: FakeElasticsearch) -> None:
    seed(ctx)
    move(ctx, es, target(es))
    es.requests.clear()
    lines, _ = move(ctx, es, target(es, "other"))  # the checkpoint belongs to yq
    host = es.url.split("://")[1]
    assert lines[0] == f"断点记录的目标是 {host}/yq，与本次 {host}/other 不同：从头开始"
    assert len(sent_ids(es)) == 6
    es.requests.clear()
    move(ctx, es, target(es, "other"), restart=True)
    assert len(sent_ids(es)) == 6


def test_the_command_refuses_what_it_cannot_do_in_chinese(ctx: AppContext) -> None:
    runner = CliRunner()
    result = runner.invoke(reindex, ["--to", "elasticsearch"], obj=ctx)  # FTS5 configured
    assert result.exit_code == 1 and "迁移目标应为 elasticsearch+http" in result.output
    result = runner.invoke(reindex, ["--to", "elasticsearch", "--all"], obj=ctx)
    assert result.exit_code == 2 and "不能同时使用" in result.output
    result = runner.invoke(reindex, ["--restart"], obj=ctx)
    assert result.exit_code == 2 and "只能与 --to elasticsearch 同用" in result.output
    result = runner.invoke(reindex, ["--to", "elasticsearch", "--url",
                                     "elasticsearch+http://127.0.0.1:9/?prefix=yq"], obj=ctx)
    assert result.exit_code == 1 and "迁移中断" in result.output  # nothing listens there
    assert "Traceback" not in result.output
