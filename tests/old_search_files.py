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
