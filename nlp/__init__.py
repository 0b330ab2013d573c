"""Understanding: normalization, tokenization, topic, sentiment, severity, places, events.

Public API: build an ``Analyzer`` from plain config data, then ``analyzer.analyze(post)`` /
``analyzer.analyze_batch(posts)``. The wiring may install one process-wide analyzer with
``nlp.use(analyzer)`` so callers can write ``nlp.analyze(post)``. Importing loads no model.
"""

from __future__ import annotations

from collections.abc import Sequence

from nlp.analyzer import Analyzer, to_audit_dict
from nlp.models import TextModel, TrainingError
from nlp.normalize import analysis_text, normalize
from nlp.posts import PostError, post_from_dict
from nlp.severity import EventStats, SeverityConfigError
from nlp.tokenize import Tokenizer
from nlp.types import (
    Analysis,
    EventAssigner,
    EventRef,
    PlaceFinder,
    PlaceMatch,
    PostInput,
    SentimentResult,
    SeverityFactor,
    SeverityResult,
    TopicResult,
)

_default: Analyzer | None = None


def use(analyzer: Analyzer | None) -> None:
    """Install (or clear) the analyzer behind ``nlp.analyze`` / ``nlp.analyze_batch``."""
    global _default
    _default = analyzer


def _current() -> Analyzer:
    if _default is None:
        raise RuntimeError("nlp 尚未配置：请先调用 nlp.use(Analyzer(...))")
    return _default


def analyze(post: PostInput) -> Analysis:
    return _current().analyze(post)


def analyze_batch(posts: Sequence[PostInput]) -> list[Analysis]:
    return _current().analyze_batch(posts)


__all__ = [
    "Analysis",
    "Analyzer",
    "EventAssigner",
    "EventRef",
    "EventStats",
    "PlaceFinder",
    "PlaceMatch",
    "PostError",
    "PostInput",
    "SentimentResult",
    "SeverityConfigError",
    "SeverityFactor",
    "SeverityResult",
    "TextModel",
    "Tokenizer",
    "TopicResult",
    "TrainingError",
    "analysis_text",
    "analyze",
    "analyze_batch",
    "normalize",
    "post_from_dict",
    "to_audit_dict",
    "use",
]
