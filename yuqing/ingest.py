"""ingest(): the one entry for collected items — crawlers, importers and the API all come here.

Idempotent: the same item (same source and external id, or the same canonical URL) never
becomes two posts; a changed body updates the post. Storing commits first; the processors
(analysis, events, routing) and the search index follow per batch. A crash after the store
commit leaves posts with ``analyzed_at``/``indexed_at`` empty, which the catch-up jobs finish.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import insert, or_, select, update
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from crawlers.items import PostItem
from nlp.normalize import normalize
from store import Database, Post, PostPlace, Source, utcnow
from store.search import IndexDoc, SearchIndex
from store.search.query import nfkc
from yuqing.values import BadValue, canonical_url, parse_count, parse_time

log = logging.getLogger(__name__)

_ITEM_FIELDS = {f.name for f in fields(PostItem)}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# A lone surrogate (from a JSON "\\udcff" escape) cannot be encoded by either database driver.
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_UNSAFE = re.compile(f"{_CONTROL.pattern}|{_SURROGATE.pattern}")  # either, in one scan
MAX_EXTRA_CHARS = 10_000  # per value kept under ``extra``
# What a database says about one row's data (out of range, bad encoding); an outage is not that.
_ROW_DATA_ERRORS = (SQLAlchemyError, UnicodeError, ValueError, OverflowError)
_OUTAGE = (OperationalError, InterfaceError)
# Times later than this after now are typos, not announcements.
FUTURE_SLACK = timedelta(days=366)
_SPACES = re.compile(r"\s+")


@dataclass
class Rejection:
    position: int  # 1-based position in the input (the importer passes row numbers)
    reason: str


@dataclass
class IngestReport:
    new: int = 0
    updated: int = 0
    duplicate: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    post_ids: list[int] = field(default_factory=list)  # new and updated posts

    def merge(self, other: IngestReport) -> None:
        self.new += other.new
        self.updated += other.updated
        self.duplicate += other.duplicate
        self.rejected.extend(other.rejected)
        self.post_ids.extend(other.post_ids)

    def as_dict(self, sample: int = 100) -> dict[str, Any]:
        return {"new": self.new, "updated": self.updated, "duplicate": self.duplicate,
                "rejected": len(self.rejected),
                "rejections": [asdict(r) for r in self.rejected[:sample]]}


class PostProcessor(Protocol):
    """The seam behind ingest: analysis, event clustering and routing plug in here.

    Called with the ids of new and updated posts after they are committed; a processor opens
    its own transactions and must leave unfinished posts findable (e.g. ``analyzed_at`` NULL).
    """

    def __call__(self, db: Database, post_ids: list[int]) -> None: ...


def content_hash(title: str, text: str, reply: str = "") -> str:
    folded = _SPACES.sub(" ", nfkc(f"{title}\n{text}\n{reply}")).strip()
    return hashlib.sha1(folded.encode("utf-8")).hexdigest()


def _clean(value: Any) -> str:
    if not value:
        return ""
    text = value if isinstance(value, str) else str(value)
    if _UNSAFE.search(text):  # rare: one scan instead of two substitutions on every value
        text = _SURROGATE.sub("\ufffd", _CONTROL.sub("", text))
    return text.strip()


def _safe_extra(value: Any, depth: int = 0) -> Any:
    """A JSON value both databases accept: no NUL or lone surrogates, no NaN, bounded size."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value if abs(value) < 2**63 else str(value)[:40]
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Mapping) and depth < 5:
        return {_clean(k)[:200]: _safe_extra(v, depth + 1) for k, v in list(value.items())[:200]}
    if isinstance(value, (list, tuple)) and depth < 5:
        return [_safe_extra(v, depth + 1) for v in value[:200]]
    return _clean(value)[:MAX_EXTRA_CHARS]


def _as_dict(item: PostItem | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(item, PostItem):
        return item.to_dict()
    if isinstance(item, Mapping):
        return dict(item)
    raise BadValue(f"无法识别的条目类型 {type(item).__name__}")


class Ingestor:
    def __init__(self, db: Database, index: SearchIndex | None = None, *, timezone: str =
                 "Asia/Shanghai", batch_size: int = 1000, max_text_chars: int = 100_000,
                 processors: Sequence[PostProcessor] = (),
                 clock: Callable[[], datetime] = utcnow):
        self.db = db
        self.clock = clock  # collected_at / updated_at: the context's clock
        self.index = index
        self.timezone = timezone
        self.batch_size = batch_size
        self.max_text_chars = max_text_chars
        self.processors = list(processors)

    # -- validation ------------------------------------------------------------------------
    def _validate(self, raw: Mapping[str, Any], default_source: str | None) -> dict[str, Any]:
        unknown = set(raw) - _ITEM_FIELDS
        if unknown:
            raise BadValue(f"未知字段：{', '.join(sorted(map(str, unknown)))}")
        source = _clean(raw.get("source") or default_source)[:100]
        if not source:
            raise BadValue("缺少信息源（source）")
        text = _clean(raw.get("text"))
        title = _clean(raw.get("title"))[:1000]
        if not text and not title:
            raise BadValue("正文和标题都为空")
        truncated = len(text) > self.max_text_chars or raw.get("truncated") is True
        text = text[:self.max_text_chars]
        url = canonical_url(_clean(raw.get("url")))
        external_id = _clean(raw.get("external_id"))[:200]
        reply_text = _clean(raw.get("reply_text"))
        now = self.clock()
        extra = _safe_extra(dict(raw.get("extra") or {}))
        site = _clean(raw.get("site"))[:200]
        if site:  # the platform a row says it came from (来源: 新浪微博), under the import's source
            extra["site"] = site
        row = {
            "source_key": source,
            "external_id": external_id,
            "url": url,
            "url_hash": hashlib.sha1(url.encode()).hexdigest() if url else None,
            "title": title,
            "text": text or title,
            "truncated": truncated,
            "author": _clean(raw.get("author"))[:200],
            "author_followers": parse_count(raw.get("author_followers"), "粉丝数"),
            "published_at": self._time(raw, "published_at", "发布时间", now),
            "collected_at": self._time(raw, "collected_at", "采集时间", now) or now,
            "reposts": parse_count(raw.get("reposts"), "转发数"),
            "comments": parse_count(raw.get("comments"), "评论数"),
            "likes": parse_count(raw.get("likes"), "点赞数"),
            "source_kind": _clean(raw.get("source_kind"))[:20],
            "place_hint": _clean(raw.get("place"))[:100],
            "reply_text": reply_text,
            "reply_at": self._time(raw, "reply_at", "回复时间", now),
            "reply_unit": _clean(raw.get("reply_unit"))[:200],
            "extra": extra,
        }
        row["content_hash"] = content_hash(title, row["text"], reply_text)
        if not external_id:
            # the site gave no id: the canonical URL, else the content, identifies the item
            row["external_id"] = ("url:" + row["url_hash"]) if url else "sha1:" + row["content_hash"]
        return row

    def _time(self, raw: Mapping[str, Any], name: str, label: str, now: datetime
              ) -> datetime | None:
        try:
            value = parse_time(raw.get(name), self.timezone, now=now)
        except BadValue as exc:
            raise BadValue(f"{label}：{exc}") from exc
        if value is not None and value > now + FUTURE_SLACK:
            raise BadValue(f"{label}在遥远的未来")
        return value

    # -- the entry -------------------------------------------------------------------------
    def ingest(self, items: Iterable[PostItem | Mapping[str, Any] | tuple[int, Any]],
               source: str | None = None,
               progress: Callable[[int], None] | None = None) -> IngestReport:
        """Store items; items may come as (position, item) pairs to report row numbers."""
        report = IngestReport()
        # Indexing a batch runs in one worker thread while the next batch is validated and
        # stored: SQLite builds FTS5 postings without the GIL, so the two overlap. One batch at
        # most is in flight, in order, and all of it is indexed before this returns (search
        # sees every stored post as soon as ``yuqing import`` ends).
        indexer: ThreadPoolExecutor | None = None
        pending: Future[None] | None = None
        try:
            for batch in _batches(_numbered(items), self.batch_size):
                part = self._ingest_batch(batch, source)
                report.merge(part)
                if part.post_ids:
                    self._process(part.post_ids)
                    if self.index is not None:
                        if pending is not None:
                            pending.result()
                        indexer = indexer or ThreadPoolExecutor(1, "yuqing-index")
                        pending = indexer.submit(self._index, part.post_ids)
                if progress:
                    progress(len(batch))
        finally:
            if pending is not None:
                pending.result()
            if indexer is not None:
                indexer.shutdown()
        return report

    def after_store(self, post_ids: list[int]) -> None:
        self._process(post_ids)
        self._index(post_ids)

    def _process(self, post_ids: list[int]) -> None:
        for processor in self.processors:
            try:
                processor(self.db, post_ids)
            except Exception:  # a failing step must not lose the stored posts; catch-up retries
                log.exception("处理步骤 %r 失败，%d 条待补处理", processor, len(post_ids))

    def _index(self, post_ids: list[int]) -> None:
        if self.index is None:
            return
        try:
            index_posts(self.db, self.index, post_ids, now=self.clock())
        except Exception:  # never raised: the catch-up job indexes what is left
            log.exception("检索索引写入失败，%d 条待补建", len(post_ids))

    def _ingest_batch(self, batch: list[tuple[int, Any]], default_source: str | None
                      ) -> IngestReport:
        report = IngestReport()
        rows: list[tuple[int, dict[str, Any]]] = []
        for position, item in batch:
            if isinstance(item, Exception):  # an importer could not even read the row
                report.rejected.append(Rejection(position, str(item)))
                continue
            try:
                rows.append((position, self._validate(_as_dict(item), default_source)))
            except BadValue as exc:
                report.rejected.append(Rejection(position, str(exc)))
            except Exception as exc:  # one odd value must never cost the rest of the batch
                log.warning("第 %s 条无法处理", position, exc_info=True)
                report.rejected.append(Rejection(position, f"无法处理该条（{type(exc).__name__}）"))
        if not rows:
            return report
        try:
            self._write(rows, report)
        except _ROW_DATA_ERRORS as exc:
            if isinstance(exc, _OUTAGE):  # no row is to blame: fail loudly, lose nothing
                raise
            # The database refused the batch's data: store row by row so only the culprit is lost.
            log.warning("批量写入失败，逐条重试", exc_info=True)
            good = IngestReport(rejected=report.rejected)
            for position, row in rows:
                try:
                    self._write([(position, row)], good)
                except _ROW_DATA_ERRORS as row_exc:
                    if isinstance(row_exc, _OUTAGE):
                        raise
                    good.rejected.append(
                        Rejection(position, f"数据库拒绝写入该条（{type(row_exc).__name__}）"))
            return good
        return report

    def _write(self, rows: list[tuple[int, dict[str, Any]]], report: IngestReport) -> None:
        """One transaction for these rows; ``report`` changes only when it commits."""
        def attempt(session: Session) -> IngestReport:
            part = IngestReport()  # a fresh report per attempt: a retried one starts over
            self._write_rows(session, rows, part)
            return part

        # a busy SQLite (the analysis job writing) is waited out and the batch written again
        report.merge(self.db.write(attempt))

    def _write_rows(self, session: Session, rows: list[tuple[int, dict[str, Any]]],
                    part: IngestReport) -> None:
        sources = _sources(session, {r["source_key"] for _, r in rows})
        keep: list[tuple[int, dict[str, Any]]] = []
        for position, row in rows:
            src = sources.get(row["source_key"])
            if src is None:
                part.rejected.append(Rejection(position, f"未知的信息源 {row['source_key']!r}"))
                continue
            row = {**row, "source_id": src.id,
                   "source_kind": row["source_kind"] or src.source_kind}
            keep.append((position, row))
        self._store(session, keep, part)

    def _store(self, session: Session, rows: list[tuple[int, dict[str, Any]]],
               report: IngestReport) -> None:
        if not rows:
            return
        keys = {(r["source_id"], r["external_id"]) for _, r in rows}
        urls = {r["url_hash"] for _, r in rows if r["url_hash"]}
        existing: dict[Any, Post] = {}
        # Two lookups, each on its own unique index: (source_id, external_id) pairs and URL
        # hashes. One query with OR makes PostgreSQL scan the whole table per batch.
        found: list[Post] = []
        for source_id, external_ids in _by_source(keys).items():
            found += session.scalars(select(Post).where(Post.source_id == source_id,
                                                        Post.external_id.in_(external_ids)))
        if urls:
            found += session.scalars(select(Post).where(Post.url_hash.in_(urls)))
        for post in found:
            existing[("key", post.source_id, post.external_id)] = post
            if post.url_hash:
                existing[("url", post.url_hash)] = post
        fresh: dict[Any, dict[str, Any]] = {}
        inserts: list[dict[str, Any]] = []
        for _position, row in rows:
            key = ("key", row["source_id"], row["external_id"])
            url_key = ("url", row["url_hash"]) if row["url_hash"] else None
            post = existing.get(key) or (existing.get(url_key) if url_key else None)
            if post is not None:
                self._merge_existing(session, post, row, report)
                continue
            pending = fresh.get(key) or (fresh.get(url_key) if url_key else None)
            if pending is not None:  # repeated within this batch: last version wins
                if pending["content_hash"] == row["content_hash"]:
                    report.duplicate += 1
                else:
                    pending.update({k: v for k, v in row.items() if k != "external_id"})
                    report.duplicate += 1
                continue
            record = {k: v for k, v in row.items() if k != "source_key"}
            record["updated_at"] = self.clock()
            inserts.append(record)
            fresh[key] = record
            if url_key:
                fresh[url_key] = record
        if inserts:
            # the table, not the entity: skips the ORM's bulk-insert layer (about 15 % of
            # the insert's CPU); column defaults still apply. One executemany, then the new ids
            # by their unique keys: RETURNING in parameter order made SQLAlchemy send one
            # INSERT per row on SQLite (no sentinel column it trusts), a third of the store's CPU
            session.execute(insert(Post.__table__), inserts)
            ids = _ids_by_key(session, inserts)
            report.new += len(ids)
            report.post_ids.extend(ids)

    def _merge_existing(self, session: Session, post: Post, row: dict[str, Any],
                        report: IngestReport) -> None:
        # engagement moves on every re-crawl: keep the newest counts without calling it a change
        for name in ("reposts", "comments", "likes", "author_followers"):
            if row[name] and row[name] != getattr(post, name):
                setattr(post, name, row[name])
        if post.content_hash == row["content_hash"]:
            report.duplicate += 1
            return
        for name in ("title", "text", "truncated", "reply_text", "reply_at", "reply_unit",
                     "content_hash", "author", "extra"):
            setattr(post, name, row[name])
        if row["published_at"] is not None:
            post.published_at = row["published_at"]
        post.updated_at = self.clock()
        post.analyzed_at = None  # a changed body is analysed again
        session.flush()
        report.updated += 1
        report.post_ids.append(post.id)


def _numbered(items: Iterable[Any]) -> Iterator[tuple[int, Any]]:
    for i, item in enumerate(items, start=1):
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], int):
            yield item
        else:
            yield i, item


def _batches(items: Iterator[tuple[int, Any]], size: int) -> Iterator[list[tuple[int, Any]]]:
    batch: list[tuple[int, Any]] = []
    for entry in items:
        batch.append(entry)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _by_source(pairs: Iterable[tuple[int, str]]) -> dict[int, list[str]]:
    """External ids grouped by source id: one IN per source (a row-value IN plans slowly)."""
    grouped: dict[int, list[str]] = {}
    for source_id, external_id in pairs:
        grouped.setdefault(source_id, []).append(external_id)
    return grouped


def _ids_by_key(session: Session, records: list[dict[str, Any]]) -> list[int]:
    """The ids of just inserted posts, in the order of ``records``, looked up in the same
    transaction by (source_id, external_id), which is unique."""
    found: dict[tuple[int, str], int] = {}
    pairs = ((r["source_id"], r["external_id"]) for r in records)
    for source_id, external_ids in _by_source(pairs).items():
        for post_id, external_id in session.execute(
                select(Post.id, Post.external_id).where(Post.source_id == source_id,
                                                        Post.external_id.in_(external_ids))):
            found[(source_id, external_id)] = post_id
    return [found[(r["source_id"], r["external_id"])] for r in records]


def _sources(session: Session, keys: set[str]) -> dict[str, Source]:
    found = {s.key: s for s in session.scalars(select(Source).where(Source.key.in_(keys)))}
    for key in keys - found.keys():
        if key.startswith("import:"):  # imported files name their own source on the fly
            src = Source(key=key, name=f"导入：{key[7:]}", kind="import", source_kind="import")
            session.add(src)
            found[key] = src
    session.flush()
    return found


def index_doc(post: Post) -> IndexDoc:
    # title, body and reply as the search sees them: normalized (繁→简, full-width), so a
    # query normalized the same way finds them as a substring scan would
    return IndexDoc(id=post.id, title=normalize(post.title), text=normalize(post.text),
                    reply=normalize(post.reply_text),
                    at=post.published_at or post.collected_at, source=post.source.key,
                    source_kind=post.source_kind, topic=post.topic, sentiment=post.sentiment,
                    severity=post.severity, places=[p.code for p in post.places],
                    event_id=post.event_id)


_INDEX_COLUMNS = (Post.id, Post.title, Post.text, Post.reply_text,
                  Post.published_at, Post.collected_at, Source.key, Post.source_kind, Post.topic,
                  Post.sentiment, Post.severity, Post.event_id)


def _index_docs(session: Session, ids: list[int]) -> list[IndexDoc]:
    """``index_doc`` of these posts, read as plain columns (no ORM objects, two queries)."""
    places: dict[int, list[str]] = {}
    for post_id, code in session.execute(select(PostPlace.post_id, PostPlace.code)
                                         .where(PostPlace.post_id.in_(ids))
                                         .order_by(PostPlace.id)):
        places.setdefault(post_id, []).append(code)
    rows = session.execute(select(*_INDEX_COLUMNS).join(Source, Source.id == Post.source_id)
                           .where(Post.id.in_(ids)))
    # the body normalized on its own, not ``text_norm`` (title + body, cut for the models):
    # the indexed text stays the same when analysis runs, so re-indexing then only updates
    # the fields (topic, severity, event) and leaves FTS5 alone
    return [IndexDoc(id=r.id, title=normalize(r.title), text=normalize(r.text),
                     reply=normalize(r.reply_text), at=r.published_at or r.collected_at,
                     source=r.key, source_kind=r.source_kind, topic=r.topic,
                     sentiment=r.sentiment, severity=r.severity, places=places.get(r.id, []),
                     event_id=r.event_id) for r in rows]


def index_posts(db: Database, index: SearchIndex, post_ids: list[int],
                now: datetime | None = None) -> int:
    """Write these posts to the search index and mark them indexed.

    Read, index and mark per chunk in short transactions: the posts database is not held
    while the search file is written."""
    done = 0
    for start in range(0, len(post_ids), 2000):
        chunk = post_ids[start:start + 2000]
        stamp = now or utcnow()
        with db.session() as session:
            docs = _index_docs(session, chunk)
        index.add(docs)
        marked = [d.id for d in docs]
        db.write(lambda session, marked=marked, stamp=stamp: session.execute(
            update(Post).where(Post.id.in_(marked)).values(indexed_at=stamp)))
        done += len(docs)
    return done


def reindex_pending(db: Database, index: SearchIndex, limit: int = 5000,
                    now: datetime | None = None) -> int:
    """Catch-up job: index posts never indexed or changed since. Returns how many.

    An index emptied on upgrade (an old FTS5 format) asks for every post once: they are
    marked unindexed here, so the job rebuilds the index in the background, batch by batch."""
    requested = getattr(index, "rebuild_requested", None)
    if requested is not None and requested():
        db.write(lambda session: session.execute(update(Post).values(indexed_at=None)))
        index.rebuild_marked()  # type: ignore[attr-defined]
        log.warning("检索索引已清空，开始在后台重建全部信息的索引")
    with db.session() as session:
        ids = list(session.scalars(
            select(Post.id).where(or_(Post.indexed_at.is_(None),
                                      Post.indexed_at < Post.updated_at)).limit(limit)))
    return index_posts(db, index, ids, now=now) if ids else 0
