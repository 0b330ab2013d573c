import pytest

from crawlers.runner import crawl_in_child
from crawlers.sources import SourceSpec
from tests.crawlers.memstore import file_hooks, store_unreachable

pytestmark = pytest.mark.slow  # real child processes


def test_a_crawl_that_overruns_its_time_is_killed_and_recorded(site, tmp_path):
    spec = SourceSpec.from_config({"key": "slow", "kind": "feed",
                                   "start_urls": [site.url("/news/a/slow.html")],
                                   "options": {"politeness": {"timeout": 30, "retries": 0}}})
    result = crawl_in_child(spec, file_hooks, (str(tmp_path / "items.jsonl"),), timeout=1.5)
    assert not result.ok
    assert result.errors == [{"url": "", "reason": "抓取超时（超过 1.5 秒），已终止"}]


def test_a_child_that_cannot_start_reports_why(site, tmp_path):
    spec = SourceSpec.from_config({"key": "x", "kind": "feed", "start_urls": [site.url("/rss.xml")]})
    result = crawl_in_child(spec, store_unreachable, (str(tmp_path / "items.jsonl"),), timeout=60)
    assert not result.ok and result.pages == 0
    assert result.errors[0]["reason"].startswith("抓取进程出错：ConnectionError: 数据库无法连接")
