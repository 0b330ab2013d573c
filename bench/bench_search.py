"""FTS5 query latency at N posts (p50/p95 in ms), against a LIKE substring scan baseline.

    python bench/bench_search.py [N]

`yuqing bench` calls ``run(size)``: 3k posts (small), or 10k, 100k and 1M (full); the figures
(the only module that measures search; ``bench_store.py`` keeps the console) are the p95 of
"newest 20" for common words, and the recall against a substring scan: every total and every
newest page must equal the scan's.
"""

from __future__ import annotations

import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.corpus import posts
from store.search import IndexDoc, SearchQuery, fold
from store.search.fts5 import FTS5Index

TERMS = ["食堂", "学校食堂", "积水", "街道 噪音", "医保报销", "养老金", "异味", "变", "政府", "工作"]
COMMON = ["工作", "政府", "发展", "问题"]  # words in a large share of the posts
BENCHMARKS = ("search_newest20_common_p95", "search_recall_vs_like")
SIZES = {"small": (3_000,), "full": (10_000, 100_000, 1_000_000)}


def build(rows: list[dict[str, object]], folder: Path) -> tuple[FTS5Index, sqlite3.Connection,
                                                                float]:
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    index = FTS5Index(folder / "search.db")
    start = time.perf_counter()
    for i in range(0, len(rows), 5000):
        index.add([IndexDoc(j + 1, str(r["title"]), str(r["text"]), t0 + timedelta(minutes=j),
                            source="bench", places=["320115001"])
                   for j, r in enumerate(rows[i:i + 5000], start=i)])
    built = time.perf_counter() - start
    plain = sqlite3.connect(folder / "plain.db")
    plain.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, body TEXT)")
    plain.executemany("INSERT INTO t VALUES (?, ?)",
                      [(i + 1, f"{r['title']}\n{r['text']}") for i, r in enumerate(rows)])
    plain.commit()
    return index, plain, built


def measure_common(n: int, rounds: int = 3) -> dict[str, float]:
    """p95 of newest 20 for common words (FTS5 and LIKE), and recall against a substring scan:
    the totals and the newest pages (ids follow publication time here)."""
    rows = posts(n, seed=2)
    fts: list[float] = []
    like: list[float] = []
    found = expected = 0
    with tempfile.TemporaryDirectory() as tmp:
        index, plain, built = build(rows, Path(tmp))
        for _ in range(rounds):
            for term in COMMON:
                s = time.perf_counter()
                index.search(SearchQuery(text=term, order="newest"))
                fts.append(time.perf_counter() - s)
                s = time.perf_counter()
                plain.execute("SELECT id FROM t WHERE body LIKE ? ORDER BY id DESC LIMIT 20",
                              [f"%{term}%"]).fetchall()
                like.append(time.perf_counter() - s)
        hays = [fold(body) for (body,) in plain.execute("SELECT body FROM t ORDER BY id")]
        for term in COMMON:  # recall: what a substring scan finds, search must find
            hits = [i for i, h in enumerate(hays, start=1) if term in h]
            newest = set(sorted(hits, reverse=True)[:20])
            result = index.search(SearchQuery(text=term, order="newest"))
            found += min(result.total, len(hits)) + len(newest & set(result.ids))
            expected += len(hits) + len(newest)
        index.close()
        plain.close()
    return {"fts_p95": pct(fts, 95), "like_p95": pct(like, 95), "fts_p50": pct(fts, 50),
            "found": found, "expected": expected, "build_rate": n / built}


def run(size: str) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for n in SIZES[size]:
        m = measure_common(n)
        out.append({"name": "search_newest20_common_p95", "ratio": m["like_p95"] / m["fts_p95"],
                    "value": m["fts_p95"], "baseline": m["like_p95"], "unit": "ms", "n": n,
                    "better": "higher", "p50_ms": m["fts_p50"],
                    "index_build_posts_per_s": m["build_rate"],
                    "about": "检索常见词（" + "、".join(COMMON) + "）按时间最新 20 条的 p95；基线为同样"
                             "文本上 LIKE 子串扫描取最新 20 条的 p95；比值 = 基线 ÷ 数值（>1 即快于扫描）。",
                    "goal": "1M 条时 p95 < 200 ms"})
        out.append({"name": "search_recall_vs_like", "ratio": m["found"] / m["expected"],
                    "value": m["found"], "baseline": m["expected"], "unit": "posts", "n": n,
                    "better": "higher",
                    "about": "同样的常见词，全文检索的命中总数与最新 20 条 ÷ 子串扫描的（召回）。",
                    "goal": "召回 1.000"})
    return out


def pct(samples: list[float], q: float) -> float:
    """q-th percentile in ms."""
    return statistics.quantiles(samples, n=100, method="inclusive")[int(q) - 1] * 1000


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    rows = posts(n, seed=2)
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as tmp:
        index = FTS5Index(Path(tmp) / "search.db")
        start = time.perf_counter()
        for i in range(0, n, 5000):
            index.add([IndexDoc(j + 1, str(r["title"]), str(r["text"]), t0 + timedelta(minutes=j),
                                source="bench", places=["320115001"])
                       for j, r in enumerate(rows[i:i + 5000], start=i)])
        build = time.perf_counter() - start
        plain = sqlite3.connect(Path(tmp) / "plain.db")
        plain.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, body TEXT)")
        plain.executemany("INSERT INTO t VALUES (?, ?)",
                          [(i, f"{r['title']}\n{r['text']}") for i, r in enumerate(rows)])
        plain.commit()
        timings: dict[str, list[float]] = {"newest 20": [], "count": [], "top 20 by rank": [],
                                           "LIKE scan (baseline)": []}
        for _ in range(5):
            for term in TERMS:
                for label, q in (("newest 20", SearchQuery(text=term, order="newest")),
                                 ("top 20 by rank", SearchQuery(text=term))):
                    s = time.perf_counter()
                    index.search(q)
                    timings[label].append(time.perf_counter() - s)
                s = time.perf_counter()
                index.counts(SearchQuery(text=term), "day")
                timings["count"].append(time.perf_counter() - s)
                s = time.perf_counter()
                like = " AND ".join("body LIKE ?" for _ in term.split())
                plain.execute(f"SELECT id FROM t WHERE {like} ORDER BY id DESC LIMIT 20",
                              [f"%{w}%" for w in term.split()]).fetchall()
                timings["LIKE scan (baseline)"].append(time.perf_counter() - s)
        index.close()
        plain.close()
    base = statistics.median(timings["LIKE scan (baseline)"])
    print(f"posts: {n}; FTS5 build {n / build:,.0f} posts/s")
    for label, samples in timings.items():
        ratio = base / statistics.median(samples)
        print(f"{label:<22} p50 {pct(samples, 50):8.2f} ms   p95 {pct(samples, 95):8.2f} ms"
              f"   speed-up vs LIKE {ratio:6.1f}x")


if __name__ == "__main__":
    main()
