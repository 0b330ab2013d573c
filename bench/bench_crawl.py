"""Our html spider against a bare Scrapy spider on the same fixture site: pages/s and ratio.

Both run in their own spawned process (fresh reactor), same concurrency, no AutoThrottle, no
robots.txt, against the threaded fixture site on 127.0.0.1. Ours does what production does
(charset detection, html to text, canonical URLs, date parsing, batches to a sink) except the
store: the sink only counts, so the ratio measures the crawler, not the database.

    python bench/bench_crawl.py [--articles 2000] [--runs 3]
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

from crawlers.runner import crawl_in_child
from crawlers.runtime import CrawlHooks
from crawlers.sources import SourceSpec
from tests.crawlers.fixture_site import FixtureSite

CONCURRENCY = 8


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
    started = time.perf_counter()
    process.start()
    elapsed = time.perf_counter() - started
    conn.send((crawler.stats.get_value("response_received_count", 0), elapsed))
    conn.close()


def run_bare(start_url: str) -> float:
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_bare_child, args=(start_url, child))
    proc.start()
    pages, elapsed = parent.recv()
    proc.join()
    return pages / elapsed


def run_ours(start_url: str) -> float:
    spec = SourceSpec.from_config({
        "key": "bench", "kind": "html", "start_urls": [start_url],
        "options": {"max_pages": 10_000, "incremental": False,
                    "list": {"links": "a.art::attr(href)", "next": "a.next::attr(href)"},
                    "article": {"title": "h1", "body": "div.content", "time": ".time"},
                    "politeness": {"obey_robots": False, "autothrottle": False,
                                   "concurrency": CONCURRENCY}}})
    result = crawl_in_child(spec, counting_hooks)
    if result.errors or not result.finished_at or not result.started_at:
        raise SystemExit(f"our crawl failed: {result.errors[:3]}")
    elapsed = (result.finished_at - result.started_at).total_seconds()
    return result.pages / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with FixtureSite() as site:
        site.state.bench_articles = args.articles
        start = site.url("/bench/list_1.html")
        bare, ours = [], []
        for _ in range(args.runs):  # interleaved so drift hits both alike
            bare.append(run_bare(start))
            ours.append(run_ours(start))
    b, o = statistics.median(bare), statistics.median(ours)
    print(f"fixture site: {args.articles} articles, {args.runs} runs each, concurrency {CONCURRENCY}")
    print(f"bare Scrapy spider: {b:8.1f} pages/s  (runs: {', '.join(f'{x:.0f}' for x in bare)})")
    print(f"yuqing html spider: {o:8.1f} pages/s  (runs: {', '.join(f'{x:.0f}' for x in ours)})")
    print(f"ratio ours/bare: {o / b:.2f}")


if __name__ == "__main__":
    main()
