"""Issue 13 traps: short place names inside ordinary words, estates, dishes and company names,
homonyms resolved near the home jurisdiction, and the confidence routing relies on."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from nlp.places import HIGH_CONFIDENCE, GazetteerPlaceFinder

ROOT = Path(__file__).resolve().parents[2]
HZ_HOME = {"code": "330106", "name": "西湖区", "level": "district",
           "parents": [{"code": "330000", "name": "浙江省", "level": "province"},
                       {"code": "330100", "name": "杭州市", "level": "city"}]}


@pytest.fixture(scope="module")
def jn() -> GazetteerPlaceFinder:
    home = yaml.safe_load((ROOT / "config" / "jurisdictions.yaml").read_text("utf-8"))["home"]
    return GazetteerPlaceFinder(home)


@pytest.fixture(scope="module")
def hz() -> GazetteerPlaceFinder:
    return GazetteerPlaceFinder(HZ_HOME)


def usable(matches, at: float = 0.5) -> set[str]:
    return {m.code for m in matches if m.confidence >= at}


@pytest.mark.parametrize("text", [
    "消防检查发现多处重大安全隐患",  # 大安 (吉林大安市)
    "我们的拆迁安置款到现在还没发",  # 迁安
    "登高平台消防车进不了小区",  # 高平
    "新房的大理石台面开裂",  # 大理
    "医保定点药店拒绝刷卡",  # 保定
    "龙井花园小区门口垃圾成堆",  # 龙井 as an estate
    "龙井苑业主反映电梯停运",
    "龙井小区门口垃圾成堆",  # 龙井 + 小区
    "萧山南秀路堵车一个多小时",  # 山南 across 萧山|南秀路; 萧山 alone needs its city here
    "重大安全事故频发，大理石厂被查",
    "加强合作，共同推进",  # 合作市
    "各位来宾请注意",  # 来宾市
    "兰州拉面店卫生太差",  # a dish sold anywhere
    "江宁路上的老房子漏水",  # the home's short name before 路
    "要求提高平均工资",  # 高平 across two words
])
def test_a_place_name_inside_ordinary_words_is_no_place(jn, text):
    assert usable(jn.find(text)) == set(), [(m.name, m.confidence) for m in jn.find(text)]


def test_a_city_glued_to_ordinary_words_is_still_found_where_it_is_one(jn):
    assert usable(jn.find("绍兴城市建设很快")) == {"330600"}  # 绍兴, not 兴城市
    assert usable(jn.find("北京市民在江宁旅游被宰")) == {"110000", "320115"}
    assert usable(jn.find("江宁区政府门口有人聚集")) == {"320115"}
    assert "310115" in usable(jn.find("上海浦东新区一小区业主维权"))  # one dictionary word


def test_a_street_glued_to_the_word_before_it_is_found(jn):
    assert usable(jn.find("去秣陵街道办事排队两小时")) == {"320115011"}


def test_a_road_in_another_city_is_not_the_city(hz):
    found = hz.find("萧山南秀路堵车一个多小时")
    assert usable(found) == {"330109"}  # 萧山区 (same city as the home), not 西藏山南


def test_homonym_streets_resolve_in_the_home_city_not_another_province(hz, jn):
    east = hz.find("东湖街道一小区停水两天了")
    assert [m.code[:6] for m in east] == ["330113"]  # 临平区东湖街道, not 北京朝阳区
    assert 0.5 <= east[0].confidence < HIGH_CONFIDENCE
    assert any("本级属地" in r for r in east[0].reasons)
    river = hz.find("临江街道的化工厂气味很大")
    assert [m.code[:6] for m in river] == ["330114"]  # 钱塘区
    # for a 江宁 instance 东湖街道 is the one in 江苏 (邳州), still a guess, not 北京 or 武汉
    home_east = jn.find("东湖街道一小区停水两天了")
    assert [m.code[:2] for m in home_east] == ["32"]
    assert home_east[0].confidence < HIGH_CONFIDENCE
    # for a 江宁 instance no 临江街道 is near: none of the six is guessed
    assert jn.find("临江街道的化工厂气味很大") == []
    # ... and the source's default place is used instead
    assert [m.code for m in jn.find("临江街道的化工厂气味很大", "320115")] == ["320115"]


def test_a_company_name_is_weak_evidence_and_a_location_is_not(jn):
    weak = jn.find("南京某公司拖欠员工工资三个月")
    assert [m.code for m in weak] == ["320100"]
    assert 0.5 <= weak[0].confidence < HIGH_CONFIDENCE
    assert any("单位名称" in r and "弱证据" in r for r in weak[0].reasons)
    strong = jn.find("杭州一公司拖欠工资")
    assert strong[0].code == "330100" and strong[0].confidence >= HIGH_CONFIDENCE


def test_county_level_cities_alone_are_weak_unless_the_text_or_home_supports_them(jn):
    alone = GazetteerPlaceFinder().find("乐清一工厂火灾")
    assert alone[0].code == "330382" and alone[0].confidence < 0.5
    with_city = GazetteerPlaceFinder().find("温州乐清一工厂火灾")
    assert {m.code for m in with_city if m.confidence >= HIGH_CONFIDENCE} >= {"330382"}
    in_home_province = jn.find("江阴一工厂发生火灾")
    assert in_home_province[0].code == "320281"
    assert 0.5 <= in_home_province[0].confidence < HIGH_CONFIDENCE


def test_a_full_foreign_district_is_high_confidence(jn):
    found = jn.find("杭州市临平区一小区停水")
    assert all(m.confidence >= HIGH_CONFIDENCE for m in found)
    assert {m.code for m in found} == {"330113", "330100"}
