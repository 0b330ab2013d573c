import pytest


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


def test_sarcastic_praise_is_negative_and_says_why(analyzer):
    text = "真是太感谢物业了，电梯坏了一个月，今天终于贴了张通知，效率真高，呵呵"
    result = analyzer.sentiment_classifier.predict(text)
    assert result.label == "negative"
    assert result.score <= -0.5
    assert any("反讽" in r for r in result.reasons)


def test_a_plain_notice_is_neutral(analyzer):
    result = analyzer.sentiment_classifier.predict("请问江宁区社保卡在哪里补办？需要带什么材料")
    assert result.label == "neutral"
    assert abs(result.score) < 0.5
