"""Who handles an alert: the responsibility rules (属地管理、分级负责、谁主管谁负责).

``decide(facts, config)`` is pure: plain facts about a post or event in, a ``Decision`` out,
with the rule applied and an explanation in Chinese naming the places, topic and units that
led to it. The rules and their order are documented in config/routing.yaml.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from nlp.types import Analysis, PlaceMatch, PostInput
from routing import duties
from routing.config import ForeignInfo, RoutingConfig, UnitInfo
from routing.sla import deadlines as sla_deadlines

R0, R1_PLACE, R1_DEPT = "R0-关键词优先", "R1-单一属地", "R1-单一部门"
R2, R3, R4, R9 = "R2-多属地", "R3-多部门", "R4-属地外通报", "R9-待研判"
SEVERITY_NAMES = {1: "I级（特别重大）", 2: "II级（重大）", 3: "III级（较大）", 4: "IV级（一般）"}


@dataclass(slots=True)
class Facts:
    """What routing needs to know about a post (or an event's lead post)."""

    text: str = ""  # normalized text preferred; traditional characters are tolerated
    topic: str | None = None
    topic_alternatives: Sequence[tuple[str, float]] = ()
    severity: int | None = None  # 1..4, None: not an alert
    urgent: str | None = None  # urgent category; None: the topic's own (taxonomy.yaml)
    places: Sequence[PlaceMatch] = ()
    source: str = ""  # source key
    default_place: str = ""  # the source's default place code

    @classmethod
    def from_analysis(cls, analysis: Analysis, post: PostInput | None = None) -> Facts:
        text = analysis.normalized_text
        if post is not None and not text:
            text = f"{post.title}\n{post.text}"
        return cls(text=text, topic=analysis.topic.label,
                   topic_alternatives=list(analysis.topic.alternatives),
                   severity=analysis.severity.level, places=list(analysis.places),
                   source=post.source if post else "",
                   default_place=post.default_place if post else "")


    @classmethod
    def combine(cls, many: Sequence[Facts], max_chars: int = 20_000) -> Facts:
        """One event's facts from its posts: the gravest severity, the most common topic,
        every place (each code once, at its best confidence), the texts joined."""
        if not many:
            return cls()
        levels = [f.severity for f in many if f.severity is not None]
        topics = [f.topic for f in many if f.topic]
        topic = max(topics, key=topics.count) if topics else None  # ties: the earliest
        places: dict[str, PlaceMatch] = {}
        for f in many:
            for p in f.places:
                if p.code not in places or p.confidence > places[p.code].confidence:
                    places[p.code] = p
        first = many[0]
        return cls(text="\n".join(f.text for f in many)[:max_chars], topic=topic,
                   topic_alternatives=next((f.topic_alternatives for f in many
                                            if f.topic == topic), ()),
                   severity=min(levels) if levels else None,
                   urgent=next((f.urgent for f in many if f.urgent), None),
                   places=list(places.values()), source=first.source,
                   default_place=next((f.default_place for f in many if f.default_place), ""))


@dataclass(frozen=True, slots=True)
class UnitRef:
    code: str
    name: str

    @classmethod
    def of(cls, unit: UnitInfo) -> UnitRef:
        return cls(unit.code, unit.name)

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "code": self.code}


@dataclass(frozen=True, slots=True)
class CaseDecision:
    lead: str | None
    co: list[str]
    coordinator: str | None
    informed: list[str]
    auto_dispatch: bool
    urgent: bool
    rule: str
    explanation: str
    deadlines: dict[str, datetime | None]
    place: str | None
    outside: bool
    triage: bool
    reason: str


@dataclass(slots=True)
class Decision:
    rule: str
    explanation: str
    lead: UnitRef | None = None
    co: list[UnitRef] = field(default_factory=list)
    coordinator: UnitRef | None = None
    informed: list[UnitRef] = field(default_factory=list)  # 通报 / 知会, no assignment
    outside: bool = False
    triage: bool = False
    reason: str = ""  # why the monitors must judge (triage)
    alert: bool = False
    severity: int | None = None
    auto_dispatch: bool = False
    urgent: bool = False
    urgent_category: str | None = None
    topic: str | None = None
    place_code: str | None = None
    deadlines: dict[str, datetime | None] = field(default_factory=dict)
    duty_rules: list[str] = field(default_factory=list)  # ids of the duty rules applied

    def for_case(self) -> CaseDecision:
        """The decision as a case stores it: unit codes only (routing.cases' DecisionLike)."""
        dl = dict(self.deadlines)
        dl["press"] = dl.get("press_conference")  # the workflow's short name for the same limit
        return CaseDecision(
            lead=self.lead.code if self.lead else None, co=[u.code for u in self.co],
            coordinator=self.coordinator.code if self.coordinator else None,
            informed=[u.code for u in self.informed], auto_dispatch=self.auto_dispatch,
            urgent=self.urgent, rule=self.rule, explanation=self.explanation, deadlines=dl,
            place=self.place_code, outside=self.outside, triage=self.triage, reason=self.reason)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: unit refs as {name, code}, deadlines as ISO 8601 with offset."""
        return {
            "rule": self.rule, "explanation": self.explanation,
            "lead": self.lead.to_dict() if self.lead else None,
            "co": [u.to_dict() for u in self.co],
            "coordinator": self.coordinator.to_dict() if self.coordinator else None,
            "informed": [u.to_dict() for u in self.informed],
            "outside": self.outside, "triage": self.triage, "reason": self.reason,
            "alert": self.alert, "severity": self.severity, "auto_dispatch": self.auto_dispatch,
            "urgent": self.urgent, "urgent_category": self.urgent_category, "topic": self.topic,
            "place_code": self.place_code, "duty_rules": list(self.duty_rules),
            "deadlines": {k: v.isoformat() if v else None for k, v in self.deadlines.items()},
        }


@lru_cache(maxsize=1)
def _t2s() -> Any:
    import opencc  # native OpenCC; loaded on first use, once per process

    return opencc.OpenCC("t2s")


def simplified(text: str) -> str:
    return _t2s().convert(text) if text else ""


def _stem(code: str) -> str:
    """A 6-digit code padded with zeros names a province (32) or a city (3201)."""
    if len(code) == 6:
        while code.endswith("00") and len(code) > 2:
            code = code[:-2]
    return code


@dataclass(slots=True)
class _Where:
    streets: dict[str, tuple[UnitInfo, list[str]]] = field(default_factory=dict)
    district: list[str] = field(default_factory=list)  # home places without a street office
    outside: dict[str, tuple[UnitInfo | None, list[str]]] = field(default_factory=dict)
    vague: list[str] = field(default_factory=list)  # only a level above home (南京市)
    ignored: list[str] = field(default_factory=list)  # below the confidence threshold
    weak_outside: list[str] = field(default_factory=list)  # foreign, too weak to decide
    home_code: str | None = None  # the first home place: the case's place
    other_code: str | None = None

    @property
    def home(self) -> bool:
        return bool(self.streets or self.district)

    @property
    def first_code(self) -> str | None:
        return self.home_code or self.other_code


def _add(names: list[str], label: str) -> None:
    if label not in names:
        names.append(label)


def _place_label(p: PlaceMatch, cfg: RoutingConfig) -> str:
    """The name people use: 东山街道 rather than 江苏省南京市江宁区东山街道."""
    known = cfg.places.get(p.code) or cfg.parents.get(p.code)
    if known:
        return known.name
    for foreign in (*cfg.neighbours, *((cfg.upper,) if cfg.upper else ())):
        if foreign.code == p.code:
            return foreign.name
    chain = "".join(x.name for x in cfg.parents.values())
    for prefix in (chain + cfg.home.name, chain):
        if prefix and p.name.startswith(prefix) and len(p.name) > len(prefix):
            return p.name[len(prefix):]
    return p.name


def _locate(places: Sequence[PlaceMatch], cfg: RoutingConfig) -> _Where:
    where = _Where()
    usable = []
    for p in places:
        if p.confidence < cfg.min_place_confidence:
            where.ignored.append(f"{_place_label(p, cfg)}（置信度{p.confidence:.2f}）")
        elif p.code:
            usable.append(p)
    stems = [_stem(p.code) for p in usable]
    home_stem = _stem(cfg.home.code)
    for p, stem in zip(usable, stems, strict=True):
        if any(o != stem and o.startswith(stem) for o in stems):
            continue  # a broader place already made precise by another (江宁区 + 东山街道)
        label = _place_label(p, cfg)
        if stem.startswith(home_stem):
            unit = _street_of(stem, cfg)
            if unit is None:
                _add(where.district, label)
            else:
                _add(where.streets.setdefault(unit.code, (unit, []))[1], label)
            where.home_code = where.home_code or p.code
        elif home_stem.startswith(stem):
            _add(where.vague, label)
        elif p.confidence < cfg.outside_min_confidence:
            _add(where.weak_outside, f"{label}（置信度{p.confidence:.2f}）")
        else:
            foreign = _foreign_of(stem, cfg)
            unit = cfg.unit(foreign.unit) if foreign else None
            key = unit.code if unit else ""
            _add(where.outside.setdefault(key, (unit, []))[1], label)
            where.other_code = where.other_code or p.code
    return where


def _street_of(stem: str, cfg: RoutingConfig) -> UnitInfo | None:
    for code in sorted((c for c in cfg.places if stem.startswith(c)), key=len, reverse=True):
        unit = cfg.township_unit(code)
        if unit is not None:
            return unit
    return None


def _foreign_of(stem: str, cfg: RoutingConfig) -> ForeignInfo | None:
    for n in cfg.neighbours:
        if stem.startswith(_stem(n.code)):
            return n
    return cfg.upper  # elsewhere in the city, or further away: the level above relays it


def _departments(facts: Facts, text: str, cfg: RoutingConfig
                 ) -> tuple[list[tuple[UnitInfo, str, int]], list[UnitInfo]]:
    """Concerned departments with why, ranked by lead_order (lower leads), and those named
    with the home's own name (江宁区教育局: the post is about us even without a place)."""
    order = {k: i for i, k in enumerate(cfg.lead_order)}
    worst = len(order) + 1
    found: dict[str, tuple[UnitInfo, str, int]] = {}

    def add(unit: UnitInfo | None, why: str, rank: int) -> None:
        if unit is None:
            return
        if unit.code in found:
            old = found[unit.code]
            found[unit.code] = (unit, old[1], min(old[2], rank))
        else:
            found[unit.code] = (unit, why, rank)

    def topic_name(key: str) -> str:
        info = cfg.topics.get(key)
        return info.name if info else key

    if facts.topic:
        add(cfg.department_for(facts.topic), f"领域「{topic_name(facts.topic)}」的主管部门",
            order.get(facts.topic, worst - 1))
    for key, prob in facts.topic_alternatives:
        if key != facts.topic and isinstance(prob, int | float) \
                and prob >= cfg.secondary_topic_min_prob:
            add(cfg.department_for(key), f"兼涉领域「{topic_name(key)}」（{prob:.0%}）的主管部门",
                order.get(key, worst))
    home = cfg.home.name.rstrip("区县市") or cfg.home.name  # 江宁区 -> 江宁
    named: list[UnitInfo] = []
    for unit in cfg.units.values():
        said = [n for n in unit.names() if n in text] if unit.kind == "department" else []
        if said:
            ranks = [order[d] for d in unit.duties if d in order]
            add(unit, "正文点名", min(ranks, default=worst))
            if any(home in n for n in said):
                named.append(unit)
    # stable sort: ties keep their order (the post's topic first, then alternatives, mentions)
    return sorted(found.values(), key=lambda item: item[2]), named


def _refs(units: Sequence[UnitInfo], exclude: UnitInfo | None = None) -> list[UnitRef]:
    out: list[UnitRef] = []
    for u in units:
        if (exclude is None or u.code != exclude.code) and all(r.code != u.code for r in out):
            out.append(UnitRef.of(u))
    return out


def _names(units: Sequence[UnitInfo]) -> str:
    return "、".join(u.label for u in units)


def decide(facts: Facts, cfg: RoutingConfig, start: datetime | None = None) -> Decision:
    """Apply the rules to one post or event. ``start``: when the SLA clock starts (now)."""
    raw = facts.text or ""
    text = f"{raw}\n{simplified(raw)}"
    topic = cfg.topics.get(facts.topic or "")
    category = facts.urgent or (topic.urgent if topic else None)
    coordinator = cfg.unit(cfg.coordinator)
    notes: list[str] = []

    where = _locate(facts.places, cfg)
    if where.ignored:
        notes.append(f"已忽略低置信度地点：{'、'.join(where.ignored)}")
    if where.weak_outside:
        notes.append(f"辖区外地点置信度不足，不据此判断属地：{'、'.join(where.weak_outside)}")
    default = facts.default_place or cfg.source_places.get(facts.source, "")
    if facts.places and default and all(not p.text and p.code == default for p in facts.places):
        # the place finder already fell back on the source's default place
        notes.append(f"正文未识别到地点，采用信息源默认属地{_place_label(facts.places[0], cfg)}")
    elif not (where.home or where.outside or where.vague) and default:
        name = (cfg.places.get(default) or cfg.parents.get(default))
        label = name.name if name else default
        where = _locate([PlaceMatch(name=label, code=default, level="", confidence=1.0,
                                    text="")], cfg)
        notes.append(f"正文未识别到地点，采用信息源默认属地{label}")

    d = _rules(facts, text, where, cfg)
    if not d.outside:
        matches = duties.matched(cfg.duty_rules, facts.topic, facts.topic_alternatives, text,
                                 cfg)
        if d.rule != R0 or d.lead is not None:
            notes[:0] = duties.apply(d, [m for m in matches if m.rule.lead is None], cfg)
        d.duty_rules = [*d.duty_rules, *(m.rule.id for m in matches if m.rule.id not in
                                           d.duty_rules and m.rule.lead is None)]
        category = category or next((m.rule.urgent for m in matches if m.rule.urgent), None)
    d.alert = facts.severity in SEVERITY_NAMES
    d.severity = facts.severity
    d.topic = facts.topic
    d.urgent_category = category
    d.urgent = category is not None
    d.coordinator = UnitRef.of(coordinator) if coordinator else None
    d.place_code = where.first_code
    d.auto_dispatch = (d.alert and not d.triage and not d.outside
                       and cfg.auto_dispatch.get(facts.severity or 0, False))
    begin = start or datetime.now(UTC)
    d.deadlines = ({} if d.outside else
                   sla_deadlines(facts.severity, begin, cfg.sla, urgent=d.urgent))
    tail = [*notes]
    if d.urgent:
        label = cfg.urgent_categories.get(category or "", category)
        tail.append(f"属{label}类事项，须从快回应")
    if not d.alert:
        tail.append("未达预警级别，不生成案件（仅供核对规则）")
    else:
        tail.append(f"严重程度{SEVERITY_NAMES.get(facts.severity or 0, facts.severity)}")
        if d.triage:
            tail.append("转舆情监测人员研判")
        elif d.outside:
            tail.append("仅通报，不派发")
        elif d.auto_dispatch:
            tail.append("按配置自动派发")
        else:
            tail.append("按配置待舆情监测人员研判后派发")
    if coordinator and d.outside:
        # nobody at home leads a matter outside: the coordinator gets it and passes it on
        to = _names([u for u in (cfg.unit(r.code) for r in d.informed) if u]) or "上级或属地"
        tail.append(f"报{coordinator.label}，由其向{to}通报")
    elif coordinator:
        tail.append(f"{coordinator.label}统筹协调")
    d.explanation = f"【{d.rule}】{d.explanation}；" + "；".join(tail) + "。"
    return d


def _field_lead(facts: Facts, text: str, m: duties.Match, streets: list[UnitInfo],
                informed: list[UnitRef], also: str, cfg: RoutingConfig) -> Decision:
    """A rumour (or any lead: field rule): the department of its field leads the answer, the
    rule's units (the publicity department: policy misreading) and the streets co-handle."""
    unit, why = duties.field_unit(m.rule, text, facts.topic, facts.topic_alternatives, cfg)
    helpers = [u for u in (cfg.unit(c) for c in m.rule.co) if u is not None]
    lead = unit or (helpers[0] if helpers else None)
    if lead is None:
        reason = f"命中职责规则{m.rule.id}（{m.why}），但未能确定回应的主管部门"
        return Decision(rule=m.rule.id, triage=True, reason=reason, informed=informed,
                        explanation=reason + also, duty_rules=[m.rule.id])
    co = _refs([*helpers, *streets], lead)
    field_text = f"{why}，由{lead.label}牵头回应" if unit else f"未能确定所涉领域，由{lead.label}牵头回应"
    where_text = f"，{_names(streets)}在辖区内配合" if streets else ""
    return Decision(rule=m.rule.id, lead=UnitRef.of(lead), co=co, informed=informed,
                    duty_rules=[m.rule.id],
                    explanation=f"命中职责规则{m.rule.id}（{m.why}），属政策误读与谣言澄清事项；"
                                f"{field_text}，{_names(helpers)}负责澄清与发布{where_text}{also}")


def _rules(facts: Facts, text: str, where: _Where, cfg: RoutingConfig) -> Decision:
    streets = [u for u, _ in where.streets.values()]
    outside_units = [u for u, _ in where.outside.values() if u is not None]
    outside_names = "、".join(n for _, names in where.outside.values() for n in names)

    if not where.home and where.outside:
        to = _names(outside_units) or "（未配置接收单位）"
        return Decision(rule=R4, outside=True, informed=_refs(outside_units),
                        explanation=f"涉及地点{outside_names}不在本辖区{cfg.home.name}内，"
                                    f"按属地管理通报{to}，不派发本地单位")

    informed = _refs(outside_units)
    also = f"；另涉及辖区外{outside_names}，通报{_names(outside_units)}" if where.outside else ""
    in_streets = "、".join(n for _, names in where.streets.values() for n in names)

    for rule in cfg.overrides:
        hit = [k for k in rule.keywords if k and k in text]
        if (rule.keywords and not hit) or (rule.sources and facts.source not in rule.sources):
            continue
        why = "，".join(part for part in (f"关键词「{'、'.join(hit)}」" if hit else "",
                                         f"信息源「{facts.source}」" if rule.sources else "")
                       if part)
        lead = cfg.unit(rule.lead)
        if lead is None:
            reason = f"命中覆盖规则「{rule.name}」（{why}），须人工研判"
            return Decision(rule=R0, triage=True, informed=informed, reason=reason,
                            explanation=f"{reason}，不自动确定承办单位{also}")
        co = [u for u in (cfg.unit(c) for c in rule.co) if u] + streets
        co_text = f"，{_names(co)}配合" if co else ""
        return Decision(rule=R0, lead=UnitRef.of(lead), co=_refs(co, lead), informed=informed,
                        explanation=f"命中覆盖规则「{rule.name}」（{why}），由{lead.label}牵头"
                                    f"{co_text}{also}")

    depts, named = _departments(facts, text, cfg)
    ours = where.home or bool(named)  # a place at home, or a home department named

    if ours:
        for m in duties.matched(cfg.duty_rules, facts.topic, facts.topic_alternatives, text,
                                cfg):
            if m.rule.lead == "field":
                return _field_lead(facts, text, m, streets, informed, also, cfg)

    if len(depts) >= 2 and ours:
        lead = depts[0][0]
        others = [u for u, _, _ in depts[1:]]
        why = "；".join(f"{u.label}：{w}" for u, w, _ in depts)
        place = f"在{in_streets}" if in_streets else ""
        return Decision(rule=R3, lead=UnitRef.of(lead), co=_refs([*others, *streets], lead),
                        informed=informed,
                        explanation=f"{place}涉及多个部门（{why}），按领域牵头顺序由{lead.label}牵头，"
                                    f"{_names(others)}按职责配合"
                                    + (f"，{_names(streets)}在辖区内配合" if streets else "")
                                    + also)
    dept = depts[0][0] if depts else None
    dept_why = f"{depts[0][1]}{dept.label}" if dept else ""

    if len(streets) >= 2:
        if dept is None:
            reason = f"涉及多个街道（{_names(streets)}），但未能确定领域主管部门"
            return Decision(rule=R9, triage=True, reason=reason, informed=informed,
                            explanation=reason + also)
        return Decision(rule=R2, lead=UnitRef.of(dept), co=_refs(streets, dept),
                        informed=informed,
                        explanation=f"涉及多个街道（{in_streets}），由{dept_why}牵头，"
                                    f"{_names(streets)}在各自辖区内配合处置{also}")
    if len(streets) == 1:
        street = streets[0]
        know = f"，{dept_why}知悉并指导" if dept else ""
        return Decision(rule=R1_PLACE, lead=UnitRef.of(street),
                        informed=_refs([*([dept] if dept else []), *outside_units]),
                        explanation=f"仅涉及{street.label}"
                                    + (f"（地点：{in_streets}）" if in_streets != street.label
                                       else "") + "，"
                                    f"按属地管理由{street.label}牵头处置{know}{also}")
    if (where.district or named) and dept is not None:
        scope = (f"涉及{'、'.join(where.district)}全区范围" if where.district
                 else f"正文点名本区单位{_names(named)}")
        return Decision(rule=R1_DEPT, lead=UnitRef.of(dept), informed=informed,
                        explanation=f"{scope}，未具体到街道，由{dept_why}牵头{also}")
    if where.district:
        reason = f"仅识别到区级地点（{'、'.join(where.district)}），且未能确定领域主管部门"
    elif where.vague:
        reason = f"仅识别到上级区划（{'、'.join(where.vague)}），无法判断是否属本辖区"
    elif where.weak_outside:
        reason = "仅识别到置信度不足的辖区外地点，无法确定属地"
    else:
        reason = "未识别到涉及地点，信息源也无默认属地，无法确定属地"
    if len(depts) >= 2:
        reason += f"（可能涉及{_names([u for u, _, _ in depts])}，供研判参考）"
    elif dept is not None and not where.district:
        reason += f"（{depts[0][1]}为{dept.label}，供研判参考）"
    return Decision(rule=R9, triage=True, reason=reason, informed=informed,
                    explanation=reason + also)
