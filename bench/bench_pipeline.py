"""Benchmark: the analysis path `yuqing run` takes, and event assignment as history grows.

* ``pipeline_vs_jieba``: stored posts → analysis (topic, sentiment, places, events, severity)
  → stored analysis and events → routing (cases, audit rows, notifications) → search index,
  exactly as the scheduler's analysis job runs it (``yuqing.scheduler.analysis_job``), in CPU
  seconds, divided into a bare ``jieba.lcut`` pass over the same posts measured in the same
  run. ratio = jieba time ÷ pipeline time (1.0: the whole pipeline costs what pure-Python
  tokenization alone would).
* ``analyzer_vs_jieba``: ``Analyzer.analyze_batch`` alone (places and events included, no
  database, no routing) over the same posts ÷ the same jieba pass.
* ``events_ms_per_post`` (at each N): ``EventIndex.assign`` alone (tokens and places computed
  beforehand) over N generated posts 30 s apart (look-alike incidents, reposts, follow-ups);
  ``events_flat`` divides the smallest size's cost per post by the largest's (1.0: flat).
* ``events_rss_per_post``: resident memory the index adds per post at the largest size
  (bounded by the clustering window, it falls as N grows).

    python bench/bench_pipeline.py [--size small|full] [--json]

``run(size)`` returns the figures as dicts keyed name, ratio, value, baseline, unit, n (with
``about`` and ``goal`` for docs/PERFORMANCE.md). This module is the one place these figures
are measured (bench_analysis.py, which measured the analyzer and the analysis job a second
time, was merged into it); the models' cross-validated quality is bench_models.py's.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BENCHMARKS = ("pipeline_vs_jieba", "analyzer_vs_jieba", "events_ms_per_post", "events_flat",
              "events_rss_per_post")
SIZES = {"small": {"pipeline": 300, "events": [1000, 4000]},
         "full": {"pipeline": 3000, "events": [1000, 10_000, 30_000, 100_000]}}
T0 = datetime(2026, 11, 20, tzinfo=UTC)
SPACING = timedelta(seconds=30)
SOURCES = ("weibo", "forum", "news")


def _rss() -> int:
    """Resident set size of this process now, in bytes (Linux)."""
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    import resource

    return pages * resource.getpagesize()


def _items(n: int, seed: int = 11) -> list[dict[str, Any]]:
    from bench.bench_places_events import corpus

    texts, _truth = corpus(n, seed)
    return [{"source": SOURCES[i % len(SOURCES)], "external_id": f"p{i}",
             "published_at": T0 + SPACING * i, "text": text,
             "reposts": (i * 37) % 900} for i, text in enumerate(texts)]


def _warm_up(analyzer: Any) -> None:
    """Load the models, dictionaries and tables a long-running `yuqing run` loads once."""
    from nlp.events import idf_table, proper_nouns
    from nlp.keywords import keywords

    analyzer.topic_classifier.predict_batch(["预热"])
    analyzer.sentiment_classifier.predict_batch(["预热"])
    _ = analyzer.severity_model
    if analyzer.place_finder is not None:
        analyzer.place_finder.find("江宁区东山街道预热")
    keywords(analyzer.tokenizer.words_of("预热文本"))
    idf_table()
    proper_nouns()


@contextmanager
def seeded_instance(n: int) -> Iterator[tuple[Any, list[dict[str, Any]]]]:
    """A temporary SQLite instance with ``n`` generated posts stored and not yet analysed, the
    analysis job's analyzer warmed up, and its clock just after the last post: (ctx, items)."""
    from store import Database, Source
    from store.migrate import upgrade
    from yuqing.bootstrap import sync_reference_data
    from yuqing.context import AppContext
    from yuqing.ingest import Ingestor
    from yuqing.settings import load_settings

    items = _items(n)
    now = T0 + SPACING * n + timedelta(minutes=1)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "instance"
        home.mkdir()
        url = f"sqlite:///{home / 'yuqing.db'}"
        db = Database(url)
        upgrade(db)
        db.dispose()
        settings = load_settings(home, environ={"YUQING_DATABASE_URL": url})
        ctx = AppContext(settings=settings)
        try:
            ctx.clock = lambda: now
            sync_reference_data(ctx.db, settings)
            with ctx.db.session() as s:
                for key in SOURCES:
                    s.add(Source(key=key, name=key, kind="json_api", source_kind="social",
                                 authority="user"))
            Ingestor(ctx.db, ctx.index, clock=ctx.clock).ingest(items)
            _warm_up(ctx.analysis.analyzer())  # loaded once per process, not per post
            yield ctx, items
        finally:
            ctx.close()


def bench_pipeline(n: int) -> list[dict[str, Any]]:
    """Whole analysis job over ``n`` stored posts vs jieba.lcut over the same texts; and the
    analyzer alone (places and events included, no database) over the same posts."""
    import jieba

    from nlp.events import EventIndex
    from nlp.types import PostInput
    from yuqing.commands.nlp import build_analyzer
    from yuqing.scheduler import analysis_job

    with seeded_instance(n) as (ctx, items):
        step_analyzer = ctx.analysis.analyzer()
        # the analyzer alone on the same posts: places and events included, no database
        alone = build_analyzer(ctx.settings, place_finder=step_analyzer.place_finder,
                               event_assigner=EventIndex(window_hours=72.0))
        _warm_up(alone)
        inputs = [PostInput(id=it["external_id"], text=it["text"], source=it["source"],
                            published_at=it["published_at"], reposts=it["reposts"])
                  for it in items]
        gc.collect()
        start = time.process_time()
        alone.analyze_batch(inputs)
        analyzer_spent = time.process_time() - start
        gc.collect()
        start = time.process_time()
        done = analysis_job(ctx)
        spent = time.process_time() - start
    texts = [f"{it.get('title') or ''}\n{it['text']}" for it in items]
    jieba.lcut("预热")  # the dictionary loads outside the timing
    start = time.process_time()
    for text in texts:
        jieba.lcut(text)
    base = time.process_time() - start
    assert done == n, f"analysed {done} of {n}"
    return [{"name": "pipeline_vs_jieba", "ratio": round(base / spent, 4),
             "value": round(n / spent, 1), "baseline": round(n / base, 1),
             "unit": "posts/CPU-s", "n": n, "better": "higher",
             "about": "yuqing run 的分析任务（已入库信息 → 分析（含地名与事件归并）→ 保存分析与事件 → "
                      "分派工单（案件、审计记录、通知）→ 检索索引）每 CPU 秒处理的信息数 ÷ 同样信息"
                      " jieba.lcut 每 CPU 秒处理的信息数（临时 SQLite 实例，同一次运行中测得）。",
             "goal": "≥ 1.0（rjieba 是 jieba 的 19–26 倍且分词一致）"},
            {"name": "analyzer_vs_jieba", "ratio": round(base / analyzer_spent, 4),
             "value": round(n / analyzer_spent, 1), "baseline": round(n / base, 1),
             "unit": "posts/CPU-s", "n": n, "better": "higher",
             "about": "分析器单独（按 yuqing run 的方式构建：含地名识别与事件归并，不含数据库与分派）"
                      "analyze_batch 的速度 ÷ 同样信息 jieba.lcut 的速度（CPU 秒）。",
             "goal": "整个流水线 ≥ 1.0（见 pipeline_vs_jieba）"}]


def bench_events(sizes: list[int]) -> list[dict[str, Any]]:
    """EventIndex.assign per post at growing history sizes, and RSS added per post."""
    import yaml

    from nlp.events import EventIndex, idf_table, proper_nouns
    from nlp.normalize import analysis_text
    from nlp.places import GazetteerPlaceFinder
    from nlp.tokenize import Tokenizer
    from nlp.types import PostInput

    home = yaml.safe_load((ROOT / "config/jurisdictions.yaml").read_text("utf-8"))["home"]
    finder = GazetteerPlaceFinder(home)
    tokenizer = Tokenizer()
    # dictionaries and tables load once per process: not memory the index holds per post
    finder.find(analysis_text(None, "江宁区东山街道预热"))
    tokenizer.words_of("预热文本")
    idf_table()
    proper_nouns()
    out: list[dict[str, Any]] = []
    per_post: dict[int, float] = {}
    rss_row: dict[str, Any] = {}
    clock = time.process_time
    for n in sizes:
        items = _items(n, seed=5)
        gc.collect()
        before = _rss()
        index = EventIndex(window_hours=72.0)
        spent = 0.0
        for it in items:  # tokens and places per post, outside the timing
            text = analysis_text(None, it["text"])
            post = PostInput(id=it["external_id"], text=it["text"], source=it["source"],
                             published_at=it["published_at"])
            tokens, places = tokenizer.words_of(text), finder.find(text)
            start = clock()
            index.assign(post, text, tokens, places)
            spent += clock() - start
        del items
        gc.collect()
        grown = _rss() - before
        per_post[n] = spent * 1000 / n
        # one figure at several sizes: `yuqing bench` shows the largest and the growth
        out.append({"name": "events_ms_per_post", "ratio": None,
                    "value": round(per_post[n], 3), "baseline": None, "unit": "ms/post", "n": n,
                    "better": "lower",
                    "about": "EventIndex.assign 单独（分词与地名事先算好）每条信息的 CPU 毫秒数，"
                             "信息相隔 30 秒（相似事件、转发、跟进）。",
                    "goal": "随规模持平"})
        rss_row = {"name": "events_rss_per_post", "ratio": None,
                   "value": round(max(grown, 0) / n / 1024, 2), "baseline": None,
                   "unit": "KB/post", "n": n, "better": "lower",
                   "about": "最大规模下事件索引每条信息占用的常驻内存（受聚类时间窗限制，规模越大越小）。",
                   "goal": "100 万条信息 ≤ 1 GB"}
        del index
        gc.collect()
    small, large = min(sizes), max(sizes)
    out.append({"name": "events_flat", "ratio": round(per_post[small] / per_post[large], 3),
                "value": round(per_post[large], 3), "baseline": round(per_post[small], 3),
                "unit": "ms/post", "n": large, "better": "higher",
                "about": "最小规模每条信息的事件归并耗时 ÷ 最大规模的（1.0 即不随历史增长）。",
                "goal": "≈ 1.0（持平）"})
    out.append(rss_row)
    return out


def run(size: str = "small") -> list[dict[str, Any]]:
    cfg = SIZES[size]
    return [*bench_pipeline(cfg["pipeline"]), *bench_events(cfg["events"])]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", choices=sorted(SIZES), default="small")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rows = run(args.size)
    for r in rows:
        ratio = "" if r["ratio"] is None else f"  比值 {r['ratio']}"
        base = "" if r["baseline"] is None else f"  基线 {r['baseline']}"
        print(f"{r['name']:<28} {r['value']:>10} {r['unit']}{base}{ratio}  (n={r['n']})")
    if args.json:
        print(json.dumps({r["name"]: r for r in rows}, ensure_ascii=False))


if __name__ == "__main__":
    main()
