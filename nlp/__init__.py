"""Understanding: normalization, tokenization, topic, sentiment, severity, places, events."""

from nlp.types import (
    Analysis,
    EventRef,
    PlaceMatch,
    PostInput,
    SentimentResult,
    SeverityFactor,
    SeverityResult,
    TopicResult,
)

__all__ = [
    "Analysis",
    "EventRef",
    "PlaceMatch",
    "PostInput",
    "SentimentResult",
    "SeverityFactor",
    "SeverityResult",
    "TopicResult",
]
