"""How text becomes index tokens, shared by both search backends so they match the same words.

Two token streams per document:
- ``words``: jieba search-mode tokens (rank boost, hot terms). Precise-mode tokens alone miss
  a word hiding inside a longer one (食堂 in 学校食堂), so they never decide a match alone.
- ``grams``: for every run of Chinese characters, or of Latin letters and digits, its
  overlapping character bigrams followed by the run's last character. A query term becomes a
  phrase of the same grams, so every document holding the term as a substring is a candidate
  (pm inside ppm too); the exact substring test in ``query.py`` then removes the rest.
"""

from __future__ import annotations

import operator
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass

from store.search.query import fold

_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[a-z0-9]+")

WordTokenizer = Callable[[str], list[str]]


def _runs(text: str) -> list[str]:
    return _RUN.findall(fold(text))


def gram_tokens(text: str) -> list[str]:
    out: list[str] = []
    for run in _runs(text):
        out.extend(map(operator.add, run, run[1:]))  # bigrams, built in C
        out.append(run[-1])
    return out


def gram_text(folded: str) -> str:
    """``gram_tokens`` of an already folded text, space-joined as FTS5 indexes them."""
    parts: list[str] = []
    for run in _RUN.findall(folded):
        if len(run) > 1:
            parts.append(" ".join(map(operator.add, run, run[1:])))
        parts.append(run[-1])
    return " ".join(parts)


class _RjiebaWords:
    """Default word tokenizer: rjieba (token-identical to jieba, native speed), built lazily."""

    def __init__(self) -> None:
        self._local = threading.local()

    def __call__(self, text: str) -> list[str]:
        # keep tokens with a letter, digit or Chinese character; punctuation is not a word
        return [t for t in self._cut(fold(text)) if _RUN.search(t)]

    def _cut(self, folded: str) -> list[str]:
        jieba = getattr(self._local, "jieba", None)
        if jieba is None:
            import rjieba  # loaded on first use: the dictionary costs about half a second

            jieba = self._local.jieba = rjieba
        return jieba.cut_for_search(folded)

    def joined(self, folded: str) -> str:
        """The tokens of an already folded text, space-joined for FTS5: punctuation tokens
        are left in, since FTS5's tokenizer drops them itself (no per-token filter)."""
        return " ".join(self._cut(folded))


default_words = _RjiebaWords()


@dataclass(frozen=True)
class QueryTerm:
    """One needle as the index sees it: the gram phrase that must occur, the last gram maybe
    as a prefix (a single trailing character may start a longer gram in the document)."""

    text: str
    grams: tuple[str, ...]
    prefix: bool


def term_grams(needle: str) -> QueryTerm | None:
    """The candidate phrase for one folded needle; None when it holds nothing searchable."""
    runs = _RUN.findall(needle)
    if not runs:
        return None
    grams: list[str] = []
    for i, run in enumerate(runs):
        grams.extend(run[j:j + 2] for j in range(len(run) - 1))
        # A run that ends inside the needle ends in the document too, where its last
        # character follows as its own token; the final run may continue instead.
        if i < len(runs) - 1 or len(run) == 1:
            grams.append(run[-1])
    return QueryTerm(text=needle, grams=tuple(grams), prefix=len(runs[-1]) == 1)
