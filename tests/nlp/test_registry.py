import socket
import sys
from pathlib import Path

from nlp.registry import SEED_EXTRAS, SEED_FILES, ModelStore
from nlp.tokenize import Tokenizer


def test_default_models_are_built_once_deterministically_and_cached(tmp_path):
    tok = Tokenizer(extra_words=["东山街道"])
    first = ModelStore(None, tok, cache_dir=tmp_path).get("sentiment")
    cached = list(tmp_path.glob("default-sentiment-*.joblib"))
    assert len(cached) == 1
    mtime = cached[0].stat().st_mtime_ns
    again = ModelStore(None, tok, cache_dir=tmp_path).get("sentiment")
    assert cached[0].stat().st_mtime_ns == mtime  # loaded, not rebuilt
    assert again.version == first.version
    rebuilt = ModelStore(None, tok, cache_dir=tmp_path / "other").get("sentiment")
    text = ["物业不作为，投诉半年没人管"]
    assert rebuilt.version == first.version
    assert (rebuilt.predict_proba(text) == first.predict_proba(text)).all()


def test_a_torn_cache_file_is_rebuilt_not_fatal(tmp_path):
    tok = Tokenizer()
    store = ModelStore(None, tok, cache_dir=tmp_path)
    path = tmp_path / f"default-sentiment-{store.default_key('sentiment')}.joblib"
    path.write_bytes(b"not a model")
    model = store.get("sentiment")
    assert model.labels == ["negative", "neutral", "positive"]
    assert path.stat().st_size > 1000


def test_a_different_dictionary_gets_its_own_default_model(tmp_path):
    a = ModelStore(None, Tokenizer(extra_words=["东山街道"]), cache_dir=tmp_path)
    b = ModelStore(None, Tokenizer(extra_words=["西山街道"]), cache_dir=tmp_path)
    assert a.default_key("topic") != b.default_key("topic")


def test_there_is_no_default_severity_model(tmp_path):
    assert ModelStore(tmp_path, Tokenizer(), cache_dir=tmp_path).get("severity") is None


README = Path(__file__).resolve().parents[2] / "nlp" / "README.md"


def test_every_shipped_training_file_is_documented_with_its_licence():
    doc = README.read_text("utf-8")
    for name in {*(n for files in SEED_FILES.values() for n in files),
                 *(n for files in SEED_EXTRAS.values() for n in files)}:
        lines = [line for line in doc.splitlines() if f"`{name}`" in line]
        assert lines, f"{name} not described in nlp/README.md"
        # a table row of the sources (last column: licence) or a sentence naming the licence
        assert any(line.rstrip().endswith("| project's own |") or "licence" in line
                   for line in lines), name


def test_default_models_build_from_shipped_files_without_the_network(tmp_path, monkeypatch):
    """No model hub, no download at run time: building the defaults from an empty cache works
    with every connection beyond this machine refused."""
    tried: list[object] = []
    real_connect = socket.socket.connect

    def local_only(sock: socket.socket, address: object) -> None:
        host = address[0] if isinstance(address, tuple) else address
        if host not in ("127.0.0.1", "::1", "localhost") and not isinstance(host, bytes):
            tried.append(address)
            raise OSError("network disabled in this test")
        real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", local_only)
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: tried.append(a) or [])
    store = ModelStore(None, Tokenizer(), cache_dir=tmp_path)
    for kind in ("topic", "sentiment"):
        model = store.get(kind)
        assert model is not None and model.meta.get("default")
        assert model.meta["source"].startswith("nlp/data/")
    assert tried == []
    assert not {"huggingface_hub", "transformers", "modelscope", "torch"} & set(sys.modules)
