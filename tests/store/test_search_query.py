"""The search syntax as a table: what each query means, what each malformed one is told,
and how snippets mark hits without letting crawled markup through."""

from __future__ import annotations

import random
import unicodedata

import pytest

from store.search import QuerySyntaxError, parse, plain_snippet, snippet, snippet_parts
from store.search.analyzer import term_grams
from store.search.query import Clause, Term, nfkc


def _shape(text: str) -> list[tuple[bool, list[str]]]:
    return [(c.negated, [t.text for t in c.terms]) for c in parse(text).clauses]


@pytest.mark.parametrize(("query", "shape"), [
    ("食堂", [(False, ["食堂"])]),
    ("学校 食堂", [(False, ["学校"]), (False, ["食堂"])]),
    ("食堂 -广告", [(False, ["食堂"]), (True, ["广告"])]),
    ("积水 | 内涝", [(False, ["积水", "内涝"])]),
    ("积水|内涝", [(False, ["积水", "内涝"])]),
    ("积水 OR 内涝", [(False, ["积水", "内涝"])]),
    ("积水 or 内涝", [(False, ["积水"]), (False, ["or"]), (False, ["内涝"])]),  # OR is upper
    ("暴雨 积水 | 内涝 | 淹水", [(False, ["暴雨"]), (False, ["积水", "内涝", "淹水"])]),
    ('"地下 车库"', [(False, ["地下 车库"])]),
    ("“地下  车库”", [(False, ["地下 车库"])]),  # Chinese quotes; spaces collapse
    ('食堂 -"承包 广告"', [(False, ["食堂"]), (True, ["承包 广告"])]),
    ("ＰＭ２.５", [(False, ["pm2.5"])]),  # full-width and case fold
    ("食堂 ｜ 饭堂", [(False, ["食堂", "饭堂"])]),  # a full-width bar is the operator
    ("新冠-19", [(False, ["新冠-19"])]),  # a hyphen inside a word is text
    ("--广告 食堂", [(True, ["-广告"]), (False, ["食堂"])]),
    ("食堂 食堂 | 食堂", [(False, ["食堂"]), (False, ["食堂"])]),  # duplicates in an OR fold
])
def test_the_syntax_reads_as_documented(query: str, shape: list[tuple[bool, list[str]]]) -> None:
    assert _shape(query) == shape


@pytest.mark.parametrize(("query", "message"), [
    ("", "请输入检索词"),
    ("   ", "请输入检索词"),
    ('"食堂', "引号不成对"),
    ('食堂 "学校 -"广告"', "引号不成对"),
    ("-", "减号后缺少要排除的词"),
    ("食堂 -", "减号后缺少要排除的词"),
    ("-食堂", "至少需要一个不带减号的检索词"),
    ("| 食堂", "两侧都需要检索词"),
    ("食堂 |", "两侧都需要检索词"),
    ("食堂 | | 饭堂", "两侧都需要检索词"),
    ("OR", "两侧都需要检索词"),
    ("食堂 | -广告", "排除词（-词）不能放在"),
    ('""', "引号中的短语不能为空"),
    ("！？。", "不含汉字、字母或数字"),
    ("食堂 " * 17, "检索词过多"),
    ("食" * 201, "检索式过长"),
])
def test_a_malformed_query_is_told_why_in_chinese(query: str, message: str) -> None:
    with pytest.raises(QuerySyntaxError, match=message):
        parse(query)


def test_the_normalizer_applies_to_terms_not_to_operators() -> None:
    seen: list[str] = []

    def t2s(text: str) -> str:
        seen.append(text)
        return text.replace("東", "东")

    assert _shape_with('東山 | 東區 -"東 山"', t2s) == [
        (False, ["东山", "东區"]), (True, ["东 山"])]
    assert '|' not in "".join(seen) and '"' not in "".join(seen)


def _shape_with(text: str, normalize) -> list[tuple[bool, list[str]]]:  # type: ignore[no-untyped-def]
    return [(c.negated, [t.text for t in c.terms]) for c in parse(text, normalize).clauses]


@pytest.mark.parametrize(("query", "text", "hit"), [
    ("食堂", "东山街道学校食堂", True),
    ("校食", "学校食堂", True),
    ("食堂 -广告", "食堂承包广告", False),
    ("食堂 -广告", "学校食堂", True),
    ("腹泻 | 积水", "车库积水", True),
    ("腹泻 | 积水", "食堂", False),
    ('"地下 车库"', "地下车库", False),  # a phrase keeps its space
    ('"地下 车库"', "地下 车库", True),
    ("食。堂", "食，堂", False),
])
def test_a_hit_is_a_substring_of_the_folded_text(query: str, text: str, hit: bool) -> None:
    assert parse(query).matches(text) is hit


def test_candidate_grams_are_the_documents_own_grams() -> None:
    assert term_grams("学校食堂").grams == ("学校", "校食", "食堂")
    assert term_grams("食").prefix and term_grams("食").grams == ("食",)
    assert term_grams("pm2.5").grams == ("pm", "m2", "2", "5")  # a run ends at "."
    assert term_grams("！？") is None


def test_snippets_escape_first_then_mark() -> None:
    text = "前" * 100 + '学校食堂<script>alert("食堂")</script>' + "后" * 100
    q = parse("食堂")
    html = snippet(text, q, width=60)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert html.count("<mark>食堂</mark>") == 2
    assert html.startswith("…") and html.endswith("…")
    assert plain_snippet(text, q, width=60).count('<script>alert("食堂")') == 1
    # the parts carry raw text: the template escapes each piece
    assert ('食堂', True) in snippet_parts(text, q, width=60)


def test_overlapping_hits_prefer_the_longer_needle() -> None:
    parts = snippet_parts("学校食堂", parse("食堂 | 学校食堂"))
    assert parts == [("学校食堂", True)]


def test_terms_and_clauses_are_plain_values() -> None:
    assert parse("食堂").clauses == (Clause((Term("食堂"),)),)


def test_nfkc_equals_the_standard_library_on_tricky_mixtures() -> None:
    # ideographs beside full-width forms, combining marks (reordered by class), Hangul jamo,
    # compatibility ideographs and squared words: every piece NFKC treats specially
    pool = ([chr(c) for c in range(0x4E00, 0x4E40)] + [chr(c) for c in range(0xFF01, 0xFF5F)]
            + list("\u0301\u0300\u0308\u0316\u3099\u309a\u1100\u1161\u11a8\uac00\u3000\uf900"
                   "\ufa0e\u2f00\u3131\u00e9\u00a0\u2460\u33a1\ufb01\u3300\u309b\u30ab\uff76"
                   "\uff9eabcXYZ12，。、 \n"))
    rnd = random.Random(16)
    for _ in range(20_000):
        text = "".join(rnd.choice(pool) for _ in range(rnd.randint(0, 14)))
        assert nfkc(text) == unicodedata.normalize("NFKC", text), repr(text)
