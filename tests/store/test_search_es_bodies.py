"""Elasticsearch request bodies and mappings: checked always, without a server."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from store.search import IndexDoc, QuerySyntaxError, SearchQuery, parse
from store.search.elasticsearch import (
    MAPPINGS,
    counts_body,
    document,
    index_template,
    page_body,
    search_body,
    term_query,
)


def test_the_template_indexes_pre_split_tokens_with_a_whitespace_analyzer() -> None:
    tpl = index_template("yq")
    # only the monthly indices: the read alias yq-posts is not matched
    assert tpl["index_patterns"] == ["yq-posts-*"]
    assert tpl["priority"] > 100  # above the built-in templates
    assert tpl["template"]["settings"]["number_of_shards"] == 1
    assert "aliases" not in tpl["template"]  # joined at creation (see create_body)
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
    assert body["grams"] == "学校 校食 食堂 堂 5g g 基站 站"
    assert body["words"] == "学校 食堂"
    assert body["places"] == ["320115001"]
    assert body["place_paths"] == ["32", "3201", "320115", "320115001"]
    assert body["at"] == "2024-01-01T00:00:00+00:00"


def test_a_search_is_a_candidate_phrase_per_term_with_filters() -> None:
    q = SearchQuery(text="食堂 变", topics=["education"], severities=[3, 4], place="320115",
                    since=datetime(2024, 1, 1, tzinfo=UTC), kinds=["weibo"],
                    exclude_event_ids=[5])
    body = search_body(q, parse(q.text))
    must = body["query"]["bool"]["must"]
    assert must[0]["bool"]["should"] == [{"match_phrase": {"grams": "食堂"}},
                                         {"match_phrase": {"words": "食堂"}}]
    # one character alone: a prefix query (no 50-term expansion limit like match_phrase_prefix)
    assert must[1]["bool"]["should"][0] == {"prefix": {"grams": "变"}}
    filters = body["query"]["bool"]["filter"]
    assert {"terms": {"topic": ["education"]}} in filters
    assert {"terms": {"source_kind": ["weibo"]}} in filters
    assert {"term": {"place_paths": "320115"}} in filters
    assert {"range": {"at": {"gte": "2024-01-01T00:00:00+00:00"}}} in filters
    assert body["query"]["bool"]["must_not"] == [{"terms": {"event_id": [5]}}]
    assert body["sort"][0] == "_score" and body["_source"] == ["hay"]
    assert "search_after" not in body
    assert search_body(q, parse(q.text), after=[1.5, 2, 3])["search_after"] == [1.5, 2, 3]


def test_or_is_a_should_and_exclusions_are_left_to_the_exact_check() -> None:
    q = SearchQuery(text='积水 | "地下 车库" -广告', order="newest")
    body = search_body(q, parse(q.text))
    must = body["query"]["bool"]["must"]
    assert len(must) == 1  # -广告 generates no candidate filter
    alts = must[0]["bool"]["should"]
    assert alts[1]["bool"]["should"] == [{"match_phrase": {"grams": "地下 下 车库"}}]
    assert body["sort"] == [{"at": "desc"}, {"post_id": "desc"}]


def test_a_trailing_single_character_is_dropped_from_the_candidate_phrase() -> None:
    # "学校食" may continue as 食堂 in a document: the phrase 学校 校食 is the candidate
    assert term_query("学校食")["bool"]["should"][0] == {"match_phrase": {"grams": "学校 校食"}}


def test_no_user_text_reaches_query_syntax() -> None:
    hostile = '食堂" OR * {"match_all": {}} \\'
    with pytest.raises(QuerySyntaxError):
        parse(hostile)  # unbalanced quote
    body = search_body(SearchQuery(text="a*b:c(食堂)"), parse("a*b:c(食堂)"))
    phrase = body["query"]["bool"]["must"][0]["bool"]["should"][0]["match_phrase"]["grams"]
    assert phrase == "a b c 食堂"  # only letters, digits and Chinese characters


def test_empty_text_is_a_page_of_every_filtered_document() -> None:
    body = page_body(SearchQuery(limit=5, offset=10))
    assert body["query"]["bool"]["must"] == [{"match_all": {}}]
    assert (body["from"], body["size"], body["track_total_hits"]) == (10, 5, True)


def test_day_counts_use_the_local_calendar() -> None:
    body = counts_body(SearchQuery(), "day", 50, "Asia/Shanghai")
    assert body is not None
    hist = body["aggs"]["by"]["date_histogram"]
    assert hist["time_zone"] == "Asia/Shanghai" and hist["calendar_interval"] == "day"
    assert counts_body(SearchQuery(), "place", 10, "UTC")["aggs"]["by"] == {
        "terms": {"field": "places", "size": 10}}
