"""RSS 2.0 and Atom feeds; optionally fetch each new entry's page for the full text."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from lxml import etree
from scrapy.http import Response

from crawlers.spiders.base import SourceSpider
from crawlers.textutil import canonical_url, decode_body, extract_main_text, html_to_text

# Hostile feeds: no entity expansion (billion laughs, XXE), no network, recover from breakage.
_PARSER_ARGS = {"resolve_entities": False, "no_network": True, "recover": True,
                "huge_tree": False, "remove_comments": True}


def _local(tag: Any) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _child(node: etree._Element, *names: str) -> etree._Element | None:
    for name in names:
        for child in node:
            if _local(child.tag) == name:
                return child
    return None


def _text(node: etree._Element, *names: str) -> str:
    child = _child(node, *names)
    if child is None:
        return ""
    return "".join(child.itertext()).strip()


def _markup(node: etree._Element, *names: str) -> str:
    """Atom text constructs: ``type="xhtml"`` content is markup, not text; hand it over as
    HTML so its paragraphs stay paragraphs (itertext would run them together)."""
    child = _child(node, *names)
    if child is None:
        return ""
    if child.get("type", "").lower() != "xhtml":
        return "".join(child.itertext()).strip()
    inner = etree.Element("div")  # copy without the XHTML namespace: html_to_text knows <p>
    inner.text = child.text
    try:
        for part in child:
            if isinstance(part.tag, str):
                inner.append(_strip_namespace(part))
    except (etree.XMLSyntaxError, ValueError):  # hostile markup: plain text is still text
        return "".join(child.itertext()).strip()
    return etree.tostring(inner, encoding="unicode", method="html")


def _strip_namespace(node: etree._Element) -> etree._Element:
    copy = etree.fromstring(etree.tostring(node, with_tail=False))
    copy.tail = node.tail
    for el in copy.iter():
        if isinstance(el.tag, str):
            el.tag = etree.QName(el.tag).localname
    etree.cleanup_namespaces(copy)
    return copy


def parse_feed(body: bytes, content_type: str = "") -> list[dict[str, str]]:
    """Entries of an RSS 2.0 or Atom document as plain dicts (raw, not yet cleaned)."""
    parser = etree.XMLParser(**_PARSER_ARGS)
    try:
        root = etree.fromstring(body, parser=parser)
    except etree.XMLSyntaxError:
        root = None
    if root is None:  # undeclared or lying encoding: decode ourselves and retry
        text, _ = decode_body(body, content_type)
        text = text.split("?>", 1)[1] if text.lstrip().startswith("<?xml") else text
        root = etree.fromstring(text.encode("utf-8"), parser=etree.XMLParser(**_PARSER_ARGS))
        if root is None:
            return []
    entries: list[dict[str, str]] = []
    for node in root.iter():
        name = _local(node.tag)
        if name == "item":  # RSS 2.0 (and RSS 1.0 items)
            entries.append({
                "id": _text(node, "guid"),
                "url": _text(node, "link"),
                "title": _text(node, "title"),
                "body": _text(node, "encoded") or _text(node, "description"),
                "time": _text(node, "pubDate", "date", "published"),
                "author": _text(node, "creator", "author"),
            })
        elif name == "entry":  # Atom
            link = ""
            for child in node:
                if _local(child.tag) == "link" and child.get("rel", "alternate") == "alternate":
                    link = child.get("href", "")
                    break
            author = _child(node, "author")
            entries.append({
                "id": _text(node, "id"),
                "url": link,
                "title": _text(node, "title"),
                "body": _markup(node, "content") or _markup(node, "summary"),
                "time": _text(node, "published", "updated"),
                "author": _text(author, "name") if author is not None else "",
            })
    return entries


class FeedSpider(SourceSpider):
    strategy = "feed"

    async def start(self) -> AsyncIterator[Any]:
        for req in self.start_requests_for(self.spec.start_urls, self.parse_feed):
            yield req

    def parse_feed(self, response: Response) -> Iterator[Any]:
        self.result.pages += 1
        content_type = response.headers.get(b"Content-Type", b"").decode("latin-1")
        entries = parse_feed(response.body, content_type)
        if not entries:
            self.record_error(response.url, "不是有效的 RSS/Atom 订阅，或没有条目")
            return
        for entry in entries:
            entry["url"] = canonical_url(entry["url"], response.url) if entry["url"] else ""
        known = self.known([e["id"] for e in entries], [e["url"] for e in entries])
        if known:
            self.result.stopped_early = True
        for entry in entries:
            if (entry["id"] and entry["id"] in known) or (entry["url"] and entry["url"] in known):
                continue
            item = self.make_item(
                text=html_to_text(entry["body"]), external_id=entry["id"], url=entry["url"],
                title=html_to_text(entry["title"]), author=entry["author"],
                published_at=self.parse_time(entry["time"]))
            if self.spec.option("fetch_article") and item.url and self.on_site(item.url):
                yield self.request(item.url, self.parse_article, item=item)
            else:
                yield item

    def parse_article(self, response: Response) -> Iterator[Any]:
        item = response.meta["item"]
        sel = self.selector(response)
        body_expr = self.spec.option("article", "body")
        text = self.select_text(sel, body_expr) if body_expr else ""
        item.text = text or extract_main_text(sel.get(), response.url) or item.text
        yield item
