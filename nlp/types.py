"""Data classes shared by every analysis step and by the callers of ``nlp``.

This module is the contract between ``nlp`` and the rest of yuqing (routing and
the store read these fields). Every result carries its reasons so the console
can show *why*; reasons are user-facing and therefore in Simplified Chinese.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(slots=True)
class PostInput:
    """One post as analysis sees it; every field but ``text`` may be missing."""

    id: str
    text: str
    title: str = ""
    source: str = ""
    source_kind: str = ""  # news / social / forum / board / hotline / import
    author: str = ""
    published_at: datetime | None = None
    url: str = ""
    reposts: int = 0
    comments: int = 0
    likes: int = 0
    followers: int = 0
    authority: str = ""  # central / provincial / local / verified / user
    default_place: str = ""  # GB/T 2260 or 9-digit code from the source config


@dataclass(slots=True)
class TopicResult:
    label: str | None  # taxonomy key, or None when nothing fits (noise)
    prob: float
    alternatives: list[tuple[str, float]] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)


@dataclass(slots=True)
class SentimentResult:
    label: str  # negative / neutral / positive
    score: float  # -1.0 (most negative) .. 1.0 (most positive)
    reasons: list[str] = field(default_factory=list)


@dataclass(slots=True)
class SeverityFactor:
    name: str  # stable key, e.g. "risk_terms"
    contribution: float  # points added to the score
    reason: str  # Chinese explanation shown to monitors


@dataclass(slots=True)
class SeverityResult:
    level: int | None  # 1 = I 特别重大 .. 4 = IV 一般; None = not an alert
    score: float
    factors: list[SeverityFactor] = field(default_factory=list)


@dataclass(slots=True)
class PlaceMatch:
    name: str  # full name, e.g. 江苏省南京市江宁区东山街道
    code: str  # 6-digit GB/T 2260 or 9/12-digit statistical code
    level: str  # province / city / district / township / village
    confidence: float
    text: str  # the words in the post that matched
    reasons: list[str] = field(default_factory=list)


@dataclass(slots=True)
class EventRef:
    """Which event (cluster) a post joined; ids are stable within one EventIndex."""

    id: str
    is_new: bool
    duplicate_of: str | None = None  # post id this one repeats (exact or near)
    similarity: float = 0.0
    reasons: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Analysis:
    post_id: str
    normalized_text: str
    topic: TopicResult
    sentiment: SentimentResult
    severity: SeverityResult
    places: list[PlaceMatch] = field(default_factory=list)
    event: EventRef | None = None
    keywords: list[str] = field(default_factory=list)
    model_versions: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class PlaceFinder(Protocol):
    """Finds the places a post concerns (implemented in ``nlp.places``)."""

    def find(self, text: str, default_place: str = "") -> list[PlaceMatch]: ...


class EventAssigner(Protocol):
    """Assigns a post to an event (implemented in ``nlp.events``)."""

    def assign(self, post: PostInput, normalized_text: str, tokens: list[str],
               places: list[PlaceMatch]) -> EventRef: ...
