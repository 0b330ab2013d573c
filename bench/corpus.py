"""Generated posts shared by the benchmarks: deterministic, 50–800 characters, with a
realistic vocabulary (words drawn by frequency from jieba's own dictionary, so common words
are common and most words are rare, as in real text)."""

from __future__ import annotations

import itertools
import random
from functools import cache
from pathlib import Path

import jieba

PUNCT = ["，", "。", "！", "？", "、"]


@cache
def vocabulary(top: int = 30_000) -> tuple[list[str], list[int]]:
    """The most frequent words and their cumulative frequencies (for random.choices)."""
    path = Path(jieba.__file__).parent / "dict.txt"
    entries = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            word, freq, *_ = line.split()
            entries.append((int(freq), word))
    entries.sort(reverse=True)
    words = [w for _, w in entries[:top]]
    cumulative = list(itertools.accumulate(f for f, _ in entries[:top]))
    return words, cumulative


def posts(n: int, seed: int = 1) -> list[dict[str, object]]:
    rng = random.Random(seed)
    words, cumulative = vocabulary()
    out = []
    for i in range(n):
        target = rng.randint(50, 800)
        parts: list[str] = []
        size = 0
        while size < target:
            chunk = rng.choices(words, cum_weights=cumulative, k=12)
            chunk.append(rng.choice(PUNCT))
            parts.extend(chunk)
            size += sum(map(len, chunk))
        body = "".join(parts)[:target]
        out.append({"external_id": f"b{i}", "source": "import:bench", "title": body[:14],
                    "text": body, "published_at": f"2024-{rng.randint(1, 12):02d}-"
                    f"{rng.randint(1, 28):02d} {rng.randint(0, 23):02d}:00",
                    "reposts": rng.randint(0, 5000)})
    return out
