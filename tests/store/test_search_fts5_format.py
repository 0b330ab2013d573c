"""FTS5 format 4: time-ordered keys, field-only updates, and an old file started over."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from store.search import IndexDoc, SearchQuery
from store.search.fts5 import FTS5Index, exact_expression
from store.search.query import parse
from tests.old_search_files import write_format_2, write_format_3

T0 = datetime(2024, 5, 20, 4, 0, tzinfo=UTC)


def test_newest_first_is_publication_order_whatever_the_ids(tmp_path: Path) -> None:
    index = FTS5Index(tmp_path / "search.db")
    # ids in the opposite order of time; two share a second (then the larger id first)
    index.add([IndexDoc(1, "", "东山街道路灯不亮", T0 + timedelta(hours=3)),
               IndexDoc(2, "", "东山街道路灯闪烁", T0 + timedelta(hours=2)),
               IndexDoc(3, "", "东山街道路灯倒伏", T0 + timedelta(hours=1)),
               IndexDoc(4, "", "路灯又坏了", T0 + timedelta(hours=1))])
    assert index.search(SearchQuery(text="路灯", order="newest")).ids == [1, 2, 4, 3]
    assert index.search(SearchQuery(order="newest")).ids == [1, 2, 4, 3]
    # a period is a key range; a bound inside a second keeps the rule at >= since, < until
    window = SearchQuery(text="路灯", order="newest", since=T0 + timedelta(hours=1, seconds=0.5),
                         until=T0 + timedelta(hours=3))
    assert index.search(window).ids == [2]
    index.close()


def test_a_field_change_keeps_the_text_and_a_text_change_replaces_it(tmp_path: Path) -> None:
    index = FTS5Index(tmp_path / "search.db")
    index.add([IndexDoc(7, "", "学校食堂饭菜变质", T0, topic="education")])
    index.add([IndexDoc(7, "", "学校食堂饭菜变质", T0, topic="food", event_id=3)])
    hit = index.search(SearchQuery(text="食堂", topics=["food"]))
    assert hit.ids == [7] and hit.total == 1
    assert index.search(SearchQuery(text="食堂", topics=["education"])).total == 0
    assert index.search(SearchQuery(text="食堂", event_id=3)).ids == [7]
    index.add([IndexDoc(7, "", "小区积水严重", T0 + timedelta(days=1), topic="food")])
    assert index.search(SearchQuery(text="食堂")).total == 0
    assert index.search(SearchQuery(text="积水")).ids == [7]
    index.delete([7])
    assert index.search(SearchQuery(text="积水")).total == 0
    assert index.count_all() == 0
    index.close()


def test_only_single_run_terms_skip_the_exact_check() -> None:
    assert exact_expression(parse("食堂 学生 -广告")) is not None
    assert exact_expression(parse("饭堂 | pm")) is not None
    for text in ('"食。堂"', "5g网络", '"学校 食堂"', "pm2.5"):
        assert exact_expression(parse(text)) is None, text


def test_an_index_of_the_earlier_format_starts_over_empty(tmp_path: Path) -> None:
    path = tmp_path / "search.db"
    with sqlite3.connect(path) as conn:  # the format-1 layout, with one row
        conn.executescript("""
            CREATE TABLE docs(id INTEGER PRIMARY KEY, at INTEGER NOT NULL, day TEXT NOT NULL,
                source TEXT, source_kind TEXT, topic TEXT, sentiment TEXT, severity INTEGER,
                event_id INTEGER, words TEXT NOT NULL, grams TEXT NOT NULL, hay TEXT);
            CREATE VIRTUAL TABLE docs_fts USING fts5(words, grams, content='docs',
                content_rowid='id');
            INSERT INTO docs VALUES (1, 0, '2024-01-01', '', '', NULL, NULL, NULL, NULL,
                '食堂', '食堂 堂', '食堂');""")
    index = FTS5Index(path)
    assert index.count_all() == 0
    index.add([IndexDoc(1, "", "学校食堂", T0)])
    assert index.search(SearchQuery(text="食堂")).ids == [1]
    index.close()


def test_an_index_of_format_2_with_the_word_stream_starts_over_empty(tmp_path: Path) -> None:
    path = tmp_path / "search.db"
    write_format_2(path, """
            CREATE TABLE doc_places(code TEXT NOT NULL, doc_id INTEGER NOT NULL,
                PRIMARY KEY(code, doc_id)) WITHOUT ROWID;
            CREATE VIRTUAL TABLE docs_fts USING fts5(words, grams, content='');
            INSERT INTO docs VALUES (5, 1, 0, '2024-01-01', '', '', NULL, NULL, NULL, NULL,
                '食堂', '食堂');
            INSERT INTO docs_fts(rowid, words, grams) VALUES (5, '食堂', '食堂 堂');""")  # one row
    index = FTS5Index(path)
    assert index.count_all() == 0
    index.add([IndexDoc(1, "", "学校食堂", T0)])
    assert index.search(SearchQuery(text="食堂")).ids == [1]
    index.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT value FROM meta WHERE name = 'format'").fetchone() == ("4",)
        assert "words" not in {r[1] for r in conn.execute("PRAGMA table_info(docs)")}


def test_an_index_of_format_3_with_chinese_bigrams_starts_over_and_asks_for_a_rebuild(
        tmp_path: Path) -> None:
    path = tmp_path / "search.db"
    write_format_3(path)  # post 5 indexed as bigrams, which no format-4 query would match
    index = FTS5Index(path)
    assert index.count_all() == 0 and index.rebuild_requested()
    index.add([IndexDoc(5, "", "东山路灯不亮", T0)])
    assert index.search(SearchQuery(text="路灯")).ids == [5]
    index.rebuild_marked()
    index.close()
    reopened = FTS5Index(path)  # the current format is kept as it is
    assert not reopened.rebuild_requested() and reopened.count_all() == 1
    reopened.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT value FROM meta WHERE name = 'format'").fetchone() == ("4",)
