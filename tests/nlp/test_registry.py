from nlp.registry import ModelStore
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
