"""The shipped units and jurisdictions are complete, and mistakes in routing config are named."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from yuqing.routing_setup import routing_config_from_settings
from yuqing.settings import ConfigError, Settings, load_settings


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return load_settings(tmp_path_factory.mktemp("instance"), environ={})


def test_every_home_street_has_its_office(shipped: Settings):
    cfg = routing_config_from_settings(shipped)
    streets = [p for p in shipped.jurisdictions.home_places() if p.level == "township"]
    assert len(streets) == 10
    for street in streets:
        unit = cfg.township_unit(street.code)
        assert unit is not None, street.name
        assert unit.name == f"南京市江宁区{street.name}办事处"


def test_street_codes_are_the_national_statistical_codes(shipped: Settings):
    codes = {p.name: p.code for p in shipped.jurisdictions.home_places()}
    # Ministry of Civil Affairs table as of 2025-12-31 (the places gazetteer uses the same)
    assert codes["东山街道"] == "320115001" and codes["秣陵街道"] == "320115011"
    assert codes["麒麟街道"] == "320115006" and codes["湖熟街道"] == "320115012"


def test_every_topic_has_a_competent_unit_and_a_place_in_the_lead_order(shipped: Settings):
    cfg = routing_config_from_settings(shipped)
    for topic in shipped.taxonomy.topics:
        assert cfg.department_for(topic.key) is not None, topic.key
    assert sorted(shipped.routing.lead_order) == sorted(t.key for t in shipped.taxonomy.topics)


def test_every_unit_has_a_leader_and_a_contact(shipped: Settings):
    for unit in shipped.units.units:
        assert unit.leader is not None and unit.leader.name, unit.code
        assert unit.contacts.email or unit.contacts.phone, unit.code


def test_upper_and_neighbours_have_units_of_their_kind(shipped: Settings):
    j = shipped.jurisdictions
    assert j.upper is not None and shipped.units.get(j.upper.unit).kind == "upper"
    for n in j.neighbours:
        assert shipped.units.get(n.unit).kind == "neighbour", n.name


def problems(tmp_path: Path, **overrides: Any) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path, environ={}, overrides=overrides)
    return [str(p) for p in info.value.problems]


def test_unknown_topic_in_lead_order_is_named(tmp_path: Path):
    found = problems(tmp_path, routing={"lead_order": ["education", "weather"]})
    assert any("routing.yaml: lead_order[1]" in p and "'weather'" in p for p in found)


def test_override_with_unknown_co_unit_or_nothing_to_match_is_refused(tmp_path: Path):
    found = problems(tmp_path, routing={"overrides": [
        {"name": "坏规则", "keywords": ["x"], "lead": "jn-police", "co": ["jn-nobody"]},
        {"name": "空规则", "lead": "jn-police"}]})
    assert any("overrides[0].co[0]" in p and "jn-nobody" in p for p in found)
    assert any("overrides[1]" in p and "至少需要 keywords 或 sources" in p for p in found)


def test_a_street_office_answering_for_the_whole_district_is_refused(tmp_path: Path):
    (tmp_path / "units.yaml").write_text(
        "units:\n"
        + Path(__file__).parents[2].joinpath("config/units.yaml").read_text(encoding="utf-8")
        .split("units:\n", 1)[1].replace('jurisdiction: "320115001"', 'jurisdiction: "320115"'),
        encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path, environ={})
    assert any("units.yaml" in str(p) and "街道/镇的辖区" in str(p) for p in info.value.problems)


def test_working_hours_out_of_order_are_refused(tmp_path: Path):
    found = problems(tmp_path, sla={"working_hours": {"morning": ["08:30", "14:00"],
                                                      "afternoon": ["13:30", "17:30"]}})
    assert any("working_hours" in p and "上午结束" in p for p in found)


def test_bad_thresholds_are_refused(tmp_path: Path):
    found = problems(tmp_path, routing={"secondary_topic_min_prob": 0,
                                        "min_place_confidence": 2})
    assert any("secondary_topic_min_prob" in p for p in found)
    assert any("min_place_confidence" in p for p in found)
