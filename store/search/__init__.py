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
    """``fts5:///abs/path.db`` or ``elasticsearch+http(s)://[user:password@]host:9200/?prefix=
    yuqing`` (optional ``chunk_size``, ``max_retries`` of bulk writes, ``ca_certs`` path).

    ``normalize`` is applied to query terms as it was to the indexed text (繁→简 etc.)."""
    parts = urlsplit(url)
    if parts.scheme == "fts5":
        from store.search.fts5 import FTS5Index

        return FTS5Index(parts.path, words=words, timezone=timezone, normalize=normalize)
    if parts.scheme in ("elasticsearch+http", "elasticsearch+https"):
        from store.search.elasticsearch import BulkPolicy, ElasticsearchIndex

        opts = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        try:
            policy = BulkPolicy(chunk_size=int(opts.get("chunk_size", 500)),
                                max_retries=int(opts.get("max_retries", 6)))
        except ValueError as exc:
            raise UnknownSearchBackend(f"检索后端地址中的 chunk_size/max_retries 应为正整数：{url!r}"
                                       ) from exc
        extra = {"ca_certs": opts["ca_certs"]} if "ca_certs" in opts else {}
        http = parts.scheme.split("+", 1)[1]
        return ElasticsearchIndex(f"{http}://{parts.netloc}", prefix=opts.get("prefix", "yuqing"),
                                  words=words, timezone=timezone, normalize=normalize,
                                  policy=policy, **extra)
    raise UnknownSearchBackend(f"不支持的检索后端地址 {url!r}（应为 fts5:// 或 elasticsearch+http://）")


__all__ = ["CountField", "IndexDoc", "Normalizer", "ParsedQuery", "QuerySyntaxError",
           "SearchIndex", "SearchQuery", "SearchResult", "UnknownSearchBackend", "fold",
           "open_index", "parse", "plain_snippet", "snippet", "snippet_parts"]
