"""Development report for the shipped sentiment model: one table per question.

- review batches (``tests/nlp/data/sentiment_reviews_fresh_<x>.jsonl``): binary accuracy and
  the recall of each class (a neutral call counts as wrong), plus how many got neutral;
- the hand-written held-out set per kind (review / weibo binary, news / 留言 3-class);
- cross-validated accuracy per source kind of the training rows with the shipped decision
  (hand-written seed rows by kind, generated rows, written reviews), 5 folds.

Everything is built from the working tree (no cache), so a recipe change shows at once.
``bench/bench_models.py`` prints the same figures in ``yuqing bench``'s format; this one is
for tuning and for reading where the errors are.

    python bench/sentiment_dev.py [--batches abcdefg] [--no-cv] [--weight W]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.bench_models import REVIEW_BATCHES, heldout_rows, sentiment_cv  # noqa: E402
from nlp.registry import build_default  # noqa: E402
from nlp.sentiment import SentimentClassifier  # noqa: E402
from nlp.tokenize import Tokenizer  # noqa: E402


def batch_rows(batch: str) -> list[dict[str, str]]:
    path = REVIEW_BATCHES[batch]
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def scores(classifier: SentimentClassifier, rows: list[dict[str, str]]
           ) -> tuple[float, dict[str, float], int, int]:
    """Accuracy, recall per gold label, neutral calls, n."""
    results = classifier.predict_batch([r["text"] for r in rows])
    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    neutral = 0
    for row, res in zip(rows, results, strict=True):
        total[row["label"]] += 1
        right[row["label"]] += res.label == row["label"]
        neutral += res.label == "neutral"
    acc = sum(right.values()) / max(1, len(rows))
    return acc, {lab: right[lab] / total[lab] for lab in sorted(total)}, neutral, len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batches", default="".join(REVIEW_BATCHES))
    parser.add_argument("--no-cv", action="store_true")
    parser.add_argument("--weight", type=float, default=None,
                        help="override the default's positive weight (tuning only)")
    args = parser.parse_args()
    tokenizer = Tokenizer()
    started = time.perf_counter()
    model = build_default("sentiment", tokenizer)
    print(f"default model built in {time.perf_counter() - started:.1f} s "
          f"({model.metrics.get('examples')} rows)")
    classifier = SentimentClassifier(model)
    if args.weight is not None:
        classifier.positive_weight = args.weight
    print(f"{'batch':<10}{'acc':>7}{'rec+':>7}{'rec-':>7}{'neu':>5}{'n':>5}")
    accs = []
    for batch in args.batches:
        if batch not in REVIEW_BATCHES or not REVIEW_BATCHES[batch].is_file():
            continue
        acc, recall, neutral, n = scores(classifier, batch_rows(batch))
        accs.append(acc)
        print(f"{batch:<10}{acc:>7.3f}{recall.get('positive', 0):>7.3f}"
              f"{recall.get('negative', 0):>7.3f}{neutral:>5}{n:>5}")
    if accs:
        print(f"{'mean':<10}{sum(accs) / len(accs):>7.3f}")
    rows = heldout_rows()
    for kind in ("review", "weibo", "news", "message", "sarcasm"):
        kind_rows = [r for r in rows if r["kind"] == kind]
        acc, recall, neutral, n = scores(classifier, kind_rows)
        per = " ".join(f"{lab}={v:.2f}" for lab, v in recall.items())
        print(f"held-out {kind:<8} acc {acc:.3f}  recall {per}  n={n}")
    if not args.no_cv:
        per_kind, (on, off, n_hand) = sentiment_cv(tokenizer, weight=args.weight)
        for kind, (acc, n) in sorted(per_kind.items()):
            print(f"cv {kind:<12} {acc:.3f}  n={n}")
        print(f"cv sarcasm rule on vs off (hand-written seed): {on:.3f} vs {off:.3f}  n={n_hand}")


if __name__ == "__main__":
    main()
