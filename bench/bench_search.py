"""FTS5 query latency at N posts (p50/p95 in ms), against a LIKE substring scan baseline.

    python bench/bench_search.py [N]
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
from store.search import IndexDoc, SearchQuery
from store.search.fts5 import FTS5Index

TERMS = ["食堂", "学校食堂", "积水", "街道 噪音", "医保报销", "养老金", "异味", "变", "政府", "工作"]


def pct(samples: list[float], q: float) -> float:
    return statistics.quantiles(samples, n=100)[int(q) - 1] * 1000


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
