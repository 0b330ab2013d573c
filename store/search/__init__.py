"""Search index: one interface, backends chosen by the URL's scheme."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from store.search.analyzer import WordTokenizer, default_words
from store.search.base import CountField, IndexDoc, SearchIndex, SearchQuery, SearchResult
from store.search.query import (
    Normalizer,
    ParsedQuery,
    QuerySyntaxError,
    fold,
    parse,
    plain_snippet,
    snippet,
    snippet_parts,
)


class UnknownSearchBackend(ValueError):
    pass


def open_index(url: str, words: WordTokenizer = default_words,
               timezone: str = "Asia/Shanghai", normalize: Normalizer | None = None
               ) -> SearchIndex:
    """``fts5:///abs/path.db`` or ``elasticsearch+http(s)://host:9200/?prefix=yuqing``.

    ``normalize`` is applied to query terms as it was to the indexed text (繁→简 etc.)."""
    parts = urlsplit(url)
    if parts.scheme == "fts5":
        from store.search.fts5 import FTS5Index

        return FTS5Index(parts.path, words=words, timezone=timezone, normalize=normalize)
    if parts.scheme in ("elasticsearch+http", "elasticsearch+https"):
        from store.search.elasticsearch import ElasticsearchIndex

        prefix = parse_qs(parts.query).get("prefix", ["yuqing"])[0]
        http = parts.scheme.split("+", 1)[1]
        return ElasticsearchIndex(f"{http}://{parts.netloc}", prefix=prefix, words=words,
                                  timezone=timezone, normalize=normalize)
    raise UnknownSearchBackend(f"不支持的检索后端地址 {url!r}（应为 fts5:// 或 elasticsearch+http://）")


__all__ = ["CountField", "IndexDoc", "Normalizer", "ParsedQuery", "QuerySyntaxError",
           "SearchIndex", "SearchQuery", "SearchResult", "UnknownSearchBackend", "fold",
           "open_index", "parse", "plain_snippet", "snippet", "snippet_parts"]
