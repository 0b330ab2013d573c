"""Severity: level I–IV or none, from explainable factors.

Each factor adds points (see config/severity.yaml for every key); the level follows from the
thresholds, deaths reported in the text set a floor after the national accident grading, and
a post with no sign of concern (not negative, no risk terms, no rumour) is never an alert, so
routine government news and praise stay quiet.

Event statistics (velocity, spread) come from the event assigner when it exposes
``event_stats(event_id)`` or ``stats(event_id)`` (optional methods; see ``stats_from`` for the
accepted shapes), or are passed in.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from nlp.types import PostInput, SentimentResult, SeverityFactor, SeverityResult, TopicResult

LEVEL_NAMES = {1: "I 特别重大", 2: "II 重大", 3: "III 较大", 4: "IV 一般"}

DEFAULTS: dict[str, Any] = {
    "thresholds": {1: 85, 2: 70, 3: 50, 4: 20},
    "topic_sensitivity": 20,
    "urgent_category": 10,
    "negative_sentiment": 15,
    "risk_terms_cap": 35,
    "risk_terms": {
        "casualties": {"points": 20, "name": "人员伤亡", "terms": [
            "死亡", "身亡", "遇难", "丧生", "死者", "罹难", "受伤", "伤亡", "重伤", "抢救",
            "被困", "失踪"]},
        "explosion": {"points": 20, "name": "爆炸", "terms": ["爆炸", "爆燃", "炸死", "炸伤"]},
        "fire": {"points": 15, "name": "火灾", "terms": [
            "起火", "火灾", "失火", "着火", "大火", "火光冲天", "浓烟"]},
        "poisoning": {"points": 18, "name": "中毒", "terms": [
            "中毒", "上吐下泻", "毒气", "有毒气体", "泄漏"]},
        "epidemic": {"points": 15, "name": "疫情传染", "terms": [
            "疫情", "传染", "感染", "病例", "诺如", "猴痘", "霍乱", "聚集性"]},
        "mass_gathering": {"points": 18, "name": "聚集上访", "terms": [
            "聚集", "上访", "围堵", "堵路", "拉横幅", "群体性", "静坐", "集体维权", "讨薪",
            "被围"]},
        "corruption": {"points": 12, "name": "腐败", "terms": [
            "贪污", "受贿", "挪用", "截留", "冒领", "私分", "红包", "吃拿卡要", "送礼", "贿选"]},
        "violence": {"points": 15, "name": "暴力", "terms": [
            "持刀", "砍人", "殴打", "打伤", "斗殴", "血泊", "行凶", "暴力执法", "强拆", "打架"]},
    },
    "death_floors": {30: 1, 10: 2, 3: 3, 1: 4},
    "people_involved": {10: 6, 30: 12, 100: 18},
    "mass_harm": {
        "level": 3, "min_people": 10, "min_minors": 3,
        "harm_terms": ["中毒", "呕吐", "腹泻", "上吐下泻", "发烧", "发热", "高烧", "身体不适",
                       "感染", "受伤", "伤亡", "死亡", "送医", "就医", "住院", "抢救", "烧伤",
                       "砸伤", "咬伤", "摔伤", "撞伤", "骨折", "晕倒", "昏迷", "病倒"],
        "group_terms": ["多人", "多名", "群体", "集体", "大批", "一批", "成批", "十几", "几十",
                        "数十", "上百", "多位"],
        "minor_terms": ["学生", "幼儿", "孩子", "儿童", "学童", "师生", "小朋友", "婴儿"]},
    "rumour": 10,
    "rumour_terms": ["网传", "谣言", "传言", "疯传", "是真的吗", "真的假的", "求证", "有人说",
                     "听说", "群里在传", "不实信息"],
    "authority": {"central": 10, "provincial": 7, "local": 4, "verified": 3, "user": 0},
    "reach": 12,
    "reach_log_full": 5,
    "velocity": 10,
    "velocity_full": 20,
    "spread": 8,
    "spread_full": 5,
    "learned": 25,
    "positive_dampener": -20,
    "routine_dampener": -15,
    "fiction_dampener": -20,
    "fiction_terms": ["电影", "电视剧", "影视", "游戏", "小说", "综艺", "演练", "演习", "模拟"],
    "routine_terms": ["召开", "会议", "调研", "部署", "签约", "表彰", "慰问", "座谈", "学习",
                      "举行", "举办", "开幕", "发布会", "检查", "推进会", "开展", "记者从",
                      "获悉", "专项行动", "集中整治"],
}

# Learned severity labels and the expected-level value each stands for.
SEVERITY_LABELS = {"none": 0.0, "IV": 0.25, "III": 0.5, "II": 0.75, "I": 1.0}
SEVERITY_ALIASES = {
    "i": "I", "1": "I", "特别重大": "I", "红": "I",
    "ii": "II", "2": "II", "重大": "II", "橙": "II",
    "iii": "III", "3": "III", "较大": "III", "黄": "III",
    "iv": "IV", "4": "IV", "一般": "IV", "蓝": "IV",
    "none": "none", "0": "none", "无": "none", "不预警": "none", "非预警": "none", "": "none",
}

_CN_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9}
_NUM = r"(\d+|[零一二两三四五六七八九十百]+)"
_DIED = r"(?:死亡|身亡|遇难|丧生|罹难|溺亡|遇害|丧命|不幸去世)"
_DEATH_RE = [re.compile(_NUM + r"\s*(?:人|名[^，。,；;]{0,8}?)" + _DIED),
             re.compile(_DIED + r"\s*" + _NUM + r"\s*[人名]"),
             re.compile(r"(?:致|造成)\s*" + _NUM + r"\s*[人名]\s*" + _DIED)]
# People involved: "30多名学生", "上百名业主", "数十户村民"; vague quantities count as
# their lower bound.
_PEOPLE_RE = re.compile(r"(\d+|十几|[一二两三四五六七八九十百千]+|上百|上千|数十|数百|几十|几百)\s*"
                        r"(?:多|余)?\s*(?:个人|名|位|户|人)")
_SENTENCE = re.compile(r"[。！？!?；;\n]")
_VAGUE = {"十几": 10, "上百": 100, "上千": 1000, "数十": 20, "几十": 20, "数百": 200, "几百": 200}


class SeverityConfigError(ValueError):
    pass


@dataclass(slots=True)
class EventStats:
    posts: int = 1
    sources: int = 1
    posts_per_hour: float = 0.0


def config_from(data: Mapping[str, Any] | None) -> dict[str, Any]:
    """Defaults overridden by ``data`` (the ``severity:`` section); wrong keys are refused."""
    cfg = copy.deepcopy(DEFAULTS)
    for key, value in (data or {}).items():
        if key not in DEFAULTS:
            raise SeverityConfigError(f"severity.{key}：未知的配置项")
        if isinstance(DEFAULTS[key], dict) and isinstance(value, Mapping):
            cfg[key] = {**cfg[key], **value} if key != "risk_terms" else dict(value)
        else:
            cfg[key] = value
    _check_types(cfg)
    cfg["thresholds"] = {int(k): float(v) for k, v in cfg["thresholds"].items()}
    cfg["death_floors"] = {int(k): int(v) for k, v in cfg["death_floors"].items()}
    cfg["people_involved"] = {int(k): float(v) for k, v in cfg["people_involved"].items()}
    if sorted(cfg["thresholds"]) != [1, 2, 3, 4]:
        raise SeverityConfigError("severity.thresholds：必须给出 1、2、3、4 四个等级的分数线")
    t = cfg["thresholds"]
    if not t[1] >= t[2] >= t[3] >= t[4]:
        raise SeverityConfigError("severity.thresholds：等级越高分数线必须越高（1 ≥ 2 ≥ 3 ≥ 4）")
    return cfg


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _whole(key: Any) -> bool:
    try:
        int(key)
    except (TypeError, ValueError):
        return False
    return not isinstance(key, bool | float)


def _check_types(cfg: Mapping[str, Any]) -> None:
    """Numbers where numbers are scored, word lists of text: a bad value is refused at load,
    naming its key, instead of failing on the first post scored."""
    def bad(path: str, what: str) -> SeverityConfigError:
        return SeverityConfigError(f"severity.{path}：{what}")

    for key, default in DEFAULTS.items():
        value = cfg[key]
        if _number(default) and not _number(value):
            raise bad(key, "应为数字")
        if isinstance(default, list) and (not isinstance(value, list)
                                          or not all(isinstance(t, str) for t in value)):
            raise bad(key, "应为词语列表")
        if isinstance(default, dict) and not isinstance(value, Mapping):
            raise bad(key, "应为映射（键: 值）")
    harm = cfg["mass_harm"]
    for key in ("level", "min_people", "min_minors"):
        if not _whole(harm.get(key)) or int(harm[key]) < 1:
            raise bad(f"mass_harm.{key}", "应为正整数")
    if int(harm["level"]) not in LEVEL_NAMES:
        raise bad("mass_harm.level", "应为 1、2、3、4 之一")
    for key in ("harm_terms", "group_terms", "minor_terms"):
        terms = harm.get(key)
        if not isinstance(terms, list) or not all(isinstance(t, str) for t in terms):
            raise bad(f"mass_harm.{key}", "应为词语列表")
    if set(harm) - {"level", "min_people", "min_minors", "harm_terms", "group_terms",
                    "minor_terms"}:
        raise bad("mass_harm", "未知的子项（可用 level、min_people、min_minors、harm_terms、"
                               "group_terms、minor_terms）")
    for key in ("thresholds", "death_floors", "people_involved", "authority"):
        for k, v in cfg[key].items():
            if key != "authority" and not _whole(k):
                raise bad(f"{key}.{k}", "键应为整数")
            if not _number(v):
                raise bad(f"{key}.{k}", "应为数字")
    for name, cat in cfg["risk_terms"].items():
        if not isinstance(cat, Mapping) or set(cat) - {"points", "name", "terms"}:
            raise bad(f"risk_terms.{name}", "应为 {points, name, terms}")
        if not _number(cat.get("points")):
            raise bad(f"risk_terms.{name}.points", "应为数字")
        terms = cat.get("terms")
        if not isinstance(terms, list) or not all(isinstance(t, str) for t in terms):
            raise bad(f"risk_terms.{name}.terms", "应为词语列表")


def parse_count(token: str) -> int:
    if token.isdigit():
        return int(token)
    total, current = 0, 0
    for ch in token:
        if ch in _CN_DIGITS:
            current = _CN_DIGITS[ch]
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        elif ch == "百":
            total += (current or 1) * 100
            current = 0
    return total + current


def people_involved(text: str) -> int:
    counts = []
    for m in _PEOPLE_RE.finditer(text):
        token = m.group(1)
        counts.append(_VAGUE.get(token) or parse_count(token))
    return max(counts, default=0)


def mass_harm(text: str, cfg: Mapping[str, Any]) -> str:
    """Why many people were harmed at once (one sentence naming both the harm and many people,
    or several children), or "" — 十几名学生呕吐, 多人中毒, 3名小学生受伤."""
    for sentence in _SENTENCE.split(text):
        harm = [w for w in cfg["harm_terms"] if w in sentence]
        if not harm:
            continue
        count = people_involved(sentence)
        group = [w for w in cfg["group_terms"] if w in sentence]
        minors = [w for w in cfg["minor_terms"] if w in sentence]
        if count >= cfg["min_people"] or group:
            who = group[0] if group else f"约 {count} 人"
            return f"多人同时受害（{who}，{harm[0]}）"
        if minors and count >= cfg["min_minors"]:
            return f"多名未成年人同时受害（{count} 名{minors[0]}，{harm[0]}）"
    return ""


def reported_deaths(text: str) -> int:
    counts = [parse_count(m.group(1)) for rx in _DEATH_RE for m in rx.finditer(text)]
    return max(counts, default=0)


class SeverityScorer:
    def __init__(self, topics: Sequence[Mapping[str, Any]], config: Mapping[str, Any] | None,
                 urgent_names: Mapping[str, str] | None = None):
        self.cfg = config_from(config)
        self.topics = {str(t["key"]): t for t in topics}
        self.urgent_names = dict(urgent_names or {
            "policy_misreading": "政策误读", "public_health": "公共卫生",
            "natural_disaster": "自然灾害", "major_livelihood": "重大民生"})

    def score(self, post: PostInput, text: str, topic: TopicResult,
              sentiment: SentimentResult, event: EventStats | None = None,
              learned: tuple[float, str] | None = None) -> SeverityResult:
        """``learned``: (expected level value 0..1, explanation) from a severity model."""
        cfg = self.cfg
        factors: list[SeverityFactor] = []

        def add(name: str, points: float, reason: str) -> None:
            if points:
                factors.append(SeverityFactor(name, round(points, 2), reason))

        spec = self.topics.get(topic.label or "")
        if spec is not None:
            sens = float(spec.get("sensitivity", 0.0))
            confidence = min(1.0, topic.prob / 0.5)
            add("topic_sensitivity", cfg["topic_sensitivity"] * sens * confidence,
                f"领域「{spec.get('name', topic.label)}」敏感度 {sens:.1f}（领域概率 {topic.prob:.2f}）")
            urgent = spec.get("urgent")
            if urgent and topic.prob >= 0.3:
                add("urgent_category", cfg["urgent_category"],
                    f"属于需快速回应的类别：{self.urgent_names.get(urgent, urgent)}")

        risk_found: dict[str, list[str]] = {}
        for key, cat in cfg["risk_terms"].items():
            found = [w for w in cat["terms"] if w in text]
            if found:
                risk_found[key] = found
        if risk_found:
            raw = sum(cfg["risk_terms"][k]["points"] for k in risk_found)
            detail = "；".join(f"{cfg['risk_terms'][k]['name']}（{'、'.join(v[:3])}）"
                              for k, v in risk_found.items())
            capped = min(raw, cfg["risk_terms_cap"])
            add("risk_terms", capped, f"风险词：{detail}" + ("（已封顶）" if raw > capped else ""))

        people = people_involved(text)
        step = max((n for n in cfg["people_involved"] if people >= n), default=None)
        if step is not None and (risk_found or sentiment.label == "negative"):
            add("people_involved", cfg["people_involved"][step],
                f"涉及人数较多：约 {people} 人（户）")

        negativity = max(0.0, -sentiment.score) if sentiment.label == "negative" else 0.0
        add("negative_sentiment", cfg["negative_sentiment"] * negativity,
            f"情感负面（得分 {sentiment.score:.2f}）")

        rumour = [w for w in cfg["rumour_terms"] if w in text]
        if rumour:
            add("rumour", cfg["rumour"], f"疑似谣言或求证：{'、'.join(rumour[:3])}")

        auth_points = cfg["authority"].get(post.authority or "", 0)
        add("source_authority", auth_points, f"信源权威性：{post.authority}")

        engagement = post.reposts * 3 + post.comments * 2 + post.likes + post.followers / 100
        if engagement > 0:
            reach = min(1.0, math.log10(1 + engagement) / cfg["reach_log_full"])
            add("reach", cfg["reach"] * reach,
                f"传播量：转发 {post.reposts}、评论 {post.comments}、点赞 {post.likes}、"
                f"粉丝 {post.followers}")

        if event is not None:
            if event.posts > 1 and event.posts_per_hour > 0:  # one post is not a trend
                add("velocity", cfg["velocity"] * min(1.0, event.posts_per_hour
                                                       / cfg["velocity_full"]),
                    f"事件热度：每小时 {event.posts_per_hour:.1f} 条")
            if event.sources > 1:
                add("spread", cfg["spread"] * min(1.0, (event.sources - 1) / cfg["spread_full"]),
                    f"跨平台扩散：{event.sources} 个信源")

        if learned is not None:
            value, why = learned
            add("learned", cfg["learned"] * value, why)

        concern = bool(risk_found or rumour or sentiment.label == "negative")
        if sentiment.label == "positive" and not risk_found:
            add("positive_dampener", cfg["positive_dampener"], "正面内容且无风险词，降低预警分")
        routine = [w for w in cfg["routine_terms"] if w in text]
        # News reports of government work read as "negative" to the sentiment model when they
        # name the problem being fixed (积水点排查); for news, the words of routine work decide.
        if routine and not risk_found and (sentiment.label != "negative"
                                           or post.source_kind == "news"):
            add("routine_dampener", cfg["routine_dampener"],
                f"例行政务动态（{'、'.join(routine[:3])}），降低预警分")
            concern = concern and bool(rumour)  # routine work reported is no alert; a rumour is

        fiction = [w for w in cfg["fiction_terms"] if w in text]
        if fiction and risk_found:
            add("fiction_dampener", cfg["fiction_dampener"],
                f"疑似影视、游戏或演练内容（{'、'.join(fiction[:3])}），降低预警分")

        score = max(0.0, sum(f.contribution for f in factors))
        deaths = reported_deaths(text)
        floor = next((lvl for n, lvl in sorted(cfg["death_floors"].items(), reverse=True)
                      if deaths >= n), None)
        if floor is not None and score < cfg["thresholds"][floor]:
            lift = cfg["thresholds"][floor] - score
            add("death_floor", lift, f"报道死亡 {deaths} 人，按事故分级标准至少为"
                                     f" {LEVEL_NAMES[floor]}")
            score += lift
        harmed = mass_harm(text, cfg["mass_harm"]) if not fiction else ""
        if harmed:
            floor = int(cfg["mass_harm"]["level"])
            concern = True
            if score < cfg["thresholds"][floor]:
                lift = cfg["thresholds"][floor] - score
                add("mass_harm", lift, f"{harmed}，无论领域敏感度如何至少为 {LEVEL_NAMES[floor]}")
                score += lift
        level = self.level_for(score) if concern else None
        if not concern:
            factors.append(SeverityFactor("no_concern", 0.0,
                                          "非负面、无风险词、无谣言迹象，不构成预警"))
        return SeverityResult(level=level, score=round(min(score, 100.0), 2), factors=factors)

    def level_for(self, score: float) -> int | None:
        for level in (1, 2, 3, 4):
            if score >= self.cfg["thresholds"][level]:
                return level
        return None


def stats_from(value: Any) -> EventStats | None:
    """EventStats from our own type, a mapping or any object with matching attributes.

    Accepted names: ``posts``/``post_count``, ``sources``/``distinct_sources``,
    ``posts_per_hour`` and, when present, ``posts_last_hour`` (the recent rate wins when it
    is higher: a burst matters more than the average since the first post).
    """
    if value is None or isinstance(value, EventStats):
        return value
    if isinstance(value, Mapping):
        def get(*names: str) -> Any:
            return next((value[n] for n in names if value.get(n) is not None), None)
    else:
        def get(*names: str) -> Any:
            return next((getattr(value, n) for n in names
                         if getattr(value, n, None) is not None), None)
    posts, sources = get("posts", "post_count"), get("sources", "distinct_sources")
    rate, recent = get("posts_per_hour"), get("posts_last_hour")
    if posts is None and sources is None and rate is None:
        raise TypeError(f"event stats of unexpected type {type(value).__name__}")
    return EventStats(posts=int(posts or 1), sources=int(sources or 1),
                      posts_per_hour=max(float(rate or 0.0), float(recent or 0.0)))
