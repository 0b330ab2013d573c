"""Merge hand-written training files into ``nlp/data/sentiment_reviews_written.jsonl``
(rows of kind ``review``) and ``nlp/data/sentiment_weibo_written.jsonl`` (kind ``weibo``).

The texts were written for yuqing by the project's own writers (hotels/travel, books/food,
laptops/electronics/shopping, long hotel/laptop/book reviews, Weibo-style posts), one JSON
object per line with ``label, text, kind`` (and ``domain``, ``writer``). Merging keeps the first of texts that differ only in
punctuation or spaces, drops rows whose label is not negative / neutral / positive, and
drops any text that is already in the other seed files or in a test set under
``tests/nlp/data``, or shares more than 40 % of its character 4-grams with a test text (the
evaluation batches must stay out of training, rewordings included).

    python bench/collect_written_reviews.py writer1.jsonl writer2.jsonl ...
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from nlp.registry import seed_rows  # noqa: E402

OUT = {"review": ROOT / "nlp" / "data" / "sentiment_reviews_written.jsonl",
       "weibo": ROOT / "nlp" / "data" / "sentiment_weibo_written.jsonl"}
OTHER_SEEDS = ("sentiment_seed.jsonl", "sentiment_generated.jsonl")
_PUNCT = re.compile(r"[\s，。！？!?,.~～…、；;：:\"“”'‘’（）()【】\[\]]+")


NEAR = 0.4  # share of character 4-grams a written text may have in common with a test text


def key(text: str) -> str:
    return _PUNCT.sub("", text)


def grams(text: str, n: int = 4) -> set[str]:
    return {text[i:i + n] for i in range(len(text) - n + 1)}


def near_test(text: str, tests: list[set[str]]) -> bool:
    """Whether ``text`` is a close rewording of a test text (4-gram Jaccard above NEAR)."""
    mine = grams(text)
    return len(mine) >= 4 and any(len(mine & t) / len(mine | t) > NEAR for t in tests)


def merge(paths: list[Path]) -> tuple[list[dict[str, str]], Counter[str]]:
    banned = {key(r["text"]) for r in seed_rows("sentiment", OTHER_SEEDS)}
    tests: list[set[str]] = []
    for path in sorted((ROOT / "tests" / "nlp" / "data").glob("sentiment_*.jsonl")):
        texts = [json.loads(line)["text"] for line in path.read_text("utf-8").splitlines()
                 if line.strip()]
        banned |= {key(t) for t in texts}
        tests += [g for g in map(grams, texts) if len(g) >= 4]
    out: list[dict[str, str]] = []
    seen: set[str] = set()
    dropped: Counter[str] = Counter()
    for path in paths:
        for line in path.read_text("utf-8").splitlines():
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                dropped["unreadable"] += 1
                continue
            text, label = str(row.get("text") or "").strip(), row.get("label")
            kind = row.get("kind", "review")
            if label not in ("negative", "neutral", "positive") or not text:
                dropped["label"] += 1
                continue
            if kind not in OUT:
                dropped[f"kind {kind}"] += 1
                continue
            k = key(text)
            if k in banned:
                dropped["in seed or tests"] += 1
            elif k in seen:
                dropped["duplicate"] += 1
            elif near_test(text, tests):
                dropped["near a test text"] += 1
            else:
                seen.add(k)
                out.append({"label": label, "kind": kind, "text": text,
                            "domain": str(row.get("domain", "")),
                            "writer": str(row.get("writer", ""))})
    return out, dropped


def main() -> None:
    rows, dropped = merge([Path(p) for p in sys.argv[1:]])
    print(f"dropped {dict(dropped)}")
    for kind, out in OUT.items():
        part = [r for r in rows if r["kind"] == kind]
        out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in part), "utf-8")
        print(f"{len(part)} rows → {out.relative_to(ROOT)}")
        print("  labels:", dict(Counter(r["label"] for r in part)))
        print("  writers:", dict(Counter(r["writer"] for r in part)))
        print("  domains:", dict(Counter(r["domain"] for r in part).most_common()))


if __name__ == "__main__":
    main()
