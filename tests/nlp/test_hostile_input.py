"""Crawled text is hostile: analysis must never raise on it."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nlp.normalize import normalize
from nlp.types import PostInput

PIECES = [*list("<>/&;#x0123456789abcdefABCDEF\"' \t\r\n\u3000\u200b\ufeff\x00\x1f"
                 "網傳江寧區拆遷爆炸死亡人，。！？ＡＢＣ１２３😀🔥"),
          "<script>", "</script>", "&amp;", "&#x4e2d;", "&#99999999;", "<p", "<!--", "-->",
          "死亡3人", "十二人遇难", "呵呵"]
HOSTILE = st.lists(st.sampled_from(PIECES), max_size=120).map("".join)


@given(HOSTILE)
def test_normalize_never_raises_and_leaves_no_invisible_or_control_characters(text):
    once = normalize(text)
    assert isinstance(once, str)
    assert not any(ch in once for ch in "\x00\x1f\u200b\ufeff\u3000\r")
    assert once == once.strip()


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(HOSTILE, min_size=1, max_size=5))
def test_analysis_never_raises_on_hostile_posts(analyzer, texts):
    posts = [PostInput(id=str(i), text=t, title=t[:10]) for i, t in enumerate(texts)]
    results = analyzer.analyze_batch(posts)
    assert [r.post_id for r in results] == [p.id for p in posts]
    for r in results:
        assert r.severity.level in (None, 1, 2, 3, 4)
        assert -1.0 <= r.sentiment.score <= 1.0
        assert 0.0 <= r.severity.score <= 100.0
