from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from crawlers.dates import SHANGHAI
from crawlers.runner import crawl_in_child
from crawlers.runtime import CrawlResult
from crawlers.sources import SourceSpec
from tests.crawlers.fixture_site import FixtureSite
from tests.crawlers.memstore import FileStore, file_hooks

CRAWL_TIME = datetime(2026, 11, 22, 15, 0, tzinfo=SHANGHAI)
FAST = {"timeout": 1.0, "retries": 0, "autothrottle": False, "max_page_bytes": 1024 * 1024}


@pytest.fixture
def site() -> Iterator[FixtureSite]:
    with FixtureSite() as s:
        yield s


class Crawl:
    """Runs real crawls in child processes against one file store."""

    def __init__(self, store_path: Path):
        self.store = FileStore(store_path)

    def __call__(self, config: dict[str, Any], now: datetime = CRAWL_TIME) -> CrawlResult:
        options = dict(config.get("options") or {})
        options["politeness"] = {**FAST, **options.get("politeness", {})}
        spec = SourceSpec.from_config({**config, "options": options})
        return crawl_in_child(spec, file_hooks, (str(self.store.path), now.isoformat()),
                              timeout=120)

    def items(self, source: str) -> list[dict[str, Any]]:
        return [r for r in self.store.latest().values() if r["source"] == source]


@pytest.fixture
def crawl(tmp_path: Path) -> Crawl:
    return Crawl(tmp_path / "items.jsonl")
