"""The search index contract, one suite for every backend.

- ``fts5``: always.
- ``es``: a real Elasticsearch at ``YUQING_ES_URL`` (e.g. http://127.0.0.1:9200), skipped
  when unset: ``YUQING_ES_URL=http://127.0.0.1:9200 pytest tests/store/test_search.py -m es``.
- ``es-fake``: the real client against the stand-in server of ``tests/store/es_server.py``,
  always: it proves the backend's flows (monthly indices, alias, bulk, paging, counts) hold
  together end to end, not that Elasticsearch itself ranks or analyses the same.
"""

from __future__ import annotations

import os
import random
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from store.search import IndexDoc, QuerySyntaxError, SearchIndex, SearchQuery, open_index
from tests.store.es_server import FakeElasticsearch

ES_URL = os.environ.get("YUQING_ES_URL", "")
T0 = datetime(2024, 5, 20, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai

BACKENDS = [
    "fts5",
    pytest.param("es", marks=[pytest.mark.es, pytest.mark.skipif(
        not ES_URL, reason="YUQING_ES_URL is not set: no Elasticsearch server to run the "
                           "contract against (e.g. YUQING_ES_URL=http://127.0.0.1:9200)")]),
    "es-fake",
]


@pytest.fixture(scope="module")
def fake_es() -> Iterator[FakeElasticsearch]:
    with FakeElasticsearch() as server:
        yield server


def es_url(base: str) -> str:
    """``open_index``'s URL for a server URL, with a prefix of its own (tests never collide,
    on a shared server either)."""
    scheme = "elasticsearch+https" if base.startswith("https") else "elasticsearch+http"
    host = base.split("://", 1)[1].rstrip("/")
    return f"{scheme}://{host}/?prefix=yqtest{uuid.uuid4().hex[:8]}"


def open_backend(name: str, tmp_path: Path, stack: ExitStack,
                 request: pytest.FixtureRequest) -> SearchIndex:
    if name == "fts5":
        ix = open_index(f"fts5:///{tmp_path / 'search.db'}")
    elif name == "es":
        ix = open_index(es_url(ES_URL))
    else:
        ix = open_index(es_url(request.getfixturevalue("fake_es").url))
    stack.callback(ix.close)
    if name != "fts5":  # leave nothing behind on a shared server
        stack.callback(ix.remove_template)  # type: ignore[attr-defined]
    stack.callback(ix.clear)
    return ix


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def index(backend: str, request: pytest.FixtureRequest, tmp_path: Path
          ) -> Iterator[SearchIndex]:
    with ExitStack() as stack:
        yield open_backend(backend, tmp_path, stack, request)


def _docs() -> list[IndexDoc]:
    return [
        IndexDoc(1, "东山街道学校食堂饭菜变质", "多名学生出现腹泻，家长要求彻查。", T0,
                 source="weibo", topic="education", sentiment="negative", severity=3,
                 places=["320115001"], event_id=10),
        IndexDoc(2, "", "秣陵街道某小区地下车库积水严重，暴雨后无法出行。", T0 - timedelta(days=1),
                 source="board", topic="disaster", sentiment="negative", severity=4,
                 places=["320115002"], event_id=11),
        IndexDoc(3, "江宁区召开安全生产工作会议", "会议部署5G基站建设和食品安全检查。", T0 - timedelta(hours=2),
                 source="news", topic="work_safety", sentiment="neutral", places=["320115"]),
        IndexDoc(4, "", "东山街道食堂承包商回应：已停业整顿", T0 + timedelta(hours=1),
                 source="news", topic="education", sentiment="neutral", severity=4,
                 places=["320115001"], event_id=10),
    ]


def _ids(index: SearchIndex, **kw: object) -> list[int]:
    return index.search(SearchQuery(**kw)).ids  # type: ignore[arg-type]


def test_it_finds_words_hidden_inside_longer_words(index: SearchIndex) -> None:
    index.add(_docs())
    assert sorted(_ids(index, text="食堂")) == [1, 4]  # 学校食堂 and 街道食堂
    assert sorted(_ids(index, text="校食")) == [1]  # not a word at all, still a substring
    assert _ids(index, text="基站") == [3]
    assert _ids(index, text="5g基站") == [3]  # full-width and case folded
    assert sorted(_ids(index, text="变")) == [1]  # a single character
    assert _ids(index, text="食堂 腹泻") == [1]  # every term is required


def test_it_filters_by_time_source_topic_severity_place_and_event(index: SearchIndex) -> None:
    index.add(_docs())
    assert sorted(_ids(index, since=T0 - timedelta(hours=3))) == [1, 3, 4]
    assert sorted(_ids(index, until=T0)) == [2, 3]
    assert sorted(_ids(index, sources=["news"])) == [3, 4]
    assert sorted(_ids(index, topics=["education"], severities=[3])) == [1]
    assert sorted(_ids(index, place="320115001")) == [1, 4]
    assert sorted(_ids(index, place="320115")) == [1, 2, 3, 4]  # a district holds its streets
    assert sorted(_ids(index, event_id=10, text="停业")) == [4]
    assert _ids(index, sentiments=["neutral"], order="newest") == [4, 3]


def test_it_counts_for_dashboards(index: SearchIndex) -> None:
    index.add(_docs())
    q = SearchQuery()
    assert index.counts(q, "day") == [("2024-05-19", 1), ("2024-05-20", 3)]
    assert index.counts(q, "topic")[0] == ("education", 2)
    assert dict(index.counts(q, "sentiment")) == {"negative": 2, "neutral": 2}
    assert dict(index.counts(SearchQuery(text="食堂"), "place")) == {"320115001": 2}
    assert dict(index.counts(q, "severity")) == {"3": 1, "4": 2}


def test_updates_replace_and_deletes_remove(index: SearchIndex) -> None:
    index.add(_docs())
    changed = _docs()[0]
    changed.text = "情况已核实，涉事窗口已整改。"
    changed.title = "通报"
    index.add([changed])
    assert _ids(index, text="腹泻") == []
    assert _ids(index, text="窗口") == [1]
    index.delete([1, 4])
    assert _ids(index, text="食堂") == []
    assert index.search(SearchQuery()).total == 2


HOSTILE = ['"', '""', "(", ")(", "食堂 OR", "AND", "NOT 食堂", "NEAR(食堂 学校)", "食*",
           "^食堂", "col:食堂", "{words}: 食堂", "'; DROP TABLE docs; --", "\\", "\x00",
           "   ", "", "！？。，", "🔥🔥", "食堂\"学校", "a" * 10_000, "食堂 " * 5000,
           "学校 - 食堂", "+食堂"]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_no_user_query_can_break_it(index: SearchIndex, text: str) -> None:
    index.add(_docs())
    try:
        result = index.search(SearchQuery(text=text))
    except QuerySyntaxError as exc:  # a malformed query is told so, in Chinese
        assert str(exc) and not str(exc).isascii()
        return
    assert len(result.ids) == min(result.total, 20)
    counts = index.counts(SearchQuery(text=text), "day")
    assert sum(n for _, n in counts) == result.total
    if "食堂" in text and text.count("食堂") < 1000:
        assert set(result.ids) <= {1, 4}


def test_only_our_syntax_is_interpreted_never_fts5s(index: SearchIndex) -> None:
    index.add(_docs())
    assert sorted(_ids(index, text="食堂 OR 基站")) == [1, 3, 4]  # our OR
    assert sorted(_ids(index, text="食堂 -腹泻")) == [4]  # our NOT
    assert sorted(_ids(index, text="NOT 食堂")) == []  # FTS5's NOT is a word to find
    assert sorted(_ids(index, text="(食堂)")) == []  # a substring scan finds no "(食堂)"
    assert sorted(_ids(index, text="食*")) == []  # no wildcard: the text has no "食*"


WORDS = ("学校 食堂 饭堂 食品 堂食 学生 家长 小区 物业 暴雨 积水 道路 施工 噪音 医院 医保 "
         "政策 补贴 社区 老人 公交 地铁 垃圾 河道 企业 堂 食 学 校 东山 秣陵 街道").split()


def test_an_update_moving_a_post_to_another_month_leaves_no_copy(index: SearchIndex) -> None:
    # Elasticsearch keeps one index per month: the old month's copy must go
    doc = _docs()[1]
    index.add([doc])
    doc.at = T0 - timedelta(days=70)
    index.add([doc])
    result = index.search(SearchQuery(text="积水"))
    assert (result.total, result.ids) == (1, [2])
    assert index.counts(SearchQuery(), "day") == [("2024-03-11", 1)]
    index.delete([2])
    assert index.search(SearchQuery()).total == 0


def test_posts_across_months_are_searched_and_paged_as_one(index: SearchIndex) -> None:
    docs = [IndexDoc(i, "", f"东山街道积水第{i}号", T0 - timedelta(days=9 * i)) for i in range(1, 9)]
    index.add(docs)
    assert _ids(index, text="积水", order="newest", limit=3, offset=2) == [3, 4, 5]
    assert index.search(SearchQuery(text="积水")).total == 8
    assert _ids(index, order="newest", limit=2, offset=6) == [7, 8]
    assert sum(n for _, n in index.counts(SearchQuery(text="东山"), "day")) == 8


@pytest.mark.slow
def test_recall_equals_a_substring_scan_on_a_generated_corpus(
        backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    rng = random.Random(7)
    docs = []
    for i in range(1, 3001):
        text = "".join(rng.choice(WORDS) for _ in range(rng.randint(5, 60)))
        if rng.random() < 0.3:
            text += "，" + "".join(rng.choice(WORDS) for _ in range(5))
        docs.append(IndexDoc(i, "", text, T0))
    stack = ExitStack()
    index = open_backend(backend, tmp_path, stack, request)
    index.add(docs)
    for word in ["食堂", "堂食", "学校食堂", "校食", "食", "堂", "东山街道", "区物", "饭堂学生",
                 "医保政策", "道路施工噪音"]:
        expected = {d.id for d in docs if word in d.haystack()}
        got = set(index.search(SearchQuery(text=word, limit=5000)).ids)
        assert got == expected, word
        assert index.search(SearchQuery(text=word)).total == len(expected)
    stack.close()
