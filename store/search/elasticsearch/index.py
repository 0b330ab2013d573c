"""The Elasticsearch backend: monthly indices behind a read alias, written in bulk."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

from store.search.analyzer import WordTokenizer, default_words
from store.search.base import CountField, IndexDoc, SearchQuery, SearchResult
from store.search.elasticsearch.bodies import (
    BATCH,
    alias_name,
    alias_repairs,
    counts_body,
    create_body,
    index_action,
    index_pattern,
    index_template,
    page_body,
    search_body,
    stale_copies,
    swap_actions,
    where_body,
)
from store.search.elasticsearch.bulk import BulkPolicy, write
from store.search.query import Normalizer, ParsedQuery, fold, parse

log = logging.getLogger(__name__)
# reads through the alias find nothing (rather than fail) before the first month exists
_READ = {"ignore_unavailable": True, "allow_no_indices": True}
LOOKUP = 1000  # ids per "which index holds it" search


class ElasticsearchIndex:
    def __init__(self, url: str, prefix: str = "yuqing", words: WordTokenizer = default_words,
                 timezone: str = "Asia/Shanghai", normalize: Normalizer | None = None,
                 policy: BulkPolicy | None = None, **client_kwargs: Any):
        from elasticsearch import Elasticsearch  # imported on use: the client is heavy

        self.client = Elasticsearch(url, **client_kwargs)
        self.prefix = prefix
        self.alias = alias_name(prefix)
        self.words = words
        self.normalize = normalize
        self.timezone = timezone
        self.policy = policy or BulkPolicy()
        self._ready = False
        self._legacy = False  # an old single index still holds the alias's name
        self._months: set[str] = set()  # monthly indices known to exist

    # -- layout
    def _ensure(self) -> None:
        """Template in place, every monthly index in the alias (once per process)."""
        if self._ready:
            return
        self._legacy = self._legacy_index()
        self.client.indices.put_index_template(name=self.alias,
                                               **index_template(self.prefix, self._legacy))
        if self._legacy:
            log.warning("检索索引 %s 是旧版单一索引：新写入进入按月索引，检索仍读旧索引，"
                        "请运行 yuqing reindex --to elasticsearch 完成迁移", self.alias)
        found = dict(self.client.indices.get_alias(index=index_pattern(self.prefix)))
        self._months.update(found)
        repairs = [] if self._legacy else alias_repairs(found, self.prefix)
        if repairs:  # e.g. a month created while the old index still held the name
            self.client.indices.update_aliases(actions=repairs)
        self._ready = True

    def _legacy_index(self) -> bool:
        """Whether an old single index (not an alias) holds the alias's name."""
        return bool(self.client.indices.exists(index=self.alias)) and \
            not self.client.indices.exists_alias(name=self.alias)

    def _month(self, name: str) -> None:
        if name in self._months:
            return
        from elasticsearch import BadRequestError

        try:
            self.client.indices.create(index=name, **create_body(self.prefix, self._legacy))
        except BadRequestError as exc:  # another process created it first
            if exc.message != "resource_already_exists_exception":
                raise
            if not self._legacy:
                self.client.indices.put_alias(index=name, name=self.alias)
        self._months.add(name)

    def months(self) -> list[str]:
        """The monthly indices, oldest first."""
        self._ensure()
        return sorted(self._months)

    @property
    def legacy(self) -> bool:
        self._ensure()
        return self._legacy

    def finish_move(self) -> None:
        """After a full reindex: make everything searchable, and if an old single index holds
        the alias's name, replace it by the alias over the months in one atomic step."""
        self._ensure()
        if self._months:
            self.client.indices.refresh(index=",".join(sorted(self._months)))
        if self._legacy:
            self.client.indices.update_aliases(actions=swap_actions(self._months, self.prefix))
            self._legacy = False
            self.client.indices.put_index_template(name=self.alias,
                                                   **index_template(self.prefix))

    # -- writes
    def _locations(self, ids: list[int]) -> Iterator[dict[str, Any]]:
        for start in range(0, len(ids), LOOKUP):
            body = where_body(ids[start:start + LOOKUP])
            resp = self.client.search(index=self.alias if not self._legacy
                                      else index_pattern(self.prefix), **_READ, **body)
            yield from resp["hits"]["hits"]

    def add(self, docs: list[IndexDoc], refresh: bool | str = "wait_for") -> int:
        """Insert or replace by id, each in its month's index; a copy left in another month
        (the post's time changed) is deleted. ``refresh=False`` for bulk loads."""
        if not docs:
            return 0
        self._ensure()
        latest = {d.id: d for d in docs}  # one action per id: the last version wins
        actions = [index_action(self.prefix, d, self.words) for d in latest.values()]
        for action in actions:
            self._month(action["_index"])
        wanted = {a["_id"]: a["_index"] for a in actions}
        stale = stale_copies(self._locations(list(latest)), wanted)
        return write(self.client, [*stale, *actions], self.policy, refresh=refresh) - len(stale)

    def delete(self, ids: list[int]) -> None:
        if not ids:
            return
        self._ensure()
        actions = [{"_op_type": "delete", "_index": h["_index"], "_id": h["_id"]}
                   for h in self._locations(ids)]
        if actions:
            write(self.client, actions, self.policy, refresh="wait_for")

    # -- reads
    def parse(self, text: str) -> ParsedQuery:
        return parse(text, self.normalize)

    def _parse(self, q: SearchQuery) -> ParsedQuery | None:
        return parse(q.text, self.normalize) if q.text and q.text.strip() else None

    def _search(self, body: dict[str, Any]) -> dict[str, Any]:
        return dict(self.client.search(index=self.alias, **_READ, **body))

    def _hits(self, q: SearchQuery, parsed: ParsedQuery) -> Iterator[tuple[int, str]]:
        """Confirmed hits in result order: candidates batch by batch, each checked exactly."""
        after = None
        while True:
            hits = self._search(search_body(q, parsed, after))["hits"]["hits"]
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
            hits = self._search(page_body(q))["hits"]
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
        resp = self._search(counts_body(q, by, size, self.timezone, ids))
        # with no index at all there are no aggregations in the answer
        buckets = resp.get("aggregations", {}).get("by", {}).get("buckets", [])
        key = "key_as_string" if by == "day" else "key"
        return [(str(b[key]), b["doc_count"]) for b in buckets]

    def count_all(self) -> int:
        self._ensure()
        return int(self.client.count(index=self.alias, **_READ)["count"])

    def clear(self) -> None:
        """Delete every monthly index and an old single index if any (by name: wildcard
        deletes are refused by default since ES 8). The template stays: a process that has
        not noticed still writes correctly shaped, searchable months."""
        names = set(self.client.indices.get_alias(index=index_pattern(self.prefix)))
        if self._legacy_index():
            names.add(self.alias)
        if names:
            self.client.indices.delete(index=",".join(sorted(names)))
        self._months.clear()
        self._ready = False

    def remove_template(self) -> None:
        """Drop the index template too (tests on a shared server, uninstalling)."""
        from elasticsearch import NotFoundError

        with contextlib.suppress(NotFoundError):
            self.client.indices.delete_index_template(name=self.alias)

    def close(self) -> None:
        self.client.close()
