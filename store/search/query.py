"""The search syntax, as pure functions: parse a user's query, test a text, mark a snippet.

Syntax: words separated by spaces must all occur (AND); ``-word`` excludes; ``A | B`` (also
``A OR B``) is either; ``"a phrase"`` (or “a phrase”) must occur as written, spaces included.
Matching is substring over folded text (NFKC: full-width to half-width, lower case) after the
caller's normalizer (繁→简, injected so ``store`` imports nothing of ours): ``matches`` is the
definition of a hit, and the index backends only generate candidates that it then confirms.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

MAX_QUERY_CHARS = 200
MAX_QUERY_TERMS = 16
# what the index can find: Chinese characters, Latin letters and digits
SEARCHABLE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaffa-z0-9]")
_QUOTES = str.maketrans({"“": '"', "”": '"', "＂": '"'})

Normalizer = Callable[[str], str]


# Runs of CJK unified ideographs: NFKC leaves each one as it is, and none composes with a
# neighbour, so NFKC of a text is NFKC of the pieces between such runs, runs kept as they are.
_IDEOGRAPHS = re.compile(r"([\u4e00-\u9fff]+)")


def nfkc(text: str) -> str:
    """``unicodedata.normalize("NFKC", text)``, the same string 6x faster on Chinese text: one
    full-width comma sends CPython's NFKC down its slow path for the whole text, so only the
    pieces between ideograph runs go through it."""
    parts = _IDEOGRAPHS.split(text)
    parts[::2] = [unicodedata.normalize("NFKC", p) for p in parts[::2]]
    return "".join(parts)


def fold(text: str) -> str:
    """Full-width to half-width, compatibility forms, lower case."""
    return nfkc(text).lower()


class QuerySyntaxError(ValueError):
    """A query the syntax cannot read; the message is Chinese and safe to show."""


@dataclass(frozen=True)
class Term:
    text: str  # the folded, normalized needle
    phrase: bool = False


@dataclass(frozen=True)
class Clause:
    """Any one of ``terms`` must occur (or, when ``negated``, the one term must not)."""

    terms: tuple[Term, ...]
    negated: bool = False


@dataclass(frozen=True)
class ParsedQuery:
    clauses: tuple[Clause, ...]

    @property
    def positive(self) -> list[Clause]:
        return [c for c in self.clauses if not c.negated]

    def needles(self) -> list[str]:
        """Every positive needle, longest first (the order highlights prefer)."""
        found = {t.text for c in self.positive for t in c.terms}
        return sorted(found, key=lambda s: (-len(s), s))

    def matches(self, folded: str) -> bool:
        """Whether an already folded text is a hit: the one definition of a result."""
        for clause in self.clauses:
            hit = any(t.text in folded for t in clause.terms)
            if hit == clause.negated:
                return False
        return True


def _tokens(text: str) -> list[tuple[str, str]]:
    """(kind, value) with kind in word, phrase, neg, negphrase, or."""
    out: list[tuple[str, str]] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c == "|":
            out.append(("or", "|"))
            i += 1
        elif c == '"' or (c == "-" and i + 1 < n and text[i + 1] == '"'):
            neg = c == "-"
            start = i + 2 if neg else i + 1
            end = text.find('"', start)
            if end < 0:
                raise QuerySyntaxError("引号不成对：短语需要用一对引号括起来，如 \"学校食堂\"")
            out.append(("negphrase" if neg else "phrase", text[start:end]))
            i = end + 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in '|"':
                j += 1
            word = text[i:j]
            i = j
            if word == "-":
                raise QuerySyntaxError("减号后缺少要排除的词：用法如 -广告（减号与词之间不留空格）")
            if word == "OR":
                out.append(("or", word))
            elif word.startswith("-"):
                out.append(("neg", word[1:]))
            else:
                out.append(("word", word))
    return out


def parse(text: str | None, normalize: Normalizer | None = None) -> ParsedQuery:
    """The query's clauses; raises ``QuerySyntaxError`` with a Chinese message when malformed."""
    text = (text or "").translate(_QUOTES)
    text = unicodedata.normalize("NFKC", text)  # full-width ｜ － ＂ become operators
    if not text.strip():
        raise QuerySyntaxError("请输入检索词")
    if len(text) > MAX_QUERY_CHARS:
        raise QuerySyntaxError(f"检索式过长：最多 {MAX_QUERY_CHARS} 个字符")

    def needle(raw: str) -> str:
        value = normalize(raw) if normalize else raw
        return " ".join(fold(value).split())

    groups: list[list[tuple[str, str]]] = [[]]
    pending_or = False
    for kind, value in _tokens(text):
        if kind == "or":
            if not groups[-1] or pending_or:
                raise QuerySyntaxError("“|”或 OR 两侧都需要检索词，如 积水 | 内涝")
            pending_or = True
        elif pending_or:
            groups[-1].append((kind, value))
            pending_or = False
        else:
            if groups[-1]:
                groups.append([])
            groups[-1].append((kind, value))
    if pending_or:
        raise QuerySyntaxError("“|”或 OR 两侧都需要检索词，如 积水 | 内涝")

    clauses: list[Clause] = []
    for group in groups:
        negs = [k for k, _ in group if k.startswith("neg")]
        if negs and len(group) > 1:
            raise QuerySyntaxError("排除词（-词）不能放在“|”或 OR 之中")
        terms = []
        for kind, value in group:
            term = Term(needle(value), phrase=kind.endswith("phrase"))
            if not term.text:
                raise QuerySyntaxError("引号中的短语不能为空" if term.phrase else "检索词不能为空")
            if not negs and not SEARCHABLE.search(term.text):
                raise QuerySyntaxError(f"检索词「{value}」不含汉字、字母或数字，无法检索")
            terms.append(term)
        clauses.append(Clause(tuple(dict.fromkeys(terms)), negated=bool(negs)))
    if not any(not c.negated for c in clauses):
        raise QuerySyntaxError("至少需要一个不带减号的检索词，如 积水 -广告")
    if sum(len(c.terms) for c in clauses) > MAX_QUERY_TERMS:
        raise QuerySyntaxError(f"检索词过多：最多 {MAX_QUERY_TERMS} 个")
    return ParsedQuery(tuple(clauses))


def snippet_parts(text: str, query: ParsedQuery, width: int = 120) -> list[tuple[str, bool]]:
    """An excerpt of ``text`` around the first hit as (piece, is_hit) pairs, raw text: the
    template escapes each piece and wraps hits in <mark>, so no markup comes from the text."""
    folded = fold(text)
    if len(folded) != len(text):  # positions would not line up: show the folded text
        text = folded
    spans = _spans(folded, query.needles())
    first = spans[0][0] if spans else 0
    start = max(0, first - width // 3)
    end = min(len(text), start + width)
    parts: list[tuple[str, bool]] = [("…", False)] if start else []
    pos = start
    for s, e in spans:
        if e <= start or s >= end:
            continue
        s, e = max(s, start), min(e, end)
        if s > pos:
            parts.append((text[pos:s], False))
        parts.append((text[s:e], True))
        pos = e
    if end > pos:
        parts.append((text[pos:end], False))
    if end < len(text):
        parts.append(("…", False))
    return [(piece.replace("\n", " "), hit) for piece, hit in parts]


def snippet(text: str, query: ParsedQuery, width: int = 120) -> str:
    """The excerpt as HTML: each piece escaped first, hits then wrapped in <mark>."""
    return "".join(f"<mark>{html.escape(p)}</mark>" if hit else html.escape(p)
                   for p, hit in snippet_parts(text, query, width))


def plain_snippet(text: str, query: ParsedQuery, width: int = 120) -> str:
    """The same excerpt as plain text (CLI, JSON, exports)."""
    return "".join(p for p, _ in snippet_parts(text, query, width))


def _spans(folded: str, needles: list[str]) -> list[tuple[int, int]]:
    """Non-overlapping hit spans in order, longer needles first where they overlap."""
    taken: list[tuple[int, int]] = []
    for needle in needles:
        at = folded.find(needle)
        while at >= 0:
            span = (at, at + len(needle))
            if all(span[1] <= s or span[0] >= e for s, e in taken):
                taken.append(span)
            at = folded.find(needle, at + 1)
    return sorted(taken)
