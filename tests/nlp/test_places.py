"""PlaceFinder on hand-written posts, including the hard cases of issue 5."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from nlp.places import GazetteerPlaceFinder
from nlp.types import PlaceFinder

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def home() -> dict:
    return yaml.safe_load((ROOT / "config" / "jurisdictions.yaml").read_text("utf-8"))["home"]


@pytest.fixture(scope="module")
def finder(home) -> GazetteerPlaceFinder:
    return GazetteerPlaceFinder(home)


@pytest.fixture(scope="module")
def national() -> GazetteerPlaceFinder:
    """No home jurisdiction: only the national gazetteer."""
    return GazetteerPlaceFinder()


def codes(matches) -> list[str]:
    return [m.code for m in matches]


def by_code(matches, code):
    return next(m for m in matches if m.code == code)


def test_it_implements_the_place_finder_protocol(finder):
    assert isinstance(finder, GazetteerPlaceFinder)
    f: PlaceFinder = finder
    assert f.find("") == []


def test_it_resolves_a_full_address_to_every_level_most_specific_first(finder):
    found = finder.find("南京市江宁区东山街道百家湖附近深夜施工噪音扰民")
    assert codes(found) == ["320115001", "320115", "320100"]
    street = found[0]
    assert street.level == "township"
    assert street.name == "江苏省南京市江宁区东山街道"
    assert "东山街道" in street.text and "百家湖" in street.text
    assert street.confidence >= 0.85
    assert all(m.reasons for m in found)


def test_a_street_named_like_its_district_is_the_street(national):
    found = national.find("江宁街道老街改造工程迟迟不完工")
    assert codes(found) == ["320115008"]
    assert found[0].level == "township"
    assert any("不是同名的江宁区" in r for r in found[0].reasons)


def test_the_district_itself_is_found_from_its_full_and_home_short_name(finder):
    assert codes(finder.find("江宁区教育局回应招生问题")) == ["320115"]
    assert codes(finder.find("在江宁上班的人都知道")) == ["320115"]


def test_a_post_naming_two_streets_returns_both(finder):
    found = finder.find("东山街道和秣陵街道交界处的垃圾站臭气熏天")
    assert set(codes(found)) == {"320115001", "320115011"}
    east = by_code(found, "320115001")
    # 东山街道 exists in 18 places; the other street decides it.
    assert any("同名" in r for r in east.reasons)
    assert any("秣陵街道" in r for r in east.reasons)


def test_chaoyang_without_context_is_low_confidence_with_alternatives(national):
    found = national.find("朝阳区某小区连续三天停水")
    assert len(found) == 1
    assert found[0].confidence <= 0.5
    assert any("吉林省长春市朝阳区" in r and "北京市朝阳区" in r for r in found[0].reasons)
    assert any("人工核实" in r for r in found[0].reasons)


def test_chaoyang_is_decided_by_a_city_in_the_text(national):
    found = national.find("长春市朝阳区某小区连续三天停水")
    assert by_code(found, "220104").confidence >= 0.85
    assert "110105" not in codes(found)


def test_chaoyang_is_decided_by_the_source_default_place(national):
    found = national.find("朝阳区某小区连续三天停水", default_place="220100")
    assert codes(found) == ["220104"]
    assert 0.5 < found[0].confidence < 0.85
    assert any("来源默认属地" in r for r in found[0].reasons)


@pytest.mark.parametrize(("text", "expected"), [
    ("南京鼓楼区新街口商场起火", "320106"),
    ("福州鼓楼区三坊七巷游客爆满", "350102"),
    ("徐州市鼓楼区一小区电梯故障", "320302"),
    ("开封市鼓楼区夜市占道经营", "410204"),
])
def test_gulou_is_decided_by_its_city(national, text, expected):
    found = national.find(text)
    assert expected in codes(found)
    assert not {"320106", "350102", "320302", "410204"} - {expected} & set(codes(found))


def test_a_township_is_found_without_its_city(national):
    found = national.find("海淀区中关村街道一写字楼外卖员聚集")
    assert codes(found) == ["110108011", "110108"]
    found = national.find("昆山周庄游客投诉门票")
    assert "320583112" in codes(found)


def test_home_short_forms_and_aliases_resolve_to_home_streets(finder):
    assert codes(finder.find("禄口机场出租车拒载")) == ["320115004"]
    assert codes(finder.find("九龙湖边有人钓鱼")) == ["320115011"]


def test_a_city_short_name_before_a_road_is_a_road(national):
    assert national.find("中山路上堵车了") == []
    assert codes(national.find("我在中山工作")) == ["442000"]


def test_ordinary_words_are_not_places(national):
    assert national.find("今天天气很好，大家注意防暑降温") == []


def test_nothing_found_falls_back_to_the_default_place(finder):
    found = finder.find("小区门口的路灯坏了半个月", default_place="320115")
    assert codes(found) == ["320115"]
    assert found[0].confidence == 0.5
    assert found[0].text == ""
    assert "默认属地" in found[0].reasons[0]


def test_recent_renames_are_current(national):
    assert codes(national.find("杭州市临平区")) == ["330113", "330100"]
    assert codes(national.find("济南市莱芜区")) == ["370116", "370100"]
    assert national.find("江干区") == []


def test_configured_villages_nest_under_their_street():
    home = {
        "code": "320115", "name": "江宁区", "level": "district",
        "parents": [{"code": "320000", "name": "江苏省", "level": "province"},
                    {"code": "320100", "name": "南京市", "level": "city"}],
        "children": [{"code": "320115001", "name": "东山街道", "level": "township",
                      "children": [{"code": "320115001001", "name": "示例社区",
                                    "level": "village", "aliases": ["示例小区"]}]}],
    }
    found = GazetteerPlaceFinder(home).find("示例小区物业乱收费")
    assert codes(found) == ["320115001001"]
    assert found[0].level == "village"
    assert found[0].name == "江苏省南京市江宁区东山街道示例社区"


def test_the_shipped_config_agrees_with_the_national_list(finder):
    gaz = finder.gazetteer
    assert gaz.home_discrepancies() == []
    assert codes(finder.find("秣陵街道")) == ["320115011"]
    assert [m.name for m in finder.find("湖熟街道")] == ["江苏省南京市江宁区湖熟街道"]
    assert codes(finder.find("江宁街道")) == ["320115008"]
    names = [d.name for d in gaz.by_code.values() if d.parent == "320115"]
    assert sorted(names) == sorted(set(names)) and len(names) == 10


def test_configured_codes_win_and_discrepancies_are_reported():
    home = {"code": "320115", "name": "江宁区", "level": "district",
            "children": [{"code": "320115002", "name": "秣陵街道", "level": "township"}]}
    finder = GazetteerPlaceFinder(home)
    assert codes(finder.find("秣陵街道")) == ["320115002"]  # config wins inside the home
    notes = finder.gazetteer.home_discrepancies()
    assert any("秣陵街道" in n and "320115011" in n for n in notes)


def test_a_bad_home_code_is_refused_with_the_reason():
    with pytest.raises(ValueError, match="代码无效"):
        GazetteerPlaceFinder({"code": "32011x", "name": "江宁区", "level": "district"}).find("x")


def test_district_short_forms_need_their_city_right_before(national):
    assert codes(national.find("南京江宁一小区停电")) == ["320115", "320100"]
    # 通州 alone is a word for two districts (北京, 南通) and none of them is named.
    assert national.find("通州一小区停电") == []
    assert "110112" in codes(national.find("北京通州一小区停电"))


def test_county_level_cities_are_found_by_their_short_name(national):
    assert codes(national.find("江阴一工厂发生火灾")) == ["320281"]


def test_a_guess_is_not_context_for_another_name(national):
    found = national.find("朝阳区和鼓楼区同时停水")
    assert len(found) == 2
    assert all(m.confidence <= 0.5 for m in found)


def test_a_city_short_name_before_a_compound_word_names_the_compound(national):
    assert national.find("桂林小区停水三天") == []
