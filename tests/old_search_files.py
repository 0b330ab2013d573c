"""Search files as older installs left them, for the tests of the FTS5 format upgrade."""

from __future__ import annotations

import sqlite3
from pathlib import Path

# format 2: the jieba word stream indexed and stored beside the grams
FORMAT_2_TABLES = """
    CREATE TABLE meta(name TEXT PRIMARY KEY, value TEXT NOT NULL);
    INSERT INTO meta VALUES ('format', '2');
    CREATE TABLE docs(key INTEGER PRIMARY KEY, id INTEGER NOT NULL UNIQUE,
        at INTEGER NOT NULL, day TEXT NOT NULL, source TEXT, source_kind TEXT,
        topic TEXT, sentiment TEXT, severity INTEGER, event_id INTEGER,
        words TEXT NOT NULL, hay TEXT NOT NULL);"""


def write_format_2(path: Path, extra: str = "") -> None:
    """A format-2 search file at ``path``, with ``extra`` SQL run after its tables."""
    with sqlite3.connect(path) as conn:
        conn.executescript(FORMAT_2_TABLES + extra)
    conn.close()


# format 3: one stream of Chinese and Latin character bigrams (each run's last character too)
FORMAT_3_TABLES = """
    CREATE TABLE meta(name TEXT PRIMARY KEY, value TEXT NOT NULL);
    INSERT INTO meta VALUES ('format', '3');
    CREATE TABLE docs(key INTEGER PRIMARY KEY, id INTEGER NOT NULL UNIQUE, at INTEGER NOT NULL,
        day TEXT NOT NULL, source TEXT, source_kind TEXT, topic TEXT, sentiment TEXT,
        severity INTEGER, event_id INTEGER, hay TEXT NOT NULL);
    CREATE INDEX docs_event ON docs(event_id);
    CREATE TABLE doc_places(code TEXT NOT NULL, doc_id INTEGER NOT NULL,
        PRIMARY KEY(code, doc_id)) WITHOUT ROWID;
    CREATE INDEX doc_places_doc ON doc_places(doc_id);
    CREATE VIRTUAL TABLE docs_fts USING fts5(grams, content='',
        tokenize='unicode61 remove_diacritics 0');
    INSERT INTO docs VALUES (16777221, 5, 1, '1970-01-01', '', '', NULL, NULL, NULL, NULL,
        '东山路灯不亮');
    INSERT INTO docs_fts(rowid, grams) VALUES (16777221, '东山 山路 路灯 灯不 不亮 亮');"""


def write_format_3(path: Path) -> None:
    """A format-3 search file at ``path`` holding one post (5: 东山路灯不亮)."""
    with sqlite3.connect(path) as conn:
        conn.executescript(FORMAT_3_TABLES)
    conn.close()
