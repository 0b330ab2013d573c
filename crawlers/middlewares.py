"""Spider middleware: an exception while parsing one page is recorded and the run goes on.
Downloader middleware: robots.txt is obeyed, and a robots.txt that cannot be read forbids."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware as ScrapyRobotsTxt
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response
from scrapy.robotstxt import RobotParser
from scrapy.utils.httpobj import urlparse_cached

log = logging.getLogger(__name__)

# One robots.txt gates every page of the site for the whole crawl, and failing to read it now
# costs the crawl: it gets more time than a page's DOWNLOAD_TIMEOUT.
ROBOTS_MIN_TIMEOUT = 10.0


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


class RobotsUnreachable(IgnoreRequest):
    """A request not sent because the site's robots.txt could not be read."""

    def __init__(self, reason: str):
        super().__init__(f"robots.txt unreachable: {reason}")
        self.reason = reason  # Chinese, for the source's health record


class _Unreachable(RobotParser):
    """Stands for a robots.txt that could not be read: nothing is allowed."""

    def __init__(self, reason: str):
        self.reason = reason

    @classmethod
    def from_crawler(cls, crawler: Crawler, robotstxt_body: bytes) -> _Unreachable:
        return cls("")

    def allowed(self, url: str | bytes, user_agent: str | bytes) -> bool:
        return False


class RobotsTxtMiddleware(ScrapyRobotsTxt):
    """Scrapy's robots.txt check, failing closed (RFC 9309 2.3.1.4: a robots.txt unreachable
    through a network error or a 5xx answer means complete disallow).

    Scrapy allows everything when robots.txt fails to download: a robots.txt that timed out
    on a loaded machine let the crawl fetch and store a page the site forbids. The verdict is
    kept for this crawl (one round); the next round reads robots.txt again.
    """

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        self.robots_timeout = max(ROBOTS_MIN_TIMEOUT, crawler.settings.getfloat("DOWNLOAD_TIMEOUT"))

    async def process_request(self, request: Request) -> None:
        if request.meta.get("dont_obey_robotstxt"):
            if (request.priority == self.DOWNLOAD_PRIORITY
                    and urlparse_cached(request).path == "/robots.txt"):  # our own fetch of it
                request.meta.setdefault("download_timeout", self.robots_timeout)
            return
        await super().process_request(request)

    def process_request_2(self, rp: RobotParser | None, request: Request) -> None:
        if isinstance(rp, _Unreachable):
            raise RobotsUnreachable(rp.reason)
        super().process_request_2(rp, request)

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        if response.status >= 500:  # given up after the retries: the site cannot say
            self._stats.inc_value("robotstxt/response_count")
            self._stats.inc_value(f"robotstxt/response_status_count/{response.status}")
            self._unreachable(netloc, f"HTTP 状态码 {response.status}")
            return
        await super()._parse_robots(response, netloc, request)

    def _robots_error(self, exc: Exception, netloc: str) -> None:
        if isinstance(exc, IgnoreRequest):  # robots.txt itself refused by a middleware
            super()._robots_error(exc, netloc)
            return
        from twisted.python.failure import Failure

        from crawlers.spiders.base import failure_reason  # base imports this module

        self._stats.inc_value(f"robotstxt/exception_count/{type(exc)}")
        self._unreachable(netloc, failure_reason(Failure(exc)))

    def _unreachable(self, netloc: str, reason: str) -> None:
        waiting = self._parsers[netloc]
        self._parsers[netloc] = parser = _Unreachable(reason)
        if hasattr(waiting, "callback"):  # the requests waiting for the verdict get it
            waiting.callback(parser)
