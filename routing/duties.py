"""Duty rules (按职责, ``duty_rules`` in config/routing.yaml): the units responsible by duty.

A production-safety accident with casualties brings the emergency-management bureau in as a
co-unit, mass illness the health commission, food safety market supervision; a rumour is
answered by the department of its field with the publicity department. ``matched`` finds the
rules a post meets (with why, in Chinese); ``field_unit`` names the department a rumour is
about; ``apply`` adds the co-units to a decision already taken and says so.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from routing.config import DutyRule, RoutingConfig, UnitInfo

if TYPE_CHECKING:
    from routing.rules import Decision

# Words that say many people at once, whatever the number.
MASS_WORDS = ("多人", "多名", "群体", "集体", "大批", "一批", "成批", "十几", "几十", "数十",
              "上百", "数百", "多位", "多个孩子", "多个学生")
_COUNT = re.compile(r"(\d+|[一二两三四五六七八九十百]+)\s*(?:多|余|几)?\s*(?:名|位|个|人|户)")
_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
           "九": 9}


@dataclass(frozen=True, slots=True)
class Match:
    rule: DutyRule
    why: str  # the words or topic that matched


_NEGATORS = ("无", "没", "未", "否认", "不是")


def said(word: str, text: str) -> bool:
    """Whether ``word`` occurs not negated just before (所幸无人员伤亡, 未造成人员伤亡)."""
    at = text.find(word)
    while at >= 0:
        if not any(n in text[max(0, at - 4):at] for n in _NEGATORS):
            return True
        at = text.find(word, at + 1)
    return False


def _count(token: str) -> int:
    if token.isdigit():
        return int(token)
    total, current = 0, 0
    for ch in token:
        if ch in _DIGITS:
            current = _DIGITS[ch]
        elif ch == "十":
            total, current = total + (current or 1) * 10, 0
        elif ch == "百":
            total, current = total + (current or 1) * 100, 0
    return total + current


def people(text: str) -> int:
    """The largest number of people the text names (30名学生, 十几名 → 10)."""
    return max((_count(m.group(1)) for m in _COUNT.finditer(text)), default=0)


def matched(rules: Sequence[DutyRule], topic: str | None,
            alternatives: Sequence[tuple[str, float]], text: str,
            cfg: RoutingConfig) -> list[Match]:
    topics = {topic} if topic else set()
    topics |= {k for k, p in alternatives
               if isinstance(p, int | float) and p >= cfg.secondary_topic_min_prob}
    out = []
    for rule in rules:
        by_topic = sorted(topics & set(rule.topics))
        words = [k for k in rule.keywords if k in text]
        if not (by_topic or words):
            continue
        also = [k for k in rule.also if said(k, text)]
        if rule.also and not also:
            continue
        parts = []
        if by_topic:
            parts.append(f"领域「{_topic_name(by_topic[0], cfg)}」")
        if words or also:
            parts.append(f"关键词「{'、'.join([*words[:3], *also[:2]])}」")
        if rule.min_people:
            mass = [w for w in MASS_WORDS if w in text]
            count = people(text)
            if count < rule.min_people and not mass:
                continue
            parts.append(f"涉及{'约' + str(count) + '人' if count >= rule.min_people else mass[0]}")
        out.append(Match(rule, "，".join(parts)))
    return out


def _topic_name(key: str, cfg: RoutingConfig) -> str:
    info = cfg.topics.get(key)
    return info.name if info else key


def field_unit(rule: DutyRule, text: str, topic: str | None,
               alternatives: Sequence[tuple[str, float]],
               cfg: RoutingConfig) -> tuple[UnitInfo | None, str]:
    """The department whose field the matter is (a rumour about 公积金 → 住建), and why."""
    for word, code in rule.fields:
        unit = cfg.unit(code)
        if word in text and unit is not None:
            return unit, f"内容涉及「{word}」"
    keys = [topic] if topic else []
    keys += [k for k, p in alternatives if isinstance(p, int | float)
             and p >= cfg.secondary_topic_min_prob]
    for key in keys:
        unit = cfg.department_for(key)
        if key != "policy" and unit is not None and unit.kind == "department":
            return unit, f"领域「{_topic_name(key, cfg)}」"
    return None, ""


def apply(d: Decision, matches: Sequence[Match], cfg: RoutingConfig) -> list[str]:
    """Bring each matched rule's units in as co-units of a decision with a lead; the Chinese
    sentences saying so (for the explanation)."""
    from routing.rules import UnitRef

    said = []
    for m in matches:
        units = [u for u in (cfg.unit(c) for c in m.rule.co) if u is not None]
        if d.lead is None:
            if units:
                said.append(f"职责规则{m.rule.id}（{m.why}）提示{_labels(units)}应参与，供研判参考")
            continue
        added = [u for u in units if u.code != d.lead.code
                 and all(c.code != u.code for c in d.co)]
        if not added:
            continue
        d.co = [*d.co, *(UnitRef.of(u) for u in added)]
        for u in added:
            if any(r.code == u.code for r in d.informed):
                # it only advised under the rule that chose the lead; by duty it co-handles
                d.explanation = re.sub(f"，[^，；]*{re.escape(u.label)}知悉并指导", "",
                                       d.explanation)
        d.informed = [r for r in d.informed if all(r.code != u.code for u in added)]
        said.append(f"按职责规则{m.rule.id}（{m.why}），{_labels(added)}作为协办单位参与处置")
    return said


def _labels(units: Sequence[UnitInfo]) -> str:
    return "、".join(u.label for u in units)
