"""News sites: list pages lead to article pages; selectors from the source, extractor fallback.

Options (``options`` in sources.yaml)::

    list:    {links: "css or xpath:", next: "selector of the next-page link",
              page_pattern: "https://site/list_{page}.html", first_page: 1}
    article: {title: ..., body: ..., time: ..., author: ..., place: ...}
    id_pattern: regex on the article URL whose first group is the site's id

Every spider follows links only on the source's own hosts: those of ``start_urls`` (and of
``detail.url`` for JSON APIs) with their subdomains. Common options widen that::

    allowed_domains: [news.example.gov.cn, example.cn]   # more hosts (subdomains included)
    follow_offsite: true                                 # follow links to any host

An article's ``<link rel="canonical">`` names it when it points to an allowed host; tracking
parameters (utm_*, spm, from=hot ...) are dropped from every URL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from parsel import Selector
from scrapy.http import Response

from crawlers.spiders.base import SourceSpider
from crawlers.textutil import canonical_url, extract_main_text


class ListPaging:
    """Next list page from a next link or a URL pattern; shared with the board spider."""

    def __init__(self, spider: SourceSpider, options: dict[str, Any]):
        self.spider = spider
        self.options = options

    def next_url(self, sel: Selector, response: Response) -> str:
        next_expr = self.options.get("next")
        if next_expr:
            links = self.spider.select_links(sel, next_expr, response.url)
            return links[0] if links else ""
        pattern = self.options.get("page_pattern")
        if pattern:
            page = int(response.meta.get("page", self.options.get("first_page", 1))) + 1
            return canonical_url(pattern.format(page=page))
        return ""


class HtmlSpider(SourceSpider):
    strategy = "html"
    detail_option = "article"

    async def start(self) -> AsyncIterator[Any]:
        for req in self.start_requests_for(self.spec.start_urls, self.parse_list):
            yield req

    def parse_list(self, response: Response) -> Iterator[Any]:
        list_opts = dict(self.spec.option("list", default={}) or {})
        by_pattern = response.meta.get("by_pattern", False)
        if by_pattern and response.status == 404:  # ran past the last numbered page
            return
        sel = self.selector(response)
        links = self.select_links(sel, list_opts.get("links"), response.url)
        if not links:
            if not by_pattern:  # a numbered page past the end is often an empty list
                self.record_error(response.url, "列表页没有找到文章链接（选择器失效？）")
            return
        ids = [self.external_id(u) for u in links]
        known = self.known(ids, links)
        # The next page goes out before this page's articles: on a shared queue a worker killed
        # midway has this page fetched again, and by then its articles may be stored (known),
        # which stops paging; the next page must already be queued or it would be lost.
        nxt = "" if self.stop_paging(known) else ListPaging(self, list_opts).next_url(sel,
                                                                                      response)
        if nxt and nxt != canonical_url(response.url) and self.on_site(nxt):
            page = int(response.meta.get("page", list_opts.get("first_page", 1))) + 1
            pattern = not list_opts.get("next") and bool(list_opts.get("page_pattern"))
            meta: dict[str, Any] = {"page": page, "by_pattern": pattern}
            if pattern:
                meta["handle_httpstatus_list"] = [404]
            req = self.list_request(nxt, self.parse_list, **meta)
            if req is not None:
                yield req
        for url, ext_id in zip(links, ids, strict=True):
            if url in known or (ext_id and ext_id in known):
                continue
            yield self.request(url, self.parse_detail)

    def parse_detail(self, response: Response) -> Iterator[Any]:
        sel = self.selector(response)
        yield self.article_item(sel, response, self.spec.option(self.detail_option, default={}))

    def article_item(self, sel: Selector, response: Response, opts: dict[str, Any]) -> Any:
        opts = dict(opts or {})
        title = self.select_text(sel, opts.get("title")) or self.select_text(sel, "title::text")
        body = self.select_text(sel, opts.get("body")) if opts.get("body") else ""
        if not body:  # no selector, or the site changed its layout: let the extractor find it
            body = extract_main_text(sel.get(), response.url)
        time_text = self.select_text(sel, opts.get("time")) if opts.get("time") else ""
        published = self.parse_time(time_text) if time_text else None
        published = published or self.meta_published(sel)
        # the page's own canonical address (on the source's hosts) names it, not the link we took
        url = self.declared_canonical(sel, response.url) or canonical_url(response.url)
        return self.make_item(
            text=body, title=title.split("\n")[0][:500], url=url, external_id=self.external_id(url),
            author=self.select_text(sel, opts.get("author"))[:200] if opts.get("author") else "",
            place=self.select_text(sel, opts.get("place"))[:200] if opts.get("place") else "",
            published_at=published,
            extra={"time_text": time_text[:100]} if time_text and not published else None)
