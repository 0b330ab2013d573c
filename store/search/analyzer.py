"""How text becomes index tokens, shared by both search backends so they match the same words.

Two token streams per document:
- ``words``: jieba search-mode tokens (rank boost, hot terms). Precise-mode tokens alone miss
  a word hiding inside a longer one (食堂 in 学校食堂), so they never decide a match alone.
- ``grams``: for every run of Chinese characters, its overlapping character bigrams followed by
  the run's last character; Latin letters and digits as lower-case words. A query term becomes
  a phrase of the same grams, so it matches exactly where the term occurs as a substring.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[a-z0-9]+")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")

# Bounds on what a user's query can cost: longer input is cut, not refused.
MAX_QUERY_CHARS = 200
MAX_QUERY_TERMS = 16

WordTokenizer = Callable[[str], list[str]]


def fold(text: str) -> str:
    """Full-width to half-width, compatibility forms, lower case."""
    return unicodedata.normalize("NFKC", text).lower()


def _runs(text: str) -> list[str]:
    return _RUN.findall(fold(text))


def _is_cjk(run: str) -> bool:
    return bool(_CJK.match(run))


def gram_tokens(text: str) -> list[str]:
    out: list[str] = []
    for run in _runs(text):
        if _is_cjk(run):
            out.extend(run[i:i + 2] for i in range(len(run) - 1))
            out.append(run[-1])
        else:
            out.append(run)
    return out


class _RjiebaWords:
    """Default word tokenizer: rjieba (token-identical to jieba, native speed), built lazily."""

    def __init__(self) -> None:
        self._local = threading.local()

    def __call__(self, text: str) -> list[str]:
        jieba = getattr(self._local, "jieba", None)
        if jieba is None:
            import rjieba  # loaded on first use: the dictionary costs about half a second

            jieba = self._local.jieba = rjieba
        # keep tokens with a letter, digit or Chinese character; punctuation is not a word
        return [t for t in jieba.cut_for_search(fold(text)) if _RUN.search(t)]


default_words = _RjiebaWords()


@dataclass(frozen=True)
class QueryTerm:
    """One user term: the gram phrase that must occur, the last token maybe as a prefix."""

    text: str
    grams: tuple[str, ...]
    prefix: bool  # the last gram may be followed by more characters (single trailing char)


def parse_query(text: str | None) -> list[QueryTerm]:
    """Whitespace-separated terms, all required. Never raises; empty input gives no terms."""
    if not text:
        return []
    text = fold(text)[:MAX_QUERY_CHARS]
    terms: list[QueryTerm] = []
    for raw in text.split():
        runs = _runs(raw)
        if not runs:
            continue
        grams: list[str] = []
        for i, run in enumerate(runs):
            last = i == len(runs) - 1
            if _is_cjk(run):
                grams.extend(run[j:j + 2] for j in range(len(run) - 1))
                # A run that ends inside the term ends in the document too, where its last
                # character follows as its own token; the final run may continue instead.
                if not last or len(run) == 1:
                    grams.append(run[-1])
            else:
                grams.append(run)
        last_run = runs[-1]
        prefix = len(last_run) == 1 or not _is_cjk(last_run)
        terms.append(QueryTerm(text=raw, grams=tuple(grams), prefix=prefix))
        if len(terms) >= MAX_QUERY_TERMS:
            break
    return terms
