from datetime import datetime

import pytest

from crawlers.dates import SHANGHAI
from tests.crawlers.conftest import CRAWL_TIME

pytestmark = pytest.mark.slow  # real crawls in child processes

NEWS = {
    "key": "jn-news", "name": "江宁新闻网", "kind": "html", "default_place": "320115",
    "options": {
        "list": {"links": "ul.list a.art::attr(href)", "next": "a.next::attr(href)"},
        "article": {"title": "h1.title", "body": "div.content", "time": ".info .time",
                    "author": ".info .author::text"},
        "id_pattern": r"/a/(\d+)\.html",
    },
}


def news(site, **politeness):
    return {**NEWS, "start_urls": [site.url("/news/list_1.html")],
            "options": {**NEWS["options"], "politeness": politeness}}


def test_gbk_news_site_is_crawled_through_list_pages(site, crawl):
    result = crawl(news(site))
    items = {i["url"].rsplit("/", 1)[1]: i for i in crawl.items("jn-news")}
    assert {f"{a.id}.html" for a in site.state.articles} <= set(items)
    first = items["100.html"]
    assert first["title"] == "秣陵街道居民反映道路积水问题 第0号"
    assert first["text"].split("\n") == site.state.articles[0].body
    assert first["author"] == "江宁新闻网" and first["external_id"] == "100"
    assert first["place"] == "320115"
    assert result.pages >= 3 + 10  # three list pages and the articles


def test_article_times_resolve_against_the_crawl_time(site, crawl):
    crawl(news(site))
    got = {i["external_id"]: i["published_at"] for i in crawl.items("jn-news")}
    t = {k: datetime.fromisoformat(v) for k, v in got.items() if v}
    assert t["100"] == datetime(2026, 11, 22, 8, 30, tzinfo=SHANGHAI)  # 今天 08:30
    assert t["99"] == datetime(2026, 11, 21, 12, 30, tzinfo=SHANGHAI)  # 昨天 12:30
    assert t["98"] == datetime(2026, 11, 22, 14, 57, tzinfo=SHANGHAI)  # 3分钟前
    assert t["97"] == datetime(2019, 5, 21, 10, 0, tzinfo=SHANGHAI)  # 2019年5月21日 10:00
    assert t["96"] == datetime(2026, 5, 21, 10, 0, tzinfo=SHANGHAI)  # 05-21 10:00
    assert t["95"] == datetime(2019, 5, 20, 9, 15, tzinfo=SHANGHAI)  # ISO with +08:00
    assert t["94"] == CRAWL_TIME  # 刚刚


def test_bad_pages_are_recorded_with_their_url_and_skipped(site, crawl):
    result = crawl(news(site))
    reasons = {e["url"].rsplit("/", 1)[1]: e["reason"] for e in result.errors}
    assert reasons["slow.html"] == "请求超时"
    assert reasons["error500.html"] == "HTTP 状态码 500"
    assert reasons["huge.html"] == "页面超过大小上限，已取消下载"
    assert reasons["secret.html"] == "robots.txt 禁止抓取"
    urls = {i["url"] for i in crawl.items("jn-news")}
    assert not any(u.endswith(("slow.html", "error500.html", "huge.html", "secret.html")) for u in urls)
    assert len(urls) == 10 + 4  # the good articles and script / broken / nodate / plain


def test_scripts_and_handlers_never_reach_the_text(site, crawl):
    crawl(news(site))
    item = next(i for i in crawl.items("jn-news") if i["url"].endswith("script.html"))
    assert item["text"] == "正文第一段\n正文第二段"
    assert "alert" not in item["text"] and "onerror" not in item["text"]


def test_broken_html_and_pages_without_date_or_body_container(site, crawl):
    crawl(news(site))
    by_name = {i["url"].rsplit("/", 1)[1]: i for i in crawl.items("jn-news")}
    broken = by_name["broken.html"]
    assert "标签没有闭合" in broken["text"] and "表格里的文字" in broken["text"]
    assert broken["published_at"] is not None
    nodate = by_name["nodate.html"]
    assert nodate["published_at"] is None and nodate["collected_at"] is not None
    plain = by_name["plain.html"]  # body selector misses: the main-text extractor takes over
    assert "湖熟街道第0段" in plain["text"] and "湖熟街道第7段" in plain["text"]
    assert "版权所有" not in plain["text"]


def test_a_second_crawl_stops_at_held_articles_and_adds_only_new_ones(site, crawl):
    from tests.crawlers.fixture_site import Article

    crawl(news(site))
    before = len(crawl.items("jn-news"))
    site.add_article(Article(id=101, title="新发布的文章", body=["今天新发生的事情。"], time="刚刚"))
    hits_before = site.hits.get("/news/list_2.html", 0)
    again = crawl(news(site))
    assert again.new == 1 and again.duplicate == 0 and again.stopped_early
    assert site.hits.get("/news/list_2.html", 0) == hits_before  # paging stopped on page 1
    assert len(crawl.items("jn-news")) == before + 1


def test_robots_can_be_switched_off_per_source(site, crawl):
    result = crawl(news(site, obey_robots=False))
    assert "robots.txt 禁止抓取" not in {e["reason"] for e in result.errors}
    assert any(i["url"].endswith("/private/secret.html") for i in crawl.items("jn-news"))


@pytest.mark.parametrize(("robots", "why"), [("error500", "HTTP 状态码 500"),
                                             ("drop", "连接失败：DownloadFailedError")])
def test_a_robots_txt_that_cannot_be_read_forbids_the_site(site, crawl, robots, why):
    # Scrapy alone allows everything then: a timed-out robots.txt once let a crawl store the
    # page robots.txt forbids
    site.state.robots = robots
    result = crawl(news(site, retries=1))
    assert site.hits["/robots.txt"] == 2  # retried once like a page, then given up
    assert set(site.hits) == {"/robots.txt"} and crawl.items("jn-news") == []
    assert {(e["url"].rsplit("/", 1)[1], e["reason"]) for e in result.errors} == {
        ("list_1.html", f"robots.txt 无法读取（{why}），按规范本轮不抓取该站点")}


def test_a_missing_robots_txt_allows_the_site(site, crawl):
    site.state.robots = "missing"
    crawl(news(site))
    assert site.hits["/robots.txt"] == 1
    assert any(i["url"].endswith("/private/secret.html") for i in crawl.items("jn-news"))


def test_numbered_list_pages_are_followed_until_they_run_out(site, crawl):
    config = news(site)
    config["options"]["list"] = {"links": "ul.list a.art::attr(href)",
                                 "page_pattern": site.url("/news/list_{page}.html")}
    result = crawl(config)
    assert site.hits["/news/list_4.html"] == 1  # tried once past the end, a 404
    assert not [e for e in result.errors if "list_" in e["url"]]
    assert {f"{a.id}" for a in site.state.articles} <= {i["external_id"] for i in crawl.items("jn-news")}
