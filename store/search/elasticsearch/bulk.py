"""Bulk writes with retries and back-pressure, over the official client's streaming helper.

``helpers.streaming_bulk`` sends bounded chunks (documents and bytes) one at a time and
consumes the actions lazily, so a producer (the reindex reading the database) never runs
ahead of what the cluster has acknowledged: that is the back-pressure. A rejection — the
whole request answered 429, or single items rejected with 429 when the write queue is full —
is retried after ``initial_backoff`` seconds, doubling up to ``max_backoff``; only the
rejected items are sent again. The transport's own immediate 429 retries are switched off
for these requests, so the backoff is the helper's and not a burst of resends.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class BulkPolicy:
    chunk_size: int = 500  # documents per request
    max_chunk_bytes: int = 10 * 1024 * 1024  # far below http.max_content_length (100 MB)
    max_retries: int = 6  # per chunk; 1+2+4+8+16+32 s of waiting before giving up
    initial_backoff: float = 1.0
    max_backoff: float = 60.0

    def __post_init__(self) -> None:
        if self.chunk_size < 1 or self.max_chunk_bytes < 1 or self.max_retries < 0:
            raise ValueError("批量写入参数应为正数")


class BulkWriteError(RuntimeError):
    """Items the cluster refused for good (or still rejected after every retry)."""

    def __init__(self, failures: list[dict[str, Any]]):
        self.failures = failures
        shown = "；".join(_describe(f) for f in failures[:3])
        super().__init__(f"Elasticsearch 拒绝写入 {len(failures)} 条：{shown}")


class ClusterBusyError(RuntimeError):
    """The cluster still answered 429 to a whole request after every retry."""


def _describe(failure: dict[str, Any]) -> str:
    (op, info), = failure.items()
    error = info.get("error")
    reason = error.get("reason") or error.get("type") if isinstance(error, dict) else error
    return f"{op} {info.get('_index')}/{info.get('_id')} 状态 {info.get('status')} {reason or ''}"


def write(client: Any, actions: Iterable[dict[str, Any]], policy: BulkPolicy,
          refresh: bool | str = False) -> int:
    """Send the actions; returns how many succeeded, raises ``BulkWriteError`` listing the
    failed ones after the rest were sent. Deleting an id that is not there is not a failure."""
    from elasticsearch import ApiError, helpers

    bulk_client = client.options(retry_on_status=(502, 503, 504))
    done = 0
    failures: list[dict[str, Any]] = []
    try:
        for ok, item in helpers.streaming_bulk(
                bulk_client, actions, chunk_size=policy.chunk_size,
                max_chunk_bytes=policy.max_chunk_bytes, max_retries=policy.max_retries,
                initial_backoff=policy.initial_backoff, max_backoff=policy.max_backoff,
                raise_on_error=False, yield_ok=True, refresh=refresh):
            (op, info), = item.items()
            if ok or (op == "delete" and info.get("status") == 404):
                done += 1
            else:
                failures.append(item)
    except ApiError as exc:
        if exc.status_code != 429:
            raise
        raise ClusterBusyError(f"Elasticsearch 持续繁忙（429），重试 {policy.max_retries} 次后"
                               f"放弃；已写入 {done} 条，请稍后重试") from exc
    if failures:
        raise BulkWriteError(failures)
    return done
