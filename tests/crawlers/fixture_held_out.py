"""Held-out pages on the fixture site (/held/...): the collection defects of issue 10.

An Atom feed with ``type="xhtml"`` content, a list whose links carry tracking parameters, a
print view naming its canonical page, a link to another host, a long article and a
Weibo-style card list with a ``card_type: 11`` group.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.crawlers.fixture_pages import Page
    from tests.crawlers.fixture_site import FixtureSite

PARAGRAPHS = ["汤山街道温泉路段井盖缺失，夜间行人险些跌落。", "街道城管科已设置围挡，今日更换井盖。"]
LONG_PARAGRAPH = "禄口街道某村反映灌溉渠道被填埋，影响周边农田用水，村民多次向村委会反映未果。"


def _page(title: str, body: str, head: str = "") -> str:
    return (f'<html><head><meta charset="utf-8"><title>{title}</title>{head}</head><body>'
            f'<h1 class="title">{title}</h1><span class="time">2019-05-21 10:00</span>'
            f'<div class="content">{body}</div></body></html>')


def route(site: FixtureSite, path: str, query: dict[str, str]) -> Page | None:
    from tests.crawlers.fixture_pages import Page

    offsite = site.base.replace("127.0.0.1", "localhost")  # same server, another host
    if path == "/held/atom_xhtml.xml":
        content = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
        return Page(f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>江宁区政府</title>
<entry><id>tag:jn,2019:x1</id><title>井盖缺失</title>
<link rel="alternate" href="{site.base}/held/a/1.html"/>
<published>2019-05-21T10:00:00+08:00</published>
<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">{content}</div></content>
</entry></feed>""", "application/atom+xml")
    if path == "/held/list.html":
        links = ['<a class="art" href="a/1.html?from=hot&amp;utm_source=wx">一</a>',
                 '<a class="art" href="a/2-print.html?from=timeline">二（打印版）</a>',
                 '<a class="art" href="a/long.html">长文</a>',
                 f'<a class="art" href="{offsite}/held/a/offsite.html">别的网站</a>',
                 '<a class="art" href="http://[broken/held/a/x.html">坏链接</a>']
        return Page(f"<html><body><ul>{''.join(f'<li>{a}</li>' for a in links)}</ul></body></html>")
    if path == "/held/plain_list.html":  # only well-formed, on-site links
        links = '<a class="art" href="a/1.html">一</a><a class="art" href="a/long.html">长文</a>'
        return Page(f"<html><body>{links}</body></html>")
    if path == "/held/a/1.html":
        return Page(_page("井盖缺失", "".join(f"<p>{p}</p>" for p in PARAGRAPHS)))
    if path == "/held/a/2-print.html":
        return Page(_page("渠道被填埋（打印版）", f"<p>{LONG_PARAGRAPH}</p>",
                          '<link rel="canonical" href="/held/a/2.html?from=hot">'))
    if path == "/held/a/long.html":
        return Page(_page("很长的文章", "".join(f"<p>{LONG_PARAGRAPH}{i}</p>" for i in range(60))))
    if path == "/held/a/offsite.html":
        return Page(_page("别的网站的文章", "<p>不应被抓取。</p>"))
    if path == "/held/weibo_cards":
        return Page(json.dumps({"ok": 1, "data": {"cards": weibo_cards()}}, ensure_ascii=False),
                    "application/json")
    return None


def weibo_cards() -> list[dict[str, Any]]:
    def card(mid: str, text: str) -> dict[str, Any]:
        return {"card_type": 9, "mblog": {"mid": mid, "text": text,
                                          "created_at": "Tue May 21 10:00:00 +0800 2019"}}

    return [card("7001", "淳化街道停水一天了"),
            {"card_type": 11, "card_group": [card("7002", "秣陵街道路灯坏了"),
                                             card("7003", "江宁街道噪音扰民")]},
            card("7004", "谷里街道积水")]
