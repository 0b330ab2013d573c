"""Elasticsearch backend (official client) for when posts outgrow one SQLite file.

Tokens are computed here with the same analyzer as FTS5 and sent pre-split, indexed with a
whitespace analyzer, so both backends match exactly the same documents for the same query.
The request bodies are built by pure functions so their shape is tested without a server.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from store.search.analyzer import WordTokenizer, default_words, gram_tokens, parse_query
from store.search.base import CountField, IndexDoc, SearchQuery, SearchResult

MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "words": {"type": "text", "analyzer": "pre_split", "norms": True},
        "grams": {"type": "text", "analyzer": "pre_split"},
        "at": {"type": "date"},
        "source": {"type": "keyword"},
        "source_kind": {"type": "keyword"},
        "topic": {"type": "keyword"},
        "sentiment": {"type": "keyword"},
        "severity": {"type": "integer"},
        "places": {"type": "keyword"},  # the codes found, counted by dashboards
        "place_paths": {"type": "keyword"},  # the codes and their ancestors, for filtering
        "event_id": {"type": "long"},
    },
}
SETTINGS: dict[str, Any] = {
    "analysis": {"analyzer": {"pre_split": {"type": "custom", "tokenizer": "whitespace"}}},
}


def index_template(prefix: str) -> dict[str, Any]:
    return {"index_patterns": [f"{prefix}-posts*"],
            "template": {"settings": SETTINGS, "mappings": MAPPINGS}}


def document(doc: IndexDoc, words: WordTokenizer = default_words) -> dict[str, Any]:
    body = f"{doc.title}\n{doc.text}"
    return {
        "words": " ".join(words(body)), "grams": " ".join(gram_tokens(body)),
        "at": doc.at.astimezone(UTC).isoformat(), "source": doc.source,
        "source_kind": doc.source_kind, "topic": doc.topic, "sentiment": doc.sentiment,
        "severity": doc.severity, "places": sorted(set(doc.places)),
        "place_paths": _with_ancestors(doc.places),
        "event_id": doc.event_id,
    }


def _with_ancestors(codes: list[str]) -> list[str]:
    # A keyword term query cannot do "code starts with"; indexing each code's ancestors
    # (2, 4, 6, 9 digits) lets a place filter be one exact term, as fast as any other filter.
    out: set[str] = set()
    for code in codes:
        out.update(code[:n] for n in (2, 4, 6, 9, 12) if n <= len(code))
    return sorted(out)


def query_body(q: SearchQuery) -> dict[str, Any] | None:
    """The bool query for ``q``; None when the text can match nothing."""
    must: list[dict[str, Any]] = []
    if q.text and q.text.strip():
        terms = parse_query(q.text)
        if not terms:
            return None
        for term in terms:
            phrase = " ".join(term.grams)
            kind = "match_phrase_prefix" if term.prefix else "match_phrase"
            must.append({"bool": {"should": [{kind: {"grams": phrase}},
                                             {"match_phrase": {"words": term.text}}],
                                  "minimum_should_match": 1}})
    filters: list[dict[str, Any]] = []
    time_range: dict[str, str] = {}
    if q.since:
        time_range["gte"] = q.since.astimezone(UTC).isoformat()
    if q.until:
        time_range["lt"] = q.until.astimezone(UTC).isoformat()
    if time_range:
        filters.append({"range": {"at": time_range}})
    for field, values in (("source", q.sources), ("topic", q.topics),
                          ("severity", q.severities), ("sentiment", q.sentiments)):
        if values:
            filters.append({"terms": {field: list(values)}})
    if q.place:
        filters.append({"term": {"place_paths": q.place}})
    if q.event_id is not None:
        filters.append({"term": {"event_id": q.event_id}})
    return {"bool": {"must": must or [{"match_all": {}}], "filter": filters}}


def search_body(q: SearchQuery) -> dict[str, Any] | None:
    query = query_body(q)
    if query is None:
        return None
    if q.text and q.text.strip() and q.order == "relevance":
        sort: list[Any] = ["_score", {"at": "desc"}]
    else:
        sort = [{"at": "desc"}, {"_doc": "asc"}]
    return {"query": query, "sort": sort, "from": max(0, q.offset), "size": max(0, q.limit),
            "track_total_hits": True, "_source": False}


def counts_body(q: SearchQuery, by: CountField, size: int, timezone: str) -> dict[str, Any] | None:
    query = query_body(q)
    if query is None:
        return None
    if by == "day":
        agg: dict[str, Any] = {"date_histogram": {"field": "at", "calendar_interval": "day",
                                                  "time_zone": timezone, "format": "yyyy-MM-dd",
                                                  "min_doc_count": 1}}
    else:
        field = {"place": "places"}.get(by, by)
        agg = {"terms": {"field": field, "size": size}}
    return {"query": query, "size": 0, "aggs": {"by": agg}}


class ElasticsearchIndex:
    def __init__(self, url: str, prefix: str = "yuqing", words: WordTokenizer = default_words,
                 timezone: str = "Asia/Shanghai", **client_kwargs: Any):
        from elasticsearch import Elasticsearch  # imported on use: the client is heavy

        self.client = Elasticsearch(url, **client_kwargs)
        self.name = f"{prefix}-posts"
        self.prefix = prefix
        self.words = words
        self.timezone = timezone
        self._ready = False

    def _ensure(self) -> None:
        if self._ready:
            return
        self.client.indices.put_index_template(name=f"{self.prefix}-posts",
                                               **index_template(self.prefix))
        if not self.client.indices.exists(index=self.name):
            self.client.indices.create(index=self.name)
        self._ready = True

    def add(self, docs: list[IndexDoc]) -> None:
        if not docs:
            return
        self._ensure()
        ops: list[dict[str, Any]] = []
        for doc in docs:
            ops.append({"index": {"_index": self.name, "_id": str(doc.id)}})
            ops.append(document(doc, self.words))
        resp = self.client.bulk(operations=ops, refresh="wait_for")
        if resp.get("errors"):
            failed = [i for i in resp["items"] if i.get("index", {}).get("error")]
            raise RuntimeError(f"Elasticsearch 写入失败 {len(failed)} 条：{failed[:3]}")

    def delete(self, ids: list[int]) -> None:
        self._ensure()
        ops = [{"delete": {"_index": self.name, "_id": str(i)}} for i in ids]
        if ops:
            self.client.bulk(operations=ops, refresh="wait_for")

    def search(self, q: SearchQuery) -> SearchResult:
        body = search_body(q)
        if body is None:
            return SearchResult(total=0, ids=[])
        self._ensure()
        resp = self.client.search(index=self.name, **body)
        hits = resp["hits"]
        return SearchResult(total=hits["total"]["value"], ids=[int(h["_id"]) for h in hits["hits"]])

    def counts(self, q: SearchQuery, by: CountField, size: int = 50) -> list[tuple[str, int]]:
        body = counts_body(q, by, size, self.timezone)
        if body is None:
            return []
        self._ensure()
        buckets = self.client.search(index=self.name, **body)["aggregations"]["by"]["buckets"]
        key = "key_as_string" if by == "day" else "key"
        return [(str(b[key]), b["doc_count"]) for b in buckets]

    def clear(self) -> None:
        self.client.indices.delete(index=self.name, ignore_unavailable=True)
        self._ready = False

    def close(self) -> None:
        self.client.close()
