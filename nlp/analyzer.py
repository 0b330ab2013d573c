"""The whole analysis of a post: normalize → tokenize → topic → sentiment → places → event
→ severity (+ keywords). Configuration arrives as plain data; models load lazily on first use.

Event statistics for severity (velocity, spread): if the event assigner has a method
``event_stats(event_id)`` or ``stats(event_id)`` returning EventStats, a mapping or an object
with ``posts``/``post_count``, ``sources``/``distinct_sources``, ``posts_per_hour`` (and
optionally ``posts_last_hour``), it is called after ``assign``; callers may also pass
``event_stats`` to ``analyze``/``analyze_batch`` (keyed by post id in the batch form), which
wins.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import threading
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from nlp.keywords import keywords
from nlp.models import SharedCounts, TextModel
from nlp.normalize import analysis_text
from nlp.registry import ModelStore
from nlp.sentiment import SentimentClassifier
from nlp.severity import LEVEL_NAMES, SEVERITY_LABELS, EventStats, SeverityScorer, stats_from
from nlp.tokenize import Tokenizer
from nlp.topic import TopicClassifier
from nlp.types import (
    Analysis,
    EventAssigner,
    EventRef,
    PlaceFinder,
    PlaceMatch,
    PostInput,
    SentimentResult,
    TopicResult,
)

log = logging.getLogger(__name__)

BATCH = 256
_LEARNED_NAMES = {"I": LEVEL_NAMES[1], "II": LEVEL_NAMES[2], "III": LEVEL_NAMES[3],
                  "IV": LEVEL_NAMES[4], "none": "不预警"}  # one sklearn call per chunk: the fixed per-call cost is paid once per chunk


class Analyzer:
    def __init__(self, topics: Sequence[Mapping[str, Any]],
                 severity: Mapping[str, Any] | None = None,
                 home_places: Iterable[str] = (),
                 models_dir: Path | str | None = None,
                 cache_dir: Path | str | None = None,
                 place_finder: PlaceFinder | None = None,
                 event_assigner: EventAssigner | None = None,
                 urgent_categories: Mapping[str, str] | None = None,
                 extra_words: Iterable[str] = ()):
        topics = [dict(t) for t in topics]
        words = [*home_places, *extra_words]
        self.tokenizer = Tokenizer(extra_words=words)
        self.store = ModelStore(models_dir, self.tokenizer, cache_dir)
        self.topics = topics
        self.scorer = SeverityScorer(topics, severity, urgent_categories)
        self.place_finder = place_finder
        self.event_assigner = event_assigner
        self._boost = frozenset(self.tokenizer.words)
        self._lock = threading.Lock()
        self._topic: TopicClassifier | None = None
        self._sentiment: SentimentClassifier | None = None
        self._severity_model: TextModel | bool | None = False  # False: not looked up yet
        cfg = json.dumps(self.scorer.cfg, sort_keys=True, ensure_ascii=False, default=str)
        self.rules_version = "severity-rules-" + hashlib.sha1(cfg.encode()).hexdigest()[:10]

    # --- models, loaded once ---
    @property
    def topic_classifier(self) -> TopicClassifier:
        if self._topic is None:
            with self._lock:
                if self._topic is None:
                    model = self.store.get("topic")
                    assert model is not None  # a default topic model always exists
                    self._topic = TopicClassifier(model, self.topics)
        return self._topic

    @property
    def sentiment_classifier(self) -> SentimentClassifier:
        if self._sentiment is None:
            with self._lock:
                if self._sentiment is None:
                    model = self.store.get("sentiment")
                    assert model is not None
                    self._sentiment = SentimentClassifier(model)
        return self._sentiment

    @property
    def severity_model(self) -> TextModel | None:
        if self._severity_model is False:
            self._severity_model = self.store.get("severity")
        return self._severity_model or None

    def reload(self) -> None:
        """Forget loaded models; the next analysis loads what is installed now."""
        with self._lock:
            self.store.forget()
            self._topic = self._sentiment = None
            self._severity_model = False

    def model_versions(self) -> dict[str, str]:
        versions = {"topic": self.topic_classifier.version,
                    "sentiment": self.sentiment_classifier.version,
                    "severity_rules": self.rules_version}
        if self.severity_model is not None:
            versions["severity"] = self.severity_model.version
        return versions

    # --- analysis ---
    def analyze(self, post: PostInput, event_stats: EventStats | Mapping[str, Any] | None = None
                ) -> Analysis:
        stats = {post.id: event_stats} if event_stats is not None else None
        return self.analyze_batch([post], stats)[0]

    def analyze_batch(self, posts: Sequence[PostInput],
                      event_stats: Mapping[str, Any] | None = None) -> list[Analysis]:
        out: list[Analysis] = []
        for start in range(0, len(posts), BATCH):
            out.extend(self._chunk(posts[start:start + BATCH], event_stats or {}))
        return out

    def _chunk(self, posts: Sequence[PostInput], event_stats: Mapping[str, Any]
               ) -> list[Analysis]:
        if self.store.changed():  # a model installed by `yuqing train` applies without restart
            log.info("检测到新安装的模型，重新加载")
            self.reload()
        texts = [analysis_text(p.title, p.text) for p in posts]
        tokens = [self.tokenizer.words_of(t) for t in texts]
        shared: SharedCounts = {}  # each text's n-grams counted once for all the models
        topics = self.topic_classifier.predict_batch(texts, shared)
        sentiments = self.sentiment_classifier.predict_batch(texts, shared)
        learned = self._learned(texts, shared)
        versions = self.model_versions()
        results = []
        for i, post in enumerate(posts):
            places = self._places(post, texts[i])
            event = self._event(post, texts[i], tokens[i], places)
            stats = stats_from(event_stats.get(post.id)) if post.id in event_stats else None
            if stats is None and event is not None:
                stats = self._stats_of(event, post)
            severity = self.scorer.score(post, texts[i], topics[i], sentiments[i], stats,
                                         learned[i])
            results.append(Analysis(
                post_id=post.id, normalized_text=texts[i], topic=topics[i],
                sentiment=sentiments[i], severity=severity, places=places, event=event,
                keywords=keywords(tokens[i], boost=self._boost),
                model_versions=dict(versions)))
        return results

    def _learned(self, texts: list[str], shared: SharedCounts | None = None
                 ) -> list[tuple[float, str] | None]:
        model = self.severity_model
        if model is None:
            return [None] * len(texts)
        probs = model.predict_proba(texts, shared)
        values = np.array([SEVERITY_LABELS.get(lab, 0.0) for lab in model.labels])
        out: list[tuple[float, str] | None] = []
        for row in probs:
            best = int(np.argmax(row))
            label = model.labels[best]
            name = _LEARNED_NAMES.get(label, label)
            out.append((float(row @ values),
                        f"历史研判模型（{model.version}）：类似案例多判为 {name}（{row[best]:.2f}）"))
        return out

    def _places(self, post: PostInput, text: str) -> list[PlaceMatch]:
        if self.place_finder is None:
            return []
        try:
            return list(self.place_finder.find(text, post.default_place))
        except Exception:
            # a faulty gazetteer must not cost the post its topic and severity
            log.exception("地名识别失败：帖子 %s", post.id)
            return []

    def _event(self, post: PostInput, text: str, tokens: list[str],
               places: list[PlaceMatch]) -> EventRef | None:
        if self.event_assigner is None:
            return None
        try:
            return self.event_assigner.assign(post, text, tokens, places)
        except Exception:
            log.exception("事件归并失败：帖子 %s", post.id)
            return None

    def _stats_of(self, event: EventRef, post: PostInput) -> EventStats | None:
        getter = (getattr(self.event_assigner, "event_stats", None)
                  or getattr(self.event_assigner, "stats", None))
        if getter is None:
            return None
        try:
            # rates as of the post's own time when the assigner can say so: an audit run over
            # last month's posts must not measure velocity against today
            if post.published_at is not None and _takes_now(getter):
                return stats_from(getter(event.id, now=post.published_at))
            return stats_from(getter(event.id))
        except Exception:
            log.exception("事件统计失败：事件 %s", event.id)
            return None


@lru_cache(maxsize=64)
def _takes_now(fn: Any) -> bool:
    # asked once per post: inspect.signature costs more than the statistics it guards
    try:
        return "now" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def topic_alternatives(result: TopicResult) -> list[dict[str, Any]]:
    return [{"label": None if label == "none" else label, "prob": prob}
            for label, prob in result.alternatives]


def to_audit_dict(analysis: Analysis) -> dict[str, Any]:
    """The stable per-post JSON of ``yuqing analyze`` (documented in nlp/README.md)."""
    sentiment: SentimentResult = analysis.sentiment
    sev = analysis.severity
    event = analysis.event
    return {
        "id": analysis.post_id,
        "topic": {"label": analysis.topic.label, "prob": analysis.topic.prob,
                  "alternatives": topic_alternatives(analysis.topic),
                  "reasons": analysis.topic.reasons},
        "sentiment": {"label": sentiment.label, "score": sentiment.score,
                      "reasons": sentiment.reasons},
        "severity": {"level": sev.level, "level_name": LEVEL_NAMES.get(sev.level or 0),
                     "score": sev.score,
                     "factors": [{"name": f.name, "contribution": f.contribution,
                                  "reason": f.reason} for f in sev.factors]},
        "places": [{"name": p.name, "code": p.code, "level": p.level,
                    "confidence": p.confidence, "text": p.text} for p in analysis.places],
        "event": None if event is None else event.id,
        "keywords": analysis.keywords,
        "model_versions": analysis.model_versions,
    }
