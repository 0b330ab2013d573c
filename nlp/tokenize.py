"""Word segmentation with the domain dictionary, built once per process.

``Tokenizer`` is small and picklable (it keeps only the word lists): the native segmenter
is rebuilt lazily in each process and shared by every Tokenizer with the same words, so a
model unpickled in a worker pays the dictionary load once. The backend is rjieba (jieba-rs:
token-identical to jieba, far faster); plain ``jieba.Tokenizer`` is the fallback when the
native wheel is missing. The global ``jieba.dt`` is never used.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from typing import Any

_BACKENDS: dict[str, Any] = {}
_BACKENDS_LOCK = threading.Lock()
# Content words of recent texts, per dictionary: the analyzer and the tokenizers unpickled
# inside each model share it, so a batch is cut once, not once per model.
_CACHES: dict[str, dict[str, list[str]]] = {}
_CACHE_SIZE = 4096


@lru_cache(maxsize=1)
def shipped_domain_words() -> tuple[str, ...]:
    return tuple(_read_lines("domain_words.txt"))


@lru_cache(maxsize=1)
def shipped_stopwords() -> frozenset[str]:
    return frozenset(_read_lines("stopwords.txt"))


def _read_lines(name: str) -> list[str]:
    text = resources.files("nlp").joinpath("data", name).read_text(encoding="utf-8")
    return [w.strip() for w in text.splitlines() if w.strip() and not w.startswith("#")]


_WORDISH = re.compile(r"[^\W_]")


@lru_cache(maxsize=200_000)
def _is_content(token: str) -> bool:
    # punctuation, symbols and whitespace carry no topic; digits alone neither
    return _WORDISH.search(token) is not None and not token.isdigit()


class Tokenizer:
    """Callable: ``tokenizer(text)`` returns content words (no stopwords, no punctuation)."""

    def __init__(self, extra_words: Iterable[str] = (), stopwords: Iterable[str] | None = None,
                 use_shipped: bool = True):
        words = list(shipped_domain_words()) if use_shipped else []
        words += [w.strip() for w in extra_words if w and w.strip()]
        self.words: tuple[str, ...] = tuple(dict.fromkeys(words))
        stops = shipped_stopwords() if stopwords is None else frozenset(stopwords)
        self.stopwords: frozenset[str] = frozenset(stops)
        stop_text = "\n".join(sorted(self.stopwords))
        self._key = hashlib.sha1("\n".join(self.words).encode("utf-8")).hexdigest()
        self._cache_key = self._key + hashlib.sha1(stop_text.encode("utf-8")).hexdigest()

    # --- pickling: word lists travel, the native segmenter and cache do not ---
    def __getstate__(self) -> dict[str, Any]:
        return {"words": self.words, "stopwords": sorted(self.stopwords), "key": self._key,
                "cache_key": self._cache_key}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.words = tuple(state["words"])
        self.stopwords = frozenset(state["stopwords"])
        self._key = state["key"]
        self._cache_key = state["cache_key"]

    @property
    def _cache(self) -> dict[str, list[str]]:
        return _CACHES.setdefault(self._cache_key, {})

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
        cache = self._cache
        hit = cache.get(text)
        if hit is not None:
            return hit
        stops = self.stopwords
        out = [t for t in self.cut(text) if t not in stops and _is_content(t)]
        if len(cache) >= _CACHE_SIZE:
            cache.clear()
        cache[text] = out
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
