from datetime import datetime, timedelta

import pytest

from crawlers.dates import SHANGHAI
from tests.crawlers.conftest import CRAWL_TIME

pytestmark = pytest.mark.slow  # real crawls in child processes

WEIBO_FIELDS = {"id": "mid", "text": "text", "author": "user.screen_name",
                "followers": "user.followers_count", "time": "created_at",
                "reposts": "reposts_count", "comments": "comments_count",
                "likes": "attitudes_count", "place": "region",
                "url_template": "https://weibo.example/detail/{id}"}


def weibo(site, **paging):
    return {"key": "weibo-jn", "name": "微博搜索 江宁", "kind": "json_api", "authority": "user",
            "start_urls": [site.url("/api/weibo")],
            "options": {"items": "data.statuses", "fields": WEIBO_FIELDS,
                        "paging": {"type": "cursor", "param": "cursor",
                                   "cursor_path": "data.next_cursor", **paging}}}


def test_cursor_paging_collects_every_post_with_mapped_fields(site, crawl):
    result = crawl(weibo(site))
    assert result.errors == [] and result.pages == 3  # 10 posts, 4 per page
    assert result.new == 10
    items = {i["external_id"]: i for i in crawl.items("weibo-jn")}
    first = items["5000"]
    assert first["text"] == "江宁秣陵街道这边又停水了 #0"
    assert first["author"] == "网友0" and first["author_followers"] == 12000  # "1.2万"
    assert first["url"] == "https://weibo.example/detail/5000"
    assert first["place"] == "江苏 南京" and first["source_kind"] == "social"
    assert datetime.fromisoformat(first["published_at"]) == datetime(2019, 5, 21, 10, tzinfo=SHANGHAI)
    second = items["4999"]
    assert (second["reposts"], second["comments"], second["likes"]) == (1, 2, 3)
    assert datetime.fromisoformat(second["published_at"]) == CRAWL_TIME - timedelta(minutes=2)


def test_a_second_api_crawl_stops_on_the_first_page_it_already_holds(site, crawl):
    crawl(weibo(site))
    site.state.posts.insert(0, {"mid": "5001", "text": "新帖：江宁又停电了", "created_at": "刚刚",
                                "user": {"screen_name": "新网友", "followers_count": 1}})
    again = crawl(weibo(site))
    assert (again.new, again.duplicate, again.pages) == (1, 0, 1)
    assert again.stopped_early
    assert len(crawl.items("weibo-jn")) == 11


def test_page_budget_caps_paging(site, crawl):
    config = weibo(site)
    config["options"]["max_pages"] = 2
    result = crawl(config)
    assert result.pages == 2 and result.new == 8


def test_a_bad_json_page_is_recorded(site, crawl):
    config = weibo(site)
    config["start_urls"] = [site.url("/news/a/nodate.html")]
    result = crawl(config)
    assert result.items == 0
    assert result.errors[0]["url"] == site.url("/news/a/nodate.html")
    assert result.errors[0]["reason"].startswith("不是有效的 JSON")


def test_an_exception_while_parsing_a_page_is_recorded_and_the_run_goes_on(site, crawl):
    config = weibo(site)
    config["options"]["fields"] = {**WEIBO_FIELDS, "url_template": "https://weibo.example/{nope}"}
    config["start_urls"] = [site.url("/api/weibo"), site.url("/rss.xml")]
    result = crawl(config)
    reasons = {e["url"]: e["reason"] for e in result.errors}
    assert reasons[site.url("/api/weibo")].startswith("解析失败：KeyError")
    assert reasons[site.url("/rss.xml")].startswith("不是有效的 JSON")
    assert result.pages == 2


def board_api(site):
    return {"key": "jn-board-api", "name": "留言板接口", "kind": "json_api", "source_kind": "board",
            "start_urls": [site.url("/api/board/list")],
            "options": {
                "items": "result.rows",
                "fields": {"id": "tid", "title": "subject", "text": "subject",
                           "url_template": site.url("/board/msg/{id}.html")},
                "paging": {"type": "page", "param": "page", "start": 1},
                "detail": {"url": site.url("/api/board/detail?id={id}"), "root": "result",
                           "fields": {"title": "subject", "text": "content",
                                      "time": "createTime", "place": "area",
                                      "reply_text": "reply.content", "reply_time": "reply.replyTime",
                                      "reply_unit": "reply.unitName"}}}}


def test_board_list_and_detail_apis_with_page_numbers(site, crawl):
    result = crawl(board_api(site))
    assert result.new == 6 and result.errors == []
    assert site.hits["/api/board/list"] == 3  # pages 1, 2 and the empty page 3
    items = {i["external_id"]: i for i in crawl.items("jn-board-api")}
    msg = items["897"]
    assert msg["text"] == site.state.messages[3].body  # from the detail call, tags stripped
    assert msg["url"] == site.url("/board/msg/897.html") and msg["source_kind"] == "board"
    assert msg["place"] == "南京市江宁区禄口街道"
    assert msg["reply_unit"] == "江宁区住房和城乡建设局"
    assert datetime.fromisoformat(msg["reply_at"]) == datetime(2026, 11, 18, 16, tzinfo=SHANGHAI)
    assert datetime.fromisoformat(msg["published_at"]) == datetime(2026, 11, 17, 9, 3, tzinfo=SHANGHAI)
    assert items["900"]["reply_text"] == ""


def test_open_messages_behind_an_api_are_revisited_until_answered(site, crawl):
    config = board_api(site)
    config["options"]["detail"]["id_from_url"] = r"/msg/(\d+)\.html"
    crawl(config)
    site.answer(895, "已协调施工方调整作业时间。", "2026-11-22 10:30", "禄口街道办事处")
    again = crawl(config)
    assert again.updated == 1 and again.new == 0 and again.stopped_early
    assert site.hits["/api/board/list"] == 3 + 1  # the second run read one list page only
    msg = {i["external_id"]: i for i in crawl.items("jn-board-api")}["895"]
    assert (msg["reply_text"], msg["reply_unit"]) == ("已协调施工方调整作业时间。", "禄口街道办事处")
    assert msg["title"] == site.state.messages[5].subject
