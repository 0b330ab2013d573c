from datetime import datetime

import pytest

from crawlers.dates import SHANGHAI

pytestmark = pytest.mark.slow  # real crawls in child processes

BOARD = {
    "key": "jn-board", "name": "江宁区领导留言板", "kind": "board", "authority": "local",
    "default_place": "320115",
    "options": {
        "list": {"links": "li a.msg::attr(href)", "next": "a.next::attr(href)"},
        "message": {"title": "h2.subject", "body": ".msg-body", "time": ".msg-time",
                    "place": ".msg-place"},
        "reply": {"text": ".reply-body", "time": ".reply-time", "unit": ".reply-unit"},
        "id_pattern": r"/msg/(\d+)\.html",
    },
}


def board(site):
    return {**BOARD, "start_urls": [site.url("/board/list?page=1")]}


def test_messages_and_existing_replies_are_collected(site, crawl):
    result = crawl(board(site))
    assert result.errors == [] and result.new == 6
    items = {i["external_id"]: i for i in crawl.items("jn-board")}
    open_msg = items["900"]
    assert open_msg["title"] == "关于秣陵街道噪音扰民的投诉 0"
    assert open_msg["place"] == "南京市江宁区秣陵街道"
    assert open_msg["source_kind"] == "board" and open_msg["extra"]["status"] == "open"
    assert datetime.fromisoformat(open_msg["published_at"]) == datetime(2026, 11, 20, 9, 0, tzinfo=SHANGHAI)
    assert open_msg["reply_text"] == "" and open_msg["reply_at"] is None
    answered = items["897"]
    assert answered["reply_text"] == "已责成施工单位停止夜间施工。"
    assert answered["reply_unit"] == "江宁区住房和城乡建设局"
    assert datetime.fromisoformat(answered["reply_at"]) == datetime(2026, 11, 18, 16, 0, tzinfo=SHANGHAI)


def test_a_reply_posted_later_is_picked_up_by_revisiting_open_messages(site, crawl):
    crawl(board(site))
    site.answer(895, "经核查，已协调施工方调整作业时间。", "2026-11-22 10:30", "禄口街道办事处")
    again = crawl(board(site))
    assert again.updated == 1 and again.new == 0
    msg = {i["external_id"]: i for i in crawl.items("jn-board")}["895"]
    assert msg["reply_text"] == "经核查，已协调施工方调整作业时间。"
    assert msg["reply_unit"] == "禄口街道办事处" and msg["extra"]["status"] == "answered"
    assert datetime.fromisoformat(msg["reply_at"]) == datetime(2026, 11, 22, 10, 30, tzinfo=SHANGHAI)
    assert site.hits["/board/msg/897.html"] == 1  # answered messages are not fetched again


def test_a_second_board_crawl_without_changes_stores_nothing_new(site, crawl):
    crawl(board(site))
    again = crawl(board(site))
    assert (again.new, again.updated) == (0, 0)
    assert len(crawl.items("jn-board")) == 6


def test_a_failing_revisit_query_is_recorded_and_the_list_still_crawled(site, crawl):
    from crawlers.runner import crawl_in_child
    from crawlers.sources import SourceSpec
    from tests.crawlers.conftest import FAST
    from tests.crawlers.memstore import store_down_for_revisits

    spec = SourceSpec.from_config({**board(site), "options": {**BOARD["options"], "politeness": FAST}})
    result = crawl_in_child(spec, store_down_for_revisits, (str(crawl.store.path),), timeout=120)
    assert result.new == 6
    assert result.errors == [{"url": "", "reason": "读取待回复留言失败：RuntimeError: database is locked"}]
