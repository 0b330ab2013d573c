"""What the Elasticsearch backend sends, as pure functions: index layout, template, mappings,
documents, bulk actions, alias actions and query bodies (tested without a server).

Tokens are computed here in Python (``store.search.analyzer``: character bigrams, where FTS5
indexes single Chinese characters) and sent pre-split, indexed with a whitespace analyzer;
both backends confirm candidates with the same exact substring test, so they match exactly
the same documents for the same query.

Layout: one index per month of the post's time (``<prefix>-posts-YYYY.MM``, UTC month), all
of them behind the read alias ``<prefix>-posts``; a composable index template gives every
monthly index the same settings and mappings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from store.search.analyzer import WordTokenizer, default_words, gram_tokens, term_grams
from store.search.base import CountField, IndexDoc, SearchQuery
from store.search.query import ParsedQuery

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
    # a month of a province's posts is far below one shard's comfortable size (tens of GB)
    "number_of_shards": 1,
    "analysis": {"analyzer": {"pre_split": {"type": "custom", "tokenizer": "whitespace"}}},
}
TEMPLATE_VERSION = 2  # 1 was the single ``<prefix>-posts`` index
TEMPLATE_PRIORITY = 200  # above the built-in templates (100); ours match only our names


def alias_name(prefix: str) -> str:
    """The read alias every search goes to (and the old single index's name)."""
    return f"{prefix}-posts"


def index_pattern(prefix: str) -> str:
    return f"{prefix}-posts-*"


def month_index(prefix: str, at: datetime) -> str:
    """The monthly index a post is written to: the UTC month of its time."""
    return f"{prefix}-posts-{at.astimezone(UTC):%Y.%m}"


def index_template(prefix: str, legacy: bool = False) -> dict[str, Any]:
    """The body of ``PUT _index_template/<prefix>-posts`` (composable template).

    It carries the read alias too, so a month created by any path — a process whose cache
    missed a ``clear()``, the cluster's auto-create on a bulk write — is searchable at birth;
    except while an old single index holds the alias's name (creation would fail)."""
    template: dict[str, Any] = {"settings": SETTINGS, "mappings": MAPPINGS}
    if not legacy:
        template["aliases"] = {alias_name(prefix): {}}
    return {"index_patterns": [index_pattern(prefix)], "priority": TEMPLATE_PRIORITY,
            "version": TEMPLATE_VERSION,
            "_meta": {"managed_by": "yuqing", "layout": "monthly indices behind a read alias"},
            "template": template}


def create_body(prefix: str, legacy: bool = False) -> dict[str, Any]:
    """``PUT <monthly index>``: settings and mappings come from the template; it joins the
    read alias at birth, unless an old single index still holds the alias's name."""
    return {} if legacy else {"aliases": {alias_name(prefix): {}}}


def alias_repairs(found: Mapping[str, Any], prefix: str) -> list[dict[str, Any]]:
    """``POST _aliases`` actions adding every monthly index that is not in the read alias
    (``found`` is ``GET <prefix>-posts-*/_alias``: index -> {"aliases": {...}})."""
    alias = alias_name(prefix)
    return [{"add": {"index": name, "alias": alias}} for name, meta in sorted(found.items())
            if alias not in (meta or {}).get("aliases", {})]


def swap_actions(months: Iterable[str], prefix: str) -> list[dict[str, Any]]:
    """One atomic ``POST _aliases``: the monthly indices join the alias and the old single
    index of the same name goes, so searches never see a missing or half-filled index."""
    alias = alias_name(prefix)
    return [*({"add": {"index": name, "alias": alias}} for name in sorted(set(months))),
            {"remove_index": {"index": alias}}]


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


def index_action(prefix: str, doc: IndexDoc, words: WordTokenizer = default_words
                 ) -> dict[str, Any]:
    """A bulk helper action writing ``doc`` to its month's index."""
    return {"_op_type": "index", "_index": month_index(prefix, doc.at), "_id": str(doc.id),
            "_source": document(doc, words)}


def where_body(ids: list[int]) -> dict[str, Any]:
    """Which monthly index holds each of these ids (a search over the alias, no source)."""
    return {"query": {"ids": {"values": [str(i) for i in ids]}}, "_source": False,
            "size": len(ids), "track_total_hits": False}


def stale_copies(hits: Iterable[Mapping[str, Any]], wanted: Mapping[str, str]
                 ) -> list[dict[str, Any]]:
    """Delete actions for copies in another month's index than ``wanted`` (id -> index):
    a post whose time moved to another month must not be found twice."""
    return [{"_op_type": "delete", "_index": h["_index"], "_id": h["_id"]} for h in hits
            if h["_index"] != wanted.get(h["_id"], h["_index"])]


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
