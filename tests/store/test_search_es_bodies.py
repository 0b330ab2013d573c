"""Elasticsearch request bodies and mappings: checked always, without a server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from store.search import IndexDoc, QuerySyntaxError, SearchQuery, parse
from store.search.elasticsearch import (
    MAPPINGS,
    BulkPolicy,
    alias_repairs,
    counts_body,
    create_body,
    document,
    index_action,
    index_template,
    month_index,
    page_body,
    search_body,
    stale_copies,
    swap_actions,
    term_query,
    where_body,
)


def test_the_template_indexes_pre_split_tokens_with_a_whitespace_analyzer() -> None:
    tpl = index_template("yq")
    # only the monthly indices: the read alias yq-posts is not matched
    assert tpl["index_patterns"] == ["yq-posts-*"]
    assert tpl["priority"] > 100  # above the built-in templates
    assert tpl["template"]["settings"]["number_of_shards"] == 1
    # every month joins the read alias at birth, however it is created
    assert tpl["template"]["aliases"] == {"yq-posts": {}}
    # but not while an old single index holds the name: creating a month would fail
    assert "aliases" not in index_template("yq", legacy=True)["template"]
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


def test_monthly_indices_are_named_by_the_utc_month_of_the_post() -> None:
    shanghai = timezone(timedelta(hours=8))
    assert month_index("yq", datetime(2024, 6, 1, 7, 59, tzinfo=shanghai)) == "yq-posts-2024.05"
    assert month_index("yq", datetime(2024, 6, 1, 8, 0, tzinfo=shanghai)) == "yq-posts-2024.06"
    doc = IndexDoc(3, "", "积水", datetime(2023, 12, 31, 23, 0, tzinfo=UTC))
    action = index_action("yq", doc, words=lambda t: [t])
    assert (action["_op_type"], action["_index"], action["_id"]) == \
        ("index", "yq-posts-2023.12", "3")
    assert action["_source"]["post_id"] == 3 and set(action["_source"]) == \
        set(MAPPINGS["properties"])  # every field mapped (the mapping is strict)


def test_months_join_the_read_alias_at_creation_unless_an_old_index_holds_the_name() -> None:
    assert create_body("yq") == {"aliases": {"yq-posts": {}}}
    assert create_body("yq", legacy=True) == {}
    found = {"yq-posts-2024.05": {"aliases": {"yq-posts": {}}},
             "yq-posts-2024.04": {"aliases": {}}, "yq-posts-2024.03": {}}
    assert alias_repairs(found, "yq") == [
        {"add": {"index": "yq-posts-2024.03", "alias": "yq-posts"}},
        {"add": {"index": "yq-posts-2024.04", "alias": "yq-posts"}}]
    assert swap_actions(["yq-posts-2024.05", "yq-posts-2024.04", "yq-posts-2024.05"], "yq") == [
        {"add": {"index": "yq-posts-2024.04", "alias": "yq-posts"}},
        {"add": {"index": "yq-posts-2024.05", "alias": "yq-posts"}},
        {"remove_index": {"index": "yq-posts"}}]  # last: the swap is one atomic request


def test_a_copy_in_another_month_is_deleted_and_only_that() -> None:
    assert where_body([1, 2]) == {"query": {"ids": {"values": ["1", "2"]}}, "_source": False,
                                  "size": 2, "track_total_hits": False}
    hits = [{"_index": "yq-posts-2024.05", "_id": "1"}, {"_index": "yq-posts-2024.04", "_id": "2"}]
    wanted = {"1": "yq-posts-2024.05", "2": "yq-posts-2024.05"}
    assert stale_copies(hits, wanted) == [
        {"_op_type": "delete", "_index": "yq-posts-2024.04", "_id": "2"}]


def test_bulk_policy_is_bounded() -> None:
    policy = BulkPolicy()
    assert policy.chunk_size == 500 and policy.max_chunk_bytes <= 100 * 1024 * 1024
    assert policy.max_backoff >= policy.initial_backoff > 0
    with pytest.raises(ValueError):
        BulkPolicy(chunk_size=0)
