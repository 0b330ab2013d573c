"""TextModel.predict_proba computes the features itself (n-grams made and counted in C,
shared by the models of a batch): the probabilities must be scikit-learn's, bit for bit."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from nlp.analyzer import Analyzer
from nlp.models import MODEL_CHARS, TrainSettings, train
from nlp.tokenize import Tokenizer

DATA = Path(__file__).resolve().parents[2] / "nlp" / "data"
ODD = ["", "   ", "！！！", "ABC abc Ｄef\t\t  GHI", "a", "一", "多次  投诉\n\n无果" * 3,
       "这是一个很长的测试文本，" * 80]


def _texts(name: str, n: int) -> list[str]:
    with open(DATA / name, encoding="utf-8") as fh:
        return [json.loads(line)["text"] for line in fh][:n]


def test_default_models_give_scikit_learns_probabilities(analyzer: Analyzer) -> None:
    texts = _texts("topic_seed.jsonl", 150) + _texts("sentiment_seed.jsonl", 150) + ODD
    shared: dict = {}
    for model in (analyzer.topic_classifier.model, analyzer.sentiment_classifier.model):
        expected = model.pipeline.predict_proba([t[:MODEL_CHARS] for t in texts])
        assert np.array_equal(model.predict_proba(texts), expected)
        # the second model reads the n-grams the first one made
        assert np.array_equal(model.predict_proba(texts, shared), expected)
    assert shared  # both default models cut characters and words alike: shared


def test_other_vectorizer_settings_give_scikit_learns_probabilities() -> None:
    texts = _texts("topic_seed.jsonl", 120)
    labels = [json.loads(line)["label"] for line in
              (DATA / "topic_seed.jsonl").read_text("utf-8").splitlines()][:120]
    settings = TrainSettings(word_ngrams=(1, 3), char_ngrams=(2, 3), cv_folds=2)
    model = train("topic", texts, labels, Tokenizer(), settings, evaluate=False)
    probe = texts[:40] + ODD
    expected = model.pipeline.predict_proba([t[:MODEL_CHARS] for t in probe])
    assert np.array_equal(model.predict_proba(probe, {}), expected)
