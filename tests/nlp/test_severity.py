import pytest

from nlp.severity import (
    DEFAULTS,
    EventStats,
    SeverityConfigError,
    SeverityScorer,
    config_from,
    parse_count,
    reported_deaths,
)
from nlp.types import PostInput, SentimentResult, TopicResult


def post(text: str, **kw) -> PostInput:
    return PostInput(id="p", text=text, **kw)


def level_of(analyzer, text: str, **kw):
    return analyzer.analyze(post(text, **kw)).severity


def names(result) -> set[str]:
    return {f.name for f in result.factors}


def test_an_explosion_with_deaths_is_a_major_alert(analyzer):
    sev = level_of(analyzer, "汤山街道一化工厂发生爆炸，造成5人死亡12人受伤，现场浓烟滚滚")
    assert sev.level in (1, 2)
    assert {"risk_terms", "topic_sensitivity", "negative_sentiment"} <= names(sev)
    assert any("爆炸" in f.reason for f in sev.factors)


def test_reported_deaths_set_a_floor_after_the_national_grading(taxonomy):
    scorer = SeverityScorer(taxonomy["topics"], None)
    quiet = TopicResult(label=None, prob=0.9)
    neutral = SentimentResult(label="neutral", score=0.0)
    sev = scorer.score(post("据悉，事故已致3人死亡"), "据悉，事故已致3人死亡", quiet, neutral)
    assert sev.level == 3
    assert "death_floor" in names(sev)
    sev = scorer.score(post("x"), "火灾造成十二人遇难", quiet, neutral)
    assert sev.level == 2


def test_praise_is_not_an_alert(analyzer):
    sev = level_of(analyzer, "为东山街道的网格员点赞，下雨天挨家挨户通知转移，太暖心了",
                   reposts=5000, authority="local")
    assert sev.level is None
    assert "positive_dampener" in names(sev)


def test_routine_government_news_is_not_an_alert(analyzer):
    sev = level_of(analyzer, "江宁区召开防汛工作部署会议，区领导调研重点水利工程建设",
                   authority="local")
    assert sev.level is None
    assert "routine_dampener" in names(sev) or "no_concern" in names(sev)


def test_news_of_government_work_on_a_problem_is_not_an_alert(analyzer):
    # the sentiment model reads 积水 as negative; the report is of the work, not a complaint
    sev = level_of(analyzer, "记者从秣陵街道获悉，街道近日对辖区12处易积水点开展排查，完成3处雨水管网疏通。",
                   title="秣陵街道开展汛后道路积水点排查", source_kind="news")
    assert sev.level is None and "routine_dampener" in names(sev)
    # the same words from a citizen on a message board are a complaint to answer
    sev = level_of(analyzer, "秣陵街道这12处积水点年年积水，开展排查说了多少年了，一下雨还是没法走！",
                   source_kind="board")
    assert sev.level is not None


def test_a_policy_rumour_alerts_as_urgent(analyzer):
    sev = level_of(analyzer, "网传江宁下个月起电动车一律不准进小区，违者罚款五百，是真的吗？")
    assert sev.level is not None
    assert {"rumour", "urgent_category"} <= names(sev)
    assert any("政策误读" in f.reason for f in sev.factors)


def test_sarcasm_still_counts_as_negative(analyzer):
    sev = level_of(analyzer, "太棒了，欠薪半年终于等来一句研究研究，真是谢谢劳动监察了，呵呵")
    assert "negative_sentiment" in names(sev)


def test_reach_and_event_velocity_and_spread_raise_the_score(analyzer):
    text = "小区门口垃圾站臭气熏天，反映了好多次都没人管"
    base = analyzer.analyze(post(text))
    hot = analyzer.analyze(post(text, reposts=20000, comments=5000, likes=90000),
                           event_stats=EventStats(posts=120, sources=6, posts_per_hour=40))
    assert hot.severity.score > base.severity.score + 20
    assert {"reach", "velocity", "spread"} <= names(hot.severity)
    assert hot.severity.level is not None


def test_source_authority_adds_points(analyzer):
    text = "禄口某工地欠薪三个月，数十名农民工讨薪无果"
    user = analyzer.analyze(post(text, authority="user")).severity
    central = analyzer.analyze(post(text, authority="central")).severity
    assert central.score == pytest.approx(user.score + DEFAULTS["authority"]["central"])


def test_every_factor_has_a_chinese_reason(analyzer):
    sev = level_of(analyzer, "网传百家湖有人持刀砍人，现场多人受伤，是真的吗", reposts=300)
    assert sev.factors
    for f in sev.factors:
        assert f.reason and any("\u4e00" <= ch <= "\u9fff" for ch in f.reason)


def test_the_shipped_config_file_matches_the_code_defaults(severity_config):
    assert config_from(severity_config) == config_from(None)


def test_bad_config_is_refused_with_the_key():
    with pytest.raises(SeverityConfigError, match=r"severity\.weight"):
        config_from({"weight": 3})
    with pytest.raises(SeverityConfigError, match="thresholds"):
        config_from({"thresholds": {1: 10, 2: 70, 3: 50, 4: 25}})


def test_thresholds_from_config_change_the_level(taxonomy, analyzer):
    strict = SeverityScorer(taxonomy["topics"], {"thresholds": {1: 99, 2: 98, 3: 97, 4: 96}})
    lenient = SeverityScorer(taxonomy["topics"], {"thresholds": {1: 60, 2: 40, 3: 20, 4: 10}})
    text = "小区门口垃圾站臭气熏天，反映了好多次都没人管"
    a = analyzer.analyze(post(text))
    hard = strict.score(post(text), a.normalized_text, a.topic, a.sentiment)
    soft = lenient.score(post(text), a.normalized_text, a.topic, a.sentiment)
    assert hard.score == soft.score == a.severity.score
    assert hard.level is None
    assert soft.level == 3


@pytest.mark.parametrize(("token", "value"), [("3", 3), ("十二", 12), ("两", 2), ("三十五", 35),
                                              ("一百零二", 102)])
def test_chinese_numerals_are_counted(token, value):
    assert parse_count(token) == value


def test_deaths_are_read_in_several_phrasings():
    assert reported_deaths("事故造成3人死亡") == 3
    assert reported_deaths("已有十二名工人遇难") == 12
    assert reported_deaths("死亡2人，受伤5人") == 2
    assert reported_deaths("无人员伤亡") == 0


def test_event_stats_are_read_from_mappings_and_foreign_objects():
    from dataclasses import dataclass

    from nlp.severity import stats_from

    @dataclass
    class Foreign:  # the shape nlp.events' EventIndex.stats returns
        post_count: int
        distinct_sources: int
        posts_last_hour: int
        peak_posts_per_hour: int
        posts_per_hour: float

    assert stats_from({"posts": 3, "sources": 2, "posts_per_hour": 1.5}) == EventStats(3, 2, 1.5)
    assert stats_from(Foreign(40, 5, 30, 30, 4.0)) == EventStats(40, 5, 30.0)
    assert stats_from(None) is None
    with pytest.raises(TypeError):
        stats_from(object())


def test_people_involved_are_counted_and_raise_the_level(analyzer):
    from nlp.severity import people_involved

    assert people_involved("上百名业主聚集在区政府门口") == 100
    assert people_involved("30多名学生送医") == 30
    assert people_involved("包工头欠我们三十多个人的工资") == 30
    assert people_involved("小区停水三个月") == 0
    sev = level_of(analyzer, "上百名业主聚集在区政府门口拉横幅，抗议楼盘烂尾")
    assert "people_involved" in names(sev)
    assert sev.level is not None and sev.level <= 3


def test_risk_words_in_films_and_drills_are_damped(analyzer):
    sev = level_of(analyzer, "电影里的爆炸场面太震撼了，强烈推荐")
    assert "fiction_dampener" in names(sev)
    assert sev.level is None or sev.level == 4
    drill = level_of(analyzer, "东山街道开展燃气泄漏应急演练，模拟起火后疏散居民")
    assert "fiction_dampener" in names(drill)


def test_deaths_with_words_between_count_and_verb():
    assert reported_deaths("暴雨中一名老人被困车内溺亡") == 1


@pytest.mark.parametrize(("data", "key"), [
    ({"thresholds": {1: "abc"}}, r"severity\.thresholds\.1：应为数字"),
    ({"reach": "much"}, r"severity\.reach：应为数字"),
    ({"rumour": True}, r"severity\.rumour：应为数字"),
    ({"rumour_terms": "网传"}, r"severity\.rumour_terms：应为词语列表"),
    ({"death_floors": {"many": 1}}, r"severity\.death_floors\.many：键应为整数"),
    ({"risk_terms": {"fire": {"points": "x", "terms": []}}},
     r"severity\.risk_terms\.fire\.points：应为数字"),
    ({"authority": {"user": "none"}}, r"severity\.authority\.user：应为数字"),
])
def test_a_wrongly_typed_weight_is_refused_at_load_naming_its_key(data, key):
    with pytest.raises(SeverityConfigError, match=key):
        config_from(data)


@pytest.mark.parametrize("text", [
    "东山街道一小学十几名学生午餐后出现呕吐腹泻症状",  # mass illness of pupils
    "某工地食堂12名工人食物中毒",  # poisoning
    "多人中毒被送往医院",  # 多人, no number
    "校门口3名小学生被电动车撞伤",  # injuries of pupils
    "小区群体发烧，疑似水质问题",
])
def test_many_people_harmed_at_once_is_at_least_level_iii(taxonomy, text):
    # a neutral reading and a topic without sensitivity: the floor alone decides
    scorer = SeverityScorer(taxonomy["topics"], None)
    quiet = TopicResult(label=None, prob=0.9)
    neutral = SentimentResult(label="neutral", score=0.0)
    sev = scorer.score(post(text), text, quiet, neutral)
    assert sev.level is not None and sev.level <= 3, sev.factors
    assert "mass_harm" in names(sev)
    assert any("至少为 III" in f.reason for f in sev.factors)


@pytest.mark.parametrize("text", [
    "一名工人受伤，已送医",  # one person
    "多人认为这样的收费不合适",  # many people, no harm
    "消防演练中十几名学生模拟受伤撤离",  # a drill
])
def test_one_person_harmed_or_many_unharmed_sets_no_floor(taxonomy, text):
    scorer = SeverityScorer(taxonomy["topics"], None)
    sev = scorer.score(post(text), text, TopicResult(label=None, prob=0.9),
                       SentimentResult(label="neutral", score=0.0))
    assert "mass_harm" not in names(sev)


def test_the_mass_harm_floor_is_configurable_and_checked(taxonomy):
    scorer = SeverityScorer(taxonomy["topics"], {"mass_harm": {"level": 2}})
    text = "十几名学生呕吐"
    sev = scorer.score(post(text), text, TopicResult(label=None, prob=0.9),
                       SentimentResult(label="neutral", score=0.0))
    assert sev.level == 2
    with pytest.raises(SeverityConfigError, match=r"mass_harm\.level"):
        config_from({"mass_harm": {"level": 7}})
    with pytest.raises(SeverityConfigError, match="mass_harm"):
        config_from({"mass_harm": {"levle": 3}})
