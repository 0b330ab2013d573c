"""The shared crawl queue against the real Redis at 127.0.0.1:6379 (a unique key prefix per
test, removed afterwards): acknowledged pops, dead workers' requests coming back, seeding
rounds, lengths per source."""

from __future__ import annotations

import dataclasses
import urllib.request
from collections.abc import Iterator

import pytest
import redis
from scrapy import Request
from scrapy.http import HtmlResponse

from crawlers.distributed import (
    AckTracker,
    Heartbeat,
    QueueKeys,
    ReliableQueue,
    connect,
    requeue_dead,
    worker_key,
)
from crawlers.items import PostItem
from crawlers.runtime import CrawlHooks, CrawlResult
from crawlers.sources import SourceSpec
from crawlers.spiders import spider_for
from crawlers.worker import queue_lengths, seed, worker_settings
from tests.crawlers.fixture_site import FixtureSite, site_sources
from tests.redis_queue import REDIS_URL


@pytest.fixture
def server() -> Iterator[redis.Redis]:
    client = connect(REDIS_URL)
    yield client
    client.close()


@pytest.fixture
def news() -> Iterator[SourceSpec]:
    with FixtureSite() as site:
        yield SourceSpec.from_config(site_sources(site)[0])


def make_queue(server: redis.Redis, spec: SourceSpec, prefix: str, worker: str) -> ReliableQueue:
    spider = spider_for(spec.kind)(spec=spec, hooks=CrawlHooks(sink=lambda items: None),
                                   result=CrawlResult(source=spec.key))
    return ReliableQueue(server, spider, QueueKeys(prefix, spec.key), worker)


def test_a_pop_keeps_the_request_until_it_is_acknowledged(server, prefix, news):
    queue = make_queue(server, news, prefix, "w1")
    queue.push(Request(news.start_urls[0], callback=queue.spider.parse_list))
    assert len(queue) == 1 and queue.in_flight() == 0

    request = queue.pop()
    assert request is not None and request.url == news.start_urls[0]
    assert request.callback == queue.spider.parse_list  # the callback survives the trip
    assert len(queue) == 0 and queue.in_flight() == 1
    assert queue.own_tokens() == [request.meta["yuqing_queue_token"]]
    assert queue.pop() is None

    queue.ack(request.meta["yuqing_queue_token"])
    assert queue_lengths(REDIS_URL, prefix, [news.key])[news.key].to_dict() == {
        "pending": 0, "in_flight": 0}


def test_requests_of_a_worker_without_heartbeat_go_back_and_a_live_ones_stay(server, prefix,
                                                                              news):
    alive = make_queue(server, news, prefix, "alive")
    dead = make_queue(server, news, prefix, "dead")
    for n in range(3):
        alive.push(Request(f"{news.start_urls[0]}?n={n}", callback=alive.spider.parse_list))
    beat = Heartbeat(REDIS_URL, prefix, "alive", ttl=30).start()
    try:
        mine = alive.pop()
        lost = [dead.pop(), dead.pop()]  # "dead" never had a heartbeat: killed before one beat
        assert alive.in_flight() == 3 and len(alive) == 0

        moved = requeue_dead(server, alive.keys, prefix)
        assert moved == 2
        assert len(alive) == 2 and alive.in_flight() == 1
        assert alive.own_tokens() == [mine.meta["yuqing_queue_token"]]
        again = {alive.pop().url, alive.pop().url}
        assert again == {r.url for r in lost}  # the same requests, nothing lost
        assert requeue_dead(server, alive.keys, prefix) == 0  # live worker's entries stay
    finally:
        beat.stop()
    assert not server.exists(worker_key(prefix, "alive"))  # a clean stop says goodbye


def test_a_worker_whose_beat_came_late_keeps_its_own_pages_and_says_so(server, prefix, news,
                                                                        caplog):
    queue = make_queue(server, news, prefix, "slow")
    queue.push(Request(news.start_urls[0], callback=queue.spider.parse_list))
    beat = Heartbeat(REDIS_URL, prefix, "slow", ttl=30)
    beat.server.set(beat.key, "1", ex=30)
    try:
        assert beat.beat() and beat.lapses == 0  # renewed in time
        mine = queue.pop()
        server.delete(beat.key)  # the beat came after the TTL: the key is gone
        # the worker itself is running: it never hands its own pages back as a dead worker's
        assert queue.requeue_dead(prefix) == 0
        assert queue.own_tokens() == [mine.meta["yuqing_queue_token"]]
        with caplog.at_level("WARNING", logger="crawlers.distributed"):
            assert not beat.beat()
        assert beat.lapses == 1 and server.exists(beat.key)  # alive again
        assert "心跳曾中断超过 30 秒" in caplog.text
        # any other worker would have taken them back: that is what the warning is about
        assert requeue_dead(server, queue.keys, prefix, alive="other") == 0  # key is back
        server.delete(beat.key)
        assert requeue_dead(server, queue.keys, prefix, alive="other") == 1
    finally:
        beat.stop()


def test_a_worker_takes_from_the_shared_queue_only_what_it_can_download_now(news):
    settings = worker_settings(news, REDIS_URL, "p", "w1")
    # one site, its politeness concurrency: not Scrapy's 16 requests held while 2 download
    assert settings["CONCURRENT_REQUESTS"] == settings["CONCURRENT_REQUESTS_PER_DOMAIN"] < 16
    two_sites = dataclasses.replace(news, start_urls=(
        news.start_urls[0], news.start_urls[0].replace("127.0.0.1", "localhost")))
    assert worker_settings(two_sites, REDIS_URL, "p", "w1")["CONCURRENT_REQUESTS"] == (
        2 * settings["CONCURRENT_REQUESTS_PER_DOMAIN"])


def test_a_request_is_acknowledged_only_once_its_items_are_stored(server, prefix, news):
    queue = make_queue(server, news, prefix, "w1")
    queue.push(Request(news.start_urls[0], callback=queue.spider.parse_detail))
    request = queue.pop()
    token = request.meta["yuqing_queue_token"]
    tracker = AckTracker(queue)
    item = PostItem(source=news.key, text="正文")
    child = Request(news.start_urls[0] + "?p=2", callback=queue.spider.parse_list)
    tracker.produced(token, item)
    tracker.produced(token, child)
    tracker.callback_done(token)
    assert queue.in_flight() == 1  # its item waits in a batch, its link is not queued yet
    tracker.settle(child.meta.pop("yuqing_queue_parent"))
    assert queue.in_flight() == 1
    tracker.settle_item(item)
    assert queue.in_flight() == 0


def test_a_retried_request_replaces_its_processing_entry(server, prefix, news):
    queue = make_queue(server, news, prefix, "w1")
    queue.push(Request(news.start_urls[0], callback=queue.spider.parse_list))
    request = queue.pop()
    old = request.meta["yuqing_queue_token"]
    retry = request.replace(dont_filter=True)  # what RetryMiddleware schedules: meta copied
    tracker = AckTracker(queue)
    tracker.superseded(retry.meta.pop("yuqing_queue_token"))
    queue.push(retry)
    assert queue.in_flight() == 0 and len(queue) == 1
    popped = queue.pop()
    assert popped.meta["yuqing_queue_token"] != old and queue.in_flight() == 1


def test_a_round_is_seeded_once_until_it_is_drained(server, prefix, news):
    hooks = CrawlHooks(sink=lambda items: None)
    first = seed(REDIS_URL, news, hooks, prefix)
    assert first.pushed == 1 and not first.busy
    assert queue_lengths(REDIS_URL, prefix)[news.key].pending == 1  # listed without naming it

    busy = seed(REDIS_URL, news, hooks, prefix)
    assert busy.busy and busy.pushed == 0 and busy.pending == 1

    queue = make_queue(server, news, prefix, "w1")
    request = queue.pop()
    queue.ack(request.meta["yuqing_queue_token"])
    # a new round forgets the fingerprints: the list page is fetched again
    again = seed(REDIS_URL, news, hooks, prefix)
    assert again.pushed == 1 and not again.busy


def test_an_import_source_cannot_go_to_the_queue(prefix, tmp_path):
    spec = SourceSpec.from_config({"key": "inbox", "name": "导入", "kind": "import",
                                   "path": str(tmp_path)})
    with pytest.raises(ValueError, match="不是网页抓取类"):
        seed(REDIS_URL, spec, CrawlHooks(sink=lambda items: None), prefix)


def test_the_list_page_budget_belongs_to_the_round_not_to_each_worker(server, prefix, news):
    spec = SourceSpec.from_config({**news.to_dict(), "max_pages": 3})
    assert seed(REDIS_URL, spec, CrawlHooks(sink=lambda items: None), prefix).pushed == 1
    workers = [AckTracker(make_queue(server, spec, prefix, w)) for w in ("w1", "w2")]
    spiders = []
    for tracker in workers:
        spider = spider_for(spec.kind)(spec=spec, hooks=CrawlHooks(sink=lambda items: None),
                                       result=CrawlResult(source=spec.key))
        spider.queue_acks = tracker
        spiders.append(spider)
    # the start page was the first of three; two more between both workers, then none
    taken = [spiders[0].list_request(f"{spec.start_urls[0]}?p={n}", spiders[0].parse_list)
             for n in (2, 3)] + [spiders[1].list_request(spec.start_urls[0] + "?p=4",
                                                         spiders[1].parse_list)]
    assert [r is not None for r in taken] == [True, True, False]


def test_a_new_request_and_its_fingerprint_go_in_together_and_a_seen_one_stays_out(
        server, prefix, news):
    # one step on the server: no worker killed in between can leave a fingerprint without its
    # request (the parent fetched again would then find its child "seen" and drop it for good)
    queue = make_queue(server, news, prefix, "w1")
    request = Request(news.start_urls[0] + "?p=2", callback=queue.spider.parse_list, priority=3)
    fingerprint = "f" * 40
    assert queue.push_new(request, fingerprint)
    assert server.smembers(queue.keys.dupefilter) == {fingerprint.encode()}
    assert server.zrange(queue.keys.requests, 0, -1, withscores=True)[0][1] == -3  # priority
    assert not queue.push_new(request.replace(), fingerprint)  # seen this round: not again
    assert len(queue) == 1
    popped = queue.pop()
    assert popped is not None and popped.url == request.url
    assert popped.callback == queue.spider.parse_list


def test_a_list_page_fetched_again_after_its_worker_died_loses_no_next_page():
    # The worker pushed some of the page's links and died; another worker stored those
    # articles and fetched the page again: the stored articles stop paging then, so the next
    # page must have gone out before any article of the page.
    with FixtureSite() as site:
        site.state.bench_articles = 48
        spec = SourceSpec.from_config({
            "key": "bench", "name": "压测新闻", "kind": "html", "schedule": "1h",
            "start_urls": [site.url("/bench/list_1.html")],
            "options": {"id_pattern": r"/bench/a/(\d+)\.html",
                        "list": {"links": "a.art::attr(href)", "next": "a.next::attr(href)"},
                        "article": {"title": "h1.title", "body": "div.content"}}})
        url = spec.start_urls[0]
        with urllib.request.urlopen(url, timeout=10) as answer:
            body = answer.read()
    stored: set[str] = set()

    def parse() -> list[Request]:
        spider = spider_for(spec.kind)(
            spec=spec, result=CrawlResult(source=spec.key),
            hooks=CrawlHooks(sink=lambda items: None,
                             known=lambda source, ids, urls: stored & set(ids)))
        response = HtmlResponse(url, body=body, encoding="utf-8", request=Request(url))
        return list(spider.parse_list(response))

    first = parse()
    assert len(first) == 21  # 20 articles and the next list page
    pushed = first[:3]  # then the worker was killed
    stored |= {r.url.rsplit("/", 1)[1].split(".")[0] for r in pushed if "/bench/a/" in r.url}
    assert stored  # some of its articles were stored meanwhile
    again = parse()
    assert {r.url for r in pushed} | {r.url for r in again} == {r.url for r in first}
