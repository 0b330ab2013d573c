"""Keywords of a post: TF-IDF over its content words, with jieba's shipped IDF table."""

from __future__ import annotations

import threading
from collections import Counter
from importlib import resources

_IDF: dict[str, float] | None = None
_MEDIAN_IDF = 10.0
_LOCK = threading.Lock()


def _idf() -> dict[str, float]:
    global _IDF, _MEDIAN_IDF
    if _IDF is None:
        with _LOCK:
            if _IDF is None:
                table: dict[str, float] = {}
                text = resources.files("jieba").joinpath("analyse/idf.txt").read_text("utf-8")
                for line in text.splitlines():
                    word, _, value = line.partition(" ")
                    if value:
                        table[word] = float(value)
                values = sorted(table.values())
                _MEDIAN_IDF = values[len(values) // 2]
                _IDF = table
    return _IDF


def keywords(words: list[str], top: int = 8, boost: frozenset[str] = frozenset()) -> list[str]:
    """Top words by tf x idf; single characters are skipped, domain words are boosted
    (a place or body name is exactly what a monitor wants to see)."""
    idf = _idf()
    # counted in C first: the tests below run once per distinct word, not once per word;
    # words the HMM invented (汤山一, 真是太) are not in the IDF table: not shown as keywords
    scored = [(tf * idf.get(w, _MEDIAN_IDF) * (1.5 if w in boost else 1.0), w)
              for w, tf in Counter(words).items()
              if len(w) > 1 and (w in idf or w in boost)]
    scored.sort(key=lambda pair: (-pair[0], pair[1]))
    return [w for _, w in scored[:top]]
