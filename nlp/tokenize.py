"""Word segmentation with the domain dictionary, built once per process.

``Tokenizer`` is small and picklable (it keeps only the word lists): the native segmenter
is rebuilt lazily in each process and shared by every Tokenizer with the same words, so a
model unpickled in a worker pays the dictionary load once. The backend is rjieba (jieba-rs:
token-identical to jieba, far faster); plain ``jieba.Tokenizer`` is the fallback when the
native wheel is missing. The global ``jieba.dt`` is never used.
"""

from __future__ import annotations

import hashlib
import threading
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from typing import Any

_BACKENDS: dict[str, Any] = {}
_BACKENDS_LOCK = threading.Lock()
_CACHE_SIZE = 4096  # one batch tokenized by several models hits this instead of re-cutting


@lru_cache(maxsize=1)
def shipped_domain_words() -> tuple[str, ...]:
    return tuple(_read_lines("domain_words.txt"))


@lru_cache(maxsize=1)
def shipped_stopwords() -> frozenset[str]:
    return frozenset(_read_lines("stopwords.txt"))


def _read_lines(name: str) -> list[str]:
    text = resources.files("nlp").joinpath("data", name).read_text(encoding="utf-8")
    return [w.strip() for w in text.splitlines() if w.strip() and not w.startswith("#")]


def _is_content(token: str) -> bool:
    # punctuation, symbols and whitespace carry no topic; digits alone neither
    if not token.strip():
        return False
    return any(unicodedata.category(ch)[0] in "LN" for ch in token) and not token.isdigit()


class Tokenizer:
    """Callable: ``tokenizer(text)`` returns content words (no stopwords, no punctuation)."""

    def __init__(self, extra_words: Iterable[str] = (), stopwords: Iterable[str] | None = None,
                 use_shipped: bool = True):
        words = list(shipped_domain_words()) if use_shipped else []
        words += [w.strip() for w in extra_words if w and w.strip()]
        self.words: tuple[str, ...] = tuple(dict.fromkeys(words))
        stops = shipped_stopwords() if stopwords is None else frozenset(stopwords)
        self.stopwords: frozenset[str] = frozenset(stops)
        self._key = hashlib.sha1("\n".join(self.words).encode("utf-8")).hexdigest()
        self._cache: dict[str, list[str]] = {}

    # --- pickling: word lists travel, the native segmenter and cache do not ---
    def __getstate__(self) -> dict[str, Any]:
        return {"words": self.words, "stopwords": sorted(self.stopwords), "key": self._key}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.words = tuple(state["words"])
        self.stopwords = frozenset(state["stopwords"])
        self._key = state["key"]
        self._cache = {}

    def __repr__(self) -> str:  # stable repr keeps sklearn's get_params/clone happy
        return f"Tokenizer(<{len(self.words)} words>)"

    @property
    def backend(self) -> Any:
        seg = _BACKENDS.get(self._key)
        if seg is None:
            with _BACKENDS_LOCK:
                seg = _BACKENDS.get(self._key)
                if seg is None:
                    seg = _build_backend(self.words)
                    _BACKENDS[self._key] = seg
        return seg

    def cut(self, text: str) -> list[str]:
        """Every token, punctuation and spaces included (jieba precise mode with HMM)."""
        if not text:
            return []
        return list(self.backend.cut(text))

    def words_of(self, text: str) -> list[str]:
        """Content words: what models, keywords and events read."""
        if not text:
            return []
        hit = self._cache.get(text)
        if hit is not None:
            return hit
        stops = self.stopwords
        out = [t for t in self.cut(text) if t not in stops and _is_content(t)]
        if len(self._cache) >= _CACHE_SIZE:
            self._cache.clear()
        self._cache[text] = out
        return out

    __call__ = words_of


class _JiebaBackend:
    """Same interface as rjieba.Jieba over a private ``jieba.Tokenizer``."""

    def __init__(self) -> None:
        import jieba

        self._tok = jieba.Tokenizer()

    def add_word(self, word: str, freq: int | None, tag: str | None) -> None:
        self._tok.add_word(word, freq, tag)

    def cut(self, text: str) -> list[str]:
        return self._tok.lcut(text)


def _build_backend(words: tuple[str, ...]) -> Any:
    try:
        import rjieba

        seg: Any = rjieba.Jieba()
    except ImportError:
        seg = _JiebaBackend()
    for word in words:
        # freq None: the segmenter suggests a frequency high enough to keep the word whole
        seg.add_word(word, None, None)
    return seg
