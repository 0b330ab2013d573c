"""What the official client really sends for the Elasticsearch backend, checked on the wire.

A stand-in server on 127.0.0.1 (tests/store/es_server.py) records each request as it arrived
and answers as Elasticsearch does, rejecting with 429 when told to: template, monthly index
creation, alias actions, bulk NDJSON, retries with backoff, the product check.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from elasticsearch import UnsupportedProductError

from store.search import IndexDoc, SearchQuery, open_index
from store.search.elasticsearch import (
    BulkPolicy,
    BulkWriteError,
    ClusterBusyError,
    ElasticsearchIndex,
    document,
    index_template,
    swap_actions,
)
from tests.store.es_server import FakeElasticsearch, Request

T0 = datetime(2024, 5, 20, 4, 0, tzinfo=UTC)
FAST = BulkPolicy(chunk_size=500, max_retries=3, initial_backoff=0.001, max_backoff=0.002)


def words(text: str) -> list[str]:
    return text.split()


@pytest.fixture
def es() -> Iterator[FakeElasticsearch]:
    with FakeElasticsearch() as server:
        yield server


def make(es: FakeElasticsearch, policy: BulkPolicy = FAST) -> ElasticsearchIndex:
    return ElasticsearchIndex(es.url, prefix="yq", words=words, policy=policy)


def docs(n: int, at: datetime = T0) -> list[IndexDoc]:
    return [IndexDoc(i, f"标题{i}", f"东山街道 积水 {i}", at, source="weibo") for i in range(1, n + 1)]


def bulk_ids(req: Request) -> list[str]:
    return [next(iter(line.values()))["_id"] for line in req.body if len(line) == 1
            and next(iter(line)) in ("index", "delete")]


def test_the_first_write_sends_template_month_index_and_bulk_as_documented(
        es: FakeElasticsearch) -> None:
    ix = make(es)
    doc = docs(1)[0]
    assert ix.add([doc]) == 1
    seen = [(r.method, r.path) for r in es.requests]
    assert seen == [
        ("HEAD", "/yq-posts"),  # an old single index of the alias's name?
        ("PUT", "/_index_template/yq-posts"),
        ("GET", "/yq-posts-*/_alias"),  # months present, and in the alias?
        ("PUT", "/yq-posts-2024.05"),
        ("POST", "/yq-posts/_search"),  # a copy of the id in another month?
        ("PUT", "/_bulk"),
    ]
    tpl, create, where, bulk = (es.requests[i] for i in (1, 3, 4, 5))
    assert tpl.body == index_template("yq")
    assert tpl.body["template"]["aliases"] == {"yq-posts": {}}
    assert create.body == {"aliases": {"yq-posts": {}}}
    assert where.body == {"query": {"ids": {"values": ["1"]}}, "_source": False, "size": 1,
                          "track_total_hits": False}
    assert where.params == {"ignore_unavailable": "true", "allow_no_indices": "true"}
    assert bulk.params == {"refresh": "wait_for"}
    assert bulk.body == [{"index": {"_index": "yq-posts-2024.05", "_id": "1"}},
                         document(doc, words)]
    # the 9.x client speaks the compatibility media type: a 9.x server is required
    assert bulk.headers["content-type"] == \
        "application/vnd.elasticsearch+x-ndjson; compatible-with=9"
    assert bulk.headers["accept"] == "application/vnd.elasticsearch+json; compatible-with=9"
    # the index got the template's strict mapping: the document passed it
    assert es.indices["yq-posts-2024.05"].mappings["dynamic"] == "strict"
    assert set(es.docs("yq-posts-2024.05")) == {"1"}
    assert es.auto_created == []  # the month was created on purpose, not by the write
    es.requests.clear()
    ix.add(docs(1))  # set-up happens once per process
    assert [(r.method, r.path) for r in es.requests] == [("POST", "/yq-posts/_search"),
                                                         ("PUT", "/_bulk")]


def test_each_post_goes_to_the_index_of_its_utc_month(es: FakeElasticsearch) -> None:
    ix = make(es)
    shanghai_new_year = datetime(2024, 1, 1, 2, 0, tzinfo=UTC) - timedelta(hours=8)
    ix.add([IndexDoc(1, "", "积水", datetime(2024, 5, 31, 23, 59, tzinfo=UTC)),
            IndexDoc(2, "", "积水", datetime(2024, 6, 1, tzinfo=UTC)),
            IndexDoc(3, "", "积水", shanghai_new_year)])  # 2023-12-31 18:00 UTC
    assert {n: sorted(ix_.docs) for n, ix_ in es.indices.items()} == {
        "yq-posts-2024.05": ["1"], "yq-posts-2024.06": ["2"], "yq-posts-2023.12": ["3"]}
    assert all(ix_.aliases == {"yq-posts"} for ix_ in es.indices.values())
    assert ix.months() == ["yq-posts-2023.12", "yq-posts-2024.05", "yq-posts-2024.06"]
    assert ix.count_all() == 3


def test_a_whole_request_rejected_with_429_is_sent_again_after_a_backoff(
        es: FakeElasticsearch) -> None:
    ix = make(es)
    es.bulk_script.extend(["reject", "reject"])
    assert ix.add(docs(3)) == 3
    bulks = es.calls("PUT", "/_bulk")
    # exactly three sends (the transport's immediate 429 retries are off for bulk)
    assert len(bulks) == 3
    assert bulks[0].body == bulks[1].body == bulks[2].body
    assert sorted(es.docs("yq-posts-2024.05")) == ["1", "2", "3"]


def test_the_backoff_doubles_up_to_its_cap(es: FakeElasticsearch,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import elasticsearch.helpers.actions as helper_module

    waits: list[float] = []  # the helper's sleeps, recorded instead of waited
    monkeypatch.setattr(helper_module.time, "sleep", waits.append)
    ix = make(es, BulkPolicy(max_retries=4, initial_backoff=1.0, max_backoff=3.0))
    es.bulk_script.extend(["reject", 1, "reject", "reject"])
    assert ix.add(docs(2)) == 2
    assert waits == [1.0, 2.0, 3.0, 3.0]
    assert len(es.calls("PUT", "/_bulk")) == 5


def test_items_rejected_with_429_are_the_only_ones_sent_again(es: FakeElasticsearch) -> None:
    ix = make(es)
    es.bulk_script.extend([2, 1])  # first send: 2 items rejected; the retry: 1 of those
    assert ix.add(docs(4)) == 4
    bulks = es.calls("PUT", "/_bulk")
    assert [bulk_ids(b) for b in bulks] == [["1", "2", "3", "4"], ["1", "2"], ["1"]]
    assert sorted(es.docs("yq-posts-2024.05")) == ["1", "2", "3", "4"]


def test_chunks_are_bounded_and_sent_one_after_another(es: FakeElasticsearch) -> None:
    ix = make(es, BulkPolicy(chunk_size=2, max_retries=1, initial_backoff=0.001))
    ix.add(docs(5))
    assert [bulk_ids(b) for b in es.calls("PUT", "/_bulk")] == [["1", "2"], ["3", "4"], ["5"]]


def test_a_cluster_that_stays_busy_is_a_chinese_error_not_a_silent_loss(
        es: FakeElasticsearch) -> None:
    ix = make(es, BulkPolicy(max_retries=2, initial_backoff=0.001))
    es.bulk_script.extend(["reject"] * 3)
    with pytest.raises(ClusterBusyError, match="持续繁忙"):
        ix.add(docs(2))
    assert len(es.calls("PUT", "/_bulk")) == 3
    es.bulk_script.extend([2, 2, 2])
    with pytest.raises(BulkWriteError, match="拒绝写入 2 条") as info:
        ix.add(docs(2))
    assert {next(iter(f.values()))["status"] for f in info.value.failures} == {429}
    assert es.docs("yq-posts-2024.05") == {}


def test_moving_a_post_to_another_month_deletes_the_old_copy_in_the_same_bulk(
        es: FakeElasticsearch) -> None:
    ix = make(es)
    ix.add(docs(2))
    es.requests.clear()
    ix.add([IndexDoc(2, "", "积水", T0 - timedelta(days=40))])
    bulk = es.calls("PUT", "/_bulk")[-1]
    assert bulk.body[0] == {"delete": {"_index": "yq-posts-2024.05", "_id": "2"}}
    assert bulk.body[1] == {"index": {"_index": "yq-posts-2024.04", "_id": "2"}}
    assert sorted(es.docs("yq-posts-2024.05")) == ["1"]
    assert sorted(es.docs("yq-posts-2024.04")) == ["2"]
    ix.delete([1, 2, 99])  # 99 is nowhere: nothing to send for it
    assert sorted(bulk_ids(es.calls("PUT", "/_bulk")[-1])) == ["1", "2"]
    assert ix.count_all() == 0


def test_reads_before_any_month_exists_find_nothing_instead_of_failing(
        es: FakeElasticsearch) -> None:
    ix = make(es)
    assert ix.search(SearchQuery(text="积水")).total == 0
    assert ix.search(SearchQuery()).total == 0
    assert ix.counts(SearchQuery(), "day") == []
    assert ix.count_all() == 0
    search = es.calls("POST", "/yq-posts/_search")[0]
    assert search.params == {"ignore_unavailable": "true", "allow_no_indices": "true"}


def test_a_month_missing_from_the_alias_is_added_back(es: FakeElasticsearch) -> None:
    es.route(Request("PUT", "/yq-posts-2024.03", {}, {}, {}))  # e.g. restored from a snapshot
    ix = make(es)
    ix.search(SearchQuery())
    aliases = es.calls("POST", "/_aliases")
    assert [a.body for a in aliases] == [
        {"actions": [{"add": {"index": "yq-posts-2024.03", "alias": "yq-posts"}}]}]
    assert es.indices["yq-posts-2024.03"].aliases == {"yq-posts"}


def test_an_old_single_index_is_replaced_by_the_alias_in_one_atomic_step(
        es: FakeElasticsearch) -> None:
    es.route(Request("PUT", "/yq-posts", {}, {}, {}))  # the layout before monthly indices
    ix = make(es)
    assert ix.legacy
    assert "aliases" not in es.templates["yq-posts"]["template"]  # creation would fail
    ix.add(docs(2))  # written to the month, without the alias (the name is taken)
    assert es.indices["yq-posts-2024.05"].aliases == set()
    assert ix.search(SearchQuery()).total == 0  # reads still go to the old index
    ix.finish_move()
    swap = es.calls("POST", "/_aliases")[-1]
    assert swap.body == {"actions": swap_actions(["yq-posts-2024.05"], "yq")}
    assert swap.body["actions"][-1] == {"remove_index": {"index": "yq-posts"}}
    assert "yq-posts" not in es.indices and not ix.legacy
    assert ix.search(SearchQuery()).total == 2
    assert es.calls("POST", "/yq-posts-2024.05/_refresh")
    assert es.templates["yq-posts"] == index_template("yq")  # new months join the alias again


def test_clear_deletes_months_by_name_and_keeps_the_template(es: FakeElasticsearch) -> None:
    ix = make(es)
    ix.add([*docs(1), IndexDoc(9, "", "x", T0 - timedelta(days=40))])
    ix.clear()
    # a wildcard delete is refused by default (action.destructive_requires_name)
    assert [r.path for r in es.calls("DELETE")] == ["/yq-posts-2024.04,yq-posts-2024.05"]
    assert es.indices == {} and set(es.templates) == {"yq-posts"}
    ix.add(docs(1))  # usable again
    assert ix.count_all() == 1
    ix.remove_template()
    assert es.templates == {}


def test_two_processes_creating_the_same_month_both_succeed(es: FakeElasticsearch) -> None:
    first, second = make(es), make(es)
    second.search(SearchQuery())  # set up before the month existed
    first.add(docs(1))
    second.add(docs(2))  # its PUT answers resource_already_exists_exception
    creates = es.calls("PUT", "/yq-posts-2024.05")
    assert len(creates) == 2
    assert es.calls("PUT", "/yq-posts-2024.05/_alias/yq-posts")  # made sure it is aliased
    assert second.search(SearchQuery(text="积水")).total == 2


def test_a_process_that_missed_a_clear_still_writes_searchable_months(
        es: FakeElasticsearch) -> None:
    writer, other = make(es), make(es)
    writer.add(docs(1))
    other.clear()  # e.g. yuqing reindex --all in another process
    writer.add(docs(2))  # its cache says the month exists: the cluster auto-creates it
    assert es.auto_created == ["yq-posts-2024.05"]
    # the template gave it the strict mapping and the alias
    assert es.indices["yq-posts-2024.05"].mappings["dynamic"] == "strict"
    assert other.search(SearchQuery(text="积水")).total == 2


def test_the_client_refuses_a_server_that_is_not_elasticsearch() -> None:
    with FakeElasticsearch(product_header=False) as server:
        ix = ElasticsearchIndex(server.url, prefix="yq", words=words)
        with pytest.raises(UnsupportedProductError):
            ix.search(SearchQuery())


def test_the_url_carries_credentials_and_bulk_settings(es: FakeElasticsearch) -> None:
    host = es.url.split("://", 1)[1]
    ix = open_index(f"elasticsearch+http://ops:s%40cret@{host}/?prefix=yq&chunk_size=2"
                    "&max_retries=1")
    assert isinstance(ix, ElasticsearchIndex) and ix.policy.chunk_size == 2
    ix.add(docs(3))
    assert len(es.calls("PUT", "/_bulk")) == 2
    expected = "Basic " + base64.b64encode(b"ops:s@cret").decode()
    assert {r.headers.get("authorization") for r in es.requests} == {expected}
    ix.close()
