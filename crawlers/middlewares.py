"""Spider middleware: an exception while parsing one page is recorded and the run goes on."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from scrapy.crawler import Crawler
from scrapy.http import Response

log = logging.getLogger(__name__)


class RecordErrorsMiddleware:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RecordErrorsMiddleware:
        return cls(crawler)

    def process_spider_exception(self, response: Response, exception: Exception) -> Iterable[Any]:
        result = getattr(self.crawler.spider, "result", None)
        log.warning("parse failed on %s: %r", response.url, exception)
        if result is not None:
            result.record_error(response.url,
                                f"解析失败：{type(exception).__name__}: {exception}"[:300])
        return ()
