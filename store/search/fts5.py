"""SQLite FTS5 search backend: the zero set-up default, one file under the instance folder.

Layout (format 4): ``docs`` keeps one row per post under a time-ordered ``key`` (publication
second << 24 | low bits of the post id), and the contentless ``docs_fts`` uses that key as its
rowid. "Newest first" is then FTS5's own rowid order, a period is a rowid range, and a query
whose candidates are already exact (see ``exact_expression``) is counted and paged inside FTS5
without joining ``docs``. One token stream is indexed (``analyzer.index_text``, rebuilt from
``hay`` when a row must be deleted): every Chinese character alone, every Latin/digit run as its
bigrams and last character, and a boundary token between runs not adjacent in the text. A query
term is a phrase of the same tokens (``analyzer.term_tokens``), so a phrase of Chinese
characters matches exactly where they stand in a row.

Earlier formats: 3 indexed Chinese bigrams (about 400 distinct terms a post against 280 single
characters, from a far larger vocabulary: the FTS5 inserts alone cost 389 against 72 µs of CPU
a post in bench_import at 20k posts), 2 also jieba search-mode words, for ranking only
(about 40 % of the indexing time), 1 was keyed by date. An index of an earlier format is
emptied on open and asks for a rebuild (``rebuild_requested``; the catch-up job marks every
post, or ``yuqing reindex --all``).
"""

from __future__ import annotations

import json
import logging
import math
import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from store.db import private_file, retry_busy
from store.search.analyzer import WordTokenizer, default_words, index_text, term_tokens
from store.search.base import CountField, IndexDoc, SearchQuery, SearchResult
from store.search.query import Normalizer, ParsedQuery, fold, parse

log = logging.getLogger(__name__)

FORMAT = "4"
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS docs(
    key INTEGER PRIMARY KEY, id INTEGER NOT NULL UNIQUE, at INTEGER NOT NULL, day TEXT NOT NULL,
    source TEXT, source_kind TEXT, topic TEXT, sentiment TEXT, severity INTEGER,
    event_id INTEGER, hay TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS docs_event ON docs(event_id);
CREATE TABLE IF NOT EXISTS doc_places(
    code TEXT NOT NULL, doc_id INTEGER NOT NULL, PRIMARY KEY(code, doc_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS doc_places_doc ON doc_places(doc_id);
CREATE VIRTUAL TABLE IF NOT EXISTS docs_fts USING fts5(
    grams, content='', tokenize='unicode61 remove_diacritics 0');
"""
_OLD_OBJECTS = ("TRIGGER docs_ai", "TRIGGER docs_ad", "TABLE docs_fts", "TABLE doc_places",
                "TABLE docs", "TABLE meta")

# FTS5 flushes its in-memory term hash to a new segment whenever it outgrows this (default
# 1 MB, a few hundred posts of bigrams): every flush is a segment to merge later. 32 MB keeps a
# 1,000-post import batch in one segment; measured 25-30 % less CPU per indexed post.
HASH_BYTES = 32 << 20

_SHIFT = 24
_LOW = (1 << _SHIFT) - 1
# One run of characters SQLite's unicode61 surely treats as token characters (CJK of Unicode
# 1.1 and extension A, a-z, 0-9): for such a term the token phrase matches exactly the documents
# holding it as a substring (consecutive single characters, or consecutive bigrams, are
# consecutive in the text: a boundary or a last-character token stands between runs), so FTS5
# alone decides the hit.
_EXACT = re.compile(r"[\u3400-\u4db5\u4e00-\u9fa5]+|[a-z0-9]+")
# bm25 over the tokens: a post holding the term more often, or a shorter post, ranks higher
_RANK = "bm25(docs_fts)"
_META = ("day", "source", "source_kind", "topic", "sentiment", "severity", "event_id")


def doc_key(at: int, doc_id: int) -> int:
    """The time-ordered rowid: sorting keys descending is newest first (ties by id)."""
    return (at << _SHIFT) | (doc_id & _LOW)


def _clause_expression(terms: Iterable[Any]) -> str:
    alts = []
    for term in terms:
        tokens = term_tokens(term.text)
        assert tokens is not None  # parse() refuses terms with nothing searchable
        phrase = '"' + " ".join(tokens.grams) + '"' + ("*" if tokens.prefix else "")
        alts.append(f"grams : {phrase}")
    return "(" + " OR ".join(alts) + ")"


def match_expression(query: ParsedQuery) -> str:
    """The FTS5 MATCH string generating candidates for a parsed query.

    Every token is built from Chinese characters, a-z and 0-9 only and is double-quoted,
    so no user input reaches FTS5's query syntax. Exclusions are left to the exact check:
    a phrase across a boundary can match where the excluded text does not occur (食，堂 for
    食。堂),
    so excluding by it would lose real hits.
    """
    return " AND ".join(_clause_expression(c.terms) for c in query.positive)


def exact_expression(query: ParsedQuery) -> str | None:
    """A MATCH string whose matches are exactly the query's hits, or None when some term
    spans punctuation, spaces or a change of script (then candidates need the exact check)."""
    if not all(_EXACT.fullmatch(t.text) for c in query.clauses for t in c.terms):
        return None
    expr = "(" + " AND ".join(_clause_expression(c.terms) for c in query.positive) + ")"
    for clause in query.clauses:
        if clause.negated:
            expr += " NOT " + _clause_expression(clause.terms)
    return expr


class _Row(NamedTuple):
    id: int
    at: int
    meta: tuple[Any, ...]  # the _META columns
    hay: str
    places: list[str]


class FTS5Index:
    def __init__(self, path: str | Path, words: WordTokenizer = default_words,
                 timezone: str = "Asia/Shanghai", normalize: Normalizer | None = None):
        self.path = Path(path)
        self.words = words  # kept for the common signature: FTS5 indexes no jieba words
        self.normalize = normalize
        self.tz = ZoneInfo(timezone)
        self._local = threading.local()
        self._schema_lock = threading.Lock()
        self._schema_ready = False
        self._all: list[sqlite3.Connection] = []

    # -- connections: one per thread; WAL lets readers run beside the writer
    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            private_file(self.path)
            conn = sqlite3.connect(self.path, timeout=60, check_same_thread=False,
                                   isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            with self._schema_lock:
                if not self._schema_ready:
                    self._ensure_schema(conn)
                    self._schema_ready = True
                self._all.append(conn)
            self._local.conn = conn
        return conn

    def _ensure_schema(self, conn: sqlite3.Connection) -> None:
        columns = {r[1] for r in conn.execute("PRAGMA table_info(docs)")}
        has_meta = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone()
        stored = conn.execute("SELECT value FROM meta WHERE name = 'format'").fetchone() \
            if has_meta else None
        if columns and (stored is None or stored[0] != FORMAT):
            # format 1 (date-ordered, no meta), 2 (words indexed too) or 3 (Chinese bigrams):
            # the tokens differ, so no query would match what is there; start over
            log.warning("检索索引 %s 为旧格式，已清空；后台补建任务将重建全部信息的索引"
                        "（也可运行 yuqing reindex --all）", self.path)
            for obj in _OLD_OBJECTS:
                conn.execute(f"DROP {obj.split()[0]} IF EXISTS {obj.split()[1]}")
            conn.executescript(SCHEMA)
            # kept in the file until the posts are marked for re-indexing: a crash between
            # emptying and marking must not leave search silently empty
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('rebuild', '1')")
        conn.executescript(SCHEMA)
        conn.execute("INSERT OR IGNORE INTO meta VALUES ('format', ?)", [FORMAT])
        # a persistent setting of the table (kept in docs_fts_config), so files made before it
        # get it on their next open; set only when missing (opening writes nothing otherwise)
        if conn.execute("SELECT 1 FROM docs_fts_config WHERE k = 'hashsize' AND v = ?",
                        [HASH_BYTES]).fetchone() is None:
            conn.execute("INSERT INTO docs_fts(docs_fts, rank) VALUES ('hashsize', ?)",
                         [HASH_BYTES])

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    # -- writing -----------------------------------------------------------------------------
    def _prepare(self, doc: IndexDoc) -> _Row:
        at = doc.at.astimezone(UTC)
        day = at.astimezone(self.tz).date().isoformat()
        return _Row(doc.id, int(at.timestamp()),
                    (day, doc.source, doc.source_kind, doc.topic, doc.sentiment, doc.severity,
                     doc.event_id), doc.haystack(), list(doc.places))

    @staticmethod
    def _tokens(hay: str) -> str:
        return index_text(fold(hay))

    @staticmethod
    def _stored(conn: sqlite3.Connection, ids: list[int]) -> dict[int, tuple[int, int, str]]:
        """id -> (key, at, hay) of those already indexed."""
        return {r[0]: r[1:] for r in conn.execute(
            "SELECT id, key, at, hay FROM docs WHERE id IN (SELECT value FROM json_each(?))",
            [json.dumps(ids)])}

    def add(self, docs: list[IndexDoc]) -> None:
        conn = self._conn()  # opened (file and schema made) even for no documents
        if not docs:
            return
        rows = list({d.id: self._prepare(d) for d in docs}.values())  # the last version wins
        ids = [r.id for r in rows]
        before = self._stored(conn, ids)
        # tokenize outside the write lock, only what is new or changed
        tokens = {r.id: self._tokens(r.hay) for r in rows
                  if (s := before.get(r.id)) is None or (s[1], s[2]) != (r.at, r.hay)}

        def write() -> None:
            with self._write() as conn:
                self._apply(conn, rows, ids, tokens)

        retry_busy(write, what="检索索引")

    def _apply(self, conn: sqlite3.Connection, rows: list[_Row], ids: list[int],
               tokens: dict[int, str]) -> None:
        stored = self._stored(conn, ids)
        same = [r for r in rows if (s := stored.get(r.id)) is not None
                and (s[1], s[2]) == (r.at, r.hay)]
        unchanged = {r.id for r in same}
        fresh = [r for r in rows if r.id not in unchanged]
        # unchanged text: only the fields change (analysis results); FTS5 is not touched
        conn.executemany(f"UPDATE docs SET {', '.join(c + ' = ?' for c in _META)} "
                         "WHERE id = ?", [(*r.meta, r.id) for r in same])
        self._remove(conn, {i: stored[i] for i in (r.id for r in fresh) if i in stored})
        keys = self._keys(conn, fresh)
        inserts, fts = [], []
        for r, key in zip(fresh, keys, strict=True):
            grams = tokens.get(r.id) or self._tokens(r.hay)
            inserts.append((key, r.id, r.at, *r.meta, r.hay))
            fts.append((key, grams))
        # In ascending key order: FTS5 flushes its term hash to a new segment whenever a rowid
        # is not above the last one written, so posts in publication-time disorder made about
        # one segment per two posts (2.6x the insert CPU, and merges after)
        inserts.sort()
        fts.sort()
        conn.executemany("INSERT INTO docs(key, id, at, day, source, source_kind, topic, "
                         "sentiment, severity, event_id, hay) "
                         "VALUES (?,?,?,?,?,?,?,?,?,?,?)", inserts)
        conn.executemany("INSERT INTO docs_fts(rowid, grams) VALUES (?,?)", fts)
        conn.execute("DELETE FROM doc_places WHERE doc_id IN "
                     "(SELECT value FROM json_each(?))", [json.dumps(ids)])
        conn.executemany("INSERT OR IGNORE INTO doc_places(code, doc_id) VALUES (?, ?)",
                         [(code, r.id) for r in rows for code in r.places])

    @staticmethod
    def _keys(conn: sqlite3.Connection, rows: list[_Row]) -> list[int]:
        """A free key per row; two posts of the same second whose ids agree in their low 24
        bits (16.7M apart) would collide, and the later one steps down to a free key."""
        wanted = [doc_key(r.at, r.id) for r in rows]
        taken = {k for (k,) in conn.execute(
            "SELECT key FROM docs WHERE key IN (SELECT value FROM json_each(?))",
            [json.dumps(wanted)])}
        out = []
        for key in wanted:
            while key in taken:
                key -= 1
                if conn.execute("SELECT 1 FROM docs WHERE key = ?", [key]).fetchone():
                    taken.add(key)
            taken.add(key)
            out.append(key)
        return out

    def _remove(self, conn: sqlite3.Connection, stored: dict[int, tuple[int, int, str]]
                ) -> None:
        # a contentless table forgets a row only when told its exact tokens again
        conn.executemany("INSERT INTO docs_fts(docs_fts, rowid, grams) "
                         "VALUES ('delete', ?, ?)",
                         [(key, index_text(fold(hay))) for key, _at, hay in stored.values()])
        conn.executemany("DELETE FROM docs WHERE id = ?", [(i,) for i in stored])

    def delete(self, ids: list[int]) -> None:
        with self._write() as conn:
            self._remove(conn, self._stored(conn, list(ids)))
            conn.executemany("DELETE FROM doc_places WHERE doc_id = ?", [(i,) for i in ids])

    def rebuild_requested(self) -> bool:
        """True once an old-format file was emptied, until ``rebuild_marked`` is called."""
        row = self._conn().execute("SELECT 1 FROM meta WHERE name = 'rebuild'").fetchone()
        return row is not None

    def rebuild_marked(self) -> None:
        """Every post is marked for the catch-up job: the request is done."""
        with self._write() as conn:
            conn.execute("DELETE FROM meta WHERE name = 'rebuild'")

    def clear(self) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM docs")
            conn.execute("DELETE FROM doc_places")
            conn.execute("INSERT INTO docs_fts(docs_fts) VALUES ('delete-all')")

    # -- reading -----------------------------------------------------------------------------
    def _filters(self, q: SearchQuery) -> tuple[list[str], list[Any]]:
        """Conditions on ``docs d`` other than the period."""
        clauses: list[str] = []
        params: list[Any] = []

        def any_of(column: str, values: Iterable[Any]) -> None:
            values = list(values)
            if values:
                clauses.append(f"{column} IN ({','.join('?' * len(values))})")
                params.extend(values)

        any_of("d.source", q.sources)
        any_of("d.topic", q.topics)
        any_of("d.severity", q.severities)
        any_of("d.sentiment", q.sentiments)
        any_of("d.source_kind", q.kinds)
        if q.event_ids is not None:
            # one JSON parameter, however many events: no bound on SQL variables
            clauses.append("d.event_id IN (SELECT value FROM json_each(?))")
            params.append(json.dumps(list(q.event_ids)))
        if q.exclude_event_ids:
            clauses.append("(d.event_id IS NULL OR d.event_id NOT IN"
                           " (SELECT value FROM json_each(?)))")
            params.append(json.dumps(list(q.exclude_event_ids)))
        if q.event_id is not None:
            clauses.append("d.event_id = ?")
            params.append(q.event_id)
        if q.place:
            # codes nest by prefix: 320115 holds 320115001 and its villages
            clauses.append("EXISTS (SELECT 1 FROM doc_places p WHERE p.doc_id = d.id"
                           " AND p.code >= ? AND p.code < ?)")
            params.extend([q.place, q.place + "\uffff"])
        return clauses, params

    @staticmethod
    def _period(q: SearchQuery, column: str) -> tuple[list[str], list[Any]]:
        """The period as a key range (a key's high bits are its second)."""
        clauses, params = [], []
        if q.since:
            clauses.append(f"{column} >= ?")
            params.append(math.ceil(q.since.timestamp()) << _SHIFT)
        if q.until:
            clauses.append(f"{column} < ?")
            params.append(math.ceil(q.until.timestamp()) << _SHIFT)
        return clauses, params

    def _where(self, q: SearchQuery, match: str | None, with_docs: bool = True
               ) -> tuple[str, str, str, list[Any]]:
        """FROM clause, key column, WHERE clause and parameters of the candidates."""
        clauses, params = self._filters(q) if with_docs else ([], [])
        if match is None:
            source, key = "docs d", "d.key"
        elif with_docs:
            source, key = "docs_fts JOIN docs d ON d.key = docs_fts.rowid", "docs_fts.rowid"
        else:
            source, key = "docs_fts", "docs_fts.rowid"
        if match is not None:
            clauses.insert(0, "docs_fts MATCH ?")
            params.insert(0, match)
        period, period_params = self._period(q, key)
        clauses += period
        params += period_params
        return source, key, (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    def parse(self, text: str) -> ParsedQuery:
        return parse(text, self.normalize)

    def _parse(self, q: SearchQuery) -> ParsedQuery | None:
        return parse(q.text, self.normalize) if q.text and q.text.strip() else None

    def search(self, q: SearchQuery) -> SearchResult:
        parsed = self._parse(q)
        conn = self._conn()
        limit, offset = max(0, q.limit), max(0, q.offset)
        exact = exact_expression(parsed) if parsed is not None else None
        if parsed is None or exact is not None:
            # the candidates are the hits: count and page in SQL
            with_docs = parsed is None or bool(self._filters(q)[0])
            source, key, where, params = self._where(q, exact, with_docs)
            total = conn.execute(f"SELECT count(*) FROM {source}{where}", params).fetchone()[0]
            if parsed is not None and q.order == "relevance":
                order = f"{_RANK}, {key} DESC"
            else:
                order = f"{key} DESC"
            keys = [k for (k,) in conn.execute(
                f"SELECT {key} FROM {source}{where} ORDER BY {order} LIMIT ? OFFSET ?",
                [*params, limit, offset])]
            found = {k: (i, hay) for k, i, hay in conn.execute(
                "SELECT key, id, hay FROM docs WHERE key IN (SELECT value FROM json_each(?))",
                [json.dumps(keys)])}
            page = [found[k] for k in keys if k in found]
            return SearchResult(total=total, ids=[i for i, _ in page],
                                texts={i: hay for i, hay in page})
        assert parsed is not None
        source, key, where, params = self._where(q, match_expression(parsed))
        order = f"{_RANK}, {key} DESC" if q.order == "relevance" else f"{key} DESC"
        # Candidates in result order, each confirmed by the exact substring test: the total
        # is the number confirmed, the page a slice of them.
        cursor = conn.execute(f"SELECT d.id, d.hay FROM {source}{where} ORDER BY {order}",
                              params)
        total, ids, texts = 0, [], {}
        lo, hi = offset, offset + limit
        for doc_id, hay in cursor:
            if parsed.matches(fold(hay)):
                if lo <= total < hi:
                    ids.append(doc_id)
                    texts[doc_id] = hay
                total += 1
        return SearchResult(total=total, ids=ids, texts=texts)

    def counts(self, q: SearchQuery, by: CountField, size: int = 50) -> list[tuple[str, int]]:
        parsed = self._parse(q)
        exact = exact_expression(parsed) if parsed is not None else None
        if parsed is not None and exact is None:
            # exact hits only: count over the confirmed ids
            source, _key, where, params = self._where(q, match_expression(parsed))
            hits = [i for i, hay in self._conn().execute(
                f"SELECT d.id, d.hay FROM {source}{where}", params) if parsed.matches(fold(hay))]
            source, where, params = "docs d", " WHERE d.id IN (SELECT value FROM json_each(?))", \
                [json.dumps(hits)]
        else:
            source, _key, where, params = self._where(q, exact)
        conn = self._conn()
        if by == "place":
            sql = (f"SELECT p.code, count(*) FROM {source} JOIN doc_places p ON p.doc_id = d.id"
                   f"{where} GROUP BY p.code ORDER BY count(*) DESC, p.code LIMIT ?")
        else:
            column = {"day": "d.day", "topic": "d.topic", "sentiment": "d.sentiment",
                      "severity": "d.severity", "source": "d.source"}[by]
            order = f"{column}" if by == "day" else f"count(*) DESC, {column}"
            sql = (f"SELECT {column}, count(*) FROM {source}{where} AND {column} IS NOT NULL"
                   if where else
                   f"SELECT {column}, count(*) FROM {source} WHERE {column} IS NOT NULL")
            sql += f" GROUP BY {column} ORDER BY {order} LIMIT ?"
        return [(str(k), n) for k, n in conn.execute(sql, [*params, size]).fetchall()]

    def count_all(self) -> int:
        return self._conn().execute("SELECT count(*) FROM docs").fetchone()[0]

    def close(self) -> None:
        with self._schema_lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()
