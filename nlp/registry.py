"""Where models live: installed ones in the instance, default ones built from the seed sets.

Layout: ``<models_dir>/<kind>.joblib`` (+ ``<kind>.json`` with version, labels, metrics) is a
model installed by ``yuqing train``; it takes precedence. Otherwise the default model is
built deterministically from the seed files in ``nlp/data`` (``SEED_FILES``) on first use and cached as
``<cache_dir>/default-<kind>-<key>.joblib``; the key covers the seed data, the tokenizer's
dictionary and the scikit-learn version, so an upgrade rebuilds instead of unpickling a model
from another version. Severity has no default model: its learned factor is simply absent.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from importlib import resources
from pathlib import Path

import sklearn

from nlp.models import TextModel, TrainSettings, train
from nlp.normalize import analysis_text
from nlp.tokenize import Tokenizer

log = logging.getLogger(__name__)

KINDS = ("topic", "sentiment", "severity")
DEFAULT_KINDS = ("topic", "sentiment")


# Files a default model is built from (all shipped in nlp/data; see nlp/README.md).
SEED_FILES = {"topic": ("topic_seed.jsonl",),
              "sentiment": ("sentiment_seed.jsonl", "sentiment_generated.jsonl",
                            "sentiment_reviews_written.jsonl", "sentiment_weibo_written.jsonl")}
# Other shipped files the default build reads: part of the cache key.
SEED_EXTRAS = {"sentiment": ("sentiment_lexicon.txt",)}


def seed_rows(kind: str, files: tuple[str, ...] | None = None) -> list[dict[str, str]]:
    """The default model's training rows: ``{"label", "text"[, "kind"]}``."""
    rows: list[dict[str, str]] = []
    for name in files or SEED_FILES.get(kind, (f"{kind}_seed.jsonl",)):
        text = resources.files("nlp").joinpath("data", name).read_text("utf-8")
        rows += [json.loads(line) for line in text.splitlines() if line.strip()]
    return rows


class ModelStore:
    def __init__(self, models_dir: Path | str | None, tokenizer: Tokenizer,
                 cache_dir: Path | str | None = None):
        self.models_dir = Path(models_dir) if models_dir else None
        self.cache_dir = Path(cache_dir) if cache_dir else self.models_dir
        self.tokenizer = tokenizer
        self._loaded: dict[str, TextModel | None] = {}
        self._stamps: dict[str, tuple[int, int] | None] = {}  # installed file at load time
        self._lock = threading.Lock()

    def installed_path(self, kind: str) -> Path | None:
        return self.models_dir / f"{kind}.joblib" if self.models_dir else None

    def get(self, kind: str) -> TextModel | None:
        """The installed model, else the default one (built once), else None."""
        if kind in self._loaded:
            return self._loaded[kind]
        with self._lock:
            if kind not in self._loaded:
                self._stamps[kind] = self._stamp(kind)
                self._loaded[kind] = self._load(kind)
        return self._loaded[kind]

    def _stamp(self, kind: str) -> tuple[int, int] | None:
        path = self.installed_path(kind)
        try:
            st = path.stat() if path is not None else None
        except FileNotFoundError:
            return None
        return (st.st_mtime_ns, st.st_size) if st is not None else None

    def changed(self) -> bool:
        """Whether ``yuqing train`` installed (or someone removed) a model since loading."""
        return any(self._stamp(kind) != stamp for kind, stamp in list(self._stamps.items()))

    def forget(self) -> None:
        with self._lock:
            self._loaded.clear()
            self._stamps.clear()

    def install(self, model: TextModel) -> Path:
        if self.models_dir is None:
            raise ValueError("未配置模型目录，无法安装模型")
        path = model.save(self.models_dir / f"{model.kind}.joblib")
        self._loaded.pop(model.kind, None)
        self._stamps.pop(model.kind, None)
        return path

    def _load(self, kind: str) -> TextModel | None:
        path = self.installed_path(kind)
        if path is not None and path.is_file():
            model = TextModel.load(path)
            if model.meta.get("sklearn") != sklearn.__version__:
                log.warning("模型 %s 由 scikit-learn %s 训练，当前为 %s；建议重新训练",
                            path, model.meta.get("sklearn"), sklearn.__version__)
            return model
        if kind not in DEFAULT_KINDS:
            return None
        return self.default(kind)

    def default_key(self, kind: str) -> str:
        h = hashlib.sha1()
        for name in (*SEED_FILES.get(kind, (f"{kind}_seed.jsonl",)), *SEED_EXTRAS.get(kind, ())):
            h.update(resources.files("nlp").joinpath("data", name).read_bytes())
        h.update("\n".join(self.tokenizer.words).encode("utf-8"))
        h.update(json.dumps(TrainSettings.for_kind(kind).to_dict(), sort_keys=True).encode())
        h.update(sklearn.__version__.encode())
        return h.hexdigest()[:12]

    def default(self, kind: str) -> TextModel:
        key = self.default_key(kind)
        cached = self.cache_dir / f"default-{kind}-{key}.joblib" if self.cache_dir else None
        if cached is not None and cached.is_file():
            try:
                return TextModel.load(cached)
            except Exception as exc:  # a torn or foreign cache file is rebuilt, never fatal
                log.warning("默认模型缓存不可用，重新构建：%s（%s）", cached, exc)
        model = build_default(kind, self.tokenizer, key)
        if cached is not None:
            model.save(cached)
        return model


def build_default(kind: str, tokenizer: Tokenizer, key: str = "", evaluate: bool = False
                  ) -> TextModel:
    rows = seed_rows(kind)
    texts = [analysis_text(r.get("title"), r["text"]) for r in rows]
    labels = [r["label"] for r in rows]
    model = train(kind, texts, labels, tokenizer, evaluate=evaluate,
                  meta={"source": ", ".join(f"nlp/data/{n}" for n in SEED_FILES[kind]),
                        "default": True})
    # the version names the default build, so audits can tell it from a customer model
    model.version = f"{kind}-default-{key or model.version.split('-')[-1]}"
    return model
