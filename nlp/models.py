"""Text classifiers: one scikit-learn Pipeline with its tokenizer inside, saved with its
label map, training settings, metrics and a version string.

Features: TF-IDF over jieba words (1–2-grams) plus character 1–3-grams (robust to words the
dictionary splits badly); classifier: a linear SVM wrapped in temperature-scaling calibration
(scikit-learn ≥ 1.8) so the probabilities mean something to a monitor. Every prediction reports the model version.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
import unicodedata
from collections import Counter
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import sklearn
from scipy import sparse
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import classification_report, confusion_matrix, f1_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from nlp.lexicon import LexiconFeatures
from nlp.tokenize import Tokenizer

FORMAT = 1
# Names the feature/classifier recipe below; part of every version and of the default-model
# cache key, so changing the recipe rebuilds cached defaults.
RECIPE = "tfidf-word-char(+lexicon10)+linearsvc-temperature-4"
# Models read the title and the head of the body: that is where a post says what it is
# about, and it bounds the cost of a 20,000-character page. Rules still read everything.
MODEL_CHARS = 512
PARALLEL_CV_MIN = 2000
PARALLEL_CV_JOBS = 2  # the machines this runs on have two cores
MIN_PER_CLASS = 5  # fewer examples than this cannot be cross-validated or calibrated honestly


class TrainingError(ValueError):
    """Training input that cannot produce a model; the message is shown to the user."""


@dataclass
class TrainSettings:
    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] = (1, 2)  # 1-3 scored no better on the seeds, 25% slower
    # Word n-grams seen in one text only. Sentiment drops them: with the written reviews they
    # were 3/4 of a 67,000-term vocabulary, and unpickling it (joblib reads dicts in pure
    # Python) made the cached default load 5x slower, for no accuracy (review batches A-G
    # 0.896 vs 0.897).
    word_min_df: int = 1
    C: float = 1.0
    class_weight: str | None = "balanced"
    cv_folds: int = 5
    seed: int = 13
    lexicon: bool = False  # polarity-lexicon features (nlp/lexicon.py): sentiment only
    lexicon_weight: float = 1.0

    @classmethod
    def for_kind(cls, kind: str) -> TrainSettings:
        if kind == "sentiment":
            return cls(lexicon=True, word_min_df=2)
        return cls()

    def to_dict(self) -> dict[str, Any]:
        return {"recipe": RECIPE, "word_ngrams": list(self.word_ngrams),
                "char_ngrams": list(self.char_ngrams), "word_min_df": self.word_min_df,
                "C": self.C,
                "class_weight": self.class_weight, "cv_folds": self.cv_folds,
                "seed": self.seed, "lexicon": self.lexicon,
                "lexicon_weight": self.lexicon_weight}


@dataclass
class TextModel:
    kind: str  # topic / sentiment / severity
    pipeline: Pipeline
    labels: list[str]
    version: str
    settings: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    def predict_proba(self, texts: Sequence[str], shared: SharedCounts | None = None
                      ) -> np.ndarray:
        """Rows follow ``texts``; columns follow ``self.labels``.

        ``shared``: one dict per batch handed to every model that reads the batch, so the
        n-grams of a text are cut and counted once for all models whose vectorizers are
        configured alike (topic and sentiment both read character 1–2-grams and the same
        words). The numbers are those of ``pipeline.predict_proba``."""
        if not texts:
            return np.zeros((0, len(self.labels)))
        heads = [t[:MODEL_CHARS] for t in texts]
        features = _union_features(self.pipeline, heads, shared)
        if features is None:  # a pipeline of another shape: scikit-learn's own way
            return self.pipeline.predict_proba(heads)
        return self.pipeline.steps[-1][1].predict_proba(features)

    def save(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        # a private temp name: two processes building the same default model never clobber
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        joblib.dump({"format": FORMAT, "kind": self.kind, "pipeline": self.pipeline,
                     "labels": self.labels, "version": self.version,
                     "settings": self.settings, "metrics": self.metrics, "meta": self.meta},
                    tmp)
        tmp.replace(path)  # atomic: a reader never sees half a model
        path.with_suffix(".json").write_text(json.dumps(
            {"kind": self.kind, "version": self.version, "labels": self.labels,
             "settings": self.settings, "metrics": self.metrics, "meta": self.meta},
            ensure_ascii=False, indent=2), encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: Path) -> TextModel:
        data = joblib.load(path)
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise TrainingError(f"模型文件格式不兼容：{path}")
        return cls(kind=data["kind"], pipeline=data["pipeline"], labels=list(data["labels"]),
                   version=data["version"], settings=data.get("settings", {}),
                   metrics=data.get("metrics", {}), meta=data.get("meta", {}))


# Per batch: analyser configuration -> text -> the n-grams of that text (every occurrence).
SharedCounts = MutableMapping[Any, dict[str, list[str]]]
_WHITE_SPACES = re.compile(r"\s\s+")  # as scikit-learn's _char_ngrams folds them


def _analysis_key(vec: TfidfVectorizer) -> tuple[Any, ...] | None:
    """What the vectorizer's n-grams depend on, or None for a configuration ``_grams`` does
    not reproduce (then scikit-learn's ``transform`` runs, and nothing is shared)."""
    if (vec.input != "content" or vec.preprocessor is not None or vec.stop_words is not None
            or vec.strip_accents is not None or vec.analyzer not in ("char", "word")):
        return None
    tokens: Any = None
    if vec.analyzer == "word":
        if isinstance(vec.tokenizer, Tokenizer):
            tokens = ("tokenizer", vec.tokenizer._cache_key)
        elif vec.tokenizer is None:
            tokens = ("pattern", vec.token_pattern)
        else:
            return None
    return (vec.analyzer, tuple(vec.ngram_range), vec.lowercase, tokens)


def _grams(vec: TfidfVectorizer, doc: str) -> list[str]:
    """The n-grams ``vec.build_analyzer()(doc)`` yields (in another order): each length
    made in one pass of C-level map/zip instead of a Python loop over positions."""
    if vec.lowercase:
        doc = doc.lower()
    min_n, max_n = vec.ngram_range
    if vec.analyzer == "char":
        units: Any = _WHITE_SPACES.sub(" ", doc)
        join = "".join
    else:
        units = vec.build_tokenizer()(doc)
        join = " ".join
        if max_n == 1:
            return list(units)
    out: list[str] = []
    for n in range(min_n, min(max_n, len(units)) + 1):
        if n == 1:
            out.extend(units)
        else:
            out.extend(map(join, zip(*(units[i:] for i in range(n)), strict=False)))
    return out


def _tfidf_rows(vec: TfidfVectorizer, texts: list[str], shared: SharedCounts | None
                ) -> Any:
    """``vec.transform(texts)`` with the same numbers: the n-grams made and looked up in the
    vocabulary by C-level loops and counted by scipy (summing duplicate entries), where
    scikit-learn counts them in a Python loop; the n-grams are shared through ``shared``."""
    store = shared.setdefault(_analysis_key(vec), {}) if shared is not None else {}
    vocabulary = vec.vocabulary_
    columns: list[int] = []
    lengths: list[int] = []
    for doc in texts:
        grams = store.get(doc)
        if grams is None:
            grams = store[doc] = _grams(vec, doc)
        columns.extend(map(vocabulary.get, grams, repeat(-1)))
        lengths.append(len(grams))
    idx = np.asarray(columns, dtype=np.int64)
    known = idx >= 0
    rows = np.repeat(np.arange(len(texts)), lengths)[known]
    counted = sparse.csr_matrix(
        (np.ones(len(rows), dtype=np.intc), (rows, idx[known])),
        shape=(len(texts), len(vocabulary)), dtype=vec.dtype)
    counted.sum_duplicates()  # the counts, with sorted indices as scikit-learn leaves them
    if vec.binary:
        counted.data.fill(1)
    return vec._tfidf.transform(counted, copy=False)


def _union_features(pipeline: Pipeline, texts: list[str], shared: SharedCounts | None
                    ) -> Any:
    """The features step of ``build_pipeline``'s pipeline (a FeatureUnion) on ``texts``,
    computed as ``FeatureUnion.transform`` does; None for a pipeline of another shape."""
    steps = pipeline.steps
    if len(steps) != 2 or not isinstance(steps[0][1], FeatureUnion):
        return None
    union = steps[0][1]
    weights = union.transformer_weights or {}
    parts = []
    for name, part in union.transformer_list:
        if isinstance(part, str):  # "drop" / "passthrough"
            return None
        if type(part) is TfidfVectorizer and _analysis_key(part) is not None:
            features = _tfidf_rows(part, texts, shared)
        else:
            features = part.transform(texts)
        weight = weights.get(name)
        parts.append(features if weight is None else features * weight)
    if not parts or not all(sparse.issparse(x) for x in parts):
        return None
    return sparse.hstack(parts).tocsr()


def build_pipeline(tokenizer: Tokenizer, settings: TrainSettings, n_min: int,
                   calibrate: bool = True) -> Pipeline:
    parts: list[tuple[str, Any]] = [
        ("words", TfidfVectorizer(tokenizer=tokenizer, token_pattern=None, lowercase=False,
                                  ngram_range=settings.word_ngrams, sublinear_tf=True,
                                  min_df=settings.word_min_df)),
        ("chars", TfidfVectorizer(analyzer="char", ngram_range=settings.char_ngrams,
                                  sublinear_tf=True, min_df=2, max_features=200_000)),
    ]
    if settings.lexicon:
        parts.append(("lexicon", LexiconFeatures(settings.lexicon_weight)))
    features = FeatureUnion(parts)
    svm = LinearSVC(C=settings.C, class_weight=settings.class_weight,
                    random_state=settings.seed)
    if not calibrate:
        return Pipeline([("features", features), ("clf", svm)])
    # temperature scaling: one parameter for all classes, as good as per-class sigmoids on
    # the seed set and 7x faster to fit; calibration folds cannot exceed the smallest class
    clf = CalibratedClassifierCV(svm, method="temperature", cv=min(3, n_min), ensemble=False)
    return Pipeline([("features", features), ("clf", clf)])


def check_examples(texts: Sequence[str], labels: Sequence[str],
                   min_per_class: int = MIN_PER_CLASS) -> Counter[str]:
    if len(texts) != len(labels):
        raise TrainingError("文本与标签数量不一致")
    counts = Counter(labels)
    if len(counts) < 2:
        raise TrainingError(f"至少需要 2 个类别，当前只有 {len(counts)} 个：{list(counts)}")
    small = {lab: n for lab, n in counts.items() if n < min_per_class}
    if small:
        detail = "、".join(f"{lab}（{n} 条）" for lab, n in sorted(small.items()))
        raise TrainingError(f"以下类别样本太少，每类至少需要 {min_per_class} 条：{detail}")
    return counts


def data_version(kind: str, texts: Sequence[str], labels: Sequence[str],
                 settings: TrainSettings, prefix: str = "") -> str:
    h = hashlib.sha1()
    h.update(json.dumps(settings.to_dict(), sort_keys=True).encode())
    for text, label in zip(texts, labels, strict=True):
        h.update(label.encode("utf-8") + b"\x1f" + text.encode("utf-8") + b"\x1e")
    return f"{kind}-{prefix}{h.hexdigest()[:10]}"


def train(kind: str, texts: Sequence[str], labels: Sequence[str], tokenizer: Tokenizer,
          settings: TrainSettings | None = None, evaluate: bool = True,
          version_prefix: str = "", meta: dict[str, Any] | None = None) -> TextModel:
    """Fit on all examples; with ``evaluate`` also cross-validate to report honest metrics."""
    settings = settings or TrainSettings.for_kind(kind)
    texts = [str(t)[:MODEL_CHARS] for t in texts]
    labels = [str(lab) for lab in labels]
    counts = check_examples(texts, labels)
    n_min = min(counts.values())
    metrics: dict[str, Any] = {"examples": len(texts), "per_class": dict(sorted(counts.items()))}
    try:
        if evaluate:
            metrics |= cross_validate(texts, labels, tokenizer, settings, n_min)
        started = time.perf_counter()
        pipeline = build_pipeline(tokenizer, settings, n_min)
        pipeline.fit(texts, labels)
    except ValueError as exc:  # e.g. an empty vocabulary: texts with no words at all
        raise TrainingError(f"无法用这些样本训练模型：{exc}") from exc
    metrics["fit_seconds"] = round(time.perf_counter() - started, 3)
    model_labels = [str(c) for c in pipeline.classes_]
    return TextModel(kind=kind, pipeline=pipeline, labels=model_labels,
                     version=data_version(kind, texts, labels, settings, version_prefix),
                     settings=settings.to_dict(), metrics=metrics,
                     meta={"sklearn": sklearn.__version__, "trained_at": time.strftime(
                         "%Y-%m-%dT%H:%M:%SZ", time.gmtime())} | (meta or {}))


def cross_validate(texts: list[str], labels: list[str], tokenizer: Tokenizer,
                   settings: TrainSettings, n_min: int) -> dict[str, Any]:
    folds = max(2, min(settings.cv_folds, n_min))
    skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=settings.seed)
    # each training fold holds at least (folds-1)/folds of the smallest class
    inner_min = n_min - -(-n_min // folds)
    # Temperature scaling divides every class's score by one number, so the calibrated
    # model picks the same class as the bare SVM: the folds skip calibration (4x fewer fits)
    # and the report is exactly that of the installed model's decisions.
    pipeline = build_pipeline(tokenizer, settings, max(2, inner_min), calibrate=False)
    # a customer's history (thousands of posts) runs its folds on both cores: `yuqing train`
    # stays under a minute; small sets stay in-process (no worker start-up, no nesting)
    jobs = PARALLEL_CV_JOBS if len(texts) >= PARALLEL_CV_MIN else None
    predicted = cross_val_predict(pipeline, texts, labels, cv=skf, n_jobs=jobs)
    classes = sorted(set(labels))
    report = classification_report(labels, predicted, labels=classes, output_dict=True,
                                   zero_division=0)
    return {
        "cv_folds": folds,
        "macro_f1": round(float(f1_score(labels, predicted, average="macro")), 4),
        "accuracy": round(float(report["accuracy"]), 4),
        "report": {c: {k: round(float(v), 4) for k, v in report[c].items()} for c in classes},
        "confusion": {"labels": classes,
                      "matrix": confusion_matrix(labels, predicted, labels=classes).tolist()},
    }


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def _rpad(text: str, width: int) -> str:
    return " " * max(0, width - _width(text)) + text


def format_report(metrics: dict[str, Any], names: dict[str, str] | None = None) -> str:
    """The cross-validated report as plain text a monitor can read (Chinese headings).

    Every column is as wide as its widest cell (display width: a Chinese character takes
    two columns), so numbers never run together however large the counts get.
    """
    names = names or {}

    def shown(label: str) -> str:
        return f"{names[label]}（{label}）" if label in names else label

    lines = [f"样本数：{metrics.get('examples')}"]
    if "report" not in metrics:
        return "\n".join(lines)
    folds = metrics["cv_folds"]
    lines.append(f"交叉验证：把样本分成 {folds} 份，每次用其中 {folds - 1} 份训练、另 1 份检验，"
                 f"检验结果汇总如下。")
    lines.append(f"总体：准确率 {metrics['accuracy']:.1%}（判对的比例）；"
                 f"宏平均 F1 {metrics['macro_f1']:.3f}（各类别同等看待的综合得分，1 为满分）")
    rows = [["类别", "精确率", "召回率", "F1", "样本数"]]
    for cls, row in metrics["report"].items():
        rows.append([shown(cls), f"{row['precision']:.3f}", f"{row['recall']:.3f}",
                     f"{row['f1-score']:.3f}", str(int(row["support"]))])
    widths = [max(_width(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        lines.append("  ".join([_pad(r[0], widths[0])]
                               + [_rpad(c, w) for c, w in zip(r[1:], widths[1:], strict=True)]))
    lines.append("说明：召回率 = 这一类的样本被找出来的比例；精确率 = 判成这一类的结果中真属于"
                 "这一类的比例。")
    for cls, row in metrics["report"].items():
        lines.append(f"  · {shown(cls)}：{int(row['support'])} 条中找出 {row['recall']:.0%}；"
                     f"判为此类的结果有 {row['precision']:.0%} 是对的")
    conf = metrics["confusion"]
    labels = [shown(c) for c in conf["labels"]]
    lines.append("混淆矩阵（每行 = 真实类别，每列 = 模型判断；对角线上是判对的条数）：")
    head = "真实 \\ 判断"
    first = max(_width(x) for x in [*labels, head])
    cols = [max(_width(lab), *(len(str(r[j])) for r in conf["matrix"]))
            for j, lab in enumerate(labels)]
    lines.append("  ".join([_pad(head, first)]
                           + [_rpad(lab, w) for lab, w in zip(labels, cols, strict=True)]))
    for lab, row in zip(labels, conf["matrix"], strict=True):
        lines.append("  ".join([_pad(lab, first)]
                               + [_rpad(str(v), w) for v, w in zip(row, cols, strict=True)]))
    return "\n".join(lines)
