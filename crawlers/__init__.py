"""Collection: Scrapy spiders (one per strategy), importers, source health."""

from crawlers.items import PostItem

__all__ = ["PostItem"]
