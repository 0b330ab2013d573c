"""FTS5's query paths each against a substring scan of the same small corpus: two-character
terms (one gram), longer terms (a gram phrase), phrases across punctuation and spaces (the exact
check on candidates), mixed scripts, exclusions and alternatives, and relevance order."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from store.search import IndexDoc, SearchQuery
from store.search.fts5 import FTS5Index, exact_expression
from store.search.query import fold

T0 = datetime(2024, 5, 20, 4, 0, tzinfo=UTC)
# Written for this test: pieces that make the paths differ (a term spanning punctuation,
# a two-character word inside a longer one, Latin with digits, full-width forms).
PIECES = ["拆迁", "拆迁户", "噪音", "夜间施工噪音", "学校食堂", "食。堂", "食 堂", "饭堂",
          "PM2.5", "ｐｍ２．５", "5G基站", "积水", "小区积水严重", "广告", "，", "。", "、",
          "居民反映", "街道办", "已经处理", "迁", "拆", "噪", "音乐", "工作", "政府工作报告"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[FTS5Index, dict[int, str]]:
    rnd = random.Random(16)
    texts = {i: "".join(rnd.choice(PIECES) for _ in range(rnd.randint(3, 14)))
             for i in range(1, 401)}
    index = FTS5Index(tmp_path_factory.mktemp("paths") / "search.db")
    index.add([IndexDoc(i, "", text, T0 + timedelta(minutes=(i * 7919) % 400))
               for i, text in texts.items()])
    return index, {i: fold(t) for i, t in texts.items()}


def scan(hays: dict[int, str], needle: str) -> set[int]:
    return {i for i, h in hays.items() if needle in h}


@pytest.mark.parametrize("term", ["拆迁", "噪音", "饭堂", "pm", "5g", "迁", "噪"])
def test_short_terms_equal_a_substring_scan(corpus: tuple[FTS5Index, dict[int, str]],
                                            term: str) -> None:
    index, hays = corpus
    expected = scan(hays, term)
    assert expected, term  # the corpus holds every term
    result = index.search(SearchQuery(text=term, limit=1000))
    assert result.total == len(expected) and set(result.ids) == expected


@pytest.mark.parametrize("term", ["拆迁户", "施工噪音", "学校食堂", "政府工作报告", "小区积水严重",
                                  "pm2"])
def test_longer_terms_equal_a_substring_scan(corpus: tuple[FTS5Index, dict[int, str]],
                                             term: str) -> None:
    index, hays = corpus
    assert exact_expression(index.parse(term)) is not None  # counted inside FTS5
    expected = scan(hays, term)
    assert expected, term
    result = index.search(SearchQuery(text=term, limit=1000))
    assert result.total == len(expected) and set(result.ids) == expected


@pytest.mark.parametrize(("query", "needle"), [('"食。堂"', "食。堂"), ('"食 堂"', "食 堂"),
                                                ("pm2.5", "pm2.5"), ("ｐｍ２．５", "pm2.5"),
                                                ("5g基站", "5g基站")])
def test_phrases_across_punctuation_and_scripts_are_checked_exactly(
        corpus: tuple[FTS5Index, dict[int, str]], query: str, needle: str) -> None:
    index, hays = corpus
    assert exact_expression(index.parse(query)) is None  # candidates, then the exact check
    expected = scan(hays, needle)
    assert expected, needle
    result = index.search(SearchQuery(text=query, limit=1000))
    assert result.total == len(expected) and set(result.ids) == expected
    newest = index.search(SearchQuery(text=query, order="newest", limit=3))
    assert newest.total == len(expected) and len(newest.ids) == min(3, len(expected))


def test_exclusions_and_alternatives_equal_a_substring_scan(
        corpus: tuple[FTS5Index, dict[int, str]]) -> None:
    index, hays = corpus
    expected = {i for i, h in hays.items()
                if ("拆迁" in h or "噪音" in h) and "广告" not in h and "食。堂" not in h}
    result = index.search(SearchQuery(text='拆迁 | 噪音 -广告 -"食。堂"', limit=1000))
    assert result.total == len(expected) and set(result.ids) == expected


def test_relevance_pages_hold_every_hit_once(corpus: tuple[FTS5Index, dict[int, str]]) -> None:
    index, hays = corpus
    expected = scan(hays, "积水")
    seen: list[int] = []
    for page in range(0, len(expected), 25):
        seen += index.search(SearchQuery(text="积水", limit=25, offset=page)).ids
    assert len(seen) == len(set(seen)) and set(seen) == expected


def test_a_post_holding_the_term_more_often_ranks_first(tmp_path: Path) -> None:
    index = FTS5Index(tmp_path / "search.db")
    index.add([IndexDoc(1, "", "小区积水。居民反映路面也有积水，积水很深", T0),
               IndexDoc(2, "", "小区积水，居民反映街道办已经处理", T0 + timedelta(hours=1))])
    assert index.search(SearchQuery(text="积水")).ids == [1, 2]
    assert index.search(SearchQuery(text="积水", order="newest")).ids == [2, 1]
    index.close()
