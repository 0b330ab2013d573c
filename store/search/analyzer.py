"""How text becomes index tokens for both search backends, so they match the same words.

Elasticsearch keeps two token streams per document:
- ``words``: jieba search-mode tokens (rank boost, hot terms). Precise-mode tokens alone miss
  a word hiding inside a longer one (食堂 in 学校食堂), so they never decide a match alone.
- ``grams`` (``gram_tokens``, ``term_grams``): for every run of Chinese characters, or of Latin
  letters and digits, its overlapping character bigrams followed by the run's last character. A
  query term becomes a phrase of the same grams, so every document holding the term as a
  substring is a candidate (pm inside ppm too); the exact substring test in ``query.py`` then
  removes the rest.

FTS5 (format 4, ``index_text``, ``term_tokens``) indexes each Chinese character alone instead
of its bigrams: fewer distinct terms a post (about 280 against 400 in the bench corpus) drawn
from a vocabulary of some thousand characters instead of hundreds of thousands of bigrams, which
makes the FTS5 inserts about 5x cheaper, and a phrase of single characters is still a substring
test. Latin and digit runs keep their grams: letters alone would give ``p`` and ``m`` postings
in nearly every post with any Latin text, which a query ``pm`` would have to intersect
(measured on 20k bench posts with 0-12 random Latin words added: letters saved 6 % of the
insert CPU, 77 against 83 µs a post, and made counting a Latin term 20-50x slower, about 1 ms
against under 0.05 ms). Runs not adjacent in the text have ``BOUNDARY`` between them, a token
no query phrase holds unless its needle has a gap there, so 北京，上海 does not match 京上.
"""

from __future__ import annotations

import operator
import re
import threading
from collections.abc import Callable, Iterator
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
    """One needle as the index sees it: the token phrase that must occur (``grams``), the last
    token maybe as a prefix (a single trailing Latin character may start a longer gram in the
    document)."""

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


# FTS5 stream. Han characters SQLite's unicode61 surely treats as token characters (Unicode
# 1.1 and extension A): each is a token. The later ones of _RUN's ranges may be separators in
# some SQLite build, whose neighbours would then look adjacent: each is its own run instead,
# always between boundaries, so a dropped one never joins two runs.
_SAFE_HAN = "\u3400-\u4db5\u4e00-\u9fa5"
_PIECE = re.compile(rf"([{_SAFE_HAN}]+)|([a-z0-9]+)|([\u4db6-\u4dbf\u9fa6-\u9fff\uf900-\ufaff])")
# A private-use character: unicode61 keeps it as a token (category Co), the text never yields
# it as a token (it is outside _PIECE), and it neither is nor starts any token a query builds,
# prefix queries (p*) included.
BOUNDARY = "\ue000"


def _pieces(text: str) -> Iterator[tuple[re.Match[str], bool]]:
    """Each run of ``text`` with whether ``BOUNDARY`` stands before it: the one rule the
    indexed text and a query's phrase must share. A run not adjacent to the previous one is
    bounded, and so is a lone rarer character on both sides."""
    end = -1  # where the previous run ended (-1: none yet)
    lone = False  # the previous run was a lone character that must stay between boundaries
    for m in _PIECE.finditer(text):
        odd = m.group(3) is not None
        yield m, end >= 0 and (lone or odd or m.start() != end)
        end, lone = m.end(), odd


def index_text(folded: str) -> str:
    """The FTS5 tokens of an already folded text, space-joined: Chinese runs as single
    characters, Latin/digit runs as their bigrams and last character, ``BOUNDARY`` between
    runs that are not adjacent in the text."""
    parts: list[str] = []
    for m, bounded in _pieces(folded):
        han, latin, odd = m.groups()
        if bounded:
            parts.append(BOUNDARY)
        if han is not None:
            parts.append(" ".join(han))
        elif latin is not None:
            if len(latin) > 1:
                parts.append(" ".join(map(operator.add, latin, latin[1:])))  # built in C
            parts.append(latin[-1])
        else:
            parts.append(odd)
    return " ".join(parts)


def term_tokens(needle: str) -> QueryTerm | None:
    """The FTS5 candidate phrase of one folded needle (the ``index_text`` tokens any text
    holding it holds in a row); None when it holds nothing searchable.

    The first run may continue leftwards in a document and the last rightwards; a Latin run
    that ends inside the needle ends in the document too, where its last character follows
    as its own token. A final single Latin character is a prefix (it may start a bigram).
    """
    pieces = list(_pieces(needle))
    if not pieces:
        return None
    tokens: list[str] = []
    for m, bounded in pieces:
        han, latin, odd = m.groups()
        if bounded:
            tokens.append(BOUNDARY)
        if han is not None:
            tokens.extend(han)
        elif latin is not None:
            tokens.extend(latin[j:j + 2] for j in range(len(latin) - 1))
            if m.end() < len(needle) or len(latin) == 1:
                tokens.append(latin[-1])
        else:
            tokens.append(odd)
    last = pieces[-1][0]
    prefix = last.group(2) is not None and len(last.group(2)) == 1 and last.end() == len(needle)
    return QueryTerm(text=needle, grams=tuple(tokens), prefix=prefix)
