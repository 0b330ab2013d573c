import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from nlp.models import TrainSettings, train
from nlp.registry import seed_rows
from nlp.sentiment import SentimentClassifier
from nlp.tokenize import Tokenizer

HELDOUT = Path(__file__).parent / "data" / "sentiment_heldout.jsonl"


@pytest.mark.parametrize("text", [
    "为东山街道的网格员点赞，下雨天挨家挨户通知转移，太暖心了",
    "感谢秣陵派出所的民警，半夜帮我找回了走失的孩子，非常负责",
])
def test_praise_is_positive(analyzer, text):
    result = analyzer.sentiment_classifier.predict(text)
    assert result.label == "positive"
    assert result.score > 0.3


@pytest.mark.parametrize("text", [
    "小区门口的垃圾站臭了一个夏天，打了十几次电话都没人管，太失望了",
    "包工头欠了我们半年工资不给，找劳动监察也推诿，过年回不了家",
])
def test_complaints_are_negative(analyzer, text):
    result = analyzer.sentiment_classifier.predict(text)
    assert result.label == "negative"
    assert result.score < -0.3


SARCASTIC = "真是太感谢物业了，电梯坏了一个月，今天终于贴了张通知，效率真高，呵呵"


def test_sarcastic_complaint_is_negative_on_its_own_words(analyzer):
    # the default has the sarcasm rule off (measured: it hurt); the model still reads it
    result = analyzer.sentiment_classifier.predict(SARCASTIC)
    assert result.label == "negative"
    assert not any("反讽" in r for r in result.reasons)


def test_sarcasm_rule_when_switched_on_needs_a_marker_praise_and_a_complaint_fact(analyzer):
    model = analyzer.sentiment_classifier.model
    clf = SentimentClassifier(model, sarcasm=True)
    assert clf.sarcasm and not analyzer.sentiment_classifier.sarcasm  # off by default
    row = np.array([{"negative": 0.1, "neutral": 0.1, "positive": 0.8}[lab]
                    for lab in model.labels])  # whatever the model would say: a praise call
    flipped = clf._decide("呵呵，真是谢谢你们了，电梯坏了一个月，服务太贴心了", row)
    assert flipped.label == "negative" and flipped.score <= -0.5
    assert any("反讽" in r and "坏" in r for r in flipped.reasons)
    sincere = clf._decide("呵呵，真是谢谢你们了，服务太贴心了", row)  # no complaint fact
    assert sincere.label == "positive"


@pytest.fixture(scope="module")
def trained_model():
    """A customer's model where praise with 呵呵 is praise (as on much of Weibo)."""
    praise = ["呵呵，今天好开心，谢谢大家的礼物", "呵呵，收到花了，太贴心了", "感谢朋友们，呵呵，很满意",
              "呵呵，宝宝会走路了，感谢老天", "谢谢老师，呵呵，孩子进步很大", "呵呵，生日快乐，谢谢你们"]
    moan = ["电梯又坏了，没人修", "工资拖欠三个月了", "外卖送晚了一小时还洒了",
            "楼上装修吵死了", "快递丢了客服不理", "排队两小时没买到"]
    texts = praise * 2 + moan * 2
    labels = ["positive"] * 12 + ["negative"] * 12
    return train("sentiment", texts, labels, Tokenizer(), evaluate=False)


def test_sarcasm_rule_never_overrides_a_model_the_customer_trained(trained_model):
    text = "呵呵，真是谢谢你们了，服务太贴心了"
    for flag in (None, True):  # not even when asked to
        clf = SentimentClassifier(trained_model, sarcasm=flag)
        assert not clf.sarcasm
        result = clf.predict(text)
        assert result.label == "positive"
        assert result.score > 0
        assert not any("反讽" in r for r in result.reasons)


def test_a_trained_model_decides_by_plain_argmax(trained_model):
    """The default's neutral threshold and positive weight never touch a customer's model."""
    clf = SentimentClassifier(trained_model)
    assert clf.neutral_min == 0.0 and clf.positive_weight == 1.0
    texts = ["电梯又坏了", "谢谢老师", "今天下雨", "外卖到了", "呵呵", "排队买到了"]
    probs = trained_model.predict_proba(texts)
    labels = [trained_model.labels[int(np.argmax(row))] for row in probs]
    assert [r.label for r in clf.predict_batch(texts)] == labels


def test_default_neutral_needs_half_the_probability(analyzer):
    clf = analyzer.sentiment_classifier
    assert clf.neutral_min == 0.5
    idx = {lab: i for i, lab in enumerate(clf.model.labels)}

    def row(neg: float, neu: float, pos: float) -> np.ndarray:
        out = np.zeros(len(idx))
        out[idx["negative"]], out[idx["neutral"]], out[idx["positive"]] = neg, neu, pos
        return out

    # a plurality below half is not enough: the call is between praise and complaint
    assert clf._decide("约了上午，下午四点才到", row(0.35, 0.45, 0.20)).label == "negative"
    # a clear neutral stays neutral even after the positive weight
    assert clf._decide("本周六停水通知", row(0.10, 0.70, 0.20)).label == "neutral"
    # the score follows the reweighted probabilities, so label and sign agree
    res = clf._decide("x", row(0.45, 0.15, 0.40))
    assert res.label == "positive" and res.score > 0


def heldout(kind: str) -> list[dict]:
    rows = [json.loads(line) for line in HELDOUT.read_text("utf-8").splitlines() if line.strip()]
    return [r for r in rows if r["kind"] == kind]


@pytest.mark.parametrize(("kind", "threshold"), [("review", 0.85), ("weibo", 0.85)])
def test_day_one_binary_accuracy_on_the_hand_written_heldout_set(analyzer, kind, threshold):
    """Texts written apart from the seed (tests/nlp/data): praise must come out positive and
    complaints negative; a neutral call counts as wrong."""
    rows = heldout(kind)
    assert {r["label"] for r in rows} == {"positive", "negative"} and len(rows) >= 60
    results = analyzer.sentiment_classifier.predict_batch([r["text"] for r in rows])
    right = sum(res.label == r["label"] for r, res in zip(rows, results, strict=True))
    assert right / len(rows) >= threshold
    for label in ("positive", "negative"):  # not by calling everything one thing
        calls = [res.label for r, res in zip(rows, results, strict=True) if r["label"] == label]
        assert calls.count(label) / len(calls) >= 0.75


# A-G were the development sets of round 5 (written reviews added, positive weight
# re-tuned): 0.84-0.95 after it (F 0.840, its praise recall 0.75 the weakest). The floors
# guard against regression with room for a reshuffled training snapshot.
@pytest.mark.parametrize(("batch", "threshold", "recall"),
                         [("a", 0.85, 0.70), ("b", 0.85, 0.70), ("c", 0.82, 0.70),
                          ("d", 0.82, 0.70), ("e", 0.85, 0.70), ("f", 0.82, 0.70),
                          ("g", 0.82, 0.70)])
def test_day_one_reviews_across_domains(analyzer, batch, threshold, recall):
    """Separate review batches over 12-14 product and service domains (D was written after
    the last tuning round): fact-stating praise (送到还是烫的) must not lean negative."""
    path = HELDOUT.parent / f"sentiment_reviews_fresh_{batch}.jsonl"
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    assert len(rows) >= 120 and len({r["domain"] for r in rows}) >= 8
    results = analyzer.sentiment_classifier.predict_batch([r["text"] for r in rows])
    right = sum(res.label == r["label"] for r, res in zip(rows, results, strict=True))
    assert right / len(rows) >= threshold
    for label in ("positive", "negative"):
        calls = [res.label for r, res in zip(rows, results, strict=True) if r["label"] == label]
        assert calls.count(label) / len(calls) >= recall


@pytest.mark.parametrize("batch", ["h", "i"])
def test_day_one_blind_review_batches(analyzer, batch):
    """H and I were written apart from the tuning and scored once with the frozen round-5
    recipe (0.969 and 0.938); the floors guard that figure against regression."""
    path = HELDOUT.parent / f"sentiment_reviews_fresh_{batch}.jsonl"
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    assert len(rows) >= 150 and {r["label"] for r in rows} == {"positive", "negative"}
    results = analyzer.sentiment_classifier.predict_batch([r["text"] for r in rows])
    right = sum(res.label == r["label"] for r, res in zip(rows, results, strict=True))
    assert right / len(rows) >= 0.90
    for label in ("positive", "negative"):
        calls = [res.label for r, res in zip(rows, results, strict=True) if r["label"] == label]
        assert calls.count(label) / len(calls) >= 0.85


def test_notices_and_consultations_stay_neutral_on_day_one(analyzer):
    rows = [r for r in heldout("news") + heldout("message") if r["label"] == "neutral"]
    results = analyzer.sentiment_classifier.predict_batch([r["text"] for r in rows])
    assert sum(res.label == "neutral" for res in results) / len(rows) >= 0.7


def test_the_shipped_seed_is_balanced_and_covers_every_source_kind():
    rows = seed_rows("sentiment")
    counts = Counter(r["label"] for r in rows)
    # praise and complaint balanced; neutral (rarer in reviews, where most of the hand-written
    # rows are) is a fair share and the classifier weights classes by their inverse frequency
    assert max(counts["positive"], counts["negative"]) / min(
        counts["positive"], counts["negative"]) < 1.2
    assert counts["neutral"] / sum(counts.values()) >= 0.15
    assert TrainSettings.for_kind("sentiment").class_weight == "balanced"
    kinds = Counter((r["kind"], r["label"]) for r in rows)
    for kind in ("news", "weibo", "review", "message"):
        for label in ("negative", "neutral", "positive"):
            assert kinds[(kind, label)] >= 20, (kind, label)
    held = {r["text"] for r in heldout("review") + heldout("weibo")}
    for batch in "abcdefghi":
        path = HELDOUT.parent / f"sentiment_reviews_fresh_{batch}.jsonl"
        held |= {json.loads(line)["text"] for line in path.read_text("utf-8").splitlines()
                 if line.strip()}
    assert not held & {r["text"] for r in rows}  # held-out stays out of training


def test_a_plain_notice_is_neutral(analyzer):
    result = analyzer.sentiment_classifier.predict("请问江宁区社保卡在哪里补办？需要带什么材料")
    assert result.label == "neutral"
    assert abs(result.score) < 0.5
