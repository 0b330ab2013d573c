"""`yuqing reindex --to elasticsearch`: move every stored post into Elasticsearch, resumable.

The database is the source: each post is read with its places and source and written as the
search index sees it (``index_doc``), a page at a time, ordered by id. After a page is
acknowledged by the cluster the checkpoint file in the instance folder records its last id,
so an interrupted move (Ctrl-C, a crash, a cluster that stayed busy) continues from there.

A finished move remembers when its pass started; running the command again sends only the
posts changed since (edited, analysed, indexed or added after that instant). So: move while
the old index still serves, switch ``YUQING_SEARCH_URL``, run the command once more.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import func, or_, select, true
from sqlalchemy.orm import selectinload

from store import Database, Post
from store.search.elasticsearch import ElasticsearchIndex
from yuqing.ingest import index_doc

STATE_FILE = "reindex-elasticsearch.json"
PAGE = 500


@dataclass
class MoveState:
    target: str  # host and prefix, never credentials
    started_at: str  # when the full pass began (ISO, UTC)
    after_id: int = 0  # every post up to this id is acknowledged
    sent: int = 0
    complete: bool = False
    synced_at: str | None = None  # posts unchanged since this instant are in the target


@dataclass(frozen=True)
class MoveReport:
    sent: int  # in this run
    caught_up: int  # of which changed since the last pass
    in_target: int
    in_database: int


def target_key(url: str) -> str:
    """Where the move goes, as recorded in the checkpoint (no user name or password)."""
    parts = urlsplit(url)
    prefix = parse_qs(parts.query).get("prefix", ["yuqing"])[-1]
    return f"{parts.hostname}:{parts.port or 9200}/{prefix}"


def load_state(path: Path) -> MoveState | None:
    try:
        return MoveState(**json.loads(path.read_text("utf-8")))
    except FileNotFoundError:
        return None
    except (ValueError, TypeError) as exc:
        raise ValueError(f"迁移断点文件 {path} 已损坏，请删除后加 --restart 重新迁移") from exc


def save_state(path: Path, state: MoveState) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(state), ensure_ascii=False, indent=1), "utf-8")
    os.replace(tmp, path)  # a crash mid-write leaves the previous checkpoint whole


def _pages(db: Database, where: Any, after_id: int, page: int) -> Iterator[list[Any]]:
    """Posts matching ``where`` with ids above ``after_id``, a page at a time, by id."""
    while True:
        with db.session() as s:
            posts = s.scalars(select(Post).where(where, Post.id > after_id).order_by(Post.id)
                              .limit(page).options(selectinload(Post.places),
                                                   selectinload(Post.source))).all()
            docs = [index_doc(p) for p in posts]
        if not docs:
            return
        yield docs
        after_id = docs[-1].id


class _Progress:
    def __init__(self, echo: Callable[[str], None], total: int, every: float):
        self.echo, self.total, self.every = echo, total, every
        self.start = self.last = time.monotonic()
        self.count = 0

    def step(self, n: int, done: int, final: bool = False) -> None:
        self.count += n
        now = time.monotonic()
        if final or now - self.last >= self.every:
            self.last = now
            rate = self.count / max(now - self.start, 1e-6)
            pct = f"（{done * 100 // self.total}%）" if self.total else ""
            self.echo(f"已写入 {done}/{self.total} 条{pct}，每秒约 {rate:.0f} 条")


def move_to_elasticsearch(db: Database, index: ElasticsearchIndex, url: str, state_path: Path,
                          now: Callable[[], datetime], echo: Callable[[str], None],
                          restart: bool = False, page: int = PAGE, every: float = 5.0
                          ) -> MoveReport:
    key = target_key(url)
    state = None if restart else load_state(state_path)
    if state is not None and state.target != key:
        echo(f"断点记录的目标是 {state.target}，与本次 {key} 不同：从头开始")
        state = None
    if state is None:
        state = MoveState(target=key, started_at=now().isoformat())
        save_state(state_path, state)
    echo(f"目标 {key}：按月索引 {index.prefix}-posts-YYYY.MM，检索经别名 {index.alias}")
    if index.legacy:
        echo(f"发现旧版单一索引 {index.alias}：迁移完成时一次性切换为同名别名，期间检索照常")
    sent = caught_up = 0
    with db.session() as s:
        in_database = s.scalar(select(func.count(Post.id))) or 0
    if not state.complete:
        if state.after_id:
            echo(f"从断点继续：已写入 {state.sent} 条（编号 {state.after_id} 及以前）")
        else:
            echo(f"开始迁移：数据库中共 {in_database} 条信息")
        progress = _Progress(echo, in_database, every)
        for docs in _pages(db, true(), state.after_id, page):
            index.add(docs, refresh=False)
            state.after_id, state.sent = docs[-1].id, state.sent + len(docs)
            save_state(state_path, state)
            sent += len(docs)
            progress.step(len(docs), state.sent)
        progress.step(0, state.sent, final=True)
        state.complete, state.synced_at = True, state.started_at
        save_state(state_path, state)
    # what changed while the pass ran (or since the last run): edits, analysis, new posts
    assert state.synced_at is not None
    since, started = datetime.fromisoformat(state.synced_at), now()
    changed = or_(Post.updated_at >= since, Post.indexed_at >= since, Post.indexed_at.is_(None))
    for docs in _pages(db, changed, 0, page):
        index.add(docs, refresh=False)
        caught_up += len(docs)
    echo(f"补写 {since.isoformat(timespec='seconds')} 以来变更或新增的信息 {caught_up} 条")
    state.synced_at = started.isoformat()
    save_state(state_path, state)
    index.finish_move()
    in_target = index.count_all()
    with db.session() as s:
        in_database = s.scalar(select(func.count(Post.id))) or 0
    echo(f"完成：Elasticsearch 中 {in_target} 条，数据库中 {in_database} 条")
    if in_target != in_database:
        echo("注意：两边数量不同（迁移期间有新信息或删除）；可再次运行本命令补写变更")
    return MoveReport(sent=sent + caught_up, caught_up=caught_up, in_target=in_target,
                      in_database=in_database)
