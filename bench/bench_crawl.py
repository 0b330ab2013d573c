"""Our html spider against a bare Scrapy spider on the same fixture site: pages/s and ratio.

Both run in their own spawned process (fresh reactor), same concurrency, no AutoThrottle, no
robots.txt, against the threaded fixture site on 127.0.0.1. Two ratios: wall-clock pages/s
(on two cores the fixture server in this process can be the limit, which hides spider cost)
and pages per CPU-second of the crawling process (the spider's own cost). Ours does what production does
(charset detection, html to text, canonical URLs, date parsing, batches to a sink) except the
store: the sink only counts, so the ratio measures the crawler, not the database.

    python bench/bench_crawl.py [--articles 2000] [--runs 3]

`yuqing bench` calls ``run(size)``: 300 articles once (small), 2,000 articles three times (full).
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crawlers.runner import run_crawl
from crawlers.runtime import CrawlHooks
from crawlers.sources import SourceSpec
from tests.crawlers.fixture_site import FixtureSite

CONCURRENCY = 8
BENCHMARKS = ("crawl_vs_bare_scrapy", "crawl_cpu_vs_bare_scrapy")
SIZES = {"small": (300, 1), "full": (2000, 3)}


def counting_hooks() -> CrawlHooks:
    def sink(items: list[Any]) -> dict[str, int]:
        return {"new": len(items)}

    return CrawlHooks(sink=sink, batch_size=200)


def _bare_child(start_url: str, conn: Any) -> None:
    import scrapy
    from scrapy.crawler import CrawlerProcess

    class BareSpider(scrapy.Spider):
        name = "bare"
        start_urls = (start_url,)

        def parse(self, response: Any) -> Any:
            yield from response.follow_all(css="a.art", callback=self.parse_article)
            yield from response.follow_all(css="a.next", callback=self.parse)

        def parse_article(self, response: Any) -> Any:
            yield {"title": response.css("h1::text").get(),
                   "text": "\n".join(response.css("div.content p::text").getall()),
                   "time": response.css(".time::text").get(), "url": response.url}

    process = CrawlerProcess(settings={
        "LOG_LEVEL": "WARNING", "TELNETCONSOLE_ENABLED": False, "REMOTE_CONTROL_ENABLED": False,
        "ROBOTSTXT_OBEY": False, "CONCURRENT_REQUESTS_PER_DOMAIN": CONCURRENCY,
        "AUTOTHROTTLE_ENABLED": False, "LOG_INSTALL_ROOT_HANDLER": False})
    crawler = process.create_crawler(BareSpider)
    process.crawl(crawler)
    started, cpu = time.perf_counter(), time.process_time()
    process.start()
    conn.send((crawler.stats.get_value("response_received_count", 0),
               time.perf_counter() - started, time.process_time() - cpu))
    conn.close()


def _ours_child(start_url: str, conn: Any) -> None:
    started, cpu = time.perf_counter(), time.process_time()
    result = run_crawl(our_spec(start_url), counting_hooks())
    if result.errors:
        raise SystemExit(f"our crawl failed: {result.errors[:3]}")
    conn.send((result.pages, time.perf_counter() - started, time.process_time() - cpu))
    conn.close()


def measure(target: Any, start_url: str) -> tuple[float, float]:
    """(pages per wall second, pages per CPU second of the crawling process)."""
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=target, args=(start_url, child))
    proc.start()
    pages, wall, cpu = parent.recv()
    proc.join()
    return pages / wall, pages / cpu


def our_spec(start_url: str) -> SourceSpec:
    return SourceSpec.from_config({
        "key": "bench", "kind": "html", "start_urls": [start_url],
        "options": {"max_pages": 10_000, "incremental": False,
                    "list": {"links": "a.art::attr(href)", "next": "a.next::attr(href)"},
                    "article": {"title": "h1", "body": "div.content", "time": ".time"},
                    "politeness": {"obey_robots": False, "autothrottle": False,
                                   "concurrency": CONCURRENCY}}})


def compare(articles: int, runs: int) -> tuple[list[tuple[float, float]],
                                               list[tuple[float, float]]]:
    """(bare, ours) pages/s and pages/CPU-s of each run."""
    with FixtureSite() as site:
        site.state.bench_articles = articles
        start = site.url("/bench/list_1.html")
        bare, ours = [], []
        for _ in range(runs):  # interleaved so drift hits both alike
            bare.append(measure(_bare_child, start))
            ours.append(measure(_ours_child, start))
    return bare, ours


def run(size: str) -> list[dict[str, object]]:
    articles, runs = SIZES[size]
    bare, ours = compare(articles, runs)
    out: list[dict[str, object]] = []
    for name, idx, unit, what in (("crawl_vs_bare_scrapy", 0, "pages/s", "墙钟"),
                                  ("crawl_cpu_vs_bare_scrapy", 1, "pages/CPU-s", "采集进程 CPU")):
        b = statistics.median(r[idx] for r in bare)
        o = statistics.median(r[idx] for r in ours)
        out.append({"name": name, "ratio": o / b, "value": o, "baseline": b, "unit": unit,
                    "n": articles, "better": "higher",
                    "about": f"本系统 html 采集器按{what}计的速度 ÷ 同一本地站点上裸 Scrapy 爬虫的速度"
                             "（同并发，不限速，不读 robots.txt）。",
                    "goal": "（无单独目标）"})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    bare, ours = compare(args.articles, args.runs)
    print(f"fixture site: {args.articles} articles, {args.runs} runs each, concurrency {CONCURRENCY}")
    for label, idx, unit in (("wall clock", 0, "pages/s"), ("crawler CPU", 1, "pages/CPU-s")):
        b = statistics.median(r[idx] for r in bare)
        o = statistics.median(r[idx] for r in ours)
        print(f"{label:>11}: bare Scrapy {b:7.1f} {unit}, yuqing html spider {o:7.1f} {unit}, "
              f"ratio ours/bare {o / b:.2f}")


if __name__ == "__main__":
    main()
