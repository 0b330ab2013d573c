"""Routing fed by the real gazetteer place finder: text in, responsible units out."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from nlp.places import GazetteerPlaceFinder
from routing import Facts, RoutingConfig, decide
from yuqing.routing_setup import routing_config_from_settings
from yuqing.settings import Settings, load_settings

START = datetime(2026, 11, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return load_settings(tmp_path_factory.mktemp("instance"), environ={})


@pytest.fixture(scope="module")
def cfg(shipped: Settings) -> RoutingConfig:
    return routing_config_from_settings(shipped)


@pytest.fixture(scope="module")
def finder(shipped: Settings) -> GazetteerPlaceFinder:
    return GazetteerPlaceFinder(home=shipped.jurisdictions.home.model_dump())


def route(text: str, topic: str, finder: GazetteerPlaceFinder, cfg: RoutingConfig,
          default_place: str = ""):
    places = finder.find(text, default_place)
    return decide(Facts(text=text, topic=topic, severity=3, places=places,
                        default_place=default_place), cfg, START)


@pytest.mark.parametrize(("text", "topic", "rule", "lead", "co"), [
    ("南京江宁区秣陵街道九龙湖附近一小区物业乱收费", "housing", "R1-单一属地", "jn-moling", []),
    ("江宁汤山街道和湖熟街道交界的工厂偷排废水", "environment", "R2-多属地", "jn-eco",
     ["jn-tangshan", "jn-hushu"]),
    ("雨花台区板桥街道一工地塌方", "work_safety", "R4-属地外通报", None, []),
    ("北京市海淀区一所中学招生争议", "education", "R4-属地外通报", None, []),
    ("江宁区出台新的拆迁补偿标准", "land_demolition", "R1-单一部门", "jn-planning", []),
])
def test_text_to_responsible_units(text: str, topic: str, rule: str, lead: str | None,
                                   co: list[str], finder: GazetteerPlaceFinder,
                                   cfg: RoutingConfig):
    d = route(text, topic, finder, cfg)
    assert d.rule == rule, d.explanation
    assert (d.lead.code if d.lead else None) == lead
    assert [u.code for u in d.co] == co


def test_a_neighbour_is_informed_and_another_province_goes_up(finder: GazetteerPlaceFinder,
                                                              cfg: RoutingConfig):
    assert [u.code for u in route("雨花台区板桥街道一工地塌方", "work_safety", finder,
                                  cfg).informed] == ["yht-publicity"]
    assert [u.code for u in route("北京市海淀区一所中学招生争议", "education", finder,
                                  cfg).informed] == ["nj-publicity"]


def test_the_sources_default_place_decides_when_the_text_names_none(finder: GazetteerPlaceFinder,
                                                                   cfg: RoutingConfig):
    d = route("小区门口路灯坏了一个月没人修", "urban_planning", finder, cfg,
              default_place="320115001")
    assert d.rule == "R1-单一属地" and d.lead.code == "jn-dongshan"
    assert "信息源默认属地东山街道" in d.explanation
