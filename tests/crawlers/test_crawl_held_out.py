"""Collection defects found on a held-out site: Atom xhtml, tracking parameters, canonical
links, Weibo card groups and the offsite filter (real crawls of the fixture site)."""

from __future__ import annotations

import pytest

from tests.crawlers.fixture_held_out import LONG_PARAGRAPH, PARAGRAPHS

pytestmark = pytest.mark.slow  # real crawls in child processes


def held_list(site, key="held-news", **options):
    return {"key": key, "name": "留存站点", "kind": "html",
            "start_urls": [site.url("/held/list.html")],
            "options": {"list": {"links": "a.art::attr(href)"},
                        "article": {"title": "h1.title", "body": "div.content",
                                    "time": ".time"}, **options}}


def test_atom_xhtml_content_keeps_its_paragraphs(site, crawl):
    result = crawl({"key": "held-atom", "name": "Atom", "kind": "feed",
                    "start_urls": [site.url("/held/atom_xhtml.xml")]})
    assert (result.new, result.errors) == (1, [])
    (item,) = crawl.items("held-atom")
    assert item["text"].split("\n") == PARAGRAPHS


def test_tracking_parameters_are_dropped_and_canonical_links_honoured(site, crawl):
    result = crawl(held_list(site))
    urls = sorted(i["url"] for i in crawl.items("held-news"))
    assert urls == [site.url("/held/a/1.html"), site.url("/held/a/2.html"),
                    site.url("/held/a/long.html")], result.errors
    print_view = next(i for i in crawl.items("held-news") if i["url"].endswith("/2.html"))
    assert print_view["text"] == LONG_PARAGRAPH


def test_links_to_other_hosts_are_not_followed_unless_the_source_allows(site, crawl):
    crawl(held_list(site))
    assert "/held/a/offsite.html" not in site.hits
    crawl(held_list(site, key="held-wide", allowed_domains=["localhost"]))
    assert site.hits["/held/a/offsite.html"] == 1
    crawl(held_list(site, key="held-any", follow_offsite=True))
    assert site.hits["/held/a/offsite.html"] == 2
    titles = {i["title"] for i in crawl.items("held-any")}
    assert "别的网站的文章" in titles


def test_weibo_card_groups_are_walked_into_not_rejected(site, crawl):
    result = crawl({"key": "weibo-cards", "name": "微博卡片", "kind": "json_api",
                    "start_urls": [site.url("/held/weibo_cards")],
                    "options": {"items": "data.cards",
                                "fields": {"id": "mblog.mid", "text": "mblog.text",
                                           "time": "mblog.created_at",
                                           "url_template": site.url("/weibo/{id}")}}})
    assert (result.new, result.rejected, result.errors) == (4, 0, [])
    assert sorted(i["external_id"] for i in crawl.items("weibo-cards")) == [
        "7001", "7002", "7003", "7004"]
