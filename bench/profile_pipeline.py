"""Where the analysis job's CPU goes: the profile behind ``pipeline_vs_jieba``.

Runs the same job as ``bench_pipeline.py`` (stored posts → analysis → events → routing →
search index, on a temporary SQLite instance) under cProfile and prints each stage's share of
the job's CPU, then the functions with the most own time. Not a benchmark (no ``run``): the
profiler's overhead distorts absolute figures, but the shares show what limits the ratio.

    python bench/profile_pipeline.py [N]        (default 1000 posts)
"""

from __future__ import annotations

import cProfile
import io
import pstats
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# (label, file suffix, function name): a stage's cumulative time is that function's; stages
# nest (the analyzer holds events, places and the models), so the shares do not add up to 100
STAGES = (
    ("分析器 analyze_batch（含以下四项）", "nlp/analyzer.py", "analyze_batch"),
    ("  事件归并 EventIndex.assign", "nlp/events.py", "assign"),
    ("  地名识别 _places", "nlp/analyzer.py", "_places"),
    ("  主题模型 predict_batch", "nlp/topic.py", "predict_batch"),
    ("  情感模型 predict_batch", "nlp/sentiment.py", "predict_batch"),
    ("  分词 Tokenizer.words_of（rjieba）", "nlp/tokenize.py", "words_of"),
    ("  严重程度 score", "nlp/severity.py", "score"),
    ("保存分析与事件 _store", "yuqing/analysis.py", "_store"),
    ("  事件汇总 _refresh_events", "yuqing/analysis.py", "_refresh_events"),
    ("分派 Worker.route（案件、审计、通知）", "yuqing/workers.py", "route"),
    ("  读事件与帖子 events_facts", "yuqing/casework.py", "events_facts"),
    ("  open_or_update_cases", "routing/cases.py", "open_or_update_cases"),
    ("检索索引 FTS5Index.add", "store/search/fts5.py", "add"),
    ("SQLAlchemy flush", "sqlalchemy/orm/session.py", "flush"),
    ("SQLAlchemy commit", "sqlalchemy/orm/session.py", "commit"),
)


def profile(n: int) -> tuple[pstats.Stats, float]:
    from bench.bench_pipeline import seeded_instance
    from yuqing.scheduler import analysis_job

    with seeded_instance(n) as (ctx, _):
        prof = cProfile.Profile()
        prof.enable()
        done = analysis_job(ctx)
        prof.disable()
    assert done == n, f"analysed {done} of {n}"
    stats = pstats.Stats(prof)
    return stats, stats.total_tt  # type: ignore[attr-defined]


def stage_times(stats: pstats.Stats) -> dict[str, float]:
    out = dict.fromkeys((label for label, _, _ in STAGES), 0.0)
    table = stats.stats  # type: ignore[attr-defined]
    for (filename, _, func), (_, _, _, cumulative, callers) in table.items():
        for label, suffix, name in STAGES:
            if func != name or not filename.endswith(suffix):
                continue
            # only calls from outside the function itself: recursion is not counted twice
            if all(caller[2] != name for caller in callers):
                out[label] += cumulative
    return out


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    stats, total = profile(n)
    print(f"分析任务 {n} 条信息，cProfile 下共 {total:.2f} 秒（{n / total:.0f} 条/秒，含剖析开销）")
    for label, spent in stage_times(stats).items():
        print(f"{label:<44}{spent:8.2f} 秒  {100 * spent / total:5.1f} %")
    out = io.StringIO()
    stats.stream = out  # type: ignore[attr-defined]
    stats.sort_stats("tottime").print_stats(25)
    print("\n自身耗时最多的函数：")
    print("\n".join(out.getvalue().splitlines()[6:]))


if __name__ == "__main__":
    main()
