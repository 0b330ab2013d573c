"""Item pipeline: hand PostItems to the sink in batches and count what the store did."""

from __future__ import annotations

import logging
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem, NotConfigured

from crawlers.items import PostItem
from crawlers.runtime import CrawlHooks, CrawlResult

log = logging.getLogger(__name__)


class SinkPipeline:
    """Reads hooks and result from the spider: Scrapy deep-copies settings, so live objects
    (a database session, the result the runner returns) must not travel through them."""

    def __init__(self, crawler: Crawler, max_text_chars: int = 100_000):
        self.crawler = crawler
        self.max_text_chars = max_text_chars
        self.batch: list[PostItem] = []
        self.seen: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SinkPipeline:
        if not crawler.settings.getbool("YUQING_SINK_ENABLED"):
            raise NotConfigured("no sink given")
        return cls(crawler, crawler.settings.getint("YUQING_MAX_TEXT_CHARS", 100_000))

    @property
    def acks(self) -> Any:
        # set by crawlers.distributed's scheduler on a shared queue: items settle their pages
        return getattr(self.crawler.spider, "queue_acks", None)

    def open_spider(self) -> None:
        if self.acks is not None:
            self.acks.flushers.append(self.flush)

    def _settle(self, item: Any) -> None:
        if self.acks is not None:
            self.acks.settle_item(item)

    @property
    def hooks(self) -> CrawlHooks:
        return self.crawler.spider.hooks  # type: ignore[union-attr]

    @property
    def result(self) -> CrawlResult:
        return self.crawler.spider.result  # type: ignore[union-attr]

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, PostItem):
            return item
        where = item.url or item.external_id or item.source
        if not item.text.strip() and not item.title.strip():
            self.result.rejected += 1
            self.result.record_error(where, "正文和标题都为空，已跳过")
            self._settle(item)
            raise DropItem("empty")
        identity = item.external_id or item.url
        if identity and identity in self.seen:  # same message reached twice in one run
            self._settle(item)
            raise DropItem("seen in this run")
        if identity:
            self.seen.add(identity)
        if len(item.text) > self.max_text_chars:
            item.extra["truncated_from"] = len(item.text)
            item.text = item.text[: self.max_text_chars]
            item.truncated = True
        self.batch.append(item)
        if len(self.batch) >= self.hooks.batch_size:
            self.flush()
        return item

    def flush(self) -> None:
        batch, self.batch = self.batch, []
        if not batch:
            return
        self.result.items += len(batch)
        try:
            counts = self.hooks.sink(batch)
        except Exception as exc:  # the store refused: record it; the next run collects them again
            log.exception("sink failed for %d items", len(batch))
            self.result.sink_failures += 1
            self.result.record_error(batch[0].url or batch[0].source,
                                     f"入库失败（{len(batch)} 条）：{type(exc).__name__}: {exc}")
            counts = None
        for item in batch:  # stored or refused (recorded): either way its page is done
            self._settle(item)
        if counts is not None:
            self.result.add_counts(counts)

    def close_spider(self) -> None:
        self.flush()
