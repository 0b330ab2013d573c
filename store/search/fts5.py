"""SQLite FTS5 search backend: the zero set-up default, one file under the instance folder."""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterable
from datetime import UTC
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from store.db import private_file
from store.search.analyzer import WordTokenizer, default_words, gram_tokens, parse_query
from store.search.base import CountField, IndexDoc, SearchQuery, SearchResult

SCHEMA = """
CREATE TABLE IF NOT EXISTS docs(
    id INTEGER PRIMARY KEY, at INTEGER NOT NULL, day TEXT NOT NULL, source TEXT,
    source_kind TEXT, topic TEXT, sentiment TEXT, severity INTEGER, event_id INTEGER,
    words TEXT NOT NULL, grams TEXT NOT NULL);
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


def match_expression(text: str) -> str | None:
    """The FTS5 MATCH string for a user's query, or None when it has no searchable term.

    Every token is built from Chinese characters, a-z and 0-9 only and is double-quoted,
    so no user input reaches FTS5's query syntax.
    """
    parts = []
    for term in parse_query(text):
        phrase = '"' + " ".join(term.grams) + '"' + ("*" if term.prefix else "")
        alt = f' OR words : "{term.text}"' if _PLAIN.match(term.text) else ""
        parts.append(f"(grams : {phrase}{alt})")
    return " AND ".join(parts) if parts else None


class FTS5Index:
    def __init__(self, path: str | Path, words: WordTokenizer = default_words,
                 timezone: str = "Asia/Shanghai"):
        self.path = Path(path)
        self.words = words
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
                    self._schema_ready = True
                self._all.append(conn)
            self._local.conn = conn
        return conn

    def _row(self, doc: IndexDoc) -> tuple[Any, ...]:
        body = f"{doc.title}\n{doc.text}"
        at = doc.at.astimezone(UTC)
        return (doc.id, int(at.timestamp()), at.astimezone(self.tz).date().isoformat(),
                doc.source, doc.source_kind, doc.topic, doc.sentiment, doc.severity,
                doc.event_id, " ".join(self.words(body)), " ".join(gram_tokens(body)))

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
            conn.executemany("INSERT INTO docs VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
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

    def _where(self, q: SearchQuery) -> tuple[str, str, list[Any]] | None:
        """FROM clause, WHERE clause and parameters; None when the text can match nothing."""
        clauses: list[str] = []
        params: list[Any] = []
        source = "docs d"
        if q.text and q.text.strip():
            expr = match_expression(q.text)
            if expr is None:
                return None
            source = "docs_fts JOIN docs d ON d.id = docs_fts.rowid"
            clauses.append("docs_fts MATCH ?")
            params.append(expr)

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
        if q.event_id is not None:
            clauses.append("d.event_id = ?")
            params.append(q.event_id)
        if q.place:
            # codes nest by prefix: 320115 holds 320115001 and its villages
            clauses.append("EXISTS (SELECT 1 FROM doc_places p WHERE p.doc_id = d.id"
                           " AND p.code >= ? AND p.code < ?)")
            params.extend([q.place, q.place + "\uffff"])
        return source, (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    def search(self, q: SearchQuery) -> SearchResult:
        parts = self._where(q)
        if parts is None:
            return SearchResult(total=0, ids=[])
        source, where, params = parts
        conn = self._conn()
        total = conn.execute(f"SELECT count(*) FROM {source}{where}", params).fetchone()[0]
        if "docs_fts" in source and q.order == "relevance":
            order = f"{_RANK}, d.at DESC"
        else:
            order = "d.at DESC, d.id DESC"
        rows = conn.execute(f"SELECT d.id FROM {source}{where} ORDER BY {order} LIMIT ? OFFSET ?",
                            [*params, max(0, q.limit), max(0, q.offset)]).fetchall()
        return SearchResult(total=total, ids=[r[0] for r in rows])

    def counts(self, q: SearchQuery, by: CountField, size: int = 50) -> list[tuple[str, int]]:
        parts = self._where(q)
        if parts is None:
            return []
        source, where, params = parts
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


