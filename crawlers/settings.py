"""Scrapy settings: the project template's polite defaults, then each source's politeness.

Every value appears once here with why it is set; ``scrapy_settings`` maps a source onto them.
"""

from __future__ import annotations

from typing import Any

from crawlers.sources import SourceSpec

DEFAULTS: dict[str, Any] = {
    "BOT_NAME": "yuqing",
    "ROBOTSTXT_OBEY": True,
    "CONCURRENT_REQUESTS": 16,
    # Scrapy starts this many asyncio tasks per callback to process its output; our callbacks
    # yield one item or a list page's links and the pipeline is synchronous, so 100 only costs CPU
    "CONCURRENT_ITEMS": 8,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 4,
    "DOWNLOAD_DELAY": 0.0,
    "AUTOTHROTTLE_ENABLED": True,
    "AUTOTHROTTLE_START_DELAY": 0.5,
    "AUTOTHROTTLE_MAX_DELAY": 30.0,
    "AUTOTHROTTLE_TARGET_CONCURRENCY": 2.0,
    "DOWNLOAD_TIMEOUT": 20,
    "RETRY_ENABLED": True,
    "RETRY_TIMES": 1,
    "DOWNLOAD_MAXSIZE": 4 * 1024 * 1024,
    "DOWNLOAD_WARNSIZE": 0,
    "COOKIES_ENABLED": False,
    "TELNETCONSOLE_ENABLED": False,  # no listening ports in a worker process
    "REMOTE_CONTROL_ENABLED": False,
    "LOG_LEVEL": "WARNING",
    "REQUEST_FINGERPRINTER_IMPLEMENTATION": "2.7",
    "FEED_EXPORT_ENCODING": "utf-8",
    # our components
    "SPIDER_MIDDLEWARES": {"crawlers.middlewares.RecordErrorsMiddleware": 60},
    # Scrapy's robots.txt check allows everything when robots.txt cannot be read: ours forbids
    "DOWNLOADER_MIDDLEWARES": {
        "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
        "crawlers.middlewares.RobotsTxtMiddleware": 100},
    "ITEM_PIPELINES": {"crawlers.pipelines.SinkPipeline": 500},
}


def scrapy_settings(spec: SourceSpec, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    pol = spec.politeness
    settings = dict(DEFAULTS)
    settings.update({
        "ROBOTSTXT_OBEY": pol.obey_robots,
        "CONCURRENT_REQUESTS_PER_DOMAIN": pol.concurrency,
        "DOWNLOAD_DELAY": pol.download_delay,
        "AUTOTHROTTLE_ENABLED": pol.autothrottle,
        "DOWNLOAD_TIMEOUT": pol.timeout,
        "RETRY_TIMES": pol.retries,
        "DOWNLOAD_MAXSIZE": pol.max_page_bytes,
        "USER_AGENT": pol.user_agent,
        # hooks and result travel on the spider: Scrapy deep-copies its settings
        "YUQING_SINK_ENABLED": True,
        "YUQING_MAX_TEXT_CHARS": spec.max_text_chars,
    })
    settings.update(overrides or {})
    return settings
