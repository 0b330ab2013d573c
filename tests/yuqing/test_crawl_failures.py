"""Through the real wiring: a failed crawl exits non-zero; a page cut to max_text_chars is
stored with ``posts.truncated`` set."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from store import Post, Source
from tests.crawlers.fixture_site import FixtureSite, site_sources
from yuqing.crawling import crawl_source
from yuqing.settings import load_settings

pytestmark = pytest.mark.slow  # real crawls in child processes

ROOT = Path(__file__).resolve().parents[2]
FAST = {"timeout": 1.0, "retries": 0, "autothrottle": False}


@pytest.fixture
def site() -> Iterator[FixtureSite]:
    with FixtureSite() as s:
        yield s


def test_a_page_cut_to_max_text_chars_is_stored_as_truncated(
        tmp_path: Path, database_url: str, site: FixtureSite) -> None:
    source = {"key": "held-news", "name": "留存站点", "kind": "html",
              "start_urls": [site.url("/held/plain_list.html")],
              "options": {"politeness": FAST, "max_text_chars": 1000,
                          "list": {"links": "a.art::attr(href)"},
                          "article": {"title": "h1.title", "body": "div.content"}}}
    settings = load_settings(tmp_path / "instance", environ={"YUQING_DATABASE_URL": database_url},
                             overrides={"sources": {"sources": [source]}})
    report = crawl_source(settings, "held-news")
    assert report.ok and report.new == 2, report.errors
    from yuqing.context import AppContext

    app = AppContext(settings=settings)
    try:
        with app.db.session() as s:
            rows = s.execute(select(Post.url, Post.truncated, Post.text).join(Source)
                             .where(Source.key == "held-news")).all()
    finally:
        app.close()
    flags = {url.rsplit("/", 1)[-1]: (truncated, len(text)) for url, truncated, text in rows}
    assert flags["long.html"] == (True, 1000)
    assert flags["1.html"][0] is False


def test_yuqing_crawl_exits_non_zero_when_the_crawl_failed(
        tmp_path: Path, database_url: str, site: FixtureSite) -> None:
    home = tmp_path / "instance"
    home.mkdir(exist_ok=True)
    (home / "sources.yaml").write_text(
        yaml.safe_dump({"sources": site_sources(site, None, FAST)}, allow_unicode=True),
        encoding="utf-8")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path),
           "YUQING_DATABASE_URL": database_url}

    def crawl(key: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "yuqing", "--home", str(home), "crawl", key],
                              capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)

    failed = crawl("broken-feed")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "抓取失败" in failed.stdout
    ok = crawl("jn-rss")
    assert ok.returncode == 0, ok.stdout + ok.stderr
