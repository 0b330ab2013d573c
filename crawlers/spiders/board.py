"""Government message boards (留言板): messages, then the official reply when it appears.

Open messages (no reply yet) are revisited on every run until they are answered; the item
carries reply text, time and unit, which feed the response reports.

Options::

    list:    {links: ..., next: ..., page_pattern: ...}
    message: {title: ..., body: ..., time: ..., place: ..., author: ...}
    reply:   {text: ..., time: ..., unit: ...}
    id_pattern: regex on the message URL
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from scrapy.http import Response

from crawlers.spiders.html import HtmlSpider
from crawlers.textutil import canonical_url


class BoardSpider(HtmlSpider):
    strategy = "board"
    detail_option = "message"

    async def start(self) -> AsyncIterator[Any]:
        # revisit first: answers to old messages matter more than paging for new ones
        for url in self.open_messages():
            yield self.request(canonical_url(url), self.parse_detail, revisit=True)
        async for req in super().start():
            yield req

    def parse_detail(self, response: Response) -> Iterator[Any]:
        sel = self.selector(response)
        item = self.article_item(sel, response, self.spec.option("message", default={}))
        reply = dict(self.spec.option("reply", default={}) or {})
        reply_text = self.select_text(sel, reply.get("text")) if reply.get("text") else ""
        if reply_text:
            item.reply_text = reply_text
            reply_time = self.select_text(sel, reply.get("time")) if reply.get("time") else ""
            item.reply_at = self.parse_time(reply_time) if reply_time else None
            unit = self.select_text(sel, reply.get("unit")) if reply.get("unit") else ""
            item.reply_unit = unit[:200]
        item.extra["status"] = "answered" if reply_text else "open"
        if response.meta.get("revisit"):
            item.extra["revisit"] = True
        yield item
