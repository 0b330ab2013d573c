"""One spider per strategy; sites are data (config/sources.yaml)."""

from __future__ import annotations

from typing import Any

SPIDER_PATHS = {
    "feed": "crawlers.spiders.feed.FeedSpider",
    "html": "crawlers.spiders.html.HtmlSpider",
    "json_api": "crawlers.spiders.json_api.JsonApiSpider",
    "board": "crawlers.spiders.board.BoardSpider",
}


def spider_for(kind: str) -> Any:
    """The spider class for a source kind, imported on first use."""
    from importlib import import_module

    module, _, name = SPIDER_PATHS[kind].rpartition(".")
    return getattr(import_module(module), name)
