"""The fixture site's pages: feeds, a GBK news site, a Weibo-like API, a 留言板, bad pages."""

from __future__ import annotations

import json
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.crawlers.fixture_site import Article, FixtureSite

GBK_HTML = "text/html"  # no charset in the header: the page's <meta> says gb2312
LYING_HTML = "text/html; charset=utf-8"  # header claims UTF-8, bytes are GBK (common in the wild)


@dataclass
class Page:
    body: bytes | str
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    delay: float = 0.0
    drop: bool = False  # close the connection without an answer (a network error)


ROBOTS = "User-agent: *\nDisallow: /private/\n"
BAD_LINKS = ["a/slow.html", "a/error500.html", "a/script.html", "a/huge.html", "a/broken.html",
             "a/nodate.html", "a/plain.html", "/private/secret.html"]


def route(site: FixtureSite, path: str, query: dict[str, str]) -> Page | None:
    from tests.crawlers.fixture_site import HUGE_BYTES, SLOW_SECONDS

    state = site.state
    if path == "/robots.txt":
        if state.robots == "missing":
            return None
        if state.robots == "error500":
            return Page("<h1>Internal Server Error</h1>", status=500)
        return Page(ROBOTS, "text/plain", drop=state.robots == "drop")
    if path == "/rss.xml":
        return Page(rss(site), "application/rss+xml; charset=utf-8")
    if path == "/atom.xml":
        return Page(atom(site), "application/atom+xml")
    if path.startswith("/news/list_"):
        page = int(path.removeprefix("/news/list_").removesuffix(".html"))
        return Page(news_list(site, page).encode("gbk"), GBK_HTML)
    if path.startswith("/news/a/"):
        name = path.removeprefix("/news/a/").removesuffix(".html")
        if name == "slow":
            return Page(article_page(state.articles[0], "慢页面"), delay=SLOW_SECONDS)
        if name == "error500":
            return Page("<h1>Internal Server Error</h1>", status=500)
        if name == "huge":
            return Page("<html><body><div class='content'>" + "大" * (HUGE_BYTES // 3 + 10)
                        + "</div></body></html>")
        if name in SPECIAL:
            return Page(SPECIAL[name].encode("gbk"), GBK_HTML)
        match = [a for a in state.articles if str(a.id) == name]
        return Page(article_page(match[0]).encode("gbk"), LYING_HTML) if match else None
    if path == "/private/secret.html":
        return Page(article_page(state.articles[0], "不应被抓取"))
    if path == "/api/weibo":
        return Page(weibo(site, query), "application/json")
    if path == "/api/board/list":
        return Page(board_api_list(site, int(query.get("page", "1"))), "application/json")
    if path == "/api/board/detail":
        match = [m for m in state.messages if str(m.id) == query.get("id")]
        return Page(board_api_detail(match[0]), "application/json") if match else None
    if path == "/board/list":
        return Page(board_list(site, int(query.get("page", "1"))))
    if path.startswith("/board/msg/"):
        msg_id = path.removeprefix("/board/msg/").removesuffix(".html")
        match = [m for m in state.messages if str(m.id) == msg_id]
        return Page(board_message(match[0])) if match else None
    if path.startswith("/bench/"):
        return bench(site, path)
    if path.startswith("/held/"):
        from tests.crawlers import fixture_held_out

        return fixture_held_out.route(site, path, query)
    return None


def rss(site: FixtureSite) -> str:
    items = []
    for i, a in enumerate(site.state.articles[:5]):
        body = "".join(f"<p>{escape(p)}</p>" for p in a.body)
        items.append(f"""<item><title>{escape(a.title)}</title>
<link>/news/a/{a.id}.html?utm_source=rss&amp;utm_medium=feed#top</link>
<guid isPermaLink="false">rss-{a.id}</guid>
<pubDate>Tue, 21 May 2019 0{i}:00:00 GMT</pubDate>
<dc:creator>{escape(a.author)}</dc:creator>
<description><![CDATA[{a.body[0]}]]></description>
<content:encoded><![CDATA[{body}<script>alert('rss')</script>]]></content:encoded></item>""")
    return ("""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
 xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>江宁新闻</title>"""
            + "".join(items) + "</channel></rss>")


def atom(site: FixtureSite) -> bytes:
    entries = []
    for i, a in enumerate(site.state.articles[:3]):
        entries.append(f"""<entry><id>tag:jn,2019:{a.id}</id><title>{escape(a.title)}</title>
<link rel="alternate" href="{site.base}/news/a/{a.id}.html"/>
<published>2019-05-2{i}T10:00:00+08:00</published><updated>2019-05-2{i}T11:00:00Z</updated>
<author><name>{escape(a.author)}</name></author>
<content type="html">{escape("".join(f"<p>{p}</p>" for p in a.body))}</content></entry>""")
    doc = ('<?xml version="1.0" encoding="gb18030"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
           "<title>江宁区政府</title>" + "".join(entries) + "</feed>")
    return doc.encode("gb18030")


def _gbk_page(title: str, body: str) -> str:
    return f"""<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>{escape(title)}</title><style>.x{{color:red}}</style><script>var tracker = 1;</script></head>
<body><div class="nav"><a href="/">首页</a> <a href="/news/list_1.html">新闻</a></div>{body}
<div class="footer">版权所有 江宁新闻网</div></body></html>"""


def news_list(site: FixtureSite, page: int) -> str:
    state = site.state
    start = (page - 1) * state.per_page
    chunk = state.articles[start:start + state.per_page]
    links = [f'<li><a class="art" href="a/{a.id}.html?spm=1.2.3">{escape(a.title)}</a></li>' for a in chunk]
    if page == 1:
        links += [f'<li><a class="art" href="{h}">专题</a></li>' for h in BAD_LINKS]
    nxt = (f'<a class="next" href="list_{page + 1}.html">下一页</a>'
           if start + state.per_page < len(state.articles) else "")
    return _gbk_page(f"新闻列表 第{page}页", f'<ul class="list">{"".join(links)}</ul>{nxt}')


def article_page(a: Article, title: str | None = None) -> str:
    paras = "".join(f"<p>{escape(p)}</p>" for p in a.body)
    return _gbk_page(a.title, f"""<h1 class="title">{escape(title or a.title)}</h1>
<div class="info"><span class="time">{escape(a.time)}</span> <span class="author">{escape(a.author)}</span></div>
<div class="content">{paras}</div>""")


_LONG = "".join(f"<p>湖熟街道第{i}段：群众反映的农田灌溉渠道堵塞问题，街道农业服务中心已派人现场查看并组织疏通。</p>"
                for i in range(8))
SPECIAL = {
    "script": _gbk_page("含脚本的页面", """<h1 class="title">含脚本的页面</h1>
<div class="info"><span class="time">2019年5月21日 10:00</span></div>
<div class="content"><p>正文第一段</p><script>alert('xss')</script>
<img src="x.png" onerror="alert(document.cookie)"><p>正文第二段</p><style>p{}</style></div>"""),
    "broken": """<html><head><meta charset="gbk"><title>残缺页面</title></head><body>
<h1 class="title">残缺页面<div class="info"><span class="time">昨天 12:30</span>
<div class="content"><p>标签没有闭合<p>第二段<b>加粗<table><tr><td>表格里的文字""",
    "nodate": _gbk_page("没有日期", """<h1 class="title">没有日期的通知</h1>
<div class="content"><p>本页面没有发布时间。</p></div>"""),
    "plain": _gbk_page("没有正文容器", f"""<h1 class="title">没有正文容器</h1>
<div class="info"><span class="time">2019-05-21 10:00</span></div><article>{_LONG}</article>"""),
}


def weibo(site: FixtureSite, query: dict[str, str]) -> str:
    posts = site.state.posts
    offset = int(query.get("cursor") or 0)
    chunk = posts[offset:offset + site.state.per_page]
    nxt = offset + len(chunk)
    return json.dumps({"ok": 1, "data": {"statuses": chunk,
                                         "next_cursor": str(nxt) if nxt < len(posts) else 0}},
                      ensure_ascii=False)


def board_list(site: FixtureSite, page: int) -> str:
    per = site.state.per_page
    chunk = site.state.messages[(page - 1) * per:page * per]
    rows = "".join(f'<li><a class="msg" href="/board/msg/{m.id}.html#r">{escape(m.subject)}</a>'
                   f'<span>{"已回复" if m.reply else "未回复"}</span></li>' for m in chunk)
    nxt = (f'<a class="next" href="/board/list?page={page + 1}">下一页</a>'
           if page * per < len(site.state.messages) else "")
    return f"<html><body><ul>{rows}</ul>{nxt}</body></html>"


def board_message(m: Any) -> str:
    reply = ""
    if m.reply:
        reply = (f'<div class="reply"><div class="reply-body">{escape(m.reply)}</div>'
                 f'<span class="reply-time">{escape(m.reply_time)}</span>'
                 f'<span class="reply-unit">{escape(m.reply_unit)}</span></div>')
    return f"""<html><head><meta charset="utf-8"><title>{escape(m.subject)}</title></head><body>
<h2 class="subject">{escape(m.subject)}</h2><span class="msg-time">{escape(m.time)}</span>
<span class="msg-place">{escape(m.place)}</span><div class="msg-body">{escape(m.body)}</div>{reply}
</body></html>"""


def board_api_list(site: FixtureSite, page: int) -> str:
    per = site.state.per_page
    chunk = site.state.messages[(page - 1) * per:page * per]
    rows = [{"tid": m.id, "subject": m.subject, "status": 1 if m.reply else 0} for m in chunk]
    return json.dumps({"code": 200, "result": {"page": page, "rows": rows}}, ensure_ascii=False)


def board_api_detail(m: Any) -> str:
    data: dict[str, Any] = {"tid": m.id, "subject": m.subject, "content": f"<p>{escape(m.body)}</p>",
                            "createTime": m.time, "area": m.place}
    if m.reply:
        data["reply"] = {"content": m.reply, "replyTime": m.reply_time, "unitName": m.reply_unit}
    return json.dumps({"code": 200, "result": data}, ensure_ascii=False)


BENCH_PER_PAGE = 20


def bench(site: FixtureSite, path: str) -> Page | None:
    total = site.state.bench_articles
    if path.startswith("/bench/list_"):
        page = int(path.removeprefix("/bench/list_").removesuffix(".html"))
        ids = range((page - 1) * BENCH_PER_PAGE, min(page * BENCH_PER_PAGE, total))
        links = "".join(f'<li><a class="art" href="/bench/a/{i}.html">第{i}篇</a></li>' for i in ids)
        nxt = f'<a class="next" href="/bench/list_{page + 1}.html">下一页</a>' if page * BENCH_PER_PAGE < total else ""
        return Page(f"<html><body><ul>{links}</ul>{nxt}</body></html>")
    if path.startswith("/bench/a/"):
        i = int(path.removeprefix("/bench/a/").removesuffix(".html"))
        if i >= total:
            return None
        body = "".join(f"<p>第{i}篇第{k}段：江宁区各街道持续推进民生实事项目，群众满意度稳步提升。</p>" for k in range(6))
        return Page(f"""<html><head><meta charset="utf-8"><title>第{i}篇</title></head><body>
<h1 class="title">第{i}篇</h1><span class="time">2019-05-21 10:{i % 60:02d}</span>
<div class="content">{body}</div></body></html>""", delay=site.state.bench_delay)
    return None
