"""Full analysis throughput against a bare ``jieba.lcut`` pass over the same posts, and the
default models' cross-validated macro-F1 on the shipped seed sets.

    python bench/bench_analysis.py [--posts 3000] [--skip-cv]

Prints ratios measured in this run; nothing is compared with stored numbers.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nlp.analyzer import Analyzer  # noqa: E402
from nlp.models import TrainSettings, cross_validate  # noqa: E402
from nlp.normalize import analysis_text  # noqa: E402
from nlp.registry import seed_rows  # noqa: E402
from nlp.topic import cross_validate_hybrid  # noqa: E402
from nlp.types import PostInput  # noqa: E402


def make_posts(n: int, seed: int = 7) -> list[PostInput]:
    """Posts of 50–800 characters stitched from seed sentences (news, Weibo, 留言板 styles)."""
    rng = random.Random(seed)
    pool = [r["text"] for r in seed_rows("topic")]
    posts = []
    for i in range(n):
        target = rng.randint(50, 800)
        parts: list[str] = []
        while sum(map(len, parts)) < target:
            parts.append(rng.choice(pool))
        text = "。".join(parts)[:target]
        posts.append(PostInput(id=str(i), text=text, reposts=rng.randint(0, 5000),
                               comments=rng.randint(0, 800), likes=rng.randint(0, 20000)))
    return posts


def best_of(runs: int, fn) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--posts", type=int, default=3000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--skip-cv", action="store_true")
    args = ap.parse_args()
    taxonomy = yaml.safe_load((ROOT / "config/taxonomy.yaml").read_text(encoding="utf-8"))
    severity = yaml.safe_load((ROOT / "config/severity.yaml").read_text(encoding="utf-8"))
    posts = make_posts(args.posts)
    chars = sum(len(p.text) for p in posts)

    with tempfile.TemporaryDirectory() as cache:
        analyzer = Analyzer(taxonomy["topics"], severity["severity"],
                            home_places=["江宁区", "东山街道", "秣陵街道", "汤山街道"],
                            cache_dir=cache)
        t = time.perf_counter()
        analyzer.analyze_batch(posts[:10])  # builds default models and loads dictionaries
        print(f"first use (build default models, load dictionaries): "
              f"{time.perf_counter() - t:.2f} s")

        import jieba

        jieba.initialize()
        base = best_of(args.runs, lambda: [jieba.lcut(p.text) for p in posts])

        def full_batch() -> None:
            analyzer.tokenizer._cache.clear()  # no credit for the previous run's tokens
            analyzer.analyze_batch(posts)

        full = best_of(args.runs, full_batch)
        single_n = min(500, len(posts))
        single = best_of(1, lambda: [analyzer.analyze(p) for p in posts[:single_n]])

    print(f"posts: {len(posts)}, {chars / len(posts):.0f} chars on average")
    print(f"bare jieba.lcut pass:         {len(posts) / base:8.0f} posts/s")
    print(f"full analysis, analyze_batch: {len(posts) / full:8.0f} posts/s  "
          f"(speed ratio to jieba.lcut: {base / full:.2f})")
    print(f"full analysis, one analyze() per post: {single_n / single:8.0f} posts/s  "
          f"(speed ratio to jieba.lcut: {base / len(posts) * single_n / single:.2f})")

    if not args.skip_cv:
        tok = analyzer.tokenizer
        for kind in ("topic", "sentiment"):
            rows = seed_rows(kind)
            texts = [analysis_text(r.get("title"), r["text"]) for r in rows]
            labels = [r["label"] for r in rows]
            n_min = min(labels.count(x) for x in set(labels))
            cv = cross_validate(texts, labels, tok, TrainSettings.for_kind(kind), n_min)
            print(f"default {kind} model, {cv['cv_folds']}-fold CV on {len(rows)} seed posts: "
                  f"macro-F1 {cv['macro_f1']:.3f}, accuracy {cv['accuracy']:.3f}")
            if kind == "topic":
                hy = cross_validate_hybrid(texts, labels, tok, taxonomy["topics"])
                print(f"  topic model alone {hy['model_macro_f1']:.3f}; with keyword rules "
                      f"(as analyze runs it) {hy['hybrid_macro_f1']:.3f}")


if __name__ == "__main__":
    main()
