"""A file-backed item store for crawler tests: the crawl runs in a child process, so the
items it hands over must outlive it. Counts new / updated / duplicate like ingest does."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from crawlers.items import PostItem
from crawlers.runtime import CrawlHooks


def _identity(item: dict[str, Any]) -> str:
    return f"{item['source']}|{item['external_id'] or item['url']}"


class FileStore:
    def __init__(self, path: str | Path):
        self.path = Path(path)

    def rows(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines()]

    def latest(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for row in self.rows():
            out[_identity(row)] = row
        return out

    def sink(self, items: list[PostItem]) -> dict[str, int]:
        held = self.latest()
        counts = {"new": 0, "updated": 0, "duplicate": 0, "rejected": 0}
        with self.path.open("a", encoding="utf-8") as fh:
            for item in items:
                row = json.loads(json.dumps(asdict(item), default=_iso, ensure_ascii=False))
                old = held.get(_identity(row))
                if old is None:
                    counts["new"] += 1
                elif old["reply_text"] != row["reply_text"] or old["text"] != row["text"]:
                    counts["updated"] += 1
                else:
                    counts["duplicate"] += 1
                    continue
                held[_identity(row)] = row
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        return counts

    def known(self, source: str, ids: Sequence[str], urls: Sequence[str]) -> set[str]:
        rows = [r for r in self.latest().values() if r["source"] == source]
        have = {r["external_id"] for r in rows if r["external_id"]} | {r["url"] for r in rows}
        return {x for x in [*ids, *urls] if x in have}

    def open_messages(self, source: str) -> list[str]:
        return [r["url"] for r in self.latest().values()
                if r["source"] == source and r["source_kind"] == "board" and not r["reply_text"]]


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def file_hooks(path: str, now_iso: str = "") -> CrawlHooks:
    """Hooks factory for ``crawl_in_child``: importable by name in the spawned child."""
    store = FileStore(path)
    return CrawlHooks(sink=store.sink, known=store.known, open_messages=store.open_messages,
                      now=datetime.fromisoformat(now_iso) if now_iso else None, batch_size=3)


def store_down_for_revisits(path: str, now_iso: str = "") -> CrawlHooks:
    """Hooks whose open-message query fails, as when the database is locked."""
    hooks = file_hooks(path, now_iso)

    def broken(source: str) -> list[str]:
        raise RuntimeError("database is locked")

    hooks.open_messages = broken
    return hooks


def store_unreachable(path: str, now_iso: str = "") -> CrawlHooks:
    """A hooks factory that fails in the child, as when the database cannot be opened."""
    raise ConnectionError("数据库无法连接")
