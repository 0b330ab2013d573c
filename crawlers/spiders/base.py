"""What every strategy shares: decoding, selectors, error recording, incremental stop."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

import scrapy
from parsel import Selector
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.defer import CancelledError
from twisted.internet.error import (
    ConnectError,
    ConnectionLost,
    DNSLookupError,
    TCPTimedOutError,
    TimeoutError,
)
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseNeverReceived

from crawlers.dates import SHANGHAI, parse_datetime
from crawlers.items import PostItem
from crawlers.middlewares import RobotsUnreachable
from crawlers.runtime import CrawlHooks, CrawlResult
from crawlers.sources import SourceSpec
from crawlers.textutil import canonical_url, clean_text, decode_body, element_text

_DATE_METAS = ("article:published_time", "publishdate", "pubdate", "publish_date",
               "og:release_date", "PubDate", "datePublished")


def failure_reason(failure: Failure) -> str:
    """A short Chinese reason for a failed request, for the source's health record."""
    exc = failure.value
    if isinstance(exc, HttpError):
        return f"HTTP 状态码 {exc.response.status}"
    if isinstance(exc, RobotsUnreachable):
        return f"robots.txt 无法读取（{exc.reason}），按规范本轮不抓取该站点"
    if isinstance(exc, IgnoreRequest):
        if "robots" in str(exc).lower():
            return "robots.txt 禁止抓取"
        return f"请求被忽略：{exc}"
    if isinstance(exc, DownloadTimeoutError | TimeoutError | TCPTimedOutError):
        return "请求超时"
    if isinstance(exc, DownloadCancelledError | CancelledError):
        return "页面超过大小上限，已取消下载"
    if isinstance(exc, CannotResolveHostError | DNSLookupError):
        return "域名解析失败"
    if isinstance(exc, DownloadConnectionRefusedError | DownloadFailedError
                  | ResponseDataLossError | ConnectError | ConnectionLost
                  | ResponseNeverReceived):
        return f"连接失败：{type(exc).__name__}"
    return f"抓取失败：{type(exc).__name__}: {exc}"[:300]


class SourceSpider(scrapy.Spider):
    """Base for the strategy spiders; built with ``spec``, ``hooks`` and ``result``."""

    name = "source"
    strategy = ""

    def __init__(self, spec: SourceSpec, hooks: CrawlHooks, result: CrawlResult, **kwargs: Any):
        super().__init__(name=f"{self.strategy}:{spec.key}", **kwargs)
        self.spec = spec
        self.hooks = hooks
        self.result = result
        self.now = hooks.now.astimezone(SHANGHAI) if hooks.now else datetime.now(SHANGHAI)
        self.list_pages = 0  # list / API pages requested, capped by spec.max_pages

    # ---- requests and errors -------------------------------------------------------------

    def request(self, url: str, callback: Any, **meta: Any) -> scrapy.Request:
        return scrapy.Request(url, callback=callback, errback=self.on_error, meta=meta)

    def list_request(self, url: str, callback: Any, **meta: Any) -> scrapy.Request | None:
        """A request for one more list/API page, or None once the page budget is spent."""
        shared = getattr(self, "queue_acks", None)  # on a shared queue the round holds the budget
        if shared is not None:
            if not shared.take_list_page(self.spec.max_pages):
                return None
        elif self.list_pages >= self.spec.max_pages:
            return None
        self.list_pages += 1
        return self.request(url, callback, **meta)

    def on_error(self, failure: Failure) -> None:
        request = getattr(failure, "request", None)
        url = request.url if request is not None else ""
        if isinstance(failure.value, HttpError):
            url = failure.value.response.url
        self.result.record_error(url, failure_reason(failure))
        acks = getattr(self, "queue_acks", None)  # on a shared queue: this request is done
        if acks is not None and request is not None:
            acks.failed(request)

    def record_error(self, url: str, reason: str) -> None:
        self.result.record_error(url, reason)

    # ---- offsite filter ------------------------------------------------------------------

    @cached_property
    def allowed_hosts(self) -> tuple[str, ...]:
        """The start URLs' hosts, the detail API's host and ``allowed_domains`` (with their
        subdomains); links elsewhere are not followed unless ``follow_offsite`` is set."""
        urls = [*self.spec.start_urls, str(self.spec.option("detail", "url") or "")]
        hosts = {(urlsplit(u).hostname or "").lower() for u in urls if u}
        hosts |= {str(h).strip().lower().lstrip(".") for h in
                  self.spec.option("allowed_domains", default=()) or ()}
        return tuple(sorted(h for h in hosts if h))

    def on_site(self, url: str) -> bool:
        if self.spec.option("follow_offsite", default=False):
            return True
        try:
            host = (urlsplit(url).hostname or "").lower()
        except ValueError:
            return False
        return any(host == h or host.endswith("." + h) for h in self.allowed_hosts)

    # ---- reading pages -------------------------------------------------------------------

    def page_text(self, response: Response) -> str:
        self.result.pages += 1
        content_type = response.headers.get(b"Content-Type", b"").decode("latin-1")
        text, _ = decode_body(response.body, content_type)
        return text

    def selector(self, response: Response) -> Selector:
        return Selector(text=self.page_text(response), base_url=response.url)

    @staticmethod
    def select(sel: Selector, expr: str | None) -> list[Selector]:
        if not expr:
            return []
        if expr.startswith("xpath:"):
            return list(sel.xpath(expr[6:]))
        return list(sel.css(expr))

    def select_text(self, sel: Selector, expr: str | None) -> str:
        """Text under a CSS (or ``xpath:``) selector; element matches are turned into text."""
        parts: list[str] = []
        for match in self.select(sel, expr):
            if isinstance(match.root, str):  # ::text, ::attr() or an xpath string
                parts.append(clean_text(match.root))
            else:  # walk the parsed element: no serialize-and-reparse per field
                parts.append(element_text(match.root))
        return "\n".join(p for p in parts if p).strip()

    def select_links(self, sel: Selector, expr: str | None, base: str) -> list[str]:
        """Links under a selector, canonical, on the source's own hosts (offsite filter)."""
        links: list[str] = []
        for match in self.select(sel, expr):
            href = match.root if isinstance(match.root, str) else match.attrib.get("href", "")
            try:
                url = canonical_url(str(href), base)
            except ValueError:  # http://[broken: a hostile link, not a crawl error
                continue
            if (url.startswith(("http://", "https://")) and url not in links
                    and self.on_site(url)):
                links.append(url)
        return links

    def declared_canonical(self, sel: Selector, response_url: str) -> str:
        """The page's <link rel="canonical">, when it points to the source's own hosts."""
        for link in sel.css("link[rel]"):
            if "canonical" not in str(link.attrib.get("rel", "")).lower().split():
                continue
            try:
                url = canonical_url(str(link.attrib.get("href", "")), response_url)
            except ValueError:
                return ""
            ok = url.startswith(("http://", "https://")) and self.on_site(url)
            return url if ok else ""
        return ""

    def meta_published(self, sel: Selector) -> datetime | None:
        for name in _DATE_METAS:
            for attr in ("property", "name", "itemprop"):
                value = sel.xpath(f"//meta[@{attr}='{name}']/@content").get()
                if value:
                    found = self.parse_time(value)
                    if found:
                        return found
        return None

    def parse_time(self, text: Any) -> datetime | None:
        problems: list[str] = []
        found = parse_datetime(text, now=self.now, problems=problems)
        for problem in problems:  # the item keeps an empty time; the run says why
            self.record_error("", problem)
        return found

    def external_id(self, url: str) -> str:
        pattern = self.spec.option("id_pattern")
        if not pattern:
            return ""
        m = re.search(pattern, url)
        return (m.group(1) if m.groups() else m.group(0)) if m else ""

    # ---- incremental crawl ---------------------------------------------------------------

    def known(self, ids: Sequence[str], urls: Sequence[str]) -> set[str]:
        if not self.spec.incremental:
            return set()
        ids = [i for i in ids if i]
        urls = [u for u in urls if u]
        if not ids and not urls:
            return set()
        return set(self.hooks.known(self.spec.key, ids, urls))

    def open_messages(self) -> list[str]:
        """Stored messages still waiting for a reply; a store error costs the revisit only."""
        try:
            return list(self.hooks.open_messages(self.spec.key))
        except Exception as exc:  # the list pages still deserve their crawl
            self.record_error("", f"读取待回复留言失败：{type(exc).__name__}: {exc}"[:300])
            return []

    def stop_paging(self, known_here: set[str]) -> bool:
        """Lists run newest first: once a page holds items we have, older pages hold more."""
        if known_here:
            self.result.stopped_early = True
            return True
        return False

    # ---- items ---------------------------------------------------------------------------

    def make_item(self, **fields: Any) -> PostItem:
        extra = dict(fields.pop("extra", None) or {})
        extra.setdefault("authority", self.spec.authority)
        extra.setdefault("strategy", self.strategy)
        fields.setdefault("place", self.spec.default_place)
        fields["place"] = fields["place"] or self.spec.default_place
        return PostItem(source=self.spec.key, collected_at=self.now,
                        source_kind=self.spec.post_kind, extra=extra, **fields)

    def start_requests_for(self, urls: Iterable[str], callback: Any) -> list[scrapy.Request]:
        out = []
        for url in urls:
            req = self.list_request(canonical_url(url), callback)
            if req is not None:
                out.append(req)
        return out
