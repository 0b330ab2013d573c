"""SQLite FTS5 search backend: the zero set-up default, one file under the instance folder."""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Iterable
from datetime import UTC
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from store.db import private_file
from store.search.analyzer import WordTokenizer, default_words, gram_tokens, term_grams
from store.search.base import CountField, IndexDoc, SearchQuery, SearchResult
from store.search.query import Normalizer, ParsedQuery, fold, parse

SCHEMA = """
CREATE TABLE IF NOT EXISTS docs(
    id INTEGER PRIMARY KEY, at INTEGER NOT NULL, day TEXT NOT NULL, source TEXT,
    source_kind TEXT, topic TEXT, sentiment TEXT, severity INTEGER, event_id INTEGER,
    words TEXT NOT NULL, grams TEXT NOT NULL, hay TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS docs_at ON docs(at);
CREATE INDEX IF NOT EXISTS docs_event ON docs(event_id);
CREATE TABLE IF NOT EXISTS doc_places(
    code TEXT NOT NULL, doc_id INTEGER NOT NULL, PRIMARY KEY(code, doc_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS doc_places_doc ON doc_places(doc_id);
CREATE VIRTUAL TABLE IF NOT EXISTS docs_fts USING fts5(
    words, grams, content='docs', content_rowid='id', tokenize='unicode61 remove_diacritics 0');
CREATE TRIGGER IF NOT EXISTS docs_ai AFTER INSERT ON docs BEGIN
    INSERT INTO docs_fts(rowid, words, grams) VALUES (new.id, new.words, new.grams);
END;
CREATE TRIGGER IF NOT EXISTS docs_ad AFTER DELETE ON docs BEGIN
    INSERT INTO docs_fts(docs_fts, rowid, words, grams)
    VALUES ('delete', old.id, old.words, old.grams);
END;
"""

_PLAIN = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaffa-z0-9]+$")
# bm25 weights for (words, grams): a whole-word hit ranks above a substring hit
_RANK = "bm25(docs_fts, 3.0, 1.0)"


def match_expression(query: ParsedQuery) -> str:
    """The FTS5 MATCH string generating candidates for a parsed query.

    Every token is built from Chinese characters, a-z and 0-9 only and is double-quoted,
    so no user input reaches FTS5's query syntax. Exclusions are left to the exact check:
    a gram phrase can match where the excluded text does not occur (across punctuation),
    so excluding by it would lose real hits.
    """
    parts = []
    for clause in query.positive:
        alts = []
        for term in clause.terms:
            grams = term_grams(term.text)
            assert grams is not None  # parse() refuses positive terms with nothing searchable
            phrase = '"' + " ".join(grams.grams) + '"' + ("*" if grams.prefix else "")
            alts.append(f"grams : {phrase}")
            if _PLAIN.match(term.text):
                alts.append(f'words : "{term.text}"')
        parts.append("(" + " OR ".join(alts) + ")")
    return " AND ".join(parts)


class FTS5Index:
    def __init__(self, path: str | Path, words: WordTokenizer = default_words,
                 timezone: str = "Asia/Shanghai", normalize: Normalizer | None = None):
        self.path = Path(path)
        self.words = words
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
            conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False,
                                   isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            with self._schema_lock:
                if not self._schema_ready:
                    conn.executescript(SCHEMA)
                    columns = {r[1] for r in conn.execute("PRAGMA table_info(docs)")}
                    if "hay" not in columns:  # an index file from before exact matching
                        conn.execute("ALTER TABLE docs ADD COLUMN hay TEXT NOT NULL DEFAULT ''")
                    self._schema_ready = True
                self._all.append(conn)
            self._local.conn = conn
        return conn

    def _row(self, doc: IndexDoc) -> tuple[Any, ...]:
        body = doc.haystack()
        at = doc.at.astimezone(UTC)
        return (doc.id, int(at.timestamp()), at.astimezone(self.tz).date().isoformat(),
                doc.source, doc.source_kind, doc.topic, doc.sentiment, doc.severity,
                doc.event_id, " ".join(self.words(body)), " ".join(gram_tokens(body)), body)

    def add(self, docs: list[IndexDoc]) -> None:
        if not docs:
            return
        rows = [self._row(d) for d in docs]  # tokenize outside the write lock
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            ids = [(d.id,) for d in docs]
            conn.executemany("DELETE FROM docs WHERE id = ?", ids)
            conn.executemany("DELETE FROM doc_places WHERE doc_id = ?", ids)
            conn.executemany("INSERT INTO docs VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)
            conn.executemany("INSERT OR IGNORE INTO doc_places(code, doc_id) VALUES (?, ?)",
                             [(code, d.id) for d in docs for code in d.places])
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def delete(self, ids: list[int]) -> None:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany("DELETE FROM docs WHERE id = ?", [(i,) for i in ids])
            conn.executemany("DELETE FROM doc_places WHERE doc_id = ?", [(i,) for i in ids])
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def clear(self) -> None:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("DELETE FROM docs")
        conn.execute("DELETE FROM doc_places")
        conn.execute("INSERT INTO docs_fts(docs_fts) VALUES ('rebuild')")
        conn.execute("COMMIT")

    def _where(self, q: SearchQuery, parsed: ParsedQuery | None
               ) -> tuple[str, str, list[Any]]:
        """FROM clause, WHERE clause and parameters of the candidates."""
        clauses: list[str] = []
        params: list[Any] = []
        source = "docs d"
        if parsed is not None:
            source = "docs_fts JOIN docs d ON d.id = docs_fts.rowid"
            clauses.append("docs_fts MATCH ?")
            params.append(match_expression(parsed))

        def any_of(column: str, values: Iterable[Any]) -> None:
            values = list(values)
            if values:
                clauses.append(f"{column} IN ({','.join('?' * len(values))})")
                params.extend(values)

        if q.since:
            clauses.append("d.at >= ?")
            params.append(int(q.since.timestamp()))
        if q.until:
            clauses.append("d.at < ?")
            params.append(int(q.until.timestamp()))
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
        return source, (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    def parse(self, text: str) -> ParsedQuery:
        return parse(text, self.normalize)

    def _parse(self, q: SearchQuery) -> ParsedQuery | None:
        return parse(q.text, self.normalize) if q.text and q.text.strip() else None

    def search(self, q: SearchQuery) -> SearchResult:
        parsed = self._parse(q)
        source, where, params = self._where(q, parsed)
        conn = self._conn()
        if parsed is None:
            total = conn.execute(f"SELECT count(*) FROM {source}{where}", params).fetchone()[0]
            rows = conn.execute(f"SELECT d.id, d.hay FROM {source}{where}"
                                " ORDER BY d.at DESC, d.id DESC LIMIT ? OFFSET ?",
                                [*params, max(0, q.limit), max(0, q.offset)]).fetchall()
            return SearchResult(total=total, ids=[r[0] for r in rows],
                                texts={r[0]: r[1] for r in rows})
        order = f"{_RANK}, d.at DESC, d.id DESC" if q.order == "relevance" \
            else "d.at DESC, d.id DESC"
        # Candidates in result order, each confirmed by the exact substring test: the total
        # is the number confirmed, the page a slice of them.
        cursor = conn.execute(f"SELECT d.id, d.hay FROM {source}{where} ORDER BY {order}",
                              params)
        total, ids, texts = 0, [], {}
        lo, hi = max(0, q.offset), max(0, q.offset) + max(0, q.limit)
        for doc_id, hay in cursor:
            if parsed.matches(fold(hay)):
                if lo <= total < hi:
                    ids.append(doc_id)
                    texts[doc_id] = hay
                total += 1
        return SearchResult(total=total, ids=ids, texts=texts)

    def counts(self, q: SearchQuery, by: CountField, size: int = 50) -> list[tuple[str, int]]:
        parsed = self._parse(q)
        source, where, params = self._where(q, parsed)
        if parsed is not None:
            # exact hits only: count over the confirmed ids
            hits = [i for i, hay in self._conn().execute(
                f"SELECT d.id, d.hay FROM {source}{where}", params) if parsed.matches(fold(hay))]
            source, where, params = "docs d", " WHERE d.id IN (SELECT value FROM json_each(?))", \
                [json.dumps(hits)]
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


