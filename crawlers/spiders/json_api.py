"""Paged JSON endpoints (Weibo-style search/timelines, 留言板 list and detail APIs).

Options::

    items:  data.list                  # dotted path to the list of entries
    fields: {id, text, title, author, followers, time, reposts, comments, likes, place,
             url, reply_text, reply_time, reply_unit}   # dotted paths inside one entry
    url_template: "https://site/p/{id}"                  # in fields: when entries carry no URL
    paging: {type: page | cursor | next_url, param: page, start: 1,
             cursor_path: data.cursor, next_url_path: data.next}
    detail: {url: "https://site/api/detail?id={id}", root: result, fields: {...},
             id_from_url: "/msg/(\\d+)"}  # one more call per entry; with id_from_url, open
                                           # messages (no reply yet) are revisited each run

Container entries (Weibo ``card_type: 11`` with a ``card_group``) are opened, not counted.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from scrapy.http import Response

from crawlers.items import PostItem
from crawlers.spiders.base import SourceSpider
from crawlers.textutil import canonical_url, clean_text, decode_body, html_to_text

_INT_FIELDS = {"followers": "author_followers", "reposts": "reposts", "comments": "comments",
               "likes": "likes"}


def dig(data: Any, path: str | None) -> Any:
    """Value at a dotted path (``data.list.0.user.name``); None when any step is missing."""
    if not path:
        return None
    node = data
    for part in str(path).split("."):
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and part.lstrip("-").isdigit():
            idx = int(part)
            node = node[idx] if -len(node) <= idx < len(node) else None
        else:
            return None
        if node is None:
            return None
    return node


def with_param(url: str, name: str, value: Any) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != name]
    query.append((name, str(value)))
    return urlunsplit(parts._replace(query=urlencode(query)))


def to_int(value: Any) -> int:
    """Counts arrive as 12, "12", "1.2万" or "10万+"."""
    if value is None or isinstance(value, bool):
        return 0
    if isinstance(value, int | float):
        return max(0, int(value))
    text = str(value).strip().rstrip("+")
    scale = 1
    if text.endswith("万"):
        scale, text = 10_000, text[:-1]
    elif text.endswith("亿"):
        scale, text = 100_000_000, text[:-1]
    try:
        return max(0, int(float(text.replace(",", "")) * scale))
    except ValueError:
        return 0


def _walk_groups(entries: list[Any], depth: int = 0) -> list[Any]:
    """Entries with container cards opened: a Weibo ``card_type: 11`` card holds its posts
    under ``card_group`` and is no post itself (it used to count as a rejected item)."""
    out: list[Any] = []
    for entry in entries:
        group = entry.get("card_group") if isinstance(entry, dict) else None
        if isinstance(group, list):
            if depth < 3:
                out += _walk_groups(group, depth + 1)
            continue
        out.append(entry)
    return out


class JsonApiSpider(SourceSpider):
    strategy = "json_api"

    async def start(self) -> AsyncIterator[Any]:
        for req in self.revisits():
            yield req
        paging = self.paging
        for url in self.spec.start_urls:
            first = url
            if paging.get("type") == "page":
                first = with_param(url, paging.get("param", "page"), paging.get("start", 1))
            req = self.list_request(canonical_url(first), self.parse_page,
                                    page=int(paging.get("start", 1)), base_url=url)
            if req is not None:
                yield req

    def revisits(self) -> list[Any]:
        """Detail calls for stored messages still without an official reply."""
        detail = self.spec.option("detail", default={}) or {}
        pattern = detail.get("id_from_url")
        if not (pattern and detail.get("url")):
            return []
        out = []
        for url in self.open_messages():
            m = re.search(pattern, url)
            if not m:
                continue
            ext_id = m.group(1) if m.groups() else m.group(0)
            item = self.make_item(text="", external_id=ext_id, url=url,
                                  extra={"revisit": True})
            out.append(self.request(canonical_url(detail["url"].format(id=ext_id)),
                                    self.parse_detail, item=item))
        return out

    @property
    def paging(self) -> dict[str, Any]:
        return dict(self.spec.option("paging", default={}) or {})

    def load_json(self, response: Response) -> Any:
        self.result.pages += 1
        content_type = response.headers.get(b"Content-Type", b"").decode("latin-1")
        text, _ = decode_body(response.body, content_type)
        try:
            return json.loads(text)
        except ValueError as exc:
            self.record_error(response.url, f"不是有效的 JSON：{exc}"[:200])
            return None

    def parse_page(self, response: Response) -> Iterator[Any]:
        data = self.load_json(response)
        if data is None:
            return
        entries = dig(data, self.spec.option("items"))
        if not isinstance(entries, list):
            self.record_error(response.url, f"找不到条目列表 {self.spec.option('items')}")
            return
        fields = dict(self.spec.option("fields", default={}) or {})
        items = []
        for pos, entry in enumerate(_walk_groups(entries)):
            if not isinstance(entry, dict):
                self.record_error(response.url, f"第 {pos + 1} 条不是对象，已跳过")
                continue
            items.append(self.entry_item(entry, fields, response.url))
        known = self.known([i.external_id for i in items], [i.url for i in items])
        # the next page first: see HtmlSpider.parse_list (a page fetched again after its worker
        # died finds its own posts stored and stops paging; the next page is queued by then)
        if entries and not self.stop_paging(known):
            nxt = self.next_page(data, response)
            req = self.list_request(nxt, self.parse_page, page=response.meta["page"] + 1,
                                    base_url=response.meta["base_url"]) if nxt else None
            if req is not None:
                yield req
        detail = self.spec.option("detail", default={}) or {}
        for item in items:
            if (item.external_id and item.external_id in known) or (item.url and item.url in known):
                continue
            if detail.get("url") and item.external_id:
                url = canonical_url(detail["url"].format(id=item.external_id))
                yield self.request(url, self.parse_detail, item=item)
            else:
                yield item

    def next_page(self, data: Any, response: Response) -> str:
        paging = self.paging
        kind = paging.get("type", "none")
        if kind == "page":
            return with_param(response.meta["base_url"], paging.get("param", "page"),
                              response.meta["page"] + 1)
        if kind == "cursor":
            cursor = dig(data, paging.get("cursor_path"))
            if cursor in (None, "", 0, "0", False):
                return ""
            return with_param(response.meta["base_url"], paging.get("param", "cursor"), cursor)
        if kind == "next_url":
            nxt = dig(data, paging.get("next_url_path"))
            url = canonical_url(str(nxt), response.url) if nxt else ""
            return url if url and self.on_site(url) else ""
        return ""

    def entry_item(self, entry: dict[str, Any], fields: dict[str, Any], page_url: str) -> PostItem:
        ext_id = dig(entry, fields.get("id"))
        ext_id = "" if ext_id is None else str(ext_id)
        url = dig(entry, fields.get("url"))
        if not url and fields.get("url_template") and ext_id:
            url = fields["url_template"].format(id=ext_id)
        item = self.make_item(text="", external_id=ext_id,
                              url=canonical_url(str(url), page_url) if url else "")
        self.apply_fields(item, entry, fields)
        return item

    def apply_fields(self, item: PostItem, entry: dict[str, Any], fields: dict[str, Any]) -> None:
        as_html = self.spec.option("text_is_html", default=True)

        def text_of(name: str) -> str:
            value = dig(entry, fields.get(name))
            if value is None or isinstance(value, dict | list):
                return ""
            return html_to_text(str(value)) if as_html else clean_text(str(value))

        for name, attr in (("text", "text"), ("title", "title"), ("author", "author"),
                           ("place", "place"), ("reply_text", "reply_text"),
                           ("reply_unit", "reply_unit")):
            value = text_of(name)
            if value:
                setattr(item, attr, value)
        for name, attr in _INT_FIELDS.items():
            if fields.get(name):
                setattr(item, attr, to_int(dig(entry, fields[name])))
        if fields.get("time"):
            raw = dig(entry, fields["time"])
            item.published_at = self.parse_time(raw) or item.published_at
        if fields.get("reply_time"):
            item.reply_at = self.parse_time(dig(entry, fields["reply_time"])) or item.reply_at

    def parse_detail(self, response: Response) -> Iterator[Any]:
        item: PostItem = response.meta["item"]
        data = self.load_json(response)
        if data is None:
            return
        detail = self.spec.option("detail", default={}) or {}
        root = dig(data, detail.get("root")) if detail.get("root") else data
        if isinstance(root, dict):
            self.apply_fields(item, root, dict(detail.get("fields") or {}))
        yield item
