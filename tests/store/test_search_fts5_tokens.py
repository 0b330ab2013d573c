"""FTS5 format 4 tokens: single Chinese characters, Latin bigrams, a boundary between runs
that are not adjacent in the text; hits always equal a substring scan."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from store.search import IndexDoc, SearchQuery
from store.search.analyzer import BOUNDARY, index_text, term_tokens
from store.search.fts5 import FTS5Index, exact_expression
from store.search.query import fold

T0 = datetime(2024, 5, 20, 4, 0, tzinfo=UTC)
B = BOUNDARY


def test_chinese_runs_are_single_characters_with_a_boundary_between_runs() -> None:
    assert index_text("北京，上海") == f"北 京 {B} 上 海"
    assert index_text("ppm中文 pm2.5") == f"pp pm m 中 文 {B} pm m2 2 {B} 5"
    assert index_text("。") == ""


def test_query_phrases_follow_the_same_tokens() -> None:
    assert term_tokens("京上").grams == ("京", "上")  # type: ignore[union-attr]
    assert term_tokens("京，上").grams == ("京", B, "上")  # type: ignore[union-attr]
    one = term_tokens("京")
    assert one is not None and one.grams == ("京",) and not one.prefix
    latin = term_tokens("p")
    assert latin is not None and latin.grams == ("p",) and latin.prefix
    # a Latin run that ends inside the needle ends in the text: its last character follows
    assert term_tokens("pm中").grams == ("pm", "m", "中")  # type: ignore[union-attr]
    assert term_tokens("！？") is None


@pytest.fixture()
def index(tmp_path: Path) -> FTS5Index:
    return FTS5Index(tmp_path / "search.db")


def _ids(index: FTS5Index, text: str) -> list[int]:
    result = index.search(SearchQuery(text=text, limit=100))
    assert result.total == len(result.ids)
    return sorted(result.ids)


def test_characters_of_two_runs_are_not_adjacent(index: FTS5Index) -> None:
    index.add([IndexDoc(1, "", "北京，上海", T0), IndexDoc(2, "", "南京上海", T0)])
    assert exact_expression(index.parse("京上")) is not None  # FTS5 alone decides
    assert _ids(index, "京上") == [2]
    assert _ids(index, '"京，上"') == [1]
    assert _ids(index, "上海") == [1, 2]
    index.close()


def test_single_characters_and_whole_runs(index: FTS5Index) -> None:
    index.add([IndexDoc(1, "", "学校食堂", T0), IndexDoc(2, "", "食品，学校", T0),
               IndexDoc(3, "", "堂", T0)])
    assert _ids(index, "食") == [1, 2]
    assert _ids(index, "堂") == [1, 3]
    assert _ids(index, "学校食堂") == [1]  # a term equal to a whole run
    assert _ids(index, "学校食堂饭") == []
    assert _ids(index, "食品") == [2]
    index.close()


def test_latin_inside_latin_and_mixed_scripts(index: FTS5Index) -> None:
    index.add([IndexDoc(1, "", "PPM超标", T0), IndexDoc(2, "", "pm2.5 指数", T0),
               IndexDoc(3, "", "5G基站", T0), IndexDoc(4, "", "p m", T0)])
    assert _ids(index, "pm") == [1, 2]
    assert _ids(index, "p") == [1, 2, 4]
    assert _ids(index, "m超") == [1]
    assert _ids(index, "pm2.5") == [2]
    assert _ids(index, "2.5指") == []  # a space stands between in the text
    assert _ids(index, "5g基") == [3]
    assert _ids(index, "g基站") == [3]
    assert _ids(index, '"p m"') == [4]
    index.close()


# Written for this test: characters and pieces that meet across punctuation, spaces and a
# change of script, so adjacent-in-index but not-adjacent-in-text cases are frequent.
ALPHABET = ["北", "京", "上", "海", "食", "堂", "学", "校", "p", "m", "2", "5", "g", "，", "。",
            " ", ".", "-", "京上", "pm", "5g", "食堂"]


def test_the_exact_path_equals_a_substring_scan_on_a_random_corpus(tmp_path: Path) -> None:
    rnd = random.Random(4)
    texts = {i: "".join(rnd.choice(ALPHABET) for _ in range(rnd.randint(1, 12)))
             for i in range(1, 301)}
    index = FTS5Index(tmp_path / "search.db")
    index.add([IndexDoc(i, "", t, T0 + timedelta(seconds=i)) for i, t in texts.items()])
    hays = {i: fold(t) for i, t in texts.items()}
    needles = {"".join(rnd.choice(ALPHABET) for _ in range(rnd.randint(1, 3)))
               for _ in range(300)}
    exact = 0
    for needle in sorted(needles):
        folded = " ".join(fold(needle).split())
        if term_tokens(folded) is None or not folded or folded.startswith("-"):
            continue  # nothing searchable, or an operator
        query = f'"{folded}"'
        expected = sorted(i for i, h in hays.items() if folded in h)
        exact += exact_expression(index.parse(query)) is not None
        result = index.search(SearchQuery(text=query, limit=1000))
        assert sorted(result.ids) == expected and result.total == len(expected), needle
    assert exact > 50  # the exact path was taken often, not only the checked one
    index.close()
