"""The demo web serves realistic 江宁区 posts on 127.0.0.1 in the shapes the spiders read."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from xml.etree import ElementTree

import pytest

from yuqing.demo_site import DemoSite, demo_sources


@pytest.fixture
def site() -> Iterator[DemoSite]:
    demo = DemoSite().start()
    yield demo
    demo.stop()


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.status, r.read().decode("utf-8")


def test_each_channel_serves_its_posts(site: DemoSite) -> None:
    _, rss = _get(site.url + "/news/rss.xml")
    items = ElementTree.fromstring(rss).findall("./channel/item")
    assert items and "江宁" in "".join(i.findtext("description") or "" for i in items)
    link = items[0].findtext("link") or ""
    assert link.startswith(site.url) and _get(link)[0] == 200
    _, body = _get(site.url + "/weibo/api/statuses?page=1")
    statuses = json.loads(body)["data"]["list"]
    assert statuses and all(s["user"]["screen_name"] and s["created_at"] for s in statuses)
    _, board = _get(site.url + "/board/list")
    assert 'href="/board/msg/' in board
    with pytest.raises(urllib.error.HTTPError) as missing:
        _get(site.url + "/board/msg/99999")
    assert missing.value.code == 404


def test_new_posts_keep_appearing(site: DemoSite) -> None:
    before = len(json.loads(_get(site.url + "/weibo/api/statuses")[1])["data"]["list"])
    channels = [site.world.release_next().channel for _ in range(25)]
    assert set(channels) == {"news", "weibo", "board"}
    assert any("跟进" in p.text for p in site.world.posts)  # stories continue after the list
    after = json.loads(_get(site.url + "/weibo/api/statuses")[1])["data"]
    assert len(after["list"]) > before and after["has_more"]


def test_the_demo_sources_point_at_the_site(site: DemoSite) -> None:
    sources = demo_sources(site.url)
    assert {s["kind"] for s in sources} == {"feed", "json_api", "board"}
    for s in sources:
        assert all(u.startswith(site.url) for u in s["start_urls"])
        assert _get(s["start_urls"][0])[0] == 200
