"""Import beside a running `yuqing run`: does `yuqing import` finish, lose nothing, and how much
slower is it than the same import into an idle instance?

A real `yuqing run` child on a temporary SQLite instance first gets a primer (200 posts small,
1,000 full), so its analysis job is busy (analysing, storing events, routing) when
`yuqing import` of the main file (600 posts small, 7,000 full) starts. Baseline, in the same run: the same primer and file imported into a fresh
instance with nothing running. Lost rows are rows of the file missing from the database
afterwards; errors are failed imports (non-zero exit) and errors the running process logged.

    python bench/bench_import_beside_run.py [--size small|full]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.corpus import posts
from bench.live import keep_models, share_models, yuqing, yuqing_run

BENCHMARKS = ("import_beside_run", "import_beside_run_failures")
ROWS = {"small": 600, "full": 7_000}  # the failure: locked after 4,000 of 7,000
PRIMER = {"small": 200, "full": 1_000}  # the analysis job takes 500 posts per batch
ERROR_MARKS = ("database is locked", "Traceback", " ERROR ")
ANALYSIS_POLL = 5  # seconds, scheduler.analysis_interval's default


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps({"id": r["external_id"], "title": r["title"], "text": r["text"],
                                 "published_at": r["published_at"], "reposts": r["reposts"]},
                                ensure_ascii=False) + "\n")
    return path


def stored(home: Path) -> int:
    with sqlite3.connect(home / "yuqing.db", timeout=60) as conn:
        return int(conn.execute("SELECT count(*) FROM posts").fetchone()[0])


def import_file(home: Path, path: Path) -> tuple[float, bool, str]:
    """(seconds, succeeded, stderr) of one `yuqing import` child."""
    t = time.perf_counter()
    done = yuqing(home, "import", str(path), "--source", "import:bench", "--json")
    return time.perf_counter() - t, done.returncode == 0, done.stderr


def run(size: str) -> list[dict[str, Any]]:
    n, primer_n = ROWS[size], PRIMER[size]
    rows = posts(1 + primer_n + n, seed=3)
    clock = time.perf_counter()

    def phase(what: str) -> None:
        print(f"[import_beside_run {time.perf_counter() - clock:6.1f} s] {what}", file=sys.stderr)

    with tempfile.TemporaryDirectory(prefix="yuqing-bench-beside-") as tmp:
        folder = Path(tmp)
        warm = write_jsonl(folder / "warm.jsonl", rows[:1])
        primer = write_jsonl(folder / "primer.jsonl", rows[1:1 + primer_n])
        main = write_jsonl(folder / "main.jsonl", rows[1 + primer_n:])

        idle = folder / "idle"  # `yuqing import` creates and migrates the instance itself
        both = write_jsonl(folder / "warm-primer.jsonl", rows[:1 + primer_n])
        if not import_file(idle, both)[1]:
            raise RuntimeError("导入失败：预热与铺底信息")
        phase("idle instance primed")
        alone, alone_ok, alone_err = import_file(idle, main)
        phase(f"idle import: {alone:.1f} s")
        if not alone_ok:
            raise RuntimeError(f"空闲实例中的导入失败：{alone_err.strip()[-500:]}")
        alone_lost = n - (stored(idle) - 1 - primer_n)
        if alone_lost:
            raise RuntimeError(f"空闲实例中的导入少了 {alone_lost} 行：生成的数据有误")

        busy = folder / "busy"
        share_models(busy)  # trained by an earlier benchmark of this run, if any
        with yuqing_run(busy) as live:
            phase("yuqing run ready")
            # first analysis builds the models: wait it out, so the primer is analysed at speed
            import_file(busy, warm)
            deadline = time.monotonic() + 300
            while "已分析" not in live.log_tail(1_000_000):
                if time.monotonic() > deadline or live.proc.poll() is not None:
                    raise RuntimeError(f"yuqing run 未分析预热信息：{live.log_tail()}")
                time.sleep(0.2)
            keep_models(busy)
            phase("warm-up post analysed")
            import_file(busy, primer)
            time.sleep(ANALYSIS_POLL + 1)  # the analysis job is now at work on the primer
            beside, beside_ok, beside_err = import_file(busy, main)
            phase(f"import beside yuqing run: {beside:.1f} s")
            lost = n - (stored(busy) - 1 - primer_n)
            log = live.log_tail(10_000_000)
    locked = beside_err.count("database is locked")
    run_errors = sum(log.count(m) for m in ERROR_MARKS)
    failures = (0 if beside_ok else 1) + locked + lost + run_errors
    value, baseline = n / beside, n / alone
    extra = {"import_failed": not beside_ok, "rows_lost": lost, "locked_messages": locked,
             "run_log_errors": run_errors}
    return [
        {"name": "import_beside_run", "ratio": value / baseline, "value": value,
         "baseline": baseline, "unit": "posts/s", "n": n, "better": "higher", **extra,
         "about": "`yuqing run` 正在分析时用 `yuqing import` 导入的速度，基线为同一文件导入空闲实例的速度"
                  "（都含命令启动）；比值 = 数值 ÷ 基线。",
         "goal": "不出现“database is locked”，不丢行（短写事务、重试或单一写入者）"},
        {"name": "import_beside_run_failures", "ratio": None, "value": failures,
         "baseline": alone_lost, "unit": "errors+rows", "n": n, "better": "lower", **extra,
         "about": "同上场景中的失败：导入失败次数 + “database is locked” 次数 + 丢失行数 + 运行进程日志中"
                  "的错误数；基线为空闲实例中同一导入丢失的行数。",
         "goal": "0（从不）"},
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(ROWS), default="small")
    args = parser.parse_args()
    for f in run(args.size):
        print(f"{f['name']}: {f['value']:.1f} {f['unit']} (baseline {f['baseline']:.1f}); "
              f"rows lost {f['rows_lost']}, import failed {f['import_failed']}, "
              f"errors in the run log {f['run_log_errors']}")


if __name__ == "__main__":
    main()
