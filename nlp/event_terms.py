"""What event clustering reads from a post's words: content terms, TF-IDF vectors with
jieba's IDF table, the lead (title and first real sentence), specific names, one-line summary.

Tables (jieba's IDF values, its proper nouns) are read once per process.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from functools import lru_cache
from importlib import resources

from nlp.types import PlaceMatch

_STOPWORD_TEXT = """
的 了 是 在 有 和 就 不 人 都 也 很 到 说 要 去 你 会 着 看 好 这 那 与 及 等 被 把 让 给 对 从
一个 没有 自己 我们 你们 他们 大家 什么 这个 那个 这样 还是 已经 因为 所以 但是 如果 可以 现在
目前 今天 昨天 明天 今年 去年 相关 情况 问题 记者 网友 表示 转发 评论 微博 视频 图片 链接 全文
进行 工作 一些 有关 通过 发现 出现 发生 其中 以及 并且 而且 或者 然后 不是 就是 还有 这些 那些
真的 一下 希望 请问 谢谢 回复 原文 来源 消息 报道 据悉 日前 近日 此前 之后 以来 为了 关于 没人
回应 通报 情况 说明 一事 引发 关注 高度重视 第一时间 责任人 处理结果 工作日 工作日内 有关部门
相关部门 部门 核实 调查 处理 协调 解决 专班 工作专班 成立 安排 专人 上门 立即 尽快 公布 约谈
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())
_TERM = re.compile(r"^[\u4e00-\u9fffA-Za-z][\u4e00-\u9fffA-Za-z0-9]+$")
_SENTENCE = re.compile(r"[^。！？!?；;\n]+")
_SPACES = re.compile(r"\s+")
LEAD_BOOST = 2.0
# Names (a compound 翠屏山, a firm, a person): words jieba's dictionary tags as proper nouns,
# or words it does not know at all (new words its HMM found, such as most compound names).
# Sharing one is strong evidence of the same incident; look-alike incidents (the same kind of
# trouble in another compound) differ exactly there.
PROPER_TAGS = frozenset({"nr", "nrt", "nrfg", "ns", "nt", "nz"})


@lru_cache(maxsize=1)
def idf_table() -> tuple[dict[str, float], float]:
    """jieba's shipped IDF table and its median (for unknown words); read once per process."""
    text = resources.files("jieba").joinpath("analyse/idf.txt").read_text(encoding="utf-8")
    parts = text.split()
    if len(parts) % 2 == 0:
        # "word idf" per line: pairing the split is twice as fast as parsing line by line.
        table = dict(zip(parts[0::2], map(float, parts[1::2]), strict=True))
    else:
        table = {}
        for line in text.splitlines():
            word, _, value = line.partition(" ")
            if value:
                table[word] = float(value)
    values = sorted(table.values())
    return table, values[len(values) // 2]


@lru_cache(maxsize=200_000)
def _termish(token: str) -> bool:
    """A term whatever the post: two characters or more, no stop word, letters first."""
    return len(token) >= 2 and token not in _STOPWORDS and bool(_TERM.match(token))


def content_terms(tokens: list[str], places: list[PlaceMatch] | None = None) -> list[str]:
    """Tokens that carry the matter: no stop words, single characters, numbers or place words."""
    place_words = {part for p in places or [] for part in p.text.split("、") if part}
    terms = list(filter(_termish, tokens))
    if not place_words:
        return terms
    joined = "|".join(place_words)
    # each distinct term tested once; a few place words: substring tests beat compiling an
    # alternation per post
    placed = {t for t in set(terms) if t in joined or any(word in t for word in place_words)}
    return [t for t in terms if t not in placed] if placed else terms


def tfidf(terms: list[str], lead: str = "") -> dict[str, float]:
    """TF-IDF weights with jieba's IDF; terms of the lead (title, first sentence) count triple.

    The lead says what happened and where (倒金字塔); the rest of a long post adds detail
    that differs from copy to copy and would drown the matter in averages.
    """
    table, median = idf_table()
    counts = Counter(terms)
    return {t: (1 + math.log(c)) * table.get(t, median) * (LEAD_BOOST if t in lead else 1.0)
            for t, c in counts.items()}


def lead_of(title: str, text: str) -> str:
    """The title and the first real sentence (reposts open with short cries: 转发：太气人了！)."""
    sentences = [x.strip() for x in _SENTENCE.findall(text or "") if x.strip()]
    first = next((x for x in sentences if len(x) >= 15), sentences[0] if sentences else "")
    return f"{title} {first}"


def _specific(term: str) -> bool:
    return term in proper_nouns() or term not in idf_table()[0]


@lru_cache(maxsize=1)
def proper_nouns() -> frozenset[str]:
    """Words tagged as proper nouns in jieba's shipped dictionary; read once per process."""
    text = resources.files("jieba").joinpath("dict.txt").read_text(encoding="utf-8")
    out = set()
    for line in text.splitlines():
        parts = line.split(" ")
        if len(parts) == 3 and parts[2] in PROPER_TAGS:
            out.add(parts[0])
    return frozenset(out)


def _unit(vec: dict[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(w * w for w in vec.values()))
    return {t: w / norm for t, w in vec.items()} if norm else {}


def _one_line(title: str, text: str, keywords: list[str], limit: int = 60) -> str:
    """The first post's title, or its first sentence that names a top keyword."""
    line = title.strip()
    if not line:
        sentences = [s.strip() for s in _SENTENCE.findall(text or "") if len(s.strip()) >= 6]
        line = next((s for s in sentences if any(k in s for k in keywords[:3])),
                    sentences[0] if sentences else (text or "").strip())
    line = _SPACES.sub(" ", line)
    return line if len(line) <= limit else line[: limit - 1] + "…"


# Facility words: what a named place of an incident ends with (翠屏山小区, 湖勇小学, 双龙大道路口).
# Two incidents of one kind in one street differ in the facility they name; a repost or a
# follow-up of one incident names the same one.
FACILITY_TYPES = frozenset("""
小区 社区 花园 公寓 大厦 广场 学校 小学 中学 大学 学院 幼儿园 医院 卫生院 诊所 养老院 敬老院
菜市场 农贸市场 市场 商场 超市 商店 酒店 宾馆 饭店 餐厅 食堂 工地 工厂 公司 银行 公园 景区
停车场 加油站 公交站 车站 地铁站 路口 大桥 隧道 派出所 体育馆 图书馆
""".split())
# Words before a facility word that say which kind, not which one (附近小区, 一所学校, 物业公司),
# or what someone did there (送往医院, 进入小区), or when (昨晚小区).
_GENERIC_BEFORE = frozenset("""
附近 当地 周边 旁边 本地 城区 老旧 新建 市区 全市 全区 辖区 私立 公立 民办 附属 大型 知名 农村
乡镇 城市 居民 市民 学生 街道 周围 对面 隔壁 一家 这家 那家 一所 这所 一个 这个 那个 多个 多所
多家 部分 一些 各个 各类 某某 我们 我家 人民 中心 社会 国内 国外 省内 市内 物业 涉事 事发
送往 送到 送至 送进 前往 来到 去往 赶到 赶往 到达 进入 走进 走出 离开 回到 住进 搬进 位于 督促
要求 责令 联系 协调 投诉 举报 反映 曝光 通报 今日 昨日 昨晚 今晚 凌晨 上午 下午 晚上 深夜 傍晚 中午
""".split()) | FACILITY_TYPES
# Kinds of one facility: a compound and its residents' committee (翠屏山小区 / 翠屏山社区), a
# market by another word, are named alike in reports of one incident.
FACILITY_KIN = {"社区": "小区", "花园": "小区", "公寓": "小区", "家园": "小区", "农贸市场": "菜市场",
                "市场": "菜市场"}
# Characters that, split off alone before a facility word, are no part of its name (某小区, 该医院).
_NOT_NAME_CHARS = frozenset("的了在是和与及或某该这那此本各每一二两三几多个家所座处间等到从向对把被给为"
                            "去来近旁里内外上下前后中新老大小原")
# Road words take the name before them along (双龙|大道|路口 is 双龙大道路口, not 大道路口).
_ROAD_WORDS = frozenset({"大道", "大街", "街", "路", "公路", "高速"})


def facilities(tokens: list[str], lead: str) -> frozenset[str]:
    """Named facilities in the lead: the name tokens before a facility word (翠屏山|小区,
    金鹰|天地|小区, 建|明|公园, 双龙|大道|路口), or one token ending in one (华山医院).

    Kind words (附近小区, 某小区) are no name. Place names are (东山小学, 鼓楼医院): the events
    compare facilities by their ending, so 昆山周庄兰海小学 meets 兰海小学.
    """
    out = set()
    for i, tok in enumerate(tokens):
        if tok in FACILITY_TYPES:
            name = _name_before(tokens, i)
            if name:
                out.add(name + tok)
        elif len(tok) >= 4 and _termish(tok):
            for n in (2, 3):
                if tok[-n:] in FACILITY_TYPES and len(tok) - n >= 2 \
                        and tok[:-n] not in _GENERIC_BEFORE:
                    out.add(tok)
                    break
    return frozenset(f for f in out if f in lead) if out else frozenset()


def _name_before(tokens: list[str], i: int) -> str:
    """The name tokens just before tokens[i] (at most three words or characters), or ""."""
    parts: list[str] = []
    j = i - 1
    while j >= 0 and len(parts) < 3:
        tok = tokens[j]
        if len(tok) == 1:
            # a name jieba split into characters (建|明|公园); never a word after them
            if not ("\u4e00" <= tok <= "\u9fff") or tok in _NOT_NAME_CHARS \
                    or (parts and len(parts[0]) > 1):
                break
        elif tok in _GENERIC_BEFORE or not _termish(tok):
            break
        elif parts and not _specific(tok) and parts[0] not in _ROAD_WORDS:
            # further back only a proper noun or an unknown word: not 反映|翠屏山|小区 (the
            # events compare names by their ending, so 天地小区 still meets 金鹰天地小区)
            break
        parts.insert(0, tok)
        j -= 1
    name = "".join(parts)
    if len(name) < 2 or name in _ROAD_WORDS:
        return ""
    return name
