"""What a crawl is given (hooks into the store) and what it gives back (its result).

``crawlers`` never imports the store: the wiring passes plain callables. The result is plain
data so a child process can send it back to its parent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from crawlers.items import PostItem

MAX_ERROR_SAMPLES = 50  # a site that breaks every page must not bloat the health record

# sink(items) -> counts {"new", "updated", "duplicate", "rejected"} (or an object with them)
Sink = Callable[[list[PostItem]], Any]
# known(source_key, external_ids, urls) -> the ids and urls among them already stored
Known = Callable[[str, Sequence[str], Sequence[str]], set[str]]
# open_messages(source_key) -> URLs of board messages still waiting for an official reply
OpenMessages = Callable[[str], list[str]]


def _no_known(source: str, ids: Sequence[str], urls: Sequence[str]) -> set[str]:
    return set()


def _no_open(source: str) -> list[str]:
    return []


@dataclass
class CrawlHooks:
    sink: Sink
    known: Known = _no_known
    open_messages: OpenMessages = _no_open
    now: datetime | None = None  # the crawl time relative dates count from; default: start
    batch_size: int = 200
    close: Callable[[], None] | None = None


@dataclass
class CrawlResult:
    source: str
    pages: int = 0  # responses parsed
    items: int = 0  # items handed to the sink
    new: int = 0
    updated: int = 0
    duplicate: int = 0
    rejected: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)
    error_count: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    stopped_early: bool = False  # paging stopped at items already held
    sink_failures: int = 0  # batches the store refused; the run is then not healthy
    idle: bool = False  # nothing to fetch this run (an import folder without new files)

    def record_error(self, url: str, reason: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERROR_SAMPLES:
            self.errors.append({"url": url, "reason": reason})

    def add_counts(self, counts: Any) -> None:
        """Add a sink's answer: a mapping or an object with new/updated/duplicate/rejected,
        and optionally ``errors`` ([{url, reason}]) for items the store refused."""
        errors = counts.get("errors") if isinstance(counts, Mapping) else None
        for err in errors or ():
            self.record_error(str(err.get("url", "")), str(err.get("reason", "")))
        for name in ("new", "updated", "duplicate", "rejected"):
            value = counts.get(name, 0) if isinstance(counts, Mapping) else getattr(counts, name, 0)
            if isinstance(value, list | tuple | set):  # IngestReport.rejected is a list of reasons
                value = len(value)
            setattr(self, name, getattr(self, name) + int(value or 0))

    @property
    def ok(self) -> bool:
        """Healthy when at least one page was read (or there was nothing to read) and
        everything found reached the store."""
        return (self.pages > 0 or self.idle) and self.sink_failures == 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
