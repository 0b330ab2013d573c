import pickle

import rjieba

from nlp.tokenize import Tokenizer, _JiebaBackend

SAMPLES = [
    "网传江宁区东山街道将强制拆迁，12345热线没人管！",
    "昨晚暴雨，百家湖附近道路积水半米深，好几辆车泡在水里熄火了",
    "区市场监管局开展节前食品安全专项检查，抽检食品样品200批次",
    "我妈被电信诈骗骗走了二十万养老钱，对方冒充公安说她涉嫌洗钱",
]


def test_it_keeps_domain_and_home_place_words_whole():
    tok = Tokenizer(extra_words=["东山街道", "麒麟科创园"])
    words = tok("网传东山街道与麒麟科创园强拆，12345热线和网信办都不管")
    for word in ("东山街道", "麒麟科创园", "网传", "强拆", "12345热线", "网信办"):
        assert word in words
    plain = rjieba.Jieba().cut("麒麟科创园")
    assert plain != ["麒麟科创园"]  # proves the dictionary, not the default, joined it


def test_it_drops_stopwords_and_punctuation_but_keeps_negation():
    words = Tokenizer()("我们的问题，为什么没有人管？！不满意")
    assert "我们" not in words and "的" not in words
    assert "，" not in words and "？" not in words
    assert "没有" in words


def test_it_pickles_without_the_native_segmenter_and_tokenizes_the_same():
    tok = Tokenizer(extra_words=["东山街道"])
    before = [tok(s) for s in SAMPLES]
    clone = pickle.loads(pickle.dumps(tok))
    assert [clone(s) for s in SAMPLES] == before
    assert clone.backend is tok.backend  # one segmenter per process and dictionary


def test_rjieba_and_the_jieba_fallback_cut_identically_with_domain_words():
    words = ("东山街道", "网传", "12345热线", "强拆")
    native, fallback = rjieba.Jieba(), _JiebaBackend()
    for w in words:
        native.add_word(w, None, None)
        fallback.add_word(w, None, None)
    for text in SAMPLES:
        assert list(native.cut(text)) == fallback.cut(text)
