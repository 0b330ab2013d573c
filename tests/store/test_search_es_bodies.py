"""Elasticsearch request bodies and mappings: checked always, without a server."""

from __future__ import annotations

from datetime import UTC, datetime

from store.search import IndexDoc, SearchQuery
from store.search.elasticsearch import (
    MAPPINGS,
    counts_body,
    document,
    index_template,
    search_body,
)


def test_the_template_indexes_pre_split_tokens_with_a_whitespace_analyzer() -> None:
    tpl = index_template("yq")
    assert tpl["index_patterns"] == ["yq-posts*"]
    analyzer = tpl["template"]["settings"]["analysis"]["analyzer"]["pre_split"]
    assert analyzer == {"type": "custom", "tokenizer": "whitespace"}
    props = tpl["template"]["mappings"]["properties"]
    assert props["grams"]["analyzer"] == props["words"]["analyzer"] == "pre_split"
    assert {props[k]["type"] for k in ("source", "topic", "sentiment", "places", "place_paths")} \
        == {"keyword"}
    assert MAPPINGS["dynamic"] == "strict"  # a typo in a field name fails loudly


def test_documents_carry_the_same_tokens_as_fts5() -> None:
    doc = IndexDoc(7, "学校食堂", "5G基站", datetime(2024, 1, 1, tzinfo=UTC),
                   places=["320115001"])
    body = document(doc, words=lambda text: ["学校", "食堂"])
    assert body["grams"] == "学校 校食 食堂 堂 5g 基站 站"
    assert body["words"] == "学校 食堂"
    assert body["places"] == ["320115001"]
    assert body["place_paths"] == ["32", "3201", "320115", "320115001"]
    assert body["at"] == "2024-01-01T00:00:00+00:00"


def test_a_search_is_a_phrase_per_term_with_filters() -> None:
    q = SearchQuery(text="食堂 变", topics=["education"], severities=[3, 4], place="320115",
                    since=datetime(2024, 1, 1, tzinfo=UTC), limit=5, offset=10)
    body = search_body(q)
    assert body is not None
    must = body["query"]["bool"]["must"]
    assert must[0]["bool"]["should"][0] == {"match_phrase": {"grams": "食堂"}}
    assert must[1]["bool"]["should"][0] == {"match_phrase_prefix": {"grams": "变"}}
    assert {"terms": {"topic": ["education"]}} in body["query"]["bool"]["filter"]
    assert {"term": {"place_paths": "320115"}} in body["query"]["bool"]["filter"]
    assert {"range": {"at": {"gte": "2024-01-01T00:00:00+00:00"}}} in body["query"]["bool"]["filter"]
    assert (body["from"], body["size"], body["sort"][0]) == (10, 5, "_score")


def test_unsearchable_text_matches_nothing_and_empty_text_matches_all() -> None:
    assert search_body(SearchQuery(text="！？（）")) is None
    assert search_body(SearchQuery(text="  "))["query"]["bool"]["must"] == [{"match_all": {}}]


def test_day_counts_use_the_local_calendar() -> None:
    body = counts_body(SearchQuery(), "day", 50, "Asia/Shanghai")
    assert body is not None
    hist = body["aggs"]["by"]["date_histogram"]
    assert hist["time_zone"] == "Asia/Shanghai" and hist["calendar_interval"] == "day"
    assert counts_body(SearchQuery(), "place", 10, "UTC")["aggs"]["by"] == {
        "terms": {"field": "places", "size": 10}}
