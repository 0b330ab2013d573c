"""Topic: a calibrated linear model blended with the taxonomy's keyword rules.

The model gives a probability per label; each topic whose keywords appear in the text gains
``rule_weight`` per distinct keyword (up to ``max_rule_hits``), then the scores are
renormalized. Rules only apply to labels that are taxonomy keys, so a customer's own label
set (e.g. department names) works unchanged. A model the customer trained that is confident
(top probability ≥ ``confident``) keeps its decision: the keyword hits are then only shown
as reasons, because on a real history the learned model beats the generic keywords. The label ``none`` (or another NONE_LABELS
value) means "no topic": noise, praise, routine news.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nlp.models import SharedCounts, TextModel
from nlp.types import TopicResult

NONE_LABELS = frozenset({"none", "noise", "无关", "非舆情"})


@dataclass(frozen=True)
class TopicRule:
    key: str
    name: str
    keywords: tuple[str, ...]


def rules_from_taxonomy(topics: Sequence[Mapping[str, Any]]) -> list[TopicRule]:
    return [TopicRule(key=str(t["key"]), name=str(t.get("name", t["key"])),
                      keywords=tuple(str(k) for k in t.get("keywords", ()) if k))
            for t in topics]


class TopicClassifier:
    def __init__(self, model: TextModel, topics: Sequence[Mapping[str, Any]],
                 rule_weight: float = 0.12, max_rule_hits: int = 3, alternatives: int = 3,
                 min_alternative: float = 0.05, confident: float = 0.5):
        self.model = model
        self.trained = not model.meta.get("default")
        self.confident = confident
        self.rules = {r.key: r for r in rules_from_taxonomy(topics)}
        self.names = {r.key: r.name for r in self.rules.values()}
        self.rule_weight = rule_weight
        self.max_rule_hits = max_rule_hits
        self.n_alternatives = alternatives
        self.min_alternative = min_alternative

    @property
    def version(self) -> str:
        return self.model.version

    def name(self, label: str | None) -> str:
        if label is None:
            return "无明确领域"
        return self.names.get(label, label)

    def keyword_hits(self, text: str) -> dict[str, list[str]]:
        hits: dict[str, list[str]] = {}
        for label in self.model.labels:
            rule = self.rules.get(label)
            if rule:
                found = [k for k in rule.keywords if k in text]
                if found:
                    hits[label] = found
        return hits

    def predict_batch(self, texts: Sequence[str], shared: SharedCounts | None = None
                      ) -> list[TopicResult]:
        """``shared``: see ``TextModel.predict_proba`` (one dict per batch of texts)."""
        probs = self.model.predict_proba(texts, shared)
        return [self._decide(text, row) for text, row in zip(texts, probs, strict=True)]

    def predict(self, text: str) -> TopicResult:
        return self.predict_batch([text])[0]

    def blend(self, text: str, row: np.ndarray) -> tuple[np.ndarray, dict[str, list[str]]]:
        hits = self.keyword_hits(text)
        scores = np.array(row, dtype=float)
        if self.overrides_rules(row):
            return scores, hits
        for i, label in enumerate(self.model.labels):
            if label in hits:
                scores[i] += self.rule_weight * min(len(hits[label]), self.max_rule_hits)
        return scores / scores.sum(), hits

    def overrides_rules(self, row: np.ndarray) -> bool:
        """A trained model's confident decision is not for the keywords to change."""
        return self.trained and len(row) > 0 and float(np.max(row)) >= self.confident

    def _decide(self, text: str, row: np.ndarray) -> TopicResult:
        scores, hits = self.blend(text, row)
        order = np.argsort(-scores)
        labels = self.model.labels
        top = labels[order[0]]
        top_prob = round(float(scores[order[0]]), 4)
        alternatives = [(self._public(labels[i]) or "none", round(float(scores[i]), 4))
                        for i in order[1:1 + self.n_alternatives]
                        if scores[i] >= self.min_alternative]
        label = self._public(top)
        reasons = [f"模型（{self.model.version}）判断为「{self.name(label)}」，"
                   f"概率 {float(row[order[0]]):.2f}"]
        if label in hits:
            reasons.append(f"命中「{self.name(label)}」关键词：{'、'.join(hits[label][:6])}")
        if hits and self.overrides_rules(row):
            reasons.append("本机构训练的模型把握较大，关键词只作参考，不改变判断")
        other_hits = [k for k in hits if k != label]
        if other_hits:
            reasons.append("也命中其他领域关键词：" + "；".join(
                f"{self.name(k)}（{'、'.join(hits[k][:3])}）" for k in other_hits[:3]))
        if label is None:
            reasons.append("内容像日常信息、正面报道或例行政务动态，不归入舆情领域")
        if alternatives:
            reasons.append("其他可能：" + "、".join(
                f"{self.name(None if a == 'none' else a)} {p:.2f}" for a, p in alternatives))
        return TopicResult(label=label, prob=top_prob, alternatives=alternatives,
                           reasons=reasons)

    @staticmethod
    def _public(label: str) -> str | None:
        return None if label in NONE_LABELS else label


def cross_validate_hybrid(texts: Sequence[str], labels: Sequence[str], tokenizer: Any,
                          topics: Sequence[Mapping[str, Any]], folds: int = 5,
                          seed: int = 13, as_default: bool = True,
                          settings: Any = None) -> dict[str, float]:
    """Macro-F1 of the bare model and of model + keyword rules, on the same folds.

    ``as_default`` measures the shipped default's blend; ``False`` a customer-trained
    model's (rules only below the confidence threshold)."""
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold

    from nlp.models import TrainSettings, train

    texts, labels = list(texts), list(labels)
    bare_pred: list[str] = [""] * len(texts)
    hybrid_pred: list[str] = [""] * len(texts)
    skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train_idx, test_idx in skf.split(texts, labels):
        model = train("topic", [texts[i] for i in train_idx], [labels[i] for i in train_idx],
                      tokenizer, settings or TrainSettings(seed=seed), evaluate=False,
                      meta={"default": as_default})
        clf = TopicClassifier(model, topics)
        held = [texts[i] for i in test_idx]
        probs = model.predict_proba(held)
        for i, text, row in zip(test_idx, held, probs, strict=True):
            bare_pred[i] = model.labels[int(np.argmax(row))]
            blended, _ = clf.blend(text, row)
            hybrid_pred[i] = model.labels[int(np.argmax(blended))]
    return {"model_macro_f1": float(f1_score(labels, bare_pred, average="macro")),
            "hybrid_macro_f1": float(f1_score(labels, hybrid_pred, average="macro"))}
