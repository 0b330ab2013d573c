"""Search index: one interface, backends chosen by the URL's scheme."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from store.search.analyzer import WordTokenizer, default_words, parse_query
from store.search.base import CountField, IndexDoc, SearchIndex, SearchQuery, SearchResult


class UnknownSearchBackend(ValueError):
    pass


def open_index(url: str, words: WordTokenizer = default_words,
               timezone: str = "Asia/Shanghai") -> SearchIndex:
    """``fts5:///abs/path.db`` or ``elasticsearch+http(s)://host:9200/?prefix=yuqing``."""
    parts = urlsplit(url)
    if parts.scheme == "fts5":
        from store.search.fts5 import FTS5Index

        return FTS5Index(parts.path, words=words, timezone=timezone)
    if parts.scheme in ("elasticsearch+http", "elasticsearch+https"):
        from store.search.elasticsearch import ElasticsearchIndex

        prefix = parse_qs(parts.query).get("prefix", ["yuqing"])[0]
        http = parts.scheme.split("+", 1)[1]
        return ElasticsearchIndex(f"{http}://{parts.netloc}", prefix=prefix, words=words,
                                  timezone=timezone)
    raise UnknownSearchBackend(f"不支持的检索后端地址 {url!r}（应为 fts5:// 或 elasticsearch+http://）")


__all__ = ["CountField", "IndexDoc", "SearchIndex", "SearchQuery", "SearchResult",
           "UnknownSearchBackend", "open_index", "parse_query"]
