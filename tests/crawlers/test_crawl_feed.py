from datetime import datetime

import pytest

from crawlers.dates import SHANGHAI

pytestmark = pytest.mark.slow  # real crawls in child processes


def feed_source(site, path, key="jn-rss"):
    return {"key": key, "name": "江宁新闻 RSS", "kind": "feed", "start_urls": [site.url(path)],
            "default_place": "320115", "authority": "local"}


def test_rss_items_arrive_with_fields_times_and_clean_text(site, crawl):
    result = crawl(feed_source(site, "/rss.xml"))
    assert result.errors == [] and result.pages == 1
    assert (result.new, result.duplicate) == (5, 0)
    items = {i["external_id"]: i for i in crawl.items("jn-rss")}
    first = items["rss-100"]
    assert first["url"] == site.url("/news/a/100.html")  # tracking params and fragment dropped
    assert first["title"].startswith("秣陵街道居民反映道路积水问题")
    assert first["text"].split("\n") == site.state.articles[0].body  # script dropped, paragraphs kept
    assert first["author"] == "江宁新闻网" and first["place"] == "320115"
    assert datetime.fromisoformat(first["published_at"]) == datetime(2019, 5, 21, 8, tzinfo=SHANGHAI)
    assert first["source_kind"] == "news" and first["extra"]["authority"] == "local"


def test_atom_in_gb18030_is_read(site, crawl):
    result = crawl(feed_source(site, "/atom.xml", key="jn-atom"))
    assert result.new == 3 and result.errors == []
    items = sorted(crawl.items("jn-atom"), key=lambda i: i["external_id"])
    assert items[0]["external_id"] == "tag:jn,2019:100"
    assert items[0]["title"] == site.state.articles[0].title
    assert datetime.fromisoformat(items[0]["published_at"]) == datetime(2019, 5, 20, 10, tzinfo=SHANGHAI)
    assert items[0]["text"].split("\n") == site.state.articles[0].body


def test_a_second_feed_crawl_hands_over_nothing_already_held(site, crawl):
    crawl(feed_source(site, "/rss.xml"))
    again = crawl(feed_source(site, "/rss.xml"))
    assert (again.items, again.new, again.duplicate) == (0, 0, 0)
    assert again.stopped_early
    assert len(crawl.items("jn-rss")) == 5


def test_a_page_that_is_not_a_feed_is_recorded(site, crawl):
    result = crawl(feed_source(site, "/news/a/nodate.html", key="not-a-feed"))
    assert result.items == 0
    assert [e["url"] for e in result.errors] == [site.url("/news/a/nodate.html")]


def test_feed_entries_can_take_their_text_from_the_article_page(site, crawl):
    config = feed_source(site, "/rss.xml", key="jn-rss-full")
    config["options"] = {"fetch_article": True, "article": {"body": "div.content"}}
    result = crawl(config)
    assert result.new == 5 and result.pages == 1 + 5
    assert site.hits["/news/a/100.html"] == 1
    first = {i["external_id"]: i for i in crawl.items("jn-rss-full")}["rss-100"]
    assert first["text"].split("\n") == site.state.articles[0].body
    assert first["title"].startswith("秣陵街道") and first["external_id"] == "rss-100"
