import pytest

from crawlers.sources import SourceError, SourceSpec
from crawlers.spiders.feed import parse_feed
from crawlers.spiders.json_api import dig, to_int, with_param


def test_a_source_round_trips_through_plain_data():
    spec = SourceSpec.from_config({
        "key": "jn", "kind": "html", "start_urls": ["http://127.0.0.1/"],
        "options": {"list": {"links": "a"}, "max_pages": 3,
                    "politeness": {"obey_robots": False, "concurrency": 2}}})
    assert spec.max_pages == 3 and spec.politeness.concurrency == 2
    assert not spec.politeness.obey_robots and spec.post_kind == "news"
    assert SourceSpec.from_config(spec.to_dict()) == spec


@pytest.mark.parametrize(("config", "where"), [
    ({"key": "a", "kind": "rss", "start_urls": ["http://x/"]}, "信息源 a.kind"),
    ({"key": "a", "kind": "html", "start_urls": ["http://x/"]}, "options.list.links"),
    ({"key": "a", "kind": "feed"}, "start_urls"),
    ({"key": "a", "kind": "feed", "start_urls": ["http://x/"], "options": {"selectors": 1}},
     "不认识的选项 selectors"),
    ({"key": "a", "kind": "feed", "start_urls": ["http://x/"],
      "options": {"politeness": {"delay": 1}}}, "politeness: 不认识的选项 delay"),
    ({"key": "a", "kind": "json_api", "start_urls": ["http://x/"], "options": {"items": "d"}},
     "fields.text"),
    ({"key": "a", "kind": "json_api", "start_urls": ["http://x/"],
      "options": {"items": "d", "fields": {"text": "t"}, "paging": {"type": "offset"}}},
     "paging.type"),
    ({"key": "a", "kind": "board", "start_urls": ["http://x/"], "options": {"list": {"links": "a"}}},
     "message.body"),
    ({"key": "a", "kind": "import"}, "path"),
])
def test_wrong_source_options_are_refused_with_their_key_path(config, where):
    with pytest.raises(SourceError, match=where.replace(".", r"\.")):
        SourceSpec.from_config(config)


def test_dotted_paths_reach_into_objects_and_lists():
    data = {"data": {"list": [{"user": {"name": "甲"}}, {"user": None}]}}
    assert dig(data, "data.list.0.user.name") == "甲"
    assert dig(data, "data.list.1.user.name") is None
    assert dig(data, "data.list.5") is None and dig(data, "data.x.y") is None


@pytest.mark.parametrize(("raw", "expected"), [
    (12, 12), ("12", 12), ("1.2万", 12000), ("10万+", 100000), ("1,234", 1234), (None, 0),
    ("很多", 0), (-3, 0), (True, 0)])
def test_counts_are_read_as_sites_print_them(raw, expected):
    assert to_int(raw) == expected


def test_paging_parameters_replace_the_old_value():
    assert with_param("http://x/api?q=江宁&page=1", "page", 2) == \
        "http://x/api?q=%E6%B1%9F%E5%AE%81&page=2"


def test_feeds_never_expand_entities_or_fetch_external_files():
    evil = b"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">
    <!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
    <rss><channel><item><title>&x;&b;</title><link>http://x/1</link>
    <description>ok</description></item></channel></rss>"""
    entries = parse_feed(evil)
    assert len(entries) == 1
    assert "root:" not in entries[0]["title"] and "aaaaaaaaaa" not in entries[0]["title"]


def test_broken_feed_xml_is_recovered_or_empty():
    assert parse_feed(b"<rss><channel><item><title>A</title><link>http://x/a</link>") [0]["title"] == "A"
    assert parse_feed(b"not xml at all") == []
