"""Alert latency of the running product: a new post imported -> its case visible through the
API, and -> the webhook message received, p95 over posts imported one at a time.

A real `yuqing run` child process on a temporary SQLite instance (its own scheduler, analysis,
routing and delivery at their configured intervals), a real webhook receiver on 127.0.0.1, and
posts stored with the import path (`build_ingestor`, as `yuqing import` does) every 1–3 s.
The clock starts just before a post is stored; "visible" is the first poll of
``/api/v1/cases`` (every 0.1 s, as a monitor's token) listing its case; "received" is the first
webhook POST naming the case. Baselines, measured in the same run: a bare HTTP round trip to
the same server (``/healthz``), and a bare POST to the same receiver.

    python bench/bench_latency.py [--size small|full]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.live import Receiver, alert_posts, keep_models, make_instance, pct, yuqing_run

BENCHMARKS = ("post_to_case_visible_p95", "post_to_webhook_p95")
POSTS = {"small": 6, "full": 40}
TAIL_SECONDS = 90  # longest wait for the last post's case and message
MISSING = float("inf")


def run(size: str) -> list[dict[str, Any]]:
    n = POSTS[size]
    receiver = Receiver()
    try:
        with tempfile.TemporaryDirectory(prefix="yuqing-bench-latency-") as tmp:
            home = Path(tmp) / "instance"
            token = make_instance(home, receiver.url)
            with yuqing_run(home) as live:
                visible, received, bare_http = measure(live, token, receiver, n)
            bare_hook = bare_posts(receiver.url, 30)
    finally:
        receiver.close()
    return [figure("post_to_case_visible_p95", visible, bare_http, n,
                   "新信息入库后，其工单在 API（/api/v1/cases）中可见所需时间的 p95；基线为同一服务器上"
                   "一次裸 HTTP 往返（/healthz）的 p95；比值 = 基线 ÷ 数值。",
                   "p95 < 2 秒"),
            figure("post_to_webhook_p95", received, bare_hook, n,
                   "新信息入库后，webhook 接收端收到该工单通知所需时间的 p95；基线为向同一接收端"
                   "直接 POST 一次的 p95；比值 = 基线 ÷ 数值。",
                   "p95 < 3 秒")]


def figure(name: str, samples: list[float], baseline: list[float], n: int, about: str,
           goal: str) -> dict[str, Any]:
    got = [s for s in samples if s != MISSING]
    missed = len(samples) - len(got)
    # a post never seen counts as the longest wait: the p95 must not look better for it
    filled = [s if s != MISSING else TAIL_SECONDS for s in samples]
    value = pct(filled, 95) * 1000
    base = pct(baseline, 95) * 1000
    return {"name": name, "ratio": base / value if value else None, "value": value,
            "baseline": base, "unit": "ms", "n": n, "p50_ms": pct(filled, 50) * 1000,
            "missed": missed, "better": "higher", "about": about, "goal": goal}


def measure(live: Any, token: str, receiver: Receiver,
            n: int) -> tuple[list[float], list[float], list[float]]:
    from yuqing.context import AppContext
    from yuqing.pipeline import build_ingestor
    from yuqing.settings import load_settings

    ctx = AppContext(settings=load_settings(live.home, environ={}))
    ingestor = build_ingestor(ctx)
    posts = alert_posts(n + 1, seed=16, tag="B")
    warm, posts = posts[0], posts[1:]
    seen: dict[str, tuple[int, float]] = {}  # title -> (case id, first seen)
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            try:
                data = live.get("/api/v1/cases?limit=500", token)
            except OSError:
                data = {"cases": []}
            at = time.perf_counter()
            for c in data["cases"]:
                seen.setdefault(c["title"], (c["id"], at))
            stop.wait(0.1)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    try:
        # the first analysis builds the models and loads the dictionaries: not timed
        store(ingestor, warm)
        wait_for(lambda: warm["title"] in seen, 300, live)
        keep_models(live.home)
        rng = random.Random(7)
        started: dict[str, float] = {}
        for post in posts:
            time.sleep(rng.uniform(1.0, 3.0))
            started[post["title"]] = time.perf_counter()
            store(ingestor, post)

        def all_in() -> bool:
            return all(t in seen and seen[t][0] in receiver.first for t in started)

        wait_for(all_in, TAIL_SECONDS, live, quiet=True)
    finally:
        stop.set()
        poller.join(timeout=5)
        ctx.close()
    visible, received = [], []
    for title, t0 in started.items():
        case = seen.get(title)
        visible.append(case[1] - t0 if case else MISSING)
        hook = receiver.first.get(case[0]) if case else None
        received.append(hook - t0 if hook is not None else MISSING)
    bare = []
    for _ in range(30):
        t = time.perf_counter()
        live.get("/healthz")
        bare.append(time.perf_counter() - t)
    return visible, received, bare


def store(ingestor: Any, post: dict[str, Any]) -> None:
    report = ingestor.ingest([post], source="import:bench")
    if report.new != 1:
        raise RuntimeError(f"导入失败：{report.as_dict(3)}")


def wait_for(done: Any, seconds: float, live: Any, quiet: bool = False) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        if live.proc.poll() is not None:
            raise RuntimeError(f"yuqing run 意外退出：{live.log_tail()}")
        if time.monotonic() > deadline:
            if quiet:
                return
            raise RuntimeError(f"{seconds:.0f} 秒内未见工单；yuqing run 日志：{live.log_tail()}")
        time.sleep(0.05)


def bare_posts(url: str, n: int) -> list[float]:
    out = []
    for _ in range(n):
        req = urllib.request.Request(url, data=b'{"case_id": null}',
                                     headers={"Content-Type": "application/json"})
        t = time.perf_counter()
        with urllib.request.urlopen(req, timeout=10) as r:
            r.read()
        out.append(time.perf_counter() - t)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(POSTS), default="small")
    args = parser.parse_args()
    for f in run(args.size):
        print(f"{f['name']}: p95 {f['value']:.0f} ms (p50 {f['p50_ms']:.0f} ms, "
              f"{f['missed']} never seen), baseline p95 {f['baseline']:.1f} ms, "
              f"ratio {f['ratio']:.5f}")


if __name__ == "__main__":
    main()
