"""What routing knows about the territory, the units and the rules, as plain frozen data.

Built by the wiring (``yuqing.routing_setup``) from validated settings, or from any mapping
shaped like the shipped YAML files, so ``routing`` never depends on the settings module.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from routing.sla import SlaConfig


@dataclass(frozen=True, slots=True)
class UnitInfo:
    code: str
    name: str
    kind: str  # publicity / township / department / upper / neighbour
    jurisdiction: str
    short_name: str = ""
    duties: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """The name people use in messages (区教育局, 东山街道)."""
        return self.short_name or self.name

    def names(self) -> tuple[str, ...]:
        return tuple(n for n in (self.name, self.short_name, *self.aliases) if n)


@dataclass(frozen=True, slots=True)
class TopicInfo:
    key: str
    name: str
    urgent: str | None = None
    department: str | None = None  # competent district-level unit code


@dataclass(frozen=True, slots=True)
class PlaceInfo:
    code: str
    name: str
    level: str


@dataclass(frozen=True, slots=True)
class ForeignInfo:
    code: str
    name: str
    unit: str


@dataclass(frozen=True, slots=True)
class Override:
    name: str
    keywords: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    lead: str | None = None
    co: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DutyRule:
    """按职责: units that must co-handle (or lead, ``lead == "field"``) when the rule matches.

    Matches when the topic is one of ``topics`` or a keyword is in the text (either, when both
    are given), and one of ``also`` is in the text (when given), and at least ``min_people``
    people are concerned (when given; 多人/群体/十几名 count).
    """

    id: str
    topics: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    also: tuple[str, ...] = ()
    min_people: int | None = None
    co: tuple[str, ...] = ()
    lead: str | None = None  # "field": the department of the matter's field leads
    fields: tuple[tuple[str, str], ...] = ()  # (keyword, unit code), first found wins
    urgent: str | None = None


@dataclass(frozen=True)
class RoutingConfig:
    home: PlaceInfo
    places: dict[str, PlaceInfo]  # the home district and everything below it, by code
    parents: dict[str, PlaceInfo]  # the levels above home (city, province)
    units: dict[str, UnitInfo]
    topics: dict[str, TopicInfo]
    coordinator: str
    sla: SlaConfig
    upper: ForeignInfo | None = None
    neighbours: tuple[ForeignInfo, ...] = ()
    lead_order: tuple[str, ...] = ()
    overrides: tuple[Override, ...] = ()
    duty_rules: tuple[DutyRule, ...] = ()
    auto_dispatch: dict[int, bool] = field(default_factory=dict)
    secondary_topic_min_prob: float = 0.35
    min_place_confidence: float = 0.5
    outside_min_confidence: float = 0.75  # a foreign place decides 属地外 only from this
    urgent_categories: dict[str, str] = field(default_factory=dict)
    source_places: dict[str, str] = field(default_factory=dict)  # source key -> default place

    def township_unit(self, place_code: str) -> UnitInfo | None:
        """The street/township office whose territory is exactly this place."""
        return next((u for u in self.units.values()
                     if u.kind == "township" and u.jurisdiction == place_code), None)

    def department_for(self, topic: str | None) -> UnitInfo | None:
        """The district department competent for a topic: taxonomy first, then duties."""
        if not topic:
            return None
        info = self.topics.get(topic)
        if info and info.department and info.department in self.units:
            return self.units[info.department]
        return next((u for u in self.units.values()
                     if u.kind == "department" and topic in u.duties), None)

    def unit(self, code: str | None) -> UnitInfo | None:
        return self.units.get(code) if code else None

    @classmethod
    def from_mapping(cls, *, jurisdictions: Mapping[str, Any], units: Sequence[Mapping[str, Any]],
                     taxonomy: Mapping[str, Any], routing: Mapping[str, Any], sla: SlaConfig,
                     source_places: Mapping[str, str] | None = None) -> RoutingConfig:
        """From plain data shaped like jurisdictions/units/taxonomy/routing.yaml."""
        home = jurisdictions["home"]
        places: dict[str, PlaceInfo] = {}
        stack = [home]
        while stack:
            node = stack.pop()
            places[node["code"]] = PlaceInfo(node["code"], node["name"], node["level"])
            stack.extend(node.get("children") or [])
        parents = {p["code"]: PlaceInfo(p["code"], p["name"], p["level"])
                   for p in home.get("parents") or []}
        upper = jurisdictions.get("upper")
        return cls(
            home=places[home["code"]], places=places, parents=parents,
            units={u["code"]: UnitInfo(code=u["code"], name=u["name"], kind=u["kind"],
                                       jurisdiction=u["jurisdiction"],
                                       short_name=u.get("short_name") or "",
                                       duties=tuple(u.get("duties") or ()),
                                       aliases=tuple(u.get("aliases") or ()))
                   for u in units},
            topics={t["key"]: TopicInfo(key=t["key"], name=t["name"], urgent=t.get("urgent"),
                                        department=(t.get("departments") or {}).get("district"))
                    for t in taxonomy.get("topics") or []},
            coordinator=routing["coordinator"], sla=sla,
            upper=ForeignInfo(upper["code"], upper["name"], upper["unit"]) if upper else None,
            neighbours=tuple(ForeignInfo(n["code"], n["name"], n["unit"])
                             for n in jurisdictions.get("neighbours") or []),
            lead_order=tuple(routing.get("lead_order") or ()),
            overrides=tuple(Override(name=o["name"], keywords=tuple(o.get("keywords") or ()),
                                     sources=tuple(o.get("sources") or ()), lead=o.get("lead"),
                                     co=tuple(o.get("co") or ()))
                            for o in routing.get("overrides") or []),
            duty_rules=tuple(DutyRule(
                id=str(r["id"]), topics=tuple(r.get("topics") or ()),
                keywords=tuple(r.get("keywords") or ()), also=tuple(r.get("also") or ()),
                min_people=r.get("min_people"), co=tuple(r.get("co") or ()),
                lead=r.get("lead"), fields=tuple((r.get("fields") or {}).items()),
                urgent=r.get("urgent"))
                for r in routing.get("duty_rules") or []),
            auto_dispatch={int(k): bool(v) for k, v in (routing.get("auto_dispatch") or {}).items()},
            secondary_topic_min_prob=float(routing.get("secondary_topic_min_prob", 0.35)),
            min_place_confidence=float(routing.get("min_place_confidence", 0.5)),
            outside_min_confidence=float(routing.get("outside_min_confidence", 0.75)),
            urgent_categories=dict(taxonomy.get("urgent_categories") or {}),
            source_places=dict(source_places or {}),
        )
