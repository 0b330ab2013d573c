"""Elasticsearch backend (official client) for when posts outgrow one SQLite file.

``bodies``: what is sent (pure); ``bulk``: writes with retries and back-pressure;
``index``: the ``SearchIndex`` over monthly indices behind a read alias.
"""

from store.search.elasticsearch.bodies import (
    MAPPINGS,
    SETTINGS,
    alias_name,
    alias_repairs,
    counts_body,
    create_body,
    document,
    index_action,
    index_pattern,
    index_template,
    month_index,
    page_body,
    search_body,
    stale_copies,
    swap_actions,
    term_query,
    where_body,
)
from store.search.elasticsearch.bulk import BulkPolicy, BulkWriteError, ClusterBusyError
from store.search.elasticsearch.index import ElasticsearchIndex

__all__ = ["MAPPINGS", "SETTINGS", "BulkPolicy", "BulkWriteError", "ClusterBusyError",
           "ElasticsearchIndex",
           "alias_name", "alias_repairs", "counts_body", "create_body", "document",
           "index_action", "index_pattern", "index_template", "month_index", "page_body",
           "search_body", "stale_copies", "swap_actions", "term_query", "where_body"]
