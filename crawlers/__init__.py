"""Collection: Scrapy spiders (one per strategy), importers, source health.

Public API: sources are plain data (``SourceSpec``); ``crawl_in_child`` runs one source's crawl
in a fresh process with hooks the caller builds there (sink, known, open_messages) and returns
a ``CrawlResult``. On a shared Redis queue (``crawlers.distributed``, ``crawlers.worker``)
``seed`` pushes a source's start requests, ``run_worker`` serves the queue for the life of a
process and ``queue_lengths`` reports pending/in-flight requests per source. Nothing here
imports the rest of yuqing.
"""

from crawlers.dates import parse_datetime
from crawlers.items import PostItem
from crawlers.runner import crawl_in_child, run_crawl
from crawlers.runtime import CrawlHooks, CrawlResult
from crawlers.sources import Politeness, SourceError, SourceSpec
from crawlers.textutil import canonical_url, decode_body, extract_main_text, html_to_text

__all__ = ["CrawlHooks", "CrawlResult", "Politeness", "PostItem", "SourceError", "SourceSpec",
           "canonical_url", "crawl_in_child", "decode_body", "extract_main_text", "html_to_text",
           "parse_datetime", "run_crawl"]
