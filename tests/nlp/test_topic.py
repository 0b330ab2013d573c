from itertools import pairwise

import numpy as np
import pytest

# Hand-written posts that are not in the seed set, one per topic, in news/Weibo/留言板 styles.
CASES = [
    ("education", "孩子学校的课后服务收费太高了，还强制参加，不参加老师就给脸色看"),
    ("health", "社区医院的疫苗又断货了，孩子的疫苗一直打不上，到底什么时候有"),
    ("food_drug", "在学校门口小吃摊买的烤肠，孩子吃完就腹泻住院了，这些摊贩有没有人管"),
    ("work_safety", "东山街道一工厂仓库突然起火，浓烟很大，工人都跑出来了"),
    ("disaster", "暴雨导致秣陵多条道路积水，有车辆被淹，请大家绕行"),
    ("environment", "小区附近的工厂天天晚上排放废气，一股刺鼻的味道，开窗都不敢"),
    ("land_demolition", "我们村拆迁补偿款迟迟不到位，安置房也没着落，找街道也不管"),
    ("housing", "开发商交房一年了房产证还办不下来，业主们准备集体维权"),
    ("social_security", "公司拖欠工资三个月，社保也停缴了，老板说没钱"),
    ("public_security", "小区里连续有电动车被盗，派出所来看了一眼就走了"),
    ("market", "健身房收了年卡的钱就关门跑路了，预付卡的钱怎么要回来"),
    ("finance", "有人拉我爸妈投资一个养老项目，说年化收益15%，这是不是非法集资"),
    ("public_funds", "村里的低保名额都被村干部亲戚占了，真正困难的家庭申请不到"),
    ("traffic", "这个路口的红绿灯时间太短了，老人走到一半就变灯，太危险"),
    ("urban_planning", "路边的井盖坏了一个月没人修，晚上骑车差点掉进去"),
    ("gov_service", "去政务服务中心办证，窗口说材料不全，来回跑了四趟还没办下来"),
    ("rural", "村里的人居环境整治就是做表面文章，路边刷了墙，垃圾还是没人清"),
    ("policy", "网传江宁下个月起电动车一律不准进小区，违者罚款五百，是真的吗？"),
]
OFF_TOPIC = [
    "江宁区召开全区安全生产工作会议，区领导充分肯定了各街道的工作成效",
    "周末去九龙湖骑车，风景太好了，推荐给大家",
    "出售二手婴儿床一张，东山附近自提",
]


@pytest.mark.parametrize(("expected", "text"), CASES)
def test_it_finds_the_topic_of_unseen_posts(analyzer, expected, text):
    result = analyzer.topic_classifier.predict(text)
    assert result.label == expected
    assert 0.3 < result.prob <= 1.0


@pytest.mark.parametrize("text", OFF_TOPIC)
def test_routine_news_praise_and_ads_have_no_topic(analyzer, text):
    result = analyzer.topic_classifier.predict(text)
    assert result.label is None
    assert any("不归入舆情领域" in r for r in result.reasons)


def test_it_explains_with_model_probability_keywords_and_alternatives(analyzer):
    result = analyzer.topic_classifier.predict("学校食堂饭菜变质，多名学生腹泻，家长要求教育局彻查")
    assert result.label in ("education", "food_drug")
    text = "\n".join(result.reasons)
    assert "模型（topic-default-" in text and "关键词" in text
    labels = [label for label, _ in result.alternatives]
    assert {"education", "food_drug"} <= {result.label, *labels}
    probs = [result.prob] + [p for _, p in result.alternatives]
    assert probs == sorted(probs, reverse=True)
    assert sum(probs) <= 1.0001


def test_keyword_rules_lift_a_topic_over_the_bare_model(analyzer):
    clf = analyzer.topic_classifier
    text = "非法集资"
    bare = clf.model.predict_proba([text])[0]
    blended, hits = clf.blend(text, bare)
    i = clf.model.labels.index("finance")
    assert "非法集资" in hits["finance"]
    assert blended[i] > bare[i]


# ---- a customer's trained model vs the keyword rules ----------------------------------------

TWO = ("education", "environment")
MIXED = [  # education posts that name three or more environment keywords, and the reverse
    "学校门口的工地噪音扬尘很大，教室里异味刺鼻，孩子上课受影响，学校招生时可没说",
    "幼儿园旁边的河道污染发臭，还有异味和噪音，老师带孩子在操场活动都受影响",
    "工厂排污导致河道发黑，附近学校学生闻到臭味头晕，家长要求环保部门查处",
    "学区房楼下饭店油烟异味严重，噪音也大，孩子在家写作业都没法集中",
]


@pytest.fixture(scope="module")
def trained_topic():
    from nlp.models import train
    from nlp.registry import seed_rows
    from nlp.tokenize import Tokenizer

    rows = [r for r in seed_rows("topic") if r["label"] in TWO]
    return train("topic", [r["text"] for r in rows], [r["label"] for r in rows], Tokenizer(),
                 evaluate=False)


def test_keywords_never_override_a_confident_trained_model(trained_topic, taxonomy):
    from nlp.topic import TopicClassifier

    clf = TopicClassifier(trained_topic, taxonomy["topics"])
    assert clf.trained
    probs = trained_topic.predict_proba(MIXED)
    for text, row in zip(MIXED, probs, strict=True):
        assert len(clf.keyword_hits(text).get("environment", [])) >= 2
        result = clf.predict(text)
        if row.max() >= clf.confident:
            assert result.label == trained_topic.labels[int(row.argmax())]
            assert result.prob == pytest.approx(float(row.max()), abs=1e-4)


def test_the_guard_is_for_confident_trained_models_only(trained_topic, taxonomy):
    import dataclasses

    from nlp.topic import TopicClassifier

    text = "学校旁边河道污染，异味很重，还有噪音"  # three environment keywords
    i_edu, i_env = trained_topic.labels.index("education"), trained_topic.labels.index("environment")
    row = np.zeros(len(trained_topic.labels))
    row[i_edu], row[i_env] = 0.6, 0.4
    trained = TopicClassifier(trained_topic, taxonomy["topics"])
    scores, hits = trained.blend(text, row)
    assert int(np.argmax(scores)) == i_edu and len(hits["environment"]) >= 3
    assert any("关键词只作参考" in r for r in trained._decide(text, row).reasons)
    # below its confidence threshold the keywords still help a trained model
    unsure = TopicClassifier(trained_topic, taxonomy["topics"], confident=0.7)
    assert int(np.argmax(unsure.blend(text, row)[0])) == i_env
    # and the shipped default keeps blending them (its seed is small; rules add recall)
    default = dataclasses.replace(trained_topic, meta={**trained_topic.meta, "default": True})
    assert int(np.argmax(TopicClassifier(default, taxonomy["topics"]).blend(text, row)[0])) == i_env


# ---- a customer's 7-class 留言 history (generated, bench/topic_corpus.py) --------------------

@pytest.fixture(scope="module")
def board_history():
    from bench.topic_corpus import generate
    from nlp.normalize import analysis_text

    rows = generate(1400, seed=7)
    return [analysis_text(r["title"], r["text"]) for r in rows], [r["label"] for r in rows]


def test_a_seven_class_board_history_trains_to_a_high_macro_f1(board_history):
    from nlp.models import train
    from nlp.tokenize import Tokenizer

    texts, labels = board_history
    model = train("topic", texts, labels, Tokenizer(), evaluate=True)
    assert len(model.labels) == 7
    assert model.metrics["macro_f1"] >= 0.9  # bench/bench_models.py measures 7,000 messages
    probs = model.predict_proba(texts[:50])
    assert np.allclose(probs.sum(axis=1), 1.0)


def test_folds_without_calibration_decide_exactly_like_the_calibrated_model(board_history):
    """The report's folds skip temperature scaling; that must not change a single decision."""
    from nlp.models import TrainSettings, build_pipeline
    from nlp.tokenize import Tokenizer

    texts, labels = board_history
    tok, settings = Tokenizer(), TrainSettings()
    calibrated = build_pipeline(tok, settings, 50).fit(texts[:1000], labels[:1000])
    bare = build_pipeline(tok, settings, 50, calibrate=False).fit(texts[:1000], labels[:1000])
    assert list(calibrated.predict(texts[1000:])) == list(bare.predict(texts[1000:]))


def test_a_topic_model_reads_words_and_characters_with_class_weights_and_calibration(
        trained_topic):
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.svm import LinearSVC

    steps = trained_topic.pipeline.named_steps
    parts = dict(steps["features"].transformer_list)
    assert parts["words"].tokenizer is not None and parts["words"].ngram_range == (1, 2)
    assert parts["chars"].analyzer == "char" and parts["chars"].ngram_range[0] == 1
    clf = steps["clf"]
    assert isinstance(clf, CalibratedClassifierCV) and clf.method == "temperature"
    assert isinstance(clf.estimator, LinearSVC) and clf.estimator.class_weight == "balanced"


def test_topic_probabilities_are_calibrated(board_history):
    """On unseen messages the mean top probability is close to the share decided right."""
    from nlp.models import TrainSettings, build_pipeline
    from nlp.tokenize import Tokenizer

    texts, labels = board_history
    model = build_pipeline(Tokenizer(), TrainSettings(), 50).fit(texts[:1000], labels[:1000])
    probs = model.predict_proba(texts[1000:])
    top = probs.max(axis=1)
    right = model.classes_[probs.argmax(axis=1)] == np.array(labels[1000:])
    assert abs(top.mean() - right.mean()) < 0.05  # measured 0.917 vs 0.928
    edges = np.linspace(0, 1, 11)
    ece = sum(abs(right[sel].mean() - top[sel].mean()) * sel.mean()
              for lo, hi in pairwise(edges)
              if (sel := (top > lo) & (top <= hi)).any())
    assert ece < 0.08  # measured 0.03


def test_class_weights_find_more_of_a_rare_department(board_history):
    from nlp.models import TrainSettings, build_pipeline
    from nlp.tokenize import Tokenizer

    texts, labels = board_history
    rare = sorted(set(labels))[0]
    keep = [i for i in range(1000) if labels[i] != rare] + [
        i for i in range(1000) if labels[i] == rare][:8]
    unseen = [texts[i] for i in range(1000, len(texts)) if labels[i] == rare]
    found = {}
    for weight in ("balanced", None):
        model = build_pipeline(Tokenizer(), TrainSettings(class_weight=weight), 8).fit(
            [texts[i] for i in keep], [labels[i] for i in keep])
        found[weight] = int((model.predict(unseen) == rare).sum())
    assert TrainSettings.for_kind("topic").class_weight == "balanced"
    assert found["balanced"] > found[None]  # measured 10 vs 8 of 27
