"""Elasticsearch backend (official client) for when posts outgrow one SQLite file.

Tokens are computed here with the same analyzer as FTS5 and sent pre-split, indexed with a
whitespace analyzer, so both backends match exactly the same documents for the same query.
The request bodies are built by pure functions so their shape is tested without a server.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC
from typing import Any

from store.search.analyzer import WordTokenizer, default_words, gram_tokens, term_grams
from store.search.base import CountField, IndexDoc, SearchQuery, SearchResult
from store.search.query import Normalizer, ParsedQuery, fold, parse

_PLAIN = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaffa-z0-9]+$")
BATCH = 1000  # candidates fetched per request while confirming hits

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
        "post_id": {"type": "long"},  # a unique sort key for search_after
        "hay": {"type": "text", "index": False},  # title, body, reply: the exact check's text
    },
}
SETTINGS: dict[str, Any] = {
    "analysis": {"analyzer": {"pre_split": {"type": "custom", "tokenizer": "whitespace"}}},
}


def index_template(prefix: str) -> dict[str, Any]:
    return {"index_patterns": [f"{prefix}-posts*"],
            "template": {"settings": SETTINGS, "mappings": MAPPINGS}}


def document(doc: IndexDoc, words: WordTokenizer = default_words) -> dict[str, Any]:
    body = doc.haystack()
    return {
        "words": " ".join(words(body)), "grams": " ".join(gram_tokens(body)),
        "at": doc.at.astimezone(UTC).isoformat(), "source": doc.source,
        "source_kind": doc.source_kind, "topic": doc.topic, "sentiment": doc.sentiment,
        "severity": doc.severity, "places": sorted(set(doc.places)),
        "place_paths": _with_ancestors(doc.places),
        "event_id": doc.event_id, "post_id": doc.id, "hay": body,
    }


def _with_ancestors(codes: list[str]) -> list[str]:
    # A keyword term query cannot do "code starts with"; indexing each code's ancestors
    # (2, 4, 6, 9 digits) lets a place filter be one exact term, as fast as any other filter.
    out: set[str] = set()
    for code in codes:
        out.update(code[:n] for n in (2, 4, 6, 9, 12) if n <= len(code))
    return sorted(out)


def term_query(needle: str) -> dict[str, Any]:
    """Candidates for one folded needle: its gram phrase (or a whole jieba word).

    A trailing single character may start a longer gram in the document. ES's
    match_phrase_prefix would expand it to at most 50 grams and so miss documents; the phrase
    without it is a superset the exact check narrows, and a needle of one character alone is
    a ``prefix`` query, which has no expansion limit.
    """
    grams = term_grams(needle)
    assert grams is not None  # parse() refuses positive terms with nothing searchable
    gs = list(grams.grams)
    if grams.prefix and len(gs) > 1:
        gs = gs[:-1]
    should: list[dict[str, Any]] = [
        {"prefix": {"grams": gs[0]}} if grams.prefix and len(grams.grams) == 1
        else {"match_phrase": {"grams": " ".join(gs)}}]
    if _PLAIN.match(needle):
        should.append({"match_phrase": {"words": needle}})
    return {"bool": {"should": should, "minimum_should_match": 1}}


def query_body(q: SearchQuery, parsed: ParsedQuery | None) -> dict[str, Any]:
    """The bool query generating candidates for ``q`` (exclusions are left to the exact
    check: a gram phrase can match where the excluded text does not occur)."""
    must: list[dict[str, Any]] = []
    for clause in parsed.positive if parsed else []:
        alts = [term_query(t.text) for t in clause.terms]
        must.append(alts[0] if len(alts) == 1
                    else {"bool": {"should": alts, "minimum_should_match": 1}})
    filters: list[dict[str, Any]] = []
    time_range: dict[str, str] = {}
    if q.since:
        time_range["gte"] = q.since.astimezone(UTC).isoformat()
    if q.until:
        time_range["lt"] = q.until.astimezone(UTC).isoformat()
    if time_range:
        filters.append({"range": {"at": time_range}})
    for field, values in (("source", q.sources), ("topic", q.topics),
                          ("severity", q.severities), ("sentiment", q.sentiments),
                          ("source_kind", q.kinds)):
        if values:
            filters.append({"terms": {field: list(values)}})
    if q.place:
        filters.append({"term": {"place_paths": q.place}})
    if q.event_id is not None:
        filters.append({"term": {"event_id": q.event_id}})
    if q.event_ids is not None:
        filters.append({"terms": {"event_id": list(q.event_ids)}})
    body: dict[str, Any] = {"must": must or [{"match_all": {}}], "filter": filters}
    if q.exclude_event_ids:
        body["must_not"] = [{"terms": {"event_id": list(q.exclude_event_ids)}}]
    return {"bool": body}


def search_body(q: SearchQuery, parsed: ParsedQuery | None = None,
                after: list[Any] | None = None, size: int = BATCH) -> dict[str, Any]:
    """One batch of candidates in result order, with their text for the exact check; pages
    follow with ``search_after`` (the last hit's sort values)."""
    if parsed is not None and q.order == "relevance":
        sort: list[Any] = ["_score", {"at": "desc"}, {"post_id": "desc"}]
    else:
        sort = [{"at": "desc"}, {"post_id": "desc"}]
    body: dict[str, Any] = {"query": query_body(q, parsed), "sort": sort, "size": size,
                            "track_total_hits": False, "_source": ["hay"]}
    if after is not None:
        body["search_after"] = after
    return body


def page_body(q: SearchQuery) -> dict[str, Any]:
    """Without query text every filtered document is a hit: one page, counted by ES."""
    return {"query": query_body(q, None), "sort": [{"at": "desc"}, {"post_id": "desc"}],
            "from": max(0, q.offset), "size": max(0, q.limit), "track_total_hits": True,
            "_source": ["hay"]}


def counts_body(q: SearchQuery, by: CountField, size: int, timezone: str,
                ids: list[int] | None = None) -> dict[str, Any]:
    """Aggregation over the filtered documents, or over ``ids`` (the confirmed hits)."""
    query = query_body(q, None) if ids is None else {"ids": {"values": [str(i) for i in ids]}}
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
                 timezone: str = "Asia/Shanghai", normalize: Normalizer | None = None,
                 **client_kwargs: Any):
        from elasticsearch import Elasticsearch  # imported on use: the client is heavy

        self.client = Elasticsearch(url, **client_kwargs)
        self.name = f"{prefix}-posts"
        self.prefix = prefix
        self.words = words
        self.normalize = normalize
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

    def parse(self, text: str) -> ParsedQuery:
        return parse(text, self.normalize)

    def _parse(self, q: SearchQuery) -> ParsedQuery | None:
        return parse(q.text, self.normalize) if q.text and q.text.strip() else None

    def _hits(self, q: SearchQuery, parsed: ParsedQuery) -> Iterator[tuple[int, str]]:
        """Confirmed hits in result order: candidates batch by batch, each checked exactly."""
        after = None
        while True:
            hits = self.client.search(index=self.name,
                                      **search_body(q, parsed, after))["hits"]["hits"]
            for h in hits:
                hay = h.get("_source", {}).get("hay", "")
                if parsed.matches(fold(hay)):
                    yield int(h["_id"]), hay
            if len(hits) < BATCH:
                return
            after = hits[-1]["sort"]

    def search(self, q: SearchQuery) -> SearchResult:
        parsed = self._parse(q)
        self._ensure()
        if parsed is None:
            hits = self.client.search(index=self.name, **page_body(q))["hits"]
            page = [(int(h["_id"]), h.get("_source", {}).get("hay", "")) for h in hits["hits"]]
            return SearchResult(total=hits["total"]["value"], ids=[i for i, _ in page],
                                texts=dict(page))
        total, ids, texts = 0, [], {}
        lo, hi = max(0, q.offset), max(0, q.offset) + max(0, q.limit)
        for doc_id, hay in self._hits(q, parsed):
            if lo <= total < hi:
                ids.append(doc_id)
                texts[doc_id] = hay
            total += 1
        return SearchResult(total=total, ids=ids, texts=texts)

    def counts(self, q: SearchQuery, by: CountField, size: int = 50) -> list[tuple[str, int]]:
        parsed = self._parse(q)
        self._ensure()
        ids = None if parsed is None else [i for i, _ in self._hits(q, parsed)]
        if ids == []:
            return []
        body = counts_body(q, by, size, self.timezone, ids)
        buckets = self.client.search(index=self.name, **body)["aggregations"]["by"]["buckets"]
        key = "key_as_string" if by == "day" else "key"
        return [(str(b[key]), b["doc_count"]) for b in buckets]

    def clear(self) -> None:
        self.client.indices.delete(index=self.name, ignore_unavailable=True)
        self._ready = False

    def close(self) -> None:
        self.client.close()
