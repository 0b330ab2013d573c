"""Full analysis throughput against a bare ``jieba.lcut`` pass over the same posts, and the
default models' cross-validated macro-F1 on the shipped seed sets.

    python bench/bench_analysis.py [--posts 3000] [--skip-cv]

Prints ratios measured in this run; nothing is compared with stored numbers.

`yuqing bench` calls ``run(size)`` (120 posts small, 3,000 full), which measures the path the
pipeline runs: the analyzer built as `yuqing run` builds it (gazetteer place finder and event
index included, from the shipped settings), and the whole analysis job of `yuqing run`
(analyse, store analyses and events, route, index) on posts imported into a temporary SQLite
instance, both against ``jieba.lcut`` of the same posts.
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


BENCHMARKS = ("analyzer_vs_jieba", "pipeline_analysis_vs_jieba", "topic_cv_macro_f1",
              "sentiment_cv_macro_f1")  # the CV figures at full size only
POSTS = {"small": 120, "full": 3000}


def jieba_seconds(posts: list[PostInput], runs: int) -> float:
    import jieba

    jieba.initialize()
    return best_of(runs, lambda: [jieba.lcut(p.text) for p in posts])


def analyzer_seconds(home: Path, posts: list[PostInput], runs: int) -> float:
    """analyze_batch with the analyzer `yuqing run` builds (a fresh event index per run)."""
    from yuqing.commands.nlp import build_analyzer, new_event_index, place_finder_for
    from yuqing.settings import load_settings

    settings = load_settings(home, environ={})
    finder = place_finder_for(settings)
    times = []
    for _ in range(runs):
        analyzer = build_analyzer(settings, place_finder=finder, event_assigner=new_event_index())
        analyzer.analyze_batch(make_posts(5, seed=99))  # models built or loaded: not timed
        t = time.perf_counter()
        analyzer.analyze_batch(posts)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def pipeline_seconds(home: Path, posts: list[PostInput]) -> tuple[float, float]:
    """(wall, CPU) seconds of `yuqing run`'s analysis job over the posts, once imported."""
    from datetime import UTC, datetime, timedelta

    from yuqing.bootstrap import init_database
    from yuqing.context import AppContext
    from yuqing.pipeline import build_ingestor
    from yuqing.scheduler import analysis_job
    from yuqing.settings import load_settings

    ctx = AppContext(settings=load_settings(home, environ={}))
    try:
        ctx.settings.home.mkdir(parents=True, exist_ok=True)
        init_database(ctx.db, ctx.settings)
        ingestor = build_ingestor(ctx)
        start = datetime.now(UTC) - timedelta(hours=12)

        def rows(batch: list[PostInput], tag: str) -> list[dict[str, object]]:
            return [{"external_id": f"{tag}{i}", "text": p.text,
                     "published_at": (start + timedelta(seconds=10 * i)).isoformat(),
                     "reposts": p.reposts, "comments": p.comments, "likes": p.likes,
                     "source_kind": "social"} for i, p in enumerate(batch)]

        ingestor.ingest(rows(make_posts(5, seed=99), "w"), source="import:bench")
        analysis_job(ctx)  # models built, dictionaries loaded: not timed
        ingestor.ingest(rows(posts, "p"), source="import:bench")
        wall, cpu = time.perf_counter(), time.process_time()
        done = analysis_job(ctx)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        if done != len(posts):
            raise RuntimeError(f"分析了 {done} 条，应为 {len(posts)} 条")
        return wall, cpu
    finally:
        ctx.close()


def cv_scores(home: Path) -> dict[str, float]:
    from yuqing.commands.nlp import build_analyzer
    from yuqing.settings import load_settings

    settings = load_settings(home, environ={})
    tok = build_analyzer(settings).tokenizer
    out = {}
    for kind in ("topic", "sentiment"):
        rows = seed_rows(kind)
        texts = [analysis_text(r.get("title"), r["text"]) for r in rows]
        labels = [r["label"] for r in rows]
        n_min = min(labels.count(x) for x in set(labels))
        out[kind] = cross_validate(texts, labels, tok, TrainSettings(), n_min)["macro_f1"]
        out[f"{kind}_n"] = len(rows)
    return out


def run(size: str) -> list[dict[str, object]]:
    n = POSTS[size]
    runs = 1 if size == "small" else 3
    posts = make_posts(n)
    with tempfile.TemporaryDirectory(prefix="yuqing-bench-analysis-") as tmp:
        base = jieba_seconds(posts, runs)
        analyzer = analyzer_seconds(Path(tmp) / "a", posts, runs)
        wall, cpu = pipeline_seconds(Path(tmp) / "b", posts)
        # cross-validation is slow and bench_models.py owns model quality: full size only
        cv = cv_scores(Path(tmp) / "a") if size == "full" else {}
    out: list[dict[str, object]] = [
        {"name": "analyzer_vs_jieba", "ratio": base / analyzer, "value": n / analyzer,
         "baseline": n / base, "unit": "posts/s", "n": n, "better": "higher",
         "about": "分析器（按 yuqing run 的方式构建：含地名识别与事件归并）analyze_batch 的速度 ÷ 同样"
                  "信息 jieba.lcut 的速度。",
         "goal": "整个流水线 ≥ 1.0（见 pipeline_analysis_vs_jieba）"},
        {"name": "pipeline_analysis_vs_jieba", "ratio": base / wall, "value": n / wall,
         "baseline": n / base, "unit": "posts/s", "n": n, "better": "higher",
         "posts_per_cpu_second": n / cpu,
         "about": "yuqing run 的分析任务（分析、保存分析与事件、分派工单、建索引）处理已导入信息的速度 "
                  "÷ 同样信息 jieba.lcut 的速度（临时 SQLite 实例）。",
         "goal": "≥ 1.0（rjieba 是 jieba 的 19–26 倍且分词一致）"},
    ]
    for kind in ("topic", "sentiment") if cv else ():
        out.append({"name": f"{kind}_cv_macro_f1", "ratio": None, "value": cv[kind],
                    "baseline": None, "unit": "macro-F1", "n": int(cv[f"{kind}_n"]),
                    "better": "higher",
                    "about": f"默认{'领域' if kind == 'topic' else '情感'}模型在随附种子集上的交叉验证 "
                             "macro-F1（bench_models.py 给出更完整的质量读数）。",
                    "goal": "（质量读数：提速时不得下降）"})
    return out


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
    # without the place finder and the event index: not what users get (see below)
    print(f"analyzer without places/events, analyze_batch: {len(posts) / full:8.0f} posts/s  "
          f"(speed ratio to jieba.lcut: {base / full:.2f})")
    print(f"the same, one analyze() per post: {single_n / single:8.0f} posts/s  "
          f"(speed ratio to jieba.lcut: {base / len(posts) * single_n / single:.2f})")
    with tempfile.TemporaryDirectory() as tmp:
        as_run = analyzer_seconds(Path(tmp), posts, 1)
        wall, cpu = pipeline_seconds(Path(tmp), posts)
    print(f"analyzer as `yuqing run` builds it: {len(posts) / as_run:8.0f} posts/s  "
          f"(speed ratio to jieba.lcut: {base / as_run:.2f})")
    print(f"`yuqing run` analysis job (analyse, store, route, index): {len(posts) / wall:8.1f} "
          f"posts/s, {len(posts) / cpu:.1f} posts/CPU-s  (speed ratio to jieba.lcut: "
          f"{base / wall:.3f})")

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
