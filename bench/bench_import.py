"""Import throughput: yuqing's ingest (validate, dedupe, store, FTS5 index) against a bare
sqlite executemany of the same rows into a table of the same columns, in the same run.

    python bench/bench_import.py [N]

Figures (the only module that measures import; ``bench_store.py`` keeps the console):
- ``import_vs_executemany``: ingest with FTS5 indexing ÷ bare executemany (goal ≥ 0.1);
- ``import_store_only_vs_executemany``: the same without the search index;
- ``import_fts5_alone_vs_executemany``: only the FTS5 inserts of the already cut tokens, the
  bound the first figure cannot pass while every post gets its own gram postings.
Each also carries ``cpu_ratio``: the same ratio in process CPU seconds, which a loaded machine
disturbs far less than the wall clock (SQLite writes in this process, so CPU covers it).

`yuqing bench` calls ``run(size)``: 1k posts (small), or 10k, 100k and 1M (full).
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.corpus import posts
from store import Database
from store.migrate import upgrade
from store.search import open_index
from store.search.analyzer import index_text
from store.search.fts5 import HASH_BYTES
from store.search.query import fold
from yuqing.ingest import Ingestor

BENCHMARKS = ("import_vs_executemany", "import_store_only_vs_executemany",
              "import_fts5_alone_vs_executemany")
SIZES = {"small": (1_000,), "full": (10_000, 100_000, 1_000_000)}


class Clock:
    """Wall and CPU seconds of one block."""

    def __enter__(self) -> Clock:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *_: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu


def bare(rows: list[dict[str, object]], path: Path) -> Clock:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE posts(id INTEGER PRIMARY KEY, external_id TEXT, source TEXT, "
                 "title TEXT, text TEXT, published_at TEXT, reposts INTEGER)")
    values = [(r["external_id"], r["source"], r["title"], r["text"], r["published_at"],
               r["reposts"]) for r in rows]
    with Clock() as clock, conn:
        conn.executemany("INSERT INTO posts(external_id, source, title, text, published_at, "
                         "reposts) VALUES (?,?,?,?,?,?)", values)
    conn.close()
    return clock


def ingest(rows: list[dict[str, object]], folder: Path, with_index: bool) -> Clock:
    folder.mkdir()
    db = Database(f"sqlite:///{folder / 'yuqing.db'}")
    upgrade(db)
    index = open_index(f"fts5:///{folder / 'search.db'}") if with_index else None
    if index is not None:
        index.add([])  # the file and its schema exist before the clock starts
    ingestor = Ingestor(db, index)
    with Clock() as clock:
        report = ingestor.ingest(rows)
    assert report.new == len(rows), report.as_dict(3)
    if index is not None:
        index.close()
    db.dispose()
    return clock


def fts5_alone(rows: list[dict[str, object]], path: Path) -> Clock:
    """The FTS5 inserts alone, of grams already cut, in the index's own layout and batches."""
    grams = [(i, index_text(fold(f"{r['title']}\n{r['text']}"))) for i, r in enumerate(rows, 1)]
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE VIRTUAL TABLE f USING fts5(grams, content='', "
                 "tokenize='unicode61 remove_diacritics 0')")
    conn.execute("INSERT INTO f(f, rank) VALUES ('hashsize', ?)", [HASH_BYTES])
    with Clock() as clock:
        for i in range(0, len(grams), 1000):
            conn.execute("BEGIN")
            conn.executemany("INSERT INTO f(rowid, grams) VALUES (?,?)", grams[i:i + 1000])
            conn.execute("COMMIT")
    conn.close()
    return clock


def measure(n: int) -> dict[str, Clock]:
    rows = posts(n)
    with tempfile.TemporaryDirectory() as tmp:
        return {"bare": bare(rows, Path(tmp) / "bare.db"),
                "store": ingest(rows, Path(tmp) / "a", with_index=False),
                "full": ingest(rows, Path(tmp) / "b", with_index=True),
                "fts5": fts5_alone(rows, Path(tmp) / "fts.db")}


ABOUT = {
    "import_vs_executemany": ("full", "导入（校验、去重、入库、FTS5 索引）的速度 ÷ 同样的行用 sqlite "
                              "executemany 裸插入同列表的速度。",
                              "≥ 0.1"),
    "import_store_only_vs_executemany": ("store", "同上，但不建检索索引：只看入库本身的开销。",
                                         "（无单独目标：用来区分索引与入库各占多少）"),
    "import_fts5_alone_vs_executemany": ("fts5", "只把已切好的检索词元（汉字单字、字母数字二元组）写入 FTS5（与检索"
                                         "索引同样的表和批次）的速度 ÷ 裸插入：每条帖子各有自己的倒排时，上面的比值"
                                         "超不过它。",
                                         "（上限参考）"),
}


def run(size: str) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for n in SIZES[size]:
        t = measure(n)
        for name, (key, about, goal) in ABOUT.items():
            out.append({"name": name, "ratio": t["bare"].wall / t[key].wall,
                        "value": n / t[key].wall, "baseline": n / t["bare"].wall,
                        "unit": "posts/s", "n": n, "better": "higher",
                        "cpu_ratio": t["bare"].cpu / t[key].cpu,
                        "cpu_us_per_post": t[key].cpu / n * 1e6, "about": about, "goal": goal})
    return out


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    t = measure(n)
    print(f"posts: {n}")
    print(f"bare executemany:   {n / t['bare'].wall:>10,.0f} posts/s  "
          f"{t['bare'].cpu / n * 1e6:7.1f} µs CPU/post")
    for label, key in (("ingest, store only", "store"), ("ingest, store + FTS5", "full"),
                       ("FTS5 inserts alone", "fts5")):
        print(f"{label + ':':<20}{n / t[key].wall:>10,.0f} posts/s  "
              f"{t[key].cpu / n * 1e6:7.1f} µs CPU/post  ratio {t['bare'].wall / t[key].wall:.3f}"
              f"  CPU ratio {t['bare'].cpu / t[key].cpu:.3f}")


if __name__ == "__main__":
    main()
