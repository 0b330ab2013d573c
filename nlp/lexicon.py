"""Polarity lexicon as a handful of dense features for the sentiment model.

N-grams learned from a few thousand seed sentences also learn their topics (头发 was only in
complaints, so a hair-dryer review looked negative). Counts of praise and complaint words
from ``data/sentiment_lexicon.txt`` carry polarity across domains the seed never saw. A
negator just before a word flips it (不满意, 没有异味, 一点也不卡); the last clause gets its
own features because a review ends on its verdict (虽然贵，但是很好用). Praise next to an
irony marker and a complaint fact (呵呵 … 欠薪 … 真是谢谢) is one more feature whose weight
the model learns, instead of a rule that overrides it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from importlib import resources

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin

# Irony markers: praise next to one of these and a complaint fact is a learned feature (the
# weight comes from the training data; no rule overrides the model).
IRONY_MARKERS = ("呵呵", "真是谢谢", "谢谢了", "可真行", "真行啊", "佩服佩服", "笑死", "不愧是",
                 "好一个", "真是辛苦了", "真是贴心", "真是给力", "真是高效", "厉害了", "良心商家")
NEGATORS = ("不", "没", "无", "未", "别", "非", "莫", "毫不", "并不", "不太", "不够", "没有", "不用", "无需",
            "不必", "不算",
            "一点也不", "一点都不", "从不")
_NOT_NEGATORS = ("特别", "分别", "区别", "离别", "告别", "除非", "是非", "无非")
_NEG_GAP = re.compile(r"(?:不|没|没有|毫无)(?:怎么|太|那么|会|再|被|一点|什么|任何|出现|发现|磕|摔|碰|见|觉得|算|是)$"
                      # 没 + a verb and its result: 没洗干净, 没感觉到疼, 没煮熟
                      r"|没[^不没了的就又还都很太人，。！？\s]{1,2}(?:到|得|出)?$"
                      # nobody doing it: 没有人跟着推销, 没人打扰 (not 没人收拾垃圾: a fact)
                      r"|没有?人(?:跟着|跟|来|上来|过来|强行|一直|再)?$")
_CLAUSE = re.compile(r"[，,。！!？?；;～~…\n]+")
# A negation after the word: 一道划痕都没有, 异味也没有, 一点卡顿都没
_POST_NEG = re.compile(r"^(?:都|也)(?:没有|没|不)")
# A complaint of low degree is praise: 延迟很低, 噪音小, 发热不明显, 卡顿很少
_LOW_AFTER = re.compile(r"^(?:也|都)?(?:很|非常|特别|比较|挺|超|极|相当)?"
                        r"(?:低|小|少|轻微|不大|不明显|不多|几乎没有|基本没有|基本没)")
# Review facts that carry a verdict without an evaluative word: expectations met or beaten,
# coming back, a promise kept (positive); waiting, a promise broken, never again (negative).
# Counted as two more features whose weights the model learns from the seed.
_GOOD_FACT = re.compile(
    r"照样|依然(?:很|能|可以)|跟(?:新的|刚买[时的]*|以前)一样|和新的一样|比预期|超出预期|超过预期"
    r"|没想到.{0,3}(?:这么|那么|会这么)|出乎意料|物超所值|(?<!不)还会再|下次还|(?<![不还])会再来|再来[住吃买]"
    r"|回购|又买了|又下单|又订|又来|第[二三四五六七八九十几\d]+(?:次|瓶|本|单|回)(?:来|买|入住|回购|下单)|已经是第[^，。！？]{1,3}[瓶本单件]"
    r"|推荐给|已经推荐|安利给|完全没问题|没出过问题|一点毛病|没毛病|只收了?|没收钱|没有收钱|没加钱"
    r"|不用再|再也不用|再也没(?:有)?[^，。！？]{0,6}(?:过|了)|主动|提前")
_BAD_FACT = re.compile(
    r"再也不[会买来去住]|不会再|退货|退了|投诉|后悔|"
    r"才(?:到|来|送到|送来|给|开始|修好|退|回复|接)|等了.{1,5}(?:小时|天|分钟|个月|周|星期)|一直等"
    r"|拖了|迟迟|还没(?:到|退|修|送|回)|没人(?:接|管|理|回)|踢皮球|推来推去|说好的?"
    r"|才用了.{0,5}就|用了.{1,5}就(?:坏|没|不|开|掉|松|裂|断)|根本(?:不|没)|只给|白给|多算|多收")


@lru_cache(maxsize=1)
def shipped_lexicon() -> dict[str, int]:
    text = resources.files("nlp").joinpath("data", "sentiment_lexicon.txt").read_text("utf-8")
    words: dict[str, int] = {}
    for line in text.splitlines():
        parts = line.split()
        if not parts or parts[0] not in ("+", "-"):
            continue
        for w in parts[1:]:
            words[w] = 1 if parts[0] == "+" else -1
    return words


@lru_cache(maxsize=4)
def _pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    # longest first: the regex takes the first alternative that matches at a position
    return re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)))


@lru_cache(maxsize=1)
def _shipped_pattern() -> re.Pattern[str]:
    return _pattern(tuple(shipped_lexicon()))


def polarity_hits(text: str, lexicon: dict[str, int] | None = None) -> list[tuple[str, int]]:
    """(word, +1/-1) for each lexicon word in ``text``, negation applied."""
    if lexicon:
        pattern = _pattern(tuple(lexicon))
    else:  # the shipped one: its pattern without building and hashing a tuple of it per call
        lexicon, pattern = shipped_lexicon(), _shipped_pattern()
    hits = []
    for m in pattern.finditer(text):
        sign = lexicon[m.group()]
        if m.group().startswith("["):  # an emoticon is never negated ([抓狂] after 没睡着)
            hits.append((m.group(), sign))
            continue
        before = text[max(0, m.start() - 6):m.start()]
        # a negator right before, or before a light word in the same clause: 没磕坏,
        # 不怎么掉, 没有一点异味, 没出现卡顿
        # 别/非 end 特别/分别/除非 too: 特别刺耳 is not a negation
        after = text[m.end():m.end() + 6]
        if ((before.endswith(NEGATORS) and not before.endswith(_NOT_NEGATORS))
                or _NEG_GAP.search(_CLAUSE.split(before)[-1]) or _POST_NEG.match(after)):
            sign = -sign
        elif sign < 0 and _LOW_AFTER.match(after):
            sign = 1
        hits.append((m.group(), sign))
    return hits


FEATURE_NAMES = ("pos", "neg", "more_pos", "more_neg", "none", "last_pos", "last_neg", "irony",
                 "good_fact", "bad_fact")
N_FEATURES = len(FEATURE_NAMES)


def _scaled(n: int) -> float:
    return min(n, 4) / 4.0


def polarity_features(text: str) -> list[float]:
    hits = polarity_hits(text)
    pos = sum(1 for _, s in hits if s > 0)
    neg = len(hits) - pos
    clauses = [c for c in _CLAUSE.split(text) if c.strip()]
    last = polarity_hits(clauses[-1]) if clauses else []
    lpos = sum(1 for _, s in last if s > 0)
    lneg = len(last) - lpos
    irony = any(m in text for m in IRONY_MARKERS) and pos > 0 and neg > 0
    good = len(_GOOD_FACT.findall(text))
    bad = len(_BAD_FACT.findall(text))
    return [_scaled(pos), _scaled(neg), float(pos > neg), float(neg > pos),
            float(pos == neg == 0), float(lpos > lneg), float(lneg > lpos), float(irony),
            _scaled(good), _scaled(bad)]


class LexiconFeatures(TransformerMixin, BaseEstimator):
    """scikit-learn transformer: eight polarity features per text (picklable, stateless)."""

    def __init__(self, weight: float = 1.0):
        self.weight = weight

    def fit(self, texts: Iterable[str], y: Sequence[str] | None = None) -> LexiconFeatures:
        # features are only ever appended: a model keeps reading the columns it was fit on
        self.n_features_ = N_FEATURES
        return self

    def transform(self, texts: Iterable[str]) -> sparse.csr_matrix:
        n = getattr(self, "n_features_", N_FEATURES)
        rows = [polarity_features(t)[:n] for t in texts]
        return sparse.csr_matrix(np.asarray(rows, dtype=float).reshape(len(rows), n)
                                 * self.weight)

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return np.array(FEATURE_NAMES[:getattr(self, "n_features_", N_FEATURES)], dtype=object)
