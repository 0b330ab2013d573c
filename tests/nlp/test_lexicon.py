"""The polarity lexicon's reading of negation and degree (features of the sentiment model)."""

from __future__ import annotations

import pytest

from nlp.lexicon import polarity_hits


@pytest.mark.parametrize("text, word, sign", [
    ("不满意", "不满", -1),             # the longest entry wins
    ("没有异味", "异味", 1),
    ("一道划痕都没有", "划痕", 1),
    ("特别刺耳", "刺耳", -1),            # 特别 is not a negator
    ("打游戏延迟很低", "延迟", 1),        # a complaint of low degree is praise
    ("噪音小", "噪音", 1),
    ("发热不明显", "发热", 1),
    ("卡顿很少", "卡顿", 1),
    ("噪音很大", "噪音", -1),
    ("太慢了", "太慢", -1),
    ("没有人跟着推销", "推销", 1),        # nobody doing it
    ("没人收拾垃圾", "垃圾", -1),         # a fact about garbage, not a negation
])
def test_negation_and_degree(text: str, word: str, sign: int) -> None:
    assert (word, sign) in polarity_hits(text)


def test_emoticons_are_never_flipped() -> None:
    assert ("[抓狂]", -1) in polarity_hits("一晚上没睡着[抓狂]")
