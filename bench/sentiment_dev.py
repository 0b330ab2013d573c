"""Development report for the shipped sentiment model: one table per question.

- review batches (``tests/nlp/data/sentiment_reviews_fresh_<x>.jsonl``): binary accuracy and
  the recall of each class (a neutral call counts as wrong), plus how many got neutral;
- the hand-written held-out set per kind (review / weibo binary, news / 留言 3-class);
- cross-validated accuracy per source kind of the training rows with the shipped decision
  (hand-written seed rows by kind, generated rows, written reviews), 5 folds.

Everything is built from the working tree (no cache), so a recipe change shows at once.
``bench/bench_models.py`` prints the same figures in ``yuqing bench``'s format; this one is
for tuning and for reading where the errors are.

    python bench/sentiment_dev.py [--batches abcdefg] [--no-cv] [--weight W] [--sweep]

``--sweep`` prints, for a range of positive weights (``DEFAULT_POSITIVE_WEIGHT``), the pooled
accuracy and per-class recall over the chosen batches: how the weight was chosen.
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

from bench.bench_models import (  # noqa: E402
    REVIEW_BATCHES,
    heldout_rows,
    sentiment_cv,
    sentiment_cv_probs,
)
from nlp.registry import build_default  # noqa: E402
from nlp.sentiment import SentimentClassifier  # noqa: E402
from nlp.tokenize import Tokenizer  # noqa: E402

DEV_BATCHES = "abcdefg"
WEIGHTS = (1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.8, 2.0)


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
    # H and I are the blind batches: scored once with the frozen recipe, never tuned on
    parser.add_argument("--batches", default=DEV_BATCHES)
    parser.add_argument("--no-cv", action="store_true")
    parser.add_argument("--weight", type=float, default=None,
                        help="override the default's positive weight (tuning only)")
    parser.add_argument("--sweep", action="store_true",
                        help="pooled accuracy and recall per positive weight")
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
    combined: dict[float, int] = {}  # right calls: batches + cross-validated written rows
    if args.sweep:
        pooled = [r for b in args.batches if b in REVIEW_BATCHES for r in batch_rows(b)]
        weibo = [r for r in heldout_rows() if r["kind"] in ("weibo", "review")]
        for weight in WEIGHTS:
            classifier.positive_weight = weight
            acc, recall, neutral, n = scores(classifier, pooled)
            combined[weight] = round(acc * n)
            h_acc, h_recall, _, h_n = scores(classifier, weibo)
            print(f"weight {weight:<4} batches acc {acc:.3f} rec+ {recall['positive']:.3f} "
                  f"rec- {recall['negative']:.3f} (n={n}) | held-out review+weibo {h_acc:.3f} "
                  f"rec+ {h_recall['positive']:.3f} rec- {h_recall['negative']:.3f} (n={h_n})")
        classifier.positive_weight = args.weight if args.weight is not None else (
            SentimentClassifier(model).positive_weight)
    rows = heldout_rows()
    for kind in ("review", "weibo", "news", "message", "sarcasm"):
        kind_rows = [r for r in rows if r["kind"] == kind]
        acc, recall, neutral, n = scores(classifier, kind_rows)
        per = " ".join(f"{lab}={v:.2f}" for lab, v in recall.items())
        print(f"held-out {kind:<8} acc {acc:.3f}  recall {per}  n={n}")
    if args.sweep and not args.no_cv:
        texts, labels, tags, probs, shell = sentiment_cv_probs(tokenizer)
        cv_clf = SentimentClassifier(shell, sarcasm=False)
        for weight in WEIGHTS:
            cv_clf.positive_weight = weight
            right: Counter[str] = Counter()
            total: Counter[str] = Counter()
            for text, label, tag, row in zip(texts, labels, tags, probs, strict=True):
                total[tag] += 1
                right[tag] += cv_clf._decide(text, row).label == label
            print(f"weight {weight:<4} cv " + "  ".join(
                f"{k} {right[k] / total[k]:.3f}" for k in sorted(total)))
            # templated rows (generated) are near-perfect at any weight: left out
            combined[weight] = combined.get(weight, 0) + sum(
                v for k, v in right.items() if k != "generated")
            n_combined = sum(v for k, v in total.items() if k != "generated")
        print(f"right calls over batches + cross-validated hand-written and written rows "
              f"(n = {len(pooled) + n_combined}): "
              + "  ".join(f"{w}: {v}" for w, v in combined.items()))
    if not args.no_cv and not args.sweep:  # the sweep printed these for every weight
        per_kind, (on, off, n_hand) = sentiment_cv(tokenizer, weight=args.weight)
        for kind, (acc, n) in sorted(per_kind.items()):
            print(f"cv {kind:<12} {acc:.3f}  n={n}")
        print(f"cv sarcasm rule on vs off (hand-written seed): {on:.3f} vs {off:.3f}  n={n_hand}")


if __name__ == "__main__":
    main()
