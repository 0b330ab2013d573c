from datetime import UTC, datetime, timedelta

import pytest

from crawlers.dates import SHANGHAI, parse_datetime

NOW = datetime(2026, 11, 22, 15, 0, 0, tzinfo=SHANGHAI)


@pytest.mark.parametrize(("text", "expected"), [
    ("刚刚", NOW),
    ("3分钟前", NOW - timedelta(minutes=3)),
    ("30秒前", NOW - timedelta(seconds=30)),
    ("半小时前", NOW - timedelta(minutes=30)),
    ("2小时前", NOW - timedelta(hours=2)),
    ("1个小时前", NOW - timedelta(hours=1)),
    ("三天前", NOW - timedelta(days=3)),
    ("十五分钟前", NOW - timedelta(minutes=15)),
    ("今天 08:30", datetime(2026, 11, 22, 8, 30, tzinfo=SHANGHAI)),
    ("昨天 12:30", datetime(2026, 11, 21, 12, 30, tzinfo=SHANGHAI)),
    ("前天 23:59", datetime(2026, 11, 20, 23, 59, tzinfo=SHANGHAI)),
    ("昨天 下午3:05", datetime(2026, 11, 21, 15, 5, tzinfo=SHANGHAI)),
    ("05-21 10:00", datetime(2026, 5, 21, 10, 0, tzinfo=SHANGHAI)),
    ("5月21日 10:00", datetime(2026, 5, 21, 10, 0, tzinfo=SHANGHAI)),
    ("2019年5月21日", datetime(2019, 5, 21, tzinfo=SHANGHAI)),
    ("2019年05月21日 10时30分", datetime(2019, 5, 21, 10, 30, tzinfo=SHANGHAI)),
    ("发布时间：2019-05-21 10:00:05 来源：新华网", datetime(2019, 5, 21, 10, 0, 5, tzinfo=SHANGHAI)),
    ("2019/5/21", datetime(2019, 5, 21, tzinfo=SHANGHAI)),
    ("２０１９年５月２１日", datetime(2019, 5, 21, tzinfo=SHANGHAI)),
    ("08:30", datetime(2026, 11, 22, 8, 30, tzinfo=SHANGHAI)),
])
def test_it_parses_chinese_dates_against_crawl_time(text, expected):
    assert parse_datetime(text, now=NOW) == expected


def test_it_converts_offsets_into_shanghai_time():
    got = parse_datetime("2019-05-21T10:00:00+08:00", now=NOW)
    assert got == datetime(2019, 5, 21, 10, tzinfo=SHANGHAI)
    utc = parse_datetime("2019-05-21T02:00:00Z", now=NOW)
    assert utc == got and utc.utcoffset() == timedelta(hours=8)


def test_it_reads_rss_weibo_and_epoch_forms():
    expected = datetime(2019, 5, 21, 10, tzinfo=SHANGHAI)
    assert parse_datetime("Tue, 21 May 2019 02:00:00 GMT", now=NOW) == expected
    assert parse_datetime("Tue May 21 10:00:00 +0800 2019", now=NOW) == expected
    stamp = int(expected.timestamp())
    assert parse_datetime(stamp, now=NOW) == expected
    assert parse_datetime(str(stamp * 1000), now=NOW) == expected


def test_a_month_day_in_the_future_belongs_to_last_year():
    new_year = datetime(2027, 1, 1, 9, 0, tzinfo=SHANGHAI)
    assert parse_datetime("12-31 23:00", now=new_year) == datetime(2026, 12, 31, 23, 0, tzinfo=SHANGHAI)


def test_relative_dates_follow_the_crawl_time_zone_not_the_machine():
    utc_now = datetime(2026, 11, 21, 17, 0, tzinfo=UTC)  # 01:00 on the 22nd in Shanghai
    assert parse_datetime("今天 08:30", now=utc_now) == datetime(2026, 11, 22, 8, 30, tzinfo=SHANGHAI)


@pytest.mark.parametrize("text", [None, "", "   ", "没有日期的页面", "阅读 1234", "2019年13月45日",
                                  "99:99", True, "x" * 500])
def test_text_without_a_date_gives_none(text):
    assert parse_datetime(text, now=NOW) is None


@pytest.mark.parametrize("text", [
    "100000000天前", "9999999999周前", "9999999999999小时前",
    "0001-01-01 00:00", "9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00",
    10**20, 1e300, float("inf"),
])
def test_dates_beyond_the_calendar_are_none_and_told(text):
    problems: list[str] = []
    assert parse_datetime(text, now=NOW, problems=problems) is None
    assert len(problems) == 1 and "时间超出可表示的范围" in problems[0]


def test_the_calendar_edges_that_exist_still_parse():
    assert parse_datetime("9999-12-31T23:59:59+08:00", now=NOW) == datetime(
        9999, 12, 31, 23, 59, 59, tzinfo=SHANGHAI)
    assert parse_datetime("0001-01-02 00:00", now=NOW) == datetime(1, 1, 2, tzinfo=SHANGHAI)
