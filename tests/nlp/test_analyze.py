import logging
from datetime import UTC, datetime

from nlp import Analysis, Analyzer, EventRef, PlaceMatch, PostInput
from nlp.analyzer import to_audit_dict
from nlp.severity import EventStats

TRAD = "網傳江寧區東山街道下月起全面強制拆遷，補償標準砍半，大家快轉發！"


STREETS = {"东山街道": "320115001", "秣陵街道": "320115002"}


class StreetFinder:
    """A minimal PlaceFinder: substring match on two street names."""

    def find(self, text: str, default_place: str = "") -> list[PlaceMatch]:
        return [PlaceMatch(name=f"江苏省南京市江宁区{name}", code=code, level="township",
                           confidence=0.9, text=name)
                for name, code in STREETS.items() if name in text]


class SameStreetEvents:
    """A minimal EventAssigner: one event per first place; exposes event_stats."""

    def __init__(self) -> None:
        self.seen: dict[str, list[PostInput]] = {}
        self.calls: list[tuple[str, list[str], list[PlaceMatch]]] = []

    def assign(self, post, normalized_text, tokens, places):
        self.calls.append((normalized_text, tokens, places))
        key = places[0].code if places else post.id
        is_new = key not in self.seen
        self.seen.setdefault(key, []).append(post)
        return EventRef(id=f"e-{key}", is_new=is_new)

    def event_stats(self, event_id: str, now=None) -> EventStats:
        self.asked_at = now
        posts = self.seen[event_id.removeprefix("e-")]
        return EventStats(posts=len(posts), sources=len({p.source for p in posts}),
                          posts_per_hour=len(posts) * 10.0)


def make(analyzer: Analyzer, **kw) -> Analyzer:
    # share the session's loaded models; only the place/event parts differ
    clone = Analyzer(analyzer.topics, None, home_places=analyzer.tokenizer.words, **kw)
    clone._topic, clone._sentiment = analyzer.topic_classifier, analyzer.sentiment_classifier
    clone._severity_model = None
    return clone


def test_a_traditional_rumour_is_normalized_classified_and_alerted(analyzer):
    post = PostInput(id="t1", text=TRAD, source="某论坛")
    result = analyzer.analyze(post)
    assert isinstance(result, Analysis)
    assert post.text == TRAD  # the original is kept untouched
    assert result.normalized_text.startswith("网传江宁区东山街道下月起全面强制拆迁")
    assert result.topic.label == "land_demolition"
    assert result.severity.level is not None
    assert "rumour" in {f.name for f in result.severity.factors}
    assert "东山街道" in result.keywords


def test_batch_and_single_analysis_agree(analyzer):
    posts = [PostInput(id=str(i), text=t) for i, t in enumerate([
        TRAD, "学校食堂饭菜发霉，孩子吃完肚子疼", "周末去九龙湖骑车，风景太好了"])]
    batch = analyzer.analyze_batch(posts)
    assert [a.post_id for a in batch] == ["0", "1", "2"]
    for post, got in zip(posts, batch, strict=True):
        single = analyzer.analyze(post)
        assert to_audit_dict(single) == to_audit_dict(got)


def test_every_analysis_records_the_model_versions(analyzer):
    versions = analyzer.analyze(PostInput(id="v", text="小区停水三天没人管")).model_versions
    assert versions["topic"].startswith("topic-default-")
    assert versions["sentiment"].startswith("sentiment-default-")
    assert versions["severity_rules"].startswith("severity-rules-")
    assert "severity" not in versions  # no learned severity model installed


def test_places_and_events_flow_into_severity(analyzer):
    events = SameStreetEvents()
    a = make(analyzer, place_finder=StreetFinder(), event_assigner=events)
    t0 = datetime(2026, 11, 1, 8, tzinfo=UTC)
    posts = [PostInput(id=str(i), text=f"东山街道某小区停水第{i + 2}天了，物业和自来水公司互相推诿",
                       source=f"source-{i}", published_at=t0) for i in range(4)]
    results = a.analyze_batch(posts)
    assert [r.places[0].code for r in results] == ["320115001"] * 4
    assert {r.event.id for r in results} == {"e-320115001"}
    assert [r.event.is_new for r in results] == [True, False, False, False]
    _, tokens, places = events.calls[0]
    assert "东山街道" in tokens and places[0].text == "东山街道"
    first = {f.name for f in results[0].severity.factors}
    last = {f.name: f for f in results[-1].severity.factors}
    assert "spread" not in first and "spread" in last and "velocity" in last
    assert results[-1].severity.score > results[0].severity.score
    assert events.asked_at == t0  # rates as of the post's time, not the wall clock


def test_explicit_event_stats_win_over_the_assigner(analyzer):
    a = make(analyzer, event_assigner=SameStreetEvents())
    post = PostInput(id="x", text="秣陵街道垃圾站臭气熏天没人管")
    result = a.analyze(post, event_stats={"posts": 50, "sources": 6, "posts_per_hour": 30})
    spread = next(f for f in result.severity.factors if f.name == "spread")
    assert "6 个信源" in spread.reason


class BrokenFinder:
    def find(self, text, default_place=""):
        raise RuntimeError("gazetteer exploded")


def test_a_failing_place_finder_does_not_lose_the_post(analyzer, caplog):
    a = make(analyzer, place_finder=BrokenFinder())
    with caplog.at_level(logging.ERROR, logger="nlp.analyzer"):
        result = a.analyze(PostInput(id="b", text="汤山街道工厂爆炸，多人受伤"))
    assert result.places == []
    assert result.severity.level is not None
    assert "地名识别失败" in caplog.text


def test_an_empty_or_markup_only_post_still_gets_an_analysis(analyzer):
    result = analyzer.analyze(PostInput(id="e", text="<script>alert(1)</script>&nbsp;"))
    assert result.normalized_text == ""
    assert result.severity.level is None


def test_the_package_level_api_uses_the_installed_analyzer(analyzer):
    import nlp

    nlp.use(None)
    try:
        try:
            nlp.analyze(PostInput(id="n", text="x"))
            raise AssertionError("expected a clear error before configuration")
        except RuntimeError as exc:
            assert "nlp.use" in str(exc)
        nlp.use(analyzer)
        got = nlp.analyze_batch([PostInput(id="a", text=TRAD)])
        assert got[0].topic.label == "land_demolition"
    finally:
        nlp.use(None)


def test_importing_the_contract_loads_no_model_library():
    import subprocess
    import sys

    code = ("import sys, nlp, nlp.types; "
            "print(any(m.split('.')[0] in ('sklearn', 'rjieba', 'opencc', 'jieba') "
            "for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=str(__import__("pathlib").Path(__file__).parents[2]))
    assert out.stdout.strip() == "False"
