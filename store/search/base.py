"""The search index interface both backends implement, and the values that cross it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

from store.search.query import ParsedQuery

CountField = Literal["day", "topic", "sentiment", "severity", "source", "place"]
Order = Literal["relevance", "newest"]


@dataclass(slots=True)
class IndexDoc:
    """What the index keeps of a post: the text to match and the fields to filter and count."""

    id: int
    title: str
    text: str
    at: datetime  # published time, else collected time; aware
    source: str = ""
    source_kind: str = ""
    topic: str | None = None
    sentiment: str | None = None
    severity: int | None = None
    places: list[str] = field(default_factory=list)  # division codes
    event_id: int | None = None
    reply: str = ""  # the government's reply (留言板, 12345), searched with title and body

    def haystack(self) -> str:
        """The text a query is matched against: title, body and reply."""
        return "\n".join(part for part in (self.title, self.text, self.reply) if part)


@dataclass(slots=True)
class SearchQuery:
    text: str = ""
    since: datetime | None = None
    until: datetime | None = None  # exclusive
    sources: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    severities: list[int] = field(default_factory=list)
    sentiments: list[str] = field(default_factory=list)
    place: str = ""  # a division code; matches it and everything below it
    event_id: int | None = None
    kinds: list[str] = field(default_factory=list)  # source kinds (news, weibo, board, ...)
    event_ids: list[int] | None = None  # only posts of these events (None: no restriction)
    exclude_event_ids: list[int] = field(default_factory=list)
    order: Order = "relevance"
    limit: int = 20
    offset: int = 0


@dataclass(slots=True)
class SearchResult:
    """``total`` is exact; ``texts`` holds the matched text of each returned id (snippets)."""

    total: int
    ids: list[int]
    texts: dict[int, str] = field(default_factory=dict)


class SearchIndex(Protocol):
    def add(self, docs: list[IndexDoc]) -> None:
        """Insert or replace these documents (by id)."""

    def delete(self, ids: list[int]) -> None: ...

    def parse(self, text: str) -> ParsedQuery:
        """``text`` read as this index reads it (its normalizer applied); raises
        ``QuerySyntaxError`` when malformed. Callers use it to validate and to highlight."""

    def search(self, query: SearchQuery) -> SearchResult:
        """Posts whose text holds the query (``store.search.query``) exactly as a substring
        scan would find them; raises ``QuerySyntaxError`` for a malformed query."""

    def counts(self, query: SearchQuery, by: CountField, size: int = 50) -> list[tuple[str, int]]:
        """Documents matching ``query`` counted by a field, largest first (days in order)."""

    def clear(self) -> None: ...

    def close(self) -> None: ...
