"""Word lists and text tests the place finder uses to tell a place from an ordinary word.

Kept apart from ``nlp.places`` (the matching and resolution) so the lists can be read and
extended on their own. All offsets are character offsets into the analysed text.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Any

# A short form followed by these names a road or a compound, not a place.
ROAD_AFTER = ("路", "街", "巷", "弄", "桥", "大道", "隧道", "高速", "广场", "公园", "大厦")
# ... and these an estate (龙井花园 and 桂林小区 may lie anywhere).
ESTATE_AFTER = ("小区", "社区", "花园", "院子", "苑", "家园", "嘉园", "新村", "公寓", "山庄",
                 "华庭", "华府", "公馆", "名邸", "雅居", "别墅", "楼盘", "小镇", "一期", "二期",
                 "三期")
# ... and these a dish sold anywhere (兰州拉面, 桂林米粉).
DISH_AFTER = ("拉面", "小吃", "小面", "烤鸭", "热干面", "螺蛳粉", "米粉", "臭豆腐", "大盘鸡",
               "炸酱面", "凉皮", "肉夹馍", "米线", "火锅", "烧饼", "包子", "汤包", "板鸭")
# The tail of a word a full name may run into with its own suffix: 区政府, 市民, 县城.
SUFFIX_TAILS = frozenset((
    "委", "政府", "人民政府", "民", "民们", "长", "区", "内", "里", "城", "级", "属", "委会",
    "委员会", "办", "办事处", "党委", "党工委", "长信箱", "领导", "财政", "上", "中心"))
# Institutions named after a place (南京大学, 杭州银行): the place is weak evidence.
INSTITUTION_TAILS = ("大学", "学院", "银行", "医院", "中学", "小学", "日报", "晚报", "电视台",
                      "地铁", "火车站", "东站", "南站", "北站", "西站", "机场", "公司", "集团")
# Short forms of cities that are ordinary words too (世界大同, 未开封, 各位来宾, 白银价格):
# alone they are a guess; with a suffix, a parent or a neighbour in the text they count.
COMMON_WORDS = frozenset((
    "大同", "开封", "日照", "包头", "白银", "来宾", "安康", "阿里", "通化", "三明", "长治",
    "普洱", "黄山", "红河", "怒江", "白山", "北海", "和田", "中卫",
    "吉安", "金昌", "德宏", "文山"))
COMPANY = ("有限公司", "公司", "集团", "股份", "商行")
CLAUSE_END = "，。！？；、,.!?;:：\n \t（）()【】「」“”\"'"


def split_place_words(cuts: list[int], raw: list[tuple[int, int, Any]]) -> list[int]:
    """Cut a dictionary word made only of place names (上海浦东新区) into those names."""
    spans: dict[int, list[int]] = {}
    for start, end, _v in raw:
        spans.setdefault(start, []).append(end)
    extra: list[int] = []
    for start in spans:
        k = bisect_right(cuts, start)
        if k < len(cuts) and cuts[k - 1] == start and cuts[k] - start >= 4:
            path = cover(start, cuts[k], spans)
            if path:
                extra.extend(path[:-1])
    return sorted({*cuts, *extra}) if extra else cuts


def cover(a: int, b: int, spans: dict[int, list[int]]) -> list[int] | None:
    """Ends of hits that tile [a, b) exactly, longest hits first; None when none do."""
    for end in sorted(spans.get(a, ()), reverse=True):
        if end == b:
            return [b]
        if end < b:
            rest = cover(end, b, spans)
            if rest:
                return [end, *rest]
    return None


def suffix_word(surface: str, tail: str) -> bool:
    """Whether a full name runs into a word made with its own suffix (区政府, 市民)."""
    return surface.endswith(("市", "区", "县", "镇", "乡", "村", "街道", "旗")) and \
        tail in SUFFIX_TAILS


def company(text: str, end: int) -> str:
    """"出现在单位名称中…" when the words after a name, in the same clause, end in 公司/集团."""
    stop = end
    while stop < len(text) and stop - end < 14 and text[stop] not in CLAUSE_END:
        stop += 1
    clause = text[end:stop]
    if clause.startswith(("一", "的", "有")):
        return ""  # 南京一公司, 南京的公司: where the company is, not its name
    for word in COMPANY:
        at = clause.find(word)
        if at >= 0:
            return f"其后是单位名称（{clause[:at + len(word)]}），可能只是企业字号"
    return ""
