"""Understanding: normalization, tokenization, topic, sentiment, severity, places, events.

Public API: build an ``Analyzer`` from plain config data, then ``analyzer.analyze(post)`` /
``analyzer.analyze_batch(posts)``. The wiring may install one process-wide analyzer with
``nlp.use(analyzer)`` so callers can write ``nlp.analyze(post)``. Importing loads no model.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import import_module
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from nlp.analyzer import Analyzer, to_audit_dict
    from nlp.models import TextModel, TrainingError
    from nlp.normalize import analysis_text
    from nlp.posts import PostError, post_from_dict
    from nlp.severity import EventStats, SeverityConfigError
    from nlp.tokenize import Tokenizer

# Heavy parts (scikit-learn, numpy) load on first use: ``routing`` imports ``nlp.types``
# and must not pay for them. (``nlp.normalize`` is the module; its function has the same name.)
_LAZY = {
    "Analyzer": "nlp.analyzer", "to_audit_dict": "nlp.analyzer",
    "TextModel": "nlp.models", "TrainingError": "nlp.models",
    "analysis_text": "nlp.normalize",
    "PostError": "nlp.posts", "post_from_dict": "nlp.posts",
    "EventStats": "nlp.severity", "SeverityConfigError": "nlp.severity",
    "Tokenizer": "nlp.tokenize",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'nlp' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


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
    "post_from_dict",
    "to_audit_dict",
    "use",
]
